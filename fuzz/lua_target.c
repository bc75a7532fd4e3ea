/*
 * lua_target.c -- the one libFuzzer driver of every Lua-level target. It is
 * compiled once per adapter with -DTARGET="eidos.fuzz.NAME" and
 * -DEIDOS_SOURCE_DIR="..." (cmake/targets/fuzz.cmake). At start-up
 * (LLVMFuzzerInitialize) it builds one Lua state exactly as the CLI does
 * (eidos_host_newstate: core bindings, cjson, the resource searcher with the
 * source tree as the first override root, so lua/ on disk is what runs) and
 * loads fuzz/adapters/NAME.lua with luaL_loadfile (the adapters are not
 * shipped: they are not under lua/), passing it the fuzz/ directory as its
 * chunk argument (for dofile of fuzz/lib/). The adapter returns a function
 * f(input) that drives the policy code; it is stored as package.loaded[TARGET].
 *
 * Each input is one protected call f(input). What counts as a finding
 * (the process aborts, libFuzzer saves the input):
 *  - a crash, a sanitizer report, a Lua panic (error outside any pcall);
 *  - an error object that is neither a string nor a table, or a structured
 *    error {code=, msg=} whose code is "internal", or a table without a
 *    string code;
 *  - a string error, i.e. a Lua runtime error ("attempt to index a nil
 *    value") escaping policy code that promises structured errors. The
 *    adapters catch the string errors a module documents (cjson.decode) and
 *    raise "fuzz: ..." strings themselves when a property fails.
 *    EIDOS_FUZZ_LAX=1 ignores string errors (to look past a known one).
 * Structured errors with another code, and nil, msg returns, are expected.
 *
 * After each input the driver runs a full garbage collection, so an input
 * that does not leak frees what it allocated and libFuzzer's per-input
 * leak check (-detect_leaks=1) stays on and finds C leaks (an event or a
 * buffer lost on an error path). It also keeps the heap small, which is
 * faster than letting it grow. EIDOS_FUZZ_GC=0 skips it (leaks are then
 * only reported at exit).
 *
 * Lua line coverage: libFuzzer only sees instrumented C (the bindings and
 * the core); the Lua VM and the policy code are invisible to it. A line
 * hook turns each (file, line) -> (file, line) transition of code loaded
 * from a file (lua/, fuzz/adapters/; not generated chunks such as compiled
 * templates) into an edge flag in the __libfuzzer_extra_counters section,
 * so inputs that reach new Lua lines count as new features (ft:); `cov:`
 * stays C only.
 * The hook is per coroutine: a coroutine that installs its own hook (the
 * template renderer's instruction budget) is not traced.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include "core/res.h"
#include "host/state.h"

#ifndef TARGET
#error "compile with -DTARGET=\"eidos.fuzz.NAME\""
#endif
#ifndef EIDOS_SOURCE_DIR
#error "compile with -DEIDOS_SOURCE_DIR=\"/path/to/source\""
#endif

#define LUACOV_SIZE (1u << 16)
__attribute__((used, no_sanitize("address"), section("__libfuzzer_extra_counters")))
static uint8_t luacov[LUACOV_SIZE];

static lua_State *L;
static int fn_ref = LUA_NOREF;
static int lax, gc = 1;
static uint32_t prev_loc;

static void die(const char *what, const char *msg) {
  fprintf(stderr, "\n==eidos-fuzz== %s: %s: %s\n", TARGET, what, msg ? msg : "(no message)");
  fflush(stderr);
  abort();
}

static int panic(lua_State *l) {
  const char *m = lua_tostring(l, -1);
  die("Lua panic (error outside a protected call)", m ? m : lua_typename(l, lua_type(l, -1)));
  return 0;
}

__attribute__((no_sanitize("address", "undefined")))
static void line_hook(lua_State *l, lua_Debug *ar) {
  uint32_t h = 2166136261u;
  const char *p;
  if (!lua_getinfo(l, "S", ar) || ar->source[0] != '@') return; /* files only */
  /* the file name's bytes, not the string's address: a collected and
     re-created string must give the same location */
  for (p = ar->short_src; *p; p++) h = (h ^ (uint8_t)*p) * 16777619u;
  h ^= (uint32_t)ar->currentline * 2654435761u;
  h ^= h >> 15;
  /* presence only: hit counts of Lua edges would make every loop length a
     new feature and flood the corpus */
  luacov[(h ^ prev_loc) & (LUACOV_SIZE - 1)] = 1;
  prev_loc = h >> 1;
}

