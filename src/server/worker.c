/*
 * worker.c -- one eidosd worker thread: its own Lua state (loaded once
 * through eidos.api.server.worker, which returns the request handler), its
 * own h2o event loop and context, its own listening socket on the shared
 * port (SO_REUSEPORT), its response cache and metrics. It tracks its
 * client connections so that, when the process is closing, it can stop
 * accepting, shut idle keep-alive connections (shutdown(2) only: h2o sees
 * the end of stream and closes them itself) and leave once every request
 * in flight has finished or the shutdown deadline has passed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <lauxlib.h>
#include "../host/state.h"
#include "server.h"

__thread struct srv_worker *srv_self;

struct srv_worker *srv_worker_new(int id, int listen_fd) {
  struct srv_worker *w = calloc(1, sizeof *w);
  if (!w) return NULL;
  w->id = id;
  w->listen_fd = listen_fd;
  w->handler_ref = LUA_NOREF;
  w->conns.next = w->conns.prev = &w->conns;
  pthread_mutex_init(&w->mu, NULL);
  pthread_cond_init(&w->cv, NULL);
  srv_rng_seed(&w->rng);
  w->m = srv_metrics_new();
  w->cache = srv_cache_new(G.cfg.cache_entries);
  return w->m ? w : NULL;
}

void srv_conn_release(struct srv_conn *c) {
  if (--c->refs == 0) free(c);
}

static void on_sock_close(void *data) {
  struct srv_conn *c = data;
  struct srv_worker *w = c->w;
  c->prev->next = c->next;
  c->next->prev = c->prev;
  c->sock = NULL;
  w->nconns--;
  srv_metrics_gauge(w->m, 1, -1);
  srv_conn_release(c);
}

static void peer_of(struct srv_conn *c, h2o_socket_t *sock) {
  struct sockaddr_storage ss;
  socklen_t len = h2o_socket_getpeername(sock, (struct sockaddr *)&ss);
  c->keylen = 0;
  strcpy(c->peer, "unknown");
  if (len == 0) return;
  if (ss.ss_family == AF_INET) {
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;
    memcpy(c->key, &a->sin_addr, 4);
    c->keylen = 4;
    inet_ntop(AF_INET, &a->sin_addr, c->peer, sizeof c->peer);
  } else if (ss.ss_family == AF_INET6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
    if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) { /* an IPv4 client on a dual-stack socket */
      memcpy(c->key, a->sin6_addr.s6_addr + 12, 4);
      c->keylen = 4;
      inet_ntop(AF_INET, c->key, c->peer, sizeof c->peer);
    } else {
      memcpy(c->key, &a->sin6_addr, 16);
      c->keylen = 16;
      inet_ntop(AF_INET6, &a->sin6_addr, c->peer, sizeof c->peer);
    }
  } else if (ss.ss_family == AF_UNIX) {
    strcpy(c->peer, "unix");
  }
}

static void on_accept(h2o_socket_t *listener, const char *err) {
  struct srv_worker *w = listener->data;
  int i;
  if (err) return;
  for (i = 0; i < 32; i++) {
    h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
    struct srv_conn *c;
    if (!sock) return;
    if (!(c = calloc(1, sizeof *c))) {
      h2o_socket_close(sock);
      continue;
    }
    c->w = w;
    c->sock = sock;
    c->refs = 1;
    peer_of(c, sock);
    c->next = w->conns.next;
    c->prev = &w->conns;
    w->conns.next->prev = c;
    w->conns.next = c;
    w->nconns++;
    srv_metrics_gauge(w->m, 1, 1);
    srv_metrics_count(w->m, CNT_CONNECTIONS, 1);
    sock->on_close.cb = on_sock_close;
    sock->on_close.data = c;
    h2o_accept(&w->actx, sock);
  }
}

/* Closing: end the keep-alive connections that wait for a next request.
 * A connection is idle when no request of it is in flight, nothing of a
 * next request has arrived (h2o's input buffer and the kernel's are empty)
 * and nothing is being written. */
static void shut_idle(struct srv_worker *w) {
  struct srv_conn *c;
  for (c = w->conns.next; c != &w->conns; c = c->next) {
    int fd, pending = 0;
    if (c->shut || c->active > 0 || !c->sock) continue;
    if (c->sock->input && c->sock->input->size > 0) continue;
    if (h2o_socket_is_writing(c->sock)) continue;
    fd = h2o_socket_get_fd(c->sock);
    if (fd < 0 || ioctl(fd, FIONREAD, &pending) != 0 || pending > 0) continue;
    shutdown(fd, SHUT_RDWR);
    c->shut = 1;
  }
}

