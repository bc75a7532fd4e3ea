/*
 * main.c -- the eidosd executable (also what `eidos serve` runs). The
 * configuration is policy: Lua parses the flags and environment
 * (eidos.api.server.configure) and hands C a plain table. C then binds one
 * listening socket per I/O thread on the same address (SO_REUSEPORT), sets
 * up TLS when asked, starts the pools of Lua threads (each loads its own
 * state) and then the I/O threads, and waits on SIGTERM/SIGINT in the main
 * thread. Shutdown: /ready answers 503 at once, requests are still served
 * for --shutdown-delay (so load balancers can notice), then the listeners
 * close and the I/O threads finish what is in flight. --shutdown-timeout
 * (counted from the signal) is a real deadline: what is still waiting for
 * a Lua thread then is answered 503 with Connection: close, connections
 * still receiving or sending are closed, and a Lua thread still stuck in
 * C is left behind. The process exits 0 when everything finished in time,
 * 1 when the deadline cut something (within ~SRV_FLUSH_MS + the Lua
 * threads' grace of the deadline), at once (1) on a second signal.
 */
#include <errno.h>
#include <netdb.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <lauxlib.h>
#include "../host/state.h"
#include "server.h"

#if defined(__SANITIZE_ADDRESS__)
/* libh2o keeps per-thread free lists of pool chunks and socket buffers
 * (h2o_mem_alloc_recycle) that no API releases; they die with the worker
 * threads. Not ours to free: tell LeakSanitizer. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:h2o_mem_alloc_recycle\n"; }
#endif

/* ---- configuration from Lua ---- */

static void get_str(lua_State *L, const char *k, char *buf, size_t cap) {
  lua_getfield(L, -1, k);
  if (lua_type(L, -1) == LUA_TSTRING) snprintf(buf, cap, "%s", lua_tostring(L, -1));
  else buf[0] = 0;
  lua_pop(L, 1);
}

static double get_num(lua_State *L, const char *k, double dflt) {
  double v;
  lua_getfield(L, -1, k);
  v = lua_isnumber(L, -1) ? lua_tonumber(L, -1) : dflt;
  lua_pop(L, 1);
  return v;
}

static int get_bool(lua_State *L, const char *k) {
  int v;
  lua_getfield(L, -1, k);
  v = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return v;
}

