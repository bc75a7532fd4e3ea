/*
 * proc.h -- running a program with a deadline, the one home of process
 * spawning in eidos (nvidia-smi for the GPU collector, exec credential
 * plugins for the Kubernetes client, registry credential helpers through
 * eidos.core.proc).
 *
 * The program runs without a shell, in a process group of its own (so
 * that a group kill reaches everything it started), with stdin from
 * /dev/null or small data given (written into the pipe before the program
 * starts, so a program that never reads it cannot block us), an empty
 * signal mask and default dispositions for the signals
 * a host may ignore or handle (PIPE, INT, QUIT, TERM, HUP, CHLD). Its
 * stdout is captured up to a cap and the tail of its stderr is kept. At
 * the deadline, or as soon as stdout passes the cap, the whole group is
 * killed with SIGKILL and the program reaped. A normal exit leaves members
 * of its group that outlive it alone (they are the program's business).
 *
 * The run is synchronous. A caller on another thread that must be able to
 * give up on it (the collectors) passes on_child: it is called with the
 * group's id right after the spawn and with 0 before the program is
 * reaped, so that a kill(-pgid) from that thread never hits a reused pid.
 */
#ifndef EIDOS_PROC_H
#define EIDOS_PROC_H

#include <stddef.h>

#define EIDOS_PROC_MAX_OUT (1u << 20)   /* default stdout cap */
#define EIDOS_PROC_MAX_ERR 4096         /* default stderr tail kept */
#define EIDOS_PROC_STDIN_MAX (16u << 10) /* stdin data: fits any pipe */

struct eidos_proc {
  /* --- in --- */
  const char *const *argv;      /* argv[0]: a path with '/', or a name
                                   looked up on path */
  const char *path;             /* PATH for the lookup; NULL = $PATH, and
                                   /usr/local/bin:/usr/bin:/bin without one */
  char *const *envp;            /* environment; NULL = environ */
  const char *const *env_add;   /* "NAME=value" entries replacing or adding
                                   to envp's; NULL-terminated, may be NULL */
  const char *in;               /* stdin data (NULL: /dev/null) */
  size_t in_len;                /* at most EIDOS_PROC_STDIN_MAX */
  long long deadline_ms;        /* absolute eidos_sys_now_ms(); 0 = none */
  size_t max_out;               /* stdout cap in bytes; 0 = EIDOS_PROC_MAX_OUT */
  size_t max_err;               /* stderr bytes kept; 0 = EIDOS_PROC_MAX_ERR */
  void (*on_child)(void *ud, int pgid); /* may be NULL (see above) */
  void *ud;
  /* --- out (eidos_proc_run initialises them; free with eidos_proc_free) */
  char exe[4096];               /* the file run (argv[0] resolved) */
  char *out;                    /* stdout, NUL-terminated (never NULL after
                                   a run that started) */
  size_t out_len;
  char *err;                    /* the last max_err bytes of stderr,
                                   trailing whitespace trimmed, NUL-terminated */
  size_t err_len;
  int status;                   /* waitpid status; -1 when not reaped normally */
  int killed;                   /* 1: deadline, 2: stdout over the cap */
};

/* Run p->argv. Returns:
 *  0                the program ran and was reaped: p->status says how it
 *                   ended (see eidos_proc_describe); p->out and p->err hold
 *                   its output;
 *  EIDOS_ENOTFOUND  argv[0] not found (on the PATH, or no such file);
 *  EIDOS_ETIMEOUT   killed at the deadline (p->killed 1; p->err holds the
 *                   stderr read so far);
 *  EIDOS_EFAIL      could not be started, or killed for writing more than
 *                   max_out bytes to stdout (p->killed 2);
 *  EIDOS_EINVAL     no argv[0], or stdin data over EIDOS_PROC_STDIN_MAX;
 *  EIDOS_EINTERNAL  out of memory.
 * Every message names the program. Call eidos_proc_free afterwards, also
 * on failure. */
int eidos_proc_run(struct eidos_proc *p, char *err, size_t errlen);
void eidos_proc_free(struct eidos_proc *p);

/* Run p for a caller that needs the program to succeed: 0 when it exited
 * with status 0 (p->out holds its stdout); otherwise a code and a message
 * that names the program as what and argv[0] ("exec credential plugin
 * \"gke-auth\"", or argv[0] alone when what is NULL):
 * EIDOS_EUNAVAIL (not found, or could not start), EIDOS_ETIMEOUT (killed
 * at the deadline; the message says after how long), EIDOS_EINVAL,
 * EIDOS_EINTERNAL, or fail_code (a non-zero exit, a signal, stdout over
 * the cap; the message quotes the tail of stderr, or the head of stdout
 * when stderr is empty). Call eidos_proc_free afterwards. */
int eidos_proc_call(struct eidos_proc *p, const char *what, int fail_code,
                    char *err, size_t errlen);

/* "exited with status 3" / "was killed by signal 9" for a waitpid status.
 * Returns 1 when the program exited with status 0, else 0. */
int eidos_proc_describe(int status, char *buf, size_t n);

/* Look name up on path (as struct eidos_proc's path): a name with '/' is
 * taken as is. 0 with out filled, EIDOS_ENOTFOUND, or EIDOS_EINVAL when
 * the result does not fit n. */
int eidos_proc_find(const char *path, const char *name, char *out, size_t n);

#endif
