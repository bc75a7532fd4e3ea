/*
 * sys.h -- the host's clock and process primitives every part of eidos
 * shares: the monotonic clock all deadlines are counted in, a sleep that
 * resumes after signals, replacing the process image, whether a file
 * descriptor is a terminal and how wide that terminal is, and the stop
 * request (SIGTERM or SIGINT) a long-running command polls for. Bound for
 * Lua as eidos.core.sys. Thread-safe.
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

/* From now on SIGTERM and SIGINT no longer end the process: they are
 * recorded, for eidos_sys_stop_signal() to report (another one of either,
 * a second or more after the first, ends the process as the default
 * would). */
void eidos_sys_catch_stop(void);

/* The stop signal caught since eidos_sys_catch_stop(), or 0. */
int eidos_sys_stop_signal(void);

/* Sleep up to ms milliseconds, returning early (1) when a stop signal has
 * been caught; 0 after the full sleep. */
int eidos_sys_pause_ms(long long ms);

/* The width in columns of the terminal fd is, or 0 (not a terminal, or
 * it does not say). */
int eidos_sys_columns(long long fd);

#endif
