/*
 * test_collect.c -- C tests of the value tree and the snapshot collectors
 * (src/core/value.c, collect*.c) on fixture sysroots of our own
 * (spec/fixtures/sysroot/), a fake nvidia-smi (spec/fixtures/bin/) and a
 * fake NVML library (spec/fixtures/fakenvml.c, built by the test build).
 *
 *   test_collect REPO_ROOT [FAKE_NVML_LIB]
 *
 * The fake NVML library is looked for at argv[2], $EIDOS_FAKENVML_LIB, then
 * next to this executable (libfakenvml.so); those checks are skipped with
 * a message when it is missing. The real 8xH100 nvidia-smi dump is read
 * from REPO_ROOT/../shared/fixtures/ and skipped with a message when absent.
 * Exit status: 0 all passed, 1 a check failed.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <dirent.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "../../../src/core/eidos.h"
#include "../../../src/core/value.h"
#include "../../../src/core/collect.h"
#include "../../../src/core/sys.h"

static int failures, checks;
static const char *root;
static char fakenvml[PATH_MAX];
static char binpath[PATH_MAX];

#define CHECK(cond, ...)                                                   \
  do {                                                                     \
    checks++;                                                              \
    if (!(cond)) {                                                         \
      failures++;                                                          \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                 \
      fprintf(stderr, __VA_ARGS__);                                        \
      fputc('\n', stderr);                                                 \
    }                                                                      \
  } while (0)

static void skip(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "SKIP ");
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

static char *rpath(const char *rel) {
  static char buf[8][PATH_MAX];
  static int k;
  char *b = buf[k++ % 8];
  snprintf(b, PATH_MAX, "%s/%s", root, rel);
  return b;
}

/* ---- tree access ---- */

static struct eidos_value *subtype(struct eidos_value *m, const char *name) {
  struct eidos_value *l = eidos_value_map_get(m, "subtypes");
  size_t i;
  for (i = 0; i < eidos_value_len(l); i++) {
    struct eidos_value *s = eidos_value_list_get(l, i);
    const char *n = eidos_value_string(eidos_value_map_get(s, "subtype"), NULL);
    if (n && !strcmp(n, name)) return s;
  }
  return NULL;
}

static struct eidos_value *data(struct eidos_value *m, const char *st) {
  return eidos_value_map_get(subtype(m, st), "data");
}

static struct eidos_value *ctx(struct eidos_value *m, const char *st) {
  return eidos_value_map_get(subtype(m, st), "context");
}

static const char *str(struct eidos_value *map, const char *key) {
  return eidos_value_string(eidos_value_map_get(map, key), NULL);
}

static int streq(const char *a, const char *b) { return a && b && !strcmp(a, b); }

static long long num(struct eidos_value *map, const char *key) {
  struct eidos_value *v = eidos_value_map_get(map, key);
  return eidos_value_type(v) == EIDOS_VINT ? eidos_value_int(v) : -999999;
}

/* A canonical dump of a tree (for determinism checks). */
static void dump(const struct eidos_value *v, FILE *f) {
  size_t i, n;
  const char *s;
  switch (eidos_value_type(v)) {
    case EIDOS_VNULL: fputs("null", f); break;
    case EIDOS_VBOOL: fputs(eidos_value_bool(v) ? "true" : "false", f); break;
    case EIDOS_VINT: fprintf(f, "%lld", (long long)eidos_value_int(v)); break;
    case EIDOS_VUINT: fprintf(f, "%llu", (unsigned long long)eidos_value_uint(v)); break;
    case EIDOS_VFLOAT: fprintf(f, "%.17g", eidos_value_float(v)); break;
    case EIDOS_VSTRING:
      s = eidos_value_string(v, &n);
      fputc('"', f);
      fwrite(s, 1, n, f);
      fputc('"', f);
      break;
    case EIDOS_VLIST:
      fputc('[', f);
      for (i = 0; i < eidos_value_len(v); i++) {
        if (i) fputc(',', f);
        dump(eidos_value_list_get(v, i), f);
      }
      fputc(']', f);
      break;
    case EIDOS_VMAP:
      fputc('{', f);
      for (i = 0; i < eidos_value_len(v); i++) {
        const char *k;
        size_t kl;
        const struct eidos_value *c = eidos_value_map_at(v, i, &k, &kl);
        if (i) fputc(',', f);
        fputc('"', f);
        fwrite(k, 1, kl, f);
        fputs("\":", f);
        dump(c, f);
      }
      fputc('}', f);
      break;
  }
}

static char *dump_str(const struct eidos_value *v) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  dump(v, f);
  fclose(f);
  return buf;
}

/* Live (not zombie) child processes of this process. */
static int live_children(void) {
  int n = 0;
  FILE *f;
  char path[64], buf[512];
  struct dirent *de;
  DIR *d = opendir("/proc");
  if (!d) return -1;
  while ((de = readdir(d))) {
    long pid = strtol(de->d_name, NULL, 10), ppid;
    char state, *p;
    if (pid <= 0) continue;
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    if (!(f = fopen(path, "r"))) continue;
    if (fgets(buf, sizeof buf, f) && (p = strrchr(buf, ')')) &&
        sscanf(p + 1, " %c %ld", &state, &ppid) == 2 && ppid == (long)getpid() && state != 'Z')
      n++;
    fclose(f);
  }
  closedir(d);
  return n;
}

/* ---- temp sysroots ---- */

static int rm_cb(const char *p, const struct stat *s, int t, struct FTW *w) {
  (void)s; (void)t; (void)w;
  return remove(p);
}

static void rmtree(const char *p) { nftw(p, rm_cb, 16, FTW_DEPTH | FTW_PHYS); }

static void put(const char *dir, const char *rel, const char *content) {
  char p[PATH_MAX], *s;
  FILE *f;
  snprintf(p, sizeof p, "%s/%s", dir, rel);
  for (s = p + strlen(dir) + 1; (s = strchr(s, '/')); s++) {
    *s = '\0';
    mkdir(p, 0755);
    *s = '/';
  }
  f = fopen(p, "w");
  if (!f) {
    fprintf(stderr, "cannot write %s: %s\n", p, strerror(errno));
    exit(2);
  }
  fputs(content, f);
  fclose(f);
}

static struct eidos_collect_ctx mkctx(const char *sysroot) {
  struct eidos_collect_ctx c;
  memset(&c, 0, sizeof c);
  c.sysroot = sysroot;
  c.nvml_lib = "";
  c.path = binpath;
  c.deadline_ms = eidos_sys_now_ms() + 10000;
  return c;
}

/* ================================================================ tests */

