/*
 * cache.c -- ready-to-send responses and the per-worker response cache.
 * A response (status, headers, body, and the cache key) is one h2o
 * ref-counted allocation: sending it links it to the request's memory
 * pool, so evicting it while it is still being written is safe. The cache
 * is a chained hash table with first-in first-out eviction; it is owned by
 * one worker thread and needs no lock. Lua decides what may be cached
 * (a response that depends on nothing but the path, the query and the
 * Accept header); C only remembers it.
 */
#include <stdlib.h>
#include <string.h>
#include "server.h"

struct entry { struct entry *next; struct srv_resp *resp; };

struct srv_cache {
  size_t cap, n, head, mask;
  struct entry *ring;       /* cap entries, oldest at head once full */
  struct entry **buckets;   /* mask + 1 chains */
};

uint64_t srv_hash(const void *p, size_t len, uint64_t seed) {
  const unsigned char *s = p;
  uint64_t h = 0xcbf29ce484222325u ^ seed;
  size_t i;
  for (i = 0; i < len; i++) {
    h ^= s[i];
    h *= 0x100000001b3u;
  }
  return h ^ (h >> 29);
}

struct srv_resp *srv_resp_alloc(size_t nheaders, size_t strbytes, size_t bodylen, char **strings) {
  size_t sz = sizeof(struct srv_resp) + 2 * nheaders * sizeof(h2o_iovec_t) + strbytes + bodylen;
  struct srv_resp *r = h2o_mem_alloc_shared(NULL, sz, NULL);
  memset(r, 0, sizeof *r);
  r->nheaders = nheaders;
  r->names = (h2o_iovec_t *)(r + 1);
  r->values = r->names + nheaders;
  *strings = (char *)(r->values + nheaders);
  r->body.base = *strings + strbytes;
  r->body.len = bodylen;
  return r;
}

struct srv_cache *srv_cache_new(size_t cap) {
  struct srv_cache *c;
  size_t nb = 16;
  if (cap == 0) return NULL;
  c = calloc(1, sizeof *c);
  if (!c) return NULL;
  while (nb < cap * 2) nb *= 2;
  c->cap = cap;
  c->mask = nb - 1;
  c->ring = calloc(cap, sizeof *c->ring);
  c->buckets = calloc(nb, sizeof *c->buckets);
  if (!c->ring || !c->buckets) {
    free(c->ring);
    free(c->buckets);
    free(c);
    return NULL;
  }
  return c;
}

struct srv_resp *srv_cache_get(struct srv_cache *c, const char *key, size_t keylen, uint64_t hash) {
  struct entry *e;
  if (!c) return NULL;
  for (e = c->buckets[hash & c->mask]; e; e = e->next)
    if (e->resp->hash == hash && e->resp->key.len == keylen && !memcmp(e->resp->key.base, key, keylen))
      return e->resp;
  return NULL;
}

static void unchain(struct srv_cache *c, struct entry *victim) {
  struct entry **pp = &c->buckets[victim->resp->hash & c->mask];
  while (*pp && *pp != victim) pp = &(*pp)->next;
  if (*pp) *pp = victim->next;
}

void srv_cache_put(struct srv_cache *c, struct srv_resp *resp) {
  struct entry *e;
  if (!c) return;
  e = &c->ring[c->head];
  if (e->resp) { /* the oldest goes */
    unchain(c, e);
    h2o_mem_release_shared(e->resp);
    c->n--;
  }
  h2o_mem_addref_shared(resp);
  e->resp = resp;
  e->next = c->buckets[resp->hash & c->mask];
  c->buckets[resp->hash & c->mask] = e;
  c->head = (c->head + 1) % c->cap;
  c->n++;
}
