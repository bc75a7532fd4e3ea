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
  const char *code; /* the build's precompiled form of the file (NULL when
                       none): a Lua module's chunk (luac), or a YAML
                       document or a template as a Lua chunk tagged with its
                       kind (cmake/chunkgen.lua); never from disk */
  size_t codelen;
};

extern const struct eidos_res_file eidos_res_files[];
extern const size_t eidos_res_nfiles;

/* Chunks the build derived from several embedded files (cmake/chunkgen.lua,
 * e.g. "overlay-headers"), sorted by name; path is the name, data NULL. */
extern const struct eidos_res_file eidos_res_built[];
extern const size_t eidos_res_nbuilt;

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

/* Like eidos_res_read, and code, codelen: the build's precompiled chunk of
 * the text returned when that text is the embedded copy -- a file on disk
 * byte-identical to the embedded source is no override (it is dropped, data
 * points at the embedded copy, origin reads "embedded"); the chunk is NULL
 * when rel has none or another file on disk wins (that one loads as text). */
int eidos_res_read_code(const char *rel, const char **data, size_t *len, int *owned,
                        const char **code, size_t *codelen, char *origin, size_t originlen,
                        char *err, size_t errlen);

/* The embedded entry for rel, or NULL. */
const struct eidos_res_file *eidos_res_embedded(const char *rel);

/* The build-derived chunk called name (tagged like a file's, see
 * cmake/chunkgen.lua), or NULL. */
const struct eidos_res_file *eidos_res_built_chunk(const char *name);

/* Every resource below prefix ("" for all): union of embedded paths and
 * files below each root, sorted, each with the origin that wins. The
 * callback gets (path, origin, ud); return non-zero from it to stop. */
int eidos_res_list(const char *prefix,
                   int (*cb)(const char *path, const char *origin, void *ud),
                   void *ud, char *err, size_t errlen);

#endif
