/**
 * libbpf's verifier-log fixup for CO-RE: an instruction whose relocation the target BTF cannot satisfy
 * is poisoned with `call 0xbad2310`, which the verifier can only call an unknown helper. Say which
 * relocation failed and why instead, keeping the location, source line and path.
 */
import { CORE_FAILURE_HINT, coreFailureText, type FailedCoreRelo } from '../elf/core.js';
import { VerifierError, type VerifyResult } from '../verifier/index.js';

export function explainCoreFailures(
  result: VerifyResult,
  failures: ReadonlyMap<number, FailedCoreRelo>,
): VerifyResult {
  if (failures.size === 0 || result.ok) return result;
  return { ...result, errors: result.errors.map((e) => explain(e, failures)) };
}

function explain(e: VerifierError, failures: ReadonlyMap<number, FailedCoreRelo>): VerifierError {
  const failed = e.pc === undefined ? undefined : failures.get(e.pc);
  if (failed === undefined || !failed.poisoned || e.code !== 'HELPER_UNAVAILABLE') return e;
  return new VerifierError(
    e.code,
    `${coreFailureText(failed)}; libbpf poisoned the instruction (call 0xbad2310)`,
    { pc: e.pc, section: e.section, offset: e.offset, file: e.file, line: e.line, column: e.column },
    {
      source: e.source,
      values: e.values,
      path: e.path,
      hint: CORE_FAILURE_HINT,
    },
  );
}
