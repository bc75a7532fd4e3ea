/*
 * console.c -- the eidos console in eidosd: a page and its assets (ui/
 * of the source tree, compiled into eidosd only, overridable on disk),
 * prepared once at start by Lua (eidos.api.console decides which files,
 * their content types, fingerprinted names, ETags and security headers)
 * and answered by the I/O threads without entering Lua. C keeps each asset
 * as a prepared response, plus a gzip copy when Lua marks it compressible
 * and the copy is smaller, and picks one per request: the page for a GET
 * whose Accept prefers text/html (on a page route such as /, and for any
 * /ui/ path that names no asset), an asset by its exact path, gzip when
 * Accept-Encoding allows it, 304 on a matching If-None-Match. Read-only
 * once the I/O threads start.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>
#include <lauxlib.h>
#include "server.h"

struct srv_asset {
  char *path;                   /* "/ui/app.1f2e3d4c5b.js" */
  size_t plen;
  struct srv_resp *plain, *gz;  /* gz: NULL when not worth it */
};

struct srv_console {
  size_t n;
  struct srv_asset *a;
  struct srv_asset *page;
};

/* ---- loading (main thread, before the I/O threads start) ---- */

/* gzip of p (deterministic: no name, no time in the header); NULL when
 * out of memory or not smaller */
static unsigned char *gzip_of(const char *p, size_t len, size_t *outlen) {
  z_stream z;
  unsigned char *out;
  size_t cap;
  memset(&z, 0, sizeof z);
  if (len > 0x7fffffff || deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK) return NULL;
  cap = deflateBound(&z, (uLong)len);
  if (!(out = malloc(cap))) {
    deflateEnd(&z);
    return NULL;
  }
  z.next_in = (Bytef *)p;
  z.avail_in = (uInt)len;
  z.next_out = out;
  z.avail_out = (uInt)cap;
  if (deflate(&z, Z_FINISH) != Z_STREAM_END || z.total_out >= len) {
    deflateEnd(&z);
    free(out);
    return NULL;
  }
  *outlen = z.total_out;
  deflateEnd(&z);
  return out;
}

/* a response of the headers at stack index h ({name, value, ...}) and
 * body; gz: the body is gzip (content-encoding added, ETag marked) */
static struct srv_resp *make(lua_State *L, int h, const char *body, size_t len, int gz) {
  size_t nh = lua_rawlen(L, h) / 2, strbytes = 0, i, nl, vl;
  char *s, *o;
  struct srv_resp *r;
  for (i = 1; i <= 2 * nh; i++) {
    lua_rawgeti(L, h, (lua_Integer)i);
    strbytes += lua_type(L, -1) == LUA_TSTRING ? lua_rawlen(L, -1) : 0; /* anything else is "" */
    lua_pop(L, 1);
  }
  if (gz) strbytes += sizeof "content-encoding" + sizeof "gzip" + sizeof "-gzip";
  if (!(r = srv_resp_new(200, nh + (gz ? 1 : 0), strbytes, len, &s, &o))) return NULL;
  for (i = 0; i < nh; i++) {
    const char *name, *value;
    char tagged[256];
    lua_rawgeti(L, h, (lua_Integer)(2 * i + 1));
    lua_rawgeti(L, h, (lua_Integer)(2 * i + 2));
    name = lua_type(L, -2) == LUA_TSTRING ? lua_tolstring(L, -2, &nl) : (nl = 0, "");
    value = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &vl) : (vl = 0, "");
    if (gz && nl == 4 && !strncasecmp(name, "etag", 4) && vl >= 2 && vl < sizeof tagged - 8 &&
        value[vl - 1] == '"') { /* another representation, another entity tag */
      memcpy(tagged, value, vl - 1);
      memcpy(tagged + vl - 1, "-gzip\"", 6);
      value = tagged;
      vl += 5;
    }
    srv_resp_header(r, i, name, nl, value, vl, &s);
    lua_pop(L, 2);
  }
  if (gz) srv_resp_header(r, nh, "content-encoding", 16, "gzip", 4, &s);
  srv_resp_part(r, NULL, body, len, &o);
  return r;
}

