/**
 * Why a program was rejected: a `VerifierError` with a stable code, the instruction (pc and source line
 * from BTF line info), the values involved, the branch decisions on the path that leads there, a
 * concrete witness where one is known and a hint that names the fix.
 */
import { BpfError, type ErrorLocation } from '../errors.js';

export type VerifierErrorCode =
  | 'NULL_DEREF'
  | 'PACKET_OOB'
  | 'UNINIT_READ'
  | 'UNBOUNDED_LOOP'
  | 'REF_LEAK'
  | 'CTX_WRITE'
  | 'CTX_ACCESS'
  | 'HELPER_ARG'
  | 'HELPER_UNAVAILABLE'
  | 'STACK_OOB'
  | 'MISALIGNED_ACCESS'
  | 'MAP_VALUE_OOB'
  | 'MEM_OOB'
  | 'READONLY_WRITE'
  | 'INVALID_MEM_ACCESS'
  | 'POINTER_ARITH'
  | 'DIV_BY_ZERO'
  | 'INVALID_SHIFT'
  | 'INVALID_RETURN'
  | 'CALL_DEPTH'
  | 'FUNC_ARG'
  | 'FUNC_PROTO'
  | 'UNSUPPORTED'
  | 'UNREACHABLE_INSN'
  | 'COMPLEXITY_LIMIT';

export interface VerifierErrorDetails {
  /** Source text of the line (trimmed). */
  readonly source?: string;
  /** The values involved, one sentence each. */
  readonly values?: readonly string[];
  /** Branch decisions that lead here, oldest first ("prog.c:12 `if (i >= n)` not taken"). */
  readonly path?: readonly string[];
  /** A concrete input that breaks the program, when one is known. */
  readonly witness?: string;
  readonly hint?: string;
}

export class VerifierError extends BpfError {
  readonly source?: string;
  readonly values: readonly string[];
  readonly path: readonly string[];
  readonly witness?: string;

  constructor(
    readonly code: VerifierErrorCode,
    message: string,
    location: ErrorLocation,
    details: VerifierErrorDetails = {},
  ) {
    super(message, location, { hint: details.hint });
    this.source = details.source;
    this.values = details.values ?? [];
    this.path = details.path ?? [];
    this.witness = details.witness;
  }

  protected override details(): Record<string, unknown> {
    return {
      ...(this.source === undefined ? {} : { source: this.source }),
      values: this.values,
      path: this.path,
      ...(this.witness === undefined ? {} : { witness: this.witness }),
    };
  }
}
