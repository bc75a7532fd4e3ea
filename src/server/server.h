/*
 * server.h -- eidosd, the HTTP API server: what the parts of src/server
 * share. The execution model: I/O threads (worker.c, --threads) each run
 * one h2o event loop and never run Lua; they accept, parse, rate-limit,
 * answer the probes, /metrics and cached responses, and hand every other
 * request to a pool of Lua threads (pool.c: --handlers for the API,
 * --bundlers for bundles), each thread with its own Lua state. A request
 * handed to a pool is a job (job.c); its I/O thread keeps a deadline timer
 * on it and answers 504 when the deadline passes whatever the Lua thread is
 * doing (C work included), 503 when the shutdown deadline cuts it.
 * global.c holds G, the one global every part reads;
 * main.c reads the configuration (through Lua), binds the listening
 * sockets, starts the threads and runs the shutdown sequence;
 * ratelimit.c is the per-client token bucket table shared by all threads;
 * handler.c routes a request (rate limit, built-ins, cache, job);
 * respond.c writes answers and errors; hooks.c is eidosd's place in h2o's
 * pipeline (the error-body filter and the access logger); client.c tells
 * who the client is (trusted proxies); metrics.c holds the counters
 * (written by one thread each, summed when /metrics is read); cache.c the
 * prepared responses and the response cache shared by every thread,
 * bounded by bytes; console.c the console's page and assets (prepared
 * once at start, answered by the I/O threads); util.c request ids, clocks,
 * JSON strings and the access-log buffer; lserver.c the Lua module eidos.server seen by the
 * pool states. Policy (routes, handlers, error texts of the API) is Lua
 * (lua/eidos/api/); C only moves bytes.
 */
#ifndef EIDOS_SERVER_H
#define EIDOS_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <h2o.h>
#include <lua.h>
#include "core/res.h"

#define SRV_MAXROUTES 32
#define SRV_MAXWORKERS 256

/* what C does itself for a route (everything else calls Lua) */
enum { BUILTIN_NONE = 0, BUILTIN_HEALTH, BUILTIN_READY, BUILTIN_METRICS, BUILTIN_CONSOLE };

/* the pools of Lua threads */
enum { POOL_API = 0, POOL_BUNDLE, POOL_N };

struct srv_route {
  char path[128];
  int builtin;      /* BUILTIN_* */
  int limited;      /* subject to the rate limit */
  int pool;         /* POOL_*: which Lua threads answer it */
  int prefix;       /* path is a prefix ("/ui/"): every path below it is this route */
  int page;         /* a GET from a client that prefers text/html gets the console page */
};

#define SRV_MAXTRUSTED 64

struct srv_cidr { int family; unsigned char addr[16]; int bits; };

/* the configuration, read once from Lua (eidos.api.server.configure) */
struct srv_config {
  char host[256];             /* "" = every interface */
  int port;
  int threads;                /* I/O threads (event loops) */
  int handlers, bundlers;     /* Lua threads of each pool (0: one per CPU) */
  long queue_limit;           /* jobs waiting per pool before 503 */
  double rate;                /* tokens per second per client, 0 = off */
  double burst;
  size_t body_limit;
  uint64_t request_timeout_ms;
  uint64_t shutdown_timeout_ms;
  uint64_t shutdown_delay_ms;
  size_t cache_entries;       /* response cache entries, 0 = off */
  size_t cache_bytes;         /* response cache bytes, 0 = off */
  int access_log;
  int log_level;              /* 1 debug .. 4 error */
  char tls_cert[1024], tls_key[1024];
  int ntrusted;               /* proxies whose X-Forwarded-For is believed */
  struct srv_cidr trusted[SRV_MAXTRUSTED];
  int nroutes;
  struct srv_route routes[SRV_MAXROUTES];
  int argc;                   /* the arguments, passed again to each worker */
  char **argv;
};

/* phases of the process, in order */
enum { PHASE_LOADING = 0, PHASE_SERVING, PHASE_DRAINING, PHASE_CLOSING };

