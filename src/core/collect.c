/*
 * collect.c -- runs the collectors in parallel with their deadlines (see
 * collect.h; shared helpers are in collect_util.c). Ownership across
 * threads: one heap "run" holds a copy of the options, the mutex/condvar
 * and one slot per collector, and is reference-counted by the caller and
 * by each worker thread. Workers are detached; the caller waits on the condvar until
 * every started slot is done or past its deadline, moves finished results
 * out, marks the run abandoned and drops its reference. A late worker
 * then frees its own result and, being the last, the run.
 */
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "eidos.h"
#include "collect.h"
#include "collect_int.h"
#include "sys.h"

static const char *const type_names[EIDOS_COLLECT_NTYPES] = {
  "K8s", "GPU", "OS", "SystemD", "NodeTopology"
};

static const char *const default_units[] = {
  "containerd.service", "docker.service", "kubelet.service"
};

const char *eidos_collect_type_name(int type) {
  if (type < 0 || type >= EIDOS_COLLECT_NTYPES) return NULL;
  return type_names[type];
}

int eidos_collect_type_parse(const char *name) {
  int i;
  for (i = 0; name && i < EIDOS_COLLECT_NTYPES; i++)
    if (strcmp(name, type_names[i]) == 0) return i;
  return -1;
}

static double now_ms_f(void) { return (double)eidos_sys_now_ns() / 1e6; }

/* ---------------------------------------------------------------- run */

struct run;

struct slot {
  struct run *run;
  int type;
  int started, done, timed_out;
  int code;
  char reason[512];
  struct eidos_value *m;
  double t0, t1;
  int child; /* process group spawned by the worker, 0 = none */
  int timeout_ms;
  long long deadline_ms;
};

struct run {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int refs;
  int abandoned;
  double t0;
  struct slot slots[EIDOS_COLLECT_NTYPES];
  /* private copies of the options */
  char *sysroot;
  char **units;
  size_t nunits;
  char *nvml_lib;
  char *path;
  char **envp; /* copy of environ for spawned tools (GPU only) */
  eidos_collect_k8s_fn k8s;
  void *k8s_ud;
};

extern char **environ;

static void free_env(char **e) {
  size_t i;
  for (i = 0; e && e[i]; i++) free(e[i]);
  free(e);
}

/* Deep copy of environ, so that a host calling setenv later cannot race
 * with a worker spawning a tool. */
static char **copy_env(void) {
  size_t n = 0, i;
  char **e;
  while (environ && environ[n]) n++;
  e = calloc(n + 1, sizeof *e);
  if (!e) return NULL;
  for (i = 0; i < n; i++)
    if (!(e[i] = strdup(environ[i]))) {
      free_env(e);
      return NULL;
    }
  return e;
}

static void run_free(struct run *r) {
  size_t i;
  for (i = 0; i < EIDOS_COLLECT_NTYPES; i++) eidos_value_free(r->slots[i].m);
  for (i = 0; i < r->nunits; i++) free(r->units[i]);
  free(r->units);
  free(r->sysroot);
  free(r->nvml_lib);
  free(r->path);
  free_env(r->envp);
  pthread_cond_destroy(&r->cv);
  pthread_mutex_destroy(&r->mu);
  free(r);
}

static char *dupnull(const char *s) { return s ? strdup(s) : NULL; }

