/**
 * Which memory accesses go through the result of an inline map lookup, like the kernel verifier's
 * PTR_TO_MAP_VALUE, and so need no window check.
 *
 * Why it is safe: a lookup that runs wholly inline (codegen's `pureLookups`: the map named by an lddw
 * in the block, the key in the own frame) sets r0 to NULL or to base + i · stride with i below the
 * map's slot count — the hash index holds i + 1 or, for maps that are not per CPU, that address
 * itself (hash-index.ts `tagBase`), an array's i is the key checked against max_entries, and the
 * index and the lookup table lie in reserved blocks outside every region, which no guest access
 * reaches (only the host writes them). That address starts one value copy of `span` bytes (the value size rounded up
 * to 8) inside the map's block of the values arena, and the arena is one region, mapped for the
 * memory's lifetime. So an access at off ∈ [0, span − size] from that address lies inside a mapped
 * region: the interpreter cannot fault there (it checks regions, not values), and the JIT may take
 * the host address as low(address) + the slot's host delta. Reads only, or writes when the slot is
 * MAP_VALUES (read-write; BPF_F_RDONLY_PROG values are in the read-only slot, where writes must fault).
 *
 * The walk follows straight-line code from the lookup: registers holding its result (r0, then `mov`
 * copies) until something rewrites them; past a `jeq r, 0` (64-bit, immediate 0) on such a register
 * the fall-through knows the pointer is not NULL. It stops at any call, exit or unconditional jump
 * and at any block that another edge enters (a jump target or a function start), so every path to a
 * proven access passes the lookup and the NULL test with the register unchanged.
 */
import type { Insn } from '../isa/instruction.js';
import { Slot } from '../vm/memory/layout.js';
import { ALL_REGS, WRITES_SHIFT } from './insn-facts.js';

/** The most instructions followed from one lookup. */
const WALK_LIMIT = 64;

export interface LookupResults {
  /** Per instruction index of a wholly inline lookup: the slot of the map's values, else 0. */
  readonly slots: Int8Array;
  /** Per instruction index of such a lookup: the span of one value copy (bytes). */
  readonly spans: Int32Array;
}

/**
 * Per instruction index: the slot of the map values a load or store provably reaches through an
 * inline lookup's non-NULL result (see above), else 0; undefined when there is none.
 */
export function provenValueAccesses(
  insns: readonly Insn[],
  facts: Int32Array,
  leader: Uint8Array,
  jumpTarget: Int32Array,
  functionAt: Int32Array,
  lookups: LookupResults,
): Int8Array | undefined {
  const count = insns.length;
  let entered: Uint8Array | undefined; // pc → 1 where a jump lands
  let out: Int8Array | undefined;
  for (let i = 0; i < count; i++) {
    const slot = lookups.slots[i];
    if (slot === 0) continue;
    if (entered === undefined) {
      entered = new Uint8Array(leader.length);
      for (let j = 0; j < count; j++) if (jumpTarget[j] >= 0) entered[jumpTarget[j]] = 1;
    }
    const span = lookups.spans[i];
    let regs = 1; // r0
    let nonNull = false;
    for (let j = i + 1; j < count && j <= i + WALK_LIMIT && regs !== 0; j++) {
      const x = insns[j];
      if (leader[x.pc] === 1 && (entered[x.pc] === 1 || functionAt[x.pc] >= 0)) break;
      if (nonNull && (x.kind === 'load' || (x.kind === 'store' && slot === Slot.MAP_VALUES))) {
        const base = x.kind === 'load' ? x.src : x.dst;
        if ((regs & (1 << base)) !== 0 && x.off >= 0 && x.off + x.size <= span) {
          out ??= new Int8Array(count);
          out[j] = slot;
        }
      }
      if (x.kind === 'call' || x.kind === 'exit') break;
      if (x.kind === 'jump') {
        if (x.op === 'ja') break;
        if (x.op === 'jeq' && x.is64 && !x.useReg && x.imm === 0 && (regs & (1 << x.dst)) !== 0) {
          nonNull = true; // the fall-through; the jump takes the NULL
        } else if (x.op === 'jne' && !x.useReg && x.imm === 0 && (regs & (1 << x.dst)) !== 0) break;
        continue;
      }
      const writes = (facts[j] >>> WRITES_SHIFT) & ALL_REGS;
      if (x.kind === 'alu' && x.op === 'mov' && x.is64 && x.useReg && (regs & (1 << x.src)) !== 0) {
        regs |= 1 << x.dst;
      } else regs &= ~writes;
    }
  }
  return out;
}
