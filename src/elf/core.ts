/**
 * CO-RE relocations with libbpf semantics (tools/lib/bpf/relo_core.c): each `.BTF.ext` record names
 * an instruction, a local root type and an access path; the path is matched by name against the
 * target BTF (the built-in vmlinux by default) and the instruction's imm/off (and, for loads, size)
 * is rewritten to the target layout. Unsatisfiable relocations patch 0 for the *_EXISTS and type-based
 * kinds and otherwise poison the instruction as libbpf does (`call 0xbad2310`), and are reported.
 */

import { LoadError } from '../errors.js';
import type { Btf, BtfType } from './btf.js';
import type { BtfCoreRelo, BtfLineInfo, CoreReloKindName } from './btf-ext.js';
import { vmlinuxBtf } from './vmlinux.js';

/** Helper id libbpf writes into an instruction whose relocation failed (BPF_CORE_POISON). */
export const CORE_POISON_HELPER = 0xbad2310;

export interface CoreRelocationResult {
  /** A patched copy of the instructions (the input is not modified). */
  readonly bytes: Uint8Array;
  readonly applied: readonly AppliedCoreRelo[];
  readonly failed: readonly FailedCoreRelo[];
}

export interface AppliedCoreRelo {
  readonly insn: number;
  readonly kind: CoreReloKindName;
  /** Human-readable local access, e.g. `task_struct.real_parent`. */
  readonly spec: string;
  /** Value the compiler used (local BTF) and the one patched in (target BTF). */
  readonly localValue: number;
  readonly targetValue: number;
}

export interface FailedCoreRelo {
  readonly insn: number;
  readonly kind: CoreReloKindName;
  readonly spec: string;
  /** Why it could not be resolved (names the missing type or field). */
  readonly reason: string;
  /** `file:line` of the instruction when line info is known. */
  readonly source?: string;
  /** True when the instruction now calls CORE_POISON_HELPER. */
  readonly poisoned: boolean;
}

/**
 * The one wording of an unsatisfiable relocation, for the verifier's explanation, the runtime trap
 * and the contract loader: "the CO-RE relocation (kind of spec) cannot be satisfied by <target>: why".
 */
export function coreFailureText(failed: FailedCoreRelo, target = 'the kernel BTF'): string {
  return `the CO-RE relocation (${failed.kind} of ${failed.spec}) cannot be satisfied by ${target}: ${failed.reason}`;
}

/** The fix both the verifier and the runtime trap suggest for an unsatisfiable relocation. */
export const CORE_FAILURE_HINT =
  'guard the access with bpf_core_field_exists() / bpf_core_type_exists(), or fix the field or type name, or give a target BTF that has it';

export interface CoreRelocationOptions {
  /** Line info lookup by instruction index, for the `source` of failures. */
  readonly lineAt?: (insn: number) => BtfLineInfo | undefined;
  /** ELF section name, for error locations. */
  readonly section?: string;
}

const BPF_LD = 0x00;
const BPF_LDX = 0x01;
const BPF_ST = 0x02;
const BPF_STX = 0x03;
const BPF_ALU = 0x04;
const BPF_JMP = 0x05;
const BPF_ALU64 = 0x07;
const BPF_K = 0x00;
const BPF_IMM = 0x00;
const BPF_DW = 0x18;
const BPF_CALL = 0x80;
const LDDW = BPF_LD | BPF_IMM | BPF_DW;
const SIZE_BYTES: Record<number, number> = { 0: 4, 8: 2, 16: 1, 24: 8 };
const BYTES_SIZE: Record<number, number> = { 4: 0x00, 2: 0x08, 1: 0x10, 8: 0x18 };

/** What one side (local or target) of a relocation resolves to. */
interface Resolved {
  /** The relocated value: offset, size, flag, shift, type id, enum value… */
  readonly value: number;
  /** For FIELD_BYTE_OFFSET: the field's load size, to adjust LDX/ST/STX sizes. */
  readonly memSize?: number;
  /** True for bitfields: clang and libbpf pick load sizes differently, so the insn is not checked. */
  readonly bitfield?: boolean;
}

/** A relocation that cannot be satisfied in the target; carries the reason for the report. */
class Unsatisfied {
  constructor(readonly reason: string) {}
}

