/*
 * collect_topo.c -- the NodeTopology measurement of this node, from /sys:
 *   subtype numa: node-count, and per NUMA node N (natural order)
 *                 nodeN.cpulist, nodeN.cpu-count, nodeN.memory-kib
 *                 (/sys/devices/system/node/nodeN/{cpulist,meminfo});
 *   subtype gpu:  gpu-count, and per NVIDIA display/3D controller (PCI
 *                 vendor 0x10de, class 0x03xxxx) under its bus id
 *                 <bdf>.numa-node, <bdf>.local-cpulist, <bdf>.device-id,
 *                 <bdf>.class and <bdf>.pci-path (the chain of bridges
 *                 from the root complex, from the /sys/bus/pci/devices
 *                 symlink; just the bus id when the entry is a directory).
 * Upstream's cluster-wide NodeTopology subtypes (summary, taint, label)
 * come from the Kubernetes API and are not collected here.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "eidos.h"
#include "collect_int.h"
#include "natsort.h"

#define SMALL (64u << 10)

/* Read a small sysfs attribute, trimmed, into buf. 0 or -1. */
static int attr(const char *dir, const char *name, char *buf, size_t n) {
  char path[CX_PATH_MAX], *data;
  size_t len, tl;
  const char *t;
  if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path) return -1;
  if (cx_read(path, SMALL, &data, &len, NULL, NULL, 0)) return -1;
  t = cx_trim(data, len, &tl);
  if (tl >= n || !cx_utf8(t, tl)) {
    free(data);
    return -1;
  }
  memcpy(buf, t, tl);
  buf[tl] = '\0';
  free(data);
  return 0;
}

/* Count CPUs in a cpulist like "0-3,8,10-11"; -1 if malformed. */
static long cpulist_count(const char *s) {
  long n = 0;
  if (!*s) return 0;
  while (*s) {
    char *e;
    long a = strtol(s, &e, 10), b = a;
    if (e == s || a < 0) return -1;
    s = e;
    if (*s == '-') {
      b = strtol(s + 1, &e, 10);
      if (e == s + 1 || b < a) return -1;
      s = e;
    }
    n += b - a + 1;
    if (*s == ',') s++;
    else if (*s) return -1;
  }
  return n;
}

/* A directory that could not be listed: count 0, and context.reason
 * naming it (rel, below the sysroot) and why. */
static int unlisted(struct eidos_value *st, const char *count_key,
                    const char *rel, int eno) {
  char why[256];
  snprintf(why, sizeof why, "cannot list %s: %s", rel,
           eno ? strerror(eno) : "not a directory");
  if (eidos_value_map_set_int(cx_data(st), count_key, 0) ||
      eidos_value_map_set_str(cx_context(st), "reason", why))
    return EIDOS_EINTERNAL;
  return 0;
}

static int numa(const struct eidos_collect_ctx *c, struct eidos_value *st) {
  char base[CX_PATH_MAX], dir[CX_PATH_MAX], key[64], buf[4096];
  char **names;
  size_t n, i;
  long count = 0;
  int rc = 0, eno = 0;
  struct eidos_value *d = cx_data(st);

  if (cx_path(c, "/sys/devices/system/node", base, sizeof base)) return EIDOS_EINVAL;
  if ((rc = cx_listdir(base, &names, &n, &eno))) {
    /* no NUMA information (a kernel without NUMA support, or no /sys):
     * zero nodes, and why */
    return rc == EIDOS_EINTERNAL ? rc : unlisted(st, "node-count", "/sys/devices/system/node", eno);
  }
  eidos_natsort(names, n);
  for (i = 0; i < n && !rc; i++) {
    const char *nm = names[i], *p;
    long cpus;
    if (strncmp(nm, "node", 4) || !nm[4]) continue;
    for (p = nm + 4; *p && isdigit((unsigned char)*p); p++) {
    }
    if (*p) continue;
    if (snprintf(dir, sizeof dir, "%s/%s", base, nm) >= (int)sizeof dir) continue;
    count++;
    if (attr(dir, "cpulist", buf, sizeof buf) == 0) {
      snprintf(key, sizeof key, "%s.cpulist", nm);
      rc |= eidos_value_map_set_str(d, key, buf);
      if ((cpus = cpulist_count(buf)) >= 0) {
        snprintf(key, sizeof key, "%s.cpu-count", nm);
        rc |= eidos_value_map_set_int(d, key, cpus);
      }
    }
    {
      char path[CX_PATH_MAX], *data;
      size_t len;
      if (snprintf(path, sizeof path, "%s/meminfo", dir) < (int)sizeof path &&
          cx_read(path, SMALL, &data, &len, NULL, NULL, 0) == 0) {
        const char *m = strstr(data, "MemTotal:");
        if (m) {
          long long kib = strtoll(m + 9, NULL, 10);
          snprintf(key, sizeof key, "%s.memory-kib", nm);
          rc |= eidos_value_map_set_int(d, key, kib);
        }
        free(data);
      }
    }
  }
  cx_names_free(names, n);
  rc |= eidos_value_map_set_int(d, "node-count", count);
  return rc ? EIDOS_EINTERNAL : 0;
}

