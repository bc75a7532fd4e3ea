/*
 * emit.c -- the event-driven YAML (libyaml) and JSON writers of emit.h.
 * Errors inside a stream are sticky: the first one is kept and reported by
 * eidos_emit_finish.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>
#include "eidos.h"
#include "emit.h"
#include "scalar.h"

struct eidos_emit {
  enum eidos_emit_format fmt;
  int indent, depth, failed;
  char *buf;
  size_t len, cap;
  char err[256];
  /* JSON: per depth, number of items written so far; is it a map */
  int count[512];
  int inmap[512];
  int afterkey;
  /* YAML */
  yaml_emitter_t y;
};

static int grow(struct eidos_emit *e, size_t need) {
  if (e->len + need + 1 > e->cap) {
    size_t cap = e->cap ? e->cap : 4096;
    char *b;
    while (e->len + need + 1 > cap) cap *= 2;
    b = realloc(e->buf, cap);
    if (!b) return -1;
    e->buf = b;
    e->cap = cap;
  }
  return 0;
}

static void put(struct eidos_emit *e, const char *s, size_t n) {
  if (e->failed) return;
  if (grow(e, n)) { e->failed = EIDOS_EINTERNAL; snprintf(e->err, sizeof e->err, "out of memory"); return; }
  memcpy(e->buf + e->len, s, n);
  e->len += n;
  e->buf[e->len] = 0;
}

static int yaml_out(void *data, unsigned char *buffer, size_t size) {
  put((struct eidos_emit *)data, (const char *)buffer, size);
  return 1;
}

static int fail(struct eidos_emit *e, int code, const char *msg) {
  if (!e->failed) {
    e->failed = code;
    snprintf(e->err, sizeof e->err, "%s", msg);
  }
  return code;
}

static int yemit(struct eidos_emit *e, yaml_event_t *ev) {
  if (e->failed) { yaml_event_delete(ev); return e->failed; }
  if (!yaml_emitter_emit(&e->y, ev))
    return fail(e, EIDOS_EINVAL, e->y.problem ? e->y.problem : "YAML emitter error");
  return 0;
}

struct eidos_emit *eidos_emit_new(enum eidos_emit_format fmt, int indent) {
  struct eidos_emit *e = calloc(1, sizeof *e);
  if (!e) return NULL;
  e->fmt = fmt;
  e->indent = indent;
  if (fmt == EIDOS_EMIT_YAML) {
    yaml_event_t ev;
    yaml_emitter_initialize(&e->y);
    yaml_emitter_set_output(&e->y, yaml_out, e);
    yaml_emitter_set_unicode(&e->y, 1);
    yaml_emitter_set_indent(&e->y, 2);
    yaml_emitter_set_width(&e->y, -1);
    yaml_emitter_set_break(&e->y, YAML_LN_BREAK);
    yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
    yemit(e, &ev);
    yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
    yemit(e, &ev);
  }
  return e;
}

void eidos_emit_free(struct eidos_emit *e) {
  if (!e) return;
  if (e->fmt == EIDOS_EMIT_YAML) yaml_emitter_delete(&e->y);
  free(e->buf);
  free(e);
}

/* ---- JSON helpers ---- */

static void jnewline(struct eidos_emit *e) {
  int i;
  if (!e->indent) return;
  put(e, "\n", 1);
  for (i = 0; i < e->depth * e->indent; i++) put(e, " ", 1);
}

/* before a value or key inside a container */
static void jsep(struct eidos_emit *e) {
  if (e->afterkey) { e->afterkey = 0; return; }
  if (e->depth == 0) return;
  if (e->count[e->depth]++) put(e, ",", 1);
  jnewline(e);
}

