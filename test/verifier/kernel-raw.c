/*
 * Kernel verdicts for raw programs of a given type: reads "<prog_type> <hex bytes>" per line on stdin
 * (prog_type as the kernel's enum bpf_prog_type number) and prints one line per program:
 *   accepted | rejected <last line of the verifier log> | error <message>
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
static char log_buf[1 << 20];

static void last_line(char *text) {
  size_t n = strlen(text);
  while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' ')) text[--n] = 0;
  char *start = strrchr(text, '\n');
  if (start && strncmp(start + 1, "processed ", 10) == 0) {
    *start = 0;
    char *prev = strrchr(text, '\n');
    printf("%s\n", prev ? prev + 1 : text);
    return;
  }
  printf("%s\n", start ? start + 1 : text);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  while (fgets(line, sizeof line, stdin)) {
    char *p = line;
    int type = (int)strtol(p, &p, 10);
    size_t len = 0;
    while (*p && len < sizeof code) {
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
    LIBBPF_OPTS(bpf_prog_load_opts, opts, .log_buf = log_buf, .log_size = sizeof log_buf, .log_level = 1);
    int fd = bpf_prog_load(type, "bpfbox_verify", "GPL", (const struct bpf_insn *)code, len / 8, &opts);
    if (fd >= 0) {
      printf("accepted\n");
      close(fd);
    } else if (errno == EPERM || errno == ENOSYS) {
      printf("error bpf: %s\n", strerror(errno));
    } else {
      printf("rejected ");
      last_line(log_buf[0] ? log_buf : strerror(errno));
    }
  }
  return 0;
}
