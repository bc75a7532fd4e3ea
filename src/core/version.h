/*
 * version.h -- parsing and comparison of dotted versions as they appear in
 * cluster data: `1`, `1.2`, `1.2.3`, an optional leading `v` or `V`, and a
 * vendor suffix after `-` or `+` (`6.8.0-1028-aws`, `v1.33.5-eks-3025e55`,
 * `1.30.5-gke.1014001`). The suffix is kept verbatim but never ordered.
 * Comparison happens at the lower precision of the two operands, so `1.32`
 * equals `1.32.4`. Pure C, no allocation, safe from any thread.
 */
#ifndef EIDOS_VERSION_H
#define EIDOS_VERSION_H

#include <stddef.h>
#include <stdint.h>

/* Largest accepted component (fits a Lua integer and a JSON number exactly). */
#define EIDOS_VERSION_PART_MAX INT64_C(9007199254740991)

typedef struct eidos_version {
  int64_t major, minor, patch; /* missing parts are 0 */
  int precision;               /* number of parts given: 1..3 */
  size_t extra;                /* offset of the suffix in the input ('-' or '+'), or the input length */
} eidos_version;

/* Parse s (len bytes; embedded NULs are refused). Returns 0 or EIDOS_EINVAL
 * with a message that quotes the input and says what is accepted. */
int eidos_version_parse(const char *s, size_t len, eidos_version *v,
                        char *err, size_t errlen);

/* -1, 0 or 1, comparing major, minor and patch up to the lower precision of
 * a and b; the suffix is ignored. */
int eidos_version_compare(const eidos_version *a, const eidos_version *b);

/* Write the version by its precision ("1", "1.2", "1.2.3"; never the suffix)
 * into buf; returns the length snprintf would have written. */
int eidos_version_format(const eidos_version *v, char *buf, size_t buflen);

#endif
