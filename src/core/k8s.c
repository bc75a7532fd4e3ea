/*
 * k8s.c -- the Kubernetes API request primitive (see k8s.h): the client
 * object and its credentials (static token, token file re-read when its
 * inode, size or mtime changes, exec-plugin credentials set from Lua, client
 * certificate), the retry loop with exponential backoff and jitter that
 * honours Retry-After, the description of a request as an RBAC attribute
 * set (verb, group, resource, namespace) for error messages, the reading of
 * the Status object a failed request returns.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "eidos.h"
#include "http.h"
#include "k8s.h"
#include "sys.h"

#define K8S_MAX_BODY (256u * 1024u * 1024u)

struct eidos_k8s_client {
  char *server;
  char *ca_file, *ca_pem, *cert_file, *cert_pem, *key_file, *key_pem;
  size_t ca_pem_len, cert_pem_len, key_pem_len;
  char *token_file;
  char *user_agent;
  int insecure, max_attempts;
  long connect_timeout_ms, timeout_ms, backoff_ms, max_wait_ms;
  pthread_mutex_t mu;          /* guards everything below */
  char *token;                 /* static token, or the token file's content */
  struct stat token_st;        /* identity of the file the token came from */
  int token_loaded;
  char *exec_token, *exec_cert, *exec_key;
};

/* ------------------------------------------------------------------ */
/* client                                                              */

