/*
 * lfs.c -- Lua binding of the file-system core (eidos.core.fs): atomic
 * writes, directory replacement in one step, mkdir -p, a join that refuses
 * to escape its base, bounded reads, existence checks and stat (the real
 * type, symlink targets), sorted listings and walks, rename, rm -rf and
 * mkdtemp. Paths are strings; a path with a NUL byte is refused as invalid.
 * Modes are integers (493 == 0755) or octal strings ("0755").
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <lua.h>
#include <lauxlib.h>
#include "bind.h"
#include "../core/eidos.h"
#include "../core/fs.h"

#define ERRLEN 1024

/* The path at arg, or NULL (after pushing nil, msg, code) if it has a NUL. */
static const char *path_arg(lua_State *L, int arg) {
  size_t len;
  const char *p = luaL_checklstring(L, arg, &len);
  if (strlen(p) != len) {
    lua_pushnil(L);
    lua_pushfstring(L, "path \"%s...\" contains a NUL byte", p);
    lua_pushstring(L, eidos_strcode(EIDOS_EINVAL));
    return NULL;
  }
  return p;
}

static mode_t mode_arg(lua_State *L, int arg, mode_t def) {
  if (lua_isnoneornil(L, arg)) return def;
  if (lua_type(L, arg) == LUA_TSTRING) {
    const char *s = lua_tostring(L, arg);
    char *end;
    long m = strtol(s, &end, 8);
    if (*s && !*end && m >= 0 && m <= 07777) return (mode_t)m;
  } else {
    int ok;
    lua_Integer m = lua_tointegerx(L, arg, &ok);
    if (ok && m >= 0 && m <= 07777) return (mode_t)m;
  }
  luaL_argerror(L, arg, "mode must be an integer or octal string from 0 to 07777");
  return def;
}

static int ok_or_fail(lua_State *L, int rc, const char *err) {
  if (rc) return eidos_bind_fail(L, rc, err);
  lua_pushboolean(L, 1);
  return 1;
}

