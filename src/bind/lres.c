/*
 * lres.c -- eidos.core.res: the resource tree seen from Lua (embedded files
 * with on-disk overrides, see src/core/res.h), and the package searcher that
 * loads eidos Lua modules from it: files on disk as text only, the embedded
 * copy as the chunk the build precompiled from the same source (luac of the
 * same Lua release; loading it is ~16x faster than parsing, see
 * docs/performance.md). read_code hands out the build's chunks of YAML
 * documents and templates the same way (never a file from disk).
 */
#include <stdlib.h>
#include <string.h>
#include "bind.h"
#include "../core/eidos.h"
#include "../core/res.h"

/* res.read(rel) -> data, origin | nil, msg, code */
static int l_read(lua_State *L) {
  const char *rel = luaL_checkstring(L, 1), *data;
  size_t len;
  int owned, rc;
  char origin[4096], err[512];
  rc = eidos_res_read(rel, &data, &len, &owned, origin, sizeof origin, err, sizeof err);
  if (rc) return eidos_bind_fail(L, rc, err);
  lua_pushlstring(L, data, len);
  if (owned) free((void *)data);
  lua_pushstring(L, origin);
  return 2;
}

static const char *const kinds[] = {"document", "template", NULL};

/* push the chunk code[0..len) when its tag is kind's (argument arg), else nil */
static void push_chunk(lua_State *L, int arg, const char *code, size_t len) {
  char tag = "DT"[luaL_checkoption(L, arg, NULL, kinds)];
  if (code && len > 1 && code[0] == tag) lua_pushlstring(L, code + 1, len - 1);
  else lua_pushnil(L);
}

/* res.read_code(rel, kind) -> text, origin, code | nil, msg, code: like
 * read, and the build's precompiled Lua chunk of that text when the embedded
 * copy is the one read (a file on disk identical to it is no override) and
 * the chunk is of the kind asked for: "document" (a YAML document, see
 * eidos.chunk) or "template" (eidos.template); code is nil otherwise.
 * cmake/chunkgen.lua tags each chunk with its kind's first letter. */
static int l_read_code(lua_State *L) {
  const char *rel = luaL_checkstring(L, 1), *data, *code;
  size_t len, codelen;
  int owned, rc;
  char origin[4096], err[512];
  rc = eidos_res_read_code(rel, &data, &len, &owned, &code, &codelen, origin, sizeof origin,
                           err, sizeof err);
  if (rc) return eidos_bind_fail(L, rc, err);
  lua_pushlstring(L, data, len);
  if (owned) free((void *)data);
  lua_pushstring(L, origin);
  push_chunk(L, 2, code, codelen);
  return 3;
}

/* res.built(name, kind) -> code | nil: a chunk the build derived from
 * several embedded files (e.g. "overlay-headers", see cmake/chunkgen.lua),
 * of the kind asked for; valid for the files whose embedded copy wins */
static int l_built(lua_State *L) {
  const struct eidos_res_file *b = eidos_res_built_chunk(luaL_checkstring(L, 1));
  push_chunk(L, 2, b ? b->code : NULL, b ? b->codelen : 0);
  return 1;
}

static int list_cb(const char *path, const char *origin, void *ud) {
  lua_State *L = ud;
  lua_createtable(L, 0, 2);
  lua_pushstring(L, path);
  lua_setfield(L, -2, "path");
  lua_pushstring(L, origin);
  lua_setfield(L, -2, "origin");
  lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
  return 0;
}

/* res.list([prefix]) -> { {path=, origin=}, ... } sorted by path */
static int l_list(lua_State *L) {
  const char *prefix = luaL_optstring(L, 1, "");
  char err[256];
  lua_newtable(L);
  eidos_res_list(prefix, list_cb, L, err, sizeof err);
  return 1;
}

struct names { lua_State *L; size_t plen; lua_Integer n; };

