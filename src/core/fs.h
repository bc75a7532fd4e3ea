/*
 * fs.h -- file-system primitives the rest of eidos builds on: atomic file
 * writes (temporary file in the same directory, fsync, rename), recursive
 * directory creation and removal, a lexical path join that refuses to leave
 * its base directory, bounded reads, sorted directory listings and walks.
 * Every failure message names the path concerned. Thread-safe (no chdir,
 * no umask, no static buffers).
 */
#ifndef EIDOS_FS_H
#define EIDOS_FS_H

#include <stddef.h>
#include <sys/types.h>

#define EIDOS_FS_DEFAULT_MODE 0644

/* Map an errno value to an EIDOS_E* code (ENOENT/ENOTDIR -> ENOTFOUND,
 * ENOMEM -> EINTERNAL, anything else -> EFAIL). */
int eidos_fs_errcode(int errnum);

/* Write len bytes to path atomically with the given permission bits: the
 * data goes to `.<name>.XXXXXX` in the same directory, is fsynced, chmodded
 * and renamed over path. On failure nothing new is left behind and an
 * existing file at path is untouched. */
int eidos_fs_write_atomic(const char *path, const void *data, size_t len,
                          mode_t mode, char *err, size_t errlen);

/* mkdir -p; existing directories are fine, an existing non-directory is an
 * error naming it. */
int eidos_fs_mkdir_p(const char *path, mode_t mode, char *err, size_t errlen);

/* Join rel onto base after normalising `.`, `..` and repeated slashes in
 * rel. Refuses (EIDOS_EINVAL) an absolute rel, a rel that climbs above base,
 * and NUL bytes in either (lens are the byte lengths). On success *out is a
 * malloc'd NUL-terminated path (free it). rel "" or "." gives base. */
int eidos_fs_join(const char *base, size_t blen, const char *rel, size_t rlen,
                  char **out, char *err, size_t errlen);

/* Read a whole file. max is the largest accepted size (0: no limit); a
 * larger file is an EIDOS_EINVAL error naming the limit. *out is malloc'd
 * with a NUL after the *len bytes (free it). */
int eidos_fs_read(const char *path, size_t max, char **out, size_t *len,
                  char *err, size_t errlen);

/* Kind of path after following symlinks: 'f' regular file, 'd' directory,
 * 'o' other, 0 absent. Returns 0 or an error (permission and the like). */
int eidos_fs_kind(const char *path, char *kind, char *err, size_t errlen);

/* A sorted (bytewise) list of strings, each malloc'd; free with
 * eidos_fs_names_free. */
typedef struct eidos_fs_names {
  char **items;
  size_t n, cap;
} eidos_fs_names;
void eidos_fs_names_free(eidos_fs_names *l);

/* Names in dir, without "." and "..", sorted. */
int eidos_fs_list(const char *dir, eidos_fs_names *out, char *err, size_t errlen);

/* Paths relative to dir of every regular file below it (symlinks to files
 * included, symlinked directories not followed), sorted. */
int eidos_fs_walk(const char *dir, eidos_fs_names *out, char *err, size_t errlen);

/* rename(2) with both paths in the message on failure. */
int eidos_fs_rename(const char *from, const char *to, char *err, size_t errlen);

/* rm -rf: removes path and everything below it without following symlinks.
 * An absent path is not an error. Refuses "", "/", "." and "..". */
int eidos_fs_remove_tree(const char *path, char *err, size_t errlen);

/* mkdtemp(prefix + "XXXXXX"); *out is the malloc'd directory path. */
int eidos_fs_mkdtemp(const char *prefix, char **out, char *err, size_t errlen);

#endif