static void test_value(void) {
  struct eidos_value *m = eidos_value_new_map(), *l, *c;
  char key[32];
  int i, ok = 1;
  char *a, *b;

  CHECK(eidos_value_map_set_str(m, "b", "1") == 0, "set b");
  CHECK(eidos_value_map_set_int(m, "a", 2) == 0, "set a");
  CHECK(eidos_value_map_set_str(m, "b", "3") == 0, "replace b");
  CHECK(eidos_value_len(m) == 2, "two keys");
  {
    const char *k;
    eidos_value_map_at(m, 0, &k, NULL);
    CHECK(streq(k, "b"), "replaced key keeps its position, got %s", k);
  }
  CHECK(streq(str(m, "b"), "3"), "replaced value");
  for (i = 0; i < 2000; i++) {
    snprintf(key, sizeof key, "k%d", i);
    if (eidos_value_map_set_int(m, key, i)) ok = 0;
  }
  CHECK(ok && eidos_value_len(m) == 2002, "2000 more keys");
  for (i = 0; i < 2000; i += 7) {
    snprintf(key, sizeof key, "k%d", i);
    if (num(m, key) != i) ok = 0;
  }
  CHECK(ok, "hash lookups");
  CHECK(eidos_value_map_del(m, "k5") == 1 && !eidos_value_map_get(m, "k5") &&
        num(m, "k6") == 6 && eidos_value_len(m) == 2001, "delete");
  CHECK(eidos_value_map_lset(m, "nul\0key", 7, eidos_value_new_bool(1)) == 0 &&
        eidos_value_bool(eidos_value_map_lget(m, "nul\0key", 7)), "binary key");
  l = eidos_value_map_set_list(m, "list");
  CHECK(l && eidos_value_list_push(l, eidos_value_new_uint(UINT64_MAX)) == 0 &&
        eidos_value_list_push(l, eidos_value_new_uint(5)) == 0, "list push");
  CHECK(eidos_value_type(eidos_value_list_get(l, 0)) == EIDOS_VUINT &&
        eidos_value_uint(eidos_value_list_get(l, 0)) == UINT64_MAX, "uint64 max");
  CHECK(eidos_value_type(eidos_value_list_get(l, 1)) == EIDOS_VINT, "small uint is int");
  CHECK(eidos_value_list_push(l, NULL) == EIDOS_EINTERNAL, "push NULL");
  CHECK(eidos_value_map_set(m, "x", NULL) == EIDOS_EINTERNAL, "set NULL");
  c = eidos_value_copy(m);
  a = dump_str(m);
  b = dump_str(c);
  CHECK(c && streq(a, b), "deep copy equal");
  free(a);
  free(b);
  eidos_value_free(c);
  eidos_value_free(m);
}

static void test_os_basic(void) {
  struct eidos_collect_ctx c = mkctx(rpath("spec/fixtures/sysroot/basic"));
  struct eidos_value *m = NULL, *g, *s, *k, *r, *l;
  char err[256];
  const char *names[4] = {0};
  size_t i;
  int rc = eidos_collect_os(&c, &m, err, sizeof err);
  CHECK(rc == 0 && m, "OS collector: %s", err);
  if (!m) return;
  CHECK(streq(str(m, "type"), "OS"), "type OS");
  l = eidos_value_map_get(m, "subtypes");
  for (i = 0; i < 4 && i < eidos_value_len(l); i++)
    names[i] = str(eidos_value_list_get(l, i), "subtype");
  CHECK(eidos_value_len(l) == 4 && streq(names[0], "grub") &&
        streq(names[1], "sysctl") && streq(names[2], "kmod") &&
        streq(names[3], "release"), "OS subtype order");

  g = data(m, "grub");
  CHECK(streq(str(g, "BOOT_IMAGE"), "/boot/vmlinuz-6.8.0-1024-aws"), "grub BOOT_IMAGE");
  CHECK(streq(str(g, "ro"), "") && streq(str(g, "nokaslr"), ""), "grub flags are \"\"");
  CHECK(streq(str(g, "hugepagesz"), "2M") && streq(str(g, "panic"), "-1"), "grub values");
  CHECK(streq(str(g, "dyndbg"), "file drivers/x.c +p"), "grub quoted value: %s", str(g, "dyndbg"));
  CHECK(streq(str(g, "console"), "tty1"), "grub duplicate: last wins");
  CHECK(streq(str(g, "root"), "PARTUUID=1234-abcd"), "grub root kept by C (policy drops it)");
  CHECK(streq(str(g, "api_token"), "s3cr3t"), "grub secret kept by C (policy redacts it)");

  s = data(m, "sysctl");
  CHECK(streq(str(s, "/proc/sys/kernel/osrelease"), "6.8.0-1024-aws"), "sysctl osrelease");
  CHECK(streq(str(s, "/proc/sys/kernel/version"),
              "#1 SMP PREEMPT_DYNAMIC Fri Apr 11 18:03:28 UTC 2025"),
        "sysctl value starting with # kept whole: %s", str(s, "/proc/sys/kernel/version"));
  CHECK(streq(str(s, "/proc/sys/fs/file-nr"), "5376\t0\t9223372036854775807"),
        "sysctl inner tabs kept");
  CHECK(streq(str(s, "/proc/sys/sunrpc/transports/tcp"), "1048576") &&
        streq(str(s, "/proc/sys/sunrpc/transports/udp"), "32768") &&
        !eidos_value_map_get(s, "/proc/sys/sunrpc/transports"),
        "sysctl multi-line key/value file exploded");
  CHECK(!eidos_value_map_get(s, "/proc/sys/net/core/somaxconn"), "sysctl skips net");
  CHECK(!eidos_value_map_get(s, "/proc/sys/dev/cdrom/info"), "sysctl skips dev/cdrom");
  CHECK(eidos_value_len(s) == 8, "sysctl key count %zu", eidos_value_len(s));

  k = data(m, "kmod");
  CHECK(eidos_value_len(k) == 4 && eidos_value_bool(eidos_value_map_get(k, "nvidia")) &&
        eidos_value_bool(eidos_value_map_get(k, "br_netfilter")), "kmod");

  r = data(m, "release");
  CHECK(streq(str(r, "ID"), "ubuntu") && streq(str(r, "VERSION_ID"), "24.04"), "release ID");
  CHECK(streq(str(r, "PRETTY_NAME"), "Ubuntu 24.04.3 LTS"), "release quotes removed");
  CHECK(streq(str(r, "HOME_URL"), "https://www.ubuntu.com/"), "release single quotes");
  CHECK(streq(str(r, "QUOTED"), "say \"hi\" $HOME"), "release escapes: %s", str(r, "QUOTED"));
  CHECK(!eidos_value_map_get(r, "EMPTY") && !eidos_value_map_get(r, "BROKEN LINE"),
        "release drops empty and malformed");
  CHECK(eidos_value_len(ctx(m, "release")) == 0, "no error context");
  eidos_value_free(m);
}

