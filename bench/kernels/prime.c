/* Prime counting by trial division (uBPF's classic benchmark): division-bound, no memory. */
#include "kernel.h"

u32 prime_limit;

KERNEL(kernel_init) {
  prime_limit = 30000;
  return 0;
}

KERNEL(kernel_run) {
  u64 count = 0;
  for (u32 n = 2; n < prime_limit; n++) {
    u32 prime = 1;
    for (u32 d = 2; d * d <= n; d++) {
      if (n % d == 0) {
        prime = 0;
        break;
      }
    }
    count += prime;
  }
  return count;
}
