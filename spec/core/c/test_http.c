/*
 * test_http.c -- tests of src/core/http.c against the test server in plain
 * HTTP and TLS modes: a GET with Content-Type, the size limit (known length
 * and streamed), redirects (followed only to https://, refused to http://,
 * not followed when max_redirects is 0), the total timeout, a refused
 * connection, CA verification from a file and from PEM in memory, the
 * response header lines, and HEAD (no size limit on what it announces).
 * Usage: test_http REPO_ROOT. Skips (exit 0) without python3 and openssl.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../../src/core/eidos.h"
#include "../../../src/core/http.h"
#include "fake_k8s.h"

static char ERR[2048];

static int get(const char *url, const char *ca, size_t max, int redirects, long timeout_ms,
               struct eidos_http_resp *r) {
  struct eidos_http_req q;
  memset(&q, 0, sizeof q);
  q.url = url;
  q.tls.ca_file = ca;
  q.max_size = max;
  q.max_redirects = redirects;
  q.timeout_ms = timeout_ms;
  ERR[0] = '\0';
  return eidos_http_do(&q, r, ERR, sizeof ERR);
}

int main(int argc, char **argv) {
  struct fake plain, tls;
  struct eidos_http_resp r;
  char files[512], path[600], url[1024], ca[512], other[512];
  const char *extra[] = {"--files-dir", files, NULL};
  int rc, i;
  FILE *fp;

  if (argc < 2) { fprintf(stderr, "usage: test_http REPO_ROOT\n"); return 2; }
  if (!fake_available()) {
    printf("test_http: python3 or openssl missing, skipped\n");
    return 0;
  }
  snprintf(files, sizeof files, "%s/files", fake_certs(argv[1]));
  snprintf(path, sizeof path, "mkdir -p '%s'", files);
  if (system(path) != 0) return 1;
  snprintf(path, sizeof path, "%s/snap.yaml", files);
  write_file(path, "kind: Snapshot\nmeasurements: []\n");
  snprintf(path, sizeof path, "%s/big.json", files);
  fp = fopen(path, "wb");
  for (i = 0; i < 300000; i++) fputs("[1,2,3]\n", fp);   /* 2.4 MB */
  fclose(fp);
  if (fake_start(&plain, argv[1], 1, extra) != 0) return 1;
  if (fake_start(&tls, argv[1], 0, extra) != 0) return 1;
  snprintf(ca, sizeof ca, "%s/ca.crt", tls.dir);
  snprintf(other, sizeof other, "%s/other-ca.crt", tls.dir);

  snprintf(url, sizeof url, "%s/__files/snap.yaml?token=abc", plain.base);
  rc = get(url, NULL, 0, 0, 0, &r);
  CHECK(rc == 0 && r.status == 200 && strcmp(r.body, "kind: Snapshot\nmeasurements: []\n") == 0,
        "plain GET: %d %s", rc, ERR);
  CHECK(strcmp(r.content_type, "application/yaml") == 0, "content type %s", r.content_type);
  /* the response's header lines, without the status line and CRs */
  CHECK(r.headers && strstr(r.headers, "Content-Type: application/yaml\n") && !strchr(r.headers, '\r') &&
        !strstr(r.headers, "HTTP/"), "headers: %s", r.headers ? r.headers : "(none)");
  eidos_http_resp_free(&r);

  snprintf(url, sizeof url, "%s/__files/missing.yaml", plain.base);
  rc = get(url, NULL, 0, 0, 0, &r);
  CHECK(rc == 0 && r.status == 404, "404 is a response: %d %ld", rc, r.status);
  eidos_http_resp_free(&r);

  /* size limit: the server gzips large bodies, so the limit applies to
   * the decoded stream, not to a Content-Length */
  snprintf(url, sizeof url, "%s/__files/big.json?token=secret", plain.base);
  rc = get(url, NULL, 1000000, 0, 0, &r);
  CHECK(rc == EIDOS_EINVAL && strstr(ERR, "exceeds the size limit of 1000000 bytes") &&
        !strstr(ERR, "secret"), "size limit: %d %s", rc, ERR);
  eidos_http_resp_free(&r);
  rc = get(url, NULL, 0, 0, 0, &r);
  CHECK(rc == 0 && r.body_len == 2400000, "under the default limit: %d %zu", rc, r.body_len);
  eidos_http_resp_free(&r);
  {
    /* HEAD announces a size it does not send: no size limit applies */
    struct eidos_http_req q;
    memset(&q, 0, sizeof q);
    q.url = url;
    q.method = "HEAD";
    q.max_size = 1000;
    rc = eidos_http_do(&q, &r, ERR, sizeof ERR);
    CHECK(rc == 0 && r.status == 200 && r.body_len == 0, "HEAD over the limit: %d %s", rc, ERR);
    eidos_http_resp_free(&r);
  }

  /* TLS: CA from file, wrong CA, PEM in memory */
  snprintf(url, sizeof url, "%s/__files/snap.yaml", tls.base);
  rc = get(url, ca, 0, 0, 0, &r);
  CHECK(rc == 0 && r.status == 200, "https: %d %s", rc, ERR);
  eidos_http_resp_free(&r);
  rc = get(url, other, 0, 0, 0, &r);
  CHECK(rc == EIDOS_EUNAVAIL, "wrong CA: %d %s", rc, ERR);
  eidos_http_resp_free(&r);
  {
    struct eidos_http_req q;
    memset(&q, 0, sizeof q);
    q.url = url;
    q.tls.ca_pem = slurp(ca, &q.tls.ca_pem_len);
    rc = eidos_http_do(&q, &r, ERR, sizeof ERR);
    CHECK(rc == 0 && r.status == 200, "CA PEM blob: %d %s", rc, ERR);
    free((char *)q.tls.ca_pem);
    eidos_http_resp_free(&r);
  }

  /* redirects: http -> https followed; https -> http refused */
  snprintf(url, sizeof url, "%s/__redirect?to=%s/__files/snap.yaml", plain.base, tls.base);
  rc = get(url, ca, 0, 5, 0, &r);
  CHECK(rc == 0 && r.status == 200 && r.effective_url &&
        strncmp(r.effective_url, "https://", 8) == 0, "http->https: %d %s", rc, ERR);
  eidos_http_resp_free(&r);
  rc = get(url, ca, 0, 0, 0, &r);
  CHECK(rc == 0 && r.status == 302, "not followed: %d %ld", rc, r.status);
  eidos_http_resp_free(&r);
  snprintf(url, sizeof url, "%s/__redirect?to=%s/__files/snap.yaml", tls.base, plain.base);
  rc = get(url, ca, 0, 5, 0, &r);
  CHECK(rc == EIDOS_EINVAL && strstr(ERR, "redirects only to https://"), "https->http: %d %s", rc, ERR);
  eidos_http_resp_free(&r);
  snprintf(url, sizeof url, "%s/__redirect?to=file:///etc/passwd", tls.base);
  rc = get(url, ca, 0, 5, 0, &r);
  CHECK(rc == EIDOS_EINVAL, "redirect to file://: %d %s", rc, ERR);
  eidos_http_resp_free(&r);
  rc = get("file:///etc/passwd", NULL, 0, 0, 0, &r);
  CHECK(rc == EIDOS_EINVAL, "file:// URL: %d %s", rc, ERR);
  eidos_http_resp_free(&r);

  /* timeout and refused connection */
  {
    struct eidos_http_req q;
    const char *hdrs[] = {"Content-Type: application/json", NULL};
    char curl[512];
    memset(&q, 0, sizeof q);
    snprintf(curl, sizeof curl, "%s/__control/fault", plain.base);
    q.method = "POST"; q.url = curl; q.headers = hdrs;
    q.body = "{\"kind\":\"hang\",\"seconds\":2}"; q.body_len = strlen(q.body);
    rc = eidos_http_do(&q, &r, ERR, sizeof ERR);
    CHECK(rc == 0 && r.status == 200, "control: %d %s", rc, ERR);
    eidos_http_resp_free(&r);
  }
  snprintf(url, sizeof url, "%s/__files/snap.yaml", plain.base);
  snprintf(url, sizeof url, "%s/version", plain.base);
  rc = get(url, NULL, 0, 0, 300, &r);
  CHECK(rc == EIDOS_ETIMEOUT && strstr(ERR, "within 300 ms"), "timeout: %d %s", rc, ERR);
  eidos_http_resp_free(&r);
  fake_stop(&plain);
  rc = get(url, NULL, 0, 0, 0, &r);
  CHECK(rc == EIDOS_EUNAVAIL && r.failure == EIDOS_HTTP_F_NOTSENT, "refused: %d %s", rc, ERR);
  eidos_http_resp_free(&r);

  fake_stop(&tls);
  fake_cleanup_tmp();
  eidos_http_thread_cleanup();
  printf("test_http: %s (%d failures)\n", fails ? "FAILED" : "ok", fails);
  return fails ? 1 : 0;
}
