/*
 * metrics.c -- the counters of eidosd and their Prometheus text form. Each
 * worker owns one struct srv_metrics and is its only writer (relaxed atomic
 * loads and stores, no read-modify-write, no sharing of cache lines between
 * workers); GET /metrics sums every worker's values. Requests are counted
 * by (route, method, status) in a fixed open-addressing table whose keys
 * are published once and never move, so a reader on another thread sees
 * either a whole slot or none. Route labels are the routes of the Lua table
 * (plus "unmatched"), never raw paths, so the label set stays bounded.
 */
#include <dirent.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include "server.h"

#define REQ_SLOTS 1024
#define NB 15
#define NMETHODS 8

extern const char *const eidos_build_version;
extern const char *const eidos_build_commit;
extern const char *const eidos_build_date;

static const double dur_le[NB] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                  0.25, 0.5, 1, 2.5, 5, 10, 30};
static const double size_le[NB] = {1024, 4096, 16384, 65536, 262144, 1048576, 4194304,
                                   16777216, 67108864, 268435456, INFINITY, INFINITY,
                                   INFINITY, INFINITY, INFINITY};
static const char *const methods[NMETHODS] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH",
                                              "OPTIONS", "OTHER"};

struct hist {
  _Atomic uint64_t b[NB + 1]; /* the last one is +Inf */
  _Atomic uint64_t count;
  _Atomic double sum;
};

struct srv_metrics {
  struct {
    _Atomic uint64_t key; /* 0 empty, else 1 + (route << 20 | method << 12 | status) */
    _Atomic uint64_t n;
  } req[REQ_SLOTS];
  struct hist dur[SRV_MAXROUTES + 1][NMETHODS]; /* by route and method */
  struct hist obs[OBS_N];
  _Atomic uint64_t cnt[CNT_N];
  _Atomic long gauge[4];
  char pad[64];
};

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static struct srv_metrics *all[SRV_MAXWORKERS];
static int nall;

struct srv_metrics *srv_metrics_new(void) {
  struct srv_metrics *m = calloc(1, sizeof *m);
  if (!m) return NULL;
  pthread_mutex_lock(&reg_mu);
  if (nall < SRV_MAXWORKERS) all[nall++] = m;
  pthread_mutex_unlock(&reg_mu);
  return m;
}

#define LOAD(x) atomic_load_explicit(&(x), memory_order_relaxed)
#define BUMP(x, d) atomic_store_explicit(&(x), LOAD(x) + (d), memory_order_relaxed)

static void hist_add(struct hist *h, const double *le, double v) {
  int i = 0;
  while (i < NB && !(v <= le[i])) i++;
  BUMP(h->b[i], 1);
  BUMP(h->count, 1);
  BUMP(h->sum, v);
}

static int method_index(const char *m, size_t len) {
  int i;
  for (i = 0; i < NMETHODS - 1; i++)
    if (strlen(methods[i]) == len && !memcmp(methods[i], m, len)) return i;
  return NMETHODS - 1;
}

void srv_metrics_request(struct srv_metrics *m, int route, const char *method, size_t mlen,
                         int status, double seconds) {
  uint64_t key, h;
  size_t i, n;
  int mi = method_index(method, mlen);
  if (route < 0 || route > SRV_MAXROUTES) route = SRV_MAXROUTES;
  if (status < 100 || status > 999) status = 999;
  key = 1 + (((uint64_t)route << 20) | ((uint64_t)mi << 12) | (uint64_t)status);
  h = key * 0x9e3779b97f4a7c15u;
  for (n = 0, i = (size_t)(h >> 54) % REQ_SLOTS; n < REQ_SLOTS; n++, i = (i + 1) % REQ_SLOTS) {
    uint64_t k = atomic_load_explicit(&m->req[i].key, memory_order_acquire);
    if (k == key) { BUMP(m->req[i].n, 1); break; }
    if (k == 0) {
      atomic_store_explicit(&m->req[i].n, 1, memory_order_relaxed);
      atomic_store_explicit(&m->req[i].key, key, memory_order_release);
      break;
    }
  }
  hist_add(&m->dur[route][mi], dur_le, seconds);
}

