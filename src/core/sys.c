/*
 * sys.c -- clock, sleep, exec, isatty, the terminal's width and the stop
 * request (see sys.h).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
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

static volatile sig_atomic_t stop_sig = 0;
static long long stop_at_ms = 0; /* written once, in the handler, before stop_sig */

static void on_stop(int sig) {
  if (stop_sig) {
    /* a second request a second or more after the first: stop now, as the
     * default action would (one request often arrives twice: timeout(1)
     * signals the child and then its process group) */
    if (eidos_sys_now_ms() - stop_at_ms >= 1000) {
      signal(sig, SIG_DFL);
      raise(sig);
    }
    return;
  }
  stop_at_ms = eidos_sys_now_ms();
  stop_sig = sig;
}

void eidos_sys_catch_stop(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
}

int eidos_sys_stop_signal(void) { return (int)stop_sig; }

int eidos_sys_pause_ms(long long ms) {
  long long end = eidos_sys_now_ms() + (ms > 0 ? ms : 0);
  for (;;) {
    long long left = end - eidos_sys_now_ms();
    if (stop_sig) return 1;
    if (left <= 0) return 0;
    /* short slices: the signal may be delivered to another thread */
    eidos_sys_sleep_ms(left < 100 ? left : 100);
  }
}

int eidos_sys_columns(long long fd) {
  struct winsize ws;
  if (fd < 0 || fd > 0x7fffffff || !isatty((int)fd)) return 0;
  if (ioctl((int)fd, TIOCGWINSZ, &ws) != 0) return 0;
  return ws.ws_col;
}
