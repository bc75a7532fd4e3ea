/*
 * hooks.c -- eidosd's place in h2o's pipeline: one host whose fallback
 * path carries the handler (handler.c), a filter that turns the errors h2o
 * sends by itself (a body over --body-limit, a bad Expect) into the API's
 * JSON error body with a request id, and a logger that counts every
 * finished request by route, method and status (and its duration) and
 * writes its access-log line.
 */
#include <stdio.h>
#include <string.h>
#include "server.h"

/* ---- h2o's own error responses -> the API error body ---- */

struct errbody { h2o_ostream_t super; h2o_iovec_t body; };

static void errbody_send(h2o_ostream_t *self, h2o_req_t *req, h2o_iovec_t *bufs, size_t n,
                         h2o_send_state_t state) {
  struct errbody *o = (struct errbody *)self;
  (void)bufs; (void)n;
  if (h2o_send_state_is_in_progress(state) || !o->body.len || SRV_IS(req, "HEAD")) {
    h2o_ostream_send_next(self, req, NULL, 0, state);
    return;
  }
  h2o_ostream_send_next(self, req, &o->body, 1, state);
  o->body.len = 0;
}

static void on_setup_ostream(h2o_filter_t *self, h2o_req_t *req, h2o_ostream_t **slot) {
  (void)self;
  if (req->res.status >= 400 && h2o_find_header_by_str(&req->res.headers, H2O_STRLIT("x-request-id"), -1) == -1) {
    struct srv_worker *w = srv_self;
    struct errbody *o;
    h2o_iovec_t id, j;
    char msg[200], det[64];
    const char *code = "INVALID_REQUEST";
    int st = req->res.status;
    srv_request_id(req, w, &id);
    if (st == 413) {
      code = "PAYLOAD_TOO_LARGE";
      snprintf(msg, sizeof msg, "the request body is larger than this server's limit of %zu bytes",
               G.cfg.body_limit);
      snprintf(det, sizeof det, "{\"limitBytes\":%zu}", G.cfg.body_limit);
    } else if (st == 417) {
      code = "EXPECTATION_FAILED";
      snprintf(msg, sizeof msg, "unsupported Expect header (accepted: 100-continue)");
      snprintf(det, sizeof det, "{}");
    } else if (st >= 500) {
      code = st == 503 ? "SERVICE_UNAVAILABLE" : "INTERNAL";
      snprintf(msg, sizeof msg, "%s", srv_reason(st));
      snprintf(det, sizeof det, "{}");
    } else {
      snprintf(msg, sizeof msg, "malformed HTTP request (%d %s)", st, srv_reason(st));
      snprintf(det, sizeof det, "{}");
    }
    j = srv_error_json(&req->pool, code, msg, det, id, st >= 500);
    memset(&req->res.headers, 0, sizeof req->res.headers);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("application/json"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    srv_add_header(req, H2O_STRLIT("x-request-id"), id.base, id.len);
    req->res.reason = srv_reason(st);
    req->res.content_length = j.len;
    o = (struct errbody *)h2o_add_ostream(req, sizeof *o, slot);
    o->super.do_send = errbody_send;
    o->body = j;
    slot = &o->super.next;
  }
  h2o_setup_next_ostream(req, slot);
}

/* ---- access log and request metrics ---- */

static void log_access(h2o_logger_t *self, h2o_req_t *req) {
  struct srv_worker *w = srv_self;
  uint64_t now = srv_real_ns(), begin;
  const struct timeval *tv = &req->timestamps.request_begin_at;
  size_t plen = srv_path_len(req);
  int route = srv_route_of(req->path.base, plen), status = req->res.status ? req->res.status : 499;
  double secs;
  (void)self;
  if (!w) return;
  begin = tv->tv_sec ? (uint64_t)tv->tv_sec * 1000000000u + (uint64_t)tv->tv_usec * 1000u
                     : (uint64_t)req->processed_at.at.tv_sec * 1000000000u +
                         (uint64_t)req->processed_at.at.tv_usec * 1000u;
  secs = now > begin ? (double)(now - begin) / 1e9 : 0;
  srv_metrics_request(w->m, route < 0 ? G.cfg.nroutes : route, req->method.base, req->method.len, status, secs);
  if (G.cfg.access_log) {
    char line[3072], ts[32];
    size_t n;
    ssize_t i;
    h2o_iovec_t id = h2o_iovec_init("", 0), ua = srv_req_header(req, H2O_TOKEN_USER_AGENT);
    struct srv_conn *c = srv_conn_of(req);
    struct srv_client cl;
    if (c) srv_client_of(req, c, &cl);
    else strcpy(cl.text, "unknown");
    if ((i = h2o_find_header_by_str(&req->res.headers, H2O_STRLIT("x-request-id"), -1)) != -1)
      id = req->res.headers.entries[i].value;
    srv_timestamp(ts, now);
    n = (size_t)snprintf(line, sizeof line, "{\"time\":\"%s\",\"level\":\"info\",\"msg\":\"request\",\"requestId\":", ts);
    n += srv_json_str(line + n, 200, id.base, id.len);
    n += (size_t)snprintf(line + n, sizeof line - n, ",\"method\":");
    n += srv_json_str(line + n, 40, req->method.base, req->method.len);
    n += (size_t)snprintf(line + n, sizeof line - n, ",\"path\":");
    n += srv_json_str(line + n, 1200, req->path.base, req->path.len);
    n += (size_t)snprintf(line + n, sizeof line - n,
                          ",\"route\":\"%s\",\"status\":%d,\"bytes\":%zu,\"durationMs\":%.3f,\"client\":\"%s\",\"proto\":\"HTTP/%d.%d\",\"userAgent\":",
                          route < 0 ? "unmatched" : G.cfg.routes[route].path, status, req->bytes_sent,
                          secs * 1000, cl.text, req->version >> 8, req->version & 0xff);
    n += srv_json_str(line + n, 400, ua.base ? ua.base : "", ua.len);
    line[n++] = '}';
    line[n++] = '\n';
    srv_logbuf_add(&w->log, line, n);
  }
}

void srv_h2o_setup(void) {
  h2o_hostconf_t *host;
  h2o_pathconf_t *pc;
  h2o_handler_t *h;
  h2o_filter_t *f;
  h2o_logger_t *l;
  h2o_config_init(&G.h2o);
  G.h2o.server_name = h2o_iovec_init(H2O_STRLIT("eidosd"));
  G.h2o.max_request_entity_size = G.cfg.body_limit;
  G.h2o.http1.req_timeout = G.cfg.request_timeout_ms;
  host = h2o_config_register_host(&G.h2o, h2o_iovec_init(H2O_STRLIT("default")), 65535);
  /* no paths: every request goes to the fallback path, h2o's errors too */
  pc = &host->fallback_path;
  h = h2o_create_handler(pc, sizeof *h);
  h->on_req = srv_on_req;
  f = h2o_create_filter(pc, sizeof *f);
  f->on_setup_ostream = on_setup_ostream;
  l = h2o_create_logger(pc, sizeof *l);
  l->log_access = log_access;
}

