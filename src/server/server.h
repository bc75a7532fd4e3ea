/*
 * server.h -- eidosd, the HTTP API server: what the parts of src/server
 * share. main.c reads the configuration (through Lua), binds the listening
 * sockets, starts the workers and runs the shutdown sequence; worker.c owns
 * one event loop, one Lua state and one response cache per thread;
 * ratelimit.c is the per-client token bucket table shared by all workers;
 * handler.c answers a request (rate limit, cache, the Lua call);
 * respond.c writes answers and errors; hooks.c is eidosd's place in h2o's
 * pipeline (the error-body filter and the access logger); client.c tells
 * who the client is (trusted proxies); metrics.c holds the counters
 * (written by one worker each, summed when /metrics is read); cache.c the
 * per-worker response cache; util.c request ids, clocks, JSON strings and
 * the access-log buffer; lserver.c the Lua module eidos.server seen by the
 * worker states. Policy (routes, handlers,
 * error texts of the API) is Lua (lua/eidos/api/); C only moves bytes.
 */
#ifndef EIDOS_SERVER_H
#define EIDOS_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <h2o.h>
#include <lua.h>

#define SRV_MAXROUTES 32
#define SRV_MAXWORKERS 256

/* what C does itself for a route (everything else calls Lua) */
enum { BUILTIN_NONE = 0, BUILTIN_HEALTH, BUILTIN_READY, BUILTIN_METRICS };

struct srv_route {
  char path[128];
  int builtin;      /* BUILTIN_* */
  int limited;      /* subject to the rate limit */
};

#define SRV_MAXTRUSTED 64

struct srv_cidr { int family; unsigned char addr[16]; int bits; };

/* the configuration, read once from Lua (eidos.api.server.configure) */
struct srv_config {
  char host[256];             /* "" = every interface */
  int port;
  int threads;
  double rate;                /* tokens per second per client, 0 = off */
  double burst;
  size_t body_limit;
  uint64_t request_timeout_ms;
  uint64_t shutdown_timeout_ms;
  uint64_t shutdown_delay_ms;
  size_t cache_entries;       /* response cache entries per worker, 0 = off */
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
       CNT_RECIPE_CACHE_MISSES, CNT_LUA_ERRORS, CNT_TIMEOUTS, CNT_CONNECTIONS, CNT_N };
struct srv_metrics;
struct srv_metrics *srv_metrics_new(void);
/* a finished request */
void srv_metrics_request(struct srv_metrics *m, int route, const char *method, size_t mlen,
                         int status, double seconds);
void srv_metrics_observe(struct srv_metrics *m, int which, double v);
void srv_metrics_count(struct srv_metrics *m, int which, uint64_t n);
void srv_metrics_gauge(struct srv_metrics *m, int which, long delta); /* 0 in flight, 1 open connections */
/* the Prometheus text of every worker's metrics (malloc'd) */
char *srv_metrics_render(size_t *len);
/* which observation / counter a Lua name refers to, or -1 */
int srv_metrics_obs_index(const char *name);
int srv_metrics_cnt_index(const char *name);

/* ---- cache.c ---- */
/* a complete response kept ready to send: one ref-counted h2o shared
 * allocation, so a response in flight keeps it alive after eviction */
struct srv_resp {
  uint64_t hash;
  int status;
  size_t nheaders;
  h2o_iovec_t key;
  h2o_iovec_t body;
  h2o_iovec_t etag;                 /* points into headers, or {NULL,0} */
  h2o_iovec_t *names, *values;      /* nheaders each */
};
struct srv_cache;
struct srv_cache *srv_cache_new(size_t entries);
/* the response stored under key, or NULL (no reference taken) */
struct srv_resp *srv_cache_get(struct srv_cache *c, const char *key, size_t keylen, uint64_t hash);
/* store resp (the cache takes a reference); evicts the oldest when full */
void srv_cache_put(struct srv_cache *c, struct srv_resp *resp);
uint64_t srv_hash(const void *p, size_t len, uint64_t seed);
/* allocate a response with room for n headers, the key and bodylen bytes */
struct srv_resp *srv_resp_alloc(size_t nheaders, size_t strbytes, size_t bodylen, char **strings);

/* ---- worker.c ---- */
/* one client connection (freed when the socket and its requests are gone) */
struct srv_conn {
  struct srv_conn *prev, *next;
  struct srv_worker *w;
  h2o_socket_t *sock;        /* NULL once closed */
  int refs;                  /* the socket + one per request in flight */
  int active;                /* requests between on_req and their end */
  int shut;                  /* shutdown(2) done while closing */
  unsigned char key[16];     /* the peer address, the rate limit key */
  size_t keylen;
  char peer[48];             /* the peer address as text */
};

struct srv_worker {
  int id, listen_fd;
  pthread_t th;
  h2o_evloop_t *loop;
  h2o_context_t ctx;
  h2o_accept_ctx_t actx;
  h2o_socket_t *listener;
  lua_State *L;
  int handler_ref;
  struct srv_cache *cache;
  struct srv_metrics *m;
  struct srv_logbuf log;
  struct srv_rng rng;
  struct srv_conn conns;     /* list sentinel */
  long nconns;
  uint64_t deadline_ns;      /* of the Lua call running now */
  int deadline_hit;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int state;                 /* 0 starting, 1 ready, -code failed */
  int forced;                /* the shutdown timeout cut connections */
  atomic_int done;
};
extern __thread struct srv_worker *srv_self;

struct srv_worker *srv_worker_new(int id, int listen_fd);
int srv_worker_start(struct srv_worker *w);
/* wait for the worker's Lua state: 0 ready, else the exit code it failed with */
int srv_worker_wait_ready(struct srv_worker *w);
void srv_conn_release(struct srv_conn *c);

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
/* send a prepared response; conditional: 304 when If-None-Match matches its ETag */
void srv_send_resp(h2o_req_t *req, struct rctx *x, struct srv_resp *r, int conditional);
void srv_builtin(h2o_req_t *req, struct rctx *x, int which, const char *path);

/* ---- handler.c ---- */
int srv_on_req(h2o_handler_t *self, h2o_req_t *req);
struct srv_conn *srv_conn_of(h2o_req_t *req);
void srv_request_id(h2o_req_t *req, struct srv_worker *w, h2o_iovec_t *id);

/* ---- hooks.c ---- */
/* register the h2o host, handler, filter and logger on G.h2o */
void srv_h2o_setup(void);

/* ---- lserver.c ---- */
/* preload eidos.server into a worker state (metrics sink m) */
void srv_lua_preload(lua_State *L, struct srv_metrics *m);
extern const char srv_openapi_yaml[];
extern const size_t srv_openapi_yaml_len;

#endif
