/*
 * lsha256.c -- Lua binding of the SHA-256 core (eidos.core.sha256):
 * lower-case hex digests of strings and files, and a streaming hasher
 * object (metatable eidos.sha256.Hasher) that frees its OpenSSL context
 * when collected or closed.
 */
#include <lua.h>
#include <lauxlib.h>
#include "bind.h"
#include "../core/eidos.h"
#include "../core/sha256.h"

#define HASHER_MT "eidos.sha256.Hasher"
#define ERRLEN 512

typedef struct { eidos_sha256 *h; } hasher;

static hasher *check_hasher(lua_State *L) {
  hasher *u = luaL_checkudata(L, 1, HASHER_MT);
  if (!u->h) luaL_argerror(L, 1, "hasher is closed");
  return u;
}

/* sha256.hex(s) -> 64 hex digits; nil, msg, "unavailable" without libcrypto. */
static int l_hex(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  unsigned char d[EIDOS_SHA256_LEN];
  char err[ERRLEN], hex[65];
  int rc = eidos_sha256_buf(s, len, d, err, sizeof err);
  if (rc) return eidos_bind_fail(L, rc, err);
  eidos_sha256_hex(d, hex);
  lua_pushlstring(L, hex, 64);
  return 1;
}

/* sha256.file(path) -> 64 hex digits of the file's contents; nil, msg,
 * code ("notfound", "failure", ...) naming the path. */
static int l_file(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  unsigned char d[EIDOS_SHA256_LEN];
  char err[ERRLEN], hex[65];
  int rc = eidos_sha256_file(path, d, err, sizeof err);
  if (rc) return eidos_bind_fail(L, rc, err);
  eidos_sha256_hex(d, hex);
  lua_pushlstring(L, hex, 64);
  return 1;
}

/* sha256.new() -> hasher with :update(s) -> self and :hex() -> digest of
 * everything so far (the hasher stays usable); nil, msg, code without
 * libcrypto. */
static int l_new(lua_State *L) {
  char err[ERRLEN];
  hasher *u = lua_newuserdatauv(L, sizeof *u, 0);
  int rc;
  u->h = NULL;
  luaL_setmetatable(L, HASHER_MT);
  rc = eidos_sha256_new(&u->h, err, sizeof err);
  if (rc) return eidos_bind_fail(L, rc, err);
  return 1;
}

/* hasher:update(s) -> hasher; nil, msg, code on an OpenSSL failure. */
static int h_update(lua_State *L) {
  hasher *u = check_hasher(L);
  size_t len;
  const char *s = luaL_checklstring(L, 2, &len);
  char err[ERRLEN];
  int rc = eidos_sha256_update(u->h, s, len, err, sizeof err);
  if (rc) return eidos_bind_fail(L, rc, err);
  lua_settop(L, 1);
  return 1;
}

/* hasher:hex() -> 64 hex digits; nil, msg, code on an OpenSSL failure. */
static int h_hex(lua_State *L) {
  hasher *u = check_hasher(L);
  unsigned char d[EIDOS_SHA256_LEN];
  char err[ERRLEN], hex[65];
  int rc = eidos_sha256_digest(u->h, d, err, sizeof err);
  if (rc) return eidos_bind_fail(L, rc, err);
  eidos_sha256_hex(d, hex);
  lua_pushlstring(L, hex, 64);
  return 1;
}

/* __gc / __close: free the context (idempotent). */
static int h_gc(lua_State *L) {
  hasher *u = luaL_checkudata(L, 1, HASHER_MT);
  eidos_sha256_free(u->h);
  u->h = NULL;
  return 0;
}

static const luaL_Reg funcs[] = {
  {"hex", l_hex},
  {"file", l_file},
  {"new", l_new},
  {NULL, NULL}
};

static const luaL_Reg methods[] = {
  {"update", h_update},
  {"hex", h_hex},
  {NULL, NULL}
};

static const luaL_Reg metamethods[] = {
  {"__gc", h_gc},
  {"__close", h_gc},
  {NULL, NULL}
};

int luaopen_eidos_core_sha256(lua_State *L) {
  eidos_bind_class(L, HASHER_MT, methods, metamethods);
  luaL_newlib(L, funcs);
  return 1;
}
