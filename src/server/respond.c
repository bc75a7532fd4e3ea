/*
 * respond.c -- how eidosd writes an answer with h2o: status and reason,
 * the headers every answer carries (X-Request-Id, the X-RateLimit-*
 * triple, Connection: close once shutting down), a body kept in the
 * request's pool or in a shared response, the API's JSON error body
 * {code, message, details, requestId, timestamp, retryable}, If-None-Match
 * against a cached ETag, and the built-in routes (/health, /ready,
 * /metrics) that never enter Lua.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "server.h"

static h2o_generator_t plain_gen = {NULL, NULL};

const char *srv_reason(int s) {
  switch (s) {
  case 200: return "OK";
  case 201: return "Created";
  case 204: return "No Content";
  case 304: return "Not Modified";
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 406: return "Not Acceptable";
  case 408: return "Request Timeout";
  case 409: return "Conflict";
  case 411: return "Length Required";
  case 413: return "Payload Too Large";
  case 415: return "Unsupported Media Type";
  case 417: return "Expectation Failed";
  case 422: return "Unprocessable Content";
  case 429: return "Too Many Requests";
  case 499: return "Client Closed Request";
  case 500: return "Internal Server Error";
  case 501: return "Not Implemented";
  case 502: return "Bad Gateway";
  case 503: return "Service Unavailable";
  case 504: return "Gateway Timeout";
  default: return s < 300 ? "OK" : s < 400 ? "Redirect" : s < 500 ? "Client Error" : "Server Error";
  }
}

int srv_is_method(h2o_req_t *req, const char *m, size_t len) {
  return req->method.len == len && !memcmp(req->method.base, m, len);
}

size_t srv_path_len(h2o_req_t *req) {
  return req->query_at != SIZE_MAX ? req->query_at : req->path.len;
}

int srv_route_of(const char *p, size_t len) {
  int i;
  for (i = 0; i < G.cfg.nroutes; i++) {
    size_t rl = strlen(G.cfg.routes[i].path);
    if ((rl == len || (G.cfg.routes[i].prefix && rl < len)) && !memcmp(G.cfg.routes[i].path, p, rl)) return i;
  }
  return -1;
}

void srv_add_header(h2o_req_t *req, const char *name, size_t nlen, const char *v, size_t vlen) {
  h2o_add_header_by_str(&req->pool, &req->res.headers, name, nlen, 1, NULL, v, vlen);
}

static void add_common(h2o_req_t *req, struct rctx *x) {
  srv_add_header(req, H2O_STRLIT("x-request-id"), x->id.base, x->id.len);
  if (x->rl_set) {
    char *b = h2o_mem_alloc_pool(&req->pool, 96);
    int n1 = snprintf(b, 32, "%.0f", G.cfg.burst);
    int n2 = snprintf(b + 32, 32, "%ld", x->rl.remaining < 0 ? 0 : x->rl.remaining);
    int n3 = snprintf(b + 64, 32, "%ld", x->rl.reset_unix);
    srv_add_header(req, H2O_STRLIT("x-ratelimit-limit"), b, (size_t)n1);
    srv_add_header(req, H2O_STRLIT("x-ratelimit-remaining"), b + 32, (size_t)n2);
    srv_add_header(req, H2O_STRLIT("x-ratelimit-reset"), b + 64, (size_t)n3);
  }
  if (atomic_load(&G.phase) >= PHASE_DRAINING) req->http1_is_persistent = 0;
}

/* send body (valid until the request ends) with the common headers */
void srv_send_body(h2o_req_t *req, struct rctx *x, int status, const char *ctype, const char *body,
                      size_t len, const char *cache_control) {
  h2o_iovec_t buf = h2o_iovec_init(body, len);
  req->res.status = status;
  req->res.reason = srv_reason(status);
  h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, ctype, strlen(ctype));
  if (cache_control)
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, cache_control,
                   strlen(cache_control));
  add_common(req, x);
  req->res.content_length = len;
  h2o_start_response(req, &plain_gen);
  if (SRV_IS(req, "HEAD")) h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
  else h2o_send(req, &buf, 1, H2O_SEND_STATE_FINAL);
}

/* the API error body {code, message, details, requestId, timestamp, retryable} */
h2o_iovec_t srv_error_json(h2o_mem_pool_t *pool, const char *code, const char *msg, const char *details,
                              h2o_iovec_t id, int retryable) {
  char ts[32];
  size_t cap = strlen(msg) * 6 + (details ? strlen(details) : 2) + id.len * 6 + 256, n;
  char *b = h2o_mem_alloc_pool(pool, cap);
  srv_timestamp(ts, srv_real_ns());
  n = (size_t)snprintf(b, cap, "{\"code\":\"%s\",\"message\":", code);
  n += srv_json_str(b + n, cap - n, msg, strlen(msg));
  n += (size_t)snprintf(b + n, cap - n, ",\"details\":%s,\"requestId\":", details ? details : "{}");
  n += srv_json_str(b + n, cap - n, id.base, id.len);
  n += (size_t)snprintf(b + n, cap - n, ",\"timestamp\":\"%s\",\"retryable\":%s}\n", ts,
                        retryable ? "true" : "false");
  return h2o_iovec_init(b, n);
}

void srv_send_error(h2o_req_t *req, struct rctx *x, int status, const char *code, const char *msg,
                       const char *details, int retryable) {
  h2o_iovec_t j = srv_error_json(&req->pool, code, msg, details, x->id, retryable);
  srv_send_body(req, x, status, "application/json", j.base, j.len, "no-store");
}

/* ---- ETag / If-None-Match ---- */

