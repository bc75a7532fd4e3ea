/*
 * job.c -- a request handed from an I/O thread to a pool of Lua threads,
 * and back. On the I/O thread: the job is made from the request (copies of
 * what the Lua handler reads: method, path, query, headers, body, request
 * id, client), tracked with a deadline timer, and answered exactly once --
 * with its outcome when it comes back, 504 when --request-timeout passes
 * first (whatever the Lua thread is doing, C work included), 503 when the
 * shutdown deadline cuts it, or not at all when the client went away. On
 * the Lua thread: one protected call of the handler under a count hook
 * that raises (and keeps raising, so a pcall in Lua cannot swallow it) once
 * the deadline has passed or the job was cancelled; the results become a
 * prepared response, stored in the shared cache when Lua says it may be.
 *
 * The Lua handler: handler(req) -> status, body, headers, cache, alias
 * where req is {method, path, query, headers (lower-case names; repeated
 * ones joined with ", "), body, id, client}, body a string or a list of at
 * most 4 strings (sent one after the other; body.share[i] false keeps
 * part i out of the shared copies), headers a flat list {name,
 * value, ...}, cache true when the answer depends on nothing but the path,
 * the query and the Accept header, and alias a key under which the answer
 * is also cached (found again by server.answer_cached). status may be
 * server.CACHED after server.answer_cached(key) returned true.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <lauxlib.h>
#include "../host/state.h"
#include "server.h"

/* ---- on the I/O thread ---- */

static h2o_iovec_t put(char **p, const char *s, size_t len) {
  h2o_iovec_t v = h2o_iovec_init(*p, len);
  if (len) memcpy(*p, s, len);
  *p += len;
  return v;
}

struct srv_job *srv_job_new(h2o_req_t *req, struct rctx *x, int route, h2o_iovec_t key, uint64_t hash) {
  size_t plen = srv_path_len(req), qlen = req->query_at != SIZE_MAX ? req->path.len - plen - 1 : 0;
  size_t clen = strlen(x->client), n = req->headers.size, bytes, i;
  struct srv_job *j;
  char *p;
  bytes = req->method.len + plen + qlen + req->entity.len + x->id.len + clen + key.len;
  for (i = 0; i < n; i++) bytes += req->headers.entries[i].name->len + req->headers.entries[i].value.len;
  if (!(j = calloc(1, sizeof *j + 2 * n * sizeof(h2o_iovec_t) + bytes))) return NULL;
  j->bytes = bytes;
  j->hnames = (h2o_iovec_t *)(j + 1);
  j->hvalues = j->hnames + n;
  p = (char *)(j->hvalues + n);
  j->method = put(&p, req->method.base, req->method.len);
  j->path = put(&p, req->path.base, plen);
  j->has_query = req->query_at != SIZE_MAX;
  j->query = put(&p, req->path.base + plen + (j->has_query ? 1 : 0), qlen);
  j->has_body = req->entity.base != NULL;
  j->body = put(&p, req->entity.base, req->entity.len);
  j->id = put(&p, x->id.base, x->id.len);
  j->client = put(&p, x->client, clen);
  j->key = put(&p, key.base, key.len);
  j->hash = hash;
  for (i = 0; i < n; i++) {
    const h2o_header_t *h = req->headers.entries + i;
    j->hnames[i] = put(&p, h->name->base, h->name->len);
    j->hvalues[i] = put(&p, h->value.base, h->value.len);
  }
  j->nheaders = n;
  j->route = route;
  j->req = req;
  j->x = x;
  j->w = x->w;
  atomic_init(&j->state, JOB_QUEUED);
  j->started_ns = srv_mono_ns();
  j->deadline_ns = j->started_ns + G.cfg.request_timeout_ms * 1000000u;
  return j;
}

static void cancel(struct srv_job *j) {
  int s = JOB_QUEUED;
  if (!atomic_compare_exchange_strong(&j->state, &s, JOB_CANCELLED) && s == JOB_RUNNING)
    atomic_compare_exchange_strong(&j->state, &s, JOB_CANCELLED);
}

static void maybe_free(struct srv_job *j) {
  if (!j->answered || !j->returned) return;
  atomic_fetch_sub(&G.job_bytes, j->bytes);
  srv_resp_release(j->resp);
  free(j->err);
  free(j);
}

/* the request is answered (or gone): stop tracking it */
static void settle(struct srv_job *j) {
  j->answered = 1;
  if (h2o_timeout_is_linked(&j->timer)) h2o_timeout_unlink(&j->timer);
  if (j->lprev) {
    *j->lprev = j->lnext;
    if (j->lnext) j->lnext->lprev = j->lprev;
    j->lprev = NULL;
  }
  if (j->rr) j->rr->job = NULL;
  j->rr = NULL;
}

