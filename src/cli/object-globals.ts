/** The global variables of an opened object with their C types from BTF, for `inspect` and IN.json `rodata`. */
import type { BtfType } from '../elf/btf.js';
import type { OpenObject } from '../elf/open.js';

export interface GlobalVariable {
  readonly name: string;
  /** Data section holding it: `.rodata`, `.data`, `.bss`, … */
  readonly section: string;
  readonly size: number;
  /** C type as BTF describes it (`const volatile __u32`), when the object has BTF for it. */
  readonly type?: string;
  /** True when BTF says the variable is an array (a `char name[16]` takes a string value). */
  readonly array: boolean;
}

export function objectGlobals(object: OpenObject): GlobalVariable[] {
  const vars = new Map<string, Extract<BtfType, { kind: 'var' }>>();
  for (const t of object.btf?.types ?? []) if (t.kind === 'var') vars.set(t.name, t);
  const out: GlobalVariable[] = [];
  for (const map of object.maps) {
    if (map.kind !== 'internal') continue;
    for (const symbol of map.symbols) {
      const v = vars.get(symbol.name);
      const btf = object.btf;
      out.push({
        name: symbol.name,
        section: map.name,
        size: symbol.size,
        ...(v === undefined || btf === undefined ? {} : { type: btf.render(v.type) }),
        array: v !== undefined && btf !== undefined && btf.resolve(v.type).kind === 'array',
      });
    }
  }
  return out;
}
