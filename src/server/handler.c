/*
 * handler.c -- what eidosd does with one request, on its worker thread:
 * request id (a valid X-Request-Id is echoed, else a UUID is made), the
 * client (client.c), the per-client rate limit, the built-in routes, the
 * response cache, and else one protected call of the worker's Lua handler
 * under the request deadline (a count hook that keeps raising once the
 * deadline has passed, so a pcall in Lua cannot swallow it).
 *
 * The Lua handler: handler(req) -> status, body, headers, cache where req
 * is {method, path, query, headers (lower-case names), body, id, client},
 * headers a flat list {name, value, ...} and cache true when the answer
 * depends on nothing but the path, the query and the Accept header.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>
#include "../host/state.h"
#include "server.h"

struct req_rec { struct srv_worker *w; struct srv_conn *c; };

/* ---- the Lua call ---- */

static void deadline_hook(lua_State *L, lua_Debug *ar) {
  struct srv_worker *w = srv_self;
  (void)ar;
  if (srv_mono_ns() > w->deadline_ns) {
    w->deadline_hit = 1;
    luaL_error(L, "request deadline passed");
  }
}

static void push_request(lua_State *L, h2o_req_t *req, struct rctx *x) {
  size_t plen = srv_path_len(req), i;
  lua_createtable(L, 0, 8);
  lua_pushlstring(L, req->method.base, req->method.len);
  lua_setfield(L, -2, "method");
  lua_pushlstring(L, req->path.base, plen);
  lua_setfield(L, -2, "path");
  if (req->query_at != SIZE_MAX) lua_pushlstring(L, req->path.base + plen + 1, req->path.len - plen - 1);
  else lua_pushliteral(L, "");
  lua_setfield(L, -2, "query");
  if (req->entity.base) {
    lua_pushlstring(L, req->entity.base, req->entity.len);
    lua_setfield(L, -2, "body");
  }
  lua_pushlstring(L, x->id.base, x->id.len);
  lua_setfield(L, -2, "id");
  lua_pushstring(L, x->client);
  lua_setfield(L, -2, "client");
  lua_createtable(L, 0, (int)req->headers.size);
  for (i = 0; i < req->headers.size; i++) {
    const h2o_header_t *h = req->headers.entries + i;
    lua_pushlstring(L, h->name->base, h->name->len);
    lua_pushvalue(L, -1);
    if (lua_rawget(L, -3) == LUA_TSTRING) {
      lua_pushliteral(L, ", ");
      lua_pushlstring(L, h->value.base, h->value.len);
      lua_concat(L, 3);
    } else {
      lua_pop(L, 1);
      lua_pushlstring(L, h->value.base, h->value.len);
    }
    lua_rawset(L, -3);
  }
  lua_setfield(L, -2, "headers");
}

static void log_failure(struct rctx *x, const char *what, const char *err) {
  char extra[4200];
  size_t n = (size_t)snprintf(extra, sizeof extra, ",\"requestId\":");
  n += srv_json_str(extra + n, 200, x->id.base, x->id.len);
  n += (size_t)snprintf(extra + n, sizeof extra - n, ",\"error\":");
  srv_json_str(extra + n, sizeof extra - n - 1, err, strlen(err));
  srv_log(4, what, extra);
}

/* the Lua results at stack 2..5 -> a response (NULL with *err on a bad shape) */
static struct srv_resp *resp_from_lua(lua_State *L, h2o_iovec_t key, const char **err) {
  lua_Integer status;
  size_t blen = 0, nh = 0, strbytes = key.len, i, len;
  const char *body = NULL;
  char *s;
  struct srv_resp *r;
  int isnum;
  status = lua_tointegerx(L, 2, &isnum);
  if (!isnum || status < 100 || status > 599) { *err = "handler returned no valid status"; return NULL; }
  if (lua_type(L, 3) == LUA_TSTRING) body = lua_tolstring(L, 3, &blen);
  else if (!lua_isnil(L, 3)) { *err = "handler returned a body that is not a string"; return NULL; }
  if (lua_istable(L, 4)) {
    nh = lua_rawlen(L, 4) / 2;
    for (i = 1; i <= nh * 2; i++) {
      if (lua_rawgeti(L, 4, (lua_Integer)i) != LUA_TSTRING) {
        lua_pop(L, 1);
        *err = "handler returned a header name or value that is not a string";
        return NULL;
      }
      lua_tolstring(L, -1, &len);
      strbytes += len;
      lua_pop(L, 1);
    }
  } else if (!lua_isnil(L, 4)) { *err = "handler returned headers that are not a list"; return NULL; }
  r = srv_resp_alloc(nh, strbytes, blen, &s);
  r->status = (int)status;
  if (blen) memcpy(r->body.base, body, blen);
  for (i = 0; i < nh; i++) {
    const char *p;
    size_t k;
    lua_rawgeti(L, 4, (lua_Integer)(2 * i + 1));
    p = lua_tolstring(L, -1, &len);
    for (k = 0; k < len; k++) s[k] = (char)((p[k] >= 'A' && p[k] <= 'Z') ? p[k] + 32 : p[k]);
    r->names[i] = h2o_iovec_init(s, len);
    s += len;
    lua_rawgeti(L, 4, (lua_Integer)(2 * i + 2));
    p = lua_tolstring(L, -1, &len);
    memcpy(s, p, len);
    r->values[i] = h2o_iovec_init(s, len);
    s += len;
    lua_pop(L, 2);
    if (r->names[i].len == 4 && !memcmp(r->names[i].base, "etag", 4)) r->etag = r->values[i];
  }
  if (key.len) {
    memcpy(s, key.base, key.len);
    r->key = h2o_iovec_init(s, key.len);
  }
  return r;
}

