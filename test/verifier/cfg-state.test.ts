/** The CFG (loop headers, prune points, liveness, unreachable code) and state comparison (pruning). */
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/assembler.js';
import { decodeProgram } from '../../src/isa/decoder.js';
import { buildCfg } from '../../src/verifier/cfg.js';
import { scalarConst, scalarRange } from '../../src/verifier/scalar.js';
import { cloneState, newFrame, type State, statesEqual } from '../../src/verifier/state.js';
import { scalar } from '../../src/verifier/types.js';

const cfgOf = (asm: string) => buildCfg(decodeProgram(assemble(asm), { checkStructure: false }));

describe('cfg', () => {
  it('finds the loop header of a back edge and the prune points', () => {
    const cfg = cfgOf('r0 = 0\nr1 = 0\nr1 += 1\nif r1 < 10 goto -2\nexit');
    expect([...cfg.loopHeader]).toEqual([0, 0, 1, 0, 0]);
    expect(cfg.prunePoint[2]).toBe(1); // jump target
    expect(cfg.prunePoint[4]).toBe(1); // fall-through of a conditional jump
    expect(cfg.succ[3]).toEqual([4, 2]);
    expect(cfg.unreachable).toEqual([]);
  });

  it('liveness: a register written before any read is dead before the write', () => {
    const cfg = cfgOf('r2 = 1\nr0 = r2\nr2 = 5\nexit');
    const live = (pc: number, r: number) => (cfg.liveIn[pc] >> r) & 1;
    expect(live(0, 2)).toBe(0);
    expect(live(1, 2)).toBe(1);
    expect(live(2, 2)).toBe(0);
    expect(live(3, 0)).toBe(1);
    expect(live(0, 10)).toBe(1);
  });

  it('reports instructions no path reaches', () => {
    expect(cfgOf('r0 = 0\nexit\nr0 = 1\nexit').unreachable).toEqual([2, 3]);
  });
});

describe('statesEqual', () => {
  const state = (r6: ReturnType<typeof scalar>): State => {
    const f = newFrame('main', -1, 0);
    f.regs[6] = r6;
    return { frames: [f], refs: [] };
  };
  const LIVE_R6 = 1 << 6;

  it('an explored wider range covers a narrower one, not the reverse', () => {
    const wide = state(scalar(scalarRange(0n, 100n)));
    const narrow = state(scalar(scalarRange(10n, 20n)));
    expect(statesEqual(wide, narrow, LIVE_R6, false)).toBe(true);
    expect(statesEqual(narrow, wide, LIVE_R6, false)).toBe(false);
    expect(statesEqual(wide, narrow, LIVE_R6, true)).toBe(false);
    expect(statesEqual(wide, cloneState(wide), LIVE_R6, true)).toBe(true);
  });

  it('dead registers do not matter; references must match', () => {
    const a = state(scalar(scalarConst(1n)));
    const b = state(scalar(scalarConst(2n)));
    expect(statesEqual(a, b, LIVE_R6, false)).toBe(false);
    expect(statesEqual(a, b, 0, false)).toBe(true);
    const held = cloneState(a);
    held.refs = [{ id: 1, pc: 0, what: 'bpf_ringbuf_reserve' }];
    expect(statesEqual(a, held, 0, false)).toBe(false);
  });
});