static char *dupn(const char *s, size_t n) {
  char *p = malloc(n + 1);
  if (!p) return NULL;
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

static int dup_opt(char **dst, const char *s, size_t n, int *oom) {
  if (!s) return 0;
  *dst = dupn(s, n ? n : strlen(s));
  if (!*dst) *oom = 1;
  return 0;
}

void eidos_k8s_free(eidos_k8s_client *c) {
  if (!c) return;
  free(c->server); free(c->ca_file); free(c->ca_pem); free(c->cert_file);
  free(c->cert_pem); free(c->key_file); free(c->key_pem); free(c->token_file);
  free(c->user_agent); free(c->token); free(c->exec_token); free(c->exec_cert);
  free(c->exec_key);
  pthread_mutex_destroy(&c->mu);
  free(c);
}

static int token_ok(const char *t) {
  for (; *t; t++)
    if ((unsigned char)*t < 0x20 || *t == 0x7f) return 0;
  return 1;
}

int eidos_k8s_new(const struct eidos_k8s_conn *conn, eidos_k8s_client **out,
                  char *err, size_t errlen) {
  eidos_k8s_client *c;
  int oom = 0;
  size_t n;
  *out = NULL;
  if (!conn->server || (strncmp(conn->server, "https://", 8) != 0 &&
                        strncmp(conn->server, "http://", 7) != 0))
    return eidos_err(err, errlen, EIDOS_EINVAL,
                     "Kubernetes server URL \"%s\" is not http:// or https://",
                     conn->server ? conn->server : "");
  if (conn->token && !token_ok(conn->token))
    return eidos_err(err, errlen, EIDOS_EINVAL,
                     "bearer token contains control characters");
  c = calloc(1, sizeof *c);
  if (!c) return eidos_err(err, errlen, EIDOS_EINTERNAL, "out of memory");
  pthread_mutex_init(&c->mu, NULL);
  n = strlen(conn->server);
  while (n > 0 && conn->server[n - 1] == '/') n--;   /* no trailing slash */
  c->server = dupn(conn->server, n);
  if (!c->server) oom = 1;
  dup_opt(&c->ca_file, conn->tls.ca_file, 0, &oom);
  dup_opt(&c->ca_pem, conn->tls.ca_pem, conn->tls.ca_pem_len, &oom);
  c->ca_pem_len = c->ca_pem ? (conn->tls.ca_pem_len ? conn->tls.ca_pem_len : strlen(c->ca_pem)) : 0;
  dup_opt(&c->cert_file, conn->tls.cert_file, 0, &oom);
  dup_opt(&c->cert_pem, conn->tls.cert_pem, conn->tls.cert_pem_len, &oom);
  c->cert_pem_len = c->cert_pem ? (conn->tls.cert_pem_len ? conn->tls.cert_pem_len : strlen(c->cert_pem)) : 0;
  dup_opt(&c->key_file, conn->tls.key_file, 0, &oom);
  dup_opt(&c->key_pem, conn->tls.key_pem, conn->tls.key_pem_len, &oom);
  c->key_pem_len = c->key_pem ? (conn->tls.key_pem_len ? conn->tls.key_pem_len : strlen(c->key_pem)) : 0;
  dup_opt(&c->token, conn->token, 0, &oom);
  dup_opt(&c->token_file, conn->token_file, 0, &oom);
  dup_opt(&c->user_agent, conn->user_agent ? conn->user_agent : "eidos", 0, &oom);
  if (oom) {
    eidos_k8s_free(c);
    return eidos_err(err, errlen, EIDOS_EINTERNAL, "out of memory");
  }
  c->insecure = conn->insecure;
  c->connect_timeout_ms = conn->connect_timeout_ms > 0 ? conn->connect_timeout_ms : 10000;
  c->timeout_ms = conn->timeout_ms > 0 ? conn->timeout_ms : 30000;
  c->max_attempts = conn->max_attempts > 0 ? conn->max_attempts : 3;
  c->backoff_ms = conn->backoff_ms > 0 ? conn->backoff_ms : 200;
  c->max_wait_ms = conn->max_wait_ms > 0 ? conn->max_wait_ms : 30000;
  *out = c;
  return EIDOS_OK;
}

static int set_field(char **dst, const char *v) {
  char *n;
  if (!v) return 0;
  if (!*v) { free(*dst); *dst = NULL; return 0; }
  n = strdup(v);
  if (!n) return -1;
  free(*dst);
  *dst = n;
  return 0;
}

int eidos_k8s_set_credentials(eidos_k8s_client *c, const char *token,
                              const char *cert_pem, const char *key_pem,
                              char *err, size_t errlen) {
  int bad = 0;
  if (token && !token_ok(token))
    return eidos_err(err, errlen, EIDOS_EINVAL,
                     "bearer token contains control characters");
  pthread_mutex_lock(&c->mu);
  bad |= set_field(&c->exec_token, token);
  bad |= set_field(&c->exec_cert, cert_pem);
  bad |= set_field(&c->exec_key, key_pem);
  pthread_mutex_unlock(&c->mu);
  return bad ? eidos_err(err, errlen, EIDOS_EINTERNAL, "out of memory") : 0;
}

/* Re-read the token file when it changed (or when forced). Called with the
 * mutex held. */
static int refresh_token(eidos_k8s_client *c, int force, char *err, size_t errlen) {
  struct stat st;
  FILE *f;
  char buf[65536];
  size_t n;
  if (!c->token_file) return 0;
  if (stat(c->token_file, &st) != 0)
    return eidos_err(err, errlen, EIDOS_EAUTH, "cannot read token file %s: %s",
                     c->token_file, strerror(errno));
  if (!force && c->token_loaded && st.st_ino == c->token_st.st_ino &&
      st.st_dev == c->token_st.st_dev && st.st_size == c->token_st.st_size &&
      st.st_mtim.tv_sec == c->token_st.st_mtim.tv_sec &&
      st.st_mtim.tv_nsec == c->token_st.st_mtim.tv_nsec)
    return 0;
  f = fopen(c->token_file, "rb");
  if (!f)
    return eidos_err(err, errlen, EIDOS_EAUTH, "cannot read token file %s: %s",
                     c->token_file, strerror(errno));
  n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' ||
                   buf[n - 1] == ' ' || buf[n - 1] == '\t'))
    buf[--n] = '\0';
  if (n == 0)
    return eidos_err(err, errlen, EIDOS_EAUTH, "token file %s is empty",
                     c->token_file);
  if (!token_ok(buf))
    return eidos_err(err, errlen, EIDOS_EAUTH,
                     "token file %s contains control characters", c->token_file);
  if (set_field(&c->token, buf))
    return eidos_err(err, errlen, EIDOS_EINTERNAL, "out of memory");
  c->token_st = st;
  c->token_loaded = 1;
  return 0;
}

