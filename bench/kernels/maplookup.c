/*
 * A map-lookup-heavy loop: 4096 keys in a hash table, 100k lookups (three in four hit). In BPF the
 * table is a BPF_MAP_TYPE_HASH used through bpf_map_lookup_elem; natively and in wasm32 it is an
 * open-addressing table with the same contents, so only the lookup machinery differs.
 */
#include "kernel.h"

#define ENTRIES 4096
#define LOOKUPS 100000

#ifdef __bpf__
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, ENTRIES);
  __type(key, u32);
  __type(value, u64);
} table SEC(".maps");

static void put(u32 key, u64 value) { bpf_map_update_elem(&table, &key, &value, BPF_ANY); }
static u64 *get(u32 key) { return bpf_map_lookup_elem(&table, &key); }
#else
#define SLOTS (ENTRIES * 2)
u32 slot_key[SLOTS];
u64 slot_value[SLOTS];
u8 slot_used[SLOTS];

static u32 hash(u32 key) { return (key * 2654435761u) >> 19; } /* 13 bits: SLOTS = 8192 */

static void put(u32 key, u64 value) {
  u32 i = hash(key);
  while (slot_used[i] && slot_key[i] != key) i = (i + 1) & (SLOTS - 1);
  slot_used[i] = 1, slot_key[i] = key, slot_value[i] = value;
}

static u64 *get(u32 key) {
  for (u32 i = hash(key);; i = (i + 1) & (SLOTS - 1)) {
    if (!slot_used[i]) return 0;
    if (slot_key[i] == key) return &slot_value[i];
  }
}
#endif

KERNEL(kernel_init) {
  for (u32 i = 0; i < ENTRIES; i++) put(i * 7919u, i * 3 + 1);
  return 0;
}

KERNEL(kernel_run) {
  u64 sum = 0;
  u32 x = 1;
  for (u32 i = 0; i < LOOKUPS; i++) {
    x = x * 1103515245u + 12345u;
    u32 k = (x >> 8) % (ENTRIES * 4 / 3);
    u64 *v = get(k * 7919u);
    sum += v ? *v : 1;
  }
  return sum;
}
