/*
 * lsys.c -- eidos.core.sys: the host primitives Lua needs, over
 * src/core/sys.h: a sleep and the monotonic clock (polling, durations),
 * exec(2) (`eidos serve` becomes eidosd), isatty (progress and colour
 * only on a terminal), the terminal's width (tables fit it), and the
 * stop request of long-running commands (SIGTERM/SIGINT caught, polled,
 * and a sleep that ends on it).
 */
#include <signal.h>
#include "bind.h"
#include "../core/eidos.h"
#include "../core/sys.h"

/* sys.sleep(seconds) -- wait; fractions allowed, <= 0 returns at once
 * [-1, +0, v] */
static int l_sleep(lua_State *L) {
  double s = luaL_checknumber(L, 1);
  if (s > 0) eidos_sys_sleep_ms(s > 1e9 ? (long long)1e12 : (long long)(s * 1000 + 0.5));
  return 0;
}

/* sys.monotime() -> seconds (float) from an arbitrary start, monotonic
 * [-0, +1, -] */
static int l_monotime(lua_State *L) {
  lua_pushnumber(L, (lua_Number)eidos_sys_now_ns() / 1e9);
  return 1;
}

/* sys.exec(path, argv) -> does not return | nil, msg, code
 * Replaces the process image (execv): argv is a list of strings, argv[1]
 * conventionally the program. Fails with "notfound" (no such file) or
 * "failure". [-2, +3, v] */
static int l_exec(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  lua_Integer n, i;
  char **argv, msg[512];
  int rc;
  luaL_checktype(L, 2, LUA_TTABLE);
  n = (lua_Integer)lua_rawlen(L, 2);
  argv = lua_newuserdatauv(L, (size_t)(n + 1) * sizeof *argv, 0); /* path argv ud */
  for (i = 0; i < n; i++) {
    if (lua_rawgeti(L, 2, i + 1) != LUA_TSTRING)
      return luaL_error(L, "sys.exec: argv[%d] must be a string", (int)(i + 1));
    argv[i] = (char *)lua_tostring(L, -1);
    lua_pop(L, 1); /* the string stays alive in the argv table */
  }
  argv[n] = NULL;
  rc = eidos_sys_exec(path, argv, msg, sizeof msg);
  return eidos_bind_fail(L, rc, msg);
}

/* sys.isatty(fd) -> boolean (false for a closed or out-of-range fd)
 * [-1, +1, v] */
static int l_isatty(lua_State *L) {
  lua_pushboolean(L, eidos_sys_isatty((long long)luaL_checkinteger(L, 1)));
  return 1;
}

/* sys.catch_stop() -- from now on SIGTERM and SIGINT are recorded instead
 * of ending the process (another one, a second or more later, still ends
 * it) [-0, +0, -] */
static int l_catch_stop(lua_State *L) {
  (void)L;
  eidos_sys_catch_stop();
  return 0;
}

static const char *signame(int sig) {
  return sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : "signal";
}

/* sys.stopped() -> "SIGTERM" | "SIGINT" once one was caught, else nil
 * [-0, +1, -] */
static int l_stopped(lua_State *L) {
  int sig = eidos_sys_stop_signal();
  if (sig) lua_pushstring(L, signame(sig));
  else lua_pushnil(L);
  return 1;
}

/* sys.pause(seconds) -> nil after the full sleep, or the signal's name
 * ("SIGTERM") as soon as a stop signal was caught [-1, +1, v] */
static int l_pause(lua_State *L) {
  double s = luaL_checknumber(L, 1);
  long long ms = s > 1e9 ? (long long)1e12 : s > 0 ? (long long)(s * 1000 + 0.5) : 0;
  if (eidos_sys_pause_ms(ms)) lua_pushstring(L, signame(eidos_sys_stop_signal()));
  else lua_pushnil(L);
  return 1;
}

/* sys.columns(fd) -> the width of the terminal fd is, or nil (not a
 * terminal, or it does not say) [-1, +1, v] */
static int l_columns(lua_State *L) {
  int w = eidos_sys_columns((long long)luaL_checkinteger(L, 1));
  if (w > 0) lua_pushinteger(L, w);
  else lua_pushnil(L);
  return 1;
}

static const luaL_Reg funcs[] = {
  {"sleep", l_sleep}, {"monotime", l_monotime}, {"exec", l_exec}, {"isatty", l_isatty},
  {"catch_stop", l_catch_stop}, {"stopped", l_stopped}, {"pause", l_pause},
  {"columns", l_columns},
  {NULL, NULL}
};

/* [-0, +1, m] */
int luaopen_eidos_core_sys(lua_State *L) {
  luaL_newlib(L, funcs);
  return 1;
}
