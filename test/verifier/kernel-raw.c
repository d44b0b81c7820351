/*
 * Kernel verdicts for raw programs of a given type: reads "<prog_type> <hex bytes>" per line on stdin
 * (prog_type as the kernel's enum bpf_prog_type number) and prints one line per program. Two maps exist
 * for the programs: lddw map_fd 0 is an array (key 4, value 16, 4 entries), map_fd 1 a 4 KiB ring
 * buffer (the imm is replaced by the real fd).
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
  int fds[2];
  fds[0] = bpf_map_create(BPF_MAP_TYPE_ARRAY, "values", 4, 16, 4, NULL);
  fds[1] = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "events", 0, 0, 4096, NULL);
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
    struct bpf_insn *insns = (struct bpf_insn *)code;
    for (size_t i = 0; i + 1 < len / 8; i++) {
      if (insns[i].code == (BPF_LD | BPF_IMM | BPF_DW) && insns[i].src_reg == BPF_PSEUDO_MAP_FD) {
        int n = insns[i].imm;
        insns[i].imm = n >= 0 && n < 2 ? fds[n] : -1;
        i++;
      }
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
