/**
 * LPM_TRIE (kernel/bpf/lpm_trie.c semantics). Keys are `struct bpf_lpm_trie_key { u32 prefixlen;
 * u8 data[]; }` (prefixlen in host order, data in network order, most significant bit first). A lookup
 * returns the value of the longest stored prefix that matches the first `prefixlen` bits of the key;
 * update/delete address the exact prefix. Values live in guest memory.
 *
 * The trie here is an uncompressed binary trie (one node per bit) — simpler than the kernel's path-
 * compressed one, with the same results, including get_next_key's post-order (more specific prefixes
 * before the prefixes that contain them).
 */
import type { Arena } from './arena.js';
import { BPF_EXIST, BPF_F_NO_PREALLOC, BPF_NOEXIST, EEXIST, EINVAL, ENOENT, ENOSPC } from './constants.js';
import { BpfMap, type MapEnv, requireDef, u32At } from './map.js';
import type { MapDefinition } from './map-def.js';
import { ALL_CPUS, SlotPool, ValueStore } from './value-store.js';

/** The kernel's LPM_DATA_SIZE_MAX and LPM_VAL_SIZE_MAX. */
const DATA_SIZE_MAX = 256;
const VALUE_SIZE_MAX = 0xffffffff - 64 - 4 - 256;

interface TrieNode {
  readonly child: [TrieNode | undefined, TrieNode | undefined];
  readonly parent: TrieNode | undefined;
  /** Value slot, or -1 for a node that only leads to longer prefixes. */
  slot: number;
}

const newNode = (parent: TrieNode | undefined): TrieNode => ({
  child: [undefined, undefined],
  parent,
  slot: -1,
});

export class LpmTrie extends BpfMap {
  readonly maxPrefixLen: number;
  private readonly root = newNode(undefined);
  private readonly pool: SlotPool;
  private readonly values: ValueStore;
  /** Key bytes as last written, per slot (get_next_key returns them). */
  private readonly keyBytes: Uint8Array;

  static storageBytes(def: MapDefinition): number {
    return ValueStore.bytes(def.maxEntries, def.valueSize, 1);
  }

  constructor(def: MapDefinition, env: MapEnv, arena: Arena) {
    super(def, env);
    requireDef(def, def.keySize > 4 && def.keySize <= 4 + DATA_SIZE_MAX, 'LPM key_size must be 5..260');
    requireDef(def, def.valueSize > 0 && def.valueSize <= VALUE_SIZE_MAX, 'value_size must be positive');
    requireDef(def, Number.isInteger(def.maxEntries) && def.maxEntries > 0, 'max_entries must be positive');
    requireDef(
      def,
      (def.flags & BPF_F_NO_PREALLOC) !== 0,
      'LPM tries must be created with BPF_F_NO_PREALLOC',
    );
    this.maxPrefixLen = (def.keySize - 4) * 8;
    this.pool = new SlotPool(def.maxEntries);
    this.values = new ValueStore(env.memory, arena, def.maxEntries, def.valueSize, 1);
    this.keyBytes = new Uint8Array(def.maxEntries * def.keySize);
  }

  get size(): number {
    return this.pool.used;
  }

  private static bit(key: Uint8Array, keyOff: number, i: number): 0 | 1 {
    return ((key[keyOff + 4 + (i >> 3)] >> (7 - (i & 7))) & 1) as 0 | 1;
  }

  /** The node of exactly this prefix, creating the path when `create`. */
  private walk(key: Uint8Array, keyOff: number, prefixLen: number, create: boolean): TrieNode | undefined {
    let node = this.root;
    for (let i = 0; i < prefixLen; i++) {
      const b = LpmTrie.bit(key, keyOff, i);
      let next = node.child[b];
      if (next === undefined) {
        if (!create) return undefined;
        next = newNode(node);
        node.child[b] = next;
      }
      node = next;
    }
    return node;
  }

  /** Removes nodes that hold no value and lead nowhere, from `node` up. */
  private prune(node: TrieNode): void {
    let n: TrieNode | undefined = node;
    while (n?.parent && n.slot < 0 && n.child[0] === undefined && n.child[1] === undefined) {
      const p: TrieNode = n.parent;
      p.child[p.child[0] === n ? 0 : 1] = undefined;
      n = p;
    }
  }