static int run_k8s(struct run *r, struct eidos_value **out, char *err,
                   size_t errlen) {
  int rc;
  struct eidos_value *t;
  if (!r->k8s)
    return eidos_err(err, errlen, EIDOS_EUNAVAIL,
                     "no Kubernetes client is configured");
  rc = r->k8s(r->k8s_ud, out, err, errlen);
  if (rc == 0 && (!*out || eidos_value_type(*out) != EIDOS_VMAP)) {
    eidos_value_free(*out);
    *out = NULL;
    return eidos_err(err, errlen, EIDOS_EINTERNAL,
                     "Kubernetes collector returned no measurement");
  }
  if (rc) {
    eidos_value_free(*out);
    *out = NULL;
    return rc;
  }
  t = eidos_value_map_get(*out, "type");
  if (!t) {
    /* put "type" first: rebuild the map */
    struct eidos_value *m = cx_measurement("K8s");
    size_t i, n = eidos_value_len(*out);
    if (!m) return eidos_err(err, errlen, EIDOS_EINTERNAL, "out of memory");
    eidos_value_map_del(m, "subtypes");
    for (i = 0; i < n; i++) {
      const char *k;
      size_t kl;
      struct eidos_value *v = eidos_value_map_at(*out, i, &k, &kl);
      if (eidos_value_map_lset(m, k, kl, eidos_value_copy(v))) {
        eidos_value_free(m);
        return eidos_err(err, errlen, EIDOS_EINTERNAL, "out of memory");
      }
    }
    eidos_value_free(*out);
    *out = m;
  }
  return 0;
}

/* the collectors' on_child: record (pgid > 0) or forget (0) the process
 * group a worker has spawned, so that giving up on the slot kills it */
static void slot_child(void *ud, int pgid) {
  struct slot *s = ud;
  pthread_mutex_lock(&s->run->mu);
  s->child = pgid;
  pthread_mutex_unlock(&s->run->mu);
}

static void *worker(void *arg) {
  struct slot *s = arg;
  struct run *r = s->run;
  struct eidos_collect_ctx c;
  struct eidos_value *m = NULL;
  char err[512];
  int code, last;

  err[0] = '\0';
  c.sysroot = r->sysroot;
  c.units = (const char *const *)r->units;
  c.nunits = r->nunits;
  c.nvml_lib = r->nvml_lib;
  c.path = r->path;
  c.envp = r->envp;
  c.deadline_ms = s->deadline_ms;
  c.on_child = slot_child;
  c.child_ud = s;
  switch (s->type) {
    case EIDOS_COLLECT_K8S: code = run_k8s(r, &m, err, sizeof err); break;
    case EIDOS_COLLECT_GPU: code = eidos_collect_gpu(&c, &m, err, sizeof err); break;
    case EIDOS_COLLECT_OS: code = eidos_collect_os(&c, &m, err, sizeof err); break;
    case EIDOS_COLLECT_SYSTEMD:
      code = eidos_collect_systemd(&c, &m, err, sizeof err);
      break;
    default: code = eidos_collect_topology(&c, &m, err, sizeof err); break;
  }
  if (code && m) {
    eidos_value_free(m);
    m = NULL;
  }
  if (!code && !m) code = eidos_err(err, sizeof err, EIDOS_EINTERNAL,
                                    "collector returned nothing");

  pthread_mutex_lock(&r->mu);
  if (!r->abandoned && !s->timed_out) {
    s->m = m;
    m = NULL;
    s->code = code;
    snprintf(s->reason, sizeof s->reason, "%s", code ? err : "");
  }
  s->done = 1;
  s->t1 = now_ms_f();
  pthread_cond_broadcast(&r->cv);
  last = --r->refs == 0;
  pthread_mutex_unlock(&r->mu);
  eidos_value_free(m);
  if (last) run_free(r);
  return NULL;
}

/* Kill what a slot given up on has spawned (mutex held). */
static void kill_child(struct slot *s) {
  if (s->child > 0) {
    kill(-s->child, SIGKILL);
    kill(s->child, SIGKILL);
  }
}

static int timeout_of(const struct eidos_collect_opts *o, int t) {
  if (o->type_timeout_ms[t] > 0) return o->type_timeout_ms[t];
  if (o->timeout_ms > 0) return o->timeout_ms;
  if (t == EIDOS_COLLECT_GPU) return EIDOS_COLLECT_GPU_TIMEOUT_MS;
  if (t == EIDOS_COLLECT_K8S) return EIDOS_COLLECT_K8S_TIMEOUT_MS;
  return EIDOS_COLLECT_TIMEOUT_MS;
}