static void test_os_edge(void) {
  char tmpl[] = "/tmp/eidos-collect-XXXXXX", *dir = mkdtemp(tmpl), p[PATH_MAX];
  struct eidos_collect_ctx c;
  struct eidos_value *m = NULL, *s;
  char err[256];
  const char *e;
  if (!dir) {
    CHECK(0, "mkdtemp");
    return;
  }
  c = mkctx(dir);
  /* empty sysroot: every subtype present with its reason */
  CHECK(eidos_collect_os(&c, &m, err, sizeof err) == 0 && m, "OS on empty root");
  e = str(ctx(m, "grub"), "error");
  CHECK(e && strstr(e, "/proc/cmdline"), "grub error names the file: %s", e ? e : "-");
  CHECK(str(ctx(m, "sysctl"), "error") && str(ctx(m, "kmod"), "error") &&
        str(ctx(m, "release"), "error"), "errors recorded in context");
  CHECK(eidos_value_len(data(m, "grub")) == 0, "empty data");
  eidos_value_free(m);
  m = NULL;

  /* os-release fallback, unreadable and odd sysctl files */
  put(dir, "usr/lib/os-release", "ID=rhel\nVERSION_ID=\"9.4\"\n");
  put(dir, "proc/sys/vm/compact_memory", "1\n");
  snprintf(p, sizeof p, "%s/proc/sys/vm/compact_memory", dir);
  chmod(p, 0200);
  put(dir, "proc/sys/vm/swappiness", "60\n");
  put(dir, "proc/sys/kernel/empty", "");
  put(dir, "proc/sys/kernel/binary", "\xff\xfe\n");
  put(dir, "proc/sys/kernel/multi", "a b\nlonely\n");
  snprintf(p, sizeof p, "%s/proc/sys/vm/link", dir);
  CHECK(symlink("swappiness", p) == 0, "symlink");
  put(dir, "proc/cmdline", "  a=1   b=\"x y\"=z   c \n");
  CHECK(eidos_collect_os(&c, &m, err, sizeof err) == 0 && m, "OS on edge root");
  CHECK(streq(str(data(m, "release"), "ID"), "rhel") &&
        streq(str(data(m, "release"), "VERSION_ID"), "9.4"), "os-release fallback");
  s = data(m, "sysctl");
  CHECK(streq(str(s, "/proc/sys/vm/swappiness"), "60"), "sysctl swappiness");
  CHECK(!eidos_value_map_get(s, "/proc/sys/vm/compact_memory"), "write-only skipped");
  CHECK(!eidos_value_map_get(s, "/proc/sys/vm/link"), "symlink skipped");
  CHECK(streq(str(s, "/proc/sys/kernel/empty"), ""), "empty file is \"\"");
  CHECK(!eidos_value_map_get(s, "/proc/sys/kernel/binary"), "non-UTF-8 skipped");
  CHECK(streq(str(s, "/proc/sys/kernel/multi"), "a b\nlonely"), "mixed multi-line kept whole");
  /* the kernel removes only the quote opening the value and one closing
   * the parameter: here the value keeps its inner quote */
  CHECK(streq(str(data(m, "grub"), "a"), "1") && streq(str(data(m, "grub"), "b"), "x y\"=z") &&
        streq(str(data(m, "grub"), "c"), ""), "cmdline spacing and quotes: b=%s",
        str(data(m, "grub"), "b"));
  eidos_value_free(m);
  rmtree(dir);
}

static void test_topology(void) {
  struct eidos_collect_ctx c = mkctx(rpath("spec/fixtures/sysroot/basic"));
  struct eidos_value *m = NULL, *n, *g;
  char err[256], tmpl[] = "/tmp/eidos-topo-XXXXXX", *dir, p[PATH_MAX];
  CHECK(eidos_collect_topology(&c, &m, err, sizeof err) == 0 && m, "topology: %s", err);
  if (!m) return;
  CHECK(streq(str(m, "type"), "NodeTopology"), "type");
  n = data(m, "numa");
  CHECK(num(n, "node-count") == 3, "3 NUMA nodes, got %lld", num(n, "node-count"));
  CHECK(streq(str(n, "node0.cpulist"), "0-3,8-11") && num(n, "node0.cpu-count") == 8,
        "node0 cpus");
  CHECK(num(n, "node1.memory-kib") == 16777216, "node1 memory");
  CHECK(num(n, "node10.cpu-count") == 0 && num(n, "node10.memory-kib") == 1048576,
        "node10 (memory only)");
  g = data(m, "gpu");
  CHECK(num(g, "gpu-count") == 2, "2 NVIDIA GPUs on PCI, got %lld", num(g, "gpu-count"));
  CHECK(num(g, "0000:04:00.0.numa-node") == 0 && num(g, "0000:05:00.0.numa-node") == 1,
        "GPU NUMA nodes");
  CHECK(streq(str(g, "0000:04:00.0.local-cpulist"), "0-3,8-11"), "local cpulist");
  CHECK(streq(str(g, "0000:05:00.0.device-id"), "0x2330") &&
        streq(str(g, "0000:05:00.0.class"), "0x030200"), "device id and class");
  CHECK(streq(str(g, "0000:04:00.0.pci-path"), "0000:04:00.0"), "pci path of a plain dir");
  CHECK(!eidos_value_map_get(g, "0000:06:00.0.numa-node") &&
        !eidos_value_map_get(g, "0000:07:00.0.numa-node"), "NVSwitch and NIC excluded");
  eidos_value_free(m);
  m = NULL;

  /* a real-looking /sys with symlinks, built at run time */
  dir = mkdtemp(tmpl);
  if (!dir) return;
  put(dir, "sys/devices/pci0000:00/0000:00:01.0/0000:3b:00.0/vendor", "0x10de\n");
  put(dir, "sys/devices/pci0000:00/0000:00:01.0/0000:3b:00.0/class", "0x030000\n");
  put(dir, "sys/devices/pci0000:00/0000:00:01.0/0000:3b:00.0/numa_node", "-1\n");
  snprintf(p, sizeof p, "%s/sys/bus/pci/devices", dir);
  put(dir, "sys/bus/pci/devices/.keep", "");
  snprintf(p, sizeof p, "%s/sys/bus/pci/devices/0000:3b:00.0", dir);
  CHECK(symlink("../../../devices/pci0000:00/0000:00:01.0/0000:3b:00.0", p) == 0, "link");
  c = mkctx(dir);
  CHECK(eidos_collect_topology(&c, &m, err, sizeof err) == 0 && m, "topology 2");
  g = data(m, "gpu");
  CHECK(num(g, "gpu-count") == 1 && num(g, "0000:3b:00.0.numa-node") == -1, "linked GPU");
  CHECK(streq(str(g, "0000:3b:00.0.pci-path"), "pci0000:00/0000:00:01.0/0000:3b:00.0"),
        "pci path from the link: %s", str(g, "0000:3b:00.0.pci-path"));
  CHECK(num(data(m, "numa"), "node-count") == 0, "no NUMA dir: 0 nodes");
  eidos_value_free(m);
  rmtree(dir);
}

static int parse(const char *xml, struct eidos_value **d, struct eidos_value **g,
                 char *err, size_t errlen) {
  *d = eidos_value_new_map();
  *g = eidos_value_new_list();
  return eidos_collect_parse_smi_xml(xml, strlen(xml), *d, *g, err, errlen);
}

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *buf;
  long n;
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = malloc((size_t)n + 1);
  if (fread(buf, 1, (size_t)n, f) != (size_t)n) n = 0;
  buf[n] = '\0';
  fclose(f);
  *len = (size_t)n;
  return buf;
}

