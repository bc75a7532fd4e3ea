/*
 * archive_write.h -- reproducible tar.gz and zip archives written with
 * libarchive (loaded on first use, see lazy.h) -- or, for a tar.gz whose
 * entries fit plain ustar headers, the same bytes with zlib alone (much
 * cheaper to open, see targz.c); named so as not to shadow
 * libarchive's own <archive.h>. Identical entries give identical bytes in
 * every process, time zone and locale: entries are sorted by path
 * (bytewise) with their parent directories added, every entry has the same
 * mtime (0 unless given), uid/gid 0, owner "root", mode 0644 (0755 when any
 * execute bit is asked for, and for directories); the gzip header carries
 * no timestamp or name; zip DOS times are computed in UTC.
 */
#ifndef EIDOS_ARCHIVE_WRITE_H
#define EIDOS_ARCHIVE_WRITE_H

#include <stddef.h>
#include <stdint.h>

enum { EIDOS_ARCHIVE_TARGZ = 1, EIDOS_ARCHIVE_ZIP = 2 };

typedef struct eidos_archive_entry {
  const char *path;  /* relative, "/"-separated; a trailing "/" makes a directory */
  size_t path_len;
  const void *data;  /* file contents (NULL with len 0 for empty files and dirs) */
  size_t len;
  unsigned mode;     /* requested permission bits; only the execute bits matter */
  int dir;           /* 1: a directory entry (no data) */
} eidos_archive_entry;

/* Format code of "tar.gz" or "zip", or EIDOS_EINVAL listing those. */
int eidos_archive_format(const char *name, int *format, char *err, size_t errlen);

/* Write n entries (in any order) as format with every mtime set to mtime
 * (seconds since the epoch, >= 0). With path non-NULL the archive replaces
 * path atomically (nothing is left on failure); with path NULL *out is the
 * malloc'd archive of *outlen bytes (free it). Entry paths that are empty,
 * absolute, have "", "." or ".." segments, backslashes, or bytes outside
 * printable ASCII (libarchive converts other names through the process
 * locale, which would make the bytes depend on it), and duplicate paths,
 * are EIDOS_EINVAL errors naming the path. */
int eidos_archive_write(const char *path, int format,
                        const eidos_archive_entry *entries, size_t n,
                        int64_t mtime, char **out, size_t *outlen,
                        char *err, size_t errlen);

/* Check one archive entry path by the rules above: 0, or EIDOS_EINVAL
 * naming it. */
int eidos_archive_check_path(const char *p, size_t n, char *err, size_t errlen);

/* gzip len bytes of data (no name, no timestamp in the header: the same
 * bytes give the same output; libarchive's gzip filter's bytes, written with
 * zlib, src/core/targz.c); *out is malloc'd. */
int eidos_archive_gzip(const void *data, size_t len, char **out, size_t *outlen,
                       char *err, size_t errlen);

/* eidos_archive_write with libarchive for every format: what the zlib
 * tar.gz writer is held to (spec/core/c/test_archive.c). */
int eidos_archive_write_libarchive(const char *path, int format,
                                   const eidos_archive_entry *entries, size_t n,
                                   int64_t mtime, char **out, size_t *outlen,
                                   char *err, size_t errlen);

#endif
