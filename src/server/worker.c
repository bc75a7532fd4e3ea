/*
 * worker.c -- one eidosd I/O thread: its own h2o event loop and context,
 * its own listening socket on the shared port (SO_REUSEPORT), its metrics,
 * the queue on which the Lua pools give its jobs back, and the deadline
 * timer of those jobs. It never runs Lua, so it always answers the probes,
 * /metrics and cached responses at once. It tracks its client connections
 * so that, when the process is closing, it can stop accepting, shut idle
 * keep-alive connections (shutdown(2) only: h2o sees the end of stream and
 * closes them itself) and leave once every request in flight has finished
 * -- or, at the shutdown deadline, answer the requests still waiting for a
 * Lua thread with 503 (Connection: close), give their answers a moment to
 * be written (SRV_FLUSH_MS), and leave. Every 100 ms it looks for clients
 * that left (their jobs are cancelled) and for answers the client has not
 * read within --request-timeout (the connection is cut).
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
#include "server.h"

#define SRV_FLUSH_MS 250

__thread struct srv_worker *srv_self;

struct srv_worker *srv_worker_new(int id, int listen_fd) {
  struct srv_worker *w = calloc(1, sizeof *w);
  if (!w) return NULL;
  w->id = id;
  w->listen_fd = listen_fd;
  w->conns.next = w->conns.prev = &w->conns;
  srv_rng_seed(&w->rng);
  w->m = srv_metrics_new();
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

/* Every 100 ms: cancel the jobs whose client left, and cut connections
 * whose answer has been waiting for the client to read it for longer than
 * --request-timeout (a client that never reads would hold the connection
 * and the answer for ever). */
static void watch(struct srv_worker *w, uint64_t now) {
  struct srv_conn *c;
  if (w->jobs) srv_jobs_watch(w);
  for (c = w->conns.next; c != &w->conns; c = c->next) {
    if (!c->sock || !h2o_socket_is_writing(c->sock)) {
      c->writing_since = 0;
      continue;
    }
    if (!c->writing_since) c->writing_since = now;
    else if (!c->shut && now - c->writing_since > G.cfg.request_timeout_ms * 1000000u) {
      int fd = h2o_socket_get_fd(c->sock);
      if (fd >= 0) shutdown(fd, SHUT_RDWR);
      c->shut = 1;
      srv_metrics_count(w->m, CNT_SLOW_READERS, 1);
    }
  }
}

static void *worker_main(void *arg) {
  struct srv_worker *w = arg;
  int closed = 0;
  uint64_t flush_until = 0, watched = 0;
  srv_self = w;
  /* everything of the loop is made on its own thread: h2o's buffers keep
   * per-thread free lists. No job can come back before the loop accepts. */
  w->loop = h2o_evloop_create();
  h2o_context_init(&w->ctx, w->loop, &G.h2o);
  w->actx.ctx = &w->ctx;
  w->actx.hosts = G.h2o.hosts;
  w->actx.ssl_ctx = G.ssl;
  w->mq = h2o_multithread_create_queue(w->loop);
  h2o_multithread_register_receiver(w->mq, &w->done_rx, srv_jobs_back);
  h2o_timeout_init(w->loop, &w->deadline, G.cfg.request_timeout_ms);
  w->listener = h2o_evloop_socket_create(w->loop, w->listen_fd, H2O_SOCKET_FLAG_DONT_READ);
  w->listener->data = w;
  h2o_socket_read_start(w->listener, on_accept);
  for (;;) {
    h2o_evloop_run(w->loop, 50);
    if (w->log.len) srv_logbuf_flush(&w->log);
    if (srv_mono_ns() - watched > 100000000u) {
      watched = srv_mono_ns();
      watch(w, watched);
    }
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
    if (!flush_until && srv_mono_ns() >= G.close_deadline_ns) {
      /* the deadline: answer what still waits for Lua, then a moment to write */
      w->forced = w->nconns;
      srv_jobs_cut(w);
      flush_until = srv_mono_ns() + SRV_FLUSH_MS * 1000000u;
    }
    if (flush_until && srv_mono_ns() >= flush_until) break;
  }
  if (w->log.len) srv_logbuf_flush(&w->log);
  atomic_store(&w->done, 1);
  return NULL;
}

int srv_worker_start(struct srv_worker *w) {
  return pthread_create(&w->th, NULL, worker_main, w);
}