static void test_smi_xml(void) {
  static const struct { const char *xml, *want; } bad[] = {
    {"<nvidia_smi_log><driver_version>1</cuda_version></nvidia_smi_log>", "does not close"},
    {"<nvidia_smi_log><driver_version>1 &bogus; 2</driver_version></nvidia_smi_log>", "entity"},
    {"<nvidia_smi_log><driver_version>&#xD800;</driver_version></nvidia_smi_log>", "entity"},
    {"<other><driver_version>1</driver_version></other>", "unexpected root"},
    {"junk<nvidia_smi_log/>", "outside"},
    {"<nvidia_smi_log><driver_version>1</driver_version>", "ends inside"},
    {"<nvidia_smi_log a=1/>", "unquoted"},
    {"<nvidia_smi_log><!-- x </nvidia_smi_log>", "comment"},
    {"<nvidia_smi_log></nvidia_smi_log><x/>", "second root"},
    {"<nvidia_smi_log><gpu></gpu></nvidia_smi_log>", "driver_version"},
    {"", "no root"},
    {"<nvidia_smi_log><driver_version>1</driver_version></nvidia_smi_log></x>", "without"},
  };
  struct eidos_value *d, *g, *g0, *g1;
  char err[256], *xml;
  size_t i, len;
  int rc;

  for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    err[0] = '\0';
    rc = parse(bad[i].xml, &d, &g, err, sizeof err);
    CHECK(rc == EIDOS_EINVAL && strstr(err, bad[i].want),
          "bad XML #%zu: rc %d, message \"%s\", want \"%s\"", i, rc, err, bad[i].want);
    eidos_value_free(d);
    eidos_value_free(g);
  }

  xml = slurp(rpath("spec/fixtures/nvidia-smi/2gpu.xml"), &len);
  CHECK(xml != NULL, "2gpu.xml fixture");
  if (!xml) return;
  d = eidos_value_new_map();
  g = eidos_value_new_list();
  rc = eidos_collect_parse_smi_xml(xml, len, d, g, err, sizeof err);
  CHECK(rc == 0, "2gpu.xml parses: %s", err);
  CHECK(streq(str(d, "driver"), "580.82.07") && streq(str(d, "driver-version"), "580.82.07") &&
        streq(str(d, "cuda-version"), "13.0") && num(d, "gpu-count") == 2, "2gpu header");
  g0 = eidos_value_list_get(g, 0);
  g1 = eidos_value_list_get(g, 1);
  CHECK(eidos_value_len(g) == 2, "two GPU maps");
  CHECK(streq(str(g0, "model"), "NVIDIA A100-SXM4-80GB") && num(g0, "index") == 0 &&
        streq(str(g0, "mig-mode"), "Enabled") && streq(str(g0, "persistence-mode"), "Enabled") &&
        num(g0, "memory-total-mib") == 81920 && streq(str(g0, "pci-bus-id"), "00000000:04:00.0") &&
        streq(str(g0, "uuid"), "GPU-11111111-2222-3333-4444-555555555555") &&
        streq(str(g0, "vbios-version"), "92.00.45.00.06") &&
        streq(str(g0, "product-architecture"), "Ampere"), "GPU 0 facts");
  CHECK(streq(str(g1, "model"), "NVIDIA H100 80GB HBM3 & \xe2\x80\x94 <test>"),
        "entities decoded: %s", str(g1, "model"));
  CHECK(streq(str(g1, "product-architecture"), "Hopper"), "CDATA");
  CHECK(streq(str(g1, "memory-total-mib"), "N/A") && streq(str(g1, "mig-mode"), "N/A"),
        "N/A kept as text");
  eidos_value_free(d);
  eidos_value_free(g);
  free(xml);
}

/* GPU collector through the fake nvidia-smi on PATH, NVML disabled. */
static struct eidos_value *gpu_smi(const char *mode, const char *xmlfile, int *rc,
                                   char *err, size_t errlen) {
  struct eidos_collect_ctx c = mkctx("");
  struct eidos_value *m = NULL;
  if (mode) setenv("EIDOS_FIXTURE_SMI_MODE", mode, 1);
  else unsetenv("EIDOS_FIXTURE_SMI_MODE");
  if (xmlfile) setenv("EIDOS_FIXTURE_SMI_XML", xmlfile, 1);
  else unsetenv("EIDOS_FIXTURE_SMI_XML");
  *rc = eidos_collect_gpu(&c, &m, err, errlen);
  unsetenv("EIDOS_FIXTURE_SMI_MODE");
  unsetenv("EIDOS_FIXTURE_SMI_XML");
  return m;
}