/* ------------------------------------------------------------------ */
/* describing a request                                                */

static void cpy(char *dst, const char *s, size_t n) {
  if (!dst) return;
  if (n > 127) n = 127;
  memcpy(dst, s, n);
  dst[n] = '\0';
}

void eidos_k8s_describe(const char *method, const char *path, char *out,
                        size_t outlen, char *verb, char *group,
                        char *resource, char *ns) {
  const char *seg[12];
  size_t len[12], nseg = 0, i = 0, plen = strcspn(path, "?");
  const char *p = path, *end = path + plen, *q = path + plen;
  const char *g = "", *res = NULL, *name = NULL, *sub = NULL, *nsp = NULL;
  size_t glen = 0, rlen = 0, nlen = 0, slen = 0, nslen = 0;
  char v[24], rbuf[160];
  int watch = *q == '?' && (strstr(q, "watch=true") || strstr(q, "watch=1"));

  while (p < end && nseg < 12) {
    const char *s;
    while (p < end && *p == '/') p++;
    if (p >= end) break;
    s = p;
    while (p < end && *p != '/') p++;
    seg[nseg] = s;
    len[nseg++] = (size_t)(p - s);
  }
#define SEGIS(k, lit) (len[k] == sizeof(lit) - 1 && memcmp(seg[k], lit, len[k]) == 0)
  if (nseg >= 2 && SEGIS(0, "api")) i = 2;
  else if (nseg >= 3 && SEGIS(0, "apis")) { g = seg[1]; glen = len[1]; i = 3; }
  if (i && i < nseg) {
    if (SEGIS(i, "namespaces") && nseg >= i + 3) {
      nsp = seg[i + 1]; nslen = len[i + 1]; i += 2;
    }
    res = seg[i]; rlen = len[i];
    if (i + 1 < nseg) { name = seg[i + 1]; nlen = len[i + 1]; }
    if (i + 2 < nseg) { sub = seg[i + 2]; slen = len[i + 2]; }
  }
#undef SEGIS
  if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
    snprintf(v, sizeof v, "%s", name ? "get" : watch ? "watch" : "list");
  else if (strcmp(method, "POST") == 0) snprintf(v, sizeof v, "create");
  else if (strcmp(method, "PUT") == 0) snprintf(v, sizeof v, "update");
  else if (strcmp(method, "PATCH") == 0) snprintf(v, sizeof v, "patch");
  else if (strcmp(method, "DELETE") == 0)
    snprintf(v, sizeof v, "%s", name ? "delete" : "deletecollection");
  else snprintf(v, sizeof v, "%s", method);
  if (!res) {   /* a non-resource URL such as /version */
    if (out) snprintf(out, outlen, "%s %.*s", method, (int)plen, path);
    cpy(verb, "get", 3);
    cpy(group, "", 0);
    cpy(resource, path, plen);
    cpy(ns, "", 0);
    return;
  }
  if (sub) snprintf(rbuf, sizeof rbuf, "%.*s/%.*s", (int)rlen, res, (int)slen, sub);
  else snprintf(rbuf, sizeof rbuf, "%.*s", (int)rlen, res);
  cpy(verb, v, strlen(v));
  cpy(group, g, glen);
  cpy(resource, rbuf, strlen(rbuf));
  cpy(ns, nsp ? nsp : "", nslen);
  if (out) {
    int k = snprintf(out, outlen, "%s %s%s%.*s", v, rbuf, glen ? "." : "",
                     (int)glen, g);
    if (k < 0 || (size_t)k >= outlen) return;
    if (name)
      k += snprintf(out + k, outlen - (size_t)k, " \"%.*s\"", (int)nlen, name);
    if (k < 0 || (size_t)k >= outlen) return;
    if (nsp)
      snprintf(out + k, outlen - (size_t)k, " in namespace \"%.*s\"", (int)nslen, nsp);
    else
      snprintf(out + k, outlen - (size_t)k, " (cluster-wide)");
  }
}

/* ------------------------------------------------------------------ */
/* reading a Status object: top-level string fields only               */

static const char *skip_ws(const char *p, const char *e) {
  while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
  return p;
}