struct srv_global {
  struct srv_config cfg;
  atomic_int phase;
  uint64_t started_ns;           /* CLOCK_REALTIME at start */
  _Atomic uint64_t close_deadline_ns; /* monotonic; set before PHASE_CLOSING begins */
  struct srv_ratelimit *rl;
  int nworkers;
  struct srv_worker *workers[SRV_MAXWORKERS];
  struct srv_pool *pools[POOL_N];
  int pool_size[POOL_N];          /* Lua threads of each pool */
  struct srv_cache *cache;        /* NULL when off */
  struct srv_console *console;    /* NULL when there is none */
  _Atomic size_t job_bytes;       /* request copies held by jobs not freed yet */
  size_t job_bytes_max;
  h2o_globalconf_t h2o;
  SSL_CTX *ssl;
};
extern struct srv_global G;

/* ---- util.c ---- */
uint64_t srv_mono_ns(void);
uint64_t srv_real_ns(void);
/* RFC 3339 UTC with milliseconds into buf (>= 32 bytes) */
size_t srv_timestamp(char *buf, uint64_t real_ns);
/* JSON string (with quotes) of s into out, NUL-terminated; returns its
 * length, below cap (the string is cut short when it does not fit) */
size_t srv_json_str(char *out, size_t cap, const char *s, size_t len);
/* log one lifecycle line (JSON) at level (1 debug .. 4 error); extra is
 * NULL or a pre-formatted ",\"k\":v" tail */
void srv_log(int level, const char *msg, const char *extra);

struct srv_rng { uint64_t s[4]; };
void srv_rng_seed(struct srv_rng *r);
/* a random UUID v4 into out (37 bytes with NUL) */
void srv_uuid(struct srv_rng *r, char *out);
/* is s an acceptable client-supplied request id? */
int srv_valid_request_id(const char *s, size_t len);

/* a buffer of access-log lines, written out in whole lines */
struct srv_logbuf { char *buf; size_t len, cap; };
void srv_logbuf_add(struct srv_logbuf *b, const char *line, size_t len);
void srv_logbuf_flush(struct srv_logbuf *b);

/* ---- ratelimit.c ---- */
struct srv_rl_result { int allowed; long remaining; long reset_unix; long retry_after; };
struct srv_ratelimit *srv_rl_new(double rate, double burst);
void srv_rl_take(struct srv_ratelimit *rl, const void *key, size_t keylen, uint64_t now_ns,
                 struct srv_rl_result *out);
size_t srv_rl_clients(struct srv_ratelimit *rl);

/* ---- metrics.c ---- */
enum { OBS_RECIPE_BUILD = 0, OBS_BUNDLE_BUILD, OBS_BUNDLE_SIZE, OBS_N };
enum { CNT_RATE_REJECTS = 0, CNT_CACHE_HITS, CNT_CACHE_MISSES, CNT_RECIPE_CACHE_HITS,
       CNT_RECIPE_CACHE_MISSES, CNT_LUA_ERRORS, CNT_TIMEOUTS, CNT_CONNECTIONS, CNT_QUEUE_REJECTS,
       CNT_CANCELLED, CNT_SHUTDOWN_CUT, CNT_SLOW_READERS, CNT_N };
struct srv_metrics;
struct srv_metrics *srv_metrics_new(void);
/* a finished request */
void srv_metrics_request(struct srv_metrics *m, int route, const char *method, size_t mlen,
                         int status, double seconds);
void srv_metrics_observe(struct srv_metrics *m, int which, double v);
void srv_metrics_count(struct srv_metrics *m, int which, uint64_t n);
/* 0 in flight, 1 open connections, 2 jobs queued, 3 jobs running */
void srv_metrics_gauge(struct srv_metrics *m, int which, long delta);
/* the Prometheus text of every worker's metrics (malloc'd) */
char *srv_metrics_render(size_t *len);
/* which observation / counter a Lua name refers to, or -1 */
int srv_metrics_obs_index(const char *name);
int srv_metrics_cnt_index(const char *name);

/* ---- cache.c ---- */
/* A complete response kept ready to send: status, headers and a body of up
 * to SRV_MAXPARTS parts. Parts of cacheable responses that are large are
 * interned (one copy shared by every response with the same bytes, e.g. the
 * common tail of recipes that resolve to the same overlays). Reference
 * counted (atomically): the cache, each request sending it and a job may
 * hold it. */
