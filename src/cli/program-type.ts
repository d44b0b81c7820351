/**
 * `--type` of `bpfbox verify`: a kernel program type (`xdp`, `sched_cls`, …) or a libbpf SEC name
 * (`tc`, `kprobe/do_sys_open`, `fentry/…`), so a program assembled by hand is checked against the same
 * context rules as the object file it would come from.
 */
import { type ProgramType, parseSectionName, SECTION_RULES } from '../elf/object.js';
import { UsageError } from '../errors.js';
import type { ProgramTypeSpec } from '../verifier/index.js';

/** Every program type bpfbox knows, in the order of libbpf's section table. */
export const PROGRAM_TYPES: readonly ProgramType[] = [...new Set(SECTION_RULES.map((r) => r.spec.type))];

export function parseProgramType(value: string): ProgramTypeSpec {
  const known = PROGRAM_TYPES.find((t) => t === value);
  if (known !== undefined) return { type: known };
  const section = parseSectionName(value);
  if (section !== undefined) return { type: section.type, attachKind: section.attachKind };
  throw new UsageError(`unknown program type "${value}"; ${typeList()}`);
}

/** The sentence usage errors end with. */
export function typeList(): string {
  return `types: ${PROGRAM_TYPES.join(', ')} (or a SEC name such as tc, kprobe/FUNC, fentry/FUNC)`;
}
