/*
 * gunzip.h -- decompressing a gzip stream held in memory (zlib, loaded on
 * first use; see lazy.h): what Helm stores in a release record. The input
 * is hostile until proven otherwise: the output is capped before it is
 * allocated (a gzip bomb costs at most max_out bytes and the time to
 * inflate them), a truncated stream or trailing bytes that are not another
 * gzip member are refused, and the CRC and length of every member are
 * checked by zlib.
 */
#ifndef EIDOS_GUNZIP_H
#define EIDOS_GUNZIP_H

#include <stddef.h>

/* gzip magic: the first two bytes of a gzip member */
#define EIDOS_GZIP_MAGIC0 0x1f
#define EIDOS_GZIP_MAGIC1 0x8b

/* Inflate len bytes of gzip data (one member or several concatenated, as
 * gzip -d reads them). On success *out is malloc'd (free it; NUL-terminated
 * for convenience, not counted in *outlen). EIDOS_EINVAL for data that is
 * not gzip, a corrupt or truncated stream, trailing garbage, or an output
 * larger than max_out bytes (the message names the limit); EIDOS_EUNAVAIL
 * when zlib cannot be loaded. */
int eidos_gunzip(const void *data, size_t len, size_t max_out, char **out,
                 size_t *outlen, char *err, size_t errlen);

#endif
