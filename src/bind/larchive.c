/*
 * larchive.c -- Lua binding of the reproducible archive writer
 * (eidos.core.archive): write a tar.gz or zip of in-memory entries to a
 * file (atomically) or return it as a string; read a tar or tar.gz held in
 * a string back into entries; gzip a string, and inflate one (zlib).
 * Entries are plain tables
 * {path=, data=, mode=, dir=}; what goes into a bundle is Lua policy.
 */
#include <stdlib.h>
#include <string.h>
#include <lua.h>
#include <lauxlib.h>
#include "bind.h"
#include "../core/eidos.h"
#include "../core/archive_write.h"
#include "../core/archive_read.h"
#include "../core/gunzip.h"

#define ERRLEN 1024

/* Raw field k of the table at idx, left on the stack. */
static int rawfield(lua_State *L, int idx, const char *k) {
  idx = lua_absindex(L, idx);
  lua_pushstring(L, k);
  return lua_rawget(L, idx);
}

static unsigned entry_mode(lua_State *L, int idx, lua_Integer i) {
  unsigned mode = 0644;
  int t = rawfield(L, idx, "mode");
  if (t == LUA_TSTRING) {
    char *end;
    long m = strtol(lua_tostring(L, -1), &end, 8);
    if (!*lua_tostring(L, -1) || *end || m < 0 || m > 07777)
      luaL_error(L, "entries[%I].mode must be an octal string like \"0755\"", i);
    mode = (unsigned)m;
  } else if (t == LUA_TNUMBER) {
    int ok;
    lua_Integer m = lua_tointegerx(L, -1, &ok);
    if (!ok || m < 0 || m > 07777)
      luaL_error(L, "entries[%I].mode must be an integer from 0 to 07777", i);
    mode = (unsigned)m;
  } else if (t != LUA_TNIL) {
    luaL_error(L, "entries[%I].mode must be an integer or an octal string", i);
  }
  lua_pop(L, 1);
  return mode;
}

/* Read the entries list at arg into a userdata array (collected by Lua, so
 * nothing leaks when a malformed entry raises). The strings stay anchored
 * in the entries table for the duration of the call. */
static eidos_archive_entry *check_entries(lua_State *L, int arg, size_t *n) {
  eidos_archive_entry *e;
  lua_Integer i, len;
  luaL_checktype(L, arg, LUA_TTABLE);
  len = (lua_Integer)lua_rawlen(L, arg);
  e = lua_newuserdatauv(L, (size_t)(len ? len : 1) * sizeof *e, 0);
  for (i = 1; i <= len; i++) {
    eidos_archive_entry *x = &e[i - 1];
    int t;
    memset(x, 0, sizeof *x);
    if (lua_rawgeti(L, arg, i) != LUA_TTABLE)
      luaL_error(L, "entries[%I] must be a table {path=, data=, mode=}", i);
    if (rawfield(L, -1, "path") != LUA_TSTRING)
      luaL_error(L, "entries[%I].path must be a string", i);
    x->path = lua_tolstring(L, -1, &x->path_len);
    lua_pop(L, 1);
    t = rawfield(L, -1, "data");
    if (t == LUA_TSTRING) x->data = lua_tolstring(L, -1, &x->len);
    else if (t != LUA_TNIL) luaL_error(L, "entries[%I].data must be a string", i);
    lua_pop(L, 1);
    rawfield(L, -1, "dir");
    x->dir = lua_toboolean(L, -1);
    lua_pop(L, 1);
    x->mode = entry_mode(L, lua_gettop(L), i);
    lua_pop(L, 1);
  }
  *n = (size_t)len;
  return e;
}

static int64_t check_mtime(lua_State *L, int arg) {
  lua_Integer m = 0;
  if (!lua_isnoneornil(L, arg)) {
    luaL_checktype(L, arg, LUA_TTABLE);
    lua_getfield(L, arg, "mtime");
    if (!lua_isnil(L, -1)) {
      int ok;
      m = lua_tointegerx(L, -1, &ok);
      if (!ok) luaL_argerror(L, arg, "opts.mtime must be an integer (seconds since 1970)");
    }
    lua_pop(L, 1);
  }
  return (int64_t)m;
}

/* archive.write(path, format, entries [, opts]) -> true. format is "tar.gz"
 * or "zip"; opts.mtime (default 0) is every entry's mtime. The file is
 * replaced atomically. nil, msg, "invalid" for a bad format, mtime or entry
 * path (naming it); nil, msg, code for I/O failures (nothing is left). */
static int l_write(lua_State *L) {
  const char *path = luaL_checkstring(L, 1), *fname = luaL_checkstring(L, 2);
  char err[ERRLEN];
  size_t n;
  int fmt, rc;
  eidos_archive_entry *e;
  lua_settop(L, 4); /* the entry array goes above the arguments */
  e = check_entries(L, 3, &n);
  int64_t mtime = check_mtime(L, 4);
  if ((rc = eidos_archive_format(fname, &fmt, err, sizeof err)))
    return eidos_bind_fail(L, rc, err);
  rc = eidos_archive_write(path, fmt, e, n, mtime, NULL, NULL, err, sizeof err);
  if (rc) return eidos_bind_fail(L, rc, err);
  lua_pushboolean(L, 1);
  return 1;
}