static void test_gpu_smi(void) {
  struct eidos_value *m, *s, *cx;
  char err[512], h100[PATH_MAX];
  const char *r;
  int rc, i;

  m = gpu_smi(NULL, NULL, &rc, err, sizeof err);
  CHECK(rc == 0 && m, "GPU via fake nvidia-smi: %s", err);
  s = data(m, "smi");
  CHECK(num(s, "gpu-count") == 2 && streq(str(s, "driver"), "580.82.07") &&
        streq(str(s, "gpu.model"), "NVIDIA A100-SXM4-80GB") &&
        streq(str(s, "gpu.product-architecture"), "Ampere") &&
        streq(str(s, "gpu.persistence-mode"), "Enabled"), "smi subtype (upstream keys)");
  CHECK(streq(str(ctx(m, "smi"), "source"), "nvidia-smi"), "source nvidia-smi");
  CHECK(streq(str(data(m, "gpu-1"), "uuid"), "GPU-66666666-7777-8888-9999-000000000000"),
        "per-GPU subtype gpu-1");
  CHECK(!subtype(m, "gpu-2"), "no gpu-2");
  eidos_value_free(m);

  snprintf(h100, sizeof h100, "%s/../shared/fixtures/nvidia-smi/h100x8-q-x.xml", root);
  if (access(h100, R_OK) != 0) {
    skip("real 8xH100 nvidia-smi XML not found at %s", h100);
  } else {
    m = gpu_smi(NULL, h100, &rc, err, sizeof err);
    CHECK(rc == 0 && m, "GPU via real H100 XML: %s", err);
    s = data(m, "smi");
    CHECK(num(s, "gpu-count") == 8, "8 GPUs, got %lld", num(s, "gpu-count"));
    CHECK(streq(str(s, "driver"), "570.86.15"), "driver 570.86.15, got %s", str(s, "driver"));
    CHECK(streq(str(s, "cuda-version"), "12.8"), "CUDA 12.8");
    CHECK(streq(str(s, "gpu.model"), "NVIDIA H100 80GB HBM3") &&
          streq(str(s, "gpu.product-architecture"), "Hopper") &&
          streq(str(s, "gpu.vbios-version"), "96.00.A5.00.01") &&
          streq(str(s, "gpu.gsp-firmware-version"), "570.86.15") &&
          streq(str(s, "gpu.display-mode"), "Enabled") &&
          streq(str(s, "gpu.addressing-mode"), "None"), "upstream gpu.* keys");
    for (i = 0; i < 8; i++) {
      char name[16];
      struct eidos_value *g;
      snprintf(name, sizeof name, "gpu-%d", i);
      g = data(m, name);
      CHECK(g && num(g, "index") == i && num(g, "memory-total-mib") == 81559 &&
            streq(str(g, "mig-mode"), "Disabled") &&
            str(g, "uuid") && !strncmp(str(g, "uuid"), "GPU-", 4) && str(g, "pci-bus-id"),
            "H100 GPU %d facts", i);
    }
    CHECK(!streq(str(data(m, "gpu-0"), "uuid"), str(data(m, "gpu-7"), "uuid")),
          "distinct UUIDs");
    CHECK(streq(str(data(m, "gpu-7"), "pci-bus-id"), "00000000:0D:00.0") ||
          str(data(m, "gpu-7"), "pci-bus-id"), "last GPU bus id");
    eidos_value_free(m);
  }

  m = gpu_smi("fail", NULL, &rc, err, sizeof err);
  cx = ctx(m, "smi");
  r = str(cx, "reason");
  CHECK(rc == 0 && num(data(m, "smi"), "gpu-count") == 0 && streq(str(cx, "source"), "none") &&
        r && strstr(r, "status 6") && strstr(r, "No devices were found"),
        "failing nvidia-smi gives gpu-count 0 with the reason: %s", r ? r : "-");
  CHECK(eidos_value_len(data(m, "smi")) == 1 && !subtype(m, "gpu-0"), "only gpu-count");
  eidos_value_free(m);

  m = gpu_smi("junk", NULL, &rc, err, sizeof err);
  r = str(ctx(m, "smi"), "reason");
  CHECK(rc == 0 && num(data(m, "smi"), "gpu-count") == 0 && r && strstr(r, "XML"),
        "unparseable output: %s", r ? r : "-");
  eidos_value_free(m);

  {
    struct eidos_collect_ctx c = mkctx("");
    c.path = "/nonexistent-dir";
    c.nvml_lib = "/nonexistent/libnvidia-ml.so.1";
    m = NULL;
    rc = eidos_collect_gpu(&c, &m, err, sizeof err);
    r = str(ctx(m, "smi"), "reason");
    CHECK(rc == 0 && num(data(m, "smi"), "gpu-count") == 0 && r &&
          strstr(r, "libnvidia-ml") && strstr(r, "not found on PATH"),
          "no driver at all: gpu-count 0 with reason: %s", r ? r : "-");
    eidos_value_free(m);
  }

  {
    struct eidos_collect_ctx c = mkctx("");
    long long t0 = eidos_sys_now_ms();
    c.deadline_ms = t0 + 300;
    setenv("EIDOS_FIXTURE_SMI_MODE", "hang", 1);
    m = NULL;
    rc = eidos_collect_gpu(&c, &m, err, sizeof err);
    unsetenv("EIDOS_FIXTURE_SMI_MODE");
    CHECK(rc == EIDOS_ETIMEOUT && !m && strstr(err, "killed"),
          "hanging nvidia-smi is killed at the deadline: rc %d %s", rc, err);
    CHECK(eidos_sys_now_ms() - t0 < 2000, "killed promptly (%lld ms)",
          eidos_sys_now_ms() - t0);
  }
}

static void test_gpu_nvml(void) {
  struct eidos_collect_ctx c = mkctx("");
  struct eidos_value *m = NULL, *s, *g0, *g1;
  char err[512];
  int rc;
  if (!*fakenvml) {
    skip("fake NVML library not built (pass it as argv[2] or $EIDOS_FAKENVML_LIB)");
    return;
  }
  c.nvml_lib = fakenvml;
  unsetenv("FAKENVML_MODE");
  rc = eidos_collect_gpu(&c, &m, err, sizeof err);
  CHECK(rc == 0 && m, "GPU via fake NVML: %s", err);
  s = data(m, "smi");
  CHECK(streq(str(ctx(m, "smi"), "source"), "nvml"), "source nvml: %s",
        str(ctx(m, "smi"), "source") ? str(ctx(m, "smi"), "source") : "-");
  CHECK(num(s, "gpu-count") == 2 && streq(str(s, "driver"), "575.51.03") &&
        streq(str(s, "driver-version"), "575.51.03") && streq(str(s, "cuda-version"), "12.9"),
        "NVML system facts");
  CHECK(streq(str(s, "gpu.model"), "NVIDIA H100 80GB HBM3") &&
        streq(str(s, "gpu.product-architecture"), "Hopper"), "NVML gpu.* keys");
  g0 = data(m, "gpu-0");
  g1 = data(m, "gpu-1");
  CHECK(num(g0, "memory-total-mib") == 81559 && streq(str(g0, "mig-mode"), "N/A") &&
        streq(str(g0, "persistence-mode"), "Enabled") &&
        streq(str(g0, "pci-bus-id"), "00000000:04:00.0") &&
        streq(str(g0, "pci-device-id"), "233010DE") &&
        streq(str(g0, "vbios-version"), "96.00.A5.00.01"), "NVML GPU 0");
  CHECK(streq(str(g1, "model"), "NVIDIA GB200") && streq(str(g1, "mig-mode"), "Enabled") &&
        streq(str(g1, "product-architecture"), "Blackwell") &&
        streq(str(g1, "uuid"), "GPU-bbbbbbbb-0000-0000-0000-000000000002") &&
        streq(str(g1, "persistence-mode"), "Disabled"), "NVML GPU 1");
  eidos_value_free(m);

  setenv("FAKENVML_MODE", "zero", 1);
  m = NULL;
  rc = eidos_collect_gpu(&c, &m, err, sizeof err);
  CHECK(rc == 0 && num(data(m, "smi"), "gpu-count") == 0 &&
        streq(str(ctx(m, "smi"), "source"), "nvml"), "NVML with no GPUs");
  eidos_value_free(m);

  setenv("FAKENVML_MODE", "nodriver", 1);
  m = NULL;
  rc = eidos_collect_gpu(&c, &m, err, sizeof err);
  CHECK(rc == 0 && streq(str(ctx(m, "smi"), "source"), "nvidia-smi") &&
        num(data(m, "smi"), "gpu-count") == 2, "NVML without driver falls back to nvidia-smi");
  eidos_value_free(m);
  m = NULL;
  c.path = "/nonexistent-dir";
  rc = eidos_collect_gpu(&c, &m, err, sizeof err);
  CHECK(rc == 0 && num(data(m, "smi"), "gpu-count") == 0 &&
        strstr(str(ctx(m, "smi"), "reason"), "Driver Not Loaded"),
        "reason carries NVML's error: %s", str(ctx(m, "smi"), "reason"));
  eidos_value_free(m);
  unsetenv("FAKENVML_MODE");
}


/* ---- a fake systemd on a private socket, over sd-bus (dlopen'd) ---- */
#if defined(__has_include)
#if __has_include(<systemd/sd-bus.h>)
#define HAVE_SDBUS_H 1
#endif
#endif

#ifdef HAVE_SDBUS_H
#include <dlfcn.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <systemd/sd-bus.h>

