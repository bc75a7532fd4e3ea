/*
 * emit.h -- canonical YAML and JSON writers driven by a stream of events
 * (begin/end map and list, key, scalar). The caller decides key order; the
 * writer decides presentation: block-style YAML through libyaml's emitter
 * (2-space indent, no line folding, UTF-8 kept, strings quoted when a reader
 * would take them for another type, multi-line strings as literal blocks)
 * and JSON with 2-space indentation or compact. Same events, same bytes.
 */
#ifndef EIDOS_EMIT_H
#define EIDOS_EMIT_H
#include <stddef.h>
#include <stdint.h>

enum eidos_emit_format { EIDOS_EMIT_YAML, EIDOS_EMIT_JSON };

struct eidos_emit;

/* indent: JSON spaces per level (0 = compact); ignored for YAML. */
struct eidos_emit *eidos_emit_new(enum eidos_emit_format fmt, int indent);
void eidos_emit_free(struct eidos_emit *e);

int eidos_emit_begin_map(struct eidos_emit *e);
int eidos_emit_end_map(struct eidos_emit *e);
int eidos_emit_begin_list(struct eidos_emit *e);
int eidos_emit_end_list(struct eidos_emit *e);
int eidos_emit_key(struct eidos_emit *e, const char *s, size_t len);
int eidos_emit_string(struct eidos_emit *e, const char *s, size_t len);
int eidos_emit_int(struct eidos_emit *e, int64_t v);
int eidos_emit_float(struct eidos_emit *e, double v);
int eidos_emit_bool(struct eidos_emit *e, int v);
int eidos_emit_null(struct eidos_emit *e);

/* Finish the document; *out points into the writer (valid until free).
 * Returns 0 or a negative code with a message. */
int eidos_emit_finish(struct eidos_emit *e, const char **out, size_t *len,
                      char *err, size_t errlen);

#endif
