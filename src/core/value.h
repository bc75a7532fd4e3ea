/*
 * value.h -- a small owned value tree (in the spirit of jq's jv, but with
 * plain single ownership): null, bool, int64, uint64, double, length-counted
 * string, list and insertion-ordered map. Collectors fill trees of these in
 * worker threads; a binding converts a finished tree to Lua tables on the
 * calling thread. A tree has exactly one owner; container setters take
 * ownership of the child they are given (also when they fail: the child is
 * freed), so a caller never frees a value it has handed over.
 *
 * Allocation failure: constructors return NULL; setters given a NULL child
 * (or failing to grow) return EIDOS_EINTERNAL, so
 *   rc = eidos_value_map_set(m, "k", eidos_value_new_int(1));
 * is safe without checking the constructor.
 */
#ifndef EIDOS_VALUE_H
#define EIDOS_VALUE_H

#include <stddef.h>
#include <stdint.h>

enum eidos_vtype {
  EIDOS_VNULL,
  EIDOS_VBOOL,
  EIDOS_VINT,    /* int64 */
  EIDOS_VUINT,   /* uint64 above INT64_MAX only (new_uint gives VINT below) */
  EIDOS_VFLOAT,
  EIDOS_VSTRING, /* bytes + length; always NUL-terminated too */
  EIDOS_VLIST,
  EIDOS_VMAP
};

struct eidos_value;

struct eidos_value *eidos_value_new_null(void);
struct eidos_value *eidos_value_new_bool(int b);
struct eidos_value *eidos_value_new_int(int64_t i);
struct eidos_value *eidos_value_new_uint(uint64_t u);
struct eidos_value *eidos_value_new_float(double f);
struct eidos_value *eidos_value_new_string(const char *s); /* NULL s -> "" */
struct eidos_value *eidos_value_new_lstring(const char *s, size_t len);
struct eidos_value *eidos_value_new_list(void);
struct eidos_value *eidos_value_new_map(void);
void eidos_value_free(struct eidos_value *v); /* NULL is fine */
struct eidos_value *eidos_value_copy(const struct eidos_value *v); /* deep */

enum eidos_vtype eidos_value_type(const struct eidos_value *v);
int eidos_value_bool(const struct eidos_value *v);
int64_t eidos_value_int(const struct eidos_value *v);   /* VINT */
uint64_t eidos_value_uint(const struct eidos_value *v); /* VINT>=0 or VUINT */
double eidos_value_float(const struct eidos_value *v);
const char *eidos_value_string(const struct eidos_value *v, size_t *len);
/* Number of items of a list or map, 0 for scalars. */
size_t eidos_value_len(const struct eidos_value *v);

/* Lists. push takes ownership of item. */
int eidos_value_list_push(struct eidos_value *list, struct eidos_value *item);
struct eidos_value *eidos_value_list_get(const struct eidos_value *list,
                                         size_t i);

/* Maps keep keys in insertion order; setting an existing key replaces its
 * value in place (the key keeps its position). Keys may hold any bytes. */
int eidos_value_map_set(struct eidos_value *map, const char *key,
                        struct eidos_value *val);
int eidos_value_map_lset(struct eidos_value *map, const char *key,
                         size_t klen, struct eidos_value *val);
struct eidos_value *eidos_value_map_get(const struct eidos_value *map,
                                        const char *key);
struct eidos_value *eidos_value_map_lget(const struct eidos_value *map,
                                         const char *key, size_t klen);
/* i-th entry in insertion order; returns the value and sets key, klen. */
struct eidos_value *eidos_value_map_at(const struct eidos_value *map, size_t i,
                                       const char **key, size_t *klen);
/* Remove a key (order of the others kept). Returns 1 if it was there. */
int eidos_value_map_del(struct eidos_value *map, const char *key);

/* Shorthands: map[key] = scalar. */
int eidos_value_map_set_str(struct eidos_value *map, const char *key,
                            const char *s);
int eidos_value_map_set_lstr(struct eidos_value *map, const char *key,
                             const char *s, size_t len);
int eidos_value_map_set_int(struct eidos_value *map, const char *key,
                            int64_t i);
int eidos_value_map_set_bool(struct eidos_value *map, const char *key, int b);
/* map[key] = new empty map/list; returns it (owned by map) or NULL. */
struct eidos_value *eidos_value_map_set_map(struct eidos_value *map,
                                            const char *key);
struct eidos_value *eidos_value_map_set_list(struct eidos_value *map,
                                             const char *key);

#endif