static struct run *run_new(const struct eidos_collect_opts *o) {
  struct run *r = calloc(1, sizeof *r);
  const char *const *units = o->units ? o->units : default_units;
  size_t nunits = o->units ? o->nunits : 3, i, n;
  const char *root = o->sysroot && *o->sysroot ? o->sysroot : "/";
  pthread_condattr_t ca;
  const char *lib;

  if (!r) return NULL;
  n = strlen(root);
  while (n > 0 && root[n - 1] == '/') n--; /* "/" -> "" */
  r->sysroot = strndup(root, n);
  r->units = calloc(nunits ? nunits : 1, sizeof *r->units);
  lib = o->nvml_lib ? o->nvml_lib : getenv("EIDOS_NVML_LIB");
  r->nvml_lib = dupnull(lib);
  r->path = dupnull(o->path ? o->path : getenv("PATH"));
  r->k8s = o->k8s;
  r->k8s_ud = o->k8s_ud;
  if (!o->types || (o->types & (1u << EIDOS_COLLECT_GPU))) r->envp = copy_env();
  if (!r->sysroot || !r->units || (lib && !r->nvml_lib)) goto fail;
  if ((!o->types || (o->types & (1u << EIDOS_COLLECT_GPU))) && !r->envp) goto fail;
  for (i = 0; i < nunits; i++) {
    if (!units[i]) continue;
    if (!(r->units[r->nunits] = strdup(units[i]))) goto fail;
    r->nunits++;
  }
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  if (pthread_cond_init(&r->cv, &ca)) {
    pthread_condattr_destroy(&ca);
    goto fail_nosync;
  }
  pthread_condattr_destroy(&ca);
  if (pthread_mutex_init(&r->mu, NULL)) {
    pthread_cond_destroy(&r->cv);
    goto fail_nosync;
  }
  return r;
fail:
fail_nosync:
  free_env(r->envp);
  for (i = 0; i < r->nunits; i++) free(r->units[i]);
  free(r->units);
  free(r->sysroot);
  free(r->nvml_lib);
  free(r->path);
  free(r);
  return NULL;
}

int eidos_collect_start(const struct eidos_collect_opts *opts,
                        struct eidos_collect_run **out, char *err,
                        size_t errlen) {
  static const struct eidos_collect_opts defaults;
  const struct eidos_collect_opts *o = opts ? opts : &defaults;
  unsigned types = o->types ? o->types : EIDOS_COLLECT_ALL;
  struct run *r;
  pthread_attr_t attr;
  int t;

  *out = NULL;
  if (types & ~EIDOS_COLLECT_ALL)
    return eidos_err(err, errlen, EIDOS_EINVAL,
                     "unknown measurement type bits 0x%x", types);
  for (t = 0; t < EIDOS_COLLECT_NTYPES; t++)
    if (o->type_timeout_ms[t] < 0)
      return eidos_err(err, errlen, EIDOS_EINVAL,
                       "negative timeout for %s", type_names[t]);
  if (o->timeout_ms < 0)
    return eidos_err(err, errlen, EIDOS_EINVAL, "negative timeout %d ms",
                     o->timeout_ms);
  r = run_new(o);
  if (!r) return eidos_err(err, errlen, EIDOS_EINTERNAL, "out of memory");
  if (pthread_attr_init(&attr)) {
    run_free(r);
    return eidos_err(err, errlen, EIDOS_EINTERNAL, "pthread_attr_init failed");
  }
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);

  r->t0 = now_ms_f();
  r->refs = 1;
  pthread_mutex_lock(&r->mu);
  for (t = 0; t < EIDOS_COLLECT_NTYPES; t++) {
    struct slot *s = &r->slots[t];
    pthread_t th;
    s->run = r;
    s->type = t;
    if (!(types & (1u << t))) continue;
    s->t0 = now_ms_f();
    s->timeout_ms = timeout_of(o, t);
    s->deadline_ms = eidos_sys_now_ms() + s->timeout_ms;
    if (t == EIDOS_COLLECT_K8S && !r->k8s) {
      /* nothing to run: record without a thread */
      s->started = s->done = 1;
      s->t1 = s->t0;
      s->code = run_k8s(r, &s->m, s->reason, sizeof s->reason);
      continue;
    }
    s->started = 1;
    r->refs++;
    if (pthread_create(&th, &attr, worker, s)) {
      r->refs--;
      s->done = 1;
      s->t1 = s->t0;
      s->code = eidos_err(s->reason, sizeof s->reason, EIDOS_EINTERNAL,
                          "cannot start a thread for the %s collector",
                          type_names[t]);
    }
  }
  pthread_attr_destroy(&attr);
  pthread_mutex_unlock(&r->mu);
  *out = (struct eidos_collect_run *)r;
  return EIDOS_OK;
}

