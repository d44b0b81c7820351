/**
 * Differential testing: seeded random programs run on the interpreter and on the JIT must agree on
 * r0, instructions, gas used, trap code, pc and fault details, and every byte of the input region,
 * the read-only data and the stack. BPFBOX_DIFF_COUNT / BPFBOX_DIFF_SEED run more or other seeds.
 */
import { describe, expect, it } from 'vitest';
import { disassemble } from '../../src/asm/index.js';
import { conformanceHelpers } from '../../src/conformance/helpers.js';
import { BpfError, MemoryFault, Trap } from '../../src/errors.js';
import { decodeProgram } from '../../src/isa/decoder.js';
import { encodeProgram } from '../../src/isa/encoder.js';
import type { Program } from '../../src/isa/instruction.js';
import { JitProgram } from '../../src/jit/engine.js';
import type { GasCostTable } from '../../src/vm/gas.js';
import { Interpreter, type RunOptions, type RunResult } from '../../src/vm/interpreter/interpreter.js';
import { GuestMemory } from '../../src/vm/memory/guest-memory.js';
import { PERM_READ, PERM_WRITE, Slot } from '../../src/vm/memory/layout.js';
import { generateProgram, prng } from './program-generator.js';

const COUNT = Number(process.env.BPFBOX_DIFF_COUNT ?? 10_000);
const FIRST_SEED = Number(process.env.BPFBOX_DIFF_SEED ?? 1);
const INPUT_SIZE = 64;

function helpers() {
  const registry = conformanceHelpers();
  registry.define(100, 'mix', (c) =>
    BigInt.asUintN(64, c.arg(1) * 0x9e3779b97f4a7c15n + (c.arg(2) ^ c.arg(3))),
  );
  registry.define(101, 'burn', (c) => {
    c.consumeGas(c.argLo(1) & 15);
    return c.argNumber(2) % 65536;
  });
  return registry;
}

function machine(): GuestMemory {
  const m = new GuestMemory();
  m.mapStack();
  m.map(Slot.RODATA, 'rodata', 32, PERM_READ, new Uint8Array(32).fill(0x5a));
  m.map(Slot.INPUT, 'input', INPUT_SIZE, PERM_READ | PERM_WRITE);
  return m;
}

interface Engine {
  memory: GuestMemory;
  load(program: Program, gasCosts: GasCostTable | undefined): { run(o: RunOptions): RunResult };
}

const REGISTRY = helpers();
const engines: Engine[] = [
  {
    memory: machine(),
    load(program, gasCosts) {
      return new Interpreter(program, { memory: this.memory, helpers: REGISTRY, gasCosts });
    },
  },
  {
    memory: machine(),
    load(program, gasCosts) {
      return new JitProgram(program, { memory: this.memory, helpers: REGISTRY, gasCosts });
    },
  },
];

const COSTS: GasCostTable = {
  alu: 2,
  mul: 3,
  div: 5,
  load: 2,
  store: 2,
  atomic: 4,
  call: 7,
  lddw: 0,
  exit: 1,
};

function hex(m: GuestMemory, slot: number): string {
  const r = m.region(slot);
  return r ? Buffer.from(m.u8.subarray(r.hostBase, r.hostBase + r.size)).toString('hex') : '';
}

/** Everything observable about one run. */
function observe(engine: Engine, program: Program, seed: number): Record<string, unknown> {
  const rnd = prng(seed ^ 0x5bd1e995);
  const input = new Uint8Array(INPUT_SIZE);
  for (let i = 0; i < input.length; i++) input[i] = Math.floor(rnd() * 256);
  const gasCosts = rnd() < 0.3 ? COSTS : undefined;
  const maxInstructions = rnd() < 0.7 ? 5000 : 1 + Math.floor(rnd() * 300);
  const gasLimit = rnd() < 0.6 ? undefined : Math.floor(rnd() * 400);
  const m = engine.memory;
  const region = m.region(Slot.INPUT);
  if (!region) throw new Error('no input region');
  m.u8.set(input, region.hostBase);
  let result: Record<string, unknown>;
  try {
    const loaded = engine.load(program, gasCosts);
    const r = loaded.run({ args: [BigInt(region.guestBase), BigInt(INPUT_SIZE)], maxInstructions, gasLimit });
    result = { r0: r.r0, instructions: r.instructions, gasUsed: r.gasUsed };
  } catch (e) {
    if (!(e instanceof BpfError)) throw e;
    result = { code: e.code, pc: e.pc, message: e.message };
    if (e instanceof Trap) Object.assign(result, { instructions: e.instructions, gasUsed: e.gasUsed });
    if (e instanceof MemoryFault)
      Object.assign(result, { address: e.address, size: e.size, access: e.access });
  }
  return { ...result, input: hex(m, Slot.INPUT), rodata: hex(m, Slot.RODATA), stack: hex(m, Slot.STACK) };
}

/** Programs per test: CI runs CHUNKS × this many (10,000), each test well inside the timeout. */
const CHUNKS = 4;

describe('JIT vs interpreter on generated programs', () => {
  const tally: Record<string, number> = {};
  const size = Math.ceil(COUNT / CHUNKS);
  for (let c = 0; c < CHUNKS; c++) {
    const from = FIRST_SEED + c * size;
    const to = Math.min(FIRST_SEED + COUNT, from + size);
    it(`seeds ${from}..${to - 1} agree on every observable`, () => {
      for (let seed = from; seed < to; seed++) {
        const { insns } = generateProgram(seed, INPUT_SIZE);
        const program = decodeProgram(encodeProgram(insns));
        const [a, b] = engines.map((e) => observe(e, program, seed));
        if (JSON.stringify(a, bigints) !== JSON.stringify(b, bigints)) {
          expect(b, `seed ${seed} diverges:\n${disassemble(program, { syntax: 'ubpf' })}`).toEqual(a);
        }
        const key = String(a.code ?? 'ok');
        tally[key] = (tally[key] ?? 0) + 1;
      }
    });
  }

  it('the generator reaches every outcome class', () => {
    if (process.env.BPFBOX_DIFF_VERBOSE) console.log(tally);
    for (const key of ['ok', 'MEMORY_FAULT', 'INSTRUCTION_LIMIT', 'OUT_OF_GAS', 'CALL_DEPTH_EXCEEDED']) {
      expect(tally[key] ?? 0, JSON.stringify(tally)).toBeGreaterThan(COUNT / 100);
    }
  });
});

function bigints(_key: string, v: unknown): unknown {
  return typeof v === 'bigint' ? `${v}n` : v;
}
