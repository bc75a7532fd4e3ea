/*
 * test_proc.c -- process spawning alone (src/core/proc.h): exit status and
 * signals, stdout capture and its cap, the kept stderr tail, the deadline
 * (also for a program that closed its pipes), the kill of the whole
 * process group, PATH lookup and environment overrides, stdin from
 * /dev/null or data, the on_child protocol (told the group, then told to
 * forget it while the program is still unreaped), and eidos_proc_call's
 * judgement of an outcome. Timing checks assert
 * generous upper bounds only. Prints failures; exit status 1 if any.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "../../../src/core/eidos.h"
#include "../../../src/core/proc.h"
#include "../../../src/core/sys.h"

static int failures;
#define CHECK(c, ...) do { if (!(c)) { failures++; printf("FAIL %s:%d: ", __FILE__, __LINE__); \
  printf(__VA_ARGS__); printf("\n"); } } while (0)

static char ERR[2048];

static int run_sh(struct eidos_proc *p, const char *script) {
  static const char *argv[4];
  argv[0] = "/bin/sh";
  argv[1] = "-c";
  argv[2] = script;
  argv[3] = NULL;
  p->argv = argv;
  ERR[0] = '\0';
  return eidos_proc_run(p, ERR, sizeof ERR);
}

/* is pid gone (or a zombie waiting for init)? */
static int gone(long pid) {
  char path[64], buf[512];
  FILE *f;
  const char *r;
  snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  if (!(f = fopen(path, "r"))) return 1;
  r = fgets(buf, sizeof buf, f);
  fclose(f);
  r = r ? strrchr(buf, ')') : NULL;
  return r && (r[2] == 'Z' || r[2] == 'X');
}

static int wait_gone(long pid) {
  long long until = eidos_sys_now_ms() + 5000;
  while (!gone(pid) && eidos_sys_now_ms() < until) eidos_sys_sleep_ms(10);
  return gone(pid);
}

static void test_status(void) {
  struct eidos_proc p;
  char how[64];
  int rc;

  memset(&p, 0, sizeof p);
  rc = run_sh(&p, "echo out; echo err >&2; exit 3");
  CHECK(rc == 0, "ran: %s", ERR);
  CHECK(!eidos_proc_describe(p.status, how, sizeof how) && !strcmp(how, "exited with status 3"),
        "status 3: %s", how);
  CHECK(!strcmp(p.out, "out\n") && p.out_len == 4, "stdout: [%s]", p.out);
  CHECK(!strcmp(p.err, "err"), "stderr, trailing newline trimmed: [%s]", p.err);
  CHECK(!strncmp(p.exe, "/bin/sh", 7), "exe %s", p.exe);
  eidos_proc_free(&p);

  memset(&p, 0, sizeof p);
  rc = run_sh(&p, "kill -TERM $$; sleep 5");
  CHECK(rc == 0 && !eidos_proc_describe(p.status, how, sizeof how) &&
        !strcmp(how, "was killed by signal 15"), "signal: %d %s %s", rc, how, ERR);
  eidos_proc_free(&p);

  memset(&p, 0, sizeof p);
  rc = run_sh(&p, "cat; echo done");
  CHECK(rc == 0 && eidos_proc_describe(p.status, how, sizeof how) && !strcmp(p.out, "done\n"),
        "stdin is /dev/null: %d [%s] %s", rc, p.out, ERR);
  eidos_proc_free(&p);
}

