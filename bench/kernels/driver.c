/*
 * Native timing driver: links with one kernel, runs kernel_init once, kernel_run `warmup` times,
 * then timed runs — at least `repeats`, and on until they took `min_ns` in all — and prints
 * {"result":"0x…","median_ns":…,"min_ns":…,"times":[…]}; timed inside the process so no process
 * start-up is counted.
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
  long long min_ns = argc > 3 ? atoll(argv[3]) : 0;
  if (repeats < 1) repeats = 1;
  int capacity = repeats;
  long long *times = malloc(sizeof *times * capacity);
  if (!times) return 1;
  kernel_init(0);
  unsigned long long result = 0;
  for (int k = 0; k < warmup; k++) result = kernel_run(0);
  int n = 0;
  long long spent = 0;
  while (n < repeats || spent < min_ns) {
    if (n == capacity) {
      capacity *= 2;
      long long *more = realloc(times, sizeof *times * capacity);
      if (!more) return 1;
      times = more;
    }
    long long t0 = now_ns();
    result = kernel_run(0);
    times[n] = now_ns() - t0;
    spent += times[n++];
  }
  printf("{\"result\":\"0x%llx\",\"times\":[", result);
  for (int k = 0; k < n; k++) printf(k ? ",%lld" : "%lld", times[k]);
  qsort(times, n, sizeof *times, by_value);
  printf("],\"median_ns\":%lld,\"min_ns\":%lld}\n", times[n / 2], times[0]);
  free(times);
  return 0;
}
