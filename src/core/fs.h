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
 * data goes to `.<name>.eidos-XXXXXX` in the same directory (locked by this
 * writer, see eidos_fs_clean_stale), is fsynced, chmodded and renamed over
 * path. On failure nothing new is left behind and an existing file at path
 * is untouched. */
int eidos_fs_write_atomic(const char *path, const void *data, size_t len,
                          mode_t mode, char *err, size_t errlen);

/* Temporaries of path (`.<name>.eidos-XXXXXX` beside it: files of
 * eidos_fs_write_atomic, directories of eidos_fs_hold) are locked with
 * flock by their writer while it lives. Remove those no live writer holds;
 * a holding directory whose "old" kept the previous content of path while
 * path is absent (a replace without exchange, cut short) gives it back to
 * path first. */
int eidos_fs_clean_stale(const char *path, char *err, size_t errlen);

/* Clean the stale temporaries of path, then create the holding directory
 * `.<name>.eidos-XXXXXX` beside it (mode 0700), locked for as long as
 * *lockfd stays open: remove the directory, then close *lockfd. *hold is
 * malloc'd. */
int eidos_fs_hold(const char *path, char **hold, int *lockfd, char *err, size_t errlen);

/* Put the directory src (inside the holding directory hold) at path. When
 * path exists it is exchanged with src in one step (renameat2
 * RENAME_EXCHANGE), so path holds one or the other at every instant, and
 * src then holds the previous content. Where the file system has no
 * exchange, the previous content goes to hold/old, then src to path: a
 * kill between the two leaves path absent until eidos_fs_clean_stale puts
 * old back. */
int eidos_fs_replace(const char *src, const char *path, const char *hold, char *err, size_t errlen);

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

/* eidos_fs_read with a time limit for what is not a regular file (a pipe,
 * a FIFO, a character device): its input must end within timeout_ms (0:
 * no limit), else EIDOS_ETIMEOUT naming the path. A FIFO is opened without
 * waiting for its writer; the wait for one counts against the limit. */
int eidos_fs_read_within(const char *path, size_t max, long long timeout_ms,
                         char **out, size_t *len, char *err, size_t errlen);

/* Kind of path after following symlinks: 'f' regular file, 'd' directory,
 * 'o' other, 0 absent. Returns 0 or an error (permission and the like). */
int eidos_fs_kind(const char *path, char *kind, char *err, size_t errlen);

/* What is at path, the last component not followed: type 'f' regular
 * file, 'd' directory, 'l' symlink, 'p' FIFO, 's' socket, 'c' character
 * device, 'b' block device. For a symlink, target is the type of what it
 * leads to (0 when it cannot be followed; target_errno says why: ENOENT for
 * a dangling link, ELOOP, EACCES) and link its text (cut to fit). real is
 * the absolute path it resolves to (realpath; "" when it cannot be). A path
 * that does not exist is EIDOS_ENOTFOUND; other failures (EACCES on a
 * parent, ENAMETOOLONG) name the path and carry the OS's message. */
struct eidos_fs_info {
  char type, target;
  int target_errno;
  char target_msg[128]; /* strerror of target_errno */
  long long size;
  char link[512];
  char real[4096];
};
int eidos_fs_stat(const char *path, struct eidos_fs_info *info, char *err, size_t errlen);

/* The word for a type letter of eidos_fs_info ("file", "directory",
 * "symlink", "FIFO", "socket", "character device", "block device"). */
const char *eidos_fs_typename(char type);

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
