/*
 * http.c -- the HTTP(S) client on libcurl (see http.h). It owns libcurl's
 * global initialisation (once per process), the per-thread reusable CURL
 * handle (a pthread key whose destructor frees it at thread exit), the
 * bounded response buffer, the response header lines (of the last
 * response when redirects are followed) and the mapping of libcurl failures to EIDOS_E*
 * codes with messages that name the method and the URL (query string
 * redacted: it may carry a token).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "eidos.h"
#include "lazy.h"
#include "http.h"

static const struct eidos_curl *cu;
static pthread_key_t handle_key;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_rc;
static char init_err[256];

static void handle_free(void *h) {
  if (h && cu) cu->curl_easy_cleanup(h);
}

static void init(void) {
  cu = eidos_lazy_curl(init_err, sizeof init_err);
  if (!cu) { init_rc = EIDOS_EUNAVAIL; return; }
  if (cu->curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    snprintf(init_err, sizeof init_err, "libcurl global initialisation failed");
    init_rc = EIDOS_EUNAVAIL;
    return;
  }
  if (pthread_key_create(&handle_key, handle_free) != 0) {
    snprintf(init_err, sizeof init_err, "cannot create thread key for libcurl");
    init_rc = EIDOS_EINTERNAL;
  }
}

/* This thread's handle, reset to defaults (connections and caches kept). */
static CURL *thread_handle(char *err, size_t errlen) {
  CURL *h;
  pthread_once(&init_once, init);
  if (init_rc) {
    eidos_err(err, errlen, init_rc, "%s", init_err);
    return NULL;
  }
  h = pthread_getspecific(handle_key);
  if (h) {
    cu->curl_easy_reset(h);
    return h;
  }
  h = cu->curl_easy_init();
  if (!h) {
    eidos_err(err, errlen, EIDOS_EINTERNAL, "curl_easy_init failed");
    return NULL;
  }
  pthread_setspecific(handle_key, h);
  return h;
}

void eidos_http_thread_cleanup(void) {
  CURL *h;
  if (pthread_once(&init_once, init) != 0 || init_rc) return;
  h = pthread_getspecific(handle_key);
  if (h) {
    cu->curl_easy_cleanup(h);
    pthread_setspecific(handle_key, NULL);
  }
}

struct sink {
  char *p;
  size_t len, cap, max;
  int over, oom;
};

/* Append len bytes (and a NUL after them) to s; 0, or -1 when over the
 * limit (s->over) or out of memory (s->oom). */
static int sink_put(struct sink *s, const char *data, size_t len) {
  if (len > s->max - s->len) { s->over = 1; return -1; }
  if (s->len + len + 1 > s->cap) {
    size_t cap = s->cap ? s->cap : 4096;
    char *np;
    while (cap < s->len + len + 1) cap *= 2;
    np = realloc(s->p, cap);
    if (!np) { s->oom = 1; return -1; }
    s->p = np;
    s->cap = cap;
  }
  memcpy(s->p + s->len, data, len);
  s->len += len;
  s->p[s->len] = '\0';
  return 0;
}

static size_t on_data(char *data, size_t size, size_t n, void *ud) {
  return sink_put(ud, data, size * n) ? 0 : size * n;
}

/* Header lines: a status line starts a new response (after a redirect
 * or an interim 1xx); each "Name: value" line is kept without its CR. A
 * line over the limit is dropped (the transfer goes on). */
static size_t on_header(char *data, size_t size, size_t n, void *ud) {
  struct sink *s = ud;
  size_t add = size * n, len = add;
  while (len && (data[len - 1] == '\n' || data[len - 1] == '\r')) len--;
  if (len >= 5 && !memcmp(data, "HTTP/", 5)) { s->len = 0; return add; }
  if (!len || !memchr(data, ':', len) || len + 1 > s->max - s->len) return add;
  if (sink_put(s, data, len) || sink_put(s, "\n", 1)) return s->oom ? 0 : add;
  return add;
}