#define SRV_MAXPARTS 4
#define SRV_BLOB_MIN 128           /* smaller parts are copied into the response */
#define SRV_CACHE_MAXKEY 4096      /* longer keys are never cached */
struct srv_blob;
struct srv_resp {
  _Atomic long refs;
  int status;
  int cached;                       /* cache entries naming it (cache lock) */
  size_t nheaders, nparts, bodylen, bytes;
  h2o_iovec_t etag;                 /* points into values, or {NULL,0} */
  h2o_iovec_t *names, *values;      /* nheaders each */
  h2o_iovec_t parts[SRV_MAXPARTS];
  struct srv_blob *blobs[SRV_MAXPARTS];
};
struct srv_cache;
struct srv_cache_stats { size_t entries, bytes, blobs; uint64_t evictions; };
/* a cache bounded by entries and bytes (NULL when either is 0) */
struct srv_cache *srv_cache_new(size_t entries, size_t bytes);
/* the response stored under key with a reference taken, or NULL */
struct srv_resp *srv_cache_get(struct srv_cache *c, const char *key, size_t keylen, uint64_t hash);
/* store resp under key (the cache takes its own reference); the least
 * recently used entries go when a bound is passed */
void srv_cache_put(struct srv_cache *c, const char *key, size_t keylen, uint64_t hash, struct srv_resp *resp);
void srv_cache_stats(struct srv_cache *c, struct srv_cache_stats *out);
uint64_t srv_hash(const void *p, size_t len, uint64_t seed);
/* a response with room for nheaders (strbytes of names and values) and
 * ownbytes of body parts; *strings and *own point at the free room */
struct srv_resp *srv_resp_new(int status, size_t nheaders, size_t strbytes, size_t ownbytes, char **strings,
                              char **own);
/* append a body part: interned in c when c is not NULL and the part has
 * at least SRV_BLOB_MIN bytes, else copied into *own (advanced); -1 when
 * out of memory */
int srv_resp_part(struct srv_resp *r, struct srv_cache *c, const char *p, size_t len, char **own);
/* header i of r: name (lower-cased) and value copied at *strings
 * (advanced); an "etag" header becomes r->etag */
void srv_resp_header(struct srv_resp *r, size_t i, const char *name, size_t nlen, const char *value, size_t vlen,
                     char **strings);
void srv_resp_addref(struct srv_resp *r);
void srv_resp_release(struct srv_resp *r);
/* keep r alive until req ends (one reference handed to req's pool) */
void srv_resp_link(h2o_req_t *req, struct srv_resp *r);

/* ---- worker.c ---- */
/* one client connection (freed when the socket and its requests are gone) */
struct srv_conn {
  struct srv_conn *prev, *next;
  struct srv_worker *w;
  h2o_socket_t *sock;        /* NULL once closed */
  int refs;                  /* the socket + one per request in flight */
  int active;                /* requests between on_req and their end */
  int shut;                  /* shutdown(2) done (closing, or a slow reader) */
  uint64_t writing_since;    /* an answer waits for the client to read it */
  unsigned char key[16];     /* the peer address, the rate limit key */
  size_t keylen;
  char peer[48];             /* the peer address as text */
};

struct srv_job;

/* one I/O thread: an event loop, no Lua */
struct srv_worker {
  int id, listen_fd;
  pthread_t th;
  h2o_evloop_t *loop;
  h2o_context_t ctx;
  h2o_accept_ctx_t actx;
  h2o_socket_t *listener;
  struct srv_metrics *m;
  struct srv_logbuf log;
  struct srv_rng rng;
  struct srv_conn conns;     /* list sentinel */
  long nconns;
  h2o_multithread_queue_t *mq;
  h2o_multithread_receiver_t done_rx;  /* jobs coming back from the pools */
  h2o_timeout_t deadline;    /* --request-timeout, for the jobs of this loop */
  struct srv_job *jobs;      /* jobs of this loop not answered yet */
  long cut;                  /* requests the shutdown deadline cut */
  long forced;               /* connections open when the shutdown deadline passed */
  atomic_int done;
};
extern __thread struct srv_worker *srv_self;

struct srv_worker *srv_worker_new(int id, int listen_fd);
int srv_worker_start(struct srv_worker *w);
void srv_conn_release(struct srv_conn *c);

/* ---- pool.c ---- */
/* a pool of Lua threads, each with its own state, taking jobs in order */
struct srv_pool;
struct srv_exec;
/* start n threads named name (ids from first_id); NULL when out of memory */
struct srv_pool *srv_pool_start(int kind, int n, long limit, int first_id);
/* wait until every thread of p loaded its state: 0, or the exit code */
int srv_pool_wait_ready(struct srv_pool *p);
/* queue j (0); -1 when limit jobs are waiting already, -2 when the jobs
 * not finished yet hold G.job_bytes_max bytes of requests (a job alone
 * always passes) */
