/*
 * value.c -- the owned value tree (see value.h). Maps are an array of
 * entries in insertion order plus, once they grow past a few entries, an
 * open-addressing hash index of entry positions, so that building a map of
 * a few thousand keys (sysctl) stays linear.
 */
#include <stdlib.h>
#include <string.h>
#include "eidos.h"
#include "value.h"

#define HASH_MIN 16 /* build the index from this many entries on */

struct kv {
  char *key;
  size_t klen;
  struct eidos_value *val;
};

struct eidos_value {
  enum eidos_vtype type;
  union {
    int b;
    int64_t i;
    uint64_t u;
    double f;
    struct { char *s; size_t len; } str;
    struct { struct eidos_value **items; size_t n, cap; } list;
    struct {
      struct kv *items;
      size_t n, cap;
      size_t *index; /* slots hold entry position + 1, 0 = empty */
      size_t icap;   /* power of two, > 2n when index is set */
    } map;
  } u;
};

static struct eidos_value *alloc(enum eidos_vtype t) {
  struct eidos_value *v = calloc(1, sizeof *v);
  if (v) v->type = t;
  return v;
}

struct eidos_value *eidos_value_new_null(void) { return alloc(EIDOS_VNULL); }

struct eidos_value *eidos_value_new_bool(int b) {
  struct eidos_value *v = alloc(EIDOS_VBOOL);
  if (v) v->u.b = b ? 1 : 0;
  return v;
}

struct eidos_value *eidos_value_new_int(int64_t i) {
  struct eidos_value *v = alloc(EIDOS_VINT);
  if (v) v->u.i = i;
  return v;
}

struct eidos_value *eidos_value_new_uint(uint64_t u) {
  struct eidos_value *v;
  if (u <= (uint64_t)INT64_MAX) return eidos_value_new_int((int64_t)u);
  v = alloc(EIDOS_VUINT);
  if (v) v->u.u = u;
  return v;
}

struct eidos_value *eidos_value_new_float(double f) {
  struct eidos_value *v = alloc(EIDOS_VFLOAT);
  if (v) v->u.f = f;
  return v;
}

struct eidos_value *eidos_value_new_lstring(const char *s, size_t len) {
  struct eidos_value *v = alloc(EIDOS_VSTRING);
  if (!v) return NULL;
  v->u.str.s = malloc(len + 1);
  if (!v->u.str.s) {
    free(v);
    return NULL;
  }
  if (len) memcpy(v->u.str.s, s, len);
  v->u.str.s[len] = '\0';
  v->u.str.len = len;
  return v;
}

struct eidos_value *eidos_value_new_string(const char *s) {
  return eidos_value_new_lstring(s ? s : "", s ? strlen(s) : 0);
}

struct eidos_value *eidos_value_new_list(void) { return alloc(EIDOS_VLIST); }
struct eidos_value *eidos_value_new_map(void) { return alloc(EIDOS_VMAP); }

void eidos_value_free(struct eidos_value *v) {
  size_t i;
  if (!v) return;
  switch (v->type) {
    case EIDOS_VSTRING: free(v->u.str.s); break;
    case EIDOS_VLIST:
      for (i = 0; i < v->u.list.n; i++) eidos_value_free(v->u.list.items[i]);
      free(v->u.list.items);
      break;
    case EIDOS_VMAP:
      for (i = 0; i < v->u.map.n; i++) {
        free(v->u.map.items[i].key);
        eidos_value_free(v->u.map.items[i].val);
      }
      free(v->u.map.items);
      free(v->u.map.index);
      break;
    default: break;
  }
  free(v);
}

struct eidos_value *eidos_value_copy(const struct eidos_value *v) {
  struct eidos_value *c;
  size_t i;
  if (!v) return NULL;
  switch (v->type) {
    case EIDOS_VSTRING: return eidos_value_new_lstring(v->u.str.s, v->u.str.len);
    case EIDOS_VLIST:
      c = eidos_value_new_list();
      for (i = 0; c && i < v->u.list.n; i++)
        if (eidos_value_list_push(c, eidos_value_copy(v->u.list.items[i]))) {
          eidos_value_free(c);
          return NULL;
        }
      return c;
    case EIDOS_VMAP:
      c = eidos_value_new_map();
      for (i = 0; c && i < v->u.map.n; i++) {
        const struct kv *e = &v->u.map.items[i];
        if (eidos_value_map_lset(c, e->key, e->klen, eidos_value_copy(e->val))) {
          eidos_value_free(c);
          return NULL;
        }
      }
      return c;
    default:
      c = alloc(v->type);
      if (c) c->u = v->u;
      return c;
  }
}