/* p at '"'; returns the position after the closing quote, or NULL. If
 * out is non-NULL, the decoded string (escapes \uXXXX kept as '?') */
static const char *scan_str(const char *p, const char *e, char *out, size_t outlen) {
  size_t n = 0;
  p++;
  while (p < e && *p != '"') {
    char ch = *p;
    if (ch == '\\' && p + 1 < e) {
      p++;
      switch (*p) {
        case 'n': ch = '\n'; break;
        case 't': ch = '\t'; break;
        case 'r': ch = '\r'; break;
        case 'b': case 'f': ch = ' '; break;
        case 'u': ch = '?'; p += (e - p > 4) ? 4 : 0; break;
        default: ch = *p;
      }
    }
    if (out && n + 1 < outlen) out[n++] = ch;
    p++;
  }
  if (out && outlen) out[n] = '\0';
  return p < e ? p + 1 : NULL;
}

/* skip one JSON value starting at p; NULL on malformed input */
static const char *skip_value(const char *p, const char *e) {
  int depth = 0;
  p = skip_ws(p, e);
  do {
    if (p >= e) return NULL;
    if (*p == '"') { p = scan_str(p, e, NULL, 0); if (!p) return NULL; continue; }
    if (*p == '{' || *p == '[') depth++;
    else if (*p == '}' || *p == ']') depth--;
    else if (depth == 0 && (*p == ',')) return p;
    p++;
    if (depth == 0) {
      /* a scalar: run to the next delimiter */
      while (p < e && *p != ',' && *p != '}' && *p != ']') p++;
      return p;
    }
  } while (depth > 0);
  return p;
}

static void status_fields(const char *body, size_t len, char *msg, size_t msglen,
                          char *reason, size_t reasonlen) {
  const char *p = body, *e = body + len;
  char key[32];
  if (msg && msglen) msg[0] = '\0';
  if (reason && reasonlen) reason[0] = '\0';
  if (!body) return;
  p = skip_ws(p, e);
  if (p >= e || *p != '{') return;
  p++;
  for (;;) {
    p = skip_ws(p, e);
    if (p >= e || *p != '"') return;
    p = scan_str(p, e, key, sizeof key);
    if (!p) return;
    p = skip_ws(p, e);
    if (p >= e || *p != ':') return;
    p = skip_ws(p + 1, e);
    if (p < e && *p == '"' && strcmp(key, "message") == 0)
      p = scan_str(p, e, msg, msglen);
    else if (p < e && *p == '"' && strcmp(key, "reason") == 0)
      p = scan_str(p, e, reason, reasonlen);
    else
      p = skip_value(p, e);
    if (!p) return;
    p = skip_ws(p, e);
    if (p >= e || *p != ',') return;
    p++;
  }
}

/* ------------------------------------------------------------------ */
/* Warning headers: what the server warns about a request              */

/* The warn-texts of the "Warning: 299 - \"text\"" lines among the
 * response's header lines (RFC 7234: warn-code, warn-agent, then a quoted
 * string with backslash escapes; a warn-date after it is ignored), each
 * decoded, control characters made spaces, and ended by '\n', into
 * resp->warnings (NULL when there is none; text past
 * EIDOS_K8S_WARNINGS_MAX is dropped). */
static void take_warnings(const char *hdrs, size_t len, struct eidos_k8s_resp *resp) {
  const char *p = hdrs, *e = hdrs ? hdrs + len : NULL;
  size_t n = 0, max = EIDOS_K8S_WARNINGS_MAX;
  char *out = NULL;
  while (p && p < e && n + 2 <= max) {
    const char *eol = memchr(p, '\n', (size_t)(e - p));
    const char *le = eol ? eol : e, *q = p + 8;
    if (le - p > 8 && strncasecmp(p, "warning:", 8) == 0) {
      int field;
      for (field = 0; field < 2; field++) {   /* warn-code, warn-agent */
        while (q < le && *q == ' ') q++;
        while (q < le && *q != ' ') q++;
      }
      while (q < le && *q == ' ') q++;
      if (q < le && *q == '"') {
        if (!out && !(out = malloc(max + 1))) return;
        for (q++; q < le && *q != '"' && n + 2 <= max; q++) {
          unsigned char ch = (unsigned char)*q;
          if (ch == '\\' && q + 1 < le) ch = (unsigned char)*++q;
          out[n++] = (ch < 0x20 || ch == 0x7f) ? ' ' : (char)ch;
        }
        out[n++] = '\n';
      }
    }
    p = eol ? eol + 1 : e;
  }
  if (out) out[n] = '\0';
  resp->warnings = out;
  resp->warnings_len = n;
}