int srv_pool_submit(struct srv_pool *p, struct srv_job *j);
/* tell the threads to leave once idle */
void srv_pool_stop(struct srv_pool *p);
/* join them; returns how many are still busy at until_ns (not joined) */
int srv_pool_join(struct srv_pool *p, uint64_t until_ns);
/* "handlers", "bundlers" (global.c) */
const char *srv_pool_name(int kind);

/* ---- job.c ---- */
enum { JOB_QUEUED = 0, JOB_RUNNING, JOB_DONE, JOB_CANCELLED };
enum { OUT_NONE = 0, OUT_RESP, OUT_FAILED, OUT_TIMEOUT };

/* One request handed to a pool. The I/O thread owns req and everything of
 * the answer; the pool thread reads the copies (in) and writes the outcome.
 * state is the only field both touch at once (atomically). A job always
 * comes back to its I/O thread (srv_job_return), which frees it once it
 * is back and its request has been answered or has gone away. */
struct srv_job {
  h2o_multithread_message_t msg;   /* the way back to the I/O thread */
  struct srv_job *qnext;           /* in the pool's queue */
  struct srv_job *lnext, **lprev;  /* in the I/O thread's list of jobs */
  struct srv_worker *w;
  h2o_req_t *req;                  /* NULL once the request went away */
  struct req_rec *rr;
  struct rctx *x;                  /* in req's pool */
  h2o_timeout_entry_t timer;
  atomic_int state;                /* JOB_* */
  int route, answered, returned, gone;  /* gone: the client closed its side */
  size_t bytes;                    /* of the copies (counted in G.job_bytes once queued) */
  uint64_t started_ns, deadline_ns;
  /* copies for the Lua handler (one allocation with the job) */
  h2o_iovec_t method, path, query, body, id, client, key;
  int has_query, has_body;
  uint64_t hash;
  size_t nheaders;
  h2o_iovec_t *hnames, *hvalues;
  /* the outcome */
  int outcome;                     /* OUT_* */
  int cache;                       /* store resp under key */
  struct srv_resp *resp;
  char *err;                       /* OUT_FAILED: what to log (malloc'd) */
};
struct rctx;
/* a job for the request (copies what the Lua handler reads); NULL when out
 * of memory */
struct srv_job *srv_job_new(h2o_req_t *req, struct rctx *x, int route, h2o_iovec_t key, uint64_t hash);
/* run j in the calling pool thread's Lua state (handler at stack index
 * href in the registry); fills its outcome */
void srv_job_run(struct srv_job *j, lua_State *L, int href);
/* give a finished (or skipped) job back to its I/O thread */
void srv_job_return(struct srv_job *j);
/* I/O thread: start tracking j (deadline timer, list); cut all at shutdown */
void srv_job_track(struct srv_job *j);
void srv_jobs_cut(struct srv_worker *w);
/* h2o's multithread receiver callback of the I/O threads */
void srv_jobs_back(h2o_multithread_receiver_t *rx, h2o_linklist_t *messages);
/* the request of j went away */
void srv_job_orphan(struct srv_job *j);
/* I/O thread: cancel the jobs whose client closed its connection */
void srv_jobs_watch(struct srv_worker *w);
/* the state of a job, for the count hook of its Lua thread */
int srv_job_should_stop(struct srv_job *j);
/* the job the calling Lua thread runs now (NULL outside srv_job_run) */
struct srv_job *srv_job_current(void);
/* the light userdata a handler returns as its status after
 * server.answer_cached(key) found an answer */
extern const char srv_cached_sentinel;
/* Lua thread: answer j with resp (a reference is taken) */
void srv_job_reuse(struct srv_job *j, struct srv_resp *resp);

/* ---- client.c ---- */
struct srv_client { unsigned char key[16]; size_t keylen; char text[48]; };
/* "10.0.0.0/8", "fd00::/8", "192.0.2.7": 0, or -1 when malformed */
int srv_cidr_parse(const char *s, struct srv_cidr *out);
/* the client of req: the peer of c, or the X-Forwarded-For address the
 * trusted proxies vouch for */
void srv_client_of(h2o_req_t *req, const struct srv_conn *c, struct srv_client *out);

