/**
 * More differential testing than CI runs, with a minimal failing program when the engines disagree:
 *   node --import tsx test/jit/fuzz.ts [--count N] [--seed S]
 * Minimization replaces instructions by `ja +0` (same slot count, so no jump moves) while the
 * divergence persists, then prints the disassembly and both observations.
 */
import { disassemble } from '../../src/asm/index.js';
import { BpfError } from '../../src/errors.js';
import { decodeProgram } from '../../src/isa/decoder.js';
import { encodeProgram, type RawInsn } from '../../src/isa/encoder.js';
import { engines, fingerprint, observe } from './differential-harness.js';
import { generateProgram } from './program-generator.js';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

/** The two observations when they differ, undefined when they agree or the program does not load. */
function divergence(insns: RawInsn[], seed: number): [string, string] | undefined {
  let program: ReturnType<typeof decodeProgram>;
  try {
    program = decodeProgram(encodeProgram(insns));
  } catch (e) {
    if (e instanceof BpfError) return undefined;
    throw e;
  }
  const [a, b] = engines.map((e) => fingerprint(observe(e, program, seed)));
  return a === b ? undefined : [a, b];
}

const NOP: RawInsn = { opcode: 0x05, dst: 0, src: 0, off: 0, imm: 0 };

function minimize(insns: RawInsn[], seed: number): RawInsn[] {
  let current = insns;
  for (let changed = true; changed; ) {
    changed = false;
    for (let i = 0; i < current.length; i++) {
      const insn = current[i];
      if (insn.imm2 !== undefined || (insn.opcode === NOP.opcode && insn.off === 0)) continue;
      const candidate = current.slice();
      candidate[i] = NOP;
      if (divergence(candidate, seed)) {
        current = candidate;
        changed = true;
      }
    }
  }
  return current;
}

/** Disassembly without the `ja +0` fillers and the labels only they used. */
function show(insns: RawInsn[]): string {
  const lines = disassemble(decodeProgram(encodeProgram(insns)), { syntax: 'ubpf' }).split('\n');
  const kept = lines.filter(
    (line, i) => !(/^ja (L\d+)$/.test(line.trim()) && lines[i + 1]?.trim() === `${line.trim().slice(3)}:`),
  );
  const text = kept.join('\n');
  return kept
    .filter((line) => !/^L\d+:$/.test(line.trim()) || text.includes(` ${line.trim().slice(0, -1)}`))
    .join('\n');
}

const count = option('count', 100_000);
const first = option('seed', 1);
const started = Date.now();
for (let seed = first; seed < first + count; seed++) {
  const { insns } = generateProgram(seed);
  if (!divergence(insns, seed)) {
    if ((seed - first + 1) % 10_000 === 0) {
      process.stderr.write(
        `${seed - first + 1} programs agree (${((Date.now() - started) / 1000).toFixed(1)} s)\n`,
      );
    }
    continue;
  }
  const small = minimize(insns, seed);
  const [a, b] = divergence(small, seed) ?? ['', ''];
  console.log(`seed ${seed} diverges; minimized program:\n${show(small)}`);
  console.log(`interpreter: ${a}\njit:         ${b}`);
  process.exitCode = 1;
  break;
}
if (process.exitCode !== 1) console.log(`${count} programs from seed ${first}: 0 divergences`);