/* ------------------------------------------------------------------ */
/* the request loop                                                    */

void eidos_k8s_resp_free(struct eidos_k8s_resp *resp) {
  if (!resp) return;
  free(resp->body);
  resp->body = NULL;
  free(resp->warnings);
  resp->warnings = NULL;
  resp->warnings_len = 0;
}

static uint64_t jitter_seed(void) {
  uint64_t ns = (uint64_t)eidos_sys_now_ns();
  return (ns << 20) ^ (ns / 1000000000u) ^ (uint64_t)(uintptr_t)&ns;
}

static long backoff(const eidos_k8s_client *c, int attempt, uint64_t *seed) {
  long d = c->backoff_ms;
  int i;
  for (i = 1; i < attempt && d < c->max_wait_ms; i++) d *= 2;
  if (d > c->max_wait_ms) d = c->max_wait_ms;
  *seed ^= *seed << 13; *seed ^= *seed >> 7; *seed ^= *seed << 17;
  return d / 2 + (long)(*seed % (uint64_t)(d / 2 + 1));   /* [d/2, d] */
}

static const char *status_text(long s) {
  switch (s) {
    case 400: return "Bad Request"; case 401: return "Unauthorized";
    case 403: return "Forbidden"; case 404: return "Not Found";
    case 405: return "Method Not Allowed"; case 409: return "Conflict";
    case 410: return "Gone"; case 413: return "Request Entity Too Large";
    case 415: return "Unsupported Media Type"; case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests"; case 500: return "Internal Server Error";
    case 502: return "Bad Gateway"; case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout"; default: return "";
  }
}

static int code_for_status(long s) {
  if (s == 401 || s == 403) return EIDOS_EAUTH;
  if (s == 404) return EIDOS_ENOTFOUND;
  if (s == 400 || s == 413 || s == 415 || s == 422) return EIDOS_EINVAL;
  if (s == 429) return EIDOS_ERATE;
  if (s >= 500) return EIDOS_EUNAVAIL;
  return EIDOS_EFAIL;
}

/* a short, printable excerpt of a non-Status body */
static void excerpt(const char *b, size_t n, char *out, size_t outlen) {
  size_t i, k = 0;
  for (i = 0; b && i < n && k + 1 < outlen && k < 200; i++)
    out[k++] = ((unsigned char)b[i] < 0x20 || b[i] == 0x7f) ? ' ' : b[i];
  out[k] = '\0';
}

/* what each attempt of a request met, for the error that gives up: "1)
 * ...; 2) ..." or, when every attempt met the same, that once (first) */
struct attempt_log {
  char text[1536];
  size_t len;
  char first[1200];
  int differ; /* an attempt met something other than the first */
};

static void log_add(struct attempt_log *l, int attempt, const char *what) {
  int k;
  if (attempt == 1) snprintf(l->first, sizeof l->first, "%s", what);
  else if (strcmp(l->first, what) != 0) l->differ = 1;
  if (l->len >= sizeof l->text - 1) return;
  k = snprintf(l->text + l->len, sizeof l->text - l->len, "%s%d) %s",
               l->len ? "; " : "", attempt, what);
  if (k > 0) l->len += (size_t)k;
  if (l->len >= sizeof l->text) l->len = sizeof l->text - 1;
}

