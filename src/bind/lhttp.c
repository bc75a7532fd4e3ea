/*
 * lhttp.c -- Lua binding of the HTTP client core (eidos.core.http): one
 * function, request, taking a table of options and returning a table. The
 * thread's reused connection lives in the core, not in Lua.
 */
#include <stdlib.h>
#include <string.h>
#include <lua.h>
#include <lauxlib.h>
#include "bind.h"
#include "../core/eidos.h"
#include "../core/http.h"

#define MAX_HEADERS 64

#define WHO "http.request" /* names the function in option type errors */

static int bad_header(const char *s) {
  for (; *s; s++)
    if (*s == '\r' || *s == '\n') return 1;
  return 0;
}

/*
 * http.request{url=, method="GET", headers={["Name"]="value", ...} or
 *   {"Name: value", ...}, body=, connect_timeout=S, timeout=S, max_size=N,
 *   max_redirects=N, user_agent=, ca_file=, ca_data=PEM, cert_file=,
 *   cert_data=PEM, key_file=, key_data=PEM, insecure=bool}
 * -> {status=, body=, content_type=, retry_after=S, url=EFFECTIVE_URL,
 *     headers={["lower-case-name"]="value", ...}} (a header sent more than
 *     once gives its values joined by "\n", in the order received)
 * Any HTTP status is a result; nil, msg, code, class on transport
 * failure (code: timeout, unavailable, invalid: size limit, scheme or
 * redirect refused; class: "notsent" -- DNS or connect failed, the server
 * saw nothing --, "broken" -- the exchange broke or timed out midway --, or
 * "fatal" -- TLS verification, options, limits).
 */
/* Push the header lines as a table of lower-case name -> value. */
static void push_headers(lua_State *L, const char *p, size_t len) {
  const char *end = p + len;
  lua_createtable(L, 0, 8);
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p)), *colon, *v, *ve;
    char name[128];
    size_t nlen, i;
    if (!nl) nl = end;
    colon = memchr(p, ':', (size_t)(nl - p));
    if (colon && (nlen = (size_t)(colon - p)) > 0 && nlen < sizeof name) {
      for (i = 0; i < nlen; i++)
        name[i] = (char)((p[i] >= 'A' && p[i] <= 'Z') ? p[i] + 32 : p[i]);
      name[nlen] = '\0';
      for (v = colon + 1; v < nl && (*v == ' ' || *v == '\t'); v++) {}
      for (ve = nl; ve > v && (ve[-1] == ' ' || ve[-1] == '\t'); ve--) {}
      if (lua_getfield(L, -1, name) == LUA_TSTRING) {
        lua_pushliteral(L, "\n");
        lua_pushlstring(L, v, (size_t)(ve - v));
        lua_concat(L, 3);
      } else {
        lua_pop(L, 1);
        lua_pushlstring(L, v, (size_t)(ve - v));
      }
      lua_setfield(L, -2, name);
    }
    p = nl + 1;
  }
}

static int l_request(lua_State *L) {
  struct eidos_http_req q;
  struct eidos_http_resp r;
  const char *hdrs[MAX_HEADERS + 1];
  char err[2048];
  int nh = 0, rc, hidx;
  double v;

  luaL_checktype(L, 1, LUA_TTABLE);
  memset(&q, 0, sizeof q);
  q.url = eidos_bind_optstring(L, 1, "url", NULL, WHO);
  if (!q.url) return luaL_error(L, "http.request: url is required");
  q.method = eidos_bind_optstring(L, 1, "method", NULL, WHO);
  q.body = eidos_bind_optstring(L, 1, "body", &q.body_len, WHO);
  q.user_agent = eidos_bind_optstring(L, 1, "user_agent", NULL, WHO);
  eidos_bind_opttls(L, 1, &q.tls, WHO);
  q.insecure = eidos_bind_optboolean(L, 1, "insecure");
  q.connect_timeout_ms = (long)(eidos_bind_optnumber(L, 1, "connect_timeout", 0, WHO) * 1000);
  q.timeout_ms = (long)(eidos_bind_optnumber(L, 1, "timeout", 0, WHO) * 1000);
  v = eidos_bind_optnumber(L, 1, "max_size", 0, WHO);
  q.max_size = v > 0 ? (size_t)v : 0;
  q.max_redirects = (int)eidos_bind_optnumber(L, 1, "max_redirects", 0, WHO);

  /* headers: kept alive on the stack (a table of formatted strings) */
  lua_newtable(L);
  hidx = lua_gettop(L);
  lua_getfield(L, 1, "headers");
  if (lua_istable(L, -1)) {
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      if (nh >= MAX_HEADERS) return luaL_error(L, "http.request: more than %d headers", MAX_HEADERS);
      /* stack: key, value */
      if (lua_type(L, -1) != LUA_TSTRING && !lua_isnumber(L, -1))
        return luaL_error(L, "http.request: header values must be strings");
      if (lua_type(L, -2) == LUA_TSTRING)
        lua_pushfstring(L, "%s: %s", lua_tostring(L, -2), lua_tostring(L, -1));
      else
        lua_pushvalue(L, -1);
      if (bad_header(lua_tostring(L, -1)))
        return luaL_error(L, "http.request: header contains a line break");
      hdrs[nh++] = lua_tostring(L, -1);
      lua_rawseti(L, hidx, nh);
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
  hdrs[nh] = NULL;
  q.headers = hdrs;

  rc = eidos_http_do(&q, &r, err, sizeof err);
  if (rc) {
    static const char *const cls[] = {"fatal", "notsent", "broken", "fatal"};
    int f = r.failure >= 0 && r.failure <= 3 ? r.failure : 3;
    eidos_http_resp_free(&r);
    eidos_bind_fail(L, rc, err);
    lua_pushstring(L, cls[f]);
    return 4;
  }
  lua_createtable(L, 0, 6);
  lua_pushinteger(L, r.status);
  lua_setfield(L, -2, "status");
  lua_pushlstring(L, r.body, r.body_len);
  lua_setfield(L, -2, "body");
  lua_pushstring(L, r.content_type);
  lua_setfield(L, -2, "content_type");
  lua_pushinteger(L, r.retry_after);
  lua_setfield(L, -2, "retry_after");
  lua_pushstring(L, r.effective_url ? r.effective_url : q.url);
  lua_setfield(L, -2, "url");
  push_headers(L, r.headers ? r.headers : "", r.headers_len);
  lua_setfield(L, -2, "headers");
  eidos_http_resp_free(&r);
  return 1;
}

static const luaL_Reg funcs[] = {
  {"request", l_request},
  {NULL, NULL}
};

int luaopen_eidos_core_http(lua_State *L) {
  luaL_newlib(L, funcs);
  lua_pushinteger(L, EIDOS_HTTP_DEFAULT_MAX);
  lua_setfield(L, -2, "DEFAULT_MAX");
  return 1;
}
