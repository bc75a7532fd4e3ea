/*
 * test_k8s.c -- tests of src/core/k8s.c against the test API server
 * (spec/fixtures/k8s/fake_apiserver.py) over TLS with certificates made at
 * run time: client certificate, token, token file rotation, exec plugin
 * credentials, 401/403/404/409, retries of 429 (Retry-After), 500 and a
 * hang past the timeout, an untrusted CA, a shared client used from several
 * threads, and the request description used in errors.
 * Usage: test_k8s REPO_ROOT. Skips (exit 0) without python3 and openssl.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include "../../../src/core/eidos.h"
#include "../../../src/core/http.h"
#include "../../../src/core/k8s.h"
#include "../../../src/core/proc.h"
#include "../../../src/core/sys.h"
#include "fake_k8s.h"

/* an exec credential plugin as the Kubernetes client runs it (through
 * eidos.core.proc, which is eidos_proc_call) */
static int run_plugin(char *const *argv, const char *const *env, long timeout_ms, char **out,
                      char *err, size_t errlen) {
  struct eidos_proc p;
  int rc;
  memset(&p, 0, sizeof p);
  p.argv = (const char *const *)argv;
  p.env_add = env;
  p.deadline_ms = eidos_sys_now_ms() + timeout_ms;
  rc = eidos_proc_call(&p, "exec credential plugin", EIDOS_EAUTH, err, errlen);
  *out = rc ? NULL : p.out;
  if (!rc) p.out = NULL;
  eidos_proc_free(&p);
  return rc;
}

static struct fake F;
static char ERR[4096];

static double now_s(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return tv.tv_sec + tv.tv_usec / 1e6;
}

static void control(const char *what, const char *json) {
  char url[512], ca[512];
  const char *hdrs[] = {"Content-Type: application/json", NULL};
  struct eidos_http_req r;
  struct eidos_http_resp resp;
  memset(&r, 0, sizeof r);
  snprintf(url, sizeof url, "%s/__control/%s", F.base, what);
  snprintf(ca, sizeof ca, "%s/ca.crt", F.dir);
  r.method = "POST"; r.url = url; r.headers = hdrs; r.tls.ca_file = ca;
  r.body = json; r.body_len = strlen(json);
  if (eidos_http_do(&r, &resp, ERR, sizeof ERR) != 0 || resp.status != 200) {
    fprintf(stderr, "control %s failed: %s\n", what, ERR);
    exit(1);
  }
  eidos_http_resp_free(&resp);
}

static eidos_k8s_client *client(const char *mode) {
  struct eidos_k8s_conn c;
  eidos_k8s_client *k = NULL;
  static char ca[512], cert[512], key[512];
  memset(&c, 0, sizeof c);
  snprintf(ca, sizeof ca, "%s/ca.crt", F.dir);
  snprintf(cert, sizeof cert, "%s/client.crt", F.dir);
  snprintf(key, sizeof key, "%s/client.key", F.dir);
  c.server = F.base;
  c.tls.ca_file = ca;
  c.timeout_ms = 800;
  c.backoff_ms = 50;
  if (strcmp(mode, "cert") == 0) { c.tls.cert_file = cert; c.tls.key_file = key; }
  else if (strcmp(mode, "token") == 0) c.token = "sekret";
  else if (strcmp(mode, "badtoken") == 0) c.token = "wrong";
  if (eidos_k8s_new(&c, &k, ERR, sizeof ERR) != 0) {
    fprintf(stderr, "client: %s\n", ERR);
    exit(1);
  }
  return k;
}

static int req(eidos_k8s_client *k, const char *method, const char *path,
               const char *body, struct eidos_k8s_resp *r) {
  struct eidos_k8s_req q;
  memset(&q, 0, sizeof q);
  q.method = method;
  q.path = path;
  q.body = body;
  q.body_len = body ? strlen(body) : 0;
  ERR[0] = '\0';
  return eidos_k8s_request(k, &q, r, ERR, sizeof ERR);
}

