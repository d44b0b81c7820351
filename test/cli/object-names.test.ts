/** Map names as libbpf's internal_map_name() gives them (what bpftool shows for global data maps). */
import { describe, expect, test } from 'vitest';
import { internalMapName, libbpfObjectName } from '../../src/cli/object-names.js';

describe('libbpf names', () => {
  test('the object name is the base name up to its first dot, at most 15 characters', () => {
    expect(libbpfObjectName('/tmp/x/prog.o')).toBe('prog');
    expect(libbpfObjectName('minimal.bpf.o')).toBe('minimal');
    expect(libbpfObjectName('a_very_long_object_name.o')).toBe('a_very_long_obj');
  });

  test('data sections get up to 8 characters of the object name (7-character suffix minimum)', () => {
    expect(internalMapName('prog', '.rodata')).toBe('prog.rodata');
    expect(internalMapName('prog', '.bss')).toBe('prog.bss');
    expect(internalMapName('minimal_long', '.rodata')).toBe('minimal_.rodata');
    expect(internalMapName('minimal_long', '.data')).toBe('minimal_.data');
  });

  test('sections with a second dot keep their bare name; disallowed characters become _', () => {
    expect(internalMapName('prog', '.rodata.str1.1')).toBe('.rodata.str1.1');
    expect(internalMapName('prog', '.data.a_very_long_section')).toBe('.data.a_very_lo');
    expect(internalMapName('my-prog', '.bss')).toBe('my_prog.bss');
  });
});
