/*
 * cache.c -- prepared responses and the response cache shared by every
 * thread of eidosd. A response (status, headers, body parts) is one
 * allocation with an atomic reference count: the cache, each request
 * sending it (linked to the request's memory pool) and a job may hold it,
 * so evicting it while it is being written is safe. Large body parts of
 * cacheable responses are interned as blobs: responses with equal bytes in
 * a part share one copy (recipes of criteria that resolve to the same
 * overlays differ only in their first few hundred bytes).
 *
 * The cache maps keys (bytes) to responses; several keys may name one
 * response (the request's own key and the canonical key Lua gives it). It
 * is bounded by entries and by bytes -- every byte it keeps alive counts:
 * entries with their keys, responses, blobs -- and evicts the least
 * recently used entries. One mutex guards it; no allocation or free of a
 * response happens under it. Lua decides what may be cached; C only keeps
 * it.
 */
#include <stdlib.h>
#include <string.h>
#include "server.h"

#define BLOB_BUCKETS 4096

struct srv_blob {
  struct srv_blob *next;     /* in its bucket */
  uint64_t hash;
  long refs;                 /* responses using it (cache lock) */
  size_t len;
  char data[];
};

struct entry {
  struct entry *next;        /* in its bucket */
  struct entry *newer, *older;
  struct srv_resp *resp;
  uint64_t hash;
  size_t keylen;
  char key[];
};