void srv_metrics_observe(struct srv_metrics *m, int which, double v) {
  if (which < 0 || which >= OBS_N) return;
  hist_add(&m->obs[which], which == OBS_BUNDLE_SIZE ? size_le : dur_le, v);
}

void srv_metrics_count(struct srv_metrics *m, int which, uint64_t n) {
  if (which >= 0 && which < CNT_N) BUMP(m->cnt[which], n);
}

void srv_metrics_gauge(struct srv_metrics *m, int which, long delta) {
  if (which >= 0 && which < 4) BUMP(m->gauge[which], delta);
}

static const char *const obs_names[OBS_N] = {"recipe_build_seconds", "bundle_build_seconds",
                                             "bundle_size_bytes"};
static const char *const cnt_names[CNT_N] = {"rate_limit_rejects", "response_cache_hits",
  "response_cache_misses", "recipe_cache_hits", "recipe_cache_misses", "handler_errors",
  "request_timeouts", "connections", "queue_rejects", "cancelled", "shutdown_cut", "slow_readers"};

int srv_metrics_obs_index(const char *name) {
  int i;
  for (i = 0; i < OBS_N; i++) if (!strcmp(name, obs_names[i])) return i;
  return -1;
}

int srv_metrics_cnt_index(const char *name) {
  int i;
  for (i = 0; i < CNT_N; i++) if (!strcmp(name, cnt_names[i])) return i;
  return -1;
}

/* ---- rendering ---- */

struct sb { char *p; size_t len, cap; int oom; };

static void sb_add(struct sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(struct sb *b, const char *fmt, ...) {
  va_list ap;
  int n;
  if (b->oom) return;
  for (;;) {
    va_start(ap, fmt);
    n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0) { b->oom = 1; return; }
    if ((size_t)n < b->cap - b->len) { b->len += (size_t)n; return; }
    {
      size_t cap = b->cap * 2 + (size_t)n;
      char *q = realloc(b->p, cap);
      if (!q) { b->oom = 1; return; }
      b->p = q;
      b->cap = cap;
    }
  }
}

/* a label value with \ " and newline escaped */
static const char *lv(const char *s, char *buf, size_t cap) {
  size_t o = 0;
  for (; *s && o + 3 < cap; s++) {
    if (*s == '\\' || *s == '"') { buf[o++] = '\\'; buf[o++] = *s; }
    else if (*s == '\n') { buf[o++] = '\\'; buf[o++] = 'n'; }
    else buf[o++] = *s;
  }
  buf[o] = 0;
  return buf;
}

static void fmt_double(char *buf, size_t cap, double v) {
  if (isinf(v)) snprintf(buf, cap, "+Inf");
  else if (v == floor(v) && fabs(v) < 1e15) snprintf(buf, cap, "%.0f", v);
  else snprintf(buf, cap, "%.9g", v);
}

struct snap { uint64_t b[NB + 1], count; double sum; };

/* add the sum over every worker of the histogram at byte offset off of
   struct srv_metrics to s */
static void snap_add(struct snap *s, size_t off) {
  int w, i;
  for (w = 0; w < nall; w++) {
    const struct hist *h = (const struct hist *)((const char *)all[w] + off);
    for (i = 0; i <= NB; i++) s->b[i] += LOAD(h->b[i]);
    s->count += LOAD(h->count);
    s->sum += LOAD(h->sum);
  }
}

/* a histogram at the bounds of le (+Inf bounds left out), or at those of
   sub only when sub is not NULL (a subset of le, in order) */
