/*
 * test_natsort.c -- the natural order alone (src/core/natsort.h): digit
 * runs as numbers, leading zeros, the bytewise tie-break that makes the
 * order total, NUL bytes inside keys, and a sort of directory-like names.
 * Prints failures; exit status 1 if any.
 */
#include <stdio.h>
#include <string.h>
#include "../../../src/core/natsort.h"

static int failures;
#define CHECK(c, ...) do { if (!(c)) { failures++; printf("FAIL %s:%d: ", __FILE__, __LINE__); \
  printf(__VA_ARGS__); printf("\n"); } } while (0)

static int sign(int c) { return c < 0 ? -1 : c > 0; }

static void order(const char *a, size_t al, const char *b, size_t bl, int want) {
  int c = sign(eidos_natcmp(a, al, b, bl)), r = sign(eidos_natcmp(b, bl, a, al));
  CHECK(c == want, "natcmp(%.*s, %.*s) = %d, want %d", (int)al, a, (int)bl, b, c, want);
  CHECK(r == -want, "natcmp(%.*s, %.*s) = %d, want %d (antisymmetry)", (int)bl, b, (int)al, a, r, -want);
}
#define LT(a, b) order(a, sizeof a - 1, b, sizeof b - 1, -1)
#define EQ(a, b) order(a, sizeof a - 1, b, sizeof b - 1, 0)

int main(void) {
  char *names[] = {"node10", "node2", "cpu", "node1", "node02", "node", "node01x", "a10b2", "a10b10", "a9"};
  const char *want[] = {"a9", "a10b2", "a10b10", "cpu", "node", "node1", "node01x", "node02", "node2", "node10"};
  size_t i;

  LT("node2", "node10");
  LT("a", "b");
  LT("", "a");
  LT("a", "a0");
  LT("x9y", "x10a");
  LT("9", "a");           /* a digit is a byte below the letters */
  LT("a01", "a1");        /* equal numbers: bytewise decides, so the order is total */
  LT("a001", "a01");
  LT("a1b", "a01c");      /* the number ties, the next byte decides */
  LT("v1.2.9", "v1.2.10");
  LT("k\0a", "k\0b");     /* NUL is an ordinary byte */
  LT("k", "k\0");
  LT("\x7f", "\x80");     /* bytes compare unsigned */
  LT("99999999999999999999999", "100000000000000000000000"); /* beyond any integer type */
  EQ("same10", "same10");
  EQ("", "");

  eidos_natsort(names, sizeof names / sizeof names[0]);
  for (i = 0; i < sizeof names / sizeof names[0]; i++)
    CHECK(strcmp(names[i], want[i]) == 0, "sorted[%zu] = %s, want %s", i, names[i], want[i]);

  if (failures) printf("%d failure(s)\n", failures);
  else printf("ok\n");
  return failures ? 1 : 0;
}
