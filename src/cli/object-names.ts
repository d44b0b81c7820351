/**
 * Map names as libbpf gives them, so `bpfbox inspect` and `bpfbox run` show what `bpftool map` would:
 * user maps keep their symbol name; global data sections become `<object prefix><section>`, e.g.
 * `prog.rodata` for prog.o, while sections with a second dot (`.rodata.str1.1`) keep their bare name.
 */
import { basename } from 'node:path';
import type { OpenObject } from '../elf/open.js';

/** The kernel's BPF_OBJ_NAME_LEN, including the NUL. */
const BPF_OBJ_NAME_LEN = 16;

/** libbpf's `obj->name`: the file's base name up to its first dot, at most 15 characters. */
export function libbpfObjectName(path: string): string {
  const base = basename(path);
  const dot = base.indexOf('.');
  return (dot < 0 ? base : base.slice(0, dot)).slice(0, BPF_OBJ_NAME_LEN - 1);
}

/** libbpf's `internal_map_name()` for a data section of object `objectName`. */
export function internalMapName(objectName: string, section: string): string {
  const suffixLength = Math.min(Math.max(7, section.length), BPF_OBJ_NAME_LEN - 1);
  const prefixLength =
    section.indexOf('.', 1) >= 0 ? 0 : Math.min(BPF_OBJ_NAME_LEN - suffixLength - 1, objectName.length);
  const name = objectName.slice(0, prefixLength) + section.slice(0, suffixLength);
  // The kernel accepts only these characters in object names.
  return name.replace(/[^A-Za-z0-9_.]/g, '_');
}

/** Display name of every map of `object` (opened from `path`), in map index order. */
export function mapDisplayNames(object: OpenObject, path: string): string[] {
  const objectName = libbpfObjectName(path);
  return object.maps.map((m) => (m.kind === 'internal' ? internalMapName(objectName, m.name) : m.name));
}
