/*
 * json.h -- a pass over JSON text that needs no parse tree: the values of
 * the object members at given paths are replaced by null. For documents of
 * which a reader needs a small part (a Helm release record: chart metadata
 * and values, not the rendered manifest and templates that are most of its
 * bytes), so that the full decoder (lua-cjson) sees only that part. Strings
 * are skipped with memchr, so the pass costs a fraction of a decode.
 */
#ifndef EIDOS_JSON_H
#define EIDOS_JSON_H

#include <stddef.h>

/* Copy len bytes of JSON text into out (len bytes, caller-owned), replacing
 * the value of every member whose path from the top-level value is one of
 * paths (keys joined by '.', e.g. "chart.templates"; array levels do not
 * count) by null -- only when the value takes 4 bytes or more, so the
 * output is never longer. *outlen gets its length. Keys are compared as
 * written (no escape decoding). EIDOS_EINVAL for text that is not JSON
 * (an unterminated string or container, a stray closing bracket) or nests
 * deeper than EIDOS_NEST_MAX. */
int eidos_json_drop(const char *in, size_t len, const char *const *paths,
                    size_t npaths, char *out, size_t *outlen, char *err,
                    size_t errlen);

#endif
