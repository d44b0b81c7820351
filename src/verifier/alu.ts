/**
 * ALU instructions on abstract registers: scalar arithmetic through the scalar domain, pointer
 * arithmetic (constant offsets fold into `off`, variable ones into `var`; packet pointers get a new id
 * and lose their checked range, like the kernel's adjust_ptr_min_max_vals), and the operations the
 * kernel refuses on pointers.
 */
import type { AluInsn } from '../isa/instruction.js';
import { type Env, mapName, reject } from './env.js';
import {
  isConst,
  S64_MIN,
  type Scalar,
  type ScalarAluOp,
  scalarAlu,
  scalarByteSwap,
  scalarConst,
  scalarOfSize,
  scalarSignExtend,
  scalarToString,
} from './scalar.js';
import type { Frame } from './state.js';
import {
  describe,
  isNullable,
  isOffsetPtr,
  type OffsetPtr,
  type RegState,
  scalar,
  typeName,
  UNKNOWN,
} from './types.js';

/** Pointer offsets beyond this are refused (BPF_MAX_VAR_OFF). */
const MAX_OFF = 1 << 29;

function readReg(frame: Frame, r: number): RegState {
  const v = frame.regs[r];
  if (v.kind === 'not_init') {
    reject('UNINIT_READ', `r${r} is read before anything was stored in it`, {
      hint:
        r >= 1 && r <= 5
          ? `r1-r5 are clobbered by calls; keep values across calls in r6-r9 (or re-load r${r})`
          : `assign r${r} on every path before this use`,
    });
  }
  return v;
}

function outOfBounds(what: string, regno: number): never {
  return reject(
    'POINTER_ARITH',
    `${what} would move pointer r${regno} beyond the ${MAX_OFF}-byte offset limit`,
    {
      hint: 'bound the value first (e.g. `x &= 0xff` or `if (x > 64) return 0;`)',
    },
  );
}

function moved(env: Env, ptr: OffsetPtr, delta: Scalar, negate: boolean, regno: number): RegState {
  if (isConst(delta)) {
    const c = Number(BigInt.asIntN(64, delta.umin));
    const off = ptr.off + (negate ? -c : c);
    if (Math.abs(c) >= MAX_OFF || Math.abs(off) >= MAX_OFF) outOfBounds(`adding ${c}`, regno);
    return { ...ptr, off };
  }
  // The kernel's check_reg_sane_offset: the value needs a lower bound, and both stay within limits.
  if (delta.smin === S64_MIN) {
    reject(
      'POINTER_ARITH',
      `adding ${scalarToString(delta)}, which has no lower bound, to pointer r${regno}`,
      {
        hint:
          delta.umax !== 0xffffffffffffffffn && delta.smin < 0n
            ? 'the value may be negative: use an unsigned index or check `if (i < 0) return 0;` as well as the upper bound'
            : 'bound the value before the pointer arithmetic (e.g. `x &= 0xff`, or an unsigned type and `if (x >= N)`)',
      },
    );
  }
  if (delta.smin <= -BigInt(MAX_OFF) || delta.smin >= BigInt(MAX_OFF))
    outOfBounds(`adding ${scalarToString(delta)}`, regno);
  const v = scalarAlu(negate ? 'sub' : 'add', ptr.var, delta, 64);
  if (v.smin <= -BigInt(MAX_OFF) || v.smin >= BigInt(MAX_OFF))
    outOfBounds(`adding ${scalarToString(delta)}`, regno);
  if (ptr.kind === 'pkt' || ptr.kind === 'pkt_meta') return { ...ptr, var: v, id: env.newId(), range: 0 };
  return { ...ptr, var: v };
}

