/*
 * sys.c -- clock, sleep, exec and isatty (see sys.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "eidos.h"
#include "sys.h"

long long eidos_sys_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

long long eidos_sys_now_ms(void) { return eidos_sys_now_ns() / 1000000; }

void eidos_sys_sleep_ms(long long ms) {
  struct timespec ts;
  if (ms <= 0) return;
  ts.tv_sec = (time_t)(ms / 1000);
  ts.tv_nsec = (long)(ms % 1000) * 1000000L;
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

int eidos_sys_exec(const char *path, char *const argv[], char *err,
                   size_t errlen) {
  int e;
  fflush(NULL);
  execv(path, argv);
  e = errno;
  return eidos_err(err, errlen, e == ENOENT ? EIDOS_ENOTFOUND : EIDOS_EFAIL,
                   "cannot execute %s: %s", path, strerror(e));
}

int eidos_sys_isatty(long long fd) {
  return fd >= 0 && fd <= 0x7fffffff && isatty((int)fd);
}