enum eidos_vtype eidos_value_type(const struct eidos_value *v) {
  return v ? v->type : EIDOS_VNULL;
}

int eidos_value_bool(const struct eidos_value *v) {
  return v && v->type == EIDOS_VBOOL ? v->u.b : 0;
}

int64_t eidos_value_int(const struct eidos_value *v) {
  return v && v->type == EIDOS_VINT ? v->u.i : 0;
}

uint64_t eidos_value_uint(const struct eidos_value *v) {
  if (!v) return 0;
  if (v->type == EIDOS_VUINT) return v->u.u;
  if (v->type == EIDOS_VINT && v->u.i >= 0) return (uint64_t)v->u.i;
  return 0;
}

double eidos_value_float(const struct eidos_value *v) {
  return v && v->type == EIDOS_VFLOAT ? v->u.f : 0.0;
}

const char *eidos_value_string(const struct eidos_value *v, size_t *len) {
  if (!v || v->type != EIDOS_VSTRING) {
    if (len) *len = 0;
    return NULL;
  }
  if (len) *len = v->u.str.len;
  return v->u.str.s;
}

size_t eidos_value_len(const struct eidos_value *v) {
  if (!v) return 0;
  if (v->type == EIDOS_VLIST) return v->u.list.n;
  if (v->type == EIDOS_VMAP) return v->u.map.n;
  return 0;
}

int eidos_value_list_push(struct eidos_value *list, struct eidos_value *item) {
  if (!item) return EIDOS_EINTERNAL;
  if (!list || list->type != EIDOS_VLIST) {
    eidos_value_free(item);
    return EIDOS_EINVAL;
  }
  if (list->u.list.n == list->u.list.cap) {
    size_t cap = list->u.list.cap ? list->u.list.cap * 2 : 8;
    struct eidos_value **p = realloc(list->u.list.items, cap * sizeof *p);
    if (!p) {
      eidos_value_free(item);
      return EIDOS_EINTERNAL;
    }
    list->u.list.items = p;
    list->u.list.cap = cap;
  }
  list->u.list.items[list->u.list.n++] = item;
  return EIDOS_OK;
}

struct eidos_value *eidos_value_list_get(const struct eidos_value *list,
                                         size_t i) {
  if (!list || list->type != EIDOS_VLIST || i >= list->u.list.n) return NULL;
  return list->u.list.items[i];
}

/* FNV-1a */
static size_t hash(const char *k, size_t n) {
  uint64_t h = 1469598103934665603ULL;
  size_t i;
  for (i = 0; i < n; i++) {
    h ^= (unsigned char)k[i];
    h *= 1099511628211ULL;
  }
  return (size_t)h;
}

static int reindex(struct eidos_value *m, size_t icap) {
  size_t *idx = calloc(icap, sizeof *idx), i;
  if (!idx) return EIDOS_EINTERNAL;
  for (i = 0; i < m->u.map.n; i++) {
    size_t h = hash(m->u.map.items[i].key, m->u.map.items[i].klen) & (icap - 1);
    while (idx[h]) h = (h + 1) & (icap - 1);
    idx[h] = i + 1;
  }
  free(m->u.map.index);
  m->u.map.index = idx;
  m->u.map.icap = icap;
  return EIDOS_OK;
}

/* Position of key or (size_t)-1. */
static size_t find(const struct eidos_value *m, const char *key, size_t klen) {
  size_t i;
  if (m->u.map.index) {
    size_t mask = m->u.map.icap - 1, h = hash(key, klen) & mask;
    while (m->u.map.index[h]) {
      const struct kv *e = &m->u.map.items[m->u.map.index[h] - 1];
      if (e->klen == klen && memcmp(e->key, key, klen) == 0)
        return m->u.map.index[h] - 1;
      h = (h + 1) & mask;
    }
    return (size_t)-1;
  }
  for (i = 0; i < m->u.map.n; i++) {
    const struct kv *e = &m->u.map.items[i];
    if (e->klen == klen && memcmp(e->key, key, klen) == 0) return i;
  }
  return (size_t)-1;
}