static void test_output(void) {
  struct eidos_proc p;
  long long t0;
  int rc;

  /* large output within the cap, binary bytes included */
  memset(&p, 0, sizeof p);
  p.max_out = 8u << 20;
  rc = run_sh(&p, "head -c 5000000 /dev/zero");
  CHECK(rc == 0 && p.out_len == 5000000 && p.out[0] == 0 && p.out[4999999] == 0 &&
        p.out[5000000] == 0, "5 MB of NUL bytes: %d %zu %s", rc, p.out_len, ERR);
  eidos_proc_free(&p);

  /* endless output: killed at the cap, at once */
  memset(&p, 0, sizeof p);
  p.max_out = 4096;
  p.deadline_ms = eidos_sys_now_ms() + 60000;
  t0 = eidos_sys_now_ms();
  rc = run_sh(&p, "yes");
  CHECK(rc == EIDOS_EFAIL && p.killed == 2 && strstr(ERR, "more than 4096 bytes"),
        "stdout cap: %d %d %s", rc, p.killed, ERR);
  CHECK(eidos_sys_now_ms() - t0 < 30000, "the cap does not wait for the deadline (%lld ms)",
        eidos_sys_now_ms() - t0);
  eidos_proc_free(&p);

  /* stderr: the tail is kept */
  memset(&p, 0, sizeof p);
  p.max_err = 9;
  rc = run_sh(&p, "i=0; while [ $i -lt 500 ]; do printf 'line %d\\n' $i >&2; i=$((i+1)); done; "
                  "printf 'LAST-ONE\\n' >&2");
  CHECK(rc == 0 && p.err_len == 8 && !strcmp(p.err, "LAST-ONE"), "stderr tail: [%s]", p.err);
  eidos_proc_free(&p);
}

static void test_deadline(void) {
  struct eidos_proc p;
  char out[64];
  long long t0;
  long kid = 0;
  int rc;

  /* a program and a child it started, both holding the pipes */
  memset(&p, 0, sizeof p);
  t0 = eidos_sys_now_ms();
  p.deadline_ms = t0 + 300;
  rc = run_sh(&p, "sleep 1000 & echo $!; echo about to hang >&2; exec sleep 1000");
  CHECK(rc == EIDOS_ETIMEOUT && p.killed == 1 && strstr(ERR, "about to hang"),
        "deadline: %d %s", rc, ERR);
  CHECK(eidos_sys_now_ms() - t0 < 5000, "killed promptly (%lld ms)", eidos_sys_now_ms() - t0);
  snprintf(out, sizeof out, "%s", p.out ? p.out : "");
  kid = atol(out);
  CHECK(kid > 0, "the background child's pid was read: [%s]", out);
  if (kid > 0) CHECK(wait_gone(kid), "the whole group is killed: child %ld still runs", kid);
  eidos_proc_free(&p);

  /* a program that closed its pipes and keeps running */
  memset(&p, 0, sizeof p);
  t0 = eidos_sys_now_ms();
  p.deadline_ms = t0 + 300;
  rc = run_sh(&p, "exec >/dev/null 2>&1; sleep 1000");
  CHECK(rc == EIDOS_ETIMEOUT, "deadline after the pipes closed: %d %s", rc, ERR);
  CHECK(eidos_sys_now_ms() - t0 < 5000, "killed promptly (%lld ms)", eidos_sys_now_ms() - t0);
  eidos_proc_free(&p);

  /* the leader exits, its child keeps the pipes: the group is killed */
  memset(&p, 0, sizeof p);
  p.deadline_ms = eidos_sys_now_ms() + 300;
  rc = run_sh(&p, "sleep 1000 & echo $!");
  kid = p.out ? atol(p.out) : 0;
  CHECK(rc == EIDOS_ETIMEOUT && kid > 0 && wait_gone(kid),
        "the orphaned child of the group is killed: %d %ld %s", rc, kid, ERR);
  eidos_proc_free(&p);
}

static struct { int calls, pgid[4]; int unreaped_at_forget; } seen;

static void on_child(void *ud, int pgid) {
  if (seen.calls < 4) seen.pgid[seen.calls] = pgid;
  seen.calls++;
  if (pgid == 0 && seen.pgid[0] > 0) {
    char path[64];
    struct stat st;
    snprintf(path, sizeof path, "/proc/%d", seen.pgid[0]);
    seen.unreaped_at_forget = stat(path, &st) == 0;
  }
  (void)ud;
}

