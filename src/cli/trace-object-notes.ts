/**
 * What `bpfbox trace OBJ.o` adds to each step of a loaded object's program: a source header
 * (`  prog.c:14  if (…)`) whenever the `.BTF.ext` line changes, helper and subprogram names on
 * calls, and `line`/`file`/`source` JSON fields. Tail calls are followed (the tracer only sees pcs), so
 * the lines after one come from the program it entered.
 */
import { basename } from 'node:path';
import type { Insn } from '../isa/instruction.js';
import { registerKernelHelpers } from '../runtime/helpers/index.js';
import { MapHelperId, registerMapHelpers } from '../runtime/helpers/maps.js';
import type { LoadedObject, LoadedProgram } from '../runtime/loader.js';
import { ProgArray } from '../runtime/maps/prog-array.js';
import { HelperRegistry } from '../vm/helpers.js';
import type { TraceStep } from '../vm/interpreter/interpreter.js';
import type { StepNotes } from './trace-steps.js';

const LOW32 = 0xffffffffn;

export class ObjectStepNotes {
  /** Only names are read from it: the programs run on the loader's own registries. */
  private readonly helpers: HelperRegistry;
  private readonly entry: LoadedProgram;
  private current: LoadedProgram;
  /** The program a tail call at the previous step jumps to, if it succeeds. */
  private tailTarget: LoadedProgram | undefined;
  /** `file:line` of the last header printed. */
  private lastLine: string | undefined;

  constructor(
    private readonly loaded: LoadedObject,
    program: string,
  ) {
    this.helpers = registerMapHelpers(
      loaded.maps,
      registerKernelHelpers(new HelperRegistry(), loaded.runtime),
    );
    this.entry = loaded.program(program);
    this.current = this.entry;
  }

  /** The program running now (the entry program, or the last one tail-called). */
  get program(): LoadedProgram {
    return this.current;
  }

  readonly notes = (step: TraceStep): StepNotes => {
    const headers: string[] = [];
    const fields: Record<string, unknown> = {};
    // A successful tail call starts the target at pc 0; a failed one continues after the call (pc ≥ 1).
    if (this.tailTarget !== undefined && step.pc === 0 && step.depth === 0) {
      this.current = this.tailTarget;
      this.lastLine = undefined;
      headers.push(`  => tail call into ${this.current.name}`);
    }
    this.tailTarget = this.tailCallTarget(step);
    if (this.current !== this.entry) fields.program = this.current.name;
    const line = this.current.linked.lines[step.pc];
    // Line 0 marks compiler-generated code: no header, the previous line stays current.
    if (line !== undefined && line.line > 0) {
      const source = line.text.trim();
      fields.line = line.line;
      fields.file = line.file;
      if (source !== '') fields.source = source;
      const key = `${line.file}:${line.line}`;
      if (key !== this.lastLine) {
        headers.push(`  ${basename(line.file)}:${line.line}${source === '' ? '' : `  ${source}`}`);
        this.lastLine = key;
      }
    }
    return { headers, fields, insn: this.callName(step.insn) };
  };

  /** `call bpf_map_lookup_elem` / `call bump` for helper and local calls with a known name. */
  private callName(insn: Insn): string | undefined {
    if (insn.kind !== 'call') return undefined;
    if (insn.op === 'helper') {
      const name = this.helpers.get(insn.imm)?.name;
      return name === undefined ? undefined : `call ${name}`;
    }
    if (insn.op === 'local') {
      const fn = this.current.linked.functions.find((f) => f.start === insn.target);
      return fn === undefined ? undefined : `call ${fn.function.name}`;
    }
    return undefined;
  }

  /** For a bpf_tail_call step, the program in slot r3 of the PROG_ARRAY in r2 (prog arrays are read-only to programs). */
  private tailCallTarget(step: TraceStep): LoadedProgram | undefined {
    const { insn, registers } = step;
    if (insn.kind !== 'call' || insn.op !== 'helper' || insn.imm !== MapHelperId.tail_call) return undefined;
    const handle = registers[2];
    const map = this.loaded.maps.fromHandle(Number(handle & LOW32), Number(handle >> 32n));
    if (!(map instanceof ProgArray)) return undefined;
    const vm = map.get(Number(registers[3] & LOW32));
    for (const p of this.loaded.programs.values()) if (p.vm === vm) return p;
    return undefined;
  }
}