static struct {
  void *h;
  __typeof__(sd_bus_new) *bus_new;
  __typeof__(sd_bus_set_fd) *set_fd;
  __typeof__(sd_bus_set_server) *set_server;
  __typeof__(sd_bus_start) *start;
  __typeof__(sd_bus_process) *process;
  __typeof__(sd_bus_wait) *wait;
  __typeof__(sd_bus_add_object_vtable) *add_vtable;
  __typeof__(sd_bus_message_append) *append;
  __typeof__(sd_bus_message_append_array) *append_array;
  __typeof__(sd_bus_flush_close_unref) *close_unref;
  const void *vtable_format;
} fb;

static int fb_get(sd_bus *bus, const char *path, const char *iface, const char *prop,
                  sd_bus_message *reply, void *ud, sd_bus_error *e) {
  static const uint8_t inv[4] = {93, 102, 166, 7};
  const char *unit = ud;
  (void)bus; (void)path; (void)iface; (void)e;
  if (!strcmp(prop, "Id")) return fb.append(reply, "s", unit);
  if (!strcmp(prop, "ActiveState")) return fb.append(reply, "s", "active");
  if (!strcmp(prop, "LimitNOFILE")) return fb.append(reply, "t", UINT64_MAX);
  if (!strcmp(prop, "ActiveEnterTimestamp")) return fb.append(reply, "t", (uint64_t)1770117111235679ULL);
  if (!strcmp(prop, "ExecMainPID")) return fb.append(reply, "u", 38444u);
  if (!strcmp(prop, "CPUSchedulingPolicy")) return fb.append(reply, "i", -3);
  if (!strcmp(prop, "CPUAccounting")) return fb.append(reply, "b", 1);
  if (!strcmp(prop, "CPUQuotaRatio")) return fb.append(reply, "d", 0.5);
  if (!strcmp(prop, "Environment"))
    return fb.append(reply, "as", 2, "KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml",
                     "AWS_SECRET_ACCESS_KEY=abc");
  if (!strcmp(prop, "After")) return fb.append(reply, "as", 0);
  if (!strcmp(prop, "InvocationID")) return fb.append_array(reply, 'y', inv, sizeof inv);
  if (!strcmp(prop, "AppArmorProfile")) return fb.append(reply, "(bs)", 0, "");
  if (!strcmp(prop, "ExecStart"))
    return fb.append(reply, "a(sasb)", 1, "/usr/bin/kubelet", 2, "/usr/bin/kubelet", "--v=2", 0);
  return -ENOENT;
}

#define FB_PROPS 13
static const char *const fb_props[FB_PROPS][2] = {
  {"Id", "s"}, {"ActiveState", "s"}, {"LimitNOFILE", "t"}, {"ActiveEnterTimestamp", "t"},
  {"ExecMainPID", "u"}, {"CPUSchedulingPolicy", "i"}, {"CPUAccounting", "b"},
  {"CPUQuotaRatio", "d"}, {"Environment", "as"}, {"After", "as"},
  {"InvocationID", "ay"}, {"AppArmorProfile", "(bs)"}, {"ExecStart", "a(sasb)"},
};
static sd_bus_vtable fb_vt[FB_PROPS + 2];

struct fb_server {
  int lfd;
  volatile int stop;
};

static void *fb_serve(void *arg) {
  struct fb_server *S = arg;
  for (;;) {
    sd_bus *bus = NULL;
    sd_id128_t id = {{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}};
    int fd = accept(S->lfd, NULL, NULL);
    if (fd < 0) return NULL; /* listening socket shut down */
    if (fb.bus_new(&bus) < 0 || fb.set_fd(bus, fd, fd) < 0 ||
        fb.set_server(bus, 1, id) < 0 ||
        fb.add_vtable(bus, NULL, "/org/freedesktop/systemd1/unit/containerd_2eservice",
                      "org.freedesktop.systemd1.Unit", fb_vt, (void *)"containerd.service") < 0 ||
        fb.add_vtable(bus, NULL, "/org/freedesktop/systemd1/unit/kubelet_2eservice",
                      "org.freedesktop.systemd1.Unit", fb_vt, (void *)"kubelet.service") < 0 ||
        fb.start(bus) < 0) {
      if (bus) fb.close_unref(bus);
      else close(fd);
      continue;
    }
    for (;;) {
      int r = fb.process(bus, NULL);
      if (r < 0) break;
      if (r == 0 && fb.wait(bus, 100000) < 0) break;
    }
    fb.close_unref(bus);
  }
}