static void jstring(struct eidos_emit *e, const char *s, size_t n) {
  size_t i, start = 0;
  put(e, "\"", 1);
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    const char *rep = NULL;
    char hex[8];
    size_t w = 1; /* input bytes replaced */
    switch (c) {
      case '"': rep = "\\\""; break;
      case '\\': rep = "\\\\"; break;
      case '\n': rep = "\\n"; break;
      case '\r': rep = "\\r"; break;
      case '\t': rep = "\\t"; break;
      case '\b': rep = "\\b"; break;
      case '\f': rep = "\\f"; break;
      default:
        if (c < 0x20 || c == 0x7f) { snprintf(hex, sizeof hex, "\\u%04x", c); rep = hex; }
    }
    /* escaped too, as YAML readers (eidos's own loader among them) refuse
       them raw (C1 controls, U+FFFE, U+FFFF) or fold them to a space
       (U+0085, U+2028, U+2029) */
    if (!rep && i + 1 < n) {
      unsigned char c1 = (unsigned char)s[i + 1], c2 = i + 2 < n ? (unsigned char)s[i + 2] : 0;
      unsigned cp = 0;
      if (c == 0xC2 && c1 >= 0x80 && c1 <= 0x9F) { cp = c1; w = 2; }
      else if (c == 0xE2 && c1 == 0x80 && (c2 == 0xA8 || c2 == 0xA9)) { cp = 0x2000u + c2 - 0x80u; w = 3; }
      else if (c == 0xEF && c1 == 0xBF && (c2 == 0xBE || c2 == 0xBF)) { cp = 0xFFC0u + c2 - 0x80u; w = 3; }
      if (cp) {
        snprintf(hex, sizeof hex, "\\u%04x", cp);
        rep = hex;
      }
    }
    if (rep) {
      put(e, s + start, i - start);
      put(e, rep, strlen(rep));
      start = i + w;
      i += w - 1;
    }
  }
  put(e, s + start, n - start);
  put(e, "\"", 1);
}

static int depth_ok(struct eidos_emit *e) {
  if (e->depth >= 511) return fail(e, EIDOS_EINVAL, "document nested deeper than 511 levels");
  return 0;
}

static int begin(struct eidos_emit *e, int map) {
  if (depth_ok(e)) return e->failed;
  if (e->fmt == EIDOS_EMIT_JSON) {
    jsep(e);
    put(e, map ? "{" : "[", 1);
  } else {
    yaml_event_t ev;
    if (map) yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
    else yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
    /* empty containers must be flow style: libyaml decides that itself */
    yemit(e, &ev);
  }
  e->depth++;
  e->count[e->depth] = 0;
  e->inmap[e->depth] = map;
  return e->failed;
}

static int end(struct eidos_emit *e, int map) {
  if (e->depth <= 0 || e->inmap[e->depth] != map)
    return fail(e, EIDOS_EINTERNAL, "unbalanced emitter events");
  if (e->fmt == EIDOS_EMIT_JSON) {
    int had = e->count[e->depth];
    e->depth--;
    if (had) jnewline(e);
    put(e, map ? "}" : "]", 1);
  } else {
    yaml_event_t ev;
    e->depth--;
    if (map) yaml_mapping_end_event_initialize(&ev);
    else yaml_sequence_end_event_initialize(&ev);
    yemit(e, &ev);
  }
  return e->failed;
}

int eidos_emit_begin_map(struct eidos_emit *e) { return begin(e, 1); }
int eidos_emit_end_map(struct eidos_emit *e) { return end(e, 1); }
int eidos_emit_begin_list(struct eidos_emit *e) { return begin(e, 0); }
int eidos_emit_end_list(struct eidos_emit *e) { return end(e, 0); }

/* offset of the first byte that is not well-formed UTF-8 by libyaml's
 * rules (yaml_check_utf8), or n */
static size_t utf8_bad(const char *s, size_t n) {
  size_t i = 0, k, w;
  while (i < n) {
    unsigned char c = (unsigned char)s[i];
    unsigned long v;
    w = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (!w || i + w > n) return i;
    v = w == 1 ? c : w == 2 ? (c & 0x1Fu) : w == 3 ? (c & 0x0Fu) : (c & 0x07u);
    for (k = 1; k < w; k++) {
      if (((unsigned char)s[i + k] & 0xC0) != 0x80) return i;
      v = (v << 6) | ((unsigned char)s[i + k] & 0x3Fu);
    }
    if ((w == 2 && v < 0x80) || (w == 3 && v < 0x800) || (w == 4 && v < 0x10000)) return i;
    i += w;
  }
  return n;
}

static int yscalar(struct eidos_emit *e, const char *s, size_t n, yaml_scalar_style_t style) {
  yaml_event_t ev;
  /* quoted_implicit is always set: when libyaml itself must quote a string
     we asked to be plain (it starts with '#', say) no "!" tag is written */
  if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)n,
                                    style == YAML_PLAIN_SCALAR_STYLE, 1, style)) {
    size_t bad = utf8_bad(s, n);
    char msg[128];
    if (bad == n) return fail(e, EIDOS_EINTERNAL, "out of memory");
    /* libyaml refuses text that is not UTF-8: say so (not "out of memory") */
    snprintf(msg, sizeof msg, "a string is not valid UTF-8 (byte 0x%02x at offset %zu of %zu)",
             (unsigned char)s[bad], bad, n);
    return fail(e, EIDOS_EINVAL, msg);
  }
  return yemit(e, &ev);
}

