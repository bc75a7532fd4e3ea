/*
 * collect_gpu.c -- the GPU measurement. NVML (libnvidia-ml.so.1, or the
 * library named by opts.nvml_lib / $EIDOS_NVML_LIB) is opened with dlopen
 * first; when it cannot be loaded or initialised, `nvidia-smi -q -x` is run
 * instead (collect_smi.c). Either way every GPU is described:
 *   subtype smi:    driver, driver-version, cuda-version, gpu-count and the
 *                   upstream-compatible gpu.* keys of GPU 0 (gpu.model,
 *                   gpu.product-architecture, ...); context.source says
 *                   nvml / nvidia-smi / none, context.reason why none.
 *   subtype gpu-N:  one per GPU: index, model, product-architecture, uuid,
 *                   memory-total-mib, mig-mode, persistence-mode,
 *                   vbios-version, pci-bus-id, ...
 * No driver at all is not an error: smi is {gpu-count: 0} with a reason.
 * Only a nvidia-smi killed at the deadline makes the collector fail
 * (EIDOS_ETIMEOUT). The NVML types used are declared here (no header).
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "eidos.h"
#include "dl.h"
#include "collect_int.h"
#include "nvml.h"


struct nvml {
  nvmlReturn_t (*Init)(void);
  nvmlReturn_t (*Shutdown)(void);
  const char *(*ErrorString)(nvmlReturn_t);
  nvmlReturn_t (*DriverVersion)(char *, unsigned int);
  nvmlReturn_t (*CudaVersion)(int *);
  nvmlReturn_t (*Count)(unsigned int *);
  nvmlReturn_t (*Handle)(unsigned int, nvmlDevice_t *);
  nvmlReturn_t (*Name)(nvmlDevice_t, char *, unsigned int);
  nvmlReturn_t (*UUID)(nvmlDevice_t, char *, unsigned int);
  nvmlReturn_t (*Memory)(nvmlDevice_t, nvmlMemory_t *);
  nvmlReturn_t (*MigMode)(nvmlDevice_t, unsigned int *, unsigned int *);
  nvmlReturn_t (*Persistence)(nvmlDevice_t, int *);
  nvmlReturn_t (*Vbios)(nvmlDevice_t, char *, unsigned int);
  nvmlReturn_t (*Pci)(nvmlDevice_t, nvmlPciInfo_t *);
  nvmlReturn_t (*Arch)(nvmlDevice_t, unsigned int *);
};

static const char *const nvml_syms[] = {
  "nvmlInit_v2", "nvmlShutdown", "nvmlErrorString",
  "nvmlSystemGetDriverVersion", "nvmlSystemGetCudaDriverVersion_v2",
  "nvmlDeviceGetCount_v2", "nvmlDeviceGetHandleByIndex_v2",
  "nvmlDeviceGetName", "nvmlDeviceGetUUID", "nvmlDeviceGetMemoryInfo",
  "nvmlDeviceGetMigMode", "nvmlDeviceGetPersistenceMode",
  "nvmlDeviceGetVbiosVersion", "nvmlDeviceGetPciInfo_v3",
  "nvmlDeviceGetArchitecture",
};
#define NVML_NSYMS (sizeof nvml_syms / sizeof nvml_syms[0])

_Static_assert(sizeof(struct nvml) == NVML_NSYMS * sizeof(void *),
               "struct nvml must hold exactly the listed symbols");

static const char *arch_name(unsigned int a) {
  switch (a) {
    case 2: return "Kepler";
    case 3: return "Maxwell";
    case 4: return "Pascal";
    case 5: return "Volta";
    case 6: return "Turing";
    case 7: return "Ampere";
    case 8: return "Ada Lovelace";
    case 9: return "Hopper";
    case 10: return "Blackwell";
    case 11: return "Orin";
    default: return "Unknown";
  }
}

static const char *nv_err(const struct nvml *n, nvmlReturn_t r) {
  const char *s = n->ErrorString ? n->ErrorString(r) : NULL;
  return s ? s : "unknown NVML error";
}

/* One GPU into a fresh map g. Missing facts (NOT_SUPPORTED and other
 * errors) leave their key out, except MIG mode which reads N/A like
 * nvidia-smi on GPUs without MIG. */
