/*
 * lk8s.c -- Lua binding of the Kubernetes request core (eidos.core.k8s):
 * a client handle (metatable eidos.k8s.Client) made from a plain connection
 * table, its request and set_credentials methods, and the request
 * describer. Kubeconfig resolution, JSON, paging, running exec credential
 * plugins (through eidos.core.proc) and credential caching are Lua
 * (lua/eidos/k8s/).
 */
#include <stdlib.h>
#include <string.h>
#include <lua.h>
#include <lauxlib.h>
#include "bind.h"
#include "../core/eidos.h"
#include "../core/k8s.h"

#define CLIENT_MT "eidos.k8s.Client"
#define ERRLEN 4096

static eidos_k8s_client **check_client(lua_State *L, int idx) {
  eidos_k8s_client **c = luaL_checkudata(L, idx, CLIENT_MT);
  if (!*c) luaL_error(L, "k8s client is closed");
  return c;
}

#define WHO "k8s" /* names the module in field type errors */

/*
 * k8s.client{server=, ca_file=, ca_data=PEM, cert_file=, cert_data=PEM,
 *   key_file=, key_data=PEM, token=, token_file=, insecure=bool,
 *   connect_timeout=S, timeout=S, max_attempts=N, backoff=S, max_wait=S,
 *   user_agent=} -> client | nil, msg, code
 */
static int l_client(lua_State *L) {
  struct eidos_k8s_conn c;
  eidos_k8s_client **ud;
  char err[ERRLEN];
  int rc;
  luaL_checktype(L, 1, LUA_TTABLE);
  memset(&c, 0, sizeof c);
  c.server = eidos_bind_optstring(L, 1, "server", NULL, WHO);
  eidos_bind_opttls(L, 1, &c.tls, WHO);
  c.token = eidos_bind_optstring(L, 1, "token", NULL, WHO);
  c.token_file = eidos_bind_optstring(L, 1, "token_file", NULL, WHO);
  c.user_agent = eidos_bind_optstring(L, 1, "user_agent", NULL, WHO);
  lua_getfield(L, 1, "insecure");
  c.insecure = lua_toboolean(L, -1);
  lua_pop(L, 1);
  c.connect_timeout_ms = (long)(eidos_bind_optnumber(L, 1, "connect_timeout", 0, WHO) * 1000);
  c.timeout_ms = (long)(eidos_bind_optnumber(L, 1, "timeout", 0, WHO) * 1000);
  c.max_attempts = (int)eidos_bind_optnumber(L, 1, "max_attempts", 0, WHO);
  c.backoff_ms = (long)(eidos_bind_optnumber(L, 1, "backoff", 0, WHO) * 1000);
  c.max_wait_ms = (long)(eidos_bind_optnumber(L, 1, "max_wait", 0, WHO) * 1000);
  ud = lua_newuserdatauv(L, sizeof *ud, 0);
  *ud = NULL;
  luaL_setmetatable(L, CLIENT_MT);
  rc = eidos_k8s_new(&c, ud, err, sizeof err);
  if (rc) return eidos_bind_fail(L, rc, err);
  return 1;
}

/* t.warnings = {text, ...}: the response's Warning headers, when any */
static void push_warnings(lua_State *L, const struct eidos_k8s_resp *r) {
  const char *p = r->warnings, *e = r->warnings + r->warnings_len, *nl;
  lua_Integer i = 0;
  if (!r->warnings || r->warnings_len == 0) return;
  lua_newtable(L);
  for (; p < e; p = nl + 1) {
    nl = memchr(p, '\n', (size_t)(e - p));
    if (!nl) nl = e;
    lua_pushlstring(L, p, (size_t)(nl - p));
    lua_rawseti(L, -2, ++i);
  }
  lua_setfield(L, -2, "warnings");
}

/*
 * client:request(method, path [, body [, opts]]) where opts is
 *   {content_type=, accept=, timeout=S, max_attempts=N, max_size=N}
 * -> {status=, body=, content_type=, attempts=, warnings=} for a 2xx response
 * -> nil, msg, code, {status=, reason=, body=, attempts=, warnings=} otherwise
 *    (status 0 when no response arrived; warnings: the texts of the
 *    response's Warning headers, absent when there is none)
 */
