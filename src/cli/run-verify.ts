/**
 * The check `bpfbox run OBJ.o` and `bpfbox trace OBJ.o` make before running: the program to run goes
 * through the static verifier, and when it calls bpf_tail_call so does every program it can reach,
 * i.e. every program a `.maps` initializer puts in a PROG_ARRAY (the only way slots are filled; the
 * targets reach no others). Other programs of the object never run and are not checked. Uninitialized
 * stack reads are allowed, as the root loader bpfbox simulates allows them. A rejection is a
 * `ProgramRejected` carrying the verifier's code and the location of its first error; the commands
 * report it with `reportRejection` (the rustc-style diagnostics on stderr, or the verifier's JSON).
 * `--no-verify` skips the check.
 */
import type { OpenObject, RunnableProgram } from '../elf/open.js';
import { BpfError } from '../errors.js';
import { MapHelperId } from '../runtime/helpers/maps.js';
import { type CliIo, EXIT_FAILURE } from './io.js';
import { type VerifiedFile, verifyLinkedPrograms } from './verify-input.js';
import { verifyJson, verifyText } from './verify-report.js';

/** A program of the object to run is rejected by the verifier; the code is the verifier's. */
export class ProgramRejected extends BpfError {
  readonly code: string;
  /** The rejected program reported: the one to run when it is rejected, else the first rejected. */
  readonly program: string;

  constructor(
    wanted: string,
    readonly verified: VerifiedFile,
  ) {
    const rejected =
      verified.programs.find((p) => p.name === wanted && !p.result.ok) ??
      verified.programs.find((p) => !p.result.ok);
    const error = rejected?.result.errors[0];
    const name = rejected?.name ?? wanted;
    super(
      `the verifier rejects program ${name}: ${error?.message ?? 'rejected'}`,
      { pc: error?.pc, section: error?.section, file: error?.file, line: error?.line, column: error?.column },
      { hint: error?.hint ?? 'fix the program, or pass --no-verify to run it anyway' },
    );
    this.code = error?.code ?? 'VERIFIER_REJECTED';
    this.program = name;
  }

  protected override details(): Record<string, unknown> {
    return { program: this.program };
  }
}

/** Verifies `program` and what it can tail-call; throws ProgramRejected when one is rejected. */
export function verifyBeforeRun(open: OpenObject, program: string): void {
  const linked = open.link();
  const entry = linked.find((p) => p.name === program);
  const targets = new Set(
    open.object.mapInitializers.flatMap((i) => (i.target.kind === 'program' ? [i.target.name] : [])),
  );
  const reached = linked.filter(
    (p) => p === entry || (entry !== undefined && callsTailCall(entry) && targets.has(p.name)),
  );
  const verified: VerifiedFile = {
    object: true,
    programs: verifyLinkedPrograms(open, reached, { allowUninitStack: true }),
  };
  if (verified.programs.some((p) => !p.result.ok)) throw new ProgramRejected(program, verified);
}

/** Whether the program (its subprograms included) calls bpf_tail_call. */
function callsTailCall(p: RunnableProgram): boolean {
  return p.program.insns.some(
    (i) => i.kind === 'call' && i.op === 'helper' && i.imm === MapHelperId.tail_call,
  );
}

/**
 * Reports a rejection: with --json `{"ok":false,"error":{…},"verifier":{…}}` on stdout and exit 1
 * (returns true: handled); otherwise the diagnostics of the rejected programs on stderr and false,
 * so the caller rethrows and the `error[CODE]: …` summary follows (exit 1).
 */
export function reportRejection(e: ProgramRejected, json: boolean | undefined, io: CliIo): boolean {
  if (json) {
    io.out(JSON.stringify({ ok: false, error: e.toJSON(), verifier: verifyJson(e.verified) }));
    io.exitCode = EXIT_FAILURE;
    return true;
  }
  const rejected = e.verified.programs.filter((p) => !p.result.ok);
  io.err(verifyText({ object: true, programs: rejected }));
  return false;
}