static void test_describe(void) {
  char d[256], v[128], g[128], r[128], n[128];
  eidos_k8s_describe("GET", "/api/v1/pods?limit=500", d, sizeof d, v, g, r, n);
  CHECK(strcmp(d, "list pods (cluster-wide)") == 0, "%s", d);
  eidos_k8s_describe("GET", "/api/v1/namespaces/ns1/configmaps/snap", d, sizeof d, v, g, r, n);
  CHECK(strcmp(d, "get configmaps \"snap\" in namespace \"ns1\"") == 0, "%s", d);
  CHECK(strcmp(v, "get") == 0 && strcmp(g, "") == 0 && strcmp(r, "configmaps") == 0 &&
        strcmp(n, "ns1") == 0, "%s %s %s %s", v, g, r, n);
  eidos_k8s_describe("POST", "/apis/batch/v1/namespaces/x/jobs", d, sizeof d, v, g, r, n);
  CHECK(strcmp(d, "create jobs.batch in namespace \"x\"") == 0, "%s", d);
  CHECK(strcmp(g, "batch") == 0 && strcmp(v, "create") == 0, "%s", g);
  eidos_k8s_describe("GET", "/api/v1/namespaces/x/pods/p/log?tailLines=5", d, sizeof d, v, g, r, n);
  CHECK(strcmp(d, "get pods/log \"p\" in namespace \"x\"") == 0, "%s", d);
  eidos_k8s_describe("DELETE", "/apis/rbac.authorization.k8s.io/v1/clusterroles/a", d, sizeof d, v, g, r, n);
  CHECK(strcmp(d, "delete clusterroles.rbac.authorization.k8s.io \"a\" (cluster-wide)") == 0, "%s", d);
  eidos_k8s_describe("GET", "/api/v1/namespaces/default", d, sizeof d, v, g, r, n);
  CHECK(strcmp(d, "get namespaces \"default\" (cluster-wide)") == 0, "%s", d);
  eidos_k8s_describe("GET", "/version", d, sizeof d, v, g, r, n);
  CHECK(strcmp(d, "GET /version") == 0, "%s", d);
  eidos_k8s_describe("GET", "/apis/batch/v1/namespaces/x/jobs?watch=true", d, sizeof d, v, g, r, n);
  CHECK(strcmp(v, "watch") == 0, "%s", v);
}