static int push_list(lua_State *L, int rc, eidos_fs_names *l, const char *err) {
  size_t i;
  if (rc) return eidos_bind_fail(L, rc, err);
  lua_createtable(L, (int)l->n, 0);
  for (i = 0; i < l->n; i++) {
    lua_pushstring(L, l->items[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  eidos_fs_names_free(l);
  return 1;
}

/* fs.write_atomic(path, data [, mode=0644]) -> true; on failure nil, msg,
 * code, and nothing is left at path (an old file there is untouched). */
static int l_write_atomic(lua_State *L) {
  char err[ERRLEN];
  size_t len;
  const char *p = path_arg(L, 1), *data = luaL_checklstring(L, 2, &len);
  mode_t mode = mode_arg(L, 3, EIDOS_FS_DEFAULT_MODE);
  if (!p) return 3;
  return ok_or_fail(L, eidos_fs_write_atomic(p, data, len, mode, err, sizeof err), err);
}

/* fs.replace_dir(path, fill) -> true | nil, msg, code. fill(root) writes
 * the new content into root, a directory in a holding directory beside path
 * that this process locks; then root replaces path in one step
 * (eidos_fs_replace: an atomic exchange where the file system has one). The
 * holding directory, with the previous content, is removed afterwards; one
 * left by a killed run is removed, or its saved content put back, by the
 * next call for the same path. An error raised by fill is raised again. */
static int l_replace_dir(lua_State *L) {
  char err[ERRLEN], *hold;
  const char *p = path_arg(L, 1), *base, *root;
  int fd, rc, ok;
  luaL_checktype(L, 2, LUA_TFUNCTION);
  if (!p) return 3;
  if ((rc = eidos_fs_hold(p, &hold, &fd, err, sizeof err))) return eidos_bind_fail(L, rc, err);
  base = strrchr(p, '/');
  root = lua_pushfstring(L, "%s/%s", hold, base ? base + 1 : p);
  lua_pushvalue(L, 2);
  lua_pushvalue(L, -2);
  rc = eidos_fs_mkdir_p(root, 0755, err, sizeof err);
  ok = rc || lua_pcall(L, 1, 0, 0) == LUA_OK;
  if (ok && !rc) rc = eidos_fs_replace(root, p, hold, err, sizeof err);
  eidos_fs_remove_tree(hold, NULL, 0);
  close(fd);
  free(hold);
  if (!ok) return lua_error(L);
  return ok_or_fail(L, rc, err);
}

/* fs.mkdir_p(path [, mode=0755]) -> true, or nil, msg, code. */
static int l_mkdir_p(lua_State *L) {
  char err[ERRLEN];
  const char *p = path_arg(L, 1);
  mode_t mode = mode_arg(L, 2, 0755);
  if (!p) return 3;
  return ok_or_fail(L, eidos_fs_mkdir_p(p, mode, err, sizeof err), err);
}

/* fs.join(base, rel) -> base/rel with `.`, `..` and `//` in rel resolved
 * lexically; nil, msg, "invalid" if rel is absolute, climbs above base or
 * either holds a NUL byte. */
static int l_join(lua_State *L) {
  char err[ERRLEN], *out;
  size_t blen, rlen;
  const char *b = luaL_checklstring(L, 1, &blen), *r = luaL_checklstring(L, 2, &rlen);
  int rc = eidos_fs_join(b, blen, r, rlen, &out, err, sizeof err);
  if (rc) return eidos_bind_fail(L, rc, err);
  lua_pushstring(L, out);
  free(out);
  return 1;
}

/* fs.read(path [, max_bytes [, timeout_ms]]) -> contents; nil, msg, code
 * if unreadable or larger than max_bytes (the message names the limit; 0 or
 * absent: no limit), or code "timeout" when a pipe or device did not end
 * within timeout_ms (0 or absent: no limit; regular files are not timed). */
static int l_read(lua_State *L) {
  char err[ERRLEN], *buf;
  size_t len;
  const char *p = path_arg(L, 1);
  lua_Integer max = luaL_optinteger(L, 2, 0);
  lua_Number ms = luaL_optnumber(L, 3, 0);
  int rc;
  luaL_argcheck(L, max >= 0, 2, "max_bytes must not be negative");
  luaL_argcheck(L, ms >= 0 && ms < 1e15, 3, "timeout_ms must be 0 or more");
  if (!p) return 3;
  rc = eidos_fs_read_within(p, (size_t)max, (long long)(ms + 0.5), &buf, &len, err, sizeof err);
  if (rc) return eidos_bind_fail(L, rc, err);
  lua_pushlstring(L, buf, len);
  free(buf);
  return 1;
}

/* fs.exists(path) -> "file", "dir", "other" (device, socket, fifo) or nil
 * when absent (symlinks followed); nil, msg, code if it cannot be checked. */
static int l_exists(lua_State *L) {
  char err[ERRLEN], kind;
  const char *p = path_arg(L, 1);
  int rc;
  if (!p) return 3;
  rc = eidos_fs_kind(p, &kind, err, sizeof err);
  if (rc) return eidos_bind_fail(L, rc, err);
  if (!kind) lua_pushnil(L);
  else lua_pushstring(L, kind == 'f' ? "file" : kind == 'd' ? "dir" : "other");
  return 1;
}

/* fs.stat(path) -> {type=, size=, real=, link=, target=, target_error=}:
 * type "file", "directory", "symlink", "FIFO", "socket", "character device"
 * or "block device", the last component not followed; real the absolute
 * path it resolves to ("" if none). A symlink also has link (its text) and
 * target (the type it leads to) or target_error (the OS's message: a
 * dangling link, a loop). nil, msg, "notfound" when nothing is at path;
 * nil, msg, code when it cannot be checked. */
static int l_stat(lua_State *L) {
  char err[ERRLEN];
  struct eidos_fs_info fi;
  const char *p = path_arg(L, 1);
  int rc;
  if (!p) return 3;
  rc = eidos_fs_stat(p, &fi, err, sizeof err);
  if (rc) return eidos_bind_fail(L, rc, err);
  lua_createtable(L, 0, 5);
  lua_pushstring(L, eidos_fs_typename(fi.type));
  lua_setfield(L, -2, "type");
  lua_pushinteger(L, (lua_Integer)fi.size);
  lua_setfield(L, -2, "size");
  lua_pushstring(L, fi.real);
  lua_setfield(L, -2, "real");
  if (fi.type == 'l') {
    lua_pushstring(L, fi.link);
    lua_setfield(L, -2, "link");
    if (fi.target) lua_pushstring(L, eidos_fs_typename(fi.target));
    else lua_pushstring(L, fi.target_msg);
    lua_setfield(L, -2, fi.target ? "target" : "target_error");
  }
  return 1;
}

/* fs.list(dir) -> sorted list of entry names; nil, msg, code. */
static int l_list(lua_State *L) {
  char err[ERRLEN];
  eidos_fs_names l;
  const char *p = path_arg(L, 1);
  if (!p) return 3;
  return push_list(L, eidos_fs_list(p, &l, err, sizeof err), &l, err);
}

/* fs.walk(dir) -> sorted list of the files below dir as paths relative to
 * it ("a/b.txt"); symlinked directories are not followed; nil, msg, code. */
static int l_walk(lua_State *L) {
  char err[ERRLEN];
  eidos_fs_names l;
  const char *p = path_arg(L, 1);
  if (!p) return 3;
  return push_list(L, eidos_fs_walk(p, &l, err, sizeof err), &l, err);
}

/* fs.rename(from, to) -> true, or nil, msg, code. */
static int l_rename(lua_State *L) {
  char err[ERRLEN];
  const char *a = path_arg(L, 1), *b;
  if (!a) return 3;
  if (!(b = path_arg(L, 2))) return 3;
  return ok_or_fail(L, eidos_fs_rename(a, b, err, sizeof err), err);
}

/* fs.remove_tree(path) -> true (also when absent); nil, msg, code, and
 * "invalid" for "", "/", "." and "..". */
static int l_remove_tree(lua_State *L) {
  char err[ERRLEN];
  const char *p = path_arg(L, 1);
  if (!p) return 3;
  return ok_or_fail(L, eidos_fs_remove_tree(p, err, sizeof err), err);
}

/* fs.mkdtemp(prefix) -> path of a new directory prefix.."XXXXXX" (mode
 * 0700); nil, msg, code. */
static int l_mkdtemp(lua_State *L) {
  char err[ERRLEN], *out;
  const char *p = path_arg(L, 1);
  int rc;
  if (!p) return 3;
  rc = eidos_fs_mkdtemp(p, &out, err, sizeof err);
  if (rc) return eidos_bind_fail(L, rc, err);
  lua_pushstring(L, out);
  free(out);
  return 1;
}

static const luaL_Reg funcs[] = {
  {"write_atomic", l_write_atomic},
  {"mkdir_p", l_mkdir_p},
  {"join", l_join},
  {"read", l_read},
  {"exists", l_exists},
  {"stat", l_stat},
  {"list", l_list},
  {"walk", l_walk},
  {"rename", l_rename},
  {"replace_dir", l_replace_dir},
  {"remove_tree", l_remove_tree},
  {"mkdtemp", l_mkdtemp},
  {NULL, NULL}
};

int luaopen_eidos_core_fs(lua_State *L) {
  luaL_newlib(L, funcs);
  return 1;
}
