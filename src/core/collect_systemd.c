/*
 * collect_systemd.c -- the SystemD measurement: for each configured unit,
 * all its D-Bus properties (org.freedesktop.DBus.Properties.GetAll with
 * interface "" on /org/freedesktop/systemd1/unit/<escaped>), one subtype
 * per unit named after it. sd-bus is used from libsystemd.so.0 opened with
 * dlopen; the few sd-bus declarations needed are made here, so no systemd
 * header is required to build. The connection goes, like upstream, to
 * systemd's private socket <sysroot>/run/systemd/private (root only), else
 * to the system bus <sysroot>/run/dbus/system_bus_socket. No socket, no
 * library or a refused connection: EIDOS_EUNAVAIL with the reason (the
 * caller records the measurement as unavailable). Value mapping: t/x/u/i/
 * q/n/y integers, d float, b bool, s/o/g strings, arrays and structs a
 * string in Go's %v style ("[a b]"), as upstream prints them.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dlfcn.h>
#include "eidos.h"
#include "dl.h"
#include "collect_int.h"
#include "sys.h"

typedef struct sd_bus sd_bus;
typedef struct sd_bus_message sd_bus_message;
typedef struct {
  const char *name;
  const char *message;
  int _need_free;
} sd_bus_error;

struct sdbus {
  int (*bus_new)(sd_bus **);
  int (*set_address)(sd_bus *, const char *);
  int (*set_bus_client)(sd_bus *, int);
  int (*start)(sd_bus *);
  int (*set_timeout)(sd_bus *, uint64_t);
  int (*call_method)(sd_bus *, const char *, const char *, const char *,
                     const char *, sd_bus_error *, sd_bus_message **,
                     const char *, ...);
  sd_bus *(*close_unref)(sd_bus *);
  sd_bus_message *(*msg_unref)(sd_bus_message *);
  int (*enter)(sd_bus_message *, char, const char *);
  int (*exit)(sd_bus_message *);
  int (*peek)(sd_bus_message *, char *, const char **);
  int (*read_basic)(sd_bus_message *, char, void *);
  int (*skip)(sd_bus_message *, const char *);
  void (*error_free)(sd_bus_error *);
};

static const char *const sd_syms[] = {
  "sd_bus_new", "sd_bus_set_address", "sd_bus_set_bus_client",
  "sd_bus_start", "sd_bus_set_method_call_timeout", "sd_bus_call_method",
  "sd_bus_flush_close_unref", "sd_bus_message_unref",
  "sd_bus_message_enter_container", "sd_bus_message_exit_container",
  "sd_bus_message_peek_type", "sd_bus_message_read_basic",
  "sd_bus_message_skip", "sd_bus_error_free",
};
#define SD_NSYMS (sizeof sd_syms / sizeof sd_syms[0])
_Static_assert(sizeof(struct sdbus) == SD_NSYMS * sizeof(void *),
               "struct sdbus must hold exactly the listed symbols");

#define VALUE_MAX (256u << 10)

/* systemd's bus path escaping: [A-Za-z0-9] kept (a leading digit
 * escaped), anything else _xx in lower-case hex; "" becomes "_". */
int eidos_collect_bus_escape(const char *s, char *out, size_t n) {
  size_t k = 0, i;
  static const char hex[] = "0123456789abcdef";
  if (!*s) {
    if (n < 2) return EIDOS_EINVAL;
    out[0] = '_';
    out[1] = '\0';
    return 0;
  }
  for (i = 0; s[i]; i++) {
    unsigned char c = (unsigned char)s[i];
    int keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               (i > 0 && c >= '0' && c <= '9');
    if (k + (keep ? 1 : 3) >= n) return EIDOS_EINVAL;
    if (keep) {
      out[k++] = (char)c;
    } else {
      out[k++] = '_';
      out[k++] = hex[c >> 4];
      out[k++] = hex[c & 15];
    }
  }
  out[k] = '\0';
  return 0;
}

/* D-Bus address value escaping: [-0-9A-Za-z_/.\\*] kept, else %xx. */
static void addr_escape(struct cx_buf *b, const char *s) {
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '/' ||
        c == '.' || c == '\\' || c == '*')
      cx_buf_add(b, (const char *)&c, 1);
    else
      cx_buf_addf(b, "%%%02x", c);
  }
}

static int is_basic(char t) { return t && strchr("ybnqiuxtdsogh", t) != NULL; }

/* Format the next complete value of m into b, Go %v style. */
static int fmt_value(const struct sdbus *sd, sd_bus_message *m, struct cx_buf *b,
                     int depth);