static void test_auth(void) {
  struct eidos_k8s_resp r;
  eidos_k8s_client *k;
  int rc;
  char tf[512], plug[512], *argv[3], *out = NULL;
  const char *env[] = {"KUBERNETES_EXEC_INFO={\"apiVersion\":\"client.authentication.k8s.io/v1\","
                       "\"kind\":\"ExecCredential\",\"spec\":{\"interactive\":false}}", NULL};

  k = client("cert");
  rc = req(k, "GET", "/version", NULL, &r);
  CHECK(rc == 0 && r.status == 200 && strstr(r.body, "\"gitVersion\""), "cert: %d %s", rc, ERR);
  eidos_k8s_resp_free(&r);
  eidos_k8s_free(k);

  k = client("token");
  rc = req(k, "GET", "/api/v1/nodes", NULL, &r);
  CHECK(rc == 0 && strstr(r.body, "\"NodeList\""), "token: %d %s", rc, ERR);
  eidos_k8s_resp_free(&r);
  eidos_k8s_free(k);

  k = client("badtoken");
  rc = req(k, "GET", "/api/v1/nodes", NULL, &r);
  CHECK(rc == EIDOS_EAUTH && r.status == 401 && strstr(ERR, "HTTP 401") &&
        strstr(ERR, "list nodes"), "badtoken: %d %s", rc, ERR);
  CHECK(r.attempts == 1, "401 is not retried: %d", r.attempts);
  eidos_k8s_resp_free(&r);

  /* exec plugin: a script printing an ExecCredential */
  snprintf(plug, sizeof plug, "%s/plugin.sh", F.dir);
  write_file(plug,
             "#!/bin/sh\n"
             "case \"$KUBERNETES_EXEC_INFO\" in *ExecCredential*) ;; *) echo no info >&2; exit 3;; esac\n"
             "[ \"$1\" = fail ] && { echo 'plugin: login expired' >&2; exit 2; }\n"
             "[ \"$1\" = slow ] && sleep 5\n"
             "printf '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
             "\"status\":{\"token\":\"sekret\",\"expirationTimestamp\":\"2099-01-01T00:00:00Z\"}}'\n");
  {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "chmod +x '%s'", plug);
    if (system(cmd) != 0) exit(1);
  }
  argv[0] = plug; argv[1] = "ok"; argv[2] = NULL;
  rc = run_plugin(argv, env, 5000, &out, ERR, sizeof ERR);
  CHECK(rc == 0 && out && strstr(out, "\"token\":\"sekret\""), "exec: %d %s", rc, ERR);
  free(out);
  out = NULL;
  rc = eidos_k8s_set_credentials(k, "sekret", NULL, NULL, ERR, sizeof ERR);
  CHECK(rc == 0, "set_credentials");
  rc = req(k, "GET", "/api/v1/nodes", NULL, &r);
  CHECK(rc == 0, "exec token: %d %s", rc, ERR);
  eidos_k8s_resp_free(&r);
  eidos_k8s_free(k);

  argv[1] = "fail";
  rc = run_plugin(argv, env, 5000, &out, ERR, sizeof ERR);
  CHECK(rc == EIDOS_EAUTH && strstr(ERR, "status 2") && strstr(ERR, "login expired"),
        "exec fail: %d %s", rc, ERR);
  argv[1] = "slow";
  rc = run_plugin(argv, env, 300, &out, ERR, sizeof ERR);
  CHECK(rc == EIDOS_ETIMEOUT, "exec slow: %d %s", rc, ERR);
  argv[1] = "ok";
  rc = run_plugin(argv, NULL, 5000, &out, ERR, sizeof ERR);
  CHECK(rc == EIDOS_EAUTH && strstr(ERR, "no info"), "exec without info: %d %s", rc, ERR);
  argv[0] = "eidos-no-such-plugin-xyz";
  rc = run_plugin(argv, env, 5000, &out, ERR, sizeof ERR);
  CHECK(rc == EIDOS_EUNAVAIL && strstr(ERR, "not found"), "exec missing: %d %s", rc, ERR);

  /* token file, rotated */
  {
    struct eidos_k8s_conn c;
    char ca[512];
    memset(&c, 0, sizeof c);
    snprintf(tf, sizeof tf, "%s/token", F.dir);
    snprintf(ca, sizeof ca, "%s/ca.crt", F.dir);
    write_file(tf, "rotating-one\n");
    control("tokens", "{\"sekret\":\"alice\",\"rotating-one\":\"sa\"}");
    c.server = F.base; c.tls.ca_file = ca; c.token_file = tf;
    rc = eidos_k8s_new(&c, &k, ERR, sizeof ERR);
    CHECK(rc == 0, "new");
    rc = req(k, "GET", "/api/v1/nodes", NULL, &r);
    CHECK(rc == 0, "token file: %d %s", rc, ERR);
    eidos_k8s_resp_free(&r);
    control("tokens", "{\"sekret\":\"alice\",\"rotating-two-longer\":\"sa\"}");
    write_file(tf, "rotating-two-longer\n");
    rc = req(k, "GET", "/api/v1/nodes", NULL, &r);
    CHECK(rc == 0, "rotated token file: %d %s", rc, ERR);
    eidos_k8s_resp_free(&r);
    unlink(tf);
    rc = req(k, "GET", "/api/v1/nodes", NULL, &r);
    CHECK(rc == EIDOS_EAUTH && strstr(ERR, "token file"), "missing token file: %d %s", rc, ERR);
    eidos_k8s_resp_free(&r);
    eidos_k8s_free(k);
  }

  /* an untrusted CA: the server certificate does not verify */
  {
    struct eidos_k8s_conn c;
    char ca[512];
    memset(&c, 0, sizeof c);
    snprintf(ca, sizeof ca, "%s/other-ca.crt", F.dir);
    c.server = F.base; c.tls.ca_file = ca; c.token = "sekret";
    eidos_k8s_new(&c, &k, ERR, sizeof ERR);
    rc = req(k, "GET", "/version", NULL, &r);
    CHECK(rc == EIDOS_EUNAVAIL && r.attempts == 1, "untrusted CA: %d %d %s", rc, r.attempts, ERR);
    eidos_k8s_resp_free(&r);
    eidos_k8s_free(k);
    c.tls.ca_file = NULL; c.insecure = 1;
    eidos_k8s_new(&c, &k, ERR, sizeof ERR);
    rc = req(k, "GET", "/version", NULL, &r);
    CHECK(rc == 0, "insecure: %d %s", rc, ERR);
    eidos_k8s_resp_free(&r);
    eidos_k8s_free(k);
  }
  /* a client certificate from an untrusted CA is refused */
  {
    struct eidos_k8s_conn c;
    char ca[512], cert[512], key[512];
    memset(&c, 0, sizeof c);
    snprintf(ca, sizeof ca, "%s/ca.crt", F.dir);
    snprintf(cert, sizeof cert, "%s/other-client.crt", F.dir);
    snprintf(key, sizeof key, "%s/other-client.key", F.dir);
    c.server = F.base; c.tls.ca_file = ca; c.tls.cert_file = cert; c.tls.key_file = key;
    eidos_k8s_new(&c, &k, ERR, sizeof ERR);
    rc = req(k, "GET", "/version", NULL, &r);
    CHECK(rc != 0, "untrusted client certificate accepted");
    eidos_k8s_resp_free(&r);
    eidos_k8s_free(k);
  }
  /* CA, certificate and key as PEM in memory */
  {
    struct eidos_k8s_conn c;
    char p1[512], p2[512], p3[512];
    memset(&c, 0, sizeof c);
    snprintf(p1, sizeof p1, "%s/ca.crt", F.dir);
    snprintf(p2, sizeof p2, "%s/client.crt", F.dir);
    snprintf(p3, sizeof p3, "%s/client.key", F.dir);
    c.server = F.base;
    c.tls.ca_pem = slurp(p1, &c.tls.ca_pem_len);
    c.tls.cert_pem = slurp(p2, &c.tls.cert_pem_len);
    c.tls.key_pem = slurp(p3, &c.tls.key_pem_len);
    eidos_k8s_new(&c, &k, ERR, sizeof ERR);
    free((char *)c.tls.ca_pem); free((char *)c.tls.cert_pem); free((char *)c.tls.key_pem);
    rc = req(k, "GET", "/api/v1/nodes/gpu-node-1", NULL, &r);
    CHECK(rc == 0 && strstr(r.body, "gpu-node-1"), "pem blobs: %d %s", rc, ERR);
    eidos_k8s_resp_free(&r);
    eidos_k8s_free(k);
  }
}