static int l_request(lua_State *L) {
  eidos_k8s_client **c = check_client(L, 1);
  struct eidos_k8s_req q;
  struct eidos_k8s_resp r;
  char err[ERRLEN];
  int rc;
  memset(&q, 0, sizeof q);
  q.method = luaL_checkstring(L, 2);
  q.path = luaL_checkstring(L, 3);
  q.body = luaL_optlstring(L, 4, NULL, &q.body_len);
  if (lua_istable(L, 5)) {
    double v;
    q.content_type = eidos_bind_optstring(L, 5, "content_type", NULL, WHO);
    q.accept = eidos_bind_optstring(L, 5, "accept", NULL, WHO);
    q.timeout_ms = (long)(eidos_bind_optnumber(L, 5, "timeout", 0, WHO) * 1000);
    q.max_attempts = (int)eidos_bind_optnumber(L, 5, "max_attempts", 0, WHO);
    v = eidos_bind_optnumber(L, 5, "max_size", 0, WHO);
    q.max_size = v > 0 ? (size_t)v : 0;
  }
  rc = eidos_k8s_request(*c, &q, &r, err, sizeof err);
  if (rc == 0) {
    lua_createtable(L, 0, 4);
    lua_pushinteger(L, r.status);
    lua_setfield(L, -2, "status");
    lua_pushlstring(L, r.body ? r.body : "", r.body_len);
    lua_setfield(L, -2, "body");
    lua_pushstring(L, r.content_type);
    lua_setfield(L, -2, "content_type");
    lua_pushinteger(L, r.attempts);
    lua_setfield(L, -2, "attempts");
    push_warnings(L, &r);
    eidos_k8s_resp_free(&r);
    return 1;
  }
  eidos_bind_fail(L, rc, err);
  lua_createtable(L, 0, 4);
  lua_pushinteger(L, r.status);
  lua_setfield(L, -2, "status");
  lua_pushstring(L, r.reason);
  lua_setfield(L, -2, "reason");
  if (r.body) {
    lua_pushlstring(L, r.body, r.body_len);
    lua_setfield(L, -2, "body");
  }
  lua_pushinteger(L, r.attempts);
  lua_setfield(L, -2, "attempts");
  push_warnings(L, &r);
  eidos_k8s_resp_free(&r);
  return 4;
}

/*
 * client:set_credentials{token=, cert_data=PEM, key_data=PEM} -> true
 * (credentials from an exec plugin; "" clears a field) | nil, msg, code
 */
static int l_set_credentials(lua_State *L) {
  eidos_k8s_client **c = check_client(L, 1);
  char err[ERRLEN];
  int rc;
  luaL_checktype(L, 2, LUA_TTABLE);
  rc = eidos_k8s_set_credentials(*c, eidos_bind_optstring(L, 2, "token", NULL, WHO),
                                 eidos_bind_optstring(L, 2, "cert_data", NULL, WHO),
                                 eidos_bind_optstring(L, 2, "key_data", NULL, WHO), err, sizeof err);
  if (rc) return eidos_bind_fail(L, rc, err);
  lua_pushboolean(L, 1);
  return 1;
}

/* client:close() -- free now (also done by the garbage collector) */
static int l_close(lua_State *L) {
  eidos_k8s_client **c = luaL_checkudata(L, 1, CLIENT_MT);
  eidos_k8s_free(*c);
  *c = NULL;
  return 0;
}

/*
 * k8s.describe(method, path) -> text, {verb=, group=, resource=, namespace=}
 * e.g. "get configmaps \"x\" in namespace \"ns\"".
 */
static int l_describe(lua_State *L) {
  char d[512], v[128], g[128], r[128], n[128];
  eidos_k8s_describe(luaL_checkstring(L, 1), luaL_checkstring(L, 2), d, sizeof d,
                     v, g, r, n);
  lua_pushstring(L, d);
  lua_createtable(L, 0, 4);
  lua_pushstring(L, v); lua_setfield(L, -2, "verb");
  lua_pushstring(L, g); lua_setfield(L, -2, "group");
  lua_pushstring(L, r); lua_setfield(L, -2, "resource");
  lua_pushstring(L, n); lua_setfield(L, -2, "namespace");
  return 2;
}

static const luaL_Reg methods[] = {
  {"request", l_request},
  {"set_credentials", l_set_credentials},
  {"close", l_close},
  {NULL, NULL}
};

static const luaL_Reg funcs[] = {
  {"client", l_client},
  {"describe", l_describe},
  {NULL, NULL}
};

static const luaL_Reg metamethods[] = {{"__gc", l_close}, {"__close", l_close}, {NULL, NULL}};

int luaopen_eidos_core_k8s(lua_State *L) {
  eidos_bind_class(L, CLIENT_MT, methods, metamethods);
  luaL_newlib(L, funcs);
  return 1;
}
