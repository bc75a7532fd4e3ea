/*
 * natsort.h -- the natural order of keys and names, in one place for the
 * emitters (map keys), the collectors (directory entries such as node10)
 * and Lua (eidos.core.emit.natcmp): runs of ASCII digits compare as
 * numbers ("node2" < "node10", leading zeros ignored), every other byte
 * compares as an unsigned byte. Strings equal in that order ("a01" and
 * "a1") are then ordered bytewise, so the order is total and a sort by it
 * is the same on every platform.
 */
#ifndef EIDOS_NATSORT_H
#define EIDOS_NATSORT_H
#include <stddef.h>

/* Compare a[0..alen) and b[0..blen) (NUL is an ordinary byte): < 0, 0
 * (only when the bytes are equal) or > 0. */
int eidos_natcmp(const char *a, size_t alen, const char *b, size_t blen);

/* Sort n NUL-terminated strings in natural order, in place. */
void eidos_natsort(char **names, size_t n);

#endif