static void test_status(void) {
  struct eidos_k8s_resp r;
  eidos_k8s_client *k = client("cert");
  int rc;
  char body[512], rv[64], *p;

  rc = req(k, "GET", "/api/v1/namespaces/default/configmaps/nope", NULL, &r);
  CHECK(rc == EIDOS_ENOTFOUND && r.status == 404 && strcmp(r.reason, "NotFound") == 0 &&
        strstr(ERR, "get configmaps \"nope\" in namespace \"default\"") &&
        strstr(ERR, "HTTP 404 NotFound: configmaps \"nope\" not found"), "404: %d %s", rc, ERR);
  eidos_k8s_resp_free(&r);

  rc = req(k, "POST", "/api/v1/namespaces/default/configmaps",
           "{\"metadata\":{\"name\":\"c1\"},\"data\":{\"a\":\"1\"}}", &r);
  CHECK(rc == 0 && r.status == 201, "create: %d %s", rc, ERR);
  p = r.body ? strstr(r.body, "\"resourceVersion\":\"") : NULL;
  CHECK(p != NULL, "resourceVersion in created object");
  if (p) { p += 19; snprintf(rv, sizeof rv, "%.*s", (int)strcspn(p, "\""), p); }
  eidos_k8s_resp_free(&r);

  rc = req(k, "POST", "/api/v1/namespaces/default/configmaps",
           "{\"metadata\":{\"name\":\"c1\"},\"data\":{\"a\":\"1\"}}", &r);
  CHECK(rc == EIDOS_EFAIL && r.status == 409 && strcmp(r.reason, "AlreadyExists") == 0,
        "already exists: %d %s", rc, ERR);
  eidos_k8s_resp_free(&r);

  snprintf(body, sizeof body,
           "{\"metadata\":{\"name\":\"c1\",\"resourceVersion\":\"%s\"},\"data\":{\"a\":\"2\"}}", rv);
  rc = req(k, "PUT", "/api/v1/namespaces/default/configmaps/c1", body, &r);
  CHECK(rc == 0 && r.status == 200, "update: %d %s", rc, ERR);
  eidos_k8s_resp_free(&r);
  rc = req(k, "PUT", "/api/v1/namespaces/default/configmaps/c1", body, &r);
  CHECK(rc == EIDOS_EFAIL && r.status == 409 && strcmp(r.reason, "Conflict") == 0 &&
        r.attempts == 1 && strstr(ERR, "update configmaps \"c1\""), "stale rv: %d %s", rc, ERR);
  eidos_k8s_resp_free(&r);

  control("fault", "{\"kind\":\"conflict\",\"count\":1}");
  rc = req(k, "PUT", "/api/v1/namespaces/default/configmaps/c1",
           "{\"metadata\":{\"name\":\"c1\"},\"data\":{\"a\":\"3\"}}", &r);
  CHECK(r.status == 409 && strcmp(r.reason, "Conflict") == 0, "injected 409: %d %s", rc, ERR);
  eidos_k8s_resp_free(&r);

  control("deny", "{\"verb\":\"create\",\"resource\":\"jobs\",\"group\":\"batch\",\"namespace\":\"default\"}");
  rc = req(k, "POST", "/apis/batch/v1/namespaces/default/jobs",
           "{\"metadata\":{\"name\":\"j\"},\"spec\":{}}", &r);
  CHECK(rc == EIDOS_EAUTH && r.status == 403 &&
        strstr(ERR, "create resource \"jobs\" in API group \"batch\" in namespace \"default\"") &&
        strstr(ERR, "verbs: [\"create\"]") && strstr(ERR, "eidos-admin"), "403: %d %s", rc, ERR);
  eidos_k8s_resp_free(&r);

  rc = req(k, "DELETE", "/api/v1/namespaces/default/configmaps/c1", NULL, &r);
  CHECK(rc == 0, "delete: %d %s", rc, ERR);
  eidos_k8s_resp_free(&r);

  rc = req(k, "POST", "/api/v1/namespaces/default/configmaps",
           "{\"metadata\":{\"name\":\"Bad_Name\"}}", &r);
  CHECK(rc == EIDOS_EINVAL && r.status == 422, "422: %d %s", rc, ERR);
  eidos_k8s_resp_free(&r);
  control("reset", "{}");
  eidos_k8s_free(k);
}

