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
  type Scalar,
  type ScalarAluOp,
  scalarAlu,
  scalarByteSwap,
  scalarConst,
  scalarOfSize,
  scalarSignExtend,
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

function moved(env: Env, ptr: OffsetPtr, delta: Scalar, negate: boolean, regno: number): RegState {
  if (isConst(delta)) {
    const c = Number(BigInt.asIntN(64, delta.umin));
    const off = ptr.off + (negate ? -c : c);
    if (Math.abs(off) >= MAX_OFF || !Number.isSafeInteger(off)) {
      reject(
        'POINTER_ARITH',
        `r${regno} would point ${off} bytes from its base, beyond the ${MAX_OFF}-byte limit`,
        {
          hint: 'keep pointer offsets small and bounded',
        },
      );
    }
    return { ...ptr, off };
  }
  if (ptr.kind === 'ctx') {
    reject('CTX_ACCESS', `adding a variable to the context pointer r${regno}`, {
      hint: 'context fields are accessed at constant offsets only',
    });
  }
  const v = scalarAlu(negate ? 'sub' : 'add', ptr.var, delta, 64);
  if (ptr.kind === 'pkt' || ptr.kind === 'pkt_meta') return { ...ptr, var: v, id: env.newId(), range: 0 };
  return { ...ptr, var: v };
}

function pointerArith(env: Env, insn: AluInsn, dst: RegState, src: RegState): RegState {
  const regno = insn.dst;
  const ptr =
    isOffsetPtr(dst) ||
    dst.kind === 'pkt_end' ||
    dst.kind === 'map_ptr' ||
    dst.kind === 'func' ||
    isNullable(dst)
      ? dst
      : src;
  const other = ptr === dst ? src : dst;
  const ptrName = typeName(ptr);
  if (isNullable(ptr)) {
    reject(
      'NULL_DEREF',
      `pointer arithmetic on r${ptr === dst ? insn.dst : insn.src}, a ${ptrName} that may be NULL`,
      {
        values: [`r${ptr === dst ? insn.dst : insn.src} is ${describe(ptr, (i) => mapName(env, i))}`],
        hint: 'check the pointer for NULL before offsetting it',
      },
    );
  }
  if (!insn.is64) {
    reject('POINTER_ARITH', `32-bit arithmetic on pointer r${regno} (${ptrName})`, {
      hint: 'pointers are 64-bit; use 64-bit arithmetic (long, not int)',
    });
  }
  if (insn.op === 'sub' && dst.kind !== 'scalar' && src.kind !== 'scalar') return UNKNOWN;
  if (
    !isOffsetPtr(ptr) ||
    other.kind !== 'scalar' ||
    (insn.op !== 'add' && insn.op !== 'sub') ||
    (insn.op === 'sub' && ptr !== dst)
  ) {
    reject('POINTER_ARITH', `${insn.op} on ${ptrName} r${regno} is not allowed`, {
      values: [
        `r${insn.dst} is ${describe(dst, (i) => mapName(env, i))}`,
        ...(insn.useReg ? [`r${insn.src} is ${describe(src, (i) => mapName(env, i))}`] : []),
      ],
      hint:
        ptr.kind === 'pkt_end'
          ? 'data_end can only be compared against; compute offsets from data'
          : 'only pointer + number, pointer - number and pointer - pointer are allowed',
    });
  }
  return moved(env, ptr, other.value, insn.op === 'sub', regno);
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
