/*
 * smi_xml.c -- libFuzzer target for the nvidia-smi XML scanner of the GPU
 * collector (eidos_collect_parse_smi_xml, src/core/collect_smi.c). Seeds:
 * fuzz/corpus/smi_xml/. Build (clang):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc \
 *     fuzz/smi_xml.c src/core/{eidos,lazy,value,collect,collect_util,collect_os,\
 *     collect_smi,collect_gpu,collect_systemd,collect_topo}.c -ldl -lpthread
 */
#include <stddef.h>
#include <stdint.h>
#include "core/collect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct eidos_value *d = eidos_value_new_map(), *g = eidos_value_new_list();
  char err[256];
  if (d && g) eidos_collect_parse_smi_xml((const char *)data, size, d, g, err, sizeof err);
  eidos_value_free(d);
  eidos_value_free(g);
  return 0;
}
