/*
 * global.c -- the one global of eidosd: its configuration (read once at
 * start, then read-only), the phase of its life, the shared parts every
 * thread reaches (rate limiter, response cache, pools, I/O threads). Its
 * own file so that every part depends on it and it depends on none.
 */
#include "server.h"

struct srv_global G;

const char *srv_pool_name(int kind) {
  static const char *const names[POOL_N] = {"handlers", "bundlers"};
  return kind >= 0 && kind < POOL_N ? names[kind] : "?";
}