static void test_retries(void) {
  struct eidos_k8s_resp r;
  eidos_k8s_client *k = client("cert");
  int rc;
  double t0;

  control("fault", "{\"kind\":\"429\",\"count\":1,\"retry_after\":1,\"match\":\"/api/v1/nodes\"}");
  t0 = now_s();
  rc = req(k, "GET", "/api/v1/nodes", NULL, &r);
  CHECK(rc == 0 && r.attempts == 2, "429 then 200: %d %d %s", rc, r.attempts, ERR);
  CHECK(now_s() - t0 >= 0.95, "Retry-After honoured: %.2f s", now_s() - t0);
  eidos_k8s_resp_free(&r);

  control("fault", "{\"kind\":\"500\",\"count\":2}");
  rc = req(k, "GET", "/api/v1/nodes", NULL, &r);
  CHECK(rc == 0 && r.attempts == 3, "two 500 then 200: %d %d %s", rc, r.attempts, ERR);
  eidos_k8s_resp_free(&r);

  control("fault", "{\"kind\":\"500\",\"count\":3}");
  rc = req(k, "GET", "/api/v1/nodes", NULL, &r);
  CHECK(rc == EIDOS_EUNAVAIL && r.attempts == 3 && strstr(ERR, "gave up after 3 attempts") &&
        strstr(ERR, "each: HTTP 500 InternalError") && !strstr(ERR, "2)"),
        "three 500: %d %s", rc, ERR);
  eidos_k8s_resp_free(&r);

  /* attempts that met different answers are each listed */
  control("fault", "{\"kind\":\"500\",\"count\":1}");
  control("fault", "{\"kind\":\"503\",\"count\":2,\"retry_after\":0}");
  rc = req(k, "GET", "/api/v1/nodes", NULL, &r);
  CHECK(rc == EIDOS_EUNAVAIL && r.attempts == 3 && strstr(ERR, "1) HTTP 500") &&
        strstr(ERR, "2) HTTP 503") && strstr(ERR, "3) HTTP 503") && !strstr(ERR, "each:"),
        "500 then two 503: %d %s", rc, ERR);
  eidos_k8s_resp_free(&r);

  control("fault", "{\"kind\":\"429\",\"count\":3,\"retry_after\":0}");
  rc = req(k, "GET", "/api/v1/nodes", NULL, &r);
  CHECK(rc == EIDOS_ERATE && r.attempts == 3, "three 429: %d %s", rc, ERR);
  eidos_k8s_resp_free(&r);

  /* a hang past the timeout (1.5 s), then an answer */
  control("fault", "{\"kind\":\"hang\",\"count\":1,\"seconds\":1.5,\"match\":\"/api/v1/nodes\"}");
  t0 = now_s();
  rc = req(k, "GET", "/api/v1/nodes", NULL, &r);
  CHECK(rc == 0 && r.attempts == 2, "hang then 200: %d %d %s", rc, r.attempts, ERR);
  CHECK(now_s() - t0 >= 0.75, "timed out first: %.2f", now_s() - t0);
  eidos_k8s_resp_free(&r);

  control("fault", "{\"kind\":\"hang\",\"count\":3,\"seconds\":1.5,\"match\":\"/api/v1/nodes\"}");
  rc = req(k, "GET", "/api/v1/nodes", NULL, &r);
  CHECK(rc == EIDOS_ETIMEOUT && r.attempts == 3 && strstr(ERR, "no complete response within 800 ms"),
        "hang x3: %d %s", rc, ERR);
  eidos_k8s_resp_free(&r);

  /* a POST is not retried after a timeout: it may have been applied */
  control("fault", "{\"kind\":\"hang\",\"count\":1,\"seconds\":1.5,\"method\":\"POST\"}");
  rc = req(k, "POST", "/api/v1/namespaces/default/configmaps",
           "{\"metadata\":{\"name\":\"once\"}}", &r);
  CHECK(rc == EIDOS_ETIMEOUT && r.attempts == 1, "POST timeout: %d %d %s", rc, r.attempts, ERR);
  eidos_k8s_resp_free(&r);
  eidos_k8s_free(k);
  sleep(1);   /* let the hanging handler finish */
  control("reset", "{}");
}

