/*
 * Ground truth for differential tests: loads raw eBPF programs into the running kernel as socket
 * filters and runs them once with BPF_PROG_TEST_RUN. Reads one program per line on stdin (hex bytes,
 * 8 per instruction) and prints one line per program:
 *   ok <retval>           the kernel accepted and ran it (retval = low 32 bits of r0)
 *   rejected <message>    the verifier refused it (last non-empty line of its log)
 *   error <message>       bpf() itself failed (e.g. EPERM without privileges)
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char line[1 << 20];
static unsigned char code[1 << 18];
static char log_buf[1 << 16];

static void last_line(char *text) {
  size_t n = strlen(text);
  while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' ')) text[--n] = 0;
  char *start = strrchr(text, '\n');
  printf("%s\n", start ? start + 1 : text);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  while (fgets(line, sizeof line, stdin)) {
    size_t len = 0;
    for (char *p = line; *p && len < sizeof code;) {
      char *end;
      unsigned long byte = strtoul(p, &end, 16);
      if (end == p) break;
      code[len++] = (unsigned char)byte;
      p = end;
    }
    if (len == 0 || len % 8 != 0) {
      printf("error malformed input line\n");
      continue;
    }
    log_buf[0] = 0;
    LIBBPF_OPTS(bpf_prog_load_opts, load, .log_buf = log_buf, .log_size = sizeof log_buf, .log_level = 1);
    int fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "bpfbox_diff", "GPL", (const struct bpf_insn *)code,
                           len / 8, &load);
    if (fd < 0) {
      if (errno == EPERM || errno == ENOSYS) {
        printf("error bpf: %s\n", strerror(errno));
      } else {
        printf("rejected ");
        last_line(log_buf[0] ? log_buf : strerror(errno));
      }
      continue;
    }
    unsigned char packet[64] = {0};
    LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = packet, .data_size_in = sizeof packet, .repeat = 1);
    if (bpf_prog_test_run_opts(fd, &run) != 0) printf("error test_run: %s\n", strerror(errno));
    else printf("ok %u\n", run.retval);
    close(fd);
  }
  return 0;
}