static yaml_scalar_style_t string_style(const char *s, size_t n) {
  if (memchr(s, '\n', n)) {
    /* literal block unless trailing spaces on a line or control chars */
    size_t i;
    for (i = 0; i < n; i++) {
      unsigned char c = (unsigned char)s[i];
      if ((c < 0x20 && c != '\n') || c == 0x7f) return YAML_DOUBLE_QUOTED_SCALAR_STYLE;
      if (c == ' ' && (i + 1 == n || s[i + 1] == '\n')) return YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    }
    if (s[0] == ' ') return YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    return YAML_LITERAL_SCALAR_STYLE;
  }
  if (eidos_scalar_needs_quotes(s, n)) return YAML_DOUBLE_QUOTED_SCALAR_STYLE;
  return YAML_PLAIN_SCALAR_STYLE;
}

int eidos_emit_key(struct eidos_emit *e, const char *s, size_t n) {
  yaml_scalar_style_t style;
  if (e->depth <= 0 || !e->inmap[e->depth]) return fail(e, EIDOS_EINTERNAL, "key outside a map");
  if (e->fmt == EIDOS_EMIT_JSON) {
    jsep(e);
    jstring(e, s, n);
    put(e, e->indent ? ": " : ":", e->indent ? 2 : 1);
    e->afterkey = 1;
    return e->failed;
  }
  style = string_style(s, n);
  return yscalar(e, s, n, style == YAML_LITERAL_SCALAR_STYLE ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : style);
}

int eidos_emit_string(struct eidos_emit *e, const char *s, size_t n) {
  if (e->fmt == EIDOS_EMIT_JSON) {
    jsep(e);
    jstring(e, s, n);
    return e->failed;
  }
  return yscalar(e, s, n, string_style(s, n));
}

static int raw(struct eidos_emit *e, const char *s) {
  if (e->fmt == EIDOS_EMIT_JSON) {
    jsep(e);
    put(e, s, strlen(s));
    return e->failed;
  }
  return yscalar(e, s, strlen(s), YAML_PLAIN_SCALAR_STYLE);
}

int eidos_emit_int(struct eidos_emit *e, int64_t v) {
  char b[32];
  snprintf(b, sizeof b, "%lld", (long long)v);
  return raw(e, b);
}

int eidos_emit_float(struct eidos_emit *e, double v) {
  char b[40];
  int p;
  if (isnan(v) || isinf(v)) {
    if (e->fmt == EIDOS_EMIT_JSON) return fail(e, EIDOS_EINVAL, "NaN and infinity cannot be written as JSON");
    return raw(e, isnan(v) ? ".nan" : v > 0 ? ".inf" : "-.inf");
  }
  for (p = 15; p <= 17; p++) {
    snprintf(b, sizeof b, "%.*g", p, v);
    if (strtod(b, NULL) == v) break;
  }
  /* keep it a float when read back */
  if (!strpbrk(b, ".eEn")) strcat(b, ".0");
  return raw(e, b);
}

int eidos_emit_bool(struct eidos_emit *e, int v) { return raw(e, v ? "true" : "false"); }
int eidos_emit_null(struct eidos_emit *e) { return raw(e, "null"); }

int eidos_emit_finish(struct eidos_emit *e, const char **out, size_t *len,
                      char *err, size_t errlen) {
  if (!e->failed && e->depth != 0) fail(e, EIDOS_EINTERNAL, "unbalanced emitter events");
  if (e->fmt == EIDOS_EMIT_YAML && !e->failed) {
    yaml_event_t ev;
    yaml_document_end_event_initialize(&ev, 1);
    yemit(e, &ev);
    yaml_stream_end_event_initialize(&ev);
    yemit(e, &ev);
    yaml_emitter_flush(&e->y);
  } else if (e->fmt == EIDOS_EMIT_JSON && !e->failed) {
    put(e, "\n", 1);
  }
  if (e->failed) return eidos_err(err, errlen, e->failed, "%s", e->err);
  if (!e->buf) put(e, "", 0);
  *out = e->buf ? e->buf : "";
  *len = e->len;
  return EIDOS_OK;
}
