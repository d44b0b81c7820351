/**
 * The differential harness shared by differential.test.ts and fuzz.ts: one interpreter and one JIT,
 * each on its own guest memory with the same regions and helpers, and everything observable about a
 * run (result or trap with counters and fault details, bytes of every region) as a plain object.
 */
import { conformanceHelpers } from '../../src/conformance/helpers.js';
import { BpfError, MemoryFault, Trap } from '../../src/errors.js';
import type { Program } from '../../src/isa/instruction.js';
import { JitProgram } from '../../src/jit/engine.js';
import type { GasCostTable } from '../../src/vm/gas.js';
import { Interpreter, type RunOptions, type RunResult } from '../../src/vm/interpreter/interpreter.js';
import { GuestMemory } from '../../src/vm/memory/guest-memory.js';
import { PERM_READ, PERM_WRITE, Slot } from '../../src/vm/memory/layout.js';
import { prng } from '../support/prng.js';
import { CALLBACK_HELPER, RODATA_SIZE } from './program-generator.js';

export const INPUT_SIZE = 64;

function helpers() {
  const registry = conformanceHelpers();
  registry.define(100, 'mix', (c) =>
    BigInt.asUintN(64, c.arg(1) * 0x9e3779b97f4a7c15n + (c.arg(2) ^ c.arg(3))),
  );
  registry.define(CALLBACK_HELPER, 'each', (c) => {
    let sum = 0n;
    const times = c.argNumber(2) % 4;
    for (let i = 0; i < times; i++) sum += c.callFunction(c.arg(1), [BigInt(i), c.arg(3)]);
    return BigInt.asUintN(64, sum);
  });
  // With a direct entry (the JIT's direct<id> import): it finishes the calls that burn no gas and
  // returns NaN, for `call`, on the others.
  registry.define(
    101,
    'burn',
    (c) => {
      c.consumeGas(c.argLo(1) & 15);
      return c.argNumber(2) % 65536;
    },
    (r1lo, _r1hi, r2lo, r2hi) =>
      (r1lo & 15) === 0 ? ((r2hi >>> 0) * 4294967296 + (r2lo >>> 0)) % 65536 : Number.NaN,
  );
  return registry;
}

function machine(): GuestMemory {
  const m = new GuestMemory();
  m.mapStack();
  m.map(Slot.RODATA, 'rodata', RODATA_SIZE, PERM_READ, new Uint8Array(RODATA_SIZE).fill(0x5a));
  m.map(Slot.INPUT, 'input', INPUT_SIZE, PERM_READ | PERM_WRITE);
  return m;
}

export interface Engine {
  memory: GuestMemory;
  load(program: Program, gasCosts: GasCostTable | undefined): { run(o: RunOptions): RunResult };
}

const REGISTRY = helpers();
export const engines: Engine[] = [
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

/** The JIT with every function split into parts of a few instructions (the driver path). */
export const splitJit: Engine = {
  memory: machine(),
  load(program, gasCosts) {
    return new JitProgram(program, {
      memory: this.memory,
      helpers: REGISTRY,
      gasCosts,
      partSize: 1 + (program.slotCount % 7),
    });
  },
};

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
export function observe(engine: Engine, program: Program, seed: number): Record<string, unknown> {
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

function bigints(_key: string, v: unknown): unknown {
  return typeof v === 'bigint' ? `${v}n` : v;
}

/** The two observations as comparable text (bigints included). */
export function fingerprint(o: Record<string, unknown>): string {
  return JSON.stringify(o, bigints);
}