static void snap_render(struct sb *b, const char *name, const char *labels, const struct snap *s,
                        const double *le, const double *sub, int nsub) {
  uint64_t cum = 0;
  char num[64];
  const char *sep = *labels ? "," : "";
  int i, j = 0;
  for (i = 0; i < NB; i++) {
    cum += s->b[i];
    if (isinf(le[i])) continue;
    if (sub) {
      if (j >= nsub || le[i] != sub[j]) continue;
      j++;
    }
    fmt_double(num, sizeof num, le[i]);
    sb_add(b, "%s_bucket{%s%sle=\"%s\"} %llu\n", name, labels, sep, num, (unsigned long long)cum);
  }
  sb_add(b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep, (unsigned long long)s->count);
  fmt_double(num, sizeof num, s->sum);
  if (*labels) {
    sb_add(b, "%s_sum{%s} %s\n%s_count{%s} %llu\n", name, labels, num, name, labels,
           (unsigned long long)s->count);
  } else {
    sb_add(b, "%s_sum %s\n%s_count %llu\n", name, num, name, (unsigned long long)s->count);
  }
}

static void hist_render(struct sb *b, const char *name, const char *labels, size_t off, const double *le) {
  struct snap s;
  memset(&s, 0, sizeof s);
  snap_add(&s, off);
  snap_render(b, name, labels, &s, le, NULL, 0);
}

/* byte offset of the duration histogram of route r, method m */
static size_t dur_off(int r, int m) {
  return offsetof(struct srv_metrics, dur) + sizeof(struct hist) * ((size_t)r * NMETHODS + (size_t)m);
}

struct reqrow { uint64_t key, n; };
static int reqrow_cmp(const void *a, const void *b) {
  uint64_t x = ((const struct reqrow *)a)->key, y = ((const struct reqrow *)b)->key;
  return x < y ? -1 : x > y;
}

static const char *route_name(int r) {
  return r < G.cfg.nroutes ? G.cfg.routes[r].path : "unmatched";
}

static void process_metrics(struct sb *b) {
  FILE *f;
  long ticks = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
  unsigned long utime = 0, stime = 0, vsize = 0;
  long rss = 0;
  int fds = 0;
  struct rlimit rl;
  DIR *d;
  if ((f = fopen("/proc/self/stat", "r"))) {
    char buf[1024], *p;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    if ((p = strrchr(buf, ')')))
      sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d %*d %*d %*d %*u %lu %ld",
             &utime, &stime, &vsize, &rss);
    fclose(f);
  }
  if ((d = opendir("/proc/self/fd"))) {
    struct dirent *e;
    while ((e = readdir(d))) if (e->d_name[0] != '.') fds++;
    closedir(d);
    fds--; /* the directory stream itself */
  }
  sb_add(b, "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
            "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total %.2f\n",
         (double)(utime + stime) / (double)(ticks > 0 ? ticks : 100));
  sb_add(b, "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
            "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes %ld\n", rss * page);
  sb_add(b, "# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
            "# TYPE process_virtual_memory_bytes gauge\nprocess_virtual_memory_bytes %lu\n", vsize);
  sb_add(b, "# HELP process_open_fds Number of open file descriptors.\n"
            "# TYPE process_open_fds gauge\nprocess_open_fds %d\n", fds);
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
    sb_add(b, "# HELP process_max_fds Maximum number of open file descriptors.\n"
              "# TYPE process_max_fds gauge\nprocess_max_fds %llu\n", (unsigned long long)rl.rlim_cur);
  sb_add(b, "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n"
            "# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds %.3f\n",
         (double)G.started_ns / 1e9);
}

static uint64_t sum_cnt(int which) {
  uint64_t s = 0;
  int w;
  for (w = 0; w < nall; w++) s += LOAD(all[w]->cnt[which]);
  return s;
}

static long sum_gauge(int which) {
  long s = 0;
  int w;
  for (w = 0; w < nall; w++) s += LOAD(all[w]->gauge[which]);
  return s;
}

static void counter(struct sb *b, const char *name, const char *help, uint64_t v) {
  sb_add(b, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name, (unsigned long long)v);
}