/* the asset table at the top of L's stack -> a */
static int load_asset(lua_State *L, struct srv_asset *a, char *err, size_t errlen) {
  const char *path, *body;
  size_t plen, len;
  int compress;
  lua_getfield(L, -1, "path");
  lua_getfield(L, -2, "body");
  lua_getfield(L, -3, "headers");
  lua_getfield(L, -4, "compress");
  path = lua_tolstring(L, -4, &plen);
  body = lua_tolstring(L, -3, &len);
  compress = lua_toboolean(L, -1);
  if (!path || !body || !lua_istable(L, -2) || plen == 0 || plen >= 1024 || path[0] != '/') {
    snprintf(err, errlen, "the console: an asset needs a path (/...), a body and headers");
    lua_pop(L, 4);
    return -1;
  }
  if (!(a->path = malloc(plen + 1)) || !(a->plain = make(L, lua_gettop(L) - 1, body, len, 0))) {
    snprintf(err, errlen, "the console: out of memory");
    lua_pop(L, 4);
    return -1;
  }
  memcpy(a->path, path, plen + 1);
  a->plen = plen;
  if (compress) {
    size_t zlen;
    unsigned char *z = gzip_of(body, len, &zlen);
    if (z) a->gz = make(L, lua_gettop(L) - 1, (const char *)z, zlen, 1);
    free(z);
  }
  lua_pop(L, 4);
  return 0;
}

void srv_console_push_embedded(lua_State *L) {
  size_t i;
  lua_createtable(L, 0, (int)srv_ui_nfiles);
  for (i = 0; i < srv_ui_nfiles; i++) {
    lua_pushlstring(L, srv_ui_files[i].data, srv_ui_files[i].len);
    lua_setfield(L, -2, srv_ui_files[i].path);
  }
}