static void call_lua(h2o_req_t *req, struct rctx *x, h2o_iovec_t key, uint64_t hash) {
  struct srv_worker *w = x->w;
  lua_State *L = w->L;
  struct srv_resp *r;
  const char *err = NULL;
  int rc;
  lua_settop(L, 0);
  lua_pushcfunction(L, eidos_host_traceback);
  lua_rawgeti(L, LUA_REGISTRYINDEX, w->handler_ref);
  push_request(L, req, x);
  w->deadline_ns = srv_mono_ns() + G.cfg.request_timeout_ms * 1000000u;
  w->deadline_hit = 0;
  lua_sethook(L, deadline_hook, LUA_MASKCOUNT, 10000);
  rc = lua_pcall(L, 1, 4, 1);
  lua_sethook(L, NULL, 0, 0);
  if (w->deadline_hit) {
    char msg[160], det[80];
    srv_metrics_count(w->m, CNT_TIMEOUTS, 1);
    snprintf(msg, sizeof msg, "the request took longer than the server's deadline of %llu ms",
             (unsigned long long)G.cfg.request_timeout_ms);
    snprintf(det, sizeof det, "{\"deadlineMs\":%llu}", (unsigned long long)G.cfg.request_timeout_ms);
    srv_send_error(req, x, 504, "TIMEOUT", msg, det, 1);
    lua_settop(L, 0);
    lua_gc(L, LUA_GCCOLLECT);
    return;
  }
  if (rc != LUA_OK) {
    const char *m = lua_tostring(L, -1);
    srv_metrics_count(w->m, CNT_LUA_ERRORS, 1);
    log_failure(x, "request handler failed", m ? m : "(error object is not a string)");
    srv_send_error(req, x, 500, "INTERNAL", "internal server error", NULL, 1);
    lua_settop(L, 0);
    return;
  }
  r = resp_from_lua(L, lua_toboolean(L, 5) ? key : h2o_iovec_init(NULL, 0), &err);
  if (!r) {
    srv_metrics_count(w->m, CNT_LUA_ERRORS, 1);
    log_failure(x, "request handler failed", err);
    srv_send_error(req, x, 500, "INTERNAL", "internal server error", NULL, 1);
    lua_settop(L, 0);
    return;
  }
  lua_settop(L, 0);
  if (r->key.len && r->status == 200) {
    r->hash = hash;
    srv_cache_put(w->cache, r);
  }
  srv_send_resp(req, x, r, 0);
  h2o_mem_release_shared(r); /* the request's pool (and maybe the cache) keep it */
}

/* ---- the h2o handler ---- */

static void req_rec_dispose(void *p) {
  struct req_rec *rr = p;
  srv_metrics_gauge(rr->w->m, 0, -1);
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

  if (route >= 0 && G.cfg.routes[route].builtin) {
    srv_builtin(req, &x, G.cfg.routes[route].builtin, G.cfg.routes[route].path);
    return 0;
  }

  {
    h2o_iovec_t key = h2o_iovec_init(NULL, 0);
    uint64_t hash = 0;
    if (w->cache && (SRV_IS(req, "GET") || SRV_IS(req, "HEAD"))) {
      h2o_iovec_t acc = srv_req_header(req, H2O_TOKEN_ACCEPT);
      struct srv_resp *r;
      key.len = req->path.len + 1 + acc.len;
      key.base = h2o_mem_alloc_pool(&req->pool, key.len);
      memcpy(key.base, req->path.base, req->path.len);
      key.base[req->path.len] = '\n';
      if (acc.len) memcpy(key.base + req->path.len + 1, acc.base, acc.len);
      hash = srv_hash(key.base, key.len, 0);
      if ((r = srv_cache_get(w->cache, key.base, key.len, hash))) {
        srv_metrics_count(w->m, CNT_CACHE_HITS, 1);
        srv_send_resp(req, &x, r, 1);
        return 0;
      }
      srv_metrics_count(w->m, CNT_CACHE_MISSES, 1);
    }
    call_lua(req, &x, key, hash);
  }
  return 0;
}

