/*
 * lsign.c -- Lua binding of the signature core (eidos.core.sign): sign
 * data with an Ed25519 or ECDSA P-256 private key, verify a signature with
 * the public key, and derive the public key PEM. Key arguments are PEM text
 * or the path of a PEM file; signatures are raw bytes (DER for ECDSA).
 */
#include <stdlib.h>
#include <lua.h>
#include <lauxlib.h>
#include "bind.h"
#include "../core/eidos.h"
#include "../core/sign.h"

#define ERRLEN 1024

/* sign.sign(key, data) -> signature, alg ("ed25519" | "ecdsa-p256-sha256");
 * nil, msg, "invalid" for an unreadable, encrypted or unsupported key. */
static int l_sign(lua_State *L) {
  size_t klen, dlen, slen;
  const char *key = luaL_checklstring(L, 1, &klen);
  const char *data = luaL_checklstring(L, 2, &dlen);
  const char *alg;
  unsigned char *sig;
  char err[ERRLEN];
  int rc = eidos_sign(key, klen, data, dlen, &sig, &slen, &alg, err, sizeof err);
  if (rc) return eidos_bind_fail(L, rc, err);
  lua_pushlstring(L, (const char *)sig, slen);
  free(sig);
  lua_pushstring(L, alg);
  return 2;
}

/* sign.verify(pubkey, data, sig) -> true; nil, msg, "unauthorized" when
 * the signature does not match, nil, msg, "invalid" for a bad key. */
static int l_verify(lua_State *L) {
  size_t klen, dlen, slen;
  const char *key = luaL_checklstring(L, 1, &klen);
  const char *data = luaL_checklstring(L, 2, &dlen);
  const char *sig = luaL_checklstring(L, 3, &slen);
  char err[ERRLEN];
  int rc = eidos_sign_verify(key, klen, data, dlen, (const unsigned char *)sig,
                             slen, err, sizeof err);
  if (rc) return eidos_bind_fail(L, rc, err);
  lua_pushboolean(L, 1);
  return 1;
}

/* sign.public_pem(privkey) -> public key PEM text; nil, msg, code. */
static int l_public_pem(lua_State *L) {
  size_t klen, plen;
  const char *key = luaL_checklstring(L, 1, &klen);
  char *pem, err[ERRLEN];
  int rc = eidos_sign_public_pem(key, klen, &pem, &plen, err, sizeof err);
  if (rc) return eidos_bind_fail(L, rc, err);
  lua_pushlstring(L, pem, plen);
  free(pem);
  return 1;
}

/* sign.ed25519_keypair() -> seed, pub: a new Ed25519 key pair (32 bytes
 * each: the private key and the public key); nil, msg, code on failure. */
static int l_ed25519_keypair(lua_State *L) {
  unsigned char seed[32], pub[32];
  char err[ERRLEN];
  int rc = eidos_sign_ed25519_keypair(seed, pub, err, sizeof err);
  if (rc) return eidos_bind_fail(L, rc, err);
  lua_pushlstring(L, (const char *)seed, 32);
  lua_pushlstring(L, (const char *)pub, 32);
  return 2;
}

static const luaL_Reg funcs[] = {
  {"sign", l_sign},
  {"ed25519_keypair", l_ed25519_keypair},
  {"verify", l_verify},
  {"public_pem", l_public_pem},
  {NULL, NULL}
};

int luaopen_eidos_core_sign(lua_State *L) {
  luaL_newlib(L, funcs);
  return 1;
}