static void test_on_child(void) {
  struct eidos_proc p;
  int rc;
  memset(&p, 0, sizeof p);
  memset(&seen, 0, sizeof seen);
  p.on_child = on_child;
  rc = run_sh(&p, "echo $$");
  CHECK(rc == 0 && seen.calls == 2 && seen.pgid[0] == atoi(p.out) && seen.pgid[1] == 0,
        "on_child told the group then 0: %d calls, %d %d, out %s", seen.calls, seen.pgid[0],
        seen.pgid[1], p.out);
  CHECK(seen.unreaped_at_forget, "forgotten before it was reaped");
  eidos_proc_free(&p);

  memset(&p, 0, sizeof p);
  memset(&seen, 0, sizeof seen);
  p.on_child = on_child;
  p.deadline_ms = eidos_sys_now_ms() + 200;
  rc = run_sh(&p, "sleep 1000");
  CHECK(rc == EIDOS_ETIMEOUT && seen.calls == 2 && seen.pgid[0] > 0 && seen.pgid[1] == 0 &&
        seen.unreaped_at_forget, "on_child at a deadline kill: %d calls", seen.calls);
  eidos_proc_free(&p);
}

/* argv0 (on path) is not run: want_rc with a message holding want */
static void refused(const char *argv0, const char *path, int want_rc, const char *want) {
  struct eidos_proc p;
  const char *argv[] = {argv0, NULL};
  int rc;
  memset(&p, 0, sizeof p);
  p.argv = argv;
  p.path = path;
  rc = eidos_proc_run(&p, ERR, sizeof ERR);
  CHECK(rc == want_rc && strstr(ERR, want), "%s refused: %d %s", argv0, rc, ERR);
  eidos_proc_free(&p);
}

static void test_lookup_env(const char *tmp) {
  struct eidos_proc p;
  char dir[512], prog[600], found[600];
  const char *argv[] = {"eidos-test-prog", "arg1", NULL};
  char *envp[] = {"FOO=base", "BAR=kept", "PATH=/usr/bin:/bin", NULL};
  const char *add[] = {"FOO=over", "NEW=added", NULL};
  FILE *f;
  int rc;

  snprintf(dir, sizeof dir, "%s", tmp);
  snprintf(prog, sizeof prog, "%s/eidos-test-prog", dir);
  f = fopen(prog, "w");
  if (!f) { CHECK(0, "cannot write %s", prog); return; }
  fputs("#!/bin/sh\necho \"$1 $FOO $BAR $NEW\"\n", f);
  fclose(f);
  chmod(prog, 0755);

  CHECK(eidos_proc_find(dir, "eidos-test-prog", found, sizeof found) == 0 &&
        !strcmp(found, prog), "find on a PATH: %s", found);
  CHECK(eidos_proc_find("/nonexistent:/also-not", "eidos-test-prog", found, sizeof found) ==
        EIDOS_ENOTFOUND, "not on PATH");
  CHECK(eidos_proc_find(dir, "eidos-test-prog", found, 8) == EIDOS_ENOTFOUND ||
        eidos_proc_find(dir, "eidos-test-prog", found, 8) == EIDOS_EINVAL, "too long");

  memset(&p, 0, sizeof p);
  p.argv = argv;
  p.path = dir;
  p.envp = envp;
  p.env_add = add;
  rc = eidos_proc_run(&p, ERR, sizeof ERR);
  CHECK(rc == 0 && !strcmp(p.out, "arg1 over kept added\n"), "env_add over envp: %d [%s] %s",
        rc, p.out ? p.out : "", ERR);
  eidos_proc_free(&p);

  refused("eidos-test-prog", "/nonexistent", EIDOS_ENOTFOUND, "eidos-test-prog not found on PATH");
  refused("/nonexistent/prog", NULL, EIDOS_ENOTFOUND, "/nonexistent/prog: no such executable file");
  refused("", NULL, EIDOS_EINVAL, "no program to run");
  unlink(prog);
}

