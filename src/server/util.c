/*
 * util.c -- small helpers of eidosd: clocks, RFC 3339 timestamps, JSON
 * string escaping, lifecycle log lines (JSON on stderr), request ids (a
 * per-thread xoshiro256** generator seeded from getrandom, UUID v4 text)
 * and the access-log buffer, written with one write(2) per batch of whole
 * lines of at most PIPE_BUF bytes so lines of different workers never mix.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>
#include "server.h"

uint64_t srv_mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t srv_real_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

size_t srv_timestamp(char *buf, uint64_t real_ns) {
  /* the formatted second is cached per thread: most calls only add ms */
  static __thread time_t last = (time_t)-1;
  static __thread char prefix[24];
  time_t sec = (time_t)(real_ns / 1000000000u);
  unsigned ms = (unsigned)(real_ns / 1000000u % 1000u);
  if (sec != last) {
    struct tm tm;
    gmtime_r(&sec, &tm);
    strftime(prefix, sizeof prefix, "%Y-%m-%dT%H:%M:%S", &tm);
    last = sec;
  }
  return (size_t)snprintf(buf, 32, "%s.%03uZ", prefix, ms);
}

size_t srv_json_str(char *out, size_t cap, const char *s, size_t len) {
  static const char hex[] = "0123456789abcdef";
  size_t o = 0, i;
  if (cap < 4) return 0;
  out[o++] = '"';
  for (i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (o + 9 >= cap) break; /* room for the longest escape, the quote and the NUL */
    if (c == '"' || c == '\\') { out[o++] = '\\'; out[o++] = (char)c; }
    else if (c == '\n') { out[o++] = '\\'; out[o++] = 'n'; }
    else if (c == '\r') { out[o++] = '\\'; out[o++] = 'r'; }
    else if (c == '\t') { out[o++] = '\\'; out[o++] = 't'; }
    else if (c < 0x20 || c == 0x7f) {
      out[o++] = '\\'; out[o++] = 'u'; out[o++] = '0'; out[o++] = '0';
      out[o++] = hex[c >> 4]; out[o++] = hex[c & 15];
    } else out[o++] = (char)c;
  }
  out[o++] = '"';
  out[o] = 0;
  return o;
}

static const char *const level_names[] = {"", "debug", "info", "warn", "error"};

void srv_log(int level, const char *msg, const char *extra) {
  char line[4096], ts[32], m[1024];
  int n;
  if (level < G.cfg.log_level) return;
  srv_timestamp(ts, srv_real_ns());
  m[srv_json_str(m, sizeof m - 1, msg, strlen(msg))] = 0;
  n = snprintf(line, sizeof line, "{\"time\":\"%s\",\"level\":\"%s\",\"msg\":%s,\"service\":\"eidosd\"%s}\n",
               ts, level_names[level], m, extra ? extra : "");
  if (n > (int)sizeof line - 1) { n = (int)sizeof line - 2; line[n++] = '\n'; }
  if (write(2, line, (size_t)n) < 0) { /* nothing more to do */ }
}

/* ---- request ids ---- */

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(struct srv_rng *r) {
  uint64_t *s = r->s, res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
  s[2] ^= t; s[3] = rotl(s[3], 45);
  return res;
}

void srv_rng_seed(struct srv_rng *r) {
  uint64_t x;
  int i;
  if (getrandom(r->s, sizeof r->s, 0) != (ssize_t)sizeof r->s) {
    /* fall back to the clock and the address of the state (splitmix64) */
    x = srv_real_ns() ^ (uint64_t)(uintptr_t)r;
    for (i = 0; i < 4; i++) {
      uint64_t z = (x += 0x9e3779b97f4a7c15u);
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
      r->s[i] = z ^ (z >> 31);
    }
  }
  if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3])) r->s[0] = 1;
}

void srv_uuid(struct srv_rng *r, char *out) {
  static const char hex[] = "0123456789abcdef";
  unsigned char b[16];
  uint64_t a = rng_next(r), c = rng_next(r);
  int i, o = 0;
  memcpy(b, &a, 8);
  memcpy(b + 8, &c, 8);
  b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
  b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
  for (i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out[o++] = '-';
    out[o++] = hex[b[i] >> 4];
    out[o++] = hex[b[i] & 15];
  }
  out[o] = 0;
}

/* 1..128 characters of letters, digits and - _ . : (UUIDs, ULIDs, trace
 * ids); anything else is replaced by a generated id */
int srv_valid_request_id(const char *s, size_t len) {
  size_t i;
  if (len == 0 || len > 128) return 0;
  for (i = 0; i < len; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '-' || c == '_' || c == '.' || c == ':'))
      return 0;
  }
  return 1;
}

/* ---- access log ---- */

static void write_all(const char *p, size_t n) {
  while (n > 0) {
    ssize_t k = write(2, p, n);
    if (k < 0) {
      if (errno == EINTR) continue;
      return; /* a log that cannot be written is dropped, never fatal */
    }
    p += k;
    n -= (size_t)k;
  }
}

void srv_logbuf_flush(struct srv_logbuf *b) {
  size_t off = 0;
  while (off < b->len) {
    size_t n = b->len - off, cut;
    if (n > PIPE_BUF) {
      /* the last whole line within PIPE_BUF (a longer line goes alone) */
      cut = PIPE_BUF;
      while (cut > 0 && b->buf[off + cut - 1] != '\n') cut--;
      if (cut == 0) {
        const char *nl = memchr(b->buf + off, '\n', n);
        cut = nl ? (size_t)(nl - (b->buf + off)) + 1 : n;
      }
      n = cut;
    }
    write_all(b->buf + off, n);
    off += n;
  }
  b->len = 0;
}

void srv_logbuf_add(struct srv_logbuf *b, const char *line, size_t len) {
  if (b->len + len > b->cap) {
    size_t cap = b->cap ? b->cap : 16384;
    char *p;
    while (cap < b->len + len) cap *= 2;
    if (cap > (1u << 20) && b->len > 0) {
      srv_logbuf_flush(b);
      if (len <= b->cap) { memcpy(b->buf, line, len); b->len = len; return; }
      cap = len;
    }
    if (!(p = realloc(b->buf, cap))) return;
    b->buf = p;
    b->cap = cap;
  }
  memcpy(b->buf + b->len, line, len);
  b->len += len;
}
