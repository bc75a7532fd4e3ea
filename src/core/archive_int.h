/*
 * archive_int.h -- inside the archive writer (archive_write.c): the checked,
 * sorted entry list it builds, and the tar.gz writer on zlib (targz.c) it
 * hands that list to.
 */
#ifndef EIDOS_ARCHIVE_INT_H
#define EIDOS_ARCHIVE_INT_H

#include <stddef.h>
#include <stdint.h>

typedef struct eidos_archive_item {
  char *name;          /* archive name; directories end in "/" */
  size_t nlen;
  const void *data;
  size_t len;
  int dir, exec;
} eidos_archive_item;

/* 1 when every item fits a plain ustar header (a path of at most 100 bytes
 * or one that splits at a '/' into 155 + 100, a size within 11 octal
 * digits, an mtime below 2^31 - 1): then libarchive's pax-restricted
 * writer adds no pax header, and eidos_targz_write gives its exact bytes. */
int eidos_targz_fits(const eidos_archive_item *it, size_t n, int64_t mtime);

/* The tar.gz of the items (sorted, checked, fitting) as malloc'd *out. */
int eidos_targz_write(const eidos_archive_item *it, size_t n, int64_t mtime,
                      char **out, size_t *outlen, char *err, size_t errlen);

/* data as a gzip stream, the bytes libarchive's gzip filter (no name, no
 * timestamp) gives, written with zlib; *out is malloc'd. */
int eidos_gzip(const void *data, size_t len, char **out, size_t *outlen,
               char *err, size_t errlen);

#endif
