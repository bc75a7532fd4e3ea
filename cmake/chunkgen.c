/*
 * chunkgen.c -- build-time tool: runs cmake/chunkgen.lua (which precompiles
 * the embedded library and templates into Lua chunks) in a Lua state made
 * exactly like eidos's -- the same bindings and module searcher -- whose
 * resource tree is the source directory on disk, so the chunks come from
 * the very code that reads the files at run time.
 * usage: chunkgen ROOT LISTFILE OUTDIR
 */
#include <stdio.h>
#include <lua.h>
#include <lauxlib.h>
#include "core/res.h"
#include "host/state.h"

/* nothing is embedded in this tool: every resource is read from ROOT */
const struct eidos_res_file eidos_res_files[] = {{NULL, NULL, 0, NULL, 0}};
const size_t eidos_res_nfiles = 0;
const struct eidos_res_file eidos_res_built[] = {{NULL, NULL, 0, NULL, 0}};
const size_t eidos_res_nbuilt = 0;

int main(int argc, char **argv) {
  lua_State *L;
  char script[4096];
  int i, rc;
  if (argc != 4) {
    fprintf(stderr, "usage: chunkgen ROOT LISTFILE OUTDIR\n");
    return 2;
  }
  if (eidos_res_set_roots((const char *const *)&argv[1], 1) != 1) {
    fprintf(stderr, "chunkgen: %s is not a directory\n", argv[1]);
    return 2;
  }
  if (!(L = eidos_host_newstate())) {
    fprintf(stderr, "chunkgen: out of memory\n");
    return 1;
  }
  snprintf(script, sizeof script, "%s/cmake/chunkgen.lua", argv[1]);
  lua_pushcfunction(L, eidos_host_traceback);
  rc = luaL_loadfile(L, script);
  if (rc == LUA_OK) {
    for (i = 1; i < 4; i++) lua_pushstring(L, argv[i]);
    rc = lua_pcall(L, 3, 0, 1);
  }
  if (rc != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    fprintf(stderr, "chunkgen: %s\n", msg ? msg : "(error object is not a string)");
  }
  lua_close(L);
  return rc == LUA_OK ? 0 : 1;
}