/** An ALU operation where at least one operand is a pointer, in the kernel's order of checks. */
function pointerArith(env: Env, insn: AluInsn, dst: RegState, src: RegState): RegState {
  const regno = insn.dst;
  const d = (r: RegState): string => describe(r, (i) => mapName(env, i));
  if (dst.kind !== 'scalar' && src.kind !== 'scalar') {
    // pointer - pointer is a distance (a number); nothing else combines two pointers.
    if (insn.op === 'sub') return UNKNOWN;
    reject('POINTER_ARITH', `${insn.op} of two pointers (r${insn.dst}, r${insn.src})`, {
      values: [`r${insn.dst} is ${d(dst)}`, `r${insn.src} is ${d(src)}`],
      hint: 'pointers can only be subtracted from each other',
    });
  }
  const ptr = dst.kind !== 'scalar' ? dst : src;
  const other = ptr === dst ? src : dst;
  const ptrReg = ptr === dst ? insn.dst : insn.src;
  const ptrName = typeName(ptr);
  if (!insn.is64) {
    // A 32-bit subtraction involving a pointer is an (unknown) number; other 32-bit math is refused.
    if (insn.op === 'sub') return UNKNOWN;
    reject('POINTER_ARITH', `32-bit arithmetic on pointer r${ptrReg} (${ptrName})`, {
      hint: 'pointers are 64-bit; use 64-bit arithmetic (long, not int)',
    });
  }
  if (isNullable(ptr)) {
    reject('NULL_DEREF', `pointer arithmetic on r${ptrReg}, a ${ptrName} that may be NULL`, {
      values: [`r${ptrReg} is ${d(ptr)}`],
      hint: 'check the pointer for NULL before offsetting it',
    });
  }
  const delta = other.kind === 'scalar' ? other.value : undefined;
  if (
    ptr.kind === 'map_ptr' &&
    insn.op === 'add' &&
    delta !== undefined &&
    isConst(delta) &&
    delta.umin === 0n
  )
    return ptr;
  if (
    !isOffsetPtr(ptr) ||
    delta === undefined ||
    (insn.op !== 'add' && insn.op !== 'sub') ||
    (insn.op === 'sub' && ptr !== dst)
  ) {
    reject('POINTER_ARITH', `${insn.op} on ${ptrName} r${ptrReg} is not allowed`, {
      values: [`r${insn.dst} is ${d(dst)}`, ...(insn.useReg ? [`r${insn.src} is ${d(src)}`] : [])],
      hint:
        ptr.kind === 'pkt_end'
          ? 'data_end can only be compared against; compute offsets from data'
          : 'only pointer + number, pointer - number and pointer - pointer are allowed',
    });
  }
  return moved(env, ptr, delta, insn.op === 'sub', regno);
}

/** The register after `insn` (an ALU instruction). */
export function execAlu(env: Env, frame: Frame, insn: AluInsn): RegState {
  const width = insn.is64 ? 64 : 32;
  const src: RegState = insn.useReg
    ? readReg(frame, insn.src)
    : scalar(scalarConst(insn.is64 ? BigInt(insn.imm) : BigInt(insn.imm >>> 0)));
  if (insn.op === 'mov') {
    if (insn.is64) return src;
    return src.kind === 'scalar'
      ? scalar(scalarAlu('mov', src.value, src.value, 32))
      : scalar(scalarOfSize(4));
  }
  if (insn.op === 'movsx') {
    const v = src.kind === 'scalar' ? src.value : scalarOfSize(8);
    return scalar(scalarSignExtend(v, insn.width as 8 | 16 | 32, width));
  }
  const dst = readReg(frame, insn.dst);
  if (insn.op === 'le' || insn.op === 'be' || insn.op === 'bswap') {
    if (dst.kind !== 'scalar')
      reject('POINTER_ARITH', `byte swap of pointer r${insn.dst}`, { hint: 'byte swaps apply to numbers' });
    return scalar(scalarByteSwap(dst.value, insn.width as 16 | 32 | 64, insn.op !== 'le'));
  }
  if (
    !insn.useReg &&
    (insn.op === 'div' || insn.op === 'mod' || insn.op === 'sdiv' || insn.op === 'smod') &&
    insn.imm === 0
  ) {
    reject('DIV_BY_ZERO', 'division by the constant 0', { hint: 'the divisor must not be the constant 0' });
  }
  if (
    !insn.useReg &&
    (insn.op === 'lsh' || insn.op === 'rsh' || insn.op === 'arsh') &&
    (insn.imm < 0 || insn.imm >= width)
  ) {
    reject('INVALID_SHIFT', `shift by ${insn.imm} of a ${width}-bit value`, {
      hint: `shift amounts are 0..${width - 1}`,
    });
  }
  if (dst.kind !== 'scalar' || src.kind !== 'scalar') {
    if (insn.op === 'neg')
      reject('POINTER_ARITH', `negating pointer r${insn.dst}`, { hint: 'only numbers can be negated' });
    return pointerArith(env, insn, dst, src);
  }
  return scalar(scalarAlu(insn.op as ScalarAluOp, dst.value, src.value, width));
}
