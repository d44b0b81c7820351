/*
 * Ground truth for the verifier corpus: loads each object file given on the command line with libbpf
 * (maps created, programs verified by the running kernel) and prints one line per object:
 *   accepted
 *   rejected <last non-empty line of the verifier log>
 *   error <message>            bpf() itself is unusable (EPERM, ENOSYS) or the object did not open
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static char log_buf[1 << 22];

static int quiet(enum libbpf_print_level level, const char *fmt, va_list args) {
  (void)level;
  (void)fmt;
  (void)args;
  return 0;
}

static void last_line(char *text) {
  size_t n = strlen(text);
  while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' ')) text[--n] = 0;
  char *start = strrchr(text, '\n');
  /* The kernel ends with "processed N insns ..." after an error; show the error line before it. */
  if (start && strncmp(start + 1, "processed ", 10) == 0) {
    *start = 0;
    char *prev = strrchr(text, '\n');
    printf("%s\n", prev ? prev + 1 : text);
    return;
  }
  printf("%s\n", start ? start + 1 : text);
}

int main(int argc, char **argv) {
  libbpf_set_print(quiet);
  setvbuf(stdout, NULL, _IOLBF, 0);
  for (int i = 1; i < argc; i++) {
    struct bpf_object *obj = bpf_object__open_file(argv[i], NULL);
    if (!obj) {
      printf("error open: %s\n", strerror(errno));
      continue;
    }
    struct bpf_program *prog;
    bpf_object__for_each_program(prog, obj) {
      log_buf[0] = 0;
      bpf_program__set_log_buf(prog, log_buf, sizeof log_buf);
      bpf_program__set_log_level(prog, 1);
    }
    int err = bpf_object__load(obj);
    if (err == 0) {
      printf("accepted\n");
    } else if (err == -EPERM || err == -ENOSYS) {
      printf("error bpf: %s\n", strerror(-err));
    } else if (log_buf[0]) {
      printf("rejected ");
      last_line(log_buf);
    } else {
      printf("error load: %s\n", strerror(-err));
    }
    bpf_object__close(obj);
  }
  return 0;
}
