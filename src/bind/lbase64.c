/*
 * lbase64.c -- eidos.core.base64: RFC 4648 base64 for Lua, standard and
 * URL-safe, over the one C implementation (src/core/base64.h, which says
 * what is accepted). Encoding cannot fail; decoding returns nil, message,
 * "invalid" on anything that is not base64.
 */
#include "bind.h"
#include "../core/eidos.h"
#include "../core/base64.h"

/* [-1, +1, m] encode the string at 1 with flags */
static int encode(lua_State *L, int flags) {
  size_t n, len;
  const char *s = luaL_checklstring(L, 1, &n);
  luaL_Buffer b;
  char *out;
  len = eidos_base64_enclen(n, flags);
  if (n && !len) return luaL_error(L, "base64: input of %I bytes is too large", (LUAI_UACINT)n);
  out = luaL_buffinitsize(L, &b, len + 1);
  luaL_pushresultsize(&b, eidos_base64_encode(s, n, out, flags));
  return 1;
}

/* [-1, +(1|3), m] decode the string at 1 with flags */
static int decode(lua_State *L, int flags) {
  size_t n, outlen;
  const char *s = luaL_checklstring(L, 1, &n);
  char err[256];
  luaL_Buffer b;
  char *out = luaL_buffinitsize(L, &b, EIDOS_BASE64_DECMAX(n));
  int rc = eidos_base64_decode(s, n, out, &outlen, flags, err, sizeof err);
  if (rc) return eidos_bind_fail(L, rc, err);
  luaL_pushresultsize(&b, outlen);
  return 1;
}

/* base64.encode(s) -> standard base64 with '=' padding */
static int l_encode(lua_State *L) { return encode(L, 0); }
/* base64.decode(s) -> bytes | nil, msg, "invalid" (padding required,
 * whitespace skipped) */
static int l_decode(lua_State *L) { return decode(L, 0); }
/* base64.encode_url(s) -> URL-safe base64 ('-', '_'), without padding */
static int l_encode_url(lua_State *L) { return encode(L, EIDOS_BASE64_URL); }
/* base64.decode_url(s) -> bytes | nil, msg, "invalid" (padding optional) */
static int l_decode_url(lua_State *L) { return decode(L, EIDOS_BASE64_URL); }

static const luaL_Reg funcs[] = {
  {"encode", l_encode}, {"decode", l_decode},
  {"encode_url", l_encode_url}, {"decode_url", l_decode_url},
  {NULL, NULL}
};

/* [-0, +1, m] */
int luaopen_eidos_core_base64(lua_State *L) {
  luaL_newlib(L, funcs);
  return 1;
}
