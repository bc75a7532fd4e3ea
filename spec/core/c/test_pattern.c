/*
 * test_pattern.c -- C tests of the bounded Lua-pattern matcher
 * (src/core/pattern.c): matches, captures and errors through the C API,
 * and the step budget: check() is polled every EIDOS_PAT_POLL steps and
 * stops a catastrophic match with EIDOS_ETIMEOUT. (Agreement with Lua's
 * own string library over a corpus: spec/core/sandbox_spec.lua.)
 *
 *   test_pattern REPO_ROOT
 *
 * Exit status: 0 all passed, 1 a check failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../../src/core/eidos.h"
#include "../../../src/core/pattern.h"

static int failures, checks;

#define CHECK(cond, ...)                                                   \
  do {                                                                     \
    checks++;                                                              \
    if (!(cond)) {                                                         \
      failures++;                                                          \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                 \
      fprintf(stderr, __VA_ARGS__);                                        \
      fputc('\n', stderr);                                                 \
    }                                                                      \
  } while (0)

/* first match of p in s from 0 (anchored when p starts with '^'): the
 * rc of the last eidos_pat_match, start and end of the match */
static int find(eidos_pat *m, const char *s, const char *p, size_t *start, size_t *end, char *err, size_t errlen,
                int (*check)(void *), void *ud) {
  size_t slen = strlen(s), plen = strlen(p), pos = 0;
  int anchor = p[0] == '^', rc;
  if (anchor) {
    p++;
    plen--;
  }
  eidos_pat_init(m, s, slen, p, plen, check, ud, err, errlen);
  do {
    if ((rc = eidos_pat_match(m, pos, end)) != 0) {
      *start = pos;
      return rc;
    }
  } while (pos++ < slen && !anchor);
  return 0;
}

struct budget { unsigned long polls, stop_after; };

static int stop_after(void *ud) {
  struct budget *b = ud;
  return ++b->polls >= b->stop_after;
}

static void matches(void) {
  static const struct { const char *s, *p; long start, end; } cases[] = {
    {"hello world", "o w", 4, 7},
    {"hello world", "%a+", 0, 5},
    {"hello world", "^world", -1, -1},
    {"hello world", "world$", 6, 11},
    {"  x = 1", "%s*(%w+)%s*=%s*(%d+)", 0, 7},
    {"f(a(b)c)d", "%b()", 1, 8},
    {"THE (quick) fox", "%f[%a]%a+", 0, 3},
    {"aaa", "a-b", -1, -1},
    {"aaab", "a-b", 0, 4},
    {"key=val", "[%a_][%w_]*", 0, 3},
    {"a]b", "[]]", 1, 2},
    {"abcabc", "(abc)%1", 0, 6},
    {"", "", 0, 0},
    {"x", "$", 1, 1},
  };
  size_t i;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    eidos_pat m;
    size_t start = 0, end = 0;
    char err[128];
    int rc = find(&m, cases[i].s, cases[i].p, &start, &end, err, sizeof err, NULL, NULL);
    if (cases[i].start < 0) {
      CHECK(rc == 0, "%s in %s: expected no match, rc %d", cases[i].p, cases[i].s, rc);
    } else {
      CHECK(rc == 1 && (long)start == cases[i].start && (long)end == cases[i].end,
            "%s in %s: rc %d, %zu..%zu, expected %ld..%ld", cases[i].p, cases[i].s, rc, start, end,
            cases[i].start, cases[i].end);
    }
  }
}

static void captures(void) {
  eidos_pat m;
  size_t start, end;
  char err[128];
  int rc = find(&m, "name = value", "(%w+)%s*=%s*()(%w+)", &start, &end, err, sizeof err, NULL, NULL);
  CHECK(rc == 1 && m.ncap == 3, "rc %d ncap %d", rc, m.ncap);
  CHECK(m.cap[0].len == 4 && !strncmp(m.cap[0].init, "name", 4), "capture 1");
  CHECK(m.cap[1].len == EIDOS_PAT_POSITION && m.cap[1].init - m.s == 7, "position capture");
  CHECK(m.cap[2].len == 5 && !strncmp(m.cap[2].init, "value", 5), "capture 3");
}

static void errors(void) {
  static const struct { const char *p, *msg; } cases[] = {
    {"%", "malformed pattern (ends with '%')"},
    {"[a", "malformed pattern (missing ']')"},
    {"%b", "malformed pattern (missing arguments to '%b')"},
    {"%fa", "missing '[' after '%f' in pattern"},
    {"(a)%2", "invalid capture index %2"},
    {"a)", "invalid pattern capture"},
  };
  size_t i;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    eidos_pat m;
    size_t start, end;
    char err[128];
    int rc = find(&m, "abc(a)", cases[i].p, &start, &end, err, sizeof err, NULL, NULL);
    CHECK(rc == EIDOS_EINVAL && !strcmp(err, cases[i].msg), "%s: rc %d, message \"%s\"", cases[i].p, rc, err);
  }
}

/* a catastrophic pattern stops when check() says so, after as many polls */
static void budget(void) {
  char *s = malloc(20001);
  eidos_pat m;
  size_t start, end;
  char err[128];
  struct budget b = {0, 50};
  int rc;
  memset(s, 'a', 20000);
  s[20000] = '\0';
  rc = find(&m, s, ".-.-.-b", &start, &end, err, sizeof err, stop_after, &b);
  CHECK(rc == EIDOS_ETIMEOUT, "catastrophic pattern: rc %d", rc);
  CHECK(b.polls == 50, "polled %lu times", b.polls);
  CHECK(m.steps >= 50ul * EIDOS_PAT_POLL && m.steps < 51ul * EIDOS_PAT_POLL, "%lu steps", m.steps);
  CHECK(strstr(err, "time limit") != NULL, "message %s", err);
  /* a back reference weighs its length: few steps, long comparisons */
  b.polls = 0;
  b.stop_after = 20;
  s[19999] = 'a';
  rc = find(&m, s, "^(.*)%1x", &start, &end, err, sizeof err, stop_after, &b);
  CHECK(rc == EIDOS_ETIMEOUT, "back reference: rc %d", rc);
  /* a match that needs no more than a few polls completes */
  b.polls = 0;
  b.stop_after = 1000;
  rc = find(&m, s, "a*$", &start, &end, err, sizeof err, stop_after, &b);
  CHECK(rc == 1 && start == 0 && end == 20000, "a*$: rc %d %zu..%zu", rc, start, end);
  free(s);
}

/* the nesting limit of Lua's matcher (200 calls) */
static void depth(void) {
  char s[301], p[601];
  eidos_pat m;
  size_t start, end;
  char err[128];
  int i, rc;
  for (i = 0; i < 300; i++) {
    s[i] = 'a';
    p[2 * i] = 'a';
    p[2 * i + 1] = '?';
  }
  s[300] = p[600] = '\0';
  rc = find(&m, s, p, &start, &end, err, sizeof err, NULL, NULL);
  CHECK(rc == EIDOS_EINVAL && !strcmp(err, "pattern too complex"), "deep pattern: rc %d %s", rc, err);
}

int main(int argc, char **argv) {
  (void)argc;
  (void)argv;
  matches();
  captures();
  errors();
  budget();
  depth();
  CHECK(eidos_pat_is_plain("abc def", 7) && !eidos_pat_is_plain("a.b", 3) && eidos_pat_is_plain("a\0b", 3),
        "is_plain");
  printf("%d checks, %d failures\n", checks, failures);
  return failures ? 1 : 0;
}