static void set_state(struct srv_worker *w, int state) {
  pthread_mutex_lock(&w->mu);
  w->state = state;
  pthread_cond_broadcast(&w->cv);
  pthread_mutex_unlock(&w->mu);
}

/* Lua: require("eidos.api.server").worker(args) -> handler | nil, exitcode */
static int load_lua(struct srv_worker *w) {
  lua_State *L = eidos_host_newstate();
  int i, rc;
  if (!L) {
    srv_log(4, "cannot create a Lua state: out of memory", NULL);
    return 8;
  }
  srv_lua_preload(L, w->m);
  lua_pushcfunction(L, eidos_host_traceback);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "eidos.api.server");
  rc = lua_pcall(L, 1, 1, 1);
  if (rc == LUA_OK) {
    lua_getfield(L, -1, "worker");
    lua_createtable(L, G.cfg.argc, 0);
    for (i = 1; i < G.cfg.argc; i++) {
      lua_pushstring(L, G.cfg.argv[i]);
      lua_rawseti(L, -2, i);
    }
    lua_pushinteger(L, w->id);
    rc = lua_pcall(L, 2, 2, 1);
  }
  if (rc != LUA_OK) {
    char extra[1200];
    const char *msg = lua_tostring(L, -1);
    size_t n = (size_t)snprintf(extra, sizeof extra, ",\"error\":");
    srv_json_str(extra + n, sizeof extra - n - 1, msg ? msg : "?", msg ? strlen(msg) : 1);
    srv_log(4, "worker failed to load the Lua API", extra);
    lua_close(L);
    return 8;
  }
  if (!lua_isfunction(L, -2)) { /* nil, exit code: Lua has logged why */
    int code = (int)luaL_optinteger(L, -1, 1);
    lua_close(L);
    return code ? code : 1;
  }
  lua_pop(L, 1);
  w->handler_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_settop(L, 0);
  w->L = L;
  return 0;
}

static void *worker_main(void *arg) {
  struct srv_worker *w = arg;
  int code, closed = 0;
  srv_self = w;
  if ((code = load_lua(w)) != 0) {
    set_state(w, -code);
    atomic_store(&w->done, 1);
    return NULL;
  }
  w->loop = h2o_evloop_create();
  h2o_context_init(&w->ctx, w->loop, &G.h2o);
  w->actx.ctx = &w->ctx;
  w->actx.hosts = G.h2o.hosts;
  w->actx.ssl_ctx = G.ssl;
  w->listener = h2o_evloop_socket_create(w->loop, w->listen_fd, H2O_SOCKET_FLAG_DONT_READ);
  w->listener->data = w;
  h2o_socket_read_start(w->listener, on_accept);
  set_state(w, 1);
  for (;;) {
    h2o_evloop_run(w->loop, 100);
    if (w->log.len) srv_logbuf_flush(&w->log);
    if (atomic_load(&G.phase) < PHASE_CLOSING) continue;
    if (!closed) {
      h2o_socket_read_stop(w->listener);
      h2o_socket_close(w->listener);
      w->listener = NULL;
      h2o_context_request_shutdown(&w->ctx);
      closed = 1;
    }
    shut_idle(w);
    if (w->nconns == 0) break;
    if (srv_mono_ns() >= G.close_deadline_ns) {
      w->forced = 1;
      break;
    }
  }
  if (w->log.len) srv_logbuf_flush(&w->log);
  atomic_store(&w->done, 1);
  return NULL;
}

int srv_worker_start(struct srv_worker *w) {
  pthread_attr_t a;
  int rc;
  pthread_attr_init(&a);
  pthread_attr_setstacksize(&a, 8u << 20); /* Lua and the emitters recurse */
  rc = pthread_create(&w->th, &a, worker_main, w);
  pthread_attr_destroy(&a);
  return rc;
}

int srv_worker_wait_ready(struct srv_worker *w) {
  int s;
  pthread_mutex_lock(&w->mu);
  while (w->state == 0) pthread_cond_wait(&w->cv, &w->mu);
  s = w->state;
  pthread_mutex_unlock(&w->mu);
  return s == 1 ? 0 : -s;
}
