/** The human-readable report of a rejection: code, location, source line, values, path, witness, hint. */
import { describe, expect, it } from 'vitest';
import { OpenObject } from '../../src/elf/open.js';
import { formatDiagnostic, resultJson, verifyProgram } from '../../src/verifier/index.js';
import { clangAvailable, compileBpf } from '../elf/compile.js';
import { PRELUDE } from './corpus.js';

describe.skipIf(!clangAvailable)('verifier explanations', () => {
  it('a packet read past the checked range names the line, the values, the path, a witness and the fix', () => {
    const open = OpenObject.open(
      compileBpf(`${PRELUDE}
SEC("xdp") int prog(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > end) return XDP_DROP;
  struct iphdr *ip = (void *)(eth + 1);
  return ip->protocol == 6 ? XDP_DROP : XDP_PASS;
}`),
    );
    const r = verifyProgram(open.link()[0], { mapDefinitions: open.mapDefinitions });
    expect(r.ok).toBe(false);
    const text = formatDiagnostic(r.errors[0]);
    expect(text).toMatch(
      /^error\[PACKET_OOB\]: a 1-byte packet read at data \+ 23, but only 14 bytes are known/,
    );
    expect(text).toMatch(/prog\.c:14(:\d+)? \(pc \d+\)/);
    expect(text).toContain('14 | return ip->protocol == 6 ? XDP_DROP : XDP_PASS;');
    expect(text).toContain('= note: r1 is pkt (14 bytes checked), from ctx->data at prog.c:10');
    expect(text).toContain('prog.c:12 `if ((void *)(eth + 1) > end) return XDP_DROP;`: branch not taken');
    expect(text).toContain('= witness: a packet of 23 bytes makes this access run past data_end');
    expect(text).toContain(
      '= help: compare against data_end first: `if ((void *)data + 24 > data_end) return ...;`',
    );
    const json = resultJson(r);
    expect(json.errors[0]).toMatchObject({
      code: 'PACKET_OOB',
      line: 14,
      source: 'return ip->protocol == 6 ? XDP_DROP : XDP_PASS;',
    });
  });

  it('a map lookup used without a check names the lookup it came from', () => {
    const open = OpenObject.open(
      compileBpf(`${PRELUDE}
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 8); __type(key, __u32); __type(value, __u64); } counts SEC(".maps");
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u32 key = ctx->rx_queue_index;
  __u64 *v = bpf_map_lookup_elem(&counts, &key);
  *v += 1;
  return XDP_PASS;
}`),
    );
    const r = verifyProgram(open.link()[0], { mapDefinitions: open.mapDefinitions });
    const e = r.errors[0];
    expect(e.code).toBe('NULL_DEREF');
    expect(e.line).toBe(13);
    expect(e.values).toEqual(['r0 is map_value_or_null(counts), from bpf_map_lookup_elem at prog.c:12']);
    expect(e.hint).toContain('if (!ptr) return 0;');
  });

  it('a global function dereferencing its pointer argument names the argument and the three fixes', () => {
    const open = OpenObject.open(
      compileBpf(`${PRELUDE}
__noinline int count(__u32 *p) { return *p + 1; }
SEC("xdp") int prog(struct xdp_md *ctx) { __u32 x = ctx->rx_queue_index; return count(&x) & 1; }`),
    );
    const r = verifyProgram(open.link()[0], { mapDefinitions: open.mapDefinitions });
    const e = r.errors[0];
    expect(e.code).toBe('NULL_DEREF');
    expect(e.line).toBe(9);
    expect(e.message).toBe(
      'read through r1, which may be NULL (argument 1 of global function count() is not checked)',
    );
    expect(e.values).toEqual([
      'r1 is mem_or_null(4 bytes), from argument 1 of global function count() at prog.c:9',
    ]);
    expect(e.hint).toMatch(/verified once for all callers.*make the function static.*__arg_nonnull/);
  });

  it('a call with a too small argument is refused at the call site, naming the prototype', () => {
    const open = OpenObject.open(
      compileBpf(`${PRELUDE}
struct pair { __u64 a, b; };
__noinline int sum(struct pair *p) { if (!p) return 0; return (p->a + p->b) & 1; }
SEC("xdp") int prog(struct xdp_md *ctx) { __u64 x = ctx->rx_queue_index; return sum((struct pair *)&x); }`),
    );
    const r = verifyProgram(open.link()[0], { mapDefinitions: open.mapDefinitions });
    const e = r.errors[0];
    expect(e.code).toBe('FUNC_ARG');
    expect(e.line).toBe(11);
    expect(e.message).toMatch(
      /^argument 1 \(r1\) of global function sum\(\) must be NULL or a pointer to 16 readable/,
    );
    expect(e.values).toContain('sum() is verified once, against its prototype `int sum(struct pair *p)`');
  });

  const CAN_LOOP = `
#define can_loop ({ __label__ l_break, l_continue; int ret = 1; \\
  asm volatile goto("may_goto %l[l_break]" :::: l_break); goto l_continue; \\
  l_break: ret = 0; l_continue:; ret; })
struct value { __u32 slots[16]; __u64 total; };
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __type(key, __u32); __type(value, struct value); } table SEC(".maps");
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u32 key = 0;
  struct value *v = bpf_map_lookup_elem(&table, &key);
  if (!v) return XDP_PASS;`;

  it('a can_loop loop: the path shows the may_goto decisions, widened values are said to be', () => {
    const open = OpenObject.open(
      compileBpf(`${PRELUDE}${CAN_LOOP}
  __u32 i = 0, s = 0;
  while (can_loop) { if (i > 100) break; if (i >= 40) s += v->slots[i - 40]; i++; }
  return s & 1;
}`),
    );
    const r = verifyProgram(open.link()[0], { mapDefinitions: open.mapDefinitions });
    const e = r.errors[0];
    expect(e.code).toBe('MAP_VALUE_OOB');
    expect(e.path.join('\n')).toMatch(/may_goto falls through \(another iteration\) \(\d+ times in a row\)/);
    expect(e.values.join('\n')).toContain(
      'the values are those of every iteration of the may_goto (can_loop) loop at prog.c:19, widened together',
    );
  });

  it('a can_loop loop that never converges says so and suggests an index instead of a pointer', () => {
    const open = OpenObject.open(
      compileBpf(`${PRELUDE}${CAN_LOOP}
  void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
  __u8 *p = data;
  __u32 s = 0;
  while (can_loop) { if ((void *)(p + 1) > end) break; s += *p; p++; }
  return s & 1;
}`),
    );
    const r = verifyProgram(open.link()[0], { mapDefinitions: open.mapDefinitions, maxInsns: 20_000 });
    const e = r.errors[0];
    expect(e.code).toBe('UNBOUNDED_LOOP');
    expect(e.values.join('\n')).toContain('bounded at run time by the may_goto (can_loop) at prog.c:21');
    expect(e.hint).toContain('scalar index checked against a constant bound');
  });
});
