/**
 * The static verifier: `verifyProgram` for programs linked from an object file (program type, maps and
 * line info come with them), `verifyRaw` for decoded or assembled programs with an explicit type.
 */
import type { ProgramType } from '../elf/object.js';
import type { RunnableProgram } from '../elf/open.js';
import type { Program } from '../isa/instruction.js';
import type { ProgramTypeSpec } from './context.js';
import { type VerifyOptions, type VerifyResult, verify } from './verifier.js';

export type { ProgramTypeSpec } from './context.js';
export { VerifierError, type VerifierErrorCode } from './errors.js';
export { formatDiagnostic, resultJson } from './explain.js';
export { DEFAULT_MAX_INSNS, type VerifyOptions, type VerifyResult, type VerifyStats } from './verifier.js';

/** Verifies a linked program; `options.mapDefinitions` are the object's (`OpenObject.mapDefinitions`). */
export function verifyProgram(linked: RunnableProgram, options: VerifyOptions = {}): VerifyResult {
  const spec: ProgramTypeSpec = { type: linked.definition.type, attachKind: linked.definition.attachKind };
  return verify(linked.program, spec, {
    lines: linked.lines,
    btf: linked.btf,
    funcInfo: linked.funcInfo,
    ...options,
  });
}

/** Verifies a decoded program (assembled text, raw bytes) as a program of the given type. */
export function verifyRaw(
  program: Program,
  options: VerifyOptions & { readonly programType: ProgramType | ProgramTypeSpec },
): VerifyResult {
  const spec = typeof options.programType === 'string' ? { type: options.programType } : options.programType;
  return verify(program, spec, options);
}
