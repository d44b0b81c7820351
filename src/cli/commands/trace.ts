/**
 * `bpfbox trace FILE`: runs a program like `run` and prints every executed instruction with the
 * registers it changed and the memory it accessed. With --json, one JSON object per step.
 */
import { type Command, Option } from 'commander';
import { formatInsn } from '../../asm/index.js';
import { conformanceHelpers } from '../../conformance/helpers.js';
import { BpfError } from '../../errors.js';
import { hex64 } from '../../util/hex.js';
import type { TraceStep } from '../../vm/interpreter/interpreter.js';
import { createMachine } from '../../vm/machine.js';
import { type CliIo, EXIT_FAILURE, loadProgramInput, memFromFlags, parsePositiveInt } from '../io.js';

interface TraceFlags {
  mem?: string;
  memFile?: string;
  maxInsns?: number;
  gasLimit?: number;
  json?: boolean;
}

/** Registers whose value differs between two snapshots, as `rN=0x…`. */
function changed(before: readonly bigint[], after: readonly bigint[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let r = 0; r < after.length; r++) if (before[r] !== after[r]) out[`r${r}`] = hex64(after[r]);
  return out;
}

export function registerTrace(program: Command, io: CliIo): void {
  program
    .command('trace')
    .description('run a program (.s, .bin or .data) and print each executed instruction and its effects')
    .argument('<file>', 'assembly (.s/.asm), raw instructions (.bin) or a test (.data)')
    .addOption(new Option('--mem <hex>', 'input bytes as hex (overrides a .data -- mem)'))
    .addOption(new Option('--mem-file <file>', 'input bytes from a binary file').conflicts('mem'))
    .option('--max-insns <n>', 'instruction budget', (v) => parsePositiveInt(v, '--max-insns'))
    .option('--gas-limit <n>', 'gas limit', (v) => parsePositiveInt(v, '--gas-limit'))
    .option('--json', 'one JSON object per executed instruction, then the result')
    .action((file: string, flags: TraceFlags) => {
      const input = loadProgramInput(file);
      const mem = memFromFlags(flags) ?? input.mem;
      const machine = createMachine(input.program, { mem, helpers: conformanceHelpers() });
      let previous: TraceStep | undefined;
      // A step is printed when the next one starts, so the registers it changed are known.
      const print = (step: TraceStep, after: readonly bigint[]) => {
        const effects = changed(step.registers, after);
        const access = step.access;
        if (flags.json) {
          io.out(
            JSON.stringify({
              step: step.instructions,
              pc: step.pc,
              depth: step.depth,
              insn: formatInsn(step.insn),
              changed: effects,
              ...(access ? { access: { ...access, address: hex64(access.address) } } : {}),
            }),
          );
          return;
        }
        const where = access ? `  [${access.kind} ${access.size} @ ${hex64(access.address)}]` : '';
        const regs = Object.entries(effects)
          .map(([r, v]) => `${r}=${v}`)
          .join(' ');
        const text = `${'  '.repeat(step.depth)}${formatInsn(step.insn)}`;
        io.out(
          `${String(step.instructions).padStart(6)}  ${String(step.pc).padStart(5)}  ${text.padEnd(40)} ${regs}${where}`,
        );
      };
      try {
        const result = machine.interpreter.run({
          args: machine.args,
          maxInstructions: flags.maxInsns,
          gasLimit: flags.gasLimit,
          trace: (step) => {
            if (previous) print(previous, step.registers);
            previous = step;
          },
        });
        if (previous) print(previous, machine.interpreter.registers());
        const summary = {
          ok: true,
          r0: hex64(result.r0),
          instructions: result.instructions,
          gas_used: result.gasUsed,
        };
        io.out(
          flags.json
            ? JSON.stringify(summary)
            : `r0 = ${summary.r0} after ${result.instructions} instructions`,
        );
      } catch (e) {
        if (previous) print(previous, machine.interpreter.registers());
        if (!(e instanceof BpfError) || !flags.json) throw e;
        io.out(JSON.stringify({ ok: false, error: e.toJSON() }));
        io.exitCode = EXIT_FAILURE;
      }
    });
}
