/*
 * res.h -- the resource tree: every file of lua/, recipes/, templates/ and
 * data/ is compiled into the binary (eidos_res_files, made by
 * cmake/embed.c, sorted by path) and may be overridden by a file at the same
 * relative path below one of the root directories set at start-up
 * (--lua-path or --data-dir, $EIDOS_HOME, the exe dir share/eidos, the exe dir).
 * Roots are set once before any thread starts and are read-only afterwards.
 */
#ifndef EIDOS_RES_H
#define EIDOS_RES_H

#include <stddef.h>

struct eidos_res_file {
  const char *path;
  const char *data;
  size_t len;
  const char *code; /* lua/ files: the same source precompiled by the build's
                       luac (NULL when not compiled); never from disk */
  size_t codelen;
};

extern const struct eidos_res_file eidos_res_files[];
extern const size_t eidos_res_nfiles;

#define EIDOS_RES_MAXROOTS 16

/* Replace the list of override roots (copied). Non-existing dirs are kept
 * out. Returns the number kept. */
int eidos_res_set_roots(const char *const *roots, int n);
int eidos_res_nroots(void);
const char *eidos_res_root(int i);

/* Check that rel is a clean relative path (no leading '/', no '..' or '.'
 * segment, no empty segment, no NUL). 0 or EIDOS_EINVAL with message. */
int eidos_res_checkpath(const char *rel, char *err, size_t errlen);

/* Find rel: first root that has it as a regular file, else the embedded
 * copy. On success data and len point at the contents; *owned is 1 when the
 * caller must free(*data) (read from disk). origin receives the disk path or
 * "embedded". EIDOS_ENOTFOUND when absent. */
int eidos_res_read(const char *rel, const char **data, size_t *len, int *owned,
                   char *origin, size_t originlen, char *err, size_t errlen);

/* Like eidos_res_read for a Lua module: a file on disk is always source
 * text (*binary = 0) -- unless it is byte-identical to the embedded source,
 * which is then no override; the embedded copy is the build's precompiled
 * chunk when there is one (*binary = 1), else its source. */
int eidos_res_read_code(const char *rel, const char **data, size_t *len, int *owned,
                        int *binary, char *origin, size_t originlen,
                        char *err, size_t errlen);

/* The embedded entry for rel, or NULL. */
const struct eidos_res_file *eidos_res_embedded(const char *rel);

/* Every resource below prefix ("" for all): union of embedded paths and
 * files below each root, sorted, each with the origin that wins. The
 * callback gets (path, origin, ud); return non-zero from it to stop. */
int eidos_res_list(const char *prefix,
                   int (*cb)(const char *path, const char *origin, void *ud),
                   void *ud, char *err, size_t errlen);

#endif
