/*
 * proc.c -- running a program with a deadline and a process-group kill
 * (see proc.h): PATH lookup, posix_spawn in a new group with stdin from
 * /dev/null or a pre-filled pipe, stdout and stderr read through
 * non-blocking pipes under poll(2), SIGKILL to the group at the deadline
 * or past the stdout cap, a reap that tells on_child first; and the
 * judgement of an outcome for callers that need success (eidos_proc_call).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include "eidos.h"
#include "proc.h"
#include "sys.h"

extern char **environ;

/* how long a killed program may take to die before it is left unreaped
 * (a process in uninterruptible sleep, e.g. inside a hung driver call) */
#define KILL_GRACE_MS 1000

int eidos_proc_find(const char *path, const char *name, char *out, size_t n) {
  const char *p = path && *path ? path : "/usr/local/bin:/usr/bin:/bin";
  if (strchr(name, '/')) {
    if (snprintf(out, n, "%s", name) >= (int)n) return EIDOS_EINVAL;
    return access(out, X_OK) == 0 ? EIDOS_OK : EIDOS_ENOTFOUND;
  }
  for (;;) {
    const char *e = strchr(p, ':');
    size_t dl = e ? (size_t)(e - p) : strlen(p);
    struct stat st;
    int w = dl ? snprintf(out, n, "%.*s/%s", (int)dl, p, name)
               : snprintf(out, n, "./%s", name); /* empty entry: cwd */
    if (w > 0 && (size_t)w < n && stat(out, &st) == 0 && S_ISREG(st.st_mode) &&
        access(out, X_OK) == 0)
      return EIDOS_OK;
    if (!e) break;
    p = e + 1;
  }
  return EIDOS_ENOTFOUND;
}

int eidos_proc_describe(int status, char *buf, size_t n) {
  if (status >= 0 && WIFEXITED(status)) {
    snprintf(buf, n, "exited with status %d", WEXITSTATUS(status));
    return WEXITSTATUS(status) == 0;
  }
  if (status >= 0 && WIFSIGNALED(status))
    snprintf(buf, n, "was killed by signal %d", WTERMSIG(status));
  else
    snprintf(buf, n, "ended in an unknown way");
  return 0;
}

void eidos_proc_free(struct eidos_proc *p) {
  free(p->out);
  free(p->err);
  p->out = p->err = NULL;
  p->out_len = p->err_len = 0;
}

static int same_name(const char *a, const char *b) {
  while (*a && *a != '=' && *a == *b) a++, b++;
  return (*a == '=' || !*a) && (*b == '=' || !*b);
}

/* envp with env_add's entries replacing same-named ones (the strings are
 * borrowed); NULL when out of memory */
static char **merge_env(char *const *base, const char *const *add) {
  size_t nb = 0, na = 0, i, j = 0, k;
  char **e;
  while (base && base[nb]) nb++;
  while (add[na]) na++;
  if (!(e = calloc(nb + na + 1, sizeof *e))) return NULL;
  for (i = 0; i < nb; i++) {
    for (k = 0; k < na && !same_name(base[i], add[k]); k++) {}
    if (k == na) e[j++] = base[i];
  }
  for (k = 0; k < na; k++) e[j++] = (char *)add[k];
  return e;
}

/* keep the last max bytes of what is written (p->err holds max + 1) */
static void keep_tail(struct eidos_proc *p, size_t max, const char *s,
                      size_t n) {
  if (n >= max) {
    memcpy(p->err, s + n - max, max);
    p->err_len = max;
  } else {
    if (p->err_len + n > max) {
      size_t drop = p->err_len + n - max;
      memmove(p->err, p->err + drop, p->err_len - drop);
      p->err_len -= drop;
    }
    memcpy(p->err + p->err_len, s, n);
    p->err_len += n;
  }
}

static int add_out(struct eidos_proc *p, size_t *cap, const char *s, size_t n) {
  if (p->out_len + n + 1 > *cap) {
    size_t nc = *cap ? *cap : 16384;
    char *nb;
    while (nc < p->out_len + n + 1) nc *= 2;
    if (!(nb = realloc(p->out, nc))) return -1;
    p->out = nb;
    *cap = nc;
  }
  memcpy(p->out + p->out_len, s, n);
  p->out_len += n;
  p->out[p->out_len] = '\0';
  return 0;
}

/* Has pid exited? Waits (polling, without reaping) until until_ms (0 =
 * one look). 1 yes, 0 not yet, -1 no such child (SIGCHLD ignored: the
 * kernel reaped it already). */
static int exited(pid_t pid, long long until_ms) {
  long long pause = 1;
  for (;;) {
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (si.si_pid == pid) return 1;
    if (eidos_sys_now_ms() >= until_ms) return 0;
    eidos_sys_sleep_ms(pause);
    if (pause < 20) pause *= 2;
  }
}

/* Forget the child in on_child, then reap it if it has exited. */
static void reap(struct eidos_proc *p, pid_t pid, int state) {
  if (p->on_child) p->on_child(p->ud, 0);
  if (state == 1)
    while (waitpid(pid, &p->status, 0) < 0 && errno == EINTR) {}
  else if (state < 0)
    p->status = 0; /* reaped by the kernel: the exit status is lost */
}