static void log_failure(struct srv_job *j, const char *what, const char *err) {
  char extra[4200];
  size_t n = (size_t)snprintf(extra, sizeof extra, ",\"requestId\":");
  n += srv_json_str(extra + n, 200, j->id.base, j->id.len);
  n += (size_t)snprintf(extra + n, sizeof extra - n, ",\"error\":");
  srv_json_str(extra + n, sizeof extra - n - 1, err, strlen(err));
  srv_log(4, what, extra);
}

static void answer_timeout(struct srv_job *j) {
  char msg[160], det[80];
  h2o_req_t *req = j->req;
  struct rctx *x = j->x;
  settle(j);
  srv_metrics_count(j->w->m, CNT_TIMEOUTS, 1);
  snprintf(msg, sizeof msg, "the request took longer than the server's deadline of %llu ms",
           (unsigned long long)G.cfg.request_timeout_ms);
  snprintf(det, sizeof det, "{\"deadlineMs\":%llu}", (unsigned long long)G.cfg.request_timeout_ms);
  srv_send_error(req, x, 504, "TIMEOUT", msg, det, 1);
}

/* the job is back with its outcome */
static void answer(struct srv_job *j) {
  h2o_req_t *req = j->req;
  struct rctx *x = j->x;
  if (j->outcome == OUT_TIMEOUT || srv_mono_ns() > j->deadline_ns) {
    answer_timeout(j);
    return;
  }
  settle(j);
  if (j->outcome == OUT_RESP && j->resp) {
    srv_send_resp(req, x, j->resp, j->resp->status == 200);
    return;
  }
  srv_metrics_count(j->w->m, CNT_LUA_ERRORS, 1);
  log_failure(j, "request handler failed", j->err ? j->err : "no answer");
  srv_send_error(req, x, 500, "INTERNAL", "internal server error", NULL, 1);
}

/* the client closed its side while the job ran: answer for the log only */
static void answer_gone(struct srv_job *j) {
  h2o_req_t *req = j->req;
  struct rctx *x = j->x;
  settle(j);
  req->http1_is_persistent = 0;
  srv_send_error(req, x, 499, "CLIENT_CLOSED_REQUEST", "the client closed the connection before the answer", NULL, 0);
}

static void on_deadline(h2o_timeout_entry_t *entry) {
  struct srv_job *j = H2O_STRUCT_FROM_MEMBER(struct srv_job, timer, entry);
  if (j->answered) return;
  cancel(j);
  answer_timeout(j);
}

void srv_job_track(struct srv_job *j) {
  struct srv_worker *w = j->w;
  j->timer.cb = on_deadline;
  h2o_timeout_link(w->loop, &w->deadline, &j->timer);
  j->lnext = w->jobs;
  if (w->jobs) w->jobs->lprev = &j->lnext;
  w->jobs = j;
  j->lprev = &w->jobs;
}

/* h2o's multithread receiver: jobs coming back from the pools */
void srv_jobs_back(h2o_multithread_receiver_t *rx, h2o_linklist_t *messages) {
  (void)rx;
  while (!h2o_linklist_is_empty(messages)) {
    h2o_multithread_message_t *m = H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, messages->next);
    struct srv_job *j = H2O_STRUCT_FROM_MEMBER(struct srv_job, msg, m);
    h2o_linklist_unlink(&m->link);
    j->returned = 1;
    if (!j->answered && j->req) {
      if (j->gone) answer_gone(j);
      else answer(j);
    }
    maybe_free(j);
  }
}

/* the request went away (client gone): cancel the job */
void srv_job_orphan(struct srv_job *j) {
  cancel(j);
  if (!j->answered && !j->gone) srv_metrics_count(j->w->m, CNT_CANCELLED, 1);
  j->req = NULL;
  settle(j);
  maybe_free(j);
}

void srv_jobs_watch(struct srv_worker *w) {
  struct srv_job *j;
  for (j = w->jobs; j; j = j->lnext) {
    char c;
    int fd;
    ssize_t n;
    if (j->gone || !j->rr || !j->rr->c || !j->rr->c->sock) continue;
    if ((fd = h2o_socket_get_fd(j->rr->c->sock)) < 0) continue;
    n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      j->gone = 1;
      cancel(j);
      srv_metrics_count(w->m, CNT_CANCELLED, 1);
    }
  }
}

void srv_jobs_cut(struct srv_worker *w) {
  while (w->jobs) {
    struct srv_job *j = w->jobs;
    h2o_req_t *req = j->req;
    struct rctx *x = j->x;
    cancel(j);
    settle(j);
    w->cut++;
    srv_metrics_count(w->m, CNT_SHUTDOWN_CUT, 1);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL, H2O_STRLIT("1"));
    srv_send_error(req, x, 503, "SERVICE_UNAVAILABLE",
                   "the server is shutting down and the request did not finish within its --shutdown-timeout",
                   NULL, 1);
  }
}