struct srv_cache {
  pthread_mutex_t mu;
  size_t max_entries, max_bytes;
  size_t n, bytes, nbuckets, nblobs;
  uint64_t evictions;
  struct entry **buckets;
  struct entry lru;          /* sentinel: lru.newer is the oldest */
  struct srv_blob *blobs[BLOB_BUCKETS];
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

/* ---- responses ---- */

struct srv_resp *srv_resp_new(int status, size_t nheaders, size_t strbytes, size_t ownbytes, char **strings,
                              char **own) {
  size_t sz = sizeof(struct srv_resp) + 2 * nheaders * sizeof(h2o_iovec_t) + strbytes + ownbytes;
  struct srv_resp *r = malloc(sz);
  if (!r) return NULL;
  memset(r, 0, sizeof *r);
  atomic_init(&r->refs, 1);
  r->status = status;
  r->bytes = sz;
  r->nheaders = nheaders;
  r->names = (h2o_iovec_t *)(r + 1);
  r->values = r->names + nheaders;
  *strings = (char *)(r->values + nheaders);
  *own = *strings + strbytes;
  return r;
}

static struct srv_blob *blob_intern(struct srv_cache *c, const char *p, size_t len) {
  uint64_t h = srv_hash(p, len, len);
  struct srv_blob *b, *nb = NULL;
  int pass;
  for (pass = 0; pass < 2; pass++) {
    pthread_mutex_lock(&c->mu);
    for (b = c->blobs[h % BLOB_BUCKETS]; b; b = b->next)
      if (b->hash == h && b->len == len && !memcmp(b->data, p, len)) break;
    if (b) b->refs++;
    else if (nb) { /* made outside the lock */
      b = nb;
      nb = NULL;
      b->next = c->blobs[h % BLOB_BUCKETS];
      c->blobs[h % BLOB_BUCKETS] = b;
      c->bytes += sizeof *b + len;
      c->nblobs++;
    }
    pthread_mutex_unlock(&c->mu);
    if (b || pass == 1) break;
    if (!(nb = malloc(sizeof *nb + len))) return NULL;
    nb->hash = h;
    nb->refs = 1;
    nb->len = len;
    memcpy(nb->data, p, len);
  }
  free(nb); /* another thread interned the same bytes meanwhile */
  return b;
}

static void blob_release(struct srv_cache *c, struct srv_blob *b) {
  struct srv_blob **pp;
  pthread_mutex_lock(&c->mu);
  if (--b->refs > 0) b = NULL;
  else {
    for (pp = &c->blobs[b->hash % BLOB_BUCKETS]; *pp && *pp != b; pp = &(*pp)->next) {}
    if (*pp) *pp = b->next;
    c->bytes -= sizeof *b + b->len;
    c->nblobs--;
  }
  pthread_mutex_unlock(&c->mu);
  free(b);
}

int srv_resp_part(struct srv_resp *r, struct srv_cache *c, const char *p, size_t len, char **own) {
  struct srv_blob *b = NULL;
  if (r->nparts >= SRV_MAXPARTS || len == 0) return 0;
  if (c && len >= SRV_BLOB_MIN && !(b = blob_intern(c, p, len))) return -1;
  if (b) {
    r->parts[r->nparts] = h2o_iovec_init(b->data, len);
    r->blobs[r->nparts] = b;
  } else {
    memcpy(*own, p, len);
    r->parts[r->nparts] = h2o_iovec_init(*own, len);
    *own += len;
  }
  r->nparts++;
  r->bodylen += len;
  return 0;
}

void srv_resp_header(struct srv_resp *r, size_t i, const char *name, size_t nlen, const char *value, size_t vlen,
                     char **strings) {
  char *s = *strings;
  size_t k;
  for (k = 0; k < nlen; k++) s[k] = (char)((name[k] >= 'A' && name[k] <= 'Z') ? name[k] + 32 : name[k]);
  r->names[i] = h2o_iovec_init(s, nlen);
  s += nlen;
  memcpy(s, value, vlen);
  r->values[i] = h2o_iovec_init(s, vlen);
  *strings = s + vlen;
  if (nlen == 4 && !memcmp(r->names[i].base, "etag", 4)) r->etag = r->values[i];
}

void srv_resp_addref(struct srv_resp *r) {
  atomic_fetch_add(&r->refs, 1);
}

void srv_resp_release(struct srv_resp *r) {
  size_t i;
  if (!r || atomic_fetch_sub(&r->refs, 1) != 1) return;
  for (i = 0; i < r->nparts; i++)
    if (r->blobs[i]) blob_release(G.cache, r->blobs[i]);
  free(r);
}

static void link_dispose(void *p) {
  srv_resp_release(*(struct srv_resp **)p);
}

void srv_resp_link(h2o_req_t *req, struct srv_resp *r) {
  struct srv_resp **slot = h2o_mem_alloc_shared(&req->pool, sizeof *slot, link_dispose);
  srv_resp_addref(r);
  *slot = r;
}

/* ---- the cache ---- */

struct srv_cache *srv_cache_new(size_t max_entries, size_t max_bytes) {
  struct srv_cache *c;
  if (max_entries == 0 || max_bytes == 0) return NULL;
  if (!(c = calloc(1, sizeof *c))) return NULL;
  c->nbuckets = 1024;
  if (!(c->buckets = calloc(c->nbuckets, sizeof *c->buckets))) {
    free(c);
    return NULL;
  }
  pthread_mutex_init(&c->mu, NULL);
  c->max_entries = max_entries;
  c->max_bytes = max_bytes;
  c->lru.newer = c->lru.older = &c->lru;
  return c;
}

static void lru_unlink(struct entry *e) {
  e->newer->older = e->older;
  e->older->newer = e->newer;
}

static void lru_push(struct srv_cache *c, struct entry *e) { /* as the newest */
  e->older = c->lru.older;
  e->newer = &c->lru;
  c->lru.older->newer = e;
  c->lru.older = e;
}

struct srv_resp *srv_cache_get(struct srv_cache *c, const char *key, size_t keylen, uint64_t hash) {
  struct entry *e;
  struct srv_resp *r = NULL;
  if (!c) return NULL;
  pthread_mutex_lock(&c->mu);
  for (e = c->buckets[hash & (c->nbuckets - 1)]; e; e = e->next)
    if (e->hash == hash && e->keylen == keylen && !memcmp(e->key, key, keylen)) {
      r = e->resp;
      srv_resp_addref(r);
      lru_unlink(e);
      lru_push(c, e);
      break;
    }
  pthread_mutex_unlock(&c->mu);
  return r;
}

static void unchain(struct srv_cache *c, struct entry *e) {
  struct entry **pp = &c->buckets[e->hash & (c->nbuckets - 1)];
  while (*pp && *pp != e) pp = &(*pp)->next;
  if (*pp) *pp = e->next;
}

/* drop e from the cache (lock held); its response reference goes to *out
 * (released by the caller once the lock is given back) */
static void drop(struct srv_cache *c, struct entry *e, struct srv_resp **out) {
  unchain(c, e);
  lru_unlink(e);
  c->n--;
  c->bytes -= sizeof *e + e->keylen;
  if (--e->resp->cached == 0) c->bytes -= e->resp->bytes;
  *out = e->resp;
  free(e);
}

static void grow(struct srv_cache *c) {
  size_t nb = c->nbuckets * 2, i;
  struct entry **b = calloc(nb, sizeof *b), *e, *next;
  if (!b) return;
  for (i = 0; i < c->nbuckets; i++)
    for (e = c->buckets[i]; e; e = next) {
      next = e->next;
      e->next = b[e->hash & (nb - 1)];
      b[e->hash & (nb - 1)] = e;
    }
  free(c->buckets);
  c->buckets = b;
  c->nbuckets = nb;
}

void srv_cache_put(struct srv_cache *c, const char *key, size_t keylen, uint64_t hash, struct srv_resp *resp) {
  struct entry *e, *old;
  struct srv_resp *gone[16];
  size_t ngone = 0, i;
  if (!c || keylen > SRV_CACHE_MAXKEY || !(e = malloc(sizeof *e + keylen))) return;
  e->hash = hash;
  e->keylen = keylen;
  memcpy(e->key, key, keylen);
  e->resp = resp;
  srv_resp_addref(resp);
  pthread_mutex_lock(&c->mu);
  for (old = c->buckets[hash & (c->nbuckets - 1)]; old; old = old->next)
    if (old->hash == hash && old->keylen == keylen && !memcmp(old->key, key, keylen)) break;
  if (old) drop(c, old, &gone[ngone++]);
  if (c->n >= c->nbuckets) grow(c);
  e->next = c->buckets[hash & (c->nbuckets - 1)];
  c->buckets[hash & (c->nbuckets - 1)] = e;
  lru_push(c, e);
  c->n++;
  c->bytes += sizeof *e + keylen;
  if (resp->cached++ == 0) c->bytes += resp->bytes;
  for (;;) { /* evict the oldest (never the entry just stored) while over a bound */
    while ((c->n > c->max_entries || c->bytes > c->max_bytes) && c->lru.newer != e && ngone < 16) {
      drop(c, c->lru.newer, &gone[ngone++]);
      c->evictions++;
    }
    pthread_mutex_unlock(&c->mu);
    for (i = 0; i < ngone; i++) srv_resp_release(gone[i]);
    if (ngone < 16) break;
    ngone = 0;
    pthread_mutex_lock(&c->mu);
  }
}

void srv_cache_stats(struct srv_cache *c, struct srv_cache_stats *out) {
  memset(out, 0, sizeof *out);
  if (!c) return;
  pthread_mutex_lock(&c->mu);
  out->entries = c->n;
  out->bytes = c->bytes;
  out->blobs = c->nblobs;
  out->evictions = c->evictions;
  pthread_mutex_unlock(&c->mu);
}