/* The URL as printed in messages: without its query string. */
static void redact(const char *url, char *out, size_t outlen) {
  size_t n = strcspn(url, "?#");
  if (n >= outlen) n = outlen - 1;
  memcpy(out, url, n);
  out[n] = '\0';
  if (url[n] == '?' && n + 4 < outlen) strcat(out, "?...");
}

void eidos_http_resp_free(struct eidos_http_resp *resp) {
  if (!resp) return;
  free(resp->body);
  free(resp->effective_url);
  free(resp->headers);
  resp->body = NULL;
  resp->effective_url = NULL;
  resp->headers = NULL;
}

/* Did the transfer get as far as sending the request? (On a reused
 * connection the connect time is 0, the pre-transfer time is not.) */
static int sent(CURL *h) {
  double pt = 0;
  (*cu->curl_easy_getinfo)(h, CURLINFO_PRETRANSFER_TIME, &pt);
  return pt > 0;
}

static int map_failure(CURL *h, CURLcode rc, const struct eidos_http_req *req,
                       const char *method, const struct sink *s,
                       const char *cerr, long cto, long tto,
                       char *err, size_t errlen) {
  char url[512];
  const char *detail = cerr[0] ? cerr : cu->curl_easy_strerror(rc);
  redact(req->url, url, sizeof url);
  if (s->over || rc == CURLE_FILESIZE_EXCEEDED)
    return eidos_err(err, errlen, EIDOS_EINVAL,
                     "%s %s: response exceeds the size limit of %zu bytes",
                     method, url, s->max);
  if (s->oom)
    return eidos_err(err, errlen, EIDOS_EINTERNAL,
                     "%s %s: out of memory reading the response", method, url);
  switch (rc) {
    case CURLE_OPERATION_TIMEDOUT: {
      if (!sent(h))
        return eidos_err(err, errlen, EIDOS_ETIMEOUT,
                         "%s %s: could not connect within %ld ms (%s)",
                         method, url, cto < tto ? cto : tto, detail);
      return eidos_err(err, errlen, EIDOS_ETIMEOUT,
                       "%s %s: no complete response within %ld ms (%s)",
                       method, url, tto, detail);
    }
    case CURLE_COULDNT_RESOLVE_HOST: case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT: case CURLE_SEND_ERROR: case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING: case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION: case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM: case CURLE_PARTIAL_FILE:
      return eidos_err(err, errlen, EIDOS_EUNAVAIL, "%s %s: %s", method, url,
                       detail);
    case CURLE_UNSUPPORTED_PROTOCOL:
      return eidos_err(err, errlen, EIDOS_EINVAL,
                       "%s %s: scheme not allowed (only http:// and https://, "
                       "redirects only to https://): %s", method, url, detail);
    case CURLE_TOO_MANY_REDIRECTS:
      return eidos_err(err, errlen, EIDOS_EINVAL,
                       "%s %s: more than %d redirects", method, url,
                       req->max_redirects);
    case CURLE_URL_MALFORMAT:
      return eidos_err(err, errlen, EIDOS_EINVAL, "%s %s: malformed URL (%s)",
                       method, url, detail);
    case CURLE_OUT_OF_MEMORY:
      /* our sink did not run out (s->oom is 0): libcurl refuses a response
         header over its 100 KB limit with this code */
      return eidos_err(err, errlen, EIDOS_EINVAL,
                       "%s %s: response headers exceed the size limit of 100 KB (%s)",
                       method, url, detail);
    default:
      return eidos_err(err, errlen, EIDOS_EFAIL, "%s %s: %s", method, url,
                       detail);
  }
}

#define SET(opt, val) do { \
    CURLcode src_ = (*cu->curl_easy_setopt)(h, opt, val); \
    if (src_ != CURLE_OK) { \
      rc = eidos_err(err, errlen, EIDOS_EINVAL, "libcurl rejected option %s: %s", \
                     #opt, cu->curl_easy_strerror(src_)); \
      goto done; \
    } \
  } while (0)