/** libbpf's "essential name": a `___flavour` suffix is ignored when matching. */
export function essentialName(name: string): string {
  const at = name.indexOf('___');
  return at > 0 ? name.slice(0, at) : name;
}

const FIELD_KINDS: ReadonlySet<CoreReloKindName> = new Set([
  'field_byte_offset',
  'field_byte_size',
  'field_exists',
  'field_signed',
  'field_lshift_u64',
  'field_rshift_u64',
]);
const ENUM_KINDS: ReadonlySet<CoreReloKindName> = new Set(['enumval_exists', 'enumval_value']);
/**
 * Kinds where a missing target is an answer (0), not an error: the *_exists kinds and, as in libbpf's
 * bpf_core_calc_type_relo, every type-based kind (a missing type has id 0 and size 0).
 */
const ZERO_WHEN_MISSING: ReadonlySet<CoreReloKindName> = new Set([
  'field_exists',
  'type_exists',
  'type_matches',
  'type_id_target',
  'type_size',
  'enumval_exists',
]);

/** One step of a field access: a member (by name, for matching) or an array element. */
type Step = { readonly member: string } | { readonly index: number };

interface FieldSpec {
  readonly steps: readonly Step[];
  /** Index applied to the root (`"N:…"`, pointer arithmetic on the root pointer). */
  readonly rootIndex: number;
}

/**
 * Applies `relos` to the instructions of one section. `insnBytes` holds 8-byte instructions indexed
 * as in the relocation records. Malformed records (bad type ids or access paths in the local BTF, an
 * instruction index past the end, an instruction the kind cannot patch) throw LoadError BAD_BTF; a
 * relocation the target cannot satisfy is reported in `failed`.
 */
export function applyCoreRelocations(
  insnBytes: Uint8Array,
  relos: readonly BtfCoreRelo[],
  localBtf: Btf,
  targetBtf: Btf = vmlinuxBtf(),
  options: CoreRelocationOptions = {},
): CoreRelocationResult {
  const bytes = insnBytes.slice();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = Math.floor(bytes.length / 8);
  const applied: AppliedCoreRelo[] = [];
  const failed: FailedCoreRelo[] = [];
  const section = options.section ?? '.text';
  // Resolution depends only on the record's type, kind and access string, which repeat across the
  // inlined BPF_CORE_READs of an object: resolve each once (failures throw on their first record).
  const resolved = new Map<string, { spec: string; local: Resolved; target: Resolved | Unsatisfied }>();
  for (const relo of relos) {
    const bad = (message: string): LoadError =>
      new LoadError(
        'BAD_BTF',
        `${section}: CO-RE relocation at insn ${relo.insn} (${relo.kind}): ${message}`,
        {
          section,
          pc: relo.insn,
        },
      );
    if (!Number.isInteger(relo.insn) || relo.insn < 0 || relo.insn >= count) {
      throw bad(`instruction index is outside the ${count} instructions`);
    }
    const key = `${relo.typeId}:${relo.kind}:${relo.accessString}`;
    let r = resolved.get(key);
    if (r === undefined) {
      r = resolveBoth(localBtf, targetBtf, relo, bad);
      resolved.set(key, r);
    }
    const { spec, local, target } = r;
    const report = (why: Unsatisfied): void => {
      poison(view, relo.insn, count);
      const line = options.lineAt?.(relo.insn);
      failed.push({
        insn: relo.insn,
        kind: relo.kind,
        spec,
        reason: why.reason,
        poisoned: true,
        ...(line === undefined || line.line === 0 ? {} : { source: `${line.file}:${line.line}` }),
      });
    };
    if (target instanceof Unsatisfied) {
      report(target);
      continue;
    }
    const unpatchable = patch(view, relo.insn, count, local, target, bad);
    if (unpatchable !== undefined) {
      report(new Unsatisfied(unpatchable));
      continue;
    }
    applied.push({
      insn: relo.insn,
      kind: relo.kind,
      spec,
      localValue: local.value,
      targetValue: target.value,
    });
  }
  return { bytes, applied, failed };
}

