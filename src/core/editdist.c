/*
 * editdist.c -- the bounded edit distance of editdist.h. The recurrence is
 * the optimal-string-alignment one (a swap of neighbours counts one, as in
 * eidos.nearest), computed row by row over the band |i - j| <= max with
 * cells outside the band taken as max + 1.
 */
#include <stdlib.h>
#include <string.h>
#include "eidos.h"
#include "editdist.h"

static unsigned char fold(unsigned char c) { return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c; }

void eidos_editdist_sig(const char *s, size_t len, struct eidos_editdist_sig *sig) {
  size_t i;
  unsigned prev = 0;
  sig->bytes = sig->pairs = 0;
  memset(sig->bag, 0, sizeof sig->bag);
  for (i = 0; i < len; i++) {
    unsigned c = fold((unsigned char)s[i]);
    sig->bytes |= (uint64_t)1 << (c & 63);
    if (i) sig->pairs |= (uint64_t)1 << ((prev * 31 + c) & 63);
    if (sig->bag[c & 31] < 255) sig->bag[c & 31]++;
    prev = c;
  }
}

static int popcount64(uint64_t x) { /* SWAR: no library call, no CPU flag */
  x = x - ((x >> 1) & 0x5555555555555555ULL);
  x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
  x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
  return (int)((x * 0x0101010101010101ULL) >> 56);
}

int eidos_editdist_exceeds(const struct eidos_editdist_sig *a, const struct eidos_editdist_sig *b,
                           int max) {
  int more = 0, fewer = 0, i;
  if (popcount64(a->bytes & ~b->bytes) > max || popcount64(b->bytes & ~a->bytes) > max) return 1;
  if ((popcount64(a->pairs & ~b->pairs) + 2) / 3 > max || (popcount64(b->pairs & ~a->pairs) + 2) / 3 > max)
    return 1;
  /* classes counted up to 255 only: a saturated one proves nothing */
  for (i = 0; i < 32; i++) {
    int d = (int)a->bag[i] - (int)b->bag[i];
    if (a->bag[i] == 255 || b->bag[i] == 255) continue;
    if (d > 0) more += d;
    else fewer -= d;
  }
  return more > max || fewer > max;
}

int eidos_editdist(const char *sa, size_t la, const char *sb, size_t lb, int max) {
  const unsigned char *a = (const unsigned char *)sa, *b = (const unsigned char *)sb;
  int stack[3 * 258], *buf = stack, *prev2, *prev, *cur, *t, big, d;
  size_t i, j, lo, hi, m;
  unsigned char ca, pa = 0;
  /* equal ends change nothing: drop them */
  while (la && lb && fold(*a) == fold(*b)) { a++; b++; la--; lb--; }
  while (la && lb && fold(a[la - 1]) == fold(b[lb - 1])) { la--; lb--; }
  if (la > lb) { /* a is the shorter */
    const unsigned char *x = a; size_t l = la;
    a = b; la = lb; b = x; lb = l;
  }
  if (max < 0 || (size_t)max > lb) max = (int)lb;
  m = (size_t)max;
  big = max + 1;
  if (lb - la > m) return big;
  if (la == 0) return (int)lb;
  if (lb + 2 > 258 && !(buf = malloc(3 * (lb + 2) * sizeof *buf))) return EIDOS_EINTERNAL;
  prev2 = buf; prev = buf + (lb + 2); cur = buf + 2 * (lb + 2);
  for (j = 0; j <= lb; j++) prev[j] = j <= m ? (int)j : big;
  for (i = 1; i <= la; i++) {
    int best;
    unsigned char pb = 0;
    lo = i > m ? i - m : 1;
    hi = i + m < lb ? i + m : lb;
    cur[0] = i <= m ? (int)i : big;
    if (lo > 1) cur[lo - 1] = big;
    best = cur[0];
    ca = fold(a[i - 1]);
    if (lo > 1) pb = fold(b[lo - 2]);
    for (j = lo; j <= hi; j++) {
      unsigned char cb = fold(b[j - 1]);
      int v = prev[j - 1] + (ca != cb), w = prev[j] + 1;
      if (w < v) v = w;
      w = cur[j - 1] + 1;
      if (w < v) v = w;
      if (i > 1 && j > 1 && ca == pb && pa == cb) {
        w = prev2[j - 2] + 1;
        if (w < v) v = w;
      }
      if (v > big) v = big;
      cur[j] = v;
      if (v < best) best = v;
      pb = cb;
    }
    if (hi < lb) cur[hi + 1] = big;
    if (best > max) {
      if (buf != stack) free(buf);
      return big;
    }
    t = prev2; prev2 = prev; prev = cur; cur = t;
    pa = ca;
  }
  d = prev[lb];
  if (buf != stack) free(buf);
  return d > max ? big : d;
}

void eidos_editdist_word(struct eidos_editdist_word *w, const char *s, size_t len) {
  size_t i;
  w->s = s;
  w->len = len;
  eidos_editdist_sig(s, len, &w->sig);
  memset(w->peq, 0, sizeof w->peq);
  if (len <= 64)
    for (i = 0; i < len; i++) w->peq[fold((unsigned char)s[i])] |= (uint64_t)1 << i;
}

/* The distance of w (1..64 bytes) and b by Hyyro's bit-parallel algorithm
 * for the optimal string alignment distance (2003), or max + 1 once the
 * bytes left of b cannot bring it back under max. */
static int bitparallel(const struct eidos_editdist_word *w, const unsigned char *b, size_t lb, int max) {
  uint64_t vp = ~(uint64_t)0, vn = 0, d0 = 0, pm_old = 0, top = (uint64_t)1 << (w->len - 1);
  long dist = (long)w->len;
  size_t j;
  for (j = 0; j < lb; j++) {
    uint64_t pm = w->peq[fold(b[j])], tr, hp, hn;
    tr = (((~d0) & pm) << 1) & pm_old;
    d0 = (((pm & vp) + vp) ^ vp) | pm | vn | tr;
    hp = vn | ~(d0 | vp);
    hn = d0 & vp;
    if (hp & top) dist++;
    else if (hn & top) dist--;
    hp = (hp << 1) | 1;
    hn <<= 1;
    vp = hn | ~(d0 | hp);
    vn = hp & d0;
    pm_old = pm;
    if (dist - (long)(lb - j - 1) > max) return max + 1;
  }
  return dist > max ? max + 1 : (int)dist;
}

int eidos_editdist_to(const struct eidos_editdist_word *w, const char *b, size_t lb,
                      const struct eidos_editdist_sig *sig, int max) {
  size_t dl = lb > w->len ? lb - w->len : w->len - lb;
  if (max < 0 || (size_t)max > (lb > w->len ? lb : w->len)) max = (int)(lb > w->len ? lb : w->len);
  if (dl > (size_t)max) return max + 1;
  if (sig && eidos_editdist_exceeds(&w->sig, sig, max)) return max + 1;
  if (w->len == 0) return (int)lb;
  if (w->len > 64) return eidos_editdist(w->s, w->len, b, lb, max);
  return bitparallel(w, (const unsigned char *)b, lb, max);
}