/* ---- respond.c ---- */
/* what one request has learnt before it is answered */
struct rctx {
  struct srv_worker *w;
  struct srv_conn *c;
  const unsigned char *key;  /* the client: rate limit key and text */
  size_t keylen;
  const char *client;
  h2o_iovec_t id;            /* X-Request-Id */
  int rl_set;                /* the X-RateLimit-* headers apply */
  struct srv_rl_result rl;
};
const char *srv_reason(int status);
int srv_is_method(h2o_req_t *req, const char *m, size_t len);
#define SRV_IS(req, lit) srv_is_method(req, lit, sizeof(lit) - 1)
size_t srv_path_len(h2o_req_t *req);              /* the path without the query */
int srv_route_of(const char *path, size_t len);   /* index in G.cfg.routes, or -1 */
h2o_iovec_t srv_req_header(h2o_req_t *req, const h2o_token_t *tok);
void srv_add_header(h2o_req_t *req, const char *name, size_t nlen, const char *v, size_t vlen);
/* body must stay valid until the request ends (pool or static memory) */
void srv_send_body(h2o_req_t *req, struct rctx *x, int status, const char *ctype, const char *body,
                   size_t len, const char *cache_control);
h2o_iovec_t srv_error_json(h2o_mem_pool_t *pool, const char *code, const char *msg, const char *details,
                           h2o_iovec_t id, int retryable);
/* details: a JSON object text, or NULL for {} */
void srv_send_error(h2o_req_t *req, struct rctx *x, int status, const char *code, const char *msg,
                    const char *details, int retryable);
/* send a prepared response (a reference is linked to req); conditional:
 * 304 when If-None-Match matches its ETag */
void srv_send_resp(h2o_req_t *req, struct rctx *x, struct srv_resp *r, int conditional);
void srv_builtin(h2o_req_t *req, struct rctx *x, int which, const char *path);
/* 405 (Allow: GET, HEAD) unless req is a GET or HEAD: 1 when answered */
int srv_only_get(h2o_req_t *req, struct rctx *x, const char *path);

/* ---- console.c ---- */
/* The console: a page and its assets, prepared by Lua at start
 * (eidos.api.console, the table at the top of L's stack: {page = PATH,
 * assets = {{path, headers = {name, value, ...}, body, compress}}}) and
 * kept ready to send, with a gzip copy of each compressible one. 0, or -1
 * with a message. */
struct srv_console;
/* push {["ui/NAME"] = contents} of the ui/ files compiled into eidosd */
void srv_console_push_embedded(lua_State *L);
int srv_console_load(lua_State *L, char *err, size_t errlen);
/* does the request's Accept prefer text/html to what the API answers? */
int srv_console_prefers_html(h2o_req_t *req);
/* answer req for route (a page route or the console's builtin): 1 when
 * answered, 0 when the request goes on (to Lua) */
int srv_console_answer(h2o_req_t *req, struct rctx *x, int route);
/* the embedded files of ui/ (cmake/embed.c, table srv_ui_files) */
extern const struct eidos_res_file srv_ui_files[];
extern const size_t srv_ui_nfiles;

/* ---- handler.c ---- */
int srv_on_req(h2o_handler_t *self, h2o_req_t *req);
struct srv_conn *srv_conn_of(h2o_req_t *req);
void srv_request_id(h2o_req_t *req, struct srv_worker *w, h2o_iovec_t *id);
/* the record a request keeps in its pool (its job, its connection) */
struct req_rec { struct srv_worker *w; struct srv_conn *c; struct srv_job *job; };

/* ---- hooks.c ---- */
/* register the h2o host, handler, filter and logger on G.h2o */
void srv_h2o_setup(void);

/* ---- lserver.c ---- */
/* push eidos_host_traceback (at index 1 of an empty stack), the function
 * eidos.api.server[fn] and the table of the arguments G.cfg.argv[1..]:
 * ready for lua_pcall(L, 1 or more, n, 1). LUA_OK, or the status of the
 * require that failed (its error on top). */
int srv_api_prepare(lua_State *L, const char *fn);
/* push the server capability (the table eidos.api receives as
 * opts.server) of a pool thread's state (metrics sink m, the name of its
 * pool), built in a protected call with the message handler at index 1:
 * LUA_OK, or the error status with its message on top  [-0, +1, -] */
int srv_lua_server(lua_State *L, struct srv_metrics *m, const char *pool);
extern const char srv_openapi_yaml[];
extern const size_t srv_openapi_yaml_len;

#endif
