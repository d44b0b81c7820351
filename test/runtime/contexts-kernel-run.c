/*
 * Ground truth for the context tests: loads one raw program per input line into the running kernel
 * with the given type and runs it once with BPF_PROG_TEST_RUN on a packet (and an optional context).
 * Input lines:  <prog_type> <code hex> <packet hex> <ctx hex or ->
 * Output lines: ok <retval> <data_out hex> <ctx_out hex or ->
 *               rejected <last verifier log line> | error <message>
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char line[1 << 20];
static unsigned char code[1 << 17], packet[1 << 16], ctx[1 << 12], out[1 << 16], ctx_out[1 << 12];
static char log_buf[1 << 16];

static size_t unhex(const char *text, unsigned char *to, size_t cap) {
  size_t n = 0;
  if (strcmp(text, "-") == 0) return 0;
  for (; text[0] && text[1] && n < cap; text += 2) {
    char byte[3] = {text[0], text[1], 0};
    to[n++] = (unsigned char)strtoul(byte, NULL, 16);
  }
  return n;
}

static void print_hex(const unsigned char *bytes, size_t n) {
  if (n == 0) printf("-");
  for (size_t i = 0; i < n; i++) printf("%02x", bytes[i]);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  while (fgets(line, sizeof line, stdin)) {
    char *type_s = strtok(line, " \n"), *code_s = strtok(NULL, " \n"), *pkt_s = strtok(NULL, " \n"),
         *ctx_s = strtok(NULL, " \n");
    if (!type_s || !code_s || !pkt_s || !ctx_s) {
      printf("error malformed input line\n");
      continue;
    }
    size_t code_len = unhex(code_s, code, sizeof code), pkt_len = unhex(pkt_s, packet, sizeof packet);
    size_t ctx_len = unhex(ctx_s, ctx, sizeof ctx);
    log_buf[0] = 0;
    LIBBPF_OPTS(bpf_prog_load_opts, load, .log_buf = log_buf, .log_size = sizeof log_buf, .log_level = 1);
    int fd = bpf_prog_load(atoi(type_s), "bpfbox_ctx", "GPL", (const struct bpf_insn *)code, code_len / 8, &load);
    if (fd < 0) {
      if (errno == EPERM || errno == ENOSYS) {
        printf("error bpf: %s\n", strerror(errno));
        continue;
      }
      size_t n = strlen(log_buf);
      while (n > 0 && (log_buf[n - 1] == '\n' || log_buf[n - 1] == ' ')) log_buf[--n] = 0;
      char *last = strrchr(log_buf, '\n');
      printf("rejected %s\n", log_buf[0] ? (last ? last + 1 : log_buf) : strerror(errno));
      continue;
    }
    LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = packet, .data_size_in = pkt_len, .data_out = out,
                .data_size_out = sizeof out, .ctx_in = ctx_len ? ctx : NULL, .ctx_size_in = ctx_len,
                .ctx_out = ctx_len ? ctx_out : NULL, .ctx_size_out = ctx_len ? sizeof ctx_out : 0, .repeat = 1);
    if (bpf_prog_test_run_opts(fd, &run) != 0) {
      printf("error test_run: %s\n", strerror(errno));
    } else {
      printf("ok %u ", run.retval);
      print_hex(out, run.data_size_out);
      printf(" ");
      print_hex(ctx_out, ctx_len ? run.ctx_size_out : 0);
      printf("\n");
    }
    close(fd);
  }
  return 0;
}