int srv_console_load(lua_State *L, char *err, size_t errlen) {
  struct srv_console *c;
  const char *page;
  size_t i, n;
  if (lua_getfield(L, -1, "console") != LUA_TTABLE) {
    lua_pop(L, 1);
    return 0;
  }
  lua_getfield(L, -1, "assets");
  n = lua_istable(L, -1) ? lua_rawlen(L, -1) : 0;
  if (!(c = calloc(1, sizeof *c)) || !(c->a = calloc(n ? n : 1, sizeof *c->a))) {
    free(c);
    snprintf(err, errlen, "the console: out of memory");
    lua_pop(L, 2);
    return -1;
  }
  for (i = 0; i < n; i++) {
    lua_rawgeti(L, -1, (lua_Integer)i + 1);
    if (!lua_istable(L, -1) || load_asset(L, &c->a[c->n], err, errlen) != 0) {
      if (!lua_istable(L, -1)) snprintf(err, errlen, "the console: asset %zu is not a table", i + 1);
      lua_pop(L, 3);
      return -1; /* the process exits: nothing to free */
    }
    c->n++;
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  lua_getfield(L, -1, "page");
  page = lua_tostring(L, -1);
  for (i = 0; page && i < c->n; i++)
    if (!strcmp(c->a[i].path, page)) c->page = &c->a[i];
  if (page && !c->page) {
    snprintf(err, errlen, "the console: its page %.200s is not one of its assets", page);
    lua_pop(L, 2);
    return -1;
  }
  lua_pop(L, 2);
  G.console = c;
  return 0;
}

/* ---- answering (I/O threads) ---- */

static int lower_eq(const char *p, size_t n, const char *lit) {
  size_t i, l = strlen(lit);
  if (n != l) return 0;
  for (i = 0; i < n; i++)
    if ((char)((p[i] >= 'A' && p[i] <= 'Z') ? p[i] + 32 : p[i]) != lit[i]) return 0;
  return 1;
}

/* the q of one Accept element's parameters [p, end): 1 when none */
static double q_of(const char *p, const char *end) {
  while (p < end) {
    const char *semi = memchr(p, ';', (size_t)(end - p));
    const char *e = semi ? semi : end;
    while (p < e && (*p == ' ' || *p == '\t' || *p == ';')) p++;
    if (e - p >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
      char num[16];
      size_t n = (size_t)(e - p - 2) < sizeof num - 1 ? (size_t)(e - p - 2) : sizeof num - 1;
      memcpy(num, p + 2, n);
      num[n] = 0;
      return strtod(num, NULL);
    }
    p = e + (e < end);
  }
  return 1;
}

int srv_console_prefers_html(h2o_req_t *req) {
  h2o_iovec_t acc = srv_req_header(req, H2O_TOKEN_ACCEPT);
  const char *p = acc.base, *end = acc.base + acc.len;
  double html = 0, api = 0;
  if (!acc.len) return 0;
  while (p < end) {
    const char *e = memchr(p, ',', (size_t)(end - p)), *t, *te;
    double q;
    if (!e) e = end;
    t = p;
    while (t < e && (*t == ' ' || *t == '\t')) t++;
    te = t;
    while (te < e && *te != ';' && *te != ' ' && *te != '\t') te++;
    q = q_of(te, e);
    if (lower_eq(t, (size_t)(te - t), "text/html") || lower_eq(t, (size_t)(te - t), "application/xhtml+xml")) {
      if (q > html) html = q;
    } else if (lower_eq(t, (size_t)(te - t), "*/*") || lower_eq(t, (size_t)(te - t), "application/*") ||
               lower_eq(t, (size_t)(te - t), "text/*") || lower_eq(t, (size_t)(te - t), "application/json") ||
               lower_eq(t, (size_t)(te - t), "application/yaml") ||
               lower_eq(t, (size_t)(te - t), "application/x-yaml") || lower_eq(t, (size_t)(te - t), "text/yaml") ||
               (te - t > 5 && lower_eq(te - 5, 5, "+json"))) {
      if (q > api) api = q;
    }
    p = e + 1;
  }
  return html > 0 && html > api;
}

static struct srv_asset *find(const char *p, size_t len) {
  size_t i;
  if (!G.console) return NULL;
  for (i = 0; i < G.console->n; i++)
    if (G.console->a[i].plen == len && !memcmp(G.console->a[i].path, p, len)) return &G.console->a[i];
  return NULL;
}

int srv_console_answer(h2o_req_t *req, struct rctx *x, int route) {
  const struct srv_route *rt = &G.cfg.routes[route];
  struct srv_asset *a;
  struct srv_resp *r;
  int html;
  if (rt->builtin != BUILTIN_CONSOLE) { /* a page route: a browser's GET gets the page, the rest go on */
    if (!G.console || !G.console->page || !(SRV_IS(req, "GET") || SRV_IS(req, "HEAD")) ||
        !srv_console_prefers_html(req))
      return 0;
    a = G.console->page;
  } else {
    if (srv_only_get(req, x, rt->path)) return 1;
    html = srv_console_prefers_html(req);
    if (!(a = find(req->path.base, srv_path_len(req))) && html && G.console) a = G.console->page;
    if (!a) {
      char msg[400], det[300];
      size_t plen = srv_path_len(req) < 200 ? srv_path_len(req) : 200, n;
      snprintf(msg, sizeof msg, "no console file %.*s (the console is the page at /, for a browser)", (int)plen,
               req->path.base);
      n = (size_t)snprintf(det, sizeof det, "{\"path\":");
      n += srv_json_str(det + n, sizeof det - n - 2, req->path.base, plen);
      snprintf(det + n, sizeof det - n, "}");
      srv_send_error(req, x, 404, "NOT_FOUND", msg, det, 0);
      return 1;
    }
  }
  r = a->gz && (h2o_get_compressible_types(&req->headers) & H2O_COMPRESSIBLE_GZIP) ? a->gz : a->plain;
  srv_send_resp(req, x, r, 1);
  return 1;
}