static int fmt_basic(const struct sdbus *sd, sd_bus_message *m, char t,
                     struct cx_buf *b) {
  union {
    uint8_t y;
    int b;
    int16_t n;
    uint16_t q;
    int32_t i;
    uint32_t u;
    int64_t x;
    uint64_t t;
    double d;
    const char *s;
  } v;
  int r = sd->read_basic(m, t, &v);
  if (r < 0) return r;
  switch (t) {
    case 'y': cx_buf_addf(b, "%u", v.y); break;
    case 'b': cx_buf_adds(b, v.b ? "true" : "false"); break;
    case 'n': cx_buf_addf(b, "%d", v.n); break;
    case 'q': cx_buf_addf(b, "%u", v.q); break;
    case 'i': case 'h': cx_buf_addf(b, "%d", v.i); break;
    case 'u': cx_buf_addf(b, "%u", v.u); break;
    case 'x': cx_buf_addf(b, "%lld", (long long)v.x); break;
    case 't': cx_buf_addf(b, "%llu", (unsigned long long)v.t); break;
    case 'd': cx_buf_addf(b, "%g", v.d); break;
    default: cx_buf_adds(b, v.s ? v.s : ""); break;
  }
  return 0;
}

static int fmt_value(const struct sdbus *sd, sd_bus_message *m, struct cx_buf *b,
                     int depth) {
  char t;
  const char *contents;
  int r = sd->peek(m, &t, &contents);
  if (r <= 0) return r < 0 ? r : -1;
  if (depth > 32) return -1;
  if (is_basic(t)) return fmt_basic(sd, m, t, b);
  if ((r = sd->enter(m, t, contents)) < 0) return r;
  if (t == 'v') {
    r = fmt_value(sd, m, b, depth + 1);
  } else {
    int first = 1;
    if (t == 'a' && contents && contents[0] == '{') cx_buf_adds(b, "map");
    if (t != 'e') cx_buf_adds(b, "[");
    for (;;) {
      char t2;
      const char *c2;
      r = sd->peek(m, &t2, &c2);
      if (r <= 0) break;
      if (!first) cx_buf_adds(b, t == 'e' ? ":" : " ");
      first = 0;
      if ((r = fmt_value(sd, m, b, depth + 1)) < 0) break;
    }
    if (t != 'e') cx_buf_adds(b, "]");
  }
  if (r < 0) return r;
  return sd->exit(m) < 0 ? -1 : 0;
}

/* Read one property value (inside its variant) into a value. */
static struct eidos_value *read_prop(const struct sdbus *sd, sd_bus_message *m,
                                     const char *contents) {
  struct cx_buf b;
  struct eidos_value *v = NULL;
  char t = contents[0];
  if (contents[1] == '\0' && is_basic(t)) {
    union {
      uint8_t y; int b; int16_t n; uint16_t q; int32_t i; uint32_t u;
      int64_t x; uint64_t t; double d; const char *s;
    } u;
    if (sd->read_basic(m, t, &u) < 0) return NULL;
    switch (t) {
      case 'y': return eidos_value_new_int(u.y);
      case 'b': return eidos_value_new_bool(u.b);
      case 'n': return eidos_value_new_int(u.n);
      case 'q': return eidos_value_new_int(u.q);
      case 'i': case 'h': return eidos_value_new_int(u.i);
      case 'u': return eidos_value_new_int(u.u);
      case 'x': return eidos_value_new_int(u.x);
      case 't': return eidos_value_new_uint(u.t);
      case 'd': return eidos_value_new_float(u.d);
      default:
        if (!u.s || !cx_utf8(u.s, strlen(u.s))) return eidos_value_new_string("");
        return eidos_value_new_string(u.s);
    }
  }
  cx_buf_init(&b, VALUE_MAX);
  if (fmt_value(sd, m, &b, 0) == 0 && !b.oom && (!b.s || cx_utf8(b.s, b.n)))
    v = eidos_value_new_lstring(b.s ? b.s : "", b.n);
  cx_buf_free(&b);
  return v;
}

