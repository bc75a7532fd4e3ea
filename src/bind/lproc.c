/*
 * lproc.c -- eidos.core.proc: running a helper program (exec credential
 * plugins, registry credential helpers) for Lua, over src/core/proc.h: no
 * shell, its own process group killed at the deadline, small stdin data,
 * bounded stdout. What the program's output means is Lua policy.
 */
#include <stdlib.h>
#include <string.h>
#include "bind.h"
#include "../core/eidos.h"
#include "../core/proc.h"
#include "../core/sys.h"

#define WHO "proc.run"

/*
 * proc.run(argv [, {env={"NAME=value", ...}, stdin=DATA, timeout=S,
 *   max_out=BYTES, what=TEXT}]) -> stdout
 * argv[1] is looked up on PATH (a name with '/' is taken as is); env
 * entries replace or add to the environment; stdin at most 16 KiB;
 * timeout defaults to 60 s, max_out to 1 MiB; what names the program in
 * messages ("exec credential plugin"; default "program"). Failure: nil,
 * msg, code: "unavailable" (not found, cannot start), "timeout", "invalid"
 * (stdin too large), "failure" (non-zero exit, a signal, stdout over
 * max_out; msg quotes the tail of its stderr, else the head of stdout).
 * [-(1|2), +(1|3), v]
 */
static int l_run(lua_State *L) {
  struct eidos_proc p;
  const char *what = "program", *w;
  char err[2048];
  double t = 60, m;
  int rc;
  memset(&p, 0, sizeof p);
  lua_settop(L, 2);                                 /* argv opts */
  p.argv = eidos_bind_strings(L, 1, WHO, "argv");   /* argv opts ud */
  if (!p.argv || !p.argv[0]) return luaL_argerror(L, 1, "a non-empty list of strings expected");
  if (!lua_isnil(L, 2)) {
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_getfield(L, 2, "env");                      /* argv opts ud env */
    p.env_add = eidos_bind_strings(L, -1, WHO, "env"); /* argv opts ud env [ud] */
    p.in = eidos_bind_optstring(L, 2, "stdin", &p.in_len, WHO);
    w = eidos_bind_optstring(L, 2, "what", NULL, WHO);
    if (w) what = w;
    t = eidos_bind_optnumber(L, 2, "timeout", 60, WHO);
    m = eidos_bind_optnumber(L, 2, "max_out", 0, WHO);
    p.max_out = m >= 1 ? (m < 1e15 ? (size_t)m : (size_t)1e15) : 0;
  }
  if (!(t > 0)) t = 60;
  p.deadline_ms = eidos_sys_now_ms() + (t < 1e9 ? (long long)(t * 1000) : (long long)1e12);
  rc = eidos_proc_call(&p, what, EIDOS_EFAIL, err, sizeof err);
  if (rc) {
    eidos_proc_free(&p);
    return eidos_bind_fail(L, rc, err);
  }
  lua_pushlstring(L, p.out, p.out_len);
  eidos_proc_free(&p);
  return 1;
}

static const luaL_Reg funcs[] = {{"run", l_run}, {NULL, NULL}};

/* [-0, +1, m] */
int luaopen_eidos_core_proc(lua_State *L) {
  luaL_newlib(L, funcs);
  return 1;
}