/* message handler: keep tables, add a traceback to anything else */
static int msgh(lua_State *l) {
  if (lua_type(l, 1) == LUA_TTABLE) return 1;
  if (lua_type(l, 1) == LUA_TSTRING) {
    luaL_traceback(l, l, lua_tostring(l, 1), 1);
    return 1;
  }
  /* marked with \x01: neither a string nor a table */
  lua_pushfstring(l, "\x01(error object is a %s value)", luaL_typename(l, 1));
  luaL_traceback(l, l, lua_tostring(l, -1), 1);
  return 1;
}

static void adapter_path(char *buf, size_t n) {
  const char *name = strrchr(TARGET, '.');
  snprintf(buf, n, "%s/fuzz/adapters/%s.lua", EIDOS_SOURCE_DIR, name ? name + 1 : TARGET);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  const char *roots[2];
  int n = 0;
  char path[4096];
  (void)argc; (void)argv;
  lax = getenv("EIDOS_FUZZ_LAX") && strcmp(getenv("EIDOS_FUZZ_LAX"), "0");
  if (getenv("EIDOS_FUZZ_GC") && !strcmp(getenv("EIDOS_FUZZ_GC"), "0")) gc = 0;
  if (getenv("EIDOS_HOME")) roots[n++] = getenv("EIDOS_HOME");
  roots[n++] = EIDOS_SOURCE_DIR;
  eidos_res_set_roots(roots, n);
  L = eidos_host_newstate();
  if (!L) die("start", "cannot create a Lua state");
  lua_atpanic(L, panic);
  adapter_path(path, sizeof path);
  lua_pushcfunction(L, msgh);
  if (luaL_loadfile(L, path) != LUA_OK) die("cannot load the adapter", lua_tostring(L, -1));
  lua_pushstring(L, EIDOS_SOURCE_DIR "/fuzz"); /* the adapter's `...` */
  if (lua_pcall(L, 1, 1, -3) != LUA_OK) {
    if (lua_type(L, -1) == LUA_TTABLE) {
      lua_getfield(L, -1, "msg");
      die("the adapter failed to start", lua_tostring(L, -1));
    }
    die("the adapter failed to start", lua_tostring(L, -1));
  }
  if (!lua_isfunction(L, -1)) die("start", "the adapter must return a function(input)");
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_pushvalue(L, -2);
  lua_setfield(L, -2, TARGET);
  lua_pop(L, 1);
  fn_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_settop(L, 0);
  lua_gc(L, LUA_GCCOLLECT);
  if (!getenv("EIDOS_FUZZ_NO_LUACOV")) lua_sethook(L, line_hook, LUA_MASKLINE, 0);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int rc;
  lua_settop(L, 0);
  prev_loc = 0;
  lua_pushcfunction(L, msgh);
  lua_rawgeti(L, LUA_REGISTRYINDEX, fn_ref);
  lua_pushlstring(L, (const char *)data, size);
  rc = lua_pcall(L, 1, 0, 1);
  if (rc != LUA_OK) {
    if (rc == LUA_ERRMEM) die("out of memory", lua_tostring(L, -1));
    if (lua_type(L, -1) == LUA_TTABLE) {
      const char *code, *msg;
      lua_getfield(L, -1, "code");
      lua_getfield(L, -2, "msg");
      code = lua_tostring(L, -2);
      msg = lua_tostring(L, -1);
      if (lua_type(L, -2) != LUA_TSTRING) die("error table without a string code", msg);
      if (!strcmp(code, "internal")) die("structured error with code \"internal\"", msg);
    } else {
      const char *m = lua_tostring(L, -1);
      if (m && m[0] == '\x01') die("error object that is neither a string nor a table", m + 1);
      if (!lax) die("unstructured (string) error escaped the policy code", m);
    }
  }
  lua_settop(L, 0);
  if (gc) lua_gc(L, LUA_GCCOLLECT);
  return 0;
}
