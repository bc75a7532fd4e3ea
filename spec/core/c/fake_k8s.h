/*
 * fake_k8s.h -- helpers for the C tests of http.c and k8s.c: make a
 * temporary directory, generate the TLS material in it with
 * spec/fixtures/k8s/gencerts.sh, start spec/fixtures/k8s/fake_apiserver.py
 * and read the port it prints; stop it and remove the directory. Header-only
 * (static functions) so that each test program stays one file.
 */
#ifndef FAKE_K8S_H
#define FAKE_K8S_H

#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

struct fake {
  pid_t pid;
  int port;
  char dir[256];
  char base[256];           /* https://127.0.0.1:PORT or http://... */
};

static int fails;
#define CHECK(cond, ...) do { \
    if (!(cond)) { fails++; fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
      fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } \
  } while (0)

static char fake_tmp[256];

/* Make the temporary directory and the certificates once per program. */
static const char *fake_certs(const char *root) {
  char cmd[1024];
  if (fake_tmp[0]) return fake_tmp;
  snprintf(fake_tmp, sizeof fake_tmp, "/tmp/eidos-k8s-test-XXXXXX");
  if (!mkdtemp(fake_tmp)) { perror("mkdtemp"); exit(1); }
  snprintf(cmd, sizeof cmd, "sh '%s/spec/fixtures/k8s/gencerts.sh' '%s'", root, fake_tmp);
  if (system(cmd) != 0) { fprintf(stderr, "gencerts.sh failed\n"); exit(1); }
  return fake_tmp;
}

static void fake_cleanup_tmp(void) {
  char cmd[512];
  if (!fake_tmp[0]) return;
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", fake_tmp);
  if (system(cmd) != 0) fprintf(stderr, "warning: could not remove %s\n", fake_tmp);
}

/* Are python3 and openssl there? Otherwise the test is skipped. */
static int fake_available(void) {
  return system("command -v python3 >/dev/null 2>&1 && command -v openssl >/dev/null 2>&1") == 0;
}

/* Start the server; extra is a NULL-terminated list of more arguments. */
static int fake_start(struct fake *f, const char *root, int plain, const char *const *extra) {
  const char *argv[64];
  char script[512], cert[512], key[512], ca[512], line[64];
  int n = 0, p[2];
  FILE *in;
  posix_spawn_file_actions_t fa;
  const char *dir = fake_certs(root);
  snprintf(script, sizeof script, "%s/spec/fixtures/k8s/fake_apiserver.py", root);
  snprintf(cert, sizeof cert, "%s/server.crt", dir);
  snprintf(key, sizeof key, "%s/server.key", dir);
  snprintf(ca, sizeof ca, "%s/ca.crt", dir);
  argv[n++] = "python3"; argv[n++] = script;
  if (plain) argv[n++] = "--plain";
  else {
    argv[n++] = "--cert"; argv[n++] = cert; argv[n++] = "--key"; argv[n++] = key;
    argv[n++] = "--client-ca"; argv[n++] = ca;
  }
  while (extra && *extra && n < 62) argv[n++] = *extra++;
  argv[n] = NULL;
  if (pipe(p) != 0) return -1;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, p[1], 1);
  posix_spawn_file_actions_addclose(&fa, p[0]);
  if (posix_spawnp(&f->pid, "python3", &fa, NULL, (char *const *)argv, environ) != 0) {
    posix_spawn_file_actions_destroy(&fa);
    return -1;
  }
  posix_spawn_file_actions_destroy(&fa);
  close(p[1]);
  in = fdopen(p[0], "r");
  if (!in || !fgets(line, sizeof line, in)) {
    fprintf(stderr, "fake_apiserver.py did not start\n");
    return -1;
  }
  fclose(in);
  f->port = atoi(line);
  snprintf(f->dir, sizeof f->dir, "%s", dir);
  snprintf(f->base, sizeof f->base, "%s://127.0.0.1:%d", plain ? "http" : "https", f->port);
  return 0;
}

static void fake_stop(struct fake *f) {
  int st;
  if (f->pid > 0) {
    kill(f->pid, SIGTERM);
    waitpid(f->pid, &st, 0);
    f->pid = 0;
  }
}

static char *slurp(const char *path, size_t *len) {
  FILE *fp = fopen(path, "rb");
  char *b;
  long n;
  if (!fp) return NULL;
  fseek(fp, 0, SEEK_END);
  n = ftell(fp);
  fseek(fp, 0, SEEK_SET);
  b = malloc((size_t)n + 1);
  if (b && fread(b, 1, (size_t)n, fp) != (size_t)n) { free(b); b = NULL; }
  if (b) b[n] = '\0';
  if (len) *len = (size_t)n;
  fclose(fp);
  return b;
}

static void write_file(const char *path, const char *text) {
  FILE *fp = fopen(path, "wb");
  if (!fp) { perror(path); exit(1); }
  fputs(text, fp);
  fclose(fp);
}

#endif
