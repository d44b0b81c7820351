/*
 * Ground truth for the example tests: loads a whole object file into the running kernel with libbpf
 * (maps, .rodata defaults, PROG_ARRAY initializers) and runs one of its programs with
 * BPF_PROG_TEST_RUN once per input line (a packet in hex, or - for none), then prints every hash and
 * array map. Per-CPU values are summed lane by lane as u64s: the kernel's CPU count is not bpfbox's.
 * Usage:  kernel-run-object OBJECT PROGRAM < packets
 * Output: ok <retval> <data_out hex or -> | error <message>, one per input line, then
 *         map <name> <key hex> <value hex> per element.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char line[1 << 17];
static unsigned char packet[1 << 16], out[1 << 16];

static size_t unhex(const char *text, unsigned char *to, size_t cap) {
  size_t n = 0;
  if (strcmp(text, "-") == 0) return 0;
  for (; text[0] && text[1] && n < cap; text += 2) {
    char byte[3] = {text[0], text[1], 0};
    to[n++] = (unsigned char)strtoul(byte, NULL, 16);
  }
  return n;
}

static void print_hex(const unsigned char *bytes, size_t n) {
  if (n == 0) printf("-");
  for (size_t i = 0; i < n; i++) printf("%02x", bytes[i]);
}

static int quiet(enum libbpf_print_level level, const char *format, va_list args) {
  return level == LIBBPF_WARN ? vfprintf(stderr, format, args) : 0;
}

static void dump(struct bpf_map *map) {
  enum bpf_map_type type = bpf_map__type(map);
  int percpu = type == BPF_MAP_TYPE_PERCPU_ARRAY || type == BPF_MAP_TYPE_PERCPU_HASH;
  if (!percpu && type != BPF_MAP_TYPE_HASH && type != BPF_MAP_TYPE_ARRAY) return;
  const char *name = bpf_map__name(map);
  if (strchr(name, '.')) return; /* .rodata, .bss: globals, not compared */
  size_t key_size = bpf_map__key_size(map), value_size = bpf_map__value_size(map);
  size_t cpus = percpu ? (size_t)libbpf_num_possible_cpus() : 1, stride = (value_size + 7) / 8 * 8;
  unsigned char *key = calloc(1, key_size), *next = calloc(1, key_size), *values = calloc(cpus, stride);
  unsigned char *sum = calloc(1, stride);
  int fd = bpf_map__fd(map);
  for (int err = bpf_map_get_next_key(fd, NULL, next); err == 0; err = bpf_map_get_next_key(fd, key, next)) {
    memcpy(key, next, key_size);
    if (bpf_map_lookup_elem(fd, key, values) != 0) continue;
    memset(sum, 0, stride);
    for (size_t c = 0; c < cpus; c++)
      for (size_t lane = 0; lane + 8 <= stride; lane += 8) {
        unsigned long long a, b;
        memcpy(&a, sum + lane, 8);
        memcpy(&b, values + c * stride + lane, 8);
        a += b;
        memcpy(sum + lane, &a, 8);
      }
    printf("map %s ", name);
    print_hex(key, key_size);
    printf(" ");
    print_hex(percpu ? sum : values, value_size);
    printf("\n");
  }
  free(key), free(next), free(values), free(sum);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s OBJECT PROGRAM < packets\n", argv[0]);
    return 2;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  libbpf_set_print(quiet);
  struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
  if (!obj || bpf_object__load(obj) != 0) {
    printf("error load: %s\n", strerror(errno));
    return 0;
  }
  struct bpf_program *prog = bpf_object__find_program_by_name(obj, argv[2]);
  if (!prog) {
    printf("error no program %s\n", argv[2]);
    return 0;
  }
  while (fgets(line, sizeof line, stdin)) {
    char *pkt_s = strtok(line, " \n");
    if (!pkt_s) continue;
    size_t pkt_len = unhex(pkt_s, packet, sizeof packet);
    LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = pkt_len ? packet : NULL, .data_size_in = pkt_len,
                .data_out = pkt_len ? out : NULL, .data_size_out = pkt_len ? sizeof out : 0, .repeat = 1);
    if (bpf_prog_test_run_opts(bpf_program__fd(prog), &run) != 0) {
      printf("error test_run: %s\n", strerror(errno));
      continue;
    }
    printf("ok %u ", run.retval);
    print_hex(out, pkt_len ? run.data_size_out : 0);
    printf("\n");
  }
  struct bpf_map *map;
  bpf_object__for_each_map(map, obj) dump(map);
  bpf_object__close(obj);
  return 0;
}