/* archive.bytes(format, entries [, opts]) -> the archive as a string; the
 * failures of archive.write other than I/O. */
static int l_bytes(lua_State *L) {
  const char *fname = luaL_checkstring(L, 1);
  char err[ERRLEN], *out = NULL;
  size_t n, len = 0;
  int fmt, rc;
  eidos_archive_entry *e;
  lua_settop(L, 3);
  e = check_entries(L, 2, &n);
  int64_t mtime = check_mtime(L, 3);
  if ((rc = eidos_archive_format(fname, &fmt, err, sizeof err)))
    return eidos_bind_fail(L, rc, err);
  rc = eidos_archive_write(NULL, fmt, e, n, mtime, &out, &len, err, sizeof err);
  if (rc) return eidos_bind_fail(L, rc, err);
  lua_pushlstring(L, out ? out : "", len);
  free(out);
  return 1;
}

/* archive.read(data [, {max_size=BYTES, max_entries=N}]) -> list of
 * {path=, data=, mode=, dir=} in archive order (a directory has dir=true
 * and no data). nil, msg, "invalid" for a malformed archive, an unsafe
 * path, a link or special file, or a limit passed (defaults 1 GiB and
 * 100000 entries). */
static int l_read(lua_State *L) {
  size_t len, n = 0, i;
  const char *data = luaL_checklstring(L, 1, &len);
  double ms = 0, me = 0;
  eidos_archive_file *f = NULL;
  char err[ERRLEN];
  int rc;
  if (!lua_isnoneornil(L, 2)) {
    luaL_checktype(L, 2, LUA_TTABLE);
    ms = eidos_bind_optnumber(L, 2, "max_size", 0, "archive.read");
    me = eidos_bind_optnumber(L, 2, "max_entries", 0, "archive.read");
  }
  rc = eidos_archive_read(data, len, ms > 0 ? (size_t)ms : 0, me > 0 ? (size_t)me : 0,
                          &f, &n, err, sizeof err);
  if (rc) return eidos_bind_fail(L, rc, err);
  lua_createtable(L, (int)n, 0);
  for (i = 0; i < n; i++) {
    lua_createtable(L, 0, 4);
    lua_pushstring(L, f[i].path);
    lua_setfield(L, -2, "path");
    if (f[i].dir) {
      lua_pushboolean(L, 1);
      lua_setfield(L, -2, "dir");
    } else {
      lua_pushlstring(L, f[i].data, f[i].len);
      lua_setfield(L, -2, "data");
    }
    lua_pushinteger(L, (lua_Integer)f[i].mode);
    lua_setfield(L, -2, "mode");
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  eidos_archive_files_free(f, n);
  return 1;
}

/* archive.gzip(data) -> gzip of data (no name or time in the header). */
static int l_gzip(lua_State *L) {
  size_t len, outlen = 0;
  const char *data = luaL_checklstring(L, 1, &len);
  char err[ERRLEN], *out = NULL;
  int rc = eidos_archive_gzip(data, len, &out, &outlen, err, sizeof err);
  if (rc) return eidos_bind_fail(L, rc, err);
  lua_pushlstring(L, out, outlen);
  free(out);
  return 1;
}

/* archive.gunzip(data [, {max_size=BYTES}]) -> the inflated bytes of gzip
 * data (concatenated members read as one). nil, msg, "invalid" for data
 * that is not gzip, corrupt, truncated or followed by garbage, or that
 * expands past max_size (default 1 GiB); "unavailable" without zlib. */
static int l_gunzip(lua_State *L) {
  size_t len, outlen = 0;
  const char *data = luaL_checklstring(L, 1, &len);
  double ms = 0;
  char err[ERRLEN], *out = NULL;
  int rc;
  if (!lua_isnoneornil(L, 2)) {
    luaL_checktype(L, 2, LUA_TTABLE);
    ms = eidos_bind_optnumber(L, 2, "max_size", 0, "archive.gunzip");
  }
  rc = eidos_gunzip(data, len, ms > 0 ? (size_t)ms : (size_t)1 << 30, &out, &outlen, err, sizeof err);
  if (rc) return eidos_bind_fail(L, rc, err);
  lua_pushlstring(L, out, outlen);
  free(out);
  return 1;
}

static const luaL_Reg funcs[] = {
  {"write", l_write},
  {"bytes", l_bytes},
  {"read", l_read},
  {"gzip", l_gzip},
  {"gunzip", l_gunzip},
  {NULL, NULL}
};

int luaopen_eidos_core_archive(lua_State *L) {
  luaL_newlib(L, funcs);
  return 1;
}
