/*
 * collect.h -- the snapshot collectors: pure C workers that measure a node
 * (OS, SystemD, GPU, NodeTopology, plus a hook for the Kubernetes client)
 * and fill value trees (value.h). eidos_collect_run starts the selected
 * collectors in parallel threads, each with its own deadline, and returns
 * when all have finished or their deadlines have passed, whichever first;
 * a collector past its deadline is recorded as timed out and left running
 * detached on a heap slot it co-owns (a hung driver call cannot touch the
 * caller's memory). Every file a collector reads is read below
 * opts->sysroot.
 *
 * A measurement tree is the Snapshot format's
 *   {type: "GPU", subtypes: [{subtype: "smi", data: {...}, context: {...}}]}
 * with data values scalars only (string, int, uint, float, bool) and
 * context values strings. Results come out in the fixed order K8s, GPU,
 * OS, SystemD, NodeTopology (only the selected ones), whatever finished
 * first.
 */
#ifndef EIDOS_COLLECT_H
#define EIDOS_COLLECT_H

#include <stddef.h>
#include "value.h"

/* Measurement types, in output order. */
enum {
  EIDOS_COLLECT_K8S,
  EIDOS_COLLECT_GPU,
  EIDOS_COLLECT_OS,
  EIDOS_COLLECT_SYSTEMD,
  EIDOS_COLLECT_TOPOLOGY,
  EIDOS_COLLECT_NTYPES
};
#define EIDOS_COLLECT_ALL ((1u << EIDOS_COLLECT_NTYPES) - 1)

/* "K8s", "GPU", "OS", "SystemD", "NodeTopology" (NULL out of range). */
const char *eidos_collect_type_name(int type);
/* Inverse (exact, case-sensitive); -1 if unknown. */
int eidos_collect_type_parse(const char *name);

/* The Kubernetes hook: fill *out with a K8s measurement tree (type and
 * subtypes; "type" is set to "K8s" if missing) and return 0, or return a
 * negative EIDOS_E* code with a message (EIDOS_EUNAVAIL: not in a
 * cluster). It runs on its own worker thread and may be abandoned at its
 * deadline, so ud must stay valid for the life of the process. */
typedef int (*eidos_collect_k8s_fn)(void *ud, struct eidos_value **out,
                                    char *err, size_t errlen);

struct eidos_collect_opts {
  const char *sysroot;       /* root of every file read; NULL/"" = "/" */
  unsigned types;            /* bit set of 1u << EIDOS_COLLECT_*; 0 = all */
  int timeout_ms;            /* deadline of every collector; 0 = defaults */
  int type_timeout_ms[EIDOS_COLLECT_NTYPES]; /* per type; 0 = timeout_ms */
  const char *const *units;  /* SystemD units; NULL = containerd, docker, */
  size_t nunits;             /*   kubelet (.service) */
  const char *nvml_lib;      /* NVML path; NULL = $EIDOS_NVML_LIB, then */
                             /*   libnvidia-ml.so.1; "" = do not try NVML */
  const char *path;          /* PATH searched for nvidia-smi; NULL = $PATH */
  eidos_collect_k8s_fn k8s;  /* NULL: K8s is recorded unavailable */
  void *k8s_ud;
};

/* Default deadlines (ms) when neither timeout is set. */
#define EIDOS_COLLECT_TIMEOUT_MS 10000
#define EIDOS_COLLECT_GPU_TIMEOUT_MS 30000
#define EIDOS_COLLECT_K8S_TIMEOUT_MS 60000

struct eidos_collect_item {
  int type;                        /* EIDOS_COLLECT_* */
  const char *name;                /* eidos_collect_type_name(type) */
  int code;       /* EIDOS_OK, EIDOS_EUNAVAIL, EIDOS_ETIMEOUT, or another */
  char reason[512];                /* why, when code != 0 */
  double elapsed_ms;               /* until finished or abandoned */
  struct eidos_value *measurement; /* owned; non-NULL iff code == 0 */
};

struct eidos_collect_result {
  size_t n;                        /* selected types, in output order */
  struct eidos_collect_item items[EIDOS_COLLECT_NTYPES];
  double elapsed_ms;
};

/* Run the selected collectors. Returns 0 (per-collector failures are in
 * the items) or a negative code with a message when nothing could be
 * started (bad options, no threads). out is always initialised and must
 * be released with eidos_collect_result_free. */
int eidos_collect_run(const struct eidos_collect_opts *opts,
                      struct eidos_collect_result *out,
                      char *err, size_t errlen);
void eidos_collect_result_free(struct eidos_collect_result *r);

/* The same in two steps, so that the caller can do other work (the
 * Kubernetes client in Lua) while the workers run: start launches the
 * workers and returns at once; wait blocks until each is done or past its
 * deadline (deadlines count from start) and consumes the run; abandon
 * gives a run up without waiting (its workers finish on their own). */
struct eidos_collect_run;
int eidos_collect_start(const struct eidos_collect_opts *opts,
                        struct eidos_collect_run **run, char *err,
                        size_t errlen);
void eidos_collect_wait(struct eidos_collect_run *run,
                        struct eidos_collect_result *out);
void eidos_collect_abandon(struct eidos_collect_run *run);

/* The collectors themselves, callable alone (tests, tools). Each fills
 * *out with a measurement tree or returns a code with a message.
 * deadline_ms is an absolute time of eidos_sys_now_ms() (sys.h; 0 =
 * none); collectors that spawn processes or block honour it. */
struct eidos_collect_ctx {
  const char *sysroot;             /* never NULL, no trailing '/' ("" = /) */
  const char *const *units;
  size_t nunits;
  const char *nvml_lib;            /* NULL = default, "" = skip NVML */
  const char *path;                /* PATH for nvidia-smi, may be NULL */
  char *const *envp;               /* environment of spawned tools; NULL =
                                      environ (the run passes a copy taken
                                      on the calling thread) */
  long long deadline_ms;
  /* told the process group of a spawned tool (pgid > 0) and told to
   * forget it (0) before the tool is reaped (proc.h's on_child), so that a
   * run giving up at the deadline kills it, never orphans it; NULL when a
   * collector is called alone */
  void (*on_child)(void *ud, int pgid);
  void *child_ud;
};
int eidos_collect_os(const struct eidos_collect_ctx *c,
                     struct eidos_value **out, char *err, size_t errlen);
int eidos_collect_systemd(const struct eidos_collect_ctx *c,
                          struct eidos_value **out, char *err, size_t errlen);
int eidos_collect_gpu(const struct eidos_collect_ctx *c,
                      struct eidos_value **out, char *err, size_t errlen);
int eidos_collect_topology(const struct eidos_collect_ctx *c,
                           struct eidos_value **out, char *err, size_t errlen);

/* nvidia-smi -q -x parsing, exposed for tests and fuzzing: fill data
 * (the smi subtype's map) and append one map per GPU to gpus. */
int eidos_collect_parse_smi_xml(const char *xml, size_t len,
                                struct eidos_value *data,
                                struct eidos_value *gpus,
                                char *err, size_t errlen);

/* systemd's D-Bus object path escaping of a unit name
 * ("containerd.service" -> "containerd_2eservice"). */
int eidos_collect_bus_escape(const char *s, char *out, size_t n);

#endif