static void test_systemd(void) {
  char tmpl[] = "/tmp/eidos-bus-XXXXXX", *dir, sock[PATH_MAX], err[512];
  struct sockaddr_un sa;
  struct fb_server S;
  pthread_t th;
  struct eidos_collect_ctx c;
  struct eidos_value *m = NULL, *k;
  const char *units[] = {"containerd.service", "docker.service", "kubelet.service"};
  const char *e;
  int i, rc;

  fb.h = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
  if (!fb.h) {
    skip("libsystemd.so.0 not installed: SystemD over sd-bus not tested");
    return;
  }
#define FBSYM(f, n) *(void **)&fb.f = dlsym(fb.h, n)
  FBSYM(bus_new, "sd_bus_new");
  FBSYM(set_fd, "sd_bus_set_fd");
  FBSYM(set_server, "sd_bus_set_server");
  FBSYM(start, "sd_bus_start");
  FBSYM(process, "sd_bus_process");
  FBSYM(wait, "sd_bus_wait");
  FBSYM(add_vtable, "sd_bus_add_object_vtable");
  FBSYM(append, "sd_bus_message_append");
  FBSYM(append_array, "sd_bus_message_append_array");
  FBSYM(close_unref, "sd_bus_flush_close_unref");
  fb.vtable_format = dlsym(fb.h, "sd_bus_object_vtable_format");
  if (!fb.bus_new || !fb.append_array || !fb.close_unref || !fb.vtable_format) {
    skip("libsystemd too old for the fake systemd");
    return;
  }
  memset(fb_vt, 0, sizeof fb_vt);
  fb_vt[0].type = _SD_BUS_VTABLE_START;
  fb_vt[0].x.start.element_size = sizeof(sd_bus_vtable);
  fb_vt[0].x.start.features = _SD_BUS_VTABLE_PARAM_NAMES;
  fb_vt[0].x.start.vtable_format_reference = fb.vtable_format;
  for (i = 0; i < FB_PROPS; i++) {
    fb_vt[i + 1].type = _SD_BUS_VTABLE_PROPERTY;
    fb_vt[i + 1].flags = SD_BUS_VTABLE_PROPERTY_CONST;
    fb_vt[i + 1].x.property.member = fb_props[i][0];
    fb_vt[i + 1].x.property.signature = fb_props[i][1];
    fb_vt[i + 1].x.property.get = fb_get;
  }
  fb_vt[FB_PROPS + 1].type = _SD_BUS_VTABLE_END;

  dir = mkdtemp(tmpl);
  if (!dir) return;
  put(dir, "run/systemd/.keep", "");
  snprintf(sock, sizeof sock, "%s/run/systemd/private", dir);
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  if (snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock) >= (int)sizeof sa.sun_path) {
    skip("temp path too long for a unix socket");
    rmtree(dir);
    return;
  }
  S.stop = 0;
  S.lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  CHECK(S.lfd >= 0 && bind(S.lfd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
        listen(S.lfd, 4) == 0, "fake systemd socket");
  pthread_create(&th, NULL, fb_serve, &S);

  c = mkctx(dir);
  c.units = units;
  c.nunits = 3;
  rc = eidos_collect_systemd(&c, &m, err, sizeof err);
  CHECK(rc == 0 && m, "SystemD over the fake private socket: %s", rc ? err : "");
  if (m) {
    const char *n0 = str(eidos_value_list_get(eidos_value_map_get(m, "subtypes"), 0), "subtype");
    CHECK(streq(str(m, "type"), "SystemD") && streq(n0, "containerd.service"),
          "SystemD subtypes named after the units");
    k = data(m, "kubelet.service");
    CHECK(streq(str(k, "Id"), "kubelet.service") && streq(str(k, "ActiveState"), "active"),
          "string properties");
    CHECK(eidos_value_type(eidos_value_map_get(k, "LimitNOFILE")) == EIDOS_VUINT &&
          eidos_value_uint(eidos_value_map_get(k, "LimitNOFILE")) == UINT64_MAX,
          "uint64 max kept exact");
    CHECK(num(k, "ActiveEnterTimestamp") == 1770117111235679LL && num(k, "ExecMainPID") == 38444 &&
          num(k, "CPUSchedulingPolicy") == -3, "integer properties");
    CHECK(eidos_value_bool(eidos_value_map_get(k, "CPUAccounting")) &&
          eidos_value_float(eidos_value_map_get(k, "CPUQuotaRatio")) == 0.5, "bool and double");
    CHECK(streq(str(k, "Environment"),
                "[KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml AWS_SECRET_ACCESS_KEY=abc]"),
          "array as Go %%v: %s", str(k, "Environment") ? str(k, "Environment") : "-");
    CHECK(streq(str(k, "After"), "[]") && streq(str(k, "InvocationID"), "[93 102 166 7]") &&
          streq(str(k, "AppArmorProfile"), "[false ]") &&
          streq(str(k, "ExecStart"), "[[/usr/bin/kubelet [/usr/bin/kubelet --v=2] false]]"),
          "containers as Go %%v: %s | %s | %s", str(k, "InvocationID"),
          str(k, "AppArmorProfile"), str(k, "ExecStart"));
    e = str(ctx(m, "docker.service"), "error");
    CHECK(e && strstr(e, "docker.service") && eidos_value_len(data(m, "docker.service")) == 0,
          "a unit that fails keeps its place with the error: %s", e ? e : "-");
  }
  eidos_value_free(m);
  shutdown(S.lfd, SHUT_RDWR);
  close(S.lfd);
  pthread_join(th, NULL);
  rmtree(dir);
}
#else
static void test_systemd(void) { skip("no <systemd/sd-bus.h>: fake systemd not built"); }
#endif

/* K8s hooks */
static int k8s_ok(void *ud, struct eidos_value **out, char *err, size_t errlen) {
  struct eidos_value *m = eidos_value_new_map(), *l, *s;
  (void)ud; (void)err; (void)errlen;
  l = eidos_value_map_set_list(m, "subtypes");
  s = eidos_value_new_map();
  eidos_value_map_set_str(s, "subtype", "server");
  eidos_value_map_set_str(eidos_value_map_set_map(s, "data"), "version", "v1.33.5-eks-3025e55");
  eidos_value_list_push(l, s);
  *out = m;
  return 0;
}

static int k8s_unavail(void *ud, struct eidos_value **out, char *err, size_t errlen) {
  (void)ud;
  *out = NULL;
  return eidos_err(err, errlen, EIDOS_EUNAVAIL, "not in a cluster");
}

static int k8s_hang(void *ud, struct eidos_value **out, char *err, size_t errlen) {
  struct timespec ts = {1, 500000000};
  (void)ud; (void)err; (void)errlen;
  nanosleep(&ts, NULL);
  return k8s_ok(NULL, out, err, errlen);
}

