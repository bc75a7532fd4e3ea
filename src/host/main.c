/*
 * main.c -- the eidos executable: computes the override roots, creates a
 * bare Lua state and, as lua.c does, does everything else inside one
 * protected call (pmain): opening the libraries and bindings (so running
 * out of memory there is reported, not a panic), then calling
 * require("eidos.main").main(argv0, args). Lua returns the exit code and has
 * already printed any error it raised on purpose; anything that escapes is
 * an internal error (exit 8), with a traceback only under --debug or
 * EIDOS_DEBUG=1. Before exiting, standard output is flushed and closed and
 * both are checked: output that was lost (a full disk, /dev/full, a closed
 * pipe with SIGPIPE ignored) turns a success into exit 1 with the OS's
 * message, as coreutils' close_stdout does.
 * The state lives on the CLI's heap (heap.c: small blocks from a pool, the
 * garbage collector started once the heap passes a few MiB). At exit it is
 * closed -- every finalizer runs, so open files are closed and unfinished
 * collectors' children killed -- but, outside sanitizer builds, the process
 * exits once the last finalizer has run, without handing each block back.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lua.h>
#include <lauxlib.h>
#include "heap.h"
#include "state.h"

/* pmain(argc, argv) -> exit code  [-2, +1, e]
 * argc an integer, argv a light userdata (char **). Stack effects are
 * noted [-o, +p, x] as in the Lua reference manual; the comments at the
 * right show the stack, top last. */
static int pmain(lua_State *L) {
  int argc = (int)lua_tointeger(L, 1), i;
  char **argv = (char **)lua_touserdata(L, 2);
  lua_pushcfunction(L, eidos_host_openstate); /* argc argv open */
  lua_call(L, 0, 0);                          /* argc argv */
  lua_getglobal(L, "require");                /* argc argv require */
  lua_pushliteral(L, "eidos.main");
  lua_call(L, 1, 1);                          /* argc argv M */
  lua_getfield(L, -1, "main");                /* argc argv M main */
  lua_pushstring(L, argv[0]);                 /* argc argv M main argv0 */
  lua_createtable(L, argc, 0);                /* argc argv M main argv0 args */
  for (i = 1; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i);
  }
  lua_call(L, 2, 1);                          /* argc argv M code */
  return 1;
}

/* Flush and close stdout; 0, or -1 with errno set (0 when an earlier
 * write failed and its reason is gone). */
static int close_stdout(void) {
  int failed_before = ferror(stdout), e;
  errno = 0;
  if (fflush(stdout) != 0) {
    e = errno;
    fclose(stdout);
    errno = e;
    return -1;
  }
  if (fclose(stdout) != 0 && errno != EBADF) return -1;
  if (failed_before) {
    errno = 0;
    return -1;
  }
  return 0;
}

/* the exit code, once the state is closed: code, or 1 when standard output
 * lost what a successful command wrote to it */
static int finish(int code) {
  if (close_stdout() != 0 && code == 0) {
    if (errno) fprintf(stderr, "error: cannot write to standard output: %s\n", strerror(errno));
    else fprintf(stderr, "error: cannot write to standard output\n");
    code = 1;
  }
  return code;
}

int main(int argc, char **argv) {
  lua_State *L;
  int rc, code = 8, debug = getenv("EIDOS_DEBUG") && strcmp(getenv("EIDOS_DEBUG"), "0");
  int i;
  for (i = 1; i < argc; i++) if (!strcmp(argv[i], "--debug")) debug = 1;
  eidos_host_roots(argc, argv);
  L = eidos_heap_newstate();
  if (!L) {
    fprintf(stderr, "eidos: cannot create Lua state: out of memory\n");
    return 8;
  }
  lua_pushcfunction(L, eidos_host_traceback); /* handler */
  lua_pushcfunction(L, pmain);                /* handler pmain */
  lua_pushinteger(L, argc);                   /* handler pmain argc */
  lua_pushlightuserdata(L, argv);             /* handler pmain argc argv */
  rc = lua_pcall(L, 2, 1, 1);                 /* handler code|msg */
  if (rc == LUA_OK) {
    code = lua_isinteger(L, -1) ? (int)lua_tointeger(L, -1) : 0;
  } else {
    const char *msg = lua_tostring(L, -1);
    if (!msg) msg = "(error object is not a string)";
    if (debug) fprintf(stderr, "eidos: internal error: %s\n", msg);
    else {
      const char *nl = strchr(msg, '\n');
      fprintf(stderr, "eidos: internal error: %.*s\n(run with --debug for a traceback)\n",
              nl ? (int)(nl - msg) : (int)strlen(msg), msg);
    }
  }
  return eidos_heap_close(L, finish, code);
}
