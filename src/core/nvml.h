/*
 * nvml.h -- the part of NVML's ABI that eidos uses, declared here because
 * no NVML header is installed: the types the GPU collector passes to the
 * dlopen'ed libnvidia-ml.so.1 (collect_gpu.c) and that the tests' fake
 * library implements (spec/fixtures/fakenvml.c). One declaration, so the
 * fake cannot drift from what the collector expects. Values follow NVML's
 * public nvml.h.
 */
#ifndef EIDOS_NVML_H
#define EIDOS_NVML_H

typedef int nvmlReturn_t;
typedef struct nvmlDevice_st *nvmlDevice_t;
typedef struct {
  unsigned long long total, free, used;
} nvmlMemory_t;
typedef struct {
  char busIdLegacy[16];
  unsigned int domain, bus, device, pciDeviceId, pciSubSystemId;
  char busId[32];
} nvmlPciInfo_t;

#define NVML_SUCCESS 0
#define NVML_ERROR_UNINITIALIZED 1
#define NVML_ERROR_INVALID_ARGUMENT 2
#define NVML_ERROR_NOT_SUPPORTED 3
#define NVML_ERROR_INSUFFICIENT_SIZE 7
#define NVML_ERROR_DRIVER_NOT_LOADED 9

#endif
