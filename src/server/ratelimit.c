/*
 * ratelimit.c -- the per-client token bucket of eidosd, shared by every
 * worker: 64 shards, each a chained hash table under its own mutex (held
 * for a few dozen instructions, never across Lua). A bucket holds `burst`
 * tokens and refills at `rate` per second; a request takes one. A shard
 * that reaches its capacity first drops the clients whose bucket is full
 * again (they are indistinguishable from new clients), then the least
 * recently seen one.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "server.h"

#define NSHARDS 64
#define NBUCKETS 1024
#define SHARD_CAP 8192
#define KEYMAX 16

struct rl_entry {
  struct rl_entry *next;
  uint64_t last_ns;
  double tokens;
  unsigned char keylen;
  unsigned char key[KEYMAX];
};

struct rl_shard {
  pthread_mutex_t mu;
  size_t count;
  struct rl_entry *buckets[NBUCKETS];
  char pad[64];
};

struct srv_ratelimit {
  double rate, burst;
  struct rl_shard shards[NSHARDS];
};

struct srv_ratelimit *srv_rl_new(double rate, double burst) {
  struct srv_ratelimit *rl = calloc(1, sizeof *rl);
  int i;
  if (!rl) return NULL;
  rl->rate = rate;
  rl->burst = burst < 1 ? 1 : burst;
  for (i = 0; i < NSHARDS; i++) pthread_mutex_init(&rl->shards[i].mu, NULL);
  return rl;
}

static double refill(const struct srv_ratelimit *rl, const struct rl_entry *e, uint64_t now) {
  double t = e->tokens + (double)(now - e->last_ns) / 1e9 * rl->rate;
  return t > rl->burst ? rl->burst : t;
}

/* make room in a full shard: drop every full bucket, else the oldest */
static void sweep(struct srv_ratelimit *rl, struct rl_shard *s, uint64_t now) {
  struct rl_entry **oldest = NULL;
  size_t b;
  for (b = 0; b < NBUCKETS; b++) {
    struct rl_entry **pp = &s->buckets[b];
    while (*pp) {
      struct rl_entry *e = *pp;
      if (refill(rl, e, now) >= rl->burst) {
        *pp = e->next;
        free(e);
        s->count--;
        continue;
      }
      if (!oldest || e->last_ns < (*oldest)->last_ns) oldest = pp;
      pp = &e->next;
    }
  }
  if (s->count >= SHARD_CAP && oldest) {
    struct rl_entry *e = *oldest;
    *oldest = e->next;
    free(e);
    s->count--;
  }
}

void srv_rl_take(struct srv_ratelimit *rl, const void *key, size_t keylen, uint64_t now,
                 struct srv_rl_result *out) {
  uint64_t h;
  struct rl_shard *s;
  struct rl_entry *e;
  double tokens, wait;
  long now_s = (long)(srv_real_ns() / 1000000000u);
  if (keylen > KEYMAX) keylen = KEYMAX;
  h = srv_hash(key, keylen, 0x5bd1e995u);
  s = &rl->shards[h % NSHARDS];
  pthread_mutex_lock(&s->mu);
  for (e = s->buckets[(h / NSHARDS) % NBUCKETS]; e; e = e->next)
    if (e->keylen == keylen && !memcmp(e->key, key, keylen)) break;
  if (!e) {
    if (s->count >= SHARD_CAP) sweep(rl, s, now);
    e = calloc(1, sizeof *e);
    if (!e) { /* out of memory: let the request through untracked */
      pthread_mutex_unlock(&s->mu);
      out->allowed = 1;
      out->remaining = (long)rl->burst - 1;
      out->reset_unix = now_s;
      out->retry_after = 0;
      return;
    }
    e->keylen = (unsigned char)keylen;
    memcpy(e->key, key, keylen);
    e->tokens = rl->burst;
    e->last_ns = now;
    e->next = s->buckets[(h / NSHARDS) % NBUCKETS];
    s->buckets[(h / NSHARDS) % NBUCKETS] = e;
    s->count++;
  }
  tokens = refill(rl, e, now);
  e->last_ns = now;
  if (tokens >= 1.0) {
    tokens -= 1.0;
    out->allowed = 1;
    out->retry_after = 0;
  } else {
    out->allowed = 0;
    out->retry_after = (long)ceil((1.0 - tokens) / rl->rate);
    if (out->retry_after < 1) out->retry_after = 1;
  }
  e->tokens = tokens;
  pthread_mutex_unlock(&s->mu);
  out->remaining = (long)floor(tokens);
  wait = (rl->burst - tokens) / rl->rate; /* until the bucket is full again */
  out->reset_unix = now_s + (long)ceil(wait);
}

size_t srv_rl_clients(struct srv_ratelimit *rl) {
  size_t n = 0;
  int i;
  for (i = 0; i < NSHARDS; i++) {
    pthread_mutex_lock(&rl->shards[i].mu);
    n += rl->shards[i].count;
    pthread_mutex_unlock(&rl->shards[i].mu);
  }
  return n;
}