static void gauge(struct sb *b, const char *name, const char *help, long v) {
  sb_add(b, "# HELP %s %s\n# TYPE %s gauge\n%s %ld\n", name, help, name, name, v);
}

/* one of the observation histograms (OBS_*), with its HELP and TYPE lines */
static void histogram(struct sb *b, const char *name, const char *help, int obs, const double *le) {
  sb_add(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
  hist_render(b, name, "", offsetof(struct srv_metrics, obs) + sizeof(struct hist) * obs, le);
}

/* the counters summed over every thread, in the order /metrics lists them */
static const struct { const char *name, *help; int which; } COUNTERS[] = {
  {"eidos_response_cache_hits_total",
   "Responses sent from the response cache.", CNT_CACHE_HITS},
  {"eidos_response_cache_misses_total",
   "Cacheable requests that were not in the response cache.", CNT_CACHE_MISSES},
  {"eidos_recipe_cache_hits_total",
   "Recipes answered from the canonical-criteria cache.", CNT_RECIPE_CACHE_HITS},
  {"eidos_recipe_cache_misses_total",
   "Recipes built because the canonical criteria were not cached.", CNT_RECIPE_CACHE_MISSES},
  {"eidos_handler_errors_total",
   "Requests answered 500 because a handler failed.", CNT_LUA_ERRORS},
  {"eidos_request_timeouts_total",
   "Requests answered 504 because they passed their deadline.", CNT_TIMEOUTS},
  {"eidos_queue_rejects_total",
   "Requests answered 503 because their pool's queue was full (--queue-limit).", CNT_QUEUE_REJECTS},
  {"eidos_requests_cancelled_total",
   "Requests whose client went away before the answer.", CNT_CANCELLED},
  {"eidos_shutdown_cut_total",
   "Requests answered 503 because the shutdown deadline passed.", CNT_SHUTDOWN_CUT},
  {"eidos_slow_readers_cut_total",
   "Connections cut because the client did not read its answer within --request-timeout.", CNT_SLOW_READERS},
};


/* ---- upstream's names ----
 * The families dashboards and alerts written for the upstream server (aicr)
 * read, rendered from the same counters beside ours (docs/api.md, "Metrics"):
 *   aicr_http_requests_total{method,path,status}   requests, path = the route
 *   aicr_http_request_duration_seconds{method,path} at upstream's buckets
 *   aicr_http_requests_in_flight, aicr_rate_limit_rejects_total,
 *   aicr_panic_recoveries_total (handler failures answered 500),
 *   aicr_recipe_build_duration_seconds, aicr_recipe_cache_misses_total.
 * Like upstream, the probes and /metrics (builtin routes) are not counted. */

static const double up_dur_le[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
static const double up_recipe_le[] = {1, 5, 10, 30}; /* upstream also has 60, 120, 300 */

static int builtin_route(int r) { return r < G.cfg.nroutes && G.cfg.routes[r].builtin; }

static void upstream_metrics(struct sb *b, const struct reqrow *rows, size_t nrows) {
  size_t i, j;
  int r, m;
  char l1[300], labels[512];
  sb_add(b, "# HELP aicr_http_requests_total HTTP requests (upstream's name; eidos_http_requests_total by route).\n"
            "# TYPE aicr_http_requests_total counter\n");
  for (i = 0; rows && i < nrows; i = j) {
    uint64_t k = rows[i].key - 1, n = 0;
    for (j = i; j < nrows && rows[j].key == rows[i].key; j++) n += rows[j].n;
    if (builtin_route((int)(k >> 20))) continue;
    sb_add(b, "aicr_http_requests_total{method=\"%s\",path=\"%s\",status=\"%u\"} %llu\n", methods[(k >> 12) & 0xff],
           lv(route_name((int)(k >> 20)), l1, sizeof l1), (unsigned)(k & 0xfff), (unsigned long long)n);
  }
  sb_add(b, "# HELP aicr_http_request_duration_seconds HTTP request latency (upstream's name and buckets).\n"
            "# TYPE aicr_http_request_duration_seconds histogram\n");
  for (r = 0; r <= G.cfg.nroutes; r++) {
    if (builtin_route(r)) continue;
    for (m = 0; m < NMETHODS; m++) {
      struct snap s;
      memset(&s, 0, sizeof s);
      snap_add(&s, dur_off(r, m));
      if (!s.count) continue; /* upstream has a series only for what was requested */
      snprintf(labels, sizeof labels, "method=\"%s\",path=\"%s\"", methods[m], lv(route_name(r), l1, sizeof l1));
      snap_render(b, "aicr_http_request_duration_seconds", labels, &s, dur_le, up_dur_le,
                  (int)(sizeof up_dur_le / sizeof *up_dur_le));
    }
  }
  gauge(b, "aicr_http_requests_in_flight", "Requests being answered now (upstream's name).", sum_gauge(0));
  counter(b, "aicr_rate_limit_rejects_total", "Requests refused with 429 (upstream's name).", sum_cnt(CNT_RATE_REJECTS));
  counter(b, "aicr_panic_recoveries_total", "Requests answered 500 because a handler failed (upstream's name).",
          sum_cnt(CNT_LUA_ERRORS));
  sb_add(b, "# HELP aicr_recipe_build_duration_seconds Time to build a recipe (upstream's name and buckets up to 30s).\n"
            "# TYPE aicr_recipe_build_duration_seconds histogram\n");
  {
    struct snap s;
    memset(&s, 0, sizeof s);
    snap_add(&s, offsetof(struct srv_metrics, obs) + sizeof(struct hist) * OBS_RECIPE_BUILD);
    snap_render(b, "aicr_recipe_build_duration_seconds", "", &s, dur_le, up_recipe_le,
                (int)(sizeof up_recipe_le / sizeof *up_recipe_le));
  }
  counter(b, "aicr_recipe_cache_misses_total", "Recipes built because they were not cached (upstream's name).",
          sum_cnt(CNT_RECIPE_CACHE_MISSES));
}

char *srv_metrics_render(size_t *len) {
  struct sb b = {malloc(16384), 0, 16384, 0};
  struct reqrow *rows;
  size_t nrows = 0, i, j;
  int w, r;
  char l1[300], l2[300], l3[300], l4[64], labels[512];
  if (!b.p) return NULL;
  pthread_mutex_lock(&reg_mu);
  rows = malloc(sizeof *rows * REQ_SLOTS * (size_t)(nall ? nall : 1));
  for (w = 0; rows && w < nall; w++)
    for (i = 0; i < REQ_SLOTS; i++) {
      uint64_t k = atomic_load_explicit(&all[w]->req[i].key, memory_order_acquire);
      if (k) { rows[nrows].key = k; rows[nrows].n = LOAD(all[w]->req[i].n); nrows++; }
    }
  if (rows) qsort(rows, nrows, sizeof *rows, reqrow_cmp);
  sb_add(&b, "# HELP eidos_http_requests_total HTTP requests answered, by route, method and status code.\n"
             "# TYPE eidos_http_requests_total counter\n");
  for (i = 0; rows && i < nrows; i = j) {
    uint64_t k = rows[i].key - 1, n = 0;
    for (j = i; j < nrows && rows[j].key == rows[i].key; j++) n += rows[j].n;
    sb_add(&b, "eidos_http_requests_total{route=\"%s\",method=\"%s\",code=\"%u\"} %llu\n",
           lv(route_name((int)(k >> 20)), l1, sizeof l1), methods[(k >> 12) & 0xff],
           (unsigned)(k & 0xfff), (unsigned long long)n);
  }
  sb_add(&b, "# HELP eidos_http_request_duration_seconds Time from the first byte of a request to the end of its response, by route.\n"
             "# TYPE eidos_http_request_duration_seconds histogram\n");
  for (r = 0; r <= G.cfg.nroutes; r++) {
    struct snap s;
    int m;
    memset(&s, 0, sizeof s);
    for (m = 0; m < NMETHODS; m++) snap_add(&s, dur_off(r, m));
    snprintf(labels, sizeof labels, "route=\"%s\"", lv(route_name(r), l1, sizeof l1));
    snap_render(&b, "eidos_http_request_duration_seconds", labels, &s, dur_le, NULL, 0);
  }
  gauge(&b, "eidos_http_requests_in_flight", "Requests being answered now.", sum_gauge(0));
  gauge(&b, "eidos_http_connections", "Open client connections.", sum_gauge(1));
  counter(&b, "eidos_http_connections_total", "Client connections accepted.", sum_cnt(CNT_CONNECTIONS));
  counter(&b, "eidos_rate_limit_rejects_total", "Requests refused with 429 by the per-client rate limit.",
          sum_cnt(CNT_RATE_REJECTS));
  gauge(&b, "eidos_rate_limit_clients", "Client addresses tracked by the rate limiter.",
        G.rl ? (long)srv_rl_clients(G.rl) : 0);
  for (i = 0; i < sizeof COUNTERS / sizeof COUNTERS[0]; i++)
    counter(&b, COUNTERS[i].name, COUNTERS[i].help, sum_cnt(COUNTERS[i].which));
  gauge(&b, "eidos_jobs_queued", "Requests waiting for a Lua thread.", sum_gauge(2));
  gauge(&b, "eidos_jobs_running", "Requests a Lua thread is answering now.", sum_gauge(3));
  histogram(&b, "eidos_recipe_build_duration_seconds", "Time to build a recipe (cache misses only).",
            OBS_RECIPE_BUILD, dur_le);
  histogram(&b, "eidos_bundle_build_duration_seconds", "Time to build a bundle archive.", OBS_BUNDLE_BUILD, dur_le);
  histogram(&b, "eidos_bundle_size_bytes", "Size of the bundle archives sent.", OBS_BUNDLE_SIZE, size_le);
  upstream_metrics(&b, rows, nrows);
  free(rows);
  pthread_mutex_unlock(&reg_mu);
  gauge(&b, "eidos_ready", "1 when the server accepts traffic (not loading, not draining).",
        atomic_load(&G.phase) == PHASE_SERVING);
  gauge(&b, "eidos_workers", "I/O threads, each with its own event loop.", G.nworkers);
  gauge(&b, "eidos_handlers", "Lua threads answering recipes, queries and the index.", G.pool_size[POOL_API]);
  gauge(&b, "eidos_bundlers", "Lua threads building bundles.", G.pool_size[POOL_BUNDLE]);
  {
    struct srv_cache_stats cs;
    srv_cache_stats(G.cache, &cs);
    gauge(&b, "eidos_response_cache_entries", "Keys in the response cache.", (long)cs.entries);
    gauge(&b, "eidos_response_cache_bytes", "Bytes the response cache keeps alive (entries, responses, shared parts).",
          (long)cs.bytes);
    counter(&b, "eidos_response_cache_evictions_total", "Entries evicted from the response cache to stay within its bounds.",
            cs.evictions);
  }
  sb_add(&b, "# HELP eidos_build_info The version, commit and build date of this binary.\n"
             "# TYPE eidos_build_info gauge\n"
             "eidos_build_info{version=\"%s\",commit=\"%s\",date=\"%s\",lua=\"%s\"} 1\n",
         lv(eidos_build_version, l1, sizeof l1), lv(eidos_build_commit, l2, sizeof l2),
         lv(eidos_build_date, l3, sizeof l3), lv(LUA_RELEASE, l4, sizeof l4));
  process_metrics(&b);
  *len = b.len;
  if (b.oom) { free(b.p); return NULL; }
  return b.p;
}