static void test_run(void) {
  struct eidos_collect_opts o;
  struct eidos_collect_result r, r2;
  char err[256];
  static const char *const want[] = {"K8s", "GPU", "OS", "SystemD", "NodeTopology"};
  size_t i;
  int rc;
  long long t0;

  memset(&o, 0, sizeof o);
  o.sysroot = rpath("spec/fixtures/sysroot/basic/");
  o.nvml_lib = "";
  o.path = binpath;
  rc = eidos_collect_run(&o, &r, err, sizeof err);
  CHECK(rc == 0 && r.n == 5, "run all: rc %d n %zu", rc, r.n);
  for (i = 0; i < r.n && i < 5; i++)
    CHECK(streq(r.items[i].name, want[i]) &&
          streq(eidos_collect_type_name(r.items[i].type), want[i]), "order %zu", i);
  CHECK(r.items[0].code == EIDOS_EUNAVAIL && !r.items[0].measurement &&
        strstr(r.items[0].reason, "Kubernetes"), "K8s unavailable without a client");
  CHECK(r.items[1].code == 0 && num(data(r.items[1].measurement, "smi"), "gpu-count") == 2,
        "GPU ok");
  CHECK(r.items[2].code == 0 && streq(str(data(r.items[2].measurement, "release"), "ID"),
                                      "ubuntu"), "OS ok, sysroot honoured");
  CHECK(r.items[3].code == EIDOS_EUNAVAIL && strstr(r.items[3].reason, "D-Bus") &&
        strstr(r.items[3].reason, "spec/fixtures/sysroot/basic/run/systemd/private"),
        "SystemD unavailable with reason: %s", r.items[3].reason);
  CHECK(r.items[4].code == 0, "NodeTopology ok");

  /* same input, same trees */
  rc = eidos_collect_run(&o, &r2, err, sizeof err);
  CHECK(rc == 0 && r2.n == r.n, "second run");
  for (i = 0; i < r.n && i < r2.n; i++) {
    char *a = dump_str(r.items[i].measurement), *b = dump_str(r2.items[i].measurement);
    CHECK(streq(a, b), "deterministic %s", r.items[i].name);
    free(a);
    free(b);
  }
  eidos_collect_result_free(&r);
  eidos_collect_result_free(&r2);

  /* selection keeps the fixed order */
  o.types = (1u << EIDOS_COLLECT_OS) | (1u << EIDOS_COLLECT_GPU);
  rc = eidos_collect_run(&o, &r, err, sizeof err);
  CHECK(rc == 0 && r.n == 2 && r.items[0].type == EIDOS_COLLECT_GPU &&
        r.items[1].type == EIDOS_COLLECT_OS, "only GPU+OS, in order");
  eidos_collect_result_free(&r);

  o.types = 1u << 7;
  CHECK(eidos_collect_run(&o, &r, err, sizeof err) == EIDOS_EINVAL, "bad type bits");
  CHECK(eidos_collect_type_parse("SystemD") == EIDOS_COLLECT_SYSTEMD &&
        eidos_collect_type_parse("systemd") == -1, "type parse");

  /* K8s hook */
  o.types = 1u << EIDOS_COLLECT_K8S;
  o.k8s = k8s_ok;
  rc = eidos_collect_run(&o, &r, err, sizeof err);
  CHECK(rc == 0 && r.n == 1 && r.items[0].code == 0 &&
        streq(str(r.items[0].measurement, "type"), "K8s") &&
        streq(str(data(r.items[0].measurement, "server"), "version"), "v1.33.5-eks-3025e55"),
        "K8s hook result, type added");
  {
    const char *k0 = NULL;
    eidos_value_map_at(r.items[0].measurement, 0, &k0, NULL);
    CHECK(streq(k0, "type"), "type is the first key");
  }
  eidos_collect_result_free(&r);
  o.k8s = k8s_unavail;
  rc = eidos_collect_run(&o, &r, err, sizeof err);
  CHECK(rc == 0 && r.items[0].code == EIDOS_EUNAVAIL &&
        streq(r.items[0].reason, "not in a cluster"), "K8s hook failure");
  eidos_collect_result_free(&r);

  /* a hung collector does not hang the run; the others still come out */
  o.types = (1u << EIDOS_COLLECT_K8S) | (1u << EIDOS_COLLECT_OS) | (1u << EIDOS_COLLECT_GPU);
  o.k8s = k8s_hang;
  o.type_timeout_ms[EIDOS_COLLECT_K8S] = 150;
  o.type_timeout_ms[EIDOS_COLLECT_GPU] = 400;
  setenv("EIDOS_FIXTURE_SMI_MODE", "hang", 1);
  t0 = eidos_sys_now_ms();
  rc = eidos_collect_run(&o, &r, err, sizeof err);
  unsetenv("EIDOS_FIXTURE_SMI_MODE");
  CHECK(rc == 0 && r.n == 3, "hang run");
  CHECK(eidos_sys_now_ms() - t0 < 1200, "returned at the deadlines (%lld ms)",
        eidos_sys_now_ms() - t0);
  CHECK(r.items[0].code == EIDOS_ETIMEOUT && strstr(r.items[0].reason, "150 ms") &&
        !r.items[0].measurement, "K8s timed out: %s", r.items[0].reason);
  CHECK(r.items[1].code == EIDOS_ETIMEOUT, "GPU timed out: %s", r.items[1].reason);
  CHECK(r.items[2].code == 0 && r.items[2].measurement, "OS still came out");
  eidos_collect_result_free(&r);
  {
    struct timespec ts = {0, 200000000};
    nanosleep(&ts, NULL);
    CHECK(live_children() == 0, "the hung nvidia-smi was killed, not orphaned (%d left)",
          live_children());
  }

  /* start / wait / abandon */
  {
    struct eidos_collect_run *run = NULL;
    struct timespec ts = {0, 50000000};
    o.types = (1u << EIDOS_COLLECT_OS) | (1u << EIDOS_COLLECT_K8S);
    o.k8s = k8s_hang;
    o.type_timeout_ms[EIDOS_COLLECT_K8S] = 0;
    t0 = eidos_sys_now_ms();
    CHECK(eidos_collect_start(&o, &run, err, sizeof err) == 0 && run, "start");
    CHECK(eidos_sys_now_ms() - t0 < 100, "start returns at once");
    eidos_collect_abandon(run); /* the hook keeps sleeping on its own */
    o.k8s = k8s_ok;
    CHECK(eidos_collect_start(&o, &run, err, sizeof err) == 0, "start 2");
    nanosleep(&ts, NULL); /* the caller works meanwhile */
    eidos_collect_wait(run, &r);
    CHECK(r.n == 2 && r.items[0].code == 0 && r.items[1].code == 0, "wait after work");
    eidos_collect_result_free(&r);
  }
}

static void test_nvml_hang(void) {
  struct eidos_collect_opts o;
  struct eidos_collect_result r;
  char err[256];
  long long t0;
  if (!*fakenvml) return;
  memset(&o, 0, sizeof o);
  o.types = 1u << EIDOS_COLLECT_GPU;
  o.nvml_lib = fakenvml;
  o.path = binpath;
  o.type_timeout_ms[EIDOS_COLLECT_GPU] = 200;
  /* the worker reads these at once and then sleeps in nvmlInit; nothing
   * sets the environment after this test */
  setenv("FAKENVML_MODE", "hang", 1);
  setenv("FAKENVML_HANG_MS", "1500", 1);
  t0 = eidos_sys_now_ms();
  CHECK(eidos_collect_run(&o, &r, err, sizeof err) == 0 && r.n == 1, "nvml hang run");
  CHECK(r.items[0].code == EIDOS_ETIMEOUT && eidos_sys_now_ms() - t0 < 1000,
        "a driver call that hangs is abandoned at the deadline");
  eidos_collect_result_free(&r);
}

static void test_misc(void) {
  char buf[64];
  CHECK(eidos_collect_bus_escape("containerd.service", buf, sizeof buf) == 0 &&
        streq(buf, "containerd_2eservice"), "bus escape: %s", buf);
  CHECK(eidos_collect_bus_escape("1-x", buf, sizeof buf) == 0 && streq(buf, "_31_2dx"),
        "bus escape leading digit: %s", buf);
  CHECK(eidos_collect_bus_escape("", buf, sizeof buf) == 0 && streq(buf, "_"), "empty");
  CHECK(eidos_collect_bus_escape("abcdefgh", buf, 4) == EIDOS_EINVAL, "escape overflow");
}

int main(int argc, char **argv) {
  const char *lib = argc > 2 ? argv[2] : getenv("EIDOS_FAKENVML_LIB");
  char self[PATH_MAX];
  if (argc < 2) {
    fprintf(stderr, "usage: %s REPO_ROOT [FAKE_NVML_LIB]\n", argv[0]);
    return 2;
  }
  root = argv[1];
  if (lib && *lib) {
    snprintf(fakenvml, sizeof fakenvml, "%s", lib);
  } else {
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
      char *slash;
      self[n] = '\0';
      slash = strrchr(self, '/');
      if (slash) *slash = '\0';
      if (snprintf(fakenvml, sizeof fakenvml, "%s/libfakenvml.so", self) >=
              (int)sizeof fakenvml ||
          access(fakenvml, R_OK) != 0)
        fakenvml[0] = '\0';
    }
  }
  if (*fakenvml && fakenvml[0] != '/') { /* dlopen needs a path with a slash */
    char abs[PATH_MAX];
    if (realpath(fakenvml, abs)) snprintf(fakenvml, sizeof fakenvml, "%s", abs);
  }
  snprintf(binpath, sizeof binpath, "%s/spec/fixtures/bin:/usr/bin:/bin", root);
  setenv("PATH", binpath, 1); /* the fake reads its own dir via sh */

  test_value();
  test_os_basic();
  test_os_edge();
  test_topology();
  test_smi_xml();
  test_gpu_smi();
  test_gpu_nvml();
  test_systemd();
  test_run();
  test_misc();
  test_nvml_hang(); /* last: leaves a sleeping thread behind */

  fprintf(stderr, "%d checks, %d failed\n", checks, failures);
  return failures ? 1 : 0;
}