static int nvml_gpu(const struct nvml *n, unsigned int i, struct eidos_value *g) {
  nvmlDevice_t d;
  char buf[256];
  nvmlMemory_t mem;
  nvmlPciInfo_t pci;
  unsigned int cur, pend, arch;
  int pm, rc = 0;
  nvmlReturn_t r;

  rc |= eidos_value_map_set_int(g, "index", i);
  r = n->Handle(i, &d);
  if (r != NVML_SUCCESS) {
    snprintf(buf, sizeof buf, "nvmlDeviceGetHandleByIndex(%u): %s", i, nv_err(n, r));
    return rc | eidos_value_map_set_str(g, "error", buf);
  }
  memset(buf, 0, sizeof buf);
  if (n->Name(d, buf, 96) == NVML_SUCCESS) rc |= eidos_value_map_set_str(g, "model", buf);
  if (n->Arch(d, &arch) == NVML_SUCCESS)
    rc |= eidos_value_map_set_str(g, "product-architecture", arch_name(arch));
  memset(buf, 0, sizeof buf);
  if (n->UUID(d, buf, 96) == NVML_SUCCESS) rc |= eidos_value_map_set_str(g, "uuid", buf);
  if (n->Memory(d, &mem) == NVML_SUCCESS)
    rc |= eidos_value_map_set_int(g, "memory-total-mib",
                                  (int64_t)(mem.total / (1024ULL * 1024ULL)));
  r = n->MigMode(d, &cur, &pend);
  if (r == NVML_SUCCESS) {
    rc |= eidos_value_map_set_str(g, "mig-mode", cur ? "Enabled" : "Disabled");
    rc |= eidos_value_map_set_str(g, "mig-mode-pending", pend ? "Enabled" : "Disabled");
  } else if (r == NVML_ERROR_NOT_SUPPORTED) {
    rc |= eidos_value_map_set_str(g, "mig-mode", "N/A");
  }
  if (n->Persistence(d, &pm) == NVML_SUCCESS)
    rc |= eidos_value_map_set_str(g, "persistence-mode", pm ? "Enabled" : "Disabled");
  memset(buf, 0, sizeof buf);
  if (n->Vbios(d, buf, 32) == NVML_SUCCESS) rc |= eidos_value_map_set_str(g, "vbios-version", buf);
  memset(&pci, 0, sizeof pci);
  if (n->Pci(d, &pci) == NVML_SUCCESS) {
    pci.busId[sizeof pci.busId - 1] = '\0';
    rc |= eidos_value_map_set_str(g, "pci-bus-id", pci.busId);
    snprintf(buf, sizeof buf, "%08X", pci.pciDeviceId);
    rc |= eidos_value_map_set_str(g, "pci-device-id", buf);
  }
  return rc ? EIDOS_EINTERNAL : 0;
}

/* 0 with data/gpus filled, or a code with why (library missing, init or
 * count failed). */
static int nvml_collect(const struct eidos_collect_ctx *c,
                        struct eidos_value *data, struct eidos_value *gpus,
                        char *why, size_t whylen) {
  const char *names[2] = {c->nvml_lib ? c->nvml_lib : "libnvidia-ml.so.1", NULL};
  void *raw[NVML_NSYMS], *h = NULL;
  struct nvml n;
  char drv[96] = "", cuda[32] = "";
  unsigned int count = 0, i;
  int cv = 0, rc;
  nvmlReturn_t r;

  rc = eidos_lazy_open(names, nvml_syms, raw, NVML_NSYMS, &h, why, whylen);
  if (rc) return rc;
  memcpy(&n, raw, sizeof n);
  r = n.Init();
  if (r != NVML_SUCCESS) {
    eidos_err(why, whylen, EIDOS_EUNAVAIL, "nvmlInit: %s", nv_err(&n, r));
    dlclose(h);
    return EIDOS_EUNAVAIL;
  }
  r = n.Count(&count);
  if (r != NVML_SUCCESS) {
    eidos_err(why, whylen, EIDOS_EUNAVAIL, "nvmlDeviceGetCount: %s", nv_err(&n, r));
    n.Shutdown();
    dlclose(h);
    return EIDOS_EUNAVAIL;
  }
  if (n.DriverVersion(drv, sizeof drv) != NVML_SUCCESS) drv[0] = '\0';
  drv[sizeof drv - 1] = '\0';
  if (n.CudaVersion(&cv) == NVML_SUCCESS && cv > 0)
    snprintf(cuda, sizeof cuda, "%d.%d", cv / 1000, (cv % 1000) / 10);
  rc = eidos_value_map_set_str(data, "driver", drv) |
       eidos_value_map_set_str(data, "driver-version", drv) |
       eidos_value_map_set_str(data, "cuda-version", cuda) |
       eidos_value_map_set_int(data, "gpu-count", count);
  for (i = 0; i < count && i < 1024 && !rc; i++) {
    struct eidos_value *g = eidos_value_new_map();
    if (!g) {
      rc = EIDOS_EINTERNAL;
      break;
    }
    rc = nvml_gpu(&n, i, g);
    if (rc) eidos_value_free(g);
    else rc = eidos_value_list_push(gpus, g);
  }
  n.Shutdown();
  dlclose(h);
  if (rc) eidos_err(why, whylen, EIDOS_EINTERNAL, "out of memory");
  return rc ? EIDOS_EINTERNAL : 0;
}

/* GPU 0's facts under the upstream key names, in smi's data. */
static const struct { const char *key, *upstream; } first_keys[] = {
  {"model", "gpu.model"},
  {"product-architecture", "gpu.product-architecture"},
  {"display-mode", "gpu.display-mode"},
  {"display-active", "gpu.display-active"},
  {"persistence-mode", "gpu.persistence-mode"},
  {"addressing-mode", "gpu.addressing-mode"},
  {"vbios-version", "gpu.vbios-version"},
  {"gsp-firmware-version", "gpu.gsp-firmware-version"},
};

