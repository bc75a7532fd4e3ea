/*
 * state.c -- Lua state set-up shared by every entry point (see state.h):
 * the override roots, preloaded core modules and lua-cjson, and the
 * text-only resource searcher with empty package.path/cpath. Stack effects
 * are noted [-o, +p, x] as in the Lua reference manual.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include "../core/res.h"
#include "../bind/modules.h"
#include "state.h"

int luaopen_cjson(lua_State *L);

void eidos_host_roots(int argc, char **argv) {
  const char *r[EIDOS_RES_MAXROOTS];
  static char share[PATH_MAX + 32], dir[PATH_MAX];
  int n = 0, i;
  ssize_t l;
  for (i = 1; i < argc && n < EIDOS_RES_MAXROOTS - 3; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--")) break;
    if ((!strcmp(a, "--lua-path") || !strcmp(a, "--data-dir")) && i + 1 < argc)
      r[n++] = argv[++i];
    else if (!strncmp(a, "--lua-path=", 11))
      r[n++] = a + 11;
    else if (!strncmp(a, "--data-dir=", 11))
      r[n++] = a + 11;
  }
  if (getenv("EIDOS_HOME")) r[n++] = getenv("EIDOS_HOME");
  l = readlink("/proc/self/exe", dir, sizeof dir - 1);
  if (l > 0) {
    char *slash;
    dir[l] = 0;
    if ((slash = strrchr(dir, '/'))) *slash = 0;
    snprintf(share, sizeof share, "%s/../share/eidos", dir);
    r[n++] = share;
    r[n++] = dir;
  }
  eidos_res_set_roots(r, n);
}

/* [-1, +1, m] msg -> msg with a traceback (or the error object as is) */
int eidos_host_traceback(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg) luaL_traceback(L, L, msg, 1);
  else if (!lua_isnoneornil(L, 1) && !luaL_callmeta(L, 1, "__tostring"))
    lua_pushvalue(L, 1); /* structured error: keep the object */
  return 1;
}

/* [-0, +0, m] */
int eidos_host_openstate(lua_State *L) {
  luaL_openlibs(L);
  eidos_bind_preload(L);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE); /* preload */
  lua_pushcfunction(L, luaopen_cjson);                       /* preload open */
  lua_setfield(L, -2, "cjson");                              /* preload */
  lua_pop(L, 1);                                             /* */
  eidos_bind_install_searcher(L, 1);
  return 0;
}

lua_State *eidos_host_newstate(void) {
  lua_State *L = luaL_newstate();
  if (!L) return NULL;
  lua_pushcfunction(L, eidos_host_openstate);
  if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
    lua_close(L);
    return NULL;
  }
  return L;
}