/* The device's place in the PCI hierarchy from the sysfs link target
 * "../../../devices/pci0000:00/0000:00:01.0/0000:04:00.0". */
static void pci_path(const char *link, const char *bdf, char *out, size_t n) {
  char tgt[CX_PATH_MAX];
  ssize_t l = readlink(link, tgt, sizeof tgt - 1);
  const char *p;
  if (l > 0) {
    tgt[l] = '\0';
    p = strstr(tgt, "devices/");
    if (p && snprintf(out, n, "%s", p + 8) < (int)n) return;
  }
  snprintf(out, n, "%s", bdf);
}

static int gpus(const struct eidos_collect_ctx *c, struct eidos_value *st) {
  char base[CX_PATH_MAX], dir[CX_PATH_MAX], key[300], buf[4096];
  char **names;
  size_t n, i;
  long count = 0;
  int rc = 0, eno = 0;
  struct eidos_value *d = cx_data(st);

  if (cx_path(c, "/sys/bus/pci/devices", base, sizeof base)) return EIDOS_EINVAL;
  if ((rc = cx_listdir(base, &names, &n, &eno))) /* no PCI bus (some VMs), or no /sys */
    return rc == EIDOS_EINTERNAL ? rc : unlisted(st, "gpu-count", "/sys/bus/pci/devices", eno);
  for (i = 0; i < n && !rc; i++) {
    const char *bdf = names[i];
    unsigned long cls;
    if (strlen(bdf) > 64 || !cx_utf8(bdf, strlen(bdf))) continue;
    if (snprintf(dir, sizeof dir, "%s/%s", base, bdf) >= (int)sizeof dir) continue;
    if (attr(dir, "vendor", buf, sizeof buf) || strcasecmp(buf, "0x10de")) continue;
    if (attr(dir, "class", buf, sizeof buf)) continue;
    cls = strtoul(buf, NULL, 16);
    if ((cls >> 16) != 0x03) continue;
    count++;
    snprintf(key, sizeof key, "%s.class", bdf);
    rc |= eidos_value_map_set_str(d, key, buf);
    if (attr(dir, "device", buf, sizeof buf) == 0) {
      snprintf(key, sizeof key, "%s.device-id", bdf);
      rc |= eidos_value_map_set_str(d, key, buf);
    }
    if (attr(dir, "numa_node", buf, sizeof buf) == 0) {
      snprintf(key, sizeof key, "%s.numa-node", bdf);
      rc |= eidos_value_map_set_int(d, key, strtol(buf, NULL, 10));
    }
    if (attr(dir, "local_cpulist", buf, sizeof buf) == 0) {
      snprintf(key, sizeof key, "%s.local-cpulist", bdf);
      rc |= eidos_value_map_set_str(d, key, buf);
    }
    pci_path(dir, bdf, buf, sizeof buf);
    snprintf(key, sizeof key, "%s.pci-path", bdf);
    rc |= eidos_value_map_set_str(d, key, buf);
  }
  cx_names_free(names, n);
  rc |= eidos_value_map_set_int(d, "gpu-count", count);
  return rc ? EIDOS_EINTERNAL : 0;
}

int eidos_collect_topology(const struct eidos_collect_ctx *c,
                           struct eidos_value **out, char *err, size_t errlen) {
  struct eidos_value *m = cx_measurement("NodeTopology"), *s1, *s2;
  *out = NULL;
  if (!m || !(s1 = cx_subtype(m, "numa")) || numa(c, s1) ||
      !(s2 = cx_subtype(m, "gpu")) || gpus(c, s2)) {
    eidos_value_free(m);
    return eidos_err(err, errlen, EIDOS_EINTERNAL,
                     "out of memory in the NodeTopology collector");
  }
  *out = m;
  return 0;
}