/* ---- on the Lua thread ---- */

const char srv_cached_sentinel = 0;
static __thread struct srv_job *current;

struct srv_job *srv_job_current(void) {
  return current;
}

int srv_job_should_stop(struct srv_job *j) {
  return atomic_load(&j->state) == JOB_CANCELLED || srv_mono_ns() > j->deadline_ns;
}

void srv_job_return(struct srv_job *j) {
  h2o_multithread_send_message(&j->w->done_rx, &j->msg);
}

void srv_job_reuse(struct srv_job *j, struct srv_resp *resp) {
  srv_resp_release(j->resp);
  j->resp = resp;
  j->outcome = OUT_RESP;
}

static void fail(struct srv_job *j, const char *msg) {
  free(j->err);
  j->err = strdup(msg);
  j->outcome = OUT_FAILED;
}

static void push_lstr(lua_State *L, h2o_iovec_t v) {
  lua_pushlstring(L, v.base, v.len);
}

/* req.headers: repeated names joined with ", " (in time linear in their size) */
static void push_headers(lua_State *L, struct srv_job *j) {
  size_t i;
  lua_createtable(L, 0, (int)j->nheaders);
  lua_newtable(L); /* name -> list of values, for repeated names */
  for (i = 0; i < j->nheaders; i++) {
    push_lstr(L, j->hnames[i]);
    if (lua_rawget(L, -3) == LUA_TNIL) {
      lua_pop(L, 1);
      push_lstr(L, j->hnames[i]);
      push_lstr(L, j->hvalues[i]);
      lua_rawset(L, -4);
      continue;
    }
    push_lstr(L, j->hnames[i]);
    if (lua_rawget(L, -3) == LUA_TNIL) { /* second value: start the list with the first */
      lua_pop(L, 1);
      lua_createtable(L, 4, 0);
      lua_pushvalue(L, -2);
      lua_rawseti(L, -2, 1);
      push_lstr(L, j->hnames[i]);
      lua_pushvalue(L, -2);
      lua_rawset(L, -5);
    }
    push_lstr(L, j->hvalues[i]);
    lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
    lua_pop(L, 2);
  }
  lua_pushnil(L);
  while (lua_next(L, -2)) { /* headers[name] = concat(list, ", ") */
    luaL_Buffer b;
    lua_Integer k, n = (lua_Integer)lua_rawlen(L, -1);
    luaL_buffinit(L, &b);
    for (k = 1; k <= n; k++) {
      if (k > 1) luaL_addstring(&b, ", ");
      lua_rawgeti(L, -2, k); /* the list, below the buffer's box */
      luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    lua_pushvalue(L, -3);
    lua_insert(L, -2);
    lua_rawset(L, -6);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
}

static void push_request(lua_State *L, struct srv_job *j) {
  lua_createtable(L, 0, 8);
  push_lstr(L, j->method);
  lua_setfield(L, -2, "method");
  push_lstr(L, j->path);
  lua_setfield(L, -2, "path");
  push_lstr(L, j->query);
  lua_setfield(L, -2, "query");
  if (j->has_body) {
    push_lstr(L, j->body);
    lua_setfield(L, -2, "body");
  }
  push_lstr(L, j->id);
  lua_setfield(L, -2, "id");
  push_lstr(L, j->client);
  lua_setfield(L, -2, "client");
  push_headers(L, j);
  lua_setfield(L, -2, "headers");
}

/* the Lua results at stack 2..6 -> j->resp (or a failure) */
static void resp_from_lua(lua_State *L, struct srv_job *j) {
  lua_Integer status;
  size_t nh = 0, np = 0, strbytes = 0, own = 0, i, len;
  const char *part[SRV_MAXPARTS];
  size_t plen[SRV_MAXPARTS];
  int shared[SRV_MAXPARTS];
  char *s, *o;
  struct srv_resp *r;
  struct srv_cache *intern = NULL;
  int isnum, cache = lua_toboolean(L, 5), has_alias = lua_type(L, 6) == LUA_TSTRING;
  status = lua_tointegerx(L, 2, &isnum);
  if (!isnum || status < 100 || status > 599) { fail(j, "handler returned no valid status"); return; }
  if (lua_type(L, 3) == LUA_TSTRING) {
    part[0] = lua_tolstring(L, 3, &plen[0]);
    np = 1;
  } else if (lua_type(L, 3) == LUA_TTABLE) {
    size_t n = lua_rawlen(L, 3);
    if (n > SRV_MAXPARTS) { fail(j, "handler returned a body of more than 4 parts"); return; }
    for (i = 0; i < n; i++) {
      if (lua_rawgeti(L, 3, (lua_Integer)i + 1) != LUA_TSTRING) { /* the table keeps the strings alive */
        fail(j, "handler returned a body part that is not a string");
        return;
      }
      part[np] = lua_tolstring(L, -1, &plen[np]);
      np++;
      lua_pop(L, 1);
    }
  } else if (!lua_isnil(L, 3)) { fail(j, "handler returned a body that is not a string"); return; }
  if (lua_istable(L, 4)) {
    nh = lua_rawlen(L, 4) / 2;
    for (i = 1; i <= nh * 2; i++) {
      if (lua_rawgeti(L, 4, (lua_Integer)i) != LUA_TSTRING) {
        fail(j, "handler returned a header name or value that is not a string");
        return;
      }
      lua_tolstring(L, -1, &len);
      strbytes += len;
      lua_pop(L, 1);
    }
  } else if (!lua_isnil(L, 4)) { fail(j, "handler returned headers that are not a list"); return; }
  if (status == 200 && ((cache && j->key.len) || has_alias)) intern = G.cache;
  if (intern && lua_type(L, 3) == LUA_TTABLE && lua_getfield(L, 3, "share") == LUA_TTABLE)
    for (i = 0; i < np; i++) { /* body.share[i]: part i may be shared with other answers */
      lua_rawgeti(L, -1, (lua_Integer)i + 1);
      shared[i] = lua_toboolean(L, -1);
      lua_pop(L, 1);
    }
  else
    for (i = 0; i < np; i++) shared[i] = 1;
  lua_settop(L, 6);
  for (i = 0; i < np; i++)
    if (!intern || !shared[i] || plen[i] < SRV_BLOB_MIN) own += plen[i];
  if (!(r = srv_resp_new((int)status, nh, strbytes, own, &s, &o))) { fail(j, "out of memory"); return; }
  for (i = 0; i < np; i++)
    if (srv_resp_part(r, shared[i] ? intern : NULL, part[i], plen[i], &o) != 0) {
      srv_resp_release(r);
      fail(j, "out of memory");
      return;
    }
  for (i = 0; i < nh; i++) {
    const char *name, *value;
    size_t vlen;
    lua_rawgeti(L, 4, (lua_Integer)(2 * i + 1));
    name = lua_tolstring(L, -1, &len);
    lua_rawgeti(L, 4, (lua_Integer)(2 * i + 2));
    value = lua_tolstring(L, -1, &vlen);
    srv_resp_header(r, i, name, len, value, vlen, &s);
    lua_pop(L, 2);
  }
  srv_job_reuse(j, r);
  j->cache = cache;
  if (has_alias && status == 200 && G.cache) {
    char k[SRV_CACHE_MAXKEY + 1];
    const char *a = lua_tolstring(L, 6, &len);
    if (len < SRV_CACHE_MAXKEY) {
      k[0] = 1; /* alias keys never collide with request keys (a path) */
      memcpy(k + 1, a, len);
      srv_cache_put(G.cache, k, len + 1, srv_hash(k, len + 1, 0), r);
    }
  }
}

static void deadline_hook(lua_State *L, lua_Debug *ar) {
  struct srv_job *j = current;
  (void)ar;
  if (j && srv_job_should_stop(j)) {
    j->outcome = OUT_TIMEOUT;
    luaL_error(L, "request deadline passed");
  }
}

void srv_job_run(struct srv_job *j, lua_State *L, int href) {
  int rc;
  lua_settop(L, 0);
  lua_pushcfunction(L, eidos_host_traceback);
  lua_rawgeti(L, LUA_REGISTRYINDEX, href);
  push_request(L, j);
  current = j;
  lua_sethook(L, deadline_hook, LUA_MASKCOUNT, 10000);
  rc = lua_pcall(L, 1, 5, 1);
  lua_sethook(L, NULL, 0, 0);
  current = NULL;
  if (j->outcome == OUT_TIMEOUT) { /* the hook fired: whatever Lua made of it */
    srv_resp_release(j->resp);
    j->resp = NULL;
  } else if (rc != LUA_OK) {
    const char *m = lua_tostring(L, -1);
    fail(j, m ? m : "(error object is not a string)");
  } else if (lua_type(L, 2) == LUA_TLIGHTUSERDATA && lua_touserdata(L, 2) == &srv_cached_sentinel) {
    if (!j->resp) fail(j, "handler returned server.CACHED without a cached answer");
    else j->cache = lua_toboolean(L, 5);
  } else {
    resp_from_lua(L, j);
  }
  if (j->outcome == OUT_RESP && j->cache && j->key.len && j->resp->status == 200)
    srv_cache_put(G.cache, j->key.base, j->key.len, j->hash, j->resp);
  lua_settop(L, 0);
}