/* drop what a failed source left and start again with empty trees;
 * -1 when out of memory */
static int fresh(struct eidos_value **data, struct eidos_value **gpus) {
  eidos_value_free(*data);
  eidos_value_free(*gpus);
  *data = eidos_value_new_map();
  *gpus = eidos_value_new_list();
  return *data && *gpus ? 0 : -1;
}

static int build(struct eidos_value **out, struct eidos_value *data,
                 struct eidos_value *gpus, const char *source,
                 const char *reason) {
  struct eidos_value *m = cx_measurement("GPU"), *st, *g0;
  size_t i, k, n = eidos_value_len(gpus);
  int rc = 0;
  if (!m) return EIDOS_EINTERNAL;
  st = cx_subtype(m, "smi");
  if (!st) goto oom;
  for (i = 0; i < eidos_value_len(data) && !rc; i++) {
    const char *key;
    size_t kl;
    struct eidos_value *v = eidos_value_map_at(data, i, &key, &kl);
    rc = eidos_value_map_lset(cx_data(st), key, kl, eidos_value_copy(v));
  }
  g0 = eidos_value_list_get(gpus, 0);
  for (k = 0; g0 && k < sizeof first_keys / sizeof first_keys[0] && !rc; k++) {
    struct eidos_value *v = eidos_value_map_get(g0, first_keys[k].key);
    if (v) rc = eidos_value_map_set(cx_data(st), first_keys[k].upstream,
                                    eidos_value_copy(v));
  }
  rc |= eidos_value_map_set_str(cx_context(st), "source", source);
  if (reason && *reason)
    rc |= eidos_value_map_set_str(cx_context(st), "reason", reason);
  for (i = 0; i < n && !rc; i++) {
    char name[32];
    struct eidos_value *g = eidos_value_list_get(gpus, i), *gs;
    snprintf(name, sizeof name, "gpu-%zu", i);
    if (!(gs = cx_subtype(m, name))) goto oom;
    rc = eidos_value_map_set(gs, "data", eidos_value_copy(g));
  }
  if (rc) goto oom;
  *out = m;
  return 0;
oom:
  eidos_value_free(m);
  return EIDOS_EINTERNAL;
}

int eidos_collect_gpu(const struct eidos_collect_ctx *c,
                      struct eidos_value **out, char *err, size_t errlen) {
  char why_nvml[512], why_smi[512], reason[1100];
  struct eidos_value *data = eidos_value_new_map(), *gpus = eidos_value_new_list();
  char *xml = NULL;
  size_t xml_len = 0;
  int rc;

  *out = NULL;
  why_nvml[0] = why_smi[0] = '\0';
  if (!data || !gpus) goto oom;
  if (c->nvml_lib && !*c->nvml_lib) {
    snprintf(why_nvml, sizeof why_nvml, "disabled");
    rc = EIDOS_EUNAVAIL;
  } else {
    rc = nvml_collect(c, data, gpus, why_nvml, sizeof why_nvml);
  }
  if (rc == EIDOS_EINTERNAL) goto oom;
  if (rc == 0) {
    rc = build(out, data, gpus, "nvml", NULL);
    goto done;
  }
  /* fall back to nvidia-smi, with fresh trees */
  if (fresh(&data, &gpus)) goto oom;
  rc = cx_smi_run(c, &xml, &xml_len, why_smi, sizeof why_smi);
  if (rc == EIDOS_ETIMEOUT) {
    eidos_value_free(data);
    eidos_value_free(gpus);
    return eidos_err(err, errlen, EIDOS_ETIMEOUT, "%s", why_smi);
  }
  if (rc == 0) {
    rc = eidos_collect_parse_smi_xml(xml, xml_len, data, gpus, why_smi,
                                     sizeof why_smi);
    free(xml);
    if (rc == EIDOS_EINTERNAL) goto oom;
    if (rc == 0) {
      rc = build(out, data, gpus, "nvidia-smi", NULL);
      goto done;
    }
    /* unparseable output counts as no GPU (as upstream) */
    if (fresh(&data, &gpus)) goto oom;
  }
  snprintf(reason, sizeof reason, "no NVIDIA driver found: NVML: %s; %s",
           why_nvml, why_smi);
  if (eidos_value_map_set_int(data, "gpu-count", 0)) goto oom;
  rc = build(out, data, gpus, "none", reason);
done:
  eidos_value_free(data);
  eidos_value_free(gpus);
  if (rc) return eidos_err(err, errlen, EIDOS_EINTERNAL, "out of memory");
  return 0;
oom:
  eidos_value_free(data);
  eidos_value_free(gpus);
  return eidos_err(err, errlen, EIDOS_EINTERNAL, "out of memory");
}
