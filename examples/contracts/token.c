// A token contract. Balances live in host storage, reached through two host functions that the host
// defines by name (`get`, `set`): the contract only computes and checks. Build:
//   clang-19 -target bpf -O2 -g -c token.c -o token.o
// Every entry returns 0 or a negative TOKEN_E* code; amounts are unsigned 64-bit.

typedef unsigned long long u64;
typedef unsigned int u32;

#define SEC(name) __attribute__((section(name), used))

// Host functions (imports, resolved by name): copy the value stored under the key into `value` and
// return its length, or -1 when the key has no value; store `value` under the key.
extern long get(const void *key, u32 key_len, void *value, u32 value_len);
extern long set(const void *key, u32 key_len, const void *value, u32 value_len);

enum {
  TOKEN_OK = 0,
  TOKEN_EBALANCE = -1,  // the sender has less than the amount
  TOKEN_EOVERFLOW = -2, // the receiver's balance or the supply would pass 2^64 - 1
  TOKEN_ESELF = -3,     // sender and receiver are the same account
  TOKEN_EOWNER = -4,    // only the owner may mint
  TOKEN_ESTORAGE = -5,  // the host refused to store a value
};

// Set by the host before loading (Module.fromElf's `globals` option): the only account that mints.
const volatile u64 owner = 0;

// Read-only data the host can read back (Instance.memory.readString).
const char token_name[] = "bpfbox token";

// Read-write data: calls since the instance was created or reset.
u64 calls;

struct key {
  char tag[8]; // "balance\0" or "supply\0\0"
  u64 account;
};

static __attribute__((noinline)) u64 load(const struct key *k) {
  u64 value = 0;
  if (get(k, sizeof(*k), &value, sizeof(value)) != sizeof(value)) return 0;
  return value;
}

static __attribute__((noinline)) long store(const struct key *k, u64 value) {
  return set(k, sizeof(*k), &value, sizeof(value)) < 0 ? TOKEN_ESTORAGE : TOKEN_OK;
}

static void balance_key(struct key *k, u64 account) {
  __builtin_memcpy(k->tag, "balance", 8);
  k->account = account;
}

SEC("contract") long balance_of(u64 account) {
  struct key k;
  calls++;
  balance_key(&k, account);
  return load(&k);
}

SEC("contract") long transfer(u64 from, u64 to, u64 amount) {
  struct key kf, kt;
  calls++;
  if (from == to) return TOKEN_ESELF;
  balance_key(&kf, from);
  balance_key(&kt, to);
  u64 have = load(&kf);
  if (have < amount) return TOKEN_EBALANCE;
  u64 theirs = load(&kt);
  if (theirs + amount < theirs) return TOKEN_EOVERFLOW;
  long err = store(&kf, have - amount);
  if (err) return err;
  return store(&kt, theirs + amount);
}

SEC("contract") long mint(u64 caller, u64 to, u64 amount) {
  struct key kt, ks;
  calls++;
  if (caller != owner) return TOKEN_EOWNER;
  balance_key(&kt, to);
  __builtin_memcpy(ks.tag, "supply\0", 8);
  ks.account = 0;
  u64 supply = load(&ks);
  u64 theirs = load(&kt);
  if (supply + amount < supply || theirs + amount < theirs) return TOKEN_EOVERFLOW;
  long err = store(&ks, supply + amount);
  if (err) return err;
  return store(&kt, theirs + amount);
}

// Address of the token's name in read-only data (the host reads it with memory.readString).
SEC("contract") const char *name(void) {
  return token_name;
}