static void kill_group(struct eidos_proc *p, pid_t pid) {
  kill(-pid, SIGKILL);
  kill(pid, SIGKILL);
  reap(p, pid, exited(pid, eidos_sys_now_ms() + KILL_GRACE_MS));
}

int eidos_proc_run(struct eidos_proc *p, char *err, size_t errlen) {
  const char *const *argv = p->argv;
  const char *name = argv && argv[0] ? argv[0] : "";
  size_t max_out = p->max_out ? p->max_out : EIDOS_PROC_MAX_OUT;
  size_t max_err = p->max_err ? p->max_err : EIDOS_PROC_MAX_ERR;
  size_t ocap = 0;
  int ip[2] = {-1, -1}, op[2] = {-1, -1}, ep[2] = {-1, -1}, rc = EIDOS_OK, r, state;
  char **envp = NULL;
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  sigset_t none, defs;
  struct pollfd pf[2];
  pid_t pid;

  p->exe[0] = '\0';
  p->out = p->err = NULL;
  p->out_len = p->err_len = 0;
  p->status = -1;
  p->killed = 0;
  if (!*name) return eidos_err(err, errlen, EIDOS_EINVAL, "no program to run");
  if (p->in && p->in_len > EIDOS_PROC_STDIN_MAX)
    return eidos_err(err, errlen, EIDOS_EINVAL,
                     "%s: stdin data of %zu bytes is over the limit of %u bytes",
                     name, p->in_len, EIDOS_PROC_STDIN_MAX);
  r = eidos_proc_find(p->path ? p->path : getenv("PATH"), name, p->exe,
                      sizeof p->exe);
  if (r == EIDOS_EINVAL)
    return eidos_err(err, errlen, r, "program name too long: %.64s...", name);
  if (r)
    return eidos_err(err, errlen, r, strchr(name, '/')
                     ? "%s: no such executable file" : "%s not found on PATH",
                     name);
  if (!(p->out = malloc(1)) || !(p->err = malloc(max_err + 1))) {
    eidos_proc_free(p);
    return eidos_err(err, errlen, EIDOS_EINTERNAL, "out of memory");
  }
  p->out[0] = p->err[0] = '\0';
  ocap = 1;
  if (p->env_add && !(envp = merge_env(p->envp ? p->envp : environ, p->env_add)))
    return eidos_err(err, errlen, EIDOS_EINTERNAL, "out of memory");
  if (pipe2(op, O_CLOEXEC) || pipe2(ep, O_CLOEXEC) || (p->in && pipe2(ip, O_CLOEXEC))) {
    rc = eidos_err(err, errlen, EIDOS_EFAIL, "cannot run %s: pipe: %s", p->exe,
                   strerror(errno));
    goto done;
  }
  if (p->in) {
    /* A pipe holds 64 KiB on Linux, one page for a user over its pipe
     * quota: ask for room, and never block (the write end only) */
    size_t done = 0;
    fcntl(ip[1], F_SETFL, O_NONBLOCK);
    if (p->in_len > 4096) fcntl(ip[1], F_SETPIPE_SZ, (int)EIDOS_PROC_STDIN_MAX);
    while (done < p->in_len) {
      ssize_t n = write(ip[1], p->in + done, p->in_len - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        rc = eidos_err(err, errlen, EIDOS_EFAIL, "cannot run %s: writing %zu bytes "
                       "to its stdin: %s", p->exe, p->in_len,
                       n < 0 ? strerror(errno) : "short write");
        goto done;
      }
      done += (size_t)n;
    }
    close(ip[1]);
    ip[1] = -1;
  }
  posix_spawn_file_actions_init(&fa);
  if (p->in) posix_spawn_file_actions_adddup2(&fa, ip[0], 0);
  else posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, op[1], 1);
  posix_spawn_file_actions_adddup2(&fa, ep[1], 2);
  posix_spawnattr_init(&at);
  sigemptyset(&none);
  sigemptyset(&defs);
  sigaddset(&defs, SIGPIPE);
  sigaddset(&defs, SIGINT);
  sigaddset(&defs, SIGQUIT);
  sigaddset(&defs, SIGTERM);
  sigaddset(&defs, SIGHUP);
  sigaddset(&defs, SIGCHLD);
  posix_spawnattr_setsigmask(&at, &none);
  posix_spawnattr_setsigdefault(&at, &defs);
  posix_spawnattr_setpgroup(&at, 0);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                    POSIX_SPAWN_SETSIGDEF);
  r = posix_spawn(&pid, p->exe, &fa, &at, (char *const *)argv,
                  envp ? envp : p->envp ? p->envp : environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  close(op[1]);
  close(ep[1]);
  op[1] = ep[1] = -1;
  if (ip[0] >= 0) close(ip[0]);
  ip[0] = -1;
  if (r) {
    rc = eidos_err(err, errlen, r == ENOENT ? EIDOS_ENOTFOUND : EIDOS_EFAIL,
                   "cannot run %s: %s", p->exe, strerror(r));
    goto done;
  }
  if (p->on_child) p->on_child(p->ud, (int)pid);

  fcntl(op[0], F_SETFL, O_NONBLOCK);
  fcntl(ep[0], F_SETFL, O_NONBLOCK);
  pf[0].fd = op[0];
  pf[1].fd = ep[0];
  pf[0].events = pf[1].events = POLLIN;
  while ((pf[0].fd >= 0 || pf[1].fd >= 0) && !p->killed) {
    long long left = p->deadline_ms ? p->deadline_ms - eidos_sys_now_ms() : 1000;
    int i, pr;
    if (p->deadline_ms && left <= 0) {
      p->killed = 1;
      break;
    }
    pr = poll(pf, 2, (int)(left > 1000 ? 1000 : left));
    if (pr < 0 && errno != EINTR) break;
    for (i = 0; i < 2 && pr > 0; i++) {
      char tmp[16384];
      ssize_t n;
      if (pf[i].fd < 0 || !pf[i].revents) continue;
      n = read(pf[i].fd, tmp, sizeof tmp);
      if (n > 0 && i == 0) {
        if (p->out_len + (size_t)n > max_out) p->killed = 2;
        else if (add_out(p, &ocap, tmp, (size_t)n)) {
          p->killed = 3;
          break;
        }
      } else if (n > 0) {
        keep_tail(p, max_err, tmp, (size_t)n);
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        close(pf[i].fd);
        pf[i].fd = -1;
      }
    }
  }
  if (pf[0].fd >= 0) close(pf[0].fd);
  if (pf[1].fd >= 0) close(pf[1].fd);
  op[0] = ep[0] = -1;
  while (p->err_len && strchr(" \t\r\n", p->err[p->err_len - 1])) p->err_len--;
  p->err[p->err_len] = '\0';

  /* both pipes closed: the program is (nearly always) exiting. Wait for it
   * within the deadline, forget it in on_child, then reap it. */
  if (!p->killed) {
    state = exited(pid, p->deadline_ms ? p->deadline_ms : (long long)1 << 62);
    if (state) reap(p, pid, state);
    else p->killed = 1;
  }
  if (p->killed) kill_group(p, pid);
  if (p->killed == 1)
    rc = eidos_err(err, errlen, EIDOS_ETIMEOUT,
                   "%s did not finish by its deadline and was killed%s%s", p->exe,
                   p->err_len ? "; its stderr: " : "", p->err);
  else if (p->killed == 2)
    rc = eidos_err(err, errlen, EIDOS_EFAIL,
                   "%s wrote more than %zu bytes to stdout and was killed",
                   p->exe, max_out);
  else if (p->killed == 3)
    rc = eidos_err(err, errlen, EIDOS_EINTERNAL, "out of memory");
done:
  if (ip[0] >= 0) close(ip[0]);
  if (ip[1] >= 0) close(ip[1]);
  if (op[0] >= 0) close(op[0]);
  if (op[1] >= 0) close(op[1]);
  if (ep[0] >= 0) close(ep[0]);
  if (ep[1] >= 0) close(ep[1]);
  free(envp);
  return rc;
}

