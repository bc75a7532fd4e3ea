/*
 * collect_int.h -- helpers shared by the collector files (collect_*.c):
 * paths below the sysroot, bounded file reads, a growable string buffer,
 * and the measurement/subtype tree builders. Private to src/core.
 */
#ifndef EIDOS_COLLECT_INT_H
#define EIDOS_COLLECT_INT_H

#include <stddef.h>
#include <stdint.h>
#include "collect.h"
#include "value.h"

#define CX_PATH_MAX 4096

/* buf = sysroot + rel (rel starts with '/'). EIDOS_EINVAL if too long. */
int cx_path(const struct eidos_collect_ctx *c, const char *rel, char *buf,
            size_t n);

/* Read a whole regular file (also /proc and /sys files whose size is 0) of
 * at most max bytes. *data is NUL-terminated, free() it. On failure the
 * message names rel (the path as the user knows it) and errno's text;
 * *eno gets errno (0 for "too large"/"not a regular file"). */
int cx_read(const char *path, size_t max, char **data, size_t *len, int *eno,
            char *err, size_t errlen);

/* Is s[0..n) valid UTF-8 (no NUL bytes)? */
int cx_utf8(const char *s, size_t n);

/* Whitespace trims returning pointer/length into the same buffer. */
const char *cx_trim(const char *s, size_t n, size_t *outn);

/* Growable string buffer (bounded). */
struct cx_buf {
  char *s;
  size_t n, cap, max;
  int oom; /* set when an append failed or hit max */
};
void cx_buf_init(struct cx_buf *b, size_t max);
void cx_buf_add(struct cx_buf *b, const char *s, size_t n);
void cx_buf_adds(struct cx_buf *b, const char *s);
void cx_buf_addf(struct cx_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 2, 3)))
#endif
  ;
void cx_buf_free(struct cx_buf *b);

/* {type: name, subtypes: []} */
struct eidos_value *cx_measurement(const char *type);
/* Append {subtype: name, data: {}, context: {}} to m.subtypes; return it. */
struct eidos_value *cx_subtype(struct eidos_value *m, const char *name);
struct eidos_value *cx_data(struct eidos_value *subtype);
struct eidos_value *cx_context(struct eidos_value *subtype);

/* Sorted names of the entries of a directory (without . and ..).
 * Returns count or a negative code; free with cx_names_free. */
int cx_listdir(const char *path, char ***names, size_t *n, int *eno);
void cx_names_free(char **names, size_t n);

/* Run `nvidia-smi -q -x` (collect_smi.c, through proc.h): 0 with the XML
 * in *xml (free() it), EIDOS_EUNAVAIL (not on PATH, cannot start),
 * EIDOS_ETIMEOUT (killed at the deadline) or EIDOS_EFAIL (non-zero exit,
 * too much output). */
int cx_smi_run(const struct eidos_collect_ctx *c, char **xml, size_t *len,
               char *err, size_t errlen);

#endif