static int unit_props(const struct sdbus *sd, sd_bus *bus, const char *unit,
                      struct eidos_value *st) {
  char esc[1024], path[1100], msg[512];
  sd_bus_error e = {NULL, NULL, 0};
  sd_bus_message *reply = NULL;
  int r;

  if (eidos_collect_bus_escape(unit, esc, sizeof esc))
    return eidos_value_map_set_str(cx_context(st), "error", "unit name too long");
  snprintf(path, sizeof path, "/org/freedesktop/systemd1/unit/%s", esc);
  r = sd->call_method(bus, "org.freedesktop.systemd1", path,
                      "org.freedesktop.DBus.Properties", "GetAll", &e, &reply,
                      "s", "");
  if (r < 0) {
    snprintf(msg, sizeof msg, "GetAll %s: %s", unit,
             e.message ? e.message : strerror(-r));
    sd->error_free(&e);
    return eidos_value_map_set_str(cx_context(st), "error", msg);
  }
  sd->error_free(&e);
  r = sd->enter(reply, 'a', "{sv}");
  while (r >= 0 && (r = sd->enter(reply, 'e', "sv")) > 0) {
    const char *name = NULL, *contents = NULL;
    char t;
    struct eidos_value *v;
    if ((r = sd->read_basic(reply, 's', &name)) < 0) break;
    if ((r = sd->peek(reply, &t, &contents)) <= 0 || t != 'v' || !contents) {
      r = -1;
      break;
    }
    if ((r = sd->enter(reply, 'v', contents)) < 0) break;
    v = read_prop(sd, reply, contents);
    if (!v) { /* unreadable value: skip it */
      if ((r = sd->skip(reply, contents)) < 0) break;
    } else if (eidos_value_map_set(cx_data(st), name, v)) {
      sd->msg_unref(reply);
      return EIDOS_EINTERNAL;
    }
    if ((r = sd->exit(reply)) < 0 || (r = sd->exit(reply)) < 0) break;
  }
  if (r >= 0) r = sd->exit(reply);
  sd->msg_unref(reply);
  if (r < 0) {
    snprintf(msg, sizeof msg, "GetAll %s: malformed reply (%s)", unit,
             strerror(-r > 0 ? -r : 1));
    return eidos_value_map_set_str(cx_context(st), "error", msg);
  }
  return 0;
}

int eidos_collect_systemd(const struct eidos_collect_ctx *c,
                          struct eidos_value **out, char *err, size_t errlen) {
  static const char *const names[] = {"libsystemd.so.0", "libsystemd.so", NULL};
  char priv[CX_PATH_MAX], sys[CX_PATH_MAX];
  struct stat st;
  int use_priv, r, rc = 0;
  void *raw[SD_NSYMS], *h = NULL;
  struct sdbus sd;
  sd_bus *bus = NULL;
  struct cx_buf addr;
  struct eidos_value *m;
  size_t i;
  long long left;

  *out = NULL;
  if (cx_path(c, "/run/systemd/private", priv, sizeof priv) ||
      cx_path(c, "/run/dbus/system_bus_socket", sys, sizeof sys))
    return eidos_err(err, errlen, EIDOS_EINVAL, "sysroot path too long");
  use_priv = stat(priv, &st) == 0 && S_ISSOCK(st.st_mode);
  if (!use_priv && !(stat(sys, &st) == 0 && S_ISSOCK(st.st_mode)))
    return eidos_err(err, errlen, EIDOS_EUNAVAIL,
                     "no systemd D-Bus: neither %s nor the system bus %s exists",
                     priv, sys);
  if ((rc = eidos_lazy_open(names, sd_syms, raw, SD_NSYMS, &h, err, errlen)))
    return rc;
  memcpy(&sd, raw, sizeof sd);
  cx_buf_init(&addr, CX_PATH_MAX * 3 + 32);
  cx_buf_adds(&addr, "unix:path=");
  addr_escape(&addr, use_priv ? priv : sys);
  r = addr.oom ? -12 : sd.bus_new(&bus);
  if (r >= 0) r = sd.set_address(bus, addr.s);
  if (r >= 0 && !use_priv) r = sd.set_bus_client(bus, 1);
  left = c->deadline_ms ? c->deadline_ms - eidos_sys_now_ms() : 10000;
  if (r >= 0) r = sd.set_timeout(bus, (uint64_t)(left > 1 ? left : 1) * 1000);
  if (r >= 0) r = sd.start(bus);
  if (r < 0) {
    rc = eidos_err(err, errlen, EIDOS_EUNAVAIL, "cannot connect to %s: %s",
                   use_priv ? priv : sys, strerror(-r));
    goto out;
  }
  m = cx_measurement("SystemD");
  for (i = 0; m && i < c->nunits; i++) {
    struct eidos_value *s = cx_subtype(m, c->units[i]);
    if (!s || unit_props(&sd, bus, c->units[i], s)) {
      eidos_value_free(m);
      m = NULL;
    }
  }
  if (!m) {
    rc = eidos_err(err, errlen, EIDOS_EINTERNAL, "out of memory");
    goto out;
  }
  /* every unit failed the same way: the bus refused us */
  if (c->nunits) {
    struct eidos_value *s0 = eidos_value_list_get(eidos_value_map_get(m, "subtypes"), 0);
    struct eidos_value *e0 = eidos_value_map_get(cx_context(s0), "error");
    int all = e0 != NULL;
    for (i = 1; all && i < c->nunits; i++) {
      struct eidos_value *si = eidos_value_list_get(eidos_value_map_get(m, "subtypes"), i);
      all = eidos_value_map_get(cx_context(si), "error") != NULL;
    }
    if (all) {
      rc = eidos_err(err, errlen, EIDOS_EUNAVAIL, "%s",
                     eidos_value_string(e0, NULL));
      eidos_value_free(m);
      goto out;
    }
  }
  *out = m;
out:
  cx_buf_free(&addr);
  if (bus) sd.close_unref(bus);
  dlclose(h);
  return rc;
}
