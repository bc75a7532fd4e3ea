/*
 * sys.h -- the host's clock and process primitives every part of eidos
 * shares: the monotonic clock all deadlines are counted in, a sleep that
 * resumes after signals, replacing the process image, and whether a file
 * descriptor is a terminal. Bound for Lua as eidos.core.sys. Thread-safe.
 */
#ifndef EIDOS_SYS_H
#define EIDOS_SYS_H

#include <stddef.h>

/* CLOCK_MONOTONIC in nanoseconds / milliseconds. Every absolute deadline
 * in the core (deadline_ms fields) is a value of eidos_sys_now_ms(). */
long long eidos_sys_now_ns(void);
long long eidos_sys_now_ms(void);

/* Sleep ms milliseconds (nothing when ms <= 0), resuming after signals. */
void eidos_sys_sleep_ms(long long ms);

/* execv(path, argv) after flushing stdio: returns only on failure, with
 * EIDOS_ENOTFOUND (no such file) or EIDOS_EFAIL and a message naming
 * path. */
int eidos_sys_exec(const char *path, char *const argv[], char *err,
                   size_t errlen);

/* 1 if fd is an open terminal, else 0 (also for fds out of range). */
int eidos_sys_isatty(long long fd);

#endif