int eidos_http_do(const struct eidos_http_req *req, struct eidos_http_resp *resp,
                  char *err, size_t errlen) {
  CURL *h;
  CURLcode crc;
  struct curl_slist *hdrs = NULL;
  struct sink s, hs;
  char cerr[CURL_ERROR_SIZE];
  const char *method = req->method ? req->method : "GET";
  long cto = req->connect_timeout_ms > 0 ? req->connect_timeout_ms : 10000;
  long tto = req->timeout_ms > 0 ? req->timeout_ms : 30000;
  int rc = EIDOS_OK;
  const char *const *hp;

  memset(resp, 0, sizeof *resp);
  memset(&s, 0, sizeof s);
  memset(&hs, 0, sizeof hs);
  s.max = req->max_size ? req->max_size : EIDOS_HTTP_DEFAULT_MAX;
  hs.max = EIDOS_HTTP_HEADERS_MAX;
  cerr[0] = '\0';
  if (!req->url)
    return eidos_err(err, errlen, EIDOS_EINVAL, "HTTP request without a URL");
  h = thread_handle(err, errlen);
  if (!h) return EIDOS_EUNAVAIL;

  SET(CURLOPT_URL, req->url);
  SET(CURLOPT_NOSIGNAL, 1L);
  SET(CURLOPT_ERRORBUFFER, cerr);
  SET(CURLOPT_PROTOCOLS_STR, "http,https");
  SET(CURLOPT_CONNECTTIMEOUT_MS, cto);
  SET(CURLOPT_TIMEOUT_MS, tto);
  SET(CURLOPT_USERAGENT, req->user_agent ? req->user_agent : "eidos");
  SET(CURLOPT_ACCEPT_ENCODING, "");
  SET(CURLOPT_WRITEFUNCTION, on_data);
  SET(CURLOPT_WRITEDATA, &s);
  SET(CURLOPT_HEADERFUNCTION, on_header);
  SET(CURLOPT_HEADERDATA, &hs);
  /* a HEAD response announces the size of a body it does not send */
  if (strcmp(method, "HEAD") != 0) SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)s.max);
  SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
  if (req->max_redirects > 0) {
    SET(CURLOPT_FOLLOWLOCATION, 1L);
    SET(CURLOPT_MAXREDIRS, (long)req->max_redirects);
    SET(CURLOPT_REDIR_PROTOCOLS_STR, "https");
  }

  if (strcmp(method, "GET") == 0 && !req->body) {
    SET(CURLOPT_HTTPGET, 1L);
  } else if (strcmp(method, "HEAD") == 0) {
    SET(CURLOPT_NOBODY, 1L);
  } else {
    if (req->body || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
        strcmp(method, "PATCH") == 0) {
      SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(req->body ? req->body_len : 0));
      SET(CURLOPT_POSTFIELDS, req->body ? req->body : "");
    }
    SET(CURLOPT_CUSTOMREQUEST, method);
  }

  if (req->insecure) {
    SET(CURLOPT_SSL_VERIFYPEER, 0L);
    SET(CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (req->tls.ca_file || req->tls.ca_pem) {
    /* a given CA replaces the system trust store, as client-go does */
    SET(CURLOPT_CAPATH, (char *)NULL);
    if (req->tls.ca_pem) {
      struct curl_blob b = {(void *)req->tls.ca_pem, req->tls.ca_pem_len, CURL_BLOB_COPY};
      SET(CURLOPT_CAINFO_BLOB, &b);
    } else {
      SET(CURLOPT_CAINFO, req->tls.ca_file);
    }
  }
  if (req->tls.cert_pem) {
    struct curl_blob b = {(void *)req->tls.cert_pem, req->tls.cert_pem_len, CURL_BLOB_COPY};
    SET(CURLOPT_SSLCERT_BLOB, &b);
    SET(CURLOPT_SSLCERTTYPE, "PEM");
  } else if (req->tls.cert_file) {
    SET(CURLOPT_SSLCERT, req->tls.cert_file);
    SET(CURLOPT_SSLCERTTYPE, "PEM");
  }
  if (req->tls.key_pem) {
    struct curl_blob b = {(void *)req->tls.key_pem, req->tls.key_pem_len, CURL_BLOB_COPY};
    SET(CURLOPT_SSLKEY_BLOB, &b);
    SET(CURLOPT_SSLKEYTYPE, "PEM");
  } else if (req->tls.key_file) {
    SET(CURLOPT_SSLKEY, req->tls.key_file);
    SET(CURLOPT_SSLKEYTYPE, "PEM");
  }

  for (hp = req->headers; hp && *hp; hp++) {
    struct curl_slist *n = cu->curl_slist_append(hdrs, *hp);
    if (!n) { rc = eidos_err(err, errlen, EIDOS_EINTERNAL, "out of memory"); goto done; }
    hdrs = n;
  }
  {
    /* no "Expect: 100-continue" round trip for large bodies */
    struct curl_slist *n = cu->curl_slist_append(hdrs, "Expect:");
    if (!n) { rc = eidos_err(err, errlen, EIDOS_EINTERNAL, "out of memory"); goto done; }
    hdrs = n;
  }
  SET(CURLOPT_HTTPHEADER, hdrs);

  crc = cu->curl_easy_perform(h);
  resp->curl_code = (int)crc;
  switch (crc) {
    case CURLE_OK: resp->failure = EIDOS_HTTP_F_NONE; break;
    case CURLE_COULDNT_RESOLVE_HOST: case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
      resp->failure = EIDOS_HTTP_F_NOTSENT; break;
    case CURLE_OPERATION_TIMEDOUT: {
      resp->failure = sent(h) ? EIDOS_HTTP_F_BROKEN : EIDOS_HTTP_F_NOTSENT;
      break;
    }
    case CURLE_SEND_ERROR: case CURLE_RECV_ERROR: case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE: case CURLE_SSL_CONNECT_ERROR:
      resp->failure = EIDOS_HTTP_F_BROKEN; break;
    default: resp->failure = EIDOS_HTTP_F_FATAL;
  }
  if (s.over) resp->failure = EIDOS_HTTP_F_FATAL;
  (*cu->curl_easy_getinfo)(h, CURLINFO_RESPONSE_CODE, &resp->status);
  {
    char *ct = NULL, *eu = NULL;
    curl_off_t ra = 0;
    if ((*cu->curl_easy_getinfo)(h, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
      snprintf(resp->content_type, sizeof resp->content_type, "%s", ct);
    if ((*cu->curl_easy_getinfo)(h, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
      resp->retry_after = (long)ra;
    if ((*cu->curl_easy_getinfo)(h, CURLINFO_EFFECTIVE_URL, &eu) == CURLE_OK && eu)
      resp->effective_url = strdup(eu);
  }
  if (crc != CURLE_OK) {
    rc = map_failure(h, crc, req, method, &s, cerr, cto, tto, err, errlen);
    goto done;
  }
  if (!s.p) {
    s.p = malloc(1);
    if (!s.p) { rc = eidos_err(err, errlen, EIDOS_EINTERNAL, "out of memory"); goto done; }
    s.p[0] = '\0';
  }
  resp->body = s.p;
  resp->body_len = s.len;
  s.p = NULL;
  if (hs.oom) { rc = eidos_err(err, errlen, EIDOS_EINTERNAL, "out of memory"); goto done; }
  resp->headers = hs.p;
  resp->headers_len = hs.len;
  hs.p = NULL;

done:
  /* the handle must not keep pointers to this call's stack and lists */
  (*cu->curl_easy_setopt)(h, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
  (*cu->curl_easy_setopt)(h, CURLOPT_ERRORBUFFER, (char *)NULL);
  if (hdrs) cu->curl_slist_free_all(hdrs);
  free(s.p);
  free(hs.p);
  return rc;
}
