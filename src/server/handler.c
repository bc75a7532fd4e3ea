/*
 * handler.c -- what eidosd's I/O thread does with one request: request id
 * (a valid X-Request-Id is echoed, else a UUID is made), the client
 * (client.c), the per-client rate limit, the built-in routes, the console
 * (console.c), the shared response cache, and else a job (job.c) for the
 * pool of Lua threads of the route -- 503 with Retry-After when that
 * pool's queue is full.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "server.h"

/* ---- the h2o handler ---- */

static void req_rec_dispose(void *p) {
  struct req_rec *rr = p;
  srv_metrics_gauge(rr->w->m, 0, -1);
  if (rr->job) srv_job_orphan(rr->job);
  if (rr->c) {
    rr->c->active--;
    srv_conn_release(rr->c);
  }
}

struct srv_conn *srv_conn_of(h2o_req_t *req) {
  h2o_socket_t *sock;
  if (!req->conn->callbacks->get_socket) return NULL;
  sock = req->conn->callbacks->get_socket(req->conn);
  if (!sock || !sock->on_close.data) return NULL;
  return sock->on_close.data;
}

void srv_request_id(h2o_req_t *req, struct srv_worker *w, h2o_iovec_t *id) {
  ssize_t i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("x-request-id"), -1);
  if (i != -1 && srv_valid_request_id(req->headers.entries[i].value.base, req->headers.entries[i].value.len)) {
    *id = req->headers.entries[i].value;
    return;
  }
  id->base = h2o_mem_alloc_pool(&req->pool, 37);
  srv_uuid(&w->rng, id->base);
  id->len = 36;
}

int srv_on_req(h2o_handler_t *self, h2o_req_t *req) {
  struct srv_worker *w = srv_self;
  struct req_rec *rr = h2o_mem_alloc_shared(&req->pool, sizeof *rr, req_rec_dispose);
  struct rctx x;
  size_t plen = srv_path_len(req);
  int route = srv_route_of(req->path.base, plen);
  (void)self;
  memset(&x, 0, sizeof x);
  x.w = w;
  x.c = srv_conn_of(req);
  rr->w = w;
  rr->c = x.c;
  rr->job = NULL;
  if (x.c) {
    x.c->refs++;
    x.c->active++;
  }
  srv_metrics_gauge(w->m, 0, 1);
  srv_request_id(req, w, &x.id);
  x.client = "unknown";
  if (x.c && G.cfg.ntrusted) {
    struct srv_client *cl = h2o_mem_alloc_pool(&req->pool, sizeof *cl);
    srv_client_of(req, x.c, cl);
    x.key = cl->key;
    x.keylen = cl->keylen;
    x.client = cl->text;
  } else if (x.c) {
    x.key = x.c->key;
    x.keylen = x.c->keylen;
    x.client = x.c->peer;
  }

  if (G.rl && (route < 0 || G.cfg.routes[route].limited)) {
    static const unsigned char none[1] = {0};
    srv_rl_take(G.rl, x.keylen ? x.key : none, x.keylen ? x.keylen : 1, srv_mono_ns(), &x.rl);
    x.rl_set = 1;
    if (!x.rl.allowed) {
      char msg[200], det[200], *ra = h2o_mem_alloc_pool(&req->pool, 24);
      srv_metrics_count(w->m, CNT_RATE_REJECTS, 1);
      snprintf(msg, sizeof msg, "rate limit exceeded for %s: %g requests per second, burst %g; retry after %ld s",
               x.client, G.cfg.rate, G.cfg.burst, x.rl.retry_after);
      snprintf(det, sizeof det, "{\"limit\":%g,\"burst\":%g,\"retryAfterSeconds\":%ld}", G.cfg.rate,
               G.cfg.burst, x.rl.retry_after);
      h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL, ra,
                     (size_t)snprintf(ra, 24, "%ld", x.rl.retry_after));
      srv_send_error(req, &x, 429, "RATE_LIMIT_EXCEEDED", msg, det, 1);
      return 0;
    }
  }

  if (route >= 0 && (G.cfg.routes[route].page || G.cfg.routes[route].builtin == BUILTIN_CONSOLE) &&
      srv_console_answer(req, &x, route))
    return 0;
  if (route >= 0 && G.cfg.routes[route].builtin) {
    srv_builtin(req, &x, G.cfg.routes[route].builtin, G.cfg.routes[route].path);
    return 0;
  }

  {
    h2o_iovec_t key = h2o_iovec_init(NULL, 0);
    uint64_t hash = 0;
    struct srv_job *j;
    struct rctx *xp;
    int rc;
    int pool = route >= 0 ? G.cfg.routes[route].pool : POOL_API;
    if (G.cache && (SRV_IS(req, "GET") || SRV_IS(req, "HEAD")) && req->path.len < SRV_CACHE_MAXKEY) {
      h2o_iovec_t acc = srv_req_header(req, H2O_TOKEN_ACCEPT);
      struct srv_resp *r;
      key.len = req->path.len + 1 + (acc.len < SRV_CACHE_MAXKEY ? acc.len : 0);
      key.base = h2o_mem_alloc_pool(&req->pool, key.len);
      memcpy(key.base, req->path.base, req->path.len);
      key.base[req->path.len] = '\n';
      if (key.len > req->path.len + 1) memcpy(key.base + req->path.len + 1, acc.base, acc.len);
      hash = srv_hash(key.base, key.len, 0);
      if ((r = srv_cache_get(G.cache, key.base, key.len, hash))) {
        srv_metrics_count(w->m, CNT_CACHE_HITS, 1);
        srv_send_resp(req, &x, r, 1);
        srv_resp_release(r);
        return 0;
      }
      srv_metrics_count(w->m, CNT_CACHE_MISSES, 1);
    }
    xp = h2o_mem_alloc_pool(&req->pool, sizeof *xp);
    *xp = x;
    if (!(j = srv_job_new(req, xp, route, key, hash))) {
      srv_send_error(req, &x, 500, "INTERNAL", "out of memory", NULL, 1);
      return 0;
    }
    if ((rc = srv_pool_submit(G.pools[pool], j)) != 0) {
      char msg[240], det[120];
      free(j);
      srv_metrics_count(w->m, CNT_QUEUE_REJECTS, 1);
      if (rc == -1) {
        snprintf(msg, sizeof msg, "the server is busy: %ld requests already wait for its %s (--queue-limit); retry later",
                 G.cfg.queue_limit, srv_pool_name(pool));
        snprintf(det, sizeof det, "{\"queueLimit\":%ld}", G.cfg.queue_limit);
      } else {
        snprintf(msg, sizeof msg, "the server is busy: the requests it is answering hold %zu bytes already; retry later",
                 G.job_bytes_max);
        snprintf(det, sizeof det, "{\"queueBytes\":%zu}", G.job_bytes_max);
      }
      h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL, H2O_STRLIT("1"));
      srv_send_error(req, &x, 503, "SERVICE_UNAVAILABLE", msg, det, 1);
      return 0;
    }
    j->rr = rr;
    rr->job = j;
    srv_job_track(j);
  }
  return 0;
}