/** The report text, local value and target value of one record (throws BAD_BTF for a bad record). */
function resolveBoth(
  localBtf: Btf,
  targetBtf: Btf,
  relo: BtfCoreRelo,
  bad: (m: string) => LoadError,
): { spec: string; local: Resolved; target: Resolved | Unsatisfied } {
  const spec = describeLocal(localBtf, relo, bad);
  const local = resolveLocal(localBtf, relo, bad);
  if (local instanceof Unsatisfied)
    throw bad(`local access ${relo.accessString} is invalid: ${local.reason}`);
  let target: Resolved | Unsatisfied;
  try {
    target = resolveTarget(localBtf, targetBtf, relo, bad);
  } catch (e) {
    // Odd-but-parsed local BTF can fail deep inside Btf queries; that is a bad record, not a crash.
    if (e instanceof LoadError) throw e;
    throw bad(e instanceof Error ? e.message : String(e));
  }
  if (target instanceof Unsatisfied && ZERO_WHEN_MISSING.has(relo.kind)) target = { value: 0 };
  return { spec, local, target };
}

/** `task_struct.real_parent.tgid` style text of the local access, for reports. */
function describeLocal(btf: Btf, relo: BtfCoreRelo, bad: (m: string) => LoadError): string {
  if (relo.typeId <= 0 || relo.typeId >= btf.count) throw bad(`local type id ${relo.typeId} does not exist`);
  if (relo.access.length === 0) throw bad('empty access string');
  if (!FIELD_KINDS.has(relo.kind)) return btf.describe(relo.typeId);
  try {
    return btf.access(relo.typeId, relo.access).spec;
  } catch (e) {
    throw bad(`access ${relo.accessString}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Resolves the local field access into steps matched by name in the target. */
function localFieldSpec(btf: Btf, relo: BtfCoreRelo, bad: (m: string) => LoadError): FieldSpec {
  const steps: Step[] = [];
  let type = relo.typeId;
  for (const index of relo.access.slice(1)) {
    const t = btf.resolve(type);
    if (t.kind === 'struct' || t.kind === 'union') {
      const m = t.members[index];
      if (m === undefined) throw bad(`member ${index} of ${btf.describe(t.id)} does not exist`);
      // Anonymous members are found through by `Btf.member`, so only named steps are matched.
      if (m.name !== '') steps.push({ member: m.name });
      type = m.type;
    } else if (t.kind === 'array') {
      steps.push({ index });
      type = t.type;
    } else {
      throw bad(`index ${index} applied to a ${t.kind}`);
    }
  }
  return {
    steps,
    rootIndex: relo.access[0] ?? 0,
  };
}

/** The location a field spec reaches in `btf` from root `rootId`, or why it cannot. */
interface FieldLocation {
  readonly type: number;
  readonly bitOffset: number;
  readonly bitSize: number;
}

function walkField(btf: Btf, rootId: number, spec: FieldSpec): FieldLocation | Unsatisfied {
  let bitOffset = spec.rootIndex * btf.size(rootId) * 8;
  let bitSize = 0;
  let type = rootId;
  for (const step of spec.steps) {
    const container = btf.resolve(type);
    if ('member' in step) {
      if (container.kind !== 'struct' && container.kind !== 'union') {
        return new Unsatisfied(`${btf.describe(type)} is not a struct or union (no field ${step.member})`);
      }
      const m = btf.member(container.id, step.member) ?? findFlavoured(btf, container.id, step.member);
      if (m === undefined) {
        return new Unsatisfied(`${btf.describe(container.id)} has no field ${essentialName(step.member)}`);
      }
      bitOffset += m.bitOffset;
      bitSize = m.bitSize;
      type = m.type;
    } else {
      if (container.kind !== 'array') return new Unsatisfied(`${btf.describe(type)} is not an array`);
      if (container.nelems !== 0 && step.index >= container.nelems) {
        return new Unsatisfied(`index ${step.index} is past the ${container.nelems} elements`);
      }
      bitOffset += step.index * btf.size(container.type) * 8;
      bitSize = 0;
      type = container.type;
    }
  }
  return { type, bitOffset, bitSize };
}

/** Member lookup by essential name (a local `pid___v2` matches a target `pid`). */
function findFlavoured(btf: Btf, structId: number, name: string): ReturnType<Btf['member']> {
  const essential = essentialName(name);
  return essential === name ? undefined : btf.member(structId, essential);
}

/** libbpf's field compatibility: same kind family after typedefs/qualifiers (ints of any size). */
function compatibleField(local: Btf, localId: number, target: Btf, targetId: number): boolean {
  const l = local.resolve(localId);
  const t = target.resolve(targetId);
  const family = (k: BtfType['kind']): string => (k === 'enum64' ? 'enum' : k);
  if (family(l.kind) === family(t.kind)) return true;
  // A fwd matches a struct/union; enum <-> int are interchangeable scalars.
  if (l.kind === 'fwd' || t.kind === 'fwd') return true;
  const scalar = (k: BtfType['kind']) => k === 'int' || k === 'enum' || k === 'enum64';
  return scalar(l.kind) && scalar(t.kind);
}

/** Value of a relocation in `btf` at a located field (libbpf bpf_core_calc_field_relo). */
function fieldValue(btf: Btf, kind: CoreReloKindName, loc: FieldLocation): Resolved | Unsatisfied {
  if (kind === 'field_exists') return { value: 1 };
  const r = fieldNumbers(btf, kind, loc);
  return r instanceof Unsatisfied || loc.bitSize === 0 ? r : { ...r, bitfield: true };
}

function fieldNumbers(btf: Btf, kind: CoreReloKindName, loc: FieldLocation): Resolved | Unsatisfied {
  const t = btf.resolve(loc.type);
  let byteSize: number;
  let byteOffset: number;
  if (loc.bitSize === 0) {
    byteSize = btf.size(loc.type);
    byteOffset = Math.floor(loc.bitOffset / 8);
  } else {
    // A bitfield is read with the smallest naturally aligned load that covers it.
    byteSize = btf.size(loc.type);
    byteOffset = Math.floor(loc.bitOffset / 8 / byteSize) * byteSize;
    while (loc.bitOffset + loc.bitSize - byteOffset * 8 > byteSize * 8) {
      if (byteSize >= 8) return new Unsatisfied('bitfield does not fit in a 64-bit load');
      byteSize *= 2;
      byteOffset = Math.floor(loc.bitOffset / 8 / byteSize) * byteSize;
    }
  }
  switch (kind) {
    case 'field_byte_offset':
      return { value: byteOffset, memSize: byteSize };
    case 'field_byte_size':
      return { value: byteSize };
    case 'field_signed':
      return {
        value:
          (t.kind === 'int' && t.encoding.signed) || ((t.kind === 'enum' || t.kind === 'enum64') && t.signed)
            ? 1
            : 0,
      };
    case 'field_lshift_u64':
      return {
        value: loc.bitSize === 0 ? 64 - byteSize * 8 : 64 - (loc.bitOffset + loc.bitSize - byteOffset * 8),
      };
    case 'field_rshift_u64':
      return { value: loc.bitSize === 0 ? 64 - byteSize * 8 : 64 - loc.bitSize };
    default:
      return new Unsatisfied(`${kind} is not a field relocation`);
  }
}

/** Local side: the value the compiler assumed (validated against the instruction when patching). */
function resolveLocal(btf: Btf, relo: BtfCoreRelo, bad: (m: string) => LoadError): Resolved | Unsatisfied {
  const rootId = relo.typeId;
  try {
    if (FIELD_KINDS.has(relo.kind)) {
      const loc = walkField(btf, rootId, localFieldSpec(btf, relo, bad));
      return loc instanceof Unsatisfied ? loc : fieldValue(btf, relo.kind, loc);
    }
    if (ENUM_KINDS.has(relo.kind)) {
      const e = btf.resolve(rootId);
      if (e.kind !== 'enum' && e.kind !== 'enum64') throw bad(`${btf.describe(rootId)} is not an enum`);
      const v = e.values[relo.access[0] ?? -1];
      if (v === undefined)
        throw bad(`enum value ${relo.access[0]} of ${btf.describe(rootId)} does not exist`);
      return { value: relo.kind === 'enumval_exists' ? 1 : Number(BigInt.asIntN(64, v.value)) };
    }
    return typeValue(btf, relo.kind, rootId, rootId);
  } catch (e) {
    if (e instanceof LoadError && e.code === 'BAD_BTF') throw bad(e.message);
    throw e;
  }
}

function typeValue(btf: Btf, kind: CoreReloKindName, id: number, localId: number): Resolved {
  switch (kind) {
    case 'type_id_local':
      return { value: localId };
    case 'type_id_target':
      return { value: id };
    case 'type_size':
      return { value: btf.size(id) };
    default:
      return { value: 1 };
  }
}

/** Target candidates: types with the same essential name and a compatible kind. */
function candidates(local: Btf, localId: number, target: Btf): BtfType[] {
  const l = local.skipQualifiers(localId);
  const name = essentialName(l.name);
  if (name === '') return [];
  const kind = local.resolve(localId).kind;
  const want =
    l.kind === 'typedef' ? ['typedef'] : kind === 'enum' || kind === 'enum64' ? ['enum', 'enum64'] : [kind];
  return target.findAll(name).filter((t) => want.includes(t.kind));
}

function resolveTarget(
  local: Btf,
  targetBtf: Btf,
  relo: BtfCoreRelo,
  bad: (m: string) => LoadError,
): Resolved | Unsatisfied {
  const rootName = local.skipQualifiers(relo.typeId).name;
  if (relo.kind === 'type_id_local') return { value: relo.typeId };
  const cands = candidates(local, relo.typeId, targetBtf);
  const label = rootName === '' ? local.describe(relo.typeId) : rootName;
  if (cands.length === 0) return new Unsatisfied(`type ${essentialName(label)} is not in the target BTF`);
  let last: Unsatisfied = new Unsatisfied(`no ${label} in the target BTF matches`);
  let found: Resolved | undefined;
  for (const cand of cands) {
    const r = resolveAgainst(local, targetBtf, relo, cand.id, bad);
    if (r instanceof Unsatisfied) {
      last = r;
      continue;
    }
    // libbpf requires every matching candidate to agree; the first disagreement is ambiguous.
    if (found !== undefined && found.value !== r.value) {
      return new Unsatisfied(
        `candidates for ${label} in the target BTF disagree (${found.value} vs ${r.value})`,
      );
    }
    found ??= r;
  }
  return found ?? last;
}

function resolveAgainst(
  local: Btf,
  target: Btf,
  relo: BtfCoreRelo,
  targetId: number,
  bad: (m: string) => LoadError,
): Resolved | Unsatisfied {
  if (FIELD_KINDS.has(relo.kind)) {
    const spec = localFieldSpec(local, relo, bad);
    const loc = walkField(target, targetId, spec);
    if (loc instanceof Unsatisfied) return loc;
    const localLoc = walkField(local, relo.typeId, spec);
    if (!(localLoc instanceof Unsatisfied) && !compatibleField(local, localLoc.type, target, loc.type)) {
      return new Unsatisfied(
        `field ${local.access(relo.typeId, relo.access).spec} is ${target.describe(loc.type)} in the target, not ${local.describe(localLoc.type)}`,
      );
    }
    return fieldValue(target, relo.kind, loc);
  }
  if (ENUM_KINDS.has(relo.kind)) {
    const l = local.resolve(relo.typeId);
    const t = target.resolve(targetId);
    if ((l.kind !== 'enum' && l.kind !== 'enum64') || (t.kind !== 'enum' && t.kind !== 'enum64')) {
      return new Unsatisfied('not an enum');
    }
    const name = essentialName(l.values[relo.access[0] ?? -1]?.name ?? '');
    const v = t.values.find((x) => essentialName(x.name) === name);
    if (v === undefined) return new Unsatisfied(`enum ${t.name} has no value ${name}`);
    return { value: relo.kind === 'enumval_exists' ? 1 : Number(BigInt.asIntN(64, v.value)) };
  }
  if (relo.kind === 'type_matches' && !typesMatch(local, relo.typeId, target, targetId, 0)) {
    return new Unsatisfied(`${local.describe(relo.typeId)} does not match ${target.describe(targetId)}`);
  }
  return typeValue(target, relo.kind, targetId, relo.typeId);
}

/** A reduced bpf_core_types_match: same kinds, and every local member exists by name with a matching type. */
function typesMatch(local: Btf, localId: number, target: Btf, targetId: number, depth: number): boolean {
  if (depth > 8) return true;
  const l = local.resolve(localId);
  const t = target.resolve(targetId);
  if (l.kind !== t.kind) return false;
  switch (l.kind) {
    case 'struct':
    case 'union': {
      if (t.kind !== 'struct' && t.kind !== 'union') return false;
      return l.members.every((m) => {
        const tm = t.members.find((x) => x.name === m.name);
        return tm !== undefined && typesMatch(local, m.type, target, tm.type, depth + 1);
      });
    }
    case 'int':
      return t.kind === 'int' && t.size === l.size && t.encoding.signed === l.encoding.signed;
    case 'ptr':
      return t.kind === 'ptr';
    case 'array':
      return (
        t.kind === 'array' && t.nelems === l.nelems && typesMatch(local, l.type, target, t.type, depth + 1)
      );
    default:
      return true;
  }
}

/**
 * Rewrites the instruction with the target value (libbpf bpf_core_patch_insn). Returns a reason,
 * without changing anything, when the load size cannot follow the target field (libbpf's
 * fail_memsz_adjust, which poisons); a malformed instruction throws.
 */
function patch(
  view: DataView,
  insn: number,
  count: number,
  local: Resolved,
  target: Resolved,
  bad: (m: string) => LoadError,
): string | undefined {
  const at = insn * 8;
  const code = view.getUint8(at);
  const cls = code & 0x07;
  if (cls === BPF_ALU || cls === BPF_ALU64) {
    if ((code & 0x08) !== BPF_K) throw bad('ALU instruction with a register source cannot be relocated');
    if (!local.bitfield && view.getInt32(at + 4, true) !== local.value) {
      throw bad(`instruction imm ${view.getInt32(at + 4, true)} is not the expected ${local.value}`);
    }
    view.setInt32(at + 4, target.value, true);
    return undefined;
  }
  if (cls === BPF_LDX || cls === BPF_ST || cls === BPF_STX) {
    const off = view.getInt16(at + 2, true);
    if (!local.bitfield && off !== local.value)
      throw bad(`instruction offset ${off} is not the expected ${local.value}`);
    if (target.value > 0x7fff || target.value < -0x8000) {
      throw bad(`target offset ${target.value} does not fit the 16-bit instruction offset`);
    }
    // libbpf adjusts the load/store width when the target field has another size.
    let newCode = code;
    if (local.memSize !== undefined && target.memSize !== undefined && local.memSize !== target.memSize) {
      const current = SIZE_BYTES[code & 0x18];
      if (current !== local.memSize)
        throw bad(`memory access of ${current} bytes, field has ${local.memSize}`);
      const size = BYTES_SIZE[target.memSize];
      if (local.bitfield || target.bitfield || size === undefined) {
        return `the ${local.memSize}-byte access cannot be resized to the target field's ${target.memSize} bytes`;
      }
      newCode = (code & ~0x18) | size;
    }
    view.setInt16(at + 2, target.value, true);
    view.setUint8(at, newCode);
    return undefined;
  }
  if (code === LDDW) {
    if (insn + 1 >= count) throw bad('ld_imm64 is missing its second half');
    const lo = view.getUint32(at + 4, true);
    const hi = view.getUint32(at + 12, true);
    const orig = Number((BigInt(hi) << 32n) | BigInt(lo));
    if (orig !== local.value) throw bad(`ld_imm64 value ${orig} is not the expected ${local.value}`);
    const v = BigInt.asUintN(64, BigInt(target.value));
    view.setUint32(at + 4, Number(v & 0xffffffffn), true);
    view.setUint32(at + 12, Number(v >> 32n), true);
    return undefined;
  }
  throw bad(`instruction opcode 0x${code.toString(16)} cannot be relocated`);
}

/** `call 0xbad2310`: running it fails naming the unresolved relocation's helper id, as in the kernel. */
function poison(view: DataView, insn: number, count: number): void {
  // libbpf poisons both halves of an ld_imm64 so no half-instruction is left behind.
  if (view.getUint8(insn * 8) === LDDW && insn + 1 < count) poisonOne(view, insn + 1);
  poisonOne(view, insn);
}

function poisonOne(view: DataView, insn: number): void {
  const at = insn * 8;
  view.setUint8(at, BPF_JMP | BPF_CALL);
  view.setUint8(at + 1, 0);
  view.setInt16(at + 2, 0, true);
  view.setInt32(at + 4, CORE_POISON_HELPER, true);
}
