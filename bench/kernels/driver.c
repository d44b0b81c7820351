/*
 * Native timing driver: links with one kernel, runs kernel_init once, kernel_run `warmup` + `repeats`
 * times and prints {"result":"0x…","median_ns":…,"min_ns":…}; timed inside the process so no
 * process start-up is counted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

unsigned long long kernel_init(void *ctx);
unsigned long long kernel_run(void *ctx);

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int by_value(const void *a, const void *b) {
  long long x = *(const long long *)a, y = *(const long long *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  int warmup = argc > 1 ? atoi(argv[1]) : 3;
  int repeats = argc > 2 ? atoi(argv[2]) : 15;
  if (repeats < 1) repeats = 1;
  long long *times = malloc(sizeof *times * repeats);
  kernel_init(0);
  unsigned long long result = 0;
  for (int k = 0; k < warmup; k++) result = kernel_run(0);
  for (int k = 0; k < repeats; k++) {
    long long t0 = now_ns();
    result = kernel_run(0);
    times[k] = now_ns() - t0;
  }
  qsort(times, repeats, sizeof *times, by_value);
  printf("{\"result\":\"0x%llx\",\"median_ns\":%lld,\"min_ns\":%lld}\n", result, times[repeats / 2], times[0]);
  free(times);
  return 0;
}