static int names_cb(const char *path, const char *origin, void *ud) {
  struct names *nm = ud;
  lua_pushstring(nm->L, path + nm->plen);           /* names disk name */
  if (strcmp(origin, "embedded")) {
    lua_pushvalue(nm->L, -1);
    lua_pushstring(nm->L, origin);
    lua_rawset(nm->L, -4);                          /* disk[name] = origin */
  }
  lua_rawseti(nm->L, -3, ++nm->n);                  /* names disk */
  return 0;
}

/* res.names(prefix) -> names, disk: list's paths relative to the prefix
 * (sorted), and disk = {name = origin} for those a file on disk supplies;
 * no table per file (a library's file set, read on every query) */
static int l_names(lua_State *L) {
  size_t plen;
  const char *prefix = luaL_checklstring(L, 1, &plen);
  struct names nm = {L, plen, 0};
  char err[256];
  lua_newtable(L);
  lua_newtable(L);
  eidos_res_list(prefix, names_cb, &nm, err, sizeof err);
  return 2;
}

/* res.roots() -> list of override root directories, in priority order */
static int l_roots(lua_State *L) {
  int i, n = eidos_res_nroots();
  lua_createtable(L, n, 0);
  for (i = 0; i < n; i++) {
    lua_pushstring(L, eidos_res_root(i));
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

/* res.set_roots(list) -> number of roots kept (non-existing dirs dropped) */
static int l_set_roots(lua_State *L) {
  const char *r[EIDOS_RES_MAXROOTS];
  int i, n;
  luaL_checktype(L, 1, LUA_TTABLE);
  n = (int)lua_rawlen(L, 1);
  if (n > EIDOS_RES_MAXROOTS) n = EIDOS_RES_MAXROOTS;
  for (i = 0; i < n; i++) {
    lua_rawgeti(L, 1, i + 1);
    r[i] = luaL_checkstring(L, -1);
    lua_pop(L, 1);
  }
  lua_pushinteger(L, eidos_res_set_roots(r, n));
  return 1;
}

/* package searcher: "eidos.x.y" -> lua/eidos/x/y.lua or .../y/init.lua.
 * Loads text only; the chunk name is the origin. */
static int l_searcher(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  static const char *const pats[] = {"lua/%s.lua", "lua/%s/init.lua"};
  char rel[1024], origin[4096], err[512], chunk[4200];
  size_t i, j, k;
  for (i = 0; i < 2; i++) {
    const char *data;
    size_t len;
    int owned, rc;
    char mod[900];
    for (j = 0, k = 0; name[j] && k < sizeof mod - 1; j++) mod[k++] = name[j] == '.' ? '/' : name[j];
    mod[k] = 0;
    snprintf(rel, sizeof rel, pats[i], mod);
    const char *code;
    size_t codelen;
    rc = eidos_res_read_code(rel, &data, &len, &owned, &code, &codelen, origin, sizeof origin,
                             err, sizeof err);
    if (rc == EIDOS_ENOTFOUND) continue;
    if (rc) return luaL_error(L, "%s", err);
    snprintf(chunk, sizeof chunk, "@%s%s", strcmp(origin, "embedded") ? "" : "[embedded]/",
             strcmp(origin, "embedded") ? origin : rel);
    /* text only from disk; the embedded copy may be the build's own
       precompiled chunk of the same source */
    rc = code ? luaL_loadbufferx(L, code, codelen, chunk, "b")
              : luaL_loadbufferx(L, data, len, chunk, "t");
    if (owned) free((void *)data);
    if (rc != LUA_OK) return lua_error(L);
    lua_pushstring(L, origin);
    return 2;
  }
  lua_pushfstring(L, "no resource 'lua/%s.lua'", name);
  return 1;
}

static const luaL_Reg funcs[] = {
  {"read", l_read},
  {"read_code", l_read_code},
  {"built", l_built},
  {"list", l_list},
  {"names", l_names},
  {"roots", l_roots},
  {"set_roots", l_set_roots},
  {"searcher", l_searcher},
  {NULL, NULL}
};

int luaopen_eidos_core_res(lua_State *L) {
  luaL_newlib(L, funcs);
  return 1;
}
