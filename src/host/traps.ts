/**
 * How traps read at the embedding API: host functions named the way the guest imported them, not by the local helper id the
 * InstancePre relocated their calls to.
 */
import { HelperError, OutOfGas, Trap } from '../errors.js';
import type { HostDefinition, HostResult } from './linker.js';

/** `get (murmur3 0x1b2c3d4e)`, `helper_1 (id 1)` or `log (id 7, murmur3 0x…)`. */
export function describeHost(definition: HostDefinition): string {
  const keys = [
    definition.id === undefined ? undefined : `id ${definition.id}`,
    definition.hash === undefined ? undefined : `murmur3 0x${definition.hash.toString(16).padStart(8, '0')}`,
  ].filter((k) => k !== undefined);
  return `${definition.name} (${keys.join(', ')})`;
}

/**
 * A host function's failure as the trap at its call: traps pass through (an OutOfGas from the
 * function's gas charge says so), anything else is a HelperError with the error as `cause`.
 */
export function hostFailure(e: unknown, definition: HostDefinition, pc: number): Trap {
  if (e instanceof Trap) return e;
  return new HelperError(
    `host function ${describeHost(definition)} at pc ${pc} threw: ${e instanceof Error ? e.message : String(e)}`,
    { pc },
    { cause: e },
  );
}

/** A host function's result, refused when r0 cannot hold it exactly (a fraction, NaN, beyond 2^53). */
export function checkHostResult(value: HostResult, definition: HostDefinition, pc: number): HostResult {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    throw new HelperError(
      `host function ${describeHost(definition)} at pc ${pc} returned ${value}, which is not a safe integer`,
      { pc },
      { hint: 'return a bigint for 64-bit values, or an integer number' },
    );
  }
  return value;
}

/** Rewrites the OutOfGas of a host call's gas charge so it names the call and what it costs. */
export function hostCallOutOfGas(
  e: unknown,
  definition: HostDefinition,
  pc: number,
  charge: 'fixed' | number,
): unknown {
  if (!(e instanceof OutOfGas) || e.pc !== pc) return e;
  const what =
    charge === 'fixed'
      ? `the call to host function ${describeHost(definition)}, which costs ${definition.cost} gas per call`
      : `the ${charge} gas host function ${describeHost(definition)} charged`;
  e.message = `out of gas at pc ${pc}: the limit of ${e.gasLimit} cannot pay for ${what}`;
  e.hint = 'raise the gas limit, or make the program call the host less often';
  return e;
}