  /** Slot of the longest stored prefix matching the key, or -1 (also for a prefixlen too long, as the kernel). */
  private longestMatch(key: Uint8Array, keyOff: number): number {
    const limit = u32At(key, keyOff);
    if (limit > this.maxPrefixLen) return -1;
    let node: TrieNode | undefined = this.root;
    let best = this.root.slot;
    for (let i = 0; i < limit && node; i++) {
      node = node.child[LpmTrie.bit(key, keyOff, i)];
      if (node && node.slot >= 0) best = node.slot;
    }
    return best;
  }

  override lookupElem(key: Uint8Array, keyOff: number): number {
    const slot = this.longestMatch(key, keyOff);
    return slot < 0 ? 0 : this.values.address(slot, 0);
  }

  override updateElem(
    key: Uint8Array,
    keyOff: number,
    value: Uint8Array,
    valueOff: number,
    flags: number,
  ): number {
    if (flags < 0 || flags > BPF_EXIST) return -EINVAL;
    const prefixLen = u32At(key, keyOff);
    if (prefixLen > this.maxPrefixLen) return -EINVAL;
    const existing = this.walk(key, keyOff, prefixLen, false);
    let slot = existing ? existing.slot : -1;
    if (slot >= 0 && flags === BPF_NOEXIST) return -EEXIST;
    if (slot < 0) {
      if (flags === BPF_EXIST) return -ENOENT;
      slot = this.pool.take();
      if (slot < 0) return -ENOSPC;
      const node = this.walk(key, keyOff, prefixLen, true) as TrieNode;
      node.slot = slot;
    }
    const ks = this.def.keySize;
    this.keyBytes.set(key.subarray(keyOff, keyOff + ks), slot * ks);
    this.values.write(slot, ALL_CPUS, value, valueOff);
    return 0;
  }

  override deleteElem(key: Uint8Array, keyOff: number): number {
    const prefixLen = u32At(key, keyOff);
    if (prefixLen > this.maxPrefixLen) return -EINVAL;
    const node = this.walk(key, keyOff, prefixLen, false);
    if (!node || node.slot < 0) return -ENOENT;
    this.pool.give(node.slot);
    node.slot = -1;
    this.prune(node);
    return 0;
  }

  /** Value slots in post-order: children (0 before 1) before their parent. */
  private postOrder(): number[] {
    const out: number[] = [];
    const visit = (n: TrieNode): void => {
      if (n.child[0]) visit(n.child[0]);
      if (n.child[1]) visit(n.child[1]);
      if (n.slot >= 0) out.push(n.slot);
    };
    visit(this.root);
    return out;
  }

  private key(slot: number): Uint8Array {
    const ks = this.def.keySize;
    return this.keyBytes.slice(slot * ks, slot * ks + ks);
  }

  // ------------------------------------------------------------------ host side
  /** Longest-prefix match, like a program lookup. */
  lookup(key: Uint8Array): Uint8Array | undefined {
    this.checkKey(key);
    const slot = this.longestMatch(key, 0);
    return slot < 0 ? undefined : this.values.read(slot, 0);
  }

  update(key: Uint8Array, value: Uint8Array, flags = 0): number {
    this.checkKey(key);
    this.checkSize('value', value, this.def.valueSize);
    return this.updateElem(key, 0, value, 0, flags);
  }

  delete(key: Uint8Array): number {
    this.checkKey(key);
    return this.deleteElem(key, 0);
  }

  /** The next key in post-order; the first for null, a malformed or an absent key. */
  nextKey(key: Uint8Array | null): Uint8Array | undefined {
    if (key !== null) this.checkKey(key);
    const order = this.postOrder();
    let at = -1;
    if (key !== null && u32At(key, 0) <= this.maxPrefixLen) {
      const node = this.walk(key, 0, u32At(key, 0), false);
      if (node && node.slot >= 0) at = order.indexOf(node.slot);
    }
    const next = order[at + 1];
    return next === undefined ? undefined : this.key(next);
  }

  override keys(): Uint8Array[] {
    return this.postOrder().map((s) => this.key(s));
  }

  /** Exact-prefix value (host convenience: the kernel's lookup is longest-match only). */
  lookupExact(key: Uint8Array): Uint8Array | undefined {
    this.checkKey(key);
    const prefixLen = u32At(key, 0);
    const node = prefixLen <= this.maxPrefixLen ? this.walk(key, 0, prefixLen, false) : undefined;
    return node && node.slot >= 0 ? this.values.read(node.slot, 0) : undefined;
  }

  protected override hostValue(key: Uint8Array): Uint8Array | undefined {
    return this.lookupExact(key);
  }
}