static void *worker(void *ud) {
  eidos_k8s_client *k = ud;
  int i, bad = 0;
  char err[1024];
  for (i = 0; i < 25; i++) {
    struct eidos_k8s_req q;
    struct eidos_k8s_resp r;
    memset(&q, 0, sizeof q);
    q.path = "/api/v1/nodes";
    if (eidos_k8s_request(k, &q, &r, err, sizeof err) != 0) bad++;
    eidos_k8s_resp_free(&r);
  }
  eidos_http_thread_cleanup();
  return (void *)(long)bad;
}

static void test_threads(void) {
  pthread_t t[4];
  eidos_k8s_client *k = client("token");
  long bad = 0;
  int i;
  for (i = 0; i < 4; i++) pthread_create(&t[i], NULL, worker, k);
  for (i = 0; i < 4; i++) {
    void *rv;
    pthread_join(t[i], &rv);
    bad += (long)rv;
  }
  CHECK(bad == 0, "threads: %ld failures", bad);
  eidos_k8s_free(k);
}

int main(int argc, char **argv) {
  const char *extra[] = {"--token", "sekret=alice", "--pods", "10", NULL};
  if (argc < 2) { fprintf(stderr, "usage: test_k8s REPO_ROOT\n"); return 2; }
  test_describe();
  if (!fake_available()) {
    printf("test_k8s: python3 or openssl missing, server tests skipped\n");
    return fails ? 1 : 0;
  }
  if (fake_start(&F, argv[1], 0, extra) != 0) return 1;
  test_auth();
  test_status();
  test_retries();
  test_threads();
  fake_stop(&F);
  fake_cleanup_tmp();
  eidos_http_thread_cleanup();
  printf("test_k8s: %s (%d failures)\n", fails ? "FAILED" : "ok", fails);
  return fails ? 1 : 0;
}
