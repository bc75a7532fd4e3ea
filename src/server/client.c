/*
 * client.c -- who the client of a request is, for the rate limit and the
 * access log. Normally the connection's peer address. When that peer is a
 * trusted proxy (--trusted-proxies: CIDRs of ingress controllers and load
 * balancers), X-Forwarded-For is read from the right: the first address
 * that is not itself a trusted proxy is the client. Addresses a client
 * writes into the header in front of that are never believed.
 */
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include "server.h"

int srv_cidr_parse(const char *s, struct srv_cidr *out) {
  char buf[INET6_ADDRSTRLEN + 8];
  const char *slash = strchr(s, '/');
  size_t alen = slash ? (size_t)(slash - s) : strlen(s);
  int maxbits;
  if (alen == 0 || alen >= sizeof buf) return -1;
  memcpy(buf, s, alen);
  buf[alen] = 0;
  memset(out, 0, sizeof *out);
  if (inet_pton(AF_INET, buf, out->addr) == 1) { out->family = AF_INET; maxbits = 32; }
  else if (inet_pton(AF_INET6, buf, out->addr) == 1) { out->family = AF_INET6; maxbits = 128; }
  else return -1;
  out->bits = maxbits;
  if (slash) {
    char *end;
    long b = strtol(slash + 1, &end, 10);
    if (!slash[1] || *end || b < 0 || b > maxbits) return -1;
    out->bits = (int)b;
  }
  return 0;
}

static int match_one(const struct srv_cidr *c, const unsigned char *addr, size_t len) {
  int full = c->bits / 8, rest = c->bits % 8;
  if ((c->family == AF_INET) != (len == 4)) return 0;
  if (memcmp(c->addr, addr, (size_t)full) != 0) return 0;
  if (rest) {
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    if ((c->addr[full] & mask) != (addr[full] & mask)) return 0;
  }
  return 1;
}

static int trusted(const unsigned char *addr, size_t len) {
  int i;
  for (i = 0; i < G.cfg.ntrusted; i++)
    if (match_one(&G.cfg.trusted[i], addr, len)) return 1;
  return 0;
}

/* one address of X-Forwarded-For ("1.2.3.4", "::1", "[::1]:443", "1.2.3.4:80") */
static int parse_addr(const char *p, size_t n, unsigned char *out, size_t *len) {
  char buf[INET6_ADDRSTRLEN + 1];
  while (n && (*p == ' ' || *p == '\t')) { p++; n--; }
  while (n && (p[n - 1] == ' ' || p[n - 1] == '\t')) n--;
  if (n && p[0] == '[') {
    const char *close = memchr(p, ']', n);
    if (!close) return -1;
    n = (size_t)(close - p - 1);
    p++;
  } else if (n && memchr(p, '.', n) && memchr(p, ':', n)) {
    n = (size_t)((const char *)memchr(p, ':', n) - p); /* IPv4 with a port */
  }
  if (n == 0 || n >= sizeof buf) return -1;
  memcpy(buf, p, n);
  buf[n] = 0;
  if (inet_pton(AF_INET, buf, out) == 1) { *len = 4; return 0; }
  if (inet_pton(AF_INET6, buf, out) == 1) {
    if (IN6_IS_ADDR_V4MAPPED((struct in6_addr *)out)) { memmove(out, out + 12, 4); *len = 4; }
    else *len = 16;
    return 0;
  }
  return -1;
}

void srv_client_of(h2o_req_t *req, const struct srv_conn *c, struct srv_client *out) {
  ssize_t i = -1;
  char joined[2048];
  size_t jl = 0;
  memcpy(out->key, c->key, c->keylen);
  out->keylen = c->keylen;
  snprintf(out->text, sizeof out->text, "%s", c->peer);
  if (G.cfg.ntrusted == 0 || !c->keylen || !trusted(c->key, c->keylen)) return;
  /* every X-Forwarded-For header, in order, as one list */
  while ((i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("x-forwarded-for"), i)) != -1) {
    const h2o_iovec_t *v = &req->headers.entries[i].value;
    if (jl && jl < sizeof joined - 1) joined[jl++] = ',';
    if (v->len < sizeof joined - jl) {
      memcpy(joined + jl, v->base, v->len);
      jl += v->len;
    }
  }
  while (jl > 0) {
    const char *comma = NULL, *p;
    unsigned char addr[16];
    size_t alen, k;
    for (k = jl; k > 0; k--) if (joined[k - 1] == ',') { comma = joined + k - 1; break; }
    p = comma ? comma + 1 : joined;
    if (parse_addr(p, (size_t)(joined + jl - p), addr, &alen) != 0) return; /* garbage: keep the last hop */
    memcpy(out->key, addr, alen);
    out->keylen = alen;
    inet_ntop(alen == 4 ? AF_INET : AF_INET6, addr, out->text, sizeof out->text);
    if (!trusted(addr, alen)) return;
    jl = comma ? (size_t)(comma - joined) : 0;
  }
}