static void test_stdin_call(void) {
  static char big[EIDOS_PROC_STDIN_MAX + 1];
  struct eidos_proc p;
  const char *cat[] = {"cat", NULL};
  int rc;

  memset(big, 'x', sizeof big);
  memset(&p, 0, sizeof p);
  p.argv = cat;
  p.in = big;
  p.in_len = EIDOS_PROC_STDIN_MAX;
  rc = eidos_proc_call(&p, "helper", EIDOS_EAUTH, ERR, sizeof ERR);
  CHECK(rc == 0 && p.out_len == EIDOS_PROC_STDIN_MAX, "16 KiB of stdin data: %d %zu %s", rc,
        p.out_len, ERR);
  eidos_proc_free(&p);

  memset(&p, 0, sizeof p);
  p.argv = cat;
  p.in = big;
  p.in_len = sizeof big;
  rc = eidos_proc_call(&p, "helper", EIDOS_EAUTH, ERR, sizeof ERR);
  CHECK(rc == EIDOS_EINVAL && strstr(ERR, "over the limit"), "stdin too large: %d %s", rc, ERR);
  eidos_proc_free(&p);

  {
    const char *argv[] = {"/bin/sh", "-c", "echo 'No devices were found'; exit 6", NULL};
    memset(&p, 0, sizeof p);
    p.argv = argv;
    rc = eidos_proc_call(&p, NULL, EIDOS_EFAIL, ERR, sizeof ERR);
    CHECK(rc == EIDOS_EFAIL && !strcmp(ERR, "/bin/sh exited with status 6: No devices were found"),
          "call quotes stdout when stderr is empty: %s", ERR);
    eidos_proc_free(&p);
  }
  {
    const char *argv[] = {"/bin/sh", "-c", "echo out; echo 'login expired' >&2; exit 2", NULL};
    memset(&p, 0, sizeof p);
    p.argv = argv;
    rc = eidos_proc_call(&p, "plugin", EIDOS_EAUTH, ERR, sizeof ERR);
    CHECK(rc == EIDOS_EAUTH && !strcmp(ERR, "plugin \"/bin/sh\" exited with status 2: login expired"),
          "call: fail_code and stderr: %s", ERR);
    eidos_proc_free(&p);
  }
  {
    const char *argv[] = {"eidos-no-such-prog", NULL};
    memset(&p, 0, sizeof p);
    p.argv = argv;
    p.path = "/nonexistent";
    rc = eidos_proc_call(&p, "plugin", EIDOS_EAUTH, ERR, sizeof ERR);
    CHECK(rc == EIDOS_EUNAVAIL && strstr(ERR, "cannot run plugin \"eidos-no-such-prog\""),
          "call: not found is unavailable: %s", ERR);
    eidos_proc_free(&p);
  }
  {
    const char *argv[] = {"sleep", "30", NULL};
    memset(&p, 0, sizeof p);
    p.argv = argv;
    p.deadline_ms = eidos_sys_now_ms() + 200;
    rc = eidos_proc_call(&p, "plugin", EIDOS_EAUTH, ERR, sizeof ERR);
    CHECK(rc == EIDOS_ETIMEOUT && strstr(ERR, "did not finish within") && strstr(ERR, "killed"),
          "call: timeout: %s", ERR);
    eidos_proc_free(&p);
  }
}

int main(void) {
  char tmp[] = "/tmp/eidos-test-proc.XXXXXX";
  /* a host that ignores SIGPIPE and SIGINT: the child gets defaults */
  signal(SIGPIPE, SIG_IGN);
  test_status();
  test_output();
  test_deadline();
  test_on_child();
  test_stdin_call();
  if (mkdtemp(tmp)) {
    test_lookup_env(tmp);
    rmdir(tmp);
  } else {
    CHECK(0, "mkdtemp");
  }
  if (failures) printf("%d failure(s)\n", failures);
  else printf("ok\n");
  return failures ? 1 : 0;
}