int eidos_proc_call(struct eidos_proc *p, const char *what, int fail_code,
                    char *err, size_t errlen) {
  const char *name = p->argv && p->argv[0] ? p->argv[0] : "";
  long long t0 = eidos_sys_now_ms();
  char msg[1024], how[64], label[320];
  int rc = eidos_proc_run(p, msg, sizeof msg);
  const char *quote = p->err_len ? p->err : p->out ? p->out : "";
  size_t ql = p->err_len ? p->err_len : p->out_len;
  if (!p->err_len && ql > 200) ql = 200; /* stdout: its head */
  if (what) snprintf(label, sizeof label, "%s \"%.256s\"", what, name);
  else snprintf(label, sizeof label, "%.256s", name);
  if (rc == EIDOS_ENOTFOUND || (rc == EIDOS_EFAIL && !p->killed))
    return what ? eidos_err(err, errlen, EIDOS_EUNAVAIL, "cannot run %s: %s", label, msg)
                : eidos_err(err, errlen, EIDOS_EUNAVAIL, "%s", msg);
  if (rc == EIDOS_ETIMEOUT)
    return eidos_err(err, errlen, rc, "%s did not finish within %lld ms and was "
                     "killed%s%.*s", label, eidos_sys_now_ms() - t0,
                     p->err_len ? ": " : "", (int)p->err_len, p->err);
  if (rc == EIDOS_EFAIL)
    return eidos_err(err, errlen, fail_code, "%s wrote more than %zu bytes and was "
                     "killed", label, p->max_out ? p->max_out : (size_t)EIDOS_PROC_MAX_OUT);
  if (rc) return eidos_err(err, errlen, rc, "%s: %s", label, msg);
  if (eidos_proc_describe(p->status, how, sizeof how)) return EIDOS_OK;
  while (ql && strchr(" \t\r\n", quote[ql - 1])) ql--;
  return eidos_err(err, errlen, fail_code, "%s %s%s%.*s", label, how, ql ? ": " : "",
                   (int)ql, quote);
}
