/**
 * The step lines of `bpfbox trace`: one text line (or JSON object) per executed instruction with the
 * registers it changed and the memory it accessed. A step is printed when the next one starts (or the
 * run ends), since only then are the registers it changed known. Object files add notes per step:
 * source-line headers, helper names and JSON fields (see trace-object-notes.ts).
 */
import { formatInsn } from '../asm/index.js';
import { hex64 } from '../util/hex.js';
import type { TraceStep } from '../vm/interpreter/interpreter.js';
import type { CliIo } from './io.js';

/** What an object file adds to a step. */
export interface StepNotes {
  /** Lines printed before the step in text output (source headers). */
  readonly headers?: readonly string[];
  /** Replaces the disassembled instruction (e.g. `call bpf_map_lookup_elem`). */
  readonly insn?: string;
  /** Extra fields of the step's JSON object. */
  readonly fields?: Readonly<Record<string, unknown>>;
}

/** Registers whose value differs between two snapshots, as `rN=0x…`. */
function changed(before: readonly bigint[], after: readonly bigint[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let r = 0; r < after.length; r++) if (before[r] !== after[r]) out[`r${r}`] = hex64(after[r]);
  return out;
}

export class StepPrinter {
  private previous: { step: TraceStep; notes: StepNotes } | undefined;

  constructor(
    private readonly io: CliIo,
    private readonly json: boolean,
    private readonly notesFor: (step: TraceStep) => StepNotes = () => ({}),
  ) {}

  /** The tracer hook: prints the step before `step`, now that its effects are known. */
  readonly step = (step: TraceStep): void => {
    // Notes are taken when the step happens: they may depend on state the next steps change.
    const notes = this.notesFor(step);
    if (this.previous) this.print(this.previous.step, this.previous.notes, step.registers);
    this.previous = { step, notes };
  };

  /** Prints the last step with the registers after the run (or the trap). */
  finish(registers: readonly bigint[]): void {
    if (this.previous) this.print(this.previous.step, this.previous.notes, registers);
    this.previous = undefined;
  }

  private print(step: TraceStep, notes: StepNotes, after: readonly bigint[]): void {
    const effects = changed(step.registers, after);
    const access = step.access;
    const insn = notes.insn ?? formatInsn(step.insn);
    if (this.json) {
      this.io.out(
        JSON.stringify({
          step: step.instructions,
          pc: step.pc,
          depth: step.depth,
          insn,
          changed: effects,
          ...(access ? { access: { ...access, address: hex64(access.address) } } : {}),
          ...notes.fields,
        }),
      );
      return;
    }
    for (const header of notes.headers ?? []) this.io.out(header);
    const where = access ? `  [${access.kind} ${access.size} @ ${hex64(access.address)}]` : '';
    const regs = Object.entries(effects)
      .map(([r, v]) => `${r}=${v}`)
      .join(' ');
    const text = `${'  '.repeat(step.depth)}${insn}`;
    this.io.out(
      `${String(step.instructions).padStart(6)}  ${String(step.pc).padStart(5)}  ${text.padEnd(40)} ${regs}${where}`,
    );
  }
}