void eidos_collect_wait(struct eidos_collect_run *run,
                        struct eidos_collect_result *out) {
  struct run *r = (struct run *)run;
  int t, last;
  size_t k;

  memset(out, 0, sizeof *out);
  if (!r) return;
  pthread_mutex_lock(&r->mu);
  for (;;) {
    long long now = eidos_sys_now_ms(), next = 0;
    int pending = 0;
    struct timespec ts;
    for (t = 0; t < EIDOS_COLLECT_NTYPES; t++) {
      struct slot *s = &r->slots[t];
      if (!s->started || s->done || s->timed_out) continue;
      if (now >= s->deadline_ms) {
        s->timed_out = 1;
        kill_child(s);
        s->t1 = now_ms_f();
        s->code = eidos_err(s->reason, sizeof s->reason, EIDOS_ETIMEOUT,
                            "the %s collector did not finish within %d ms",
                            type_names[t], s->timeout_ms);
        continue;
      }
      if (!pending || s->deadline_ms < next) next = s->deadline_ms;
      pending++;
    }
    if (!pending) break;
    ts.tv_sec = (time_t)(next / 1000);
    ts.tv_nsec = (long)(next % 1000) * 1000000L;
    pthread_cond_timedwait(&r->cv, &r->mu, &ts);
  }

  for (t = 0, k = 0; t < EIDOS_COLLECT_NTYPES; t++) {
    struct slot *s = &r->slots[t];
    struct eidos_collect_item *it;
    if (!s->started) continue;
    it = &out->items[k++];
    it->type = t;
    it->name = type_names[t];
    it->code = s->code;
    memcpy(it->reason, s->reason, sizeof it->reason);
    it->elapsed_ms = s->t1 - s->t0;
    it->measurement = s->m;
    s->m = NULL;
  }
  out->n = k;
  out->elapsed_ms = now_ms_f() - r->t0;
  r->abandoned = 1;
  last = --r->refs == 0;
  pthread_mutex_unlock(&r->mu);
  if (last) run_free(r);
}

void eidos_collect_abandon(struct eidos_collect_run *run) {
  struct run *r = (struct run *)run;
  int last, t;
  if (!r) return;
  pthread_mutex_lock(&r->mu);
  r->abandoned = 1;
  for (t = 0; t < EIDOS_COLLECT_NTYPES; t++)
    if (r->slots[t].started && !r->slots[t].done) kill_child(&r->slots[t]);
  last = --r->refs == 0;
  pthread_mutex_unlock(&r->mu);
  if (last) run_free(r);
}

int eidos_collect_run(const struct eidos_collect_opts *opts,
                      struct eidos_collect_result *out,
                      char *err, size_t errlen) {
  struct eidos_collect_run *r;
  int rc = eidos_collect_start(opts, &r, err, errlen);
  memset(out, 0, sizeof *out);
  if (rc) return rc;
  eidos_collect_wait(r, out);
  return EIDOS_OK;
}

void eidos_collect_result_free(struct eidos_collect_result *r) {
  size_t i;
  if (!r) return;
  for (i = 0; i < r->n; i++) {
    eidos_value_free(r->items[i].measurement);
    r->items[i].measurement = NULL;
  }
  r->n = 0;
}