static h2o_iovec_t strip_weak(const char *p, size_t n) {
  if (n >= 2 && p[0] == 'W' && p[1] == '/') { p += 2; n -= 2; }
  return h2o_iovec_init(p, n);
}

static int etag_matches(h2o_iovec_t inm, h2o_iovec_t etag) {
  const char *p = inm.base, *end = inm.base + inm.len;
  h2o_iovec_t e = strip_weak(etag.base, etag.len);
  while (p < end) {
    const char *q;
    h2o_iovec_t t;
    while (p < end && (*p == ' ' || *p == ',' || *p == '\t')) p++;
    if (p >= end) break;
    if (*p == '*') return 1;
    q = p;
    if (q + 1 < end && q[0] == 'W' && q[1] == '/') q += 2;
    if (q < end && *q == '"') {
      const char *close = memchr(q + 1, '"', (size_t)(end - q - 1));
      q = close ? close + 1 : end;
    }
    while (q < end && *q != ',') q++;
    t = strip_weak(p, (size_t)(q - p));
    while (t.len && (t.base[t.len - 1] == ' ' || t.base[t.len - 1] == '\t')) t.len--;
    if (t.len == e.len && !memcmp(t.base, e.base, e.len)) return 1;
    p = q;
  }
  return 0;
}

h2o_iovec_t srv_req_header(h2o_req_t *req, const h2o_token_t *tok) {
  ssize_t i = h2o_find_header(&req->headers, tok, -1);
  return i == -1 ? h2o_iovec_init(NULL, 0) : req->headers.entries[i].value;
}

/* send a prepared response; conditional: answer 304 when If-None-Match matches */
void srv_send_resp(h2o_req_t *req, struct rctx *x, struct srv_resp *r, int conditional) {
  size_t i;
  int status = r->status;
  srv_resp_link(req, r);
  if (conditional && status == 200 && r->etag.len) {
    h2o_iovec_t inm = srv_req_header(req, H2O_TOKEN_IF_NONE_MATCH);
    if (inm.len && etag_matches(inm, r->etag)) status = 304;
  }
  req->res.status = status;
  req->res.reason = srv_reason(status);
  for (i = 0; i < r->nheaders; i++)
    srv_add_header(req, r->names[i].base, r->names[i].len, r->values[i].base, r->values[i].len);
  add_common(req, x);
  if (status == 304 || status == 204) {
    h2o_start_response(req, &plain_gen);
    h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
    return;
  }
  req->res.content_length = r->bodylen;
  h2o_start_response(req, &plain_gen);
  if (SRV_IS(req, "HEAD") || r->bodylen == 0) h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
  else { /* the response is shared between threads: h2o gets its own vector */
    h2o_iovec_t *v = h2o_mem_alloc_pool(&req->pool, sizeof *v * r->nparts);
    memcpy(v, r->parts, sizeof *v * r->nparts);
    h2o_send(req, v, r->nparts, H2O_SEND_STATE_FINAL);
  }
}

/* ---- built-in routes ---- */

int srv_only_get(h2o_req_t *req, struct rctx *x, const char *path) {
  char msg[300], det[200], m[40];
  if (SRV_IS(req, "GET") || SRV_IS(req, "HEAD")) return 0;
  m[srv_json_str(m, sizeof m - 1, req->method.base, req->method.len < 16 ? req->method.len : 16)] = 0;
  snprintf(msg, sizeof msg, "method %.*s is not allowed on %s (allowed: GET, HEAD)",
           (int)(req->method.len < 16 ? req->method.len : 16), req->method.base, path);
  snprintf(det, sizeof det, "{\"method\":%s,\"allowed\":[\"GET\",\"HEAD\"]}", m);
  h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL, H2O_STRLIT("GET, HEAD"));
  srv_send_error(req, x, 405, "METHOD_NOT_ALLOWED", msg, det, 0);
  return 1;
}

void srv_builtin(h2o_req_t *req, struct rctx *x, int which, const char *path) {
  char ts[32], *b;
  int n;
  if (srv_only_get(req, x, path)) return;
  srv_timestamp(ts, srv_real_ns());
  b = h2o_mem_alloc_pool(&req->pool, 160);
  if (which == BUILTIN_HEALTH) {
    n = snprintf(b, 160, "{\"status\":\"healthy\",\"timestamp\":\"%s\"}\n", ts);
    srv_send_body(req, x, 200, "application/json", b, (size_t)n, "no-store");
  } else if (which == BUILTIN_READY) {
    int ph = atomic_load(&G.phase);
    if (ph == PHASE_SERVING) {
      n = snprintf(b, 160, "{\"status\":\"ready\",\"timestamp\":\"%s\"}\n", ts);
      srv_send_body(req, x, 200, "application/json", b, (size_t)n, "no-store");
    } else {
      n = snprintf(b, 160, "{\"status\":\"not_ready\",\"reason\":\"%s\",\"timestamp\":\"%s\"}\n",
                   ph == PHASE_LOADING ? "loading" : "shutting down", ts);
      srv_send_body(req, x, 503, "application/json", b, (size_t)n, "no-store");
    }
  } else {
    size_t len;
    char *text = srv_metrics_render(&len);
    if (!text) {
      srv_send_error(req, x, 500, "INTERNAL", "out of memory while rendering metrics", NULL, 1);
      return;
    }
    b = h2o_mem_alloc_pool(&req->pool, len);
    memcpy(b, text, len);
    free(text);
    srv_send_body(req, x, 200, "text/plain; version=0.0.4; charset=utf-8", b, len, "no-store");
  }
}

