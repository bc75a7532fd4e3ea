/*
 * natsort.c -- natural order of byte strings (see natsort.h).
 */
#include <stdlib.h>
#include <string.h>
#include "natsort.h"

static int isdig(char c) { return c >= '0' && c <= '9'; }

int eidos_natcmp(const char *a, size_t alen, const char *b, size_t blen) {
  size_t i = 0, j = 0;
  while (i < alen && j < blen) {
    if (isdig(a[i]) && isdig(b[j])) {
      size_t si = i, sj = j, la, lb;
      int c;
      /* skip leading zeros, keeping the last digit of a run of zeros */
      while (si + 1 < alen && a[si] == '0' && isdig(a[si + 1])) si++;
      while (sj + 1 < blen && b[sj] == '0' && isdig(b[sj + 1])) sj++;
      for (i = si; i < alen && isdig(a[i]); i++) {}
      for (j = sj; j < blen && isdig(b[j]); j++) {}
      la = i - si;
      lb = j - sj;
      if (la != lb) return la < lb ? -1 : 1; /* more digits: larger */
      c = memcmp(a + si, b + sj, la);
      if (c) return c < 0 ? -1 : 1;
      continue;
    }
    if (a[i] != b[j]) return (unsigned char)a[i] < (unsigned char)b[j] ? -1 : 1;
    i++;
    j++;
  }
  if (i < alen || j < blen) return i < alen ? 1 : -1;
  /* equal in natural order ("a01" vs "a1"): bytewise decides */
  {
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c) return c < 0 ? -1 : 1;
    return (alen > blen) - (alen < blen);
  }
}

static int cmp_cstr(const void *x, const void *y) {
  const char *a = *(char *const *)x, *b = *(char *const *)y;
  return eidos_natcmp(a, strlen(a), b, strlen(b));
}

void eidos_natsort(char **names, size_t n) {
  if (n > 1) qsort(names, n, sizeof *names, cmp_cstr);
}