int eidos_k8s_request(eidos_k8s_client *c, const struct eidos_k8s_req *req,
                      struct eidos_k8s_resp *resp, char *err, size_t errlen) {
  const char *method = req->method ? req->method : "GET";
  int max = req->max_attempts > 0 ? req->max_attempts : c->max_attempts;
  int is_post = strcmp(method, "POST") == 0, attempt, rc = EIDOS_EFAIL;
  int token_retry_done = 0;
  uint64_t seed = jitter_seed();
  char desc[512], verb[128], group[128], resource[128], ns[128];
  char url[4096], ctype[160], accept[160], auth[8192], what[1200];
  char msg[1024], herr[1024];
  const char *hdrs[4];
  struct attempt_log log;
  struct eidos_http_resp hr;
  size_t nh;

  memset(resp, 0, sizeof *resp);
  memset(&hr, 0, sizeof hr);
  log.len = 0;
  log.text[0] = log.first[0] = '\0';
  log.differ = 0;
  if (!req->path || req->path[0] != '/')
    return eidos_err(err, errlen, EIDOS_EINVAL,
                     "Kubernetes API path \"%s\" does not start with /",
                     req->path ? req->path : "");
  eidos_k8s_describe(method, req->path, desc, sizeof desc, verb, group, resource, ns);
  if ((size_t)snprintf(url, sizeof url, "%s%s", c->server, req->path) >= sizeof url)
    return eidos_err(err, errlen, EIDOS_EINVAL, "%s: request path too long", desc);
  snprintf(ctype, sizeof ctype, "Content-Type: %s",
           req->content_type ? req->content_type : "application/json");
  snprintf(accept, sizeof accept, "Accept: %s",
           req->accept ? req->accept : "application/json");

  for (attempt = 1; attempt <= max; attempt++) {
    struct eidos_http_req h;
    char *cert = NULL, *key = NULL;
    int retry = 0, r;
    long wait = 0;

    /* credentials, copied under the lock */
    auth[0] = '\0';
    pthread_mutex_lock(&c->mu);
    r = refresh_token(c, 0, herr, sizeof herr);
    if (r == 0) {
      const char *tok = c->exec_token ? c->exec_token : c->token;
      if (tok && strlen(tok) + 32 > sizeof auth) r = EIDOS_EINVAL;
      else if (tok) snprintf(auth, sizeof auth, "Authorization: Bearer %s", tok);
      if (c->exec_cert) cert = strdup(c->exec_cert);
      if (c->exec_key) key = strdup(c->exec_key);
      if (r) snprintf(herr, sizeof herr, "bearer token longer than %zu bytes",
                      sizeof auth - 32);
    }
    pthread_mutex_unlock(&c->mu);
    if (r) {
      free(cert); free(key);
      return eidos_err(err, errlen, r, "%s: %s", desc, herr);
    }

    nh = 0;
    hdrs[nh++] = accept;
    if (req->body) hdrs[nh++] = ctype;
    if (auth[0]) hdrs[nh++] = auth;
    hdrs[nh] = NULL;
    memset(&h, 0, sizeof h);
    h.method = method;
    h.url = url;
    h.headers = hdrs;
    h.body = req->body;
    h.body_len = req->body_len;
    h.connect_timeout_ms = c->connect_timeout_ms;
    h.timeout_ms = req->timeout_ms > 0 ? req->timeout_ms : c->timeout_ms;
    h.max_size = req->max_size ? req->max_size : K8S_MAX_BODY;
    h.user_agent = c->user_agent;
    h.tls.ca_file = c->ca_file;
    h.tls.ca_pem = c->ca_pem; h.tls.ca_pem_len = c->ca_pem_len;
    h.tls.cert_file = cert ? NULL : c->cert_file;
    h.tls.cert_pem = cert ? cert : c->cert_pem;
    h.tls.cert_pem_len = cert ? strlen(cert) : c->cert_pem_len;
    h.tls.key_file = key ? NULL : c->key_file;
    h.tls.key_pem = key ? key : c->key_pem;
    h.tls.key_pem_len = key ? strlen(key) : c->key_pem_len;
    h.insecure = c->insecure;

    eidos_http_resp_free(&hr);
    r = eidos_http_do(&h, &hr, herr, sizeof herr);
    free(cert);
    free(key);
    resp->attempts = attempt;

    if (r != 0) {
      /* transport failure: nothing or an unknown part was done */
      rc = r;
      resp->status = 0;
      log_add(&log, attempt, herr);
      if (hr.failure == EIDOS_HTTP_F_NOTSENT) retry = 1;
      else if (hr.failure == EIDOS_HTTP_F_BROKEN) retry = !is_post;
      if (!retry || attempt == max) break;
      eidos_sys_sleep_ms(backoff(c, attempt, &seed));
      continue;
    }

    resp->status = hr.status;
    snprintf(resp->content_type, sizeof resp->content_type, "%s", hr.content_type);
    if (hr.status >= 200 && hr.status < 300) {
      resp->body = hr.body;
      resp->body_len = hr.body_len;
      resp->reason[0] = '\0';
      take_warnings(hr.headers, hr.headers_len, resp);
      hr.body = NULL;
      eidos_http_resp_free(&hr);
      return EIDOS_OK;
    }

    status_fields(hr.body, hr.body_len, msg, sizeof msg, resp->reason,
                  sizeof resp->reason);
    if (!msg[0]) excerpt(hr.body, hr.body_len, msg, sizeof msg);
    snprintf(what, sizeof what, "HTTP %ld %s%s%s", hr.status,
             resp->reason[0] ? resp->reason : status_text(hr.status),
             msg[0] ? ": " : "", msg);
    log_add(&log, attempt, what);
    rc = code_for_status(hr.status);

    if (hr.status == 401 && c->token_file && !token_retry_done) {
      /* the token may have rotated within one mtime tick: re-read it */
      token_retry_done = 1;
      pthread_mutex_lock(&c->mu);
      {
        char *old = c->token ? strdup(c->token) : NULL;
        int changed = refresh_token(c, 1, herr, sizeof herr) == 0 && old && c->token &&
                      strcmp(old, c->token) != 0;
        free(old);
        pthread_mutex_unlock(&c->mu);
        if (changed && attempt < max) continue;
      }
    }
    if (hr.status == 429) {
      retry = 1;
      wait = hr.retry_after > 0 ? hr.retry_after * 1000L : 0;
    } else if (hr.status >= 500 && hr.status != 501) {
      retry = !is_post || hr.status == 503;
      wait = hr.retry_after > 0 ? hr.retry_after * 1000L : 0;
    }
    if (!retry || attempt == max) break;
    if (wait <= 0) wait = backoff(c, attempt, &seed);
    if (wait > c->max_wait_ms) wait = c->max_wait_ms;
    eidos_sys_sleep_ms(wait);
  }

  if (resp->status && hr.body) {
    resp->body = hr.body;
    resp->body_len = hr.body_len;
    hr.body = NULL;
  }
  if (resp->status) take_warnings(hr.headers, hr.headers_len, resp);
  eidos_http_resp_free(&hr);

  if (resp->status == 403) {
    return eidos_err(err, errlen, rc,
                     "%s: HTTP 403 Forbidden: the credentials lack the RBAC "
                     "permission to %s resource \"%s\" in API group \"%s\" %s%s%s "
                     "(a Role or ClusterRole rule {apiGroups: [\"%s\"], "
                     "resources: [\"%s\"], verbs: [\"%s\"]} bound to this user "
                     "grants it); the server said: %s",
                     desc, verb, resource, group, ns[0] ? "in namespace \"" : "cluster-wide",
                     ns, ns[0] ? "\"" : "", group, resource, verb, msg);
  }
  if (resp->status == 401 && log.len && resp->attempts == 1)
    return eidos_err(err, errlen, rc,
                     "%s: HTTP 401 Unauthorized: the server rejected the "
                     "credentials (an expired or wrong token, or a client "
                     "certificate it does not trust)", desc);
  if (resp->attempts <= 1)
    return eidos_err(err, errlen, rc, "%s: %s", desc, log.text + 3);
  if (!log.differ)
    return eidos_err(err, errlen, rc,
                     "%s: gave up after %d attempts (429, 5xx, timeouts and "
                     "connection failures are retried with backoff), each: %s",
                     desc, resp->attempts, log.first);
  return eidos_err(err, errlen, rc,
                   "%s: gave up after %d attempts (429, 5xx, timeouts and "
                   "connection failures are retried with backoff): %s",
                   desc, resp->attempts, log.text);
}
