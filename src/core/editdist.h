/*
 * editdist.h -- the edit distance behind every "did you mean" (eidos.nearest,
 * the snapshot's nearest paths): insertions, deletions, substitutions and
 * swaps of two neighbouring bytes count one each (optimal string
 * alignment), ASCII letters compared without case, bounded by a maximum.
 */
#ifndef EIDOS_EDITDIST_H
#define EIDOS_EDITDIST_H
#include <stddef.h>
#include <stdint.h>

/* The distance of a[0..la) and b[0..lb), or max + 1 as soon as it is known
 * to exceed max (max < 0: no bound). The common prefix and suffix are
 * dropped, only the diagonal band of width 2*max+1 is computed, and a row
 * whose band minimum exceeds max ends the computation, so the cost is
 * O(max * min(la, lb)) rather than O(la * lb). EIDOS_EINTERNAL when out of
 * memory (only for strings over 256 bytes). */
int eidos_editdist(const char *a, size_t la, const char *b, size_t lb, int max);

/* A signature of a string for eidos_editdist_exceeds: its bytes and its
 * pairs of neighbouring bytes (letters folded), each as a set hashed into
 * 64 bits, and how many of its bytes fall in each of 32 classes (byte % 32,
 * counted up to 255). */
struct eidos_editdist_sig { uint64_t bytes, pairs; unsigned char bag[32]; };
void eidos_editdist_sig(const char *s, size_t len, struct eidos_editdist_sig *sig);

/* 1 when the signatures alone prove the distance of their strings exceeds
 * max, else 0. Lower bounds, cheapest first: an edit takes away at most one
 * byte (class) one string has and the other lacks, at most three such pairs
 * (a swap of neighbours), and changes the count of at most one class on
 * each side (a swap none). A long list is sifted this way before any
 * distance is computed. */
int eidos_editdist_exceeds(const struct eidos_editdist_sig *a, const struct eidos_editdist_sig *b,
                           int max);

/* A word prepared to be compared with many strings: its signature and, for
 * a word of at most 64 bytes, the bit vectors of Hyyro's bit-parallel
 * algorithm (one pass of a few word operations per byte of the other
 * string, instead of a row of the table). */
struct eidos_editdist_word {
  const char *s;
  size_t len;
  struct eidos_editdist_sig sig;
  uint64_t peq[256];
};
void eidos_editdist_word(struct eidos_editdist_word *w, const char *s, size_t len);

/* eidos_editdist(w, b, max), with b's signature when known (sig, or NULL)
 * to rule b out without computing (eidos_editdist_exceeds). */
int eidos_editdist_to(const struct eidos_editdist_word *w, const char *b, size_t lb,
                      const struct eidos_editdist_sig *sig, int max);

#endif