int eidos_value_map_lset(struct eidos_value *map, const char *key,
                         size_t klen, struct eidos_value *val) {
  size_t pos;
  struct kv *e;
  if (!val) return EIDOS_EINTERNAL;
  if (!map || map->type != EIDOS_VMAP || !key) {
    eidos_value_free(val);
    return EIDOS_EINVAL;
  }
  pos = find(map, key, klen);
  if (pos != (size_t)-1) {
    eidos_value_free(map->u.map.items[pos].val);
    map->u.map.items[pos].val = val;
    return EIDOS_OK;
  }
  if (map->u.map.n == map->u.map.cap) {
    size_t cap = map->u.map.cap ? map->u.map.cap * 2 : 8;
    struct kv *p = realloc(map->u.map.items, cap * sizeof *p);
    if (!p) {
      eidos_value_free(val);
      return EIDOS_EINTERNAL;
    }
    map->u.map.items = p;
    map->u.map.cap = cap;
  }
  e = &map->u.map.items[map->u.map.n];
  e->key = malloc(klen + 1);
  if (!e->key) {
    eidos_value_free(val);
    return EIDOS_EINTERNAL;
  }
  memcpy(e->key, key, klen);
  e->key[klen] = '\0';
  e->klen = klen;
  e->val = val;
  map->u.map.n++;
  if (map->u.map.n >= HASH_MIN && 2 * map->u.map.n >= map->u.map.icap) {
    size_t icap = 64;
    while (icap < 4 * map->u.map.n) icap *= 2;
    if (reindex(map, icap)) {
      /* keep going without an index (linear lookups) */
      free(map->u.map.index);
      map->u.map.index = NULL;
      map->u.map.icap = 0;
    }
  } else if (map->u.map.index) {
    size_t mask = map->u.map.icap - 1, h = hash(key, klen) & mask;
    while (map->u.map.index[h]) h = (h + 1) & mask;
    map->u.map.index[h] = map->u.map.n;
  }
  return EIDOS_OK;
}

int eidos_value_map_set(struct eidos_value *map, const char *key,
                        struct eidos_value *val) {
  if (!key) {
    eidos_value_free(val);
    return EIDOS_EINVAL;
  }
  return eidos_value_map_lset(map, key, strlen(key), val);
}

struct eidos_value *eidos_value_map_lget(const struct eidos_value *map,
                                         const char *key, size_t klen) {
  size_t pos;
  if (!map || map->type != EIDOS_VMAP || !key) return NULL;
  pos = find(map, key, klen);
  return pos == (size_t)-1 ? NULL : map->u.map.items[pos].val;
}

struct eidos_value *eidos_value_map_get(const struct eidos_value *map,
                                        const char *key) {
  return key ? eidos_value_map_lget(map, key, strlen(key)) : NULL;
}

struct eidos_value *eidos_value_map_at(const struct eidos_value *map, size_t i,
                                       const char **key, size_t *klen) {
  if (!map || map->type != EIDOS_VMAP || i >= map->u.map.n) return NULL;
  if (key) *key = map->u.map.items[i].key;
  if (klen) *klen = map->u.map.items[i].klen;
  return map->u.map.items[i].val;
}

int eidos_value_map_del(struct eidos_value *map, const char *key) {
  size_t pos;
  if (!map || map->type != EIDOS_VMAP || !key) return 0;
  pos = find(map, key, strlen(key));
  if (pos == (size_t)-1) return 0;
  free(map->u.map.items[pos].key);
  eidos_value_free(map->u.map.items[pos].val);
  memmove(&map->u.map.items[pos], &map->u.map.items[pos + 1],
          (map->u.map.n - pos - 1) * sizeof map->u.map.items[0]);
  map->u.map.n--;
  if (map->u.map.index && reindex(map, map->u.map.icap)) {
    free(map->u.map.index);
    map->u.map.index = NULL;
    map->u.map.icap = 0;
  }
  return 1;
}

int eidos_value_map_set_str(struct eidos_value *map, const char *key,
                            const char *s) {
  return eidos_value_map_set(map, key, eidos_value_new_string(s));
}

int eidos_value_map_set_lstr(struct eidos_value *map, const char *key,
                             const char *s, size_t len) {
  return eidos_value_map_set(map, key, eidos_value_new_lstring(s, len));
}

int eidos_value_map_set_int(struct eidos_value *map, const char *key,
                            int64_t i) {
  return eidos_value_map_set(map, key, eidos_value_new_int(i));
}

int eidos_value_map_set_bool(struct eidos_value *map, const char *key, int b) {
  return eidos_value_map_set(map, key, eidos_value_new_bool(b));
}

struct eidos_value *eidos_value_map_set_map(struct eidos_value *map,
                                            const char *key) {
  struct eidos_value *c = eidos_value_new_map();
  if (eidos_value_map_set(map, key, c)) return NULL;
  return c;
}

struct eidos_value *eidos_value_map_set_list(struct eidos_value *map,
                                             const char *key) {
  struct eidos_value *c = eidos_value_new_list();
  if (eidos_value_map_set(map, key, c)) return NULL;
  return c;
}