/* -1 (and a message) when an entry of trusted_proxies is not a CIDR */
static int get_trusted(lua_State *L, char *err, size_t errlen) {
  lua_Integer i, n;
  int rc = 0;
  lua_getfield(L, -1, "trusted_proxies");
  n = lua_istable(L, -1) ? (lua_Integer)lua_rawlen(L, -1) : 0;
  for (i = 1; i <= n && rc == 0; i++) {
    lua_rawgeti(L, -1, i);
    if (G.cfg.ntrusted >= SRV_MAXTRUSTED) {
      snprintf(err, errlen, "--trusted-proxies: at most %d entries", SRV_MAXTRUSTED);
      rc = -1;
    } else if (!lua_isstring(L, -1) || srv_cidr_parse(lua_tostring(L, -1), &G.cfg.trusted[G.cfg.ntrusted]) != 0) {
      snprintf(err, errlen, "invalid value %.100s in --trusted-proxies (accepted: IP addresses and CIDRs such as 10.0.0.0/8, fd00::/8)",
               lua_isstring(L, -1) ? lua_tostring(L, -1) : "?");
      rc = -1;
    } else G.cfg.ntrusted++;
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return rc;
}

static void get_routes(lua_State *L) {
  lua_Integer i, n;
  lua_getfield(L, -1, "routes");
  n = lua_istable(L, -1) ? (lua_Integer)lua_rawlen(L, -1) : 0;
  for (i = 1; i <= n && G.cfg.nroutes < SRV_MAXROUTES - 1; i++) {
    struct srv_route *r = &G.cfg.routes[G.cfg.nroutes];
    char b[32];
    if (lua_rawgeti(L, -1, i) != LUA_TTABLE) { lua_pop(L, 1); continue; }
    get_str(L, "path", r->path, sizeof r->path);
    get_str(L, "builtin", b, sizeof b);
    r->builtin = !strcmp(b, "health") ? BUILTIN_HEALTH : !strcmp(b, "ready") ? BUILTIN_READY
               : !strcmp(b, "metrics") ? BUILTIN_METRICS : !strcmp(b, "console") ? BUILTIN_CONSOLE : BUILTIN_NONE;
    r->limited = get_bool(L, "limited");
    r->prefix = get_bool(L, "prefix");
    r->page = get_bool(L, "page");
    get_str(L, "pool", b, sizeof b);
    r->pool = !strcmp(b, "bundlers") ? POOL_BUNDLE : POOL_API;
    lua_pop(L, 1);
    if (r->path[0]) G.cfg.nroutes++;
  }
  lua_pop(L, 1);
}

/* -1 to go on, else the exit code (help shown or the error reported) */
static int configure(int argc, char **argv) {
  lua_State *L = eidos_host_newstate();
  int rc;
  char level[16], err[300];
  if (!L) {
    fprintf(stderr, "eidosd: cannot create a Lua state: out of memory\n");
    return 8;
  }
  G.cfg.argc = argc;
  G.cfg.argv = argv;
  if ((rc = srv_api_prepare(L, "configure")) == LUA_OK) {
    srv_console_push_embedded(L);
    rc = lua_pcall(L, 2, 1, 1);
  }
  if (rc != LUA_OK) {
    fprintf(stderr, "eidosd: internal error: %s\n", lua_tostring(L, -1) ? lua_tostring(L, -1) : "?");
    lua_close(L);
    return 8;
  }
  if (!lua_istable(L, -1)) {
    rc = (int)luaL_optinteger(L, -1, 1);
    lua_close(L);
    return rc;
  }
  get_str(L, "host", G.cfg.host, sizeof G.cfg.host);
  G.cfg.port = (int)get_num(L, "port", 8080);
  G.cfg.threads = (int)get_num(L, "threads", 0);
  G.cfg.handlers = (int)get_num(L, "handlers", 0);
  G.cfg.bundlers = (int)get_num(L, "bundlers", 0);
  G.cfg.queue_limit = (long)get_num(L, "queue_limit", 256);
  G.cfg.rate = get_num(L, "rate", 0);
  G.cfg.burst = get_num(L, "burst", 1);
  G.cfg.body_limit = (size_t)get_num(L, "body_limit", 4 << 20);
  G.cfg.request_timeout_ms = (uint64_t)(get_num(L, "request_timeout", 30) * 1000);
  G.cfg.shutdown_timeout_ms = (uint64_t)(get_num(L, "shutdown_timeout", 30) * 1000);
  G.cfg.shutdown_delay_ms = (uint64_t)(get_num(L, "shutdown_delay", 0) * 1000);
  G.cfg.cache_entries = (size_t)get_num(L, "cache_entries", 65536);
  G.cfg.cache_bytes = (size_t)get_num(L, "cache_size", 16 << 20);
  G.cfg.access_log = get_bool(L, "access_log");
  get_str(L, "log_level", level, sizeof level);
  G.cfg.log_level = !strcmp(level, "debug") ? 1 : !strcmp(level, "warn") ? 3 : !strcmp(level, "error") ? 4 : 2;
  get_str(L, "tls_cert", G.cfg.tls_cert, sizeof G.cfg.tls_cert);
  get_str(L, "tls_key", G.cfg.tls_key, sizeof G.cfg.tls_key);
  get_routes(L);
  if (srv_console_load(L, err, sizeof err) != 0) {
    srv_log(4, err, NULL);
    lua_close(L);
    return 8;
  }
  if (get_trusted(L, err, sizeof err) != 0) {
    srv_log(4, err, NULL);
    lua_close(L);
    return 2;
  }
  lua_close(L);
  return -1;
}

/* ---- listening sockets ---- */

static int listen_on(const struct sockaddr *sa, socklen_t len, int v6only_off, char *err, size_t errlen) {
  int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, zero = 0;
  if (fd < 0) {
    snprintf(err, errlen, "socket: %s", strerror(errno));
    return -1;
  }
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (sa->sa_family == AF_INET6 && v6only_off) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  if (bind(fd, sa, len) != 0 || listen(fd, 4096) != 0) {
    snprintf(err, errlen, "%s", strerror(errno));
    close(fd);
    return -1;
  }
  return fd;
}

/* one socket per worker on the same address; fills the real address */
static int open_listeners(int *fds, int n, char *addr, size_t addrlen, char *err, size_t errlen) {
  struct addrinfo hints, *res = NULL, *ai;
  struct sockaddr_storage ss;
  socklen_t sslen = 0;
  char port[16], host[INET6_ADDRSTRLEN];
  int i, rc, any = G.cfg.host[0] == 0, pass;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  snprintf(port, sizeof port, "%d", G.cfg.port);
  if ((rc = getaddrinfo(any ? NULL : G.cfg.host, port, &hints, &res)) != 0) {
    snprintf(err, errlen, "cannot resolve listen address %s: %s", G.cfg.host, gai_strerror(rc));
    return -1;
  }
  fds[0] = -1;
  /* every interface: prefer one dual-stack IPv6 socket, else IPv4 */
  for (pass = 0; pass < 2 && fds[0] < 0; pass++)
    for (ai = res; ai && fds[0] < 0; ai = ai->ai_next) {
      if (any && (pass == 0) != (ai->ai_family == AF_INET6)) continue;
      if (!any && pass == 1) break;
      fds[0] = listen_on(ai->ai_addr, ai->ai_addrlen, any, err, errlen);
      if (fds[0] >= 0) {
        sslen = sizeof ss;
        getsockname(fds[0], (struct sockaddr *)&ss, &sslen);
      }
    }
  freeaddrinfo(res);
  if (fds[0] < 0) {
    char e2[256];
    snprintf(e2, sizeof e2, "%.200s", err);
    snprintf(err, errlen, "cannot listen on %s:%d: %s", G.cfg.host, G.cfg.port, e2);
    return -1;
  }
  for (i = 1; i < n; i++) {
    if ((fds[i] = listen_on((struct sockaddr *)&ss, sslen, any, err, errlen)) < 0) {
      char e2[256];
      snprintf(e2, sizeof e2, "%.200s", err);
      snprintf(err, errlen, "cannot open listener %d on %s:%d: %s", i + 1, G.cfg.host, G.cfg.port, e2);
      return -1;
    }
  }
  if (ss.ss_family == AF_INET6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
    inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
    G.cfg.port = ntohs(a->sin6_port);
    snprintf(addr, addrlen, "[%s]:%d", host, G.cfg.port);
  } else {
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
    G.cfg.port = ntohs(a->sin_port);
    snprintf(addr, addrlen, "%s:%d", host, G.cfg.port);
  }
  return 0;
}

static int setup_tls(char *err, size_t errlen) {
  unsigned long e;
  if (!G.cfg.tls_cert[0]) return 0;
  G.ssl = SSL_CTX_new(TLS_server_method());
  if (!G.ssl) goto fail;
  SSL_CTX_set_min_proto_version(G.ssl, TLS1_2_VERSION);
  SSL_CTX_set_options(G.ssl, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  if (SSL_CTX_use_certificate_chain_file(G.ssl, G.cfg.tls_cert) != 1) {
    snprintf(err, errlen, "cannot read the TLS certificate %.400s", G.cfg.tls_cert);
    goto detail;
  }
  if (SSL_CTX_use_PrivateKey_file(G.ssl, G.cfg.tls_key, SSL_FILETYPE_PEM) != 1) {
    snprintf(err, errlen, "cannot read the TLS key %.400s", G.cfg.tls_key);
    goto detail;
  }
  if (SSL_CTX_check_private_key(G.ssl) != 1) {
    snprintf(err, errlen, "the TLS key %.400s does not match the certificate %.400s", G.cfg.tls_key, G.cfg.tls_cert);
    goto detail;
  }
  h2o_ssl_register_alpn_protocols(G.ssl, h2o_http2_alpn_protocols);
  return 0;
fail:
  snprintf(err, errlen, "cannot create the TLS context");
detail:
  if ((e = ERR_get_error())) {
    size_t n = strlen(err);
    snprintf(err + n, errlen - n, ": ");
    ERR_error_string_n(e, err + n + 2, errlen - n - 2);
  }
  return -1;
}

/* CPUs this process may use: its affinity mask, capped by a cgroup CPU
 * quota (a container limited to 2 CPUs on a 64-CPU node gets 2 workers) */
static int cpu_count(void) {
  cpu_set_t set;
  long n = 0, quota = -1, period = 0;
  FILE *f;
  if (sched_getaffinity(0, sizeof set, &set) == 0) n = CPU_COUNT(&set);
  if (n <= 0) n = sysconf(_SC_NPROCESSORS_ONLN);
  if (n <= 0) n = 1;
  if ((f = fopen("/sys/fs/cgroup/cpu.max", "r"))) { /* cgroup v2: "QUOTA PERIOD" or "max PERIOD" */
    char q[32];
    if (fscanf(f, "%31s %ld", q, &period) == 2 && strcmp(q, "max") != 0) quota = atol(q);
    fclose(f);
  } else if ((f = fopen("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "r"))) { /* cgroup v1 */
    if (fscanf(f, "%ld", &quota) != 1) quota = -1;
    fclose(f);
    if ((f = fopen("/sys/fs/cgroup/cpu/cpu.cfs_period_us", "r"))) {
      if (fscanf(f, "%ld", &period) != 1) period = 0;
      fclose(f);
    }
  }
  if (quota > 0 && period > 0) {
    long c = (quota + period - 1) / period;
    if (c >= 1 && c < n) n = c;
  }
  return (int)n;
}

static void fail(const char *what, const char *err) {
  char extra[1200];
  size_t n = (size_t)snprintf(extra, sizeof extra, ",\"error\":");
  srv_json_str(extra + n, sizeof extra - n - 1, err, strlen(err));
  srv_log(4, what, extra);
}

/* the Lua threads' grace after the shutdown deadline: a thread that does
 * not stop by then (stuck in C) is left behind */
#define SRV_GRACE_MS 500

static int start_pools(int cpus) {
  int i, code, first = 0;
  int sizes[POOL_N] = {G.cfg.handlers > 0 ? G.cfg.handlers : cpus, G.cfg.bundlers > 0 ? G.cfg.bundlers : cpus};
  for (i = 0; i < POOL_N; i++) {
    if (sizes[i] > SRV_MAXWORKERS) sizes[i] = SRV_MAXWORKERS;
    G.pool_size[i] = sizes[i];
    if (!(G.pools[i] = srv_pool_start(i, sizes[i], G.cfg.queue_limit, first))) {
      fail("cannot start a Lua thread", strerror(errno));
      return 8;
    }
    first += sizes[i];
  }
  for (i = 0; i < POOL_N; i++)
    if ((code = srv_pool_wait_ready(G.pools[i])) != 0) return code;
  return 0;
}

int main(int argc, char **argv) {
  sigset_t set;
  int fds[SRV_MAXWORKERS], i, n, code, forced = 0, sig, cpus, stuck = 0;
  long cut = 0;
  char addr[300], err[1024], extra[1400];
  uint64_t t_signal = 0;
  struct timespec tick = {0, 100 * 1000000};

  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, NULL); /* inherited by every worker */
  signal(SIGPIPE, SIG_IGN);
  G.started_ns = srv_real_ns();
  atomic_store(&G.phase, PHASE_LOADING);

  eidos_host_roots(argc, argv);
  if ((code = configure(argc, argv)) >= 0) return code;

  cpus = cpu_count();
  n = G.cfg.threads > 0 ? G.cfg.threads : cpus;
  if (n > SRV_MAXWORKERS) n = SRV_MAXWORKERS;
  G.nworkers = n;
  if (open_listeners(fds, n, addr, sizeof addr, err, sizeof err) != 0) {
    fail("cannot listen", err);
    return 6;
  }
  if (setup_tls(err, sizeof err) != 0) {
    fail("cannot set up TLS", err);
    return 2;
  }
  if (G.cfg.rate > 0 && !(G.rl = srv_rl_new(G.cfg.rate, G.cfg.burst))) {
    fail("cannot start", "out of memory");
    return 8;
  }
  G.cache = srv_cache_new(G.cfg.cache_entries, G.cfg.cache_bytes);
  /* what jobs may hold of requests at once: 64 MiB, or two bodies at the limit */
  G.job_bytes_max = G.cfg.body_limit * 2 > (64u << 20) ? G.cfg.body_limit * 2 : (64u << 20);
  srv_h2o_setup();
  if ((code = start_pools(cpus)) != 0) {
    srv_log(4, "a Lua thread could not load the API; exiting", NULL);
    _exit(code);
  }
  for (i = 0; i < n; i++) {
    if (!(G.workers[i] = srv_worker_new(i, fds[i])) || srv_worker_start(G.workers[i]) != 0) {
      fail("cannot start an I/O thread", strerror(errno));
      return 8;
    }
  }
  atomic_store(&G.phase, PHASE_SERVING);
  snprintf(extra, sizeof extra,
           ",\"address\":\"%s\",\"port\":%d,\"threads\":%d,\"handlers\":%d,\"bundlers\":%d,\"tls\":%s,\"rateLimit\":%g,\"burst\":%g,\"bodyLimitBytes\":%zu,\"requestTimeoutMs\":%llu,\"cacheBytes\":%zu,\"pid\":%d",
           addr, G.cfg.port, n, G.pool_size[POOL_API], G.pool_size[POOL_BUNDLE],
           G.ssl ? "true" : "false", G.cfg.rate, G.cfg.burst, G.cfg.body_limit,
           (unsigned long long)G.cfg.request_timeout_ms, G.cache ? G.cfg.cache_bytes : 0, (int)getpid());
  srv_log(2, "listening", extra);

  for (;;) {
    int phase = atomic_load(&G.phase), alldone = 1;
    uint64_t now;
    sig = sigtimedwait(&set, NULL, &tick);
    now = srv_mono_ns();
    if (sig > 0) {
      if (phase < PHASE_DRAINING) {
        t_signal = now;
        snprintf(extra, sizeof extra, ",\"signal\":\"%s\",\"shutdownDelayMs\":%llu,\"shutdownTimeoutMs\":%llu",
                 sig == SIGTERM ? "SIGTERM" : "SIGINT", (unsigned long long)G.cfg.shutdown_delay_ms,
                 (unsigned long long)G.cfg.shutdown_timeout_ms);
        srv_log(2, "shutting down: not ready, finishing requests in flight", extra);
        atomic_store(&G.phase, PHASE_DRAINING);
        phase = PHASE_DRAINING;
      } else {
        srv_log(3, "second signal: exiting now", NULL);
        _exit(1);
      }
    }
    if (phase == PHASE_DRAINING) {
      uint64_t delay = G.cfg.shutdown_delay_ms < G.cfg.shutdown_timeout_ms ? G.cfg.shutdown_delay_ms
                                                                           : G.cfg.shutdown_timeout_ms;
      if (now >= t_signal + delay * 1000000u) {
        G.close_deadline_ns = t_signal + G.cfg.shutdown_timeout_ms * 1000000u;
        atomic_store(&G.phase, PHASE_CLOSING);
        srv_log(2, "listeners closed", NULL);
      }
    }
    if (atomic_load(&G.phase) != PHASE_CLOSING) continue;
    for (i = 0; i < n; i++) if (!atomic_load(&G.workers[i]->done)) alldone = 0;
    if (alldone) break;
  }
  for (i = 0; i < n; i++) {
    pthread_join(G.workers[i]->th, NULL);
    forced += (int)G.workers[i]->forced;
    cut += G.workers[i]->cut;
  }
  {
    uint64_t until = srv_mono_ns() + SRV_GRACE_MS * 1000000u;
    for (i = 0; i < POOL_N; i++) srv_pool_stop(G.pools[i]);
    for (i = 0; i < POOL_N; i++) stuck += srv_pool_join(G.pools[i], until);
  }
  if (forced || cut || stuck) {
    snprintf(extra, sizeof extra, ",\"connectionsCut\":%d,\"requestsCut\":%ld,\"luaThreadsLeftBusy\":%d", forced,
             cut, stuck);
    srv_log(3, "stopped: the shutdown timeout cut requests", extra);
    if (stuck) _exit(1); /* a Lua thread still runs: do not tear down under it */
    return 1;
  }
  srv_log(2, "stopped", NULL);
  return 0;
}
