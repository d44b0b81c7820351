// A contract that attacks its host: it reads memory it was never given and loops forever. The host
// stops it with a MemoryFault or an OutOfGas / InstructionLimit trap and carries on. Build:
//   clang-19 -target bpf -O2 -g -c malicious.c -o malicious.o

typedef unsigned long long u64;

#define SEC(name) __attribute__((section(name), used))

extern long set(const void *key, unsigned key_len, const void *value, unsigned value_len);

const char greeting[] = "hello";

// Reads 8 bytes at any address the caller names: outside the contract's regions it faults.
SEC("contract") long peek(u64 address) {
  return *(volatile u64 *)address;
}

// Writes over its own read-only data (a string literal): the region is read-only, so it faults.
SEC("contract") long scribble(void) {
  *(volatile char *)greeting = 'j';
  return 0;
}

// Never returns: gas or the instruction budget stops it.
SEC("contract") long spin(void) {
  volatile u64 i = 0;
  for (;;) i++;
  return 0;
}

// Calls the host in an endless loop: host-call costs use the gas up.
SEC("contract") long flood(void) {
  u64 i = 0;
  for (;;) {
    set(&i, sizeof(i), &i, sizeof(i));
    i++;
  }
  return 0;
}
