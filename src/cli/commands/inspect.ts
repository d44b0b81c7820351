/**
 * `bpfbox inspect OBJ.o`: what an object file holds — programs (name, SEC, kernel program type,
 * instruction count) and maps (kernel map type, sizes) the way libbpf sees them, plus globals and
 * license in the readable form. `--json` prints exactly `{"programs":[…],"maps":[…]}`.
 */
import type { Command } from 'commander';
import { OpenObject } from '../../elf/open.js';
import { readBytes } from '../../util/files.js';
import type { CliIo } from '../io.js';
import { objectGlobals } from '../object-globals.js';
import { mapDisplayNames } from '../object-names.js';
import { formatTable } from '../table.js';

interface InspectFlags {
  json?: boolean;
}

export function registerInspect(program: Command, io: CliIo): void {
  program
    .command('inspect')
    .description('list the programs, maps and globals of an object file (clang -target bpf)')
    .argument('<file>', 'object file (.o)')
    .option(
      '--json',
      'print {"programs":[{name,section,type,insns}],"maps":[{name,type,key_size,value_size,max_entries}]}',
    )
    .action((file: string, flags: InspectFlags) => {
      const object = OpenObject.open(readBytes(file));
      if (flags.json) io.out(JSON.stringify(inspectJson(object, file)));
      else io.out(inspectText(object, file));
    });
}

export interface InspectJson {
  programs: { name: string; section: string; type: string; insns: number }[];
  maps: { name: string; type: string; key_size: number; value_size: number; max_entries: number }[];
}

export function inspectJson(object: OpenObject, file: string): InspectJson {
  const names = mapDisplayNames(object, file);
  return {
    programs: object.programSummaries().map((p) => ({
      name: p.name,
      section: p.section,
      type: p.type,
      insns: p.insns,
    })),
    maps: object.mapDefinitions.map((d, i) => ({
      name: names[i],
      type: d.type,
      key_size: d.keySize,
      value_size: d.valueSize,
      max_entries: d.maxEntries,
    })),
  };
}

function inspectText(object: OpenObject, file: string): string {
  const { programs, maps } = inspectJson(object, file);
  const parts: string[] = [];
  parts.push(
    `programs (${programs.length})`,
    formatTable(
      ['name', 'section', 'type', 'insns'],
      programs.map((p) => [p.name, p.section, p.type, String(p.insns)]),
    ),
  );
  parts.push(
    '',
    `maps (${maps.length})`,
    formatTable(
      ['name', 'type', 'key', 'value', 'max_entries', 'flags'],
      maps.map((m, i) => [
        m.name,
        m.type,
        String(m.key_size),
        String(m.value_size),
        String(m.max_entries),
        `0x${object.mapDefinitions[i].flags.toString(16)}`,
      ]),
    ),
  );
  const globals = objectGlobals(object);
  parts.push(
    '',
    `globals (${globals.length})`,
    formatTable(
      ['name', 'section', 'size', 'type'],
      globals.map((g) => [g.name, g.section, String(g.size), g.type ?? '?']),
    ),
  );
  parts.push('', `license: ${object.object.license ?? '(none)'}`);
  return parts.join('\n');
}
