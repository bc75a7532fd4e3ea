/*
 * collect_smi.c -- the nvidia-smi fallback of the GPU collector: running
 * `nvidia-smi -q -x` through proc.h (no shell, own process group killed at
 * the deadline, output capped), and a small strict XML scanner for its
 * output.
 * The scanner handles what nvidia-smi writes and what well-formed XML may
 * add (declaration, DOCTYPE, comments, CDATA, attributes, self-closing
 * tags, the five named entities and character references); anything else
 * is an error with the byte offset. It builds no DOM: it reports the text
 * of leaf elements with their element path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "eidos.h"
#include "collect_int.h"
#include "proc.h"

#define XML_MAX_DEPTH 64
#define XML_TEXT_MAX (64u << 10)

/* --------------------------------------------------------- XML scanner */

struct xml_name {
  const char *s;
  size_t n;
};

struct xml_handler {
  void *ud;
  /* names[0..depth) is the element path; the last one was just opened */
  int (*open)(void *ud, const struct xml_name *names, int depth);
  /* text (trimmed, entities decoded) of a leaf element, before close */
  int (*leaf)(void *ud, const struct xml_name *names, int depth,
              const char *text, size_t n);
  int (*close)(void *ud, const struct xml_name *names, int depth);
};

static int namestart(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
         c == ':' || c >= 0x80;
}

static int namechar(unsigned char c) {
  return namestart(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static int xspace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static const char *find(const char *s, size_t from, size_t n, const char *pat) {
  size_t pl = strlen(pat), i;
  for (i = from; i + pl <= n; i++)
    if (memcmp(s + i, pat, pl) == 0) return s + i;
  return NULL;
}

static void put_utf8(struct cx_buf *b, unsigned cp) {
  char u[4];
  if (cp < 0x80) {
    u[0] = (char)cp;
    cx_buf_add(b, u, 1);
  } else if (cp < 0x800) {
    u[0] = (char)(0xC0 | (cp >> 6));
    u[1] = (char)(0x80 | (cp & 0x3F));
    cx_buf_add(b, u, 2);
  } else if (cp < 0x10000) {
    u[0] = (char)(0xE0 | (cp >> 12));
    u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    u[2] = (char)(0x80 | (cp & 0x3F));
    cx_buf_add(b, u, 3);
  } else {
    u[0] = (char)(0xF0 | (cp >> 18));
    u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    u[3] = (char)(0x80 | (cp & 0x3F));
    cx_buf_add(b, u, 4);
  }
}

/* Decode character data s[0..n) (no '<' inside) into b. Returns 0 or the
 * offset+1 of a bad '&'. */
static size_t decode_text(const char *s, size_t n, struct cx_buf *b) {
  size_t i = 0, run = 0;
  while (i < n) {
    size_t j;
    if (s[i] != '&') {
      i++;
      continue;
    }
    cx_buf_add(b, s + run, i - run);
    for (j = i + 1; j < n && j - i <= 12 && s[j] != ';'; j++) {
    }
    if (j >= n || s[j] != ';') return i + 1;
    {
      const char *e = s + i + 1;
      size_t el = j - i - 1;
      if (el == 2 && !memcmp(e, "lt", 2)) cx_buf_add(b, "<", 1);
      else if (el == 2 && !memcmp(e, "gt", 2)) cx_buf_add(b, ">", 1);
      else if (el == 3 && !memcmp(e, "amp", 3)) cx_buf_add(b, "&", 1);
      else if (el == 4 && !memcmp(e, "quot", 4)) cx_buf_add(b, "\"", 1);
      else if (el == 4 && !memcmp(e, "apos", 4)) cx_buf_add(b, "'", 1);
      else if (el >= 2 && e[0] == '#') {
        unsigned long cp = 0;
        size_t k = 1;
        int hex = e[1] == 'x';
        if (hex) k++;
        if (k >= el) return i + 1;
        for (; k < el; k++) {
          int d;
          char c = e[k];
          if (c >= '0' && c <= '9') d = c - '0';
          else if (hex && c >= 'a' && c <= 'f') d = c - 'a' + 10;
          else if (hex && c >= 'A' && c <= 'F') d = c - 'A' + 10;
          else return i + 1;
          cp = cp * (hex ? 16 : 10) + (unsigned long)d;
          if (cp > 0x10FFFF) return i + 1;
        }
        if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)) return i + 1;
        put_utf8(b, (unsigned)cp);
      } else
        return i + 1;
    }
    i = run = j + 1;
  }
  cx_buf_add(b, s + run, n - run);
  return 0;
}

static int xml_scan(const char *s, size_t n, const struct xml_handler *h,
                    char *err, size_t errlen) {
  struct xml_name names[XML_MAX_DEPTH];
  int has_child[XML_MAX_DEPTH];
  int depth = 0, seen_root = 0, rc = EIDOS_OK;
  size_t i = 0;
  struct cx_buf text;
  const char *p;

#define XFAIL(...) do { rc = eidos_err(err, errlen, EIDOS_EINVAL, __VA_ARGS__); goto out; } while (0)
  cx_buf_init(&text, XML_TEXT_MAX);
  if (n >= 3 && (unsigned char)s[0] == 0xEF && (unsigned char)s[1] == 0xBB &&
      (unsigned char)s[2] == 0xBF)
    i = 3;
  while (i < n) {
    if (s[i] != '<') {
      size_t e = i, bad;
      while (e < n && s[e] != '<') e++;
      if (depth == 0) {
        for (; i < e; i++)
          if (!xspace(s[i])) XFAIL("XML: text outside the root element at byte %zu", i);
        continue;
      }
      bad = decode_text(s + i, e - i, &text);
      if (bad) XFAIL("XML: bad entity reference at byte %zu", i + bad - 1);
      if (text.oom) XFAIL("XML: element text longer than %u bytes at byte %zu",
                          XML_TEXT_MAX, i);
      i = e;
      continue;
    }
    if (n - i >= 2 && s[i + 1] == '?') {
      if (!(p = find(s, i + 2, n, "?>"))) XFAIL("XML: unterminated <? at byte %zu", i);
      i = (size_t)(p - s) + 2;
      continue;
    }
    if (n - i >= 4 && !memcmp(s + i, "<!--", 4)) {
      if (!(p = find(s, i + 4, n, "-->"))) XFAIL("XML: unterminated comment at byte %zu", i);
      i = (size_t)(p - s) + 3;
      continue;
    }
    if (n - i >= 9 && !memcmp(s + i, "<![CDATA[", 9)) {
      if (depth == 0) XFAIL("XML: CDATA outside the root element at byte %zu", i);
      if (!(p = find(s, i + 9, n, "]]>"))) XFAIL("XML: unterminated CDATA at byte %zu", i);
      cx_buf_add(&text, s + i + 9, (size_t)(p - s) - i - 9);
      if (text.oom) XFAIL("XML: element text too long at byte %zu", i);
      i = (size_t)(p - s) + 3;
      continue;
    }
    if (n - i >= 2 && s[i + 1] == '!') { /* <!DOCTYPE ...> */
      size_t j = i + 2;
      int br = 0;
      char q = 0;
      if (seen_root || depth) XFAIL("XML: declaration inside the document at byte %zu", i);
      for (; j < n; j++) {
        char c = s[j];
        if (q) { if (c == q) q = 0; continue; }
        if (c == '"' || c == '\'') q = c;
        else if (c == '[') br++;
        else if (c == ']') br--;
        else if (c == '>' && br <= 0) break;
      }
      if (j >= n) XFAIL("XML: unterminated declaration at byte %zu", i);
      i = j + 1;
      continue;
    }
    if (n - i >= 2 && s[i + 1] == '/') { /* end tag */
      size_t j = i + 2, k;
      if (depth == 0) XFAIL("XML: end tag without a start tag at byte %zu", i);
      while (j < n && namechar((unsigned char)s[j])) j++;
      k = j;
      while (k < n && xspace(s[k])) k++;
      if (k >= n || s[k] != '>') XFAIL("XML: malformed end tag at byte %zu", i);
      if (j - i - 2 != names[depth - 1].n ||
          memcmp(s + i + 2, names[depth - 1].s, names[depth - 1].n))
        XFAIL("XML: </%.*s> at byte %zu does not close <%.*s>",
              (int)(j - i - 2), s + i + 2, i, (int)names[depth - 1].n,
              names[depth - 1].s);
      if (!has_child[depth - 1] && h->leaf) {
        size_t tl;
        const char *t = cx_trim(text.s ? text.s : "", text.n, &tl);
        if ((rc = h->leaf(h->ud, names, depth, t, tl))) goto out;
      }
      if (h->close && (rc = h->close(h->ud, names, depth))) goto out;
      depth--;
      text.n = 0;
      i = k + 1;
      continue;
    }
    { /* start tag */
      size_t j = i + 1;
      int empty = 0;
      if (j >= n || !namestart((unsigned char)s[j])) XFAIL("XML: malformed tag at byte %zu", i);
      while (j < n && namechar((unsigned char)s[j])) j++;
      if (depth == 0 && seen_root) XFAIL("XML: second root element at byte %zu", i);
      if (depth >= XML_MAX_DEPTH) XFAIL("XML: nesting deeper than %d at byte %zu", XML_MAX_DEPTH, i);
      names[depth].s = s + i + 1;
      names[depth].n = j - i - 1;
      for (;;) { /* attributes */
        size_t a;
        char q;
        int ws = 0;
        while (j < n && xspace(s[j])) j++, ws = 1;
        if (j >= n) XFAIL("XML: unterminated tag at byte %zu", i);
        if (s[j] == '>') { j++; break; }
        if (s[j] == '/') {
          if (j + 1 >= n || s[j + 1] != '>') XFAIL("XML: malformed tag at byte %zu", j);
          empty = 1;
          j += 2;
          break;
        }
        if (!ws || !namestart((unsigned char)s[j])) XFAIL("XML: malformed attribute at byte %zu", j);
        a = j;
        while (j < n && namechar((unsigned char)s[j])) j++;
        while (j < n && xspace(s[j])) j++;
        if (j >= n || s[j] != '=') XFAIL("XML: attribute without value at byte %zu", a);
        j++;
        while (j < n && xspace(s[j])) j++;
        if (j >= n || (s[j] != '"' && s[j] != '\'')) XFAIL("XML: unquoted attribute at byte %zu", a);
        q = s[j++];
        while (j < n && s[j] != q && s[j] != '<') j++;
        if (j >= n || s[j] != q) XFAIL("XML: unterminated attribute at byte %zu", a);
        j++;
      }
      if (depth > 0) has_child[depth - 1] = 1;
      has_child[depth] = 0;
      depth++;
      seen_root = 1;
      text.n = 0;
      if (h->open && (rc = h->open(h->ud, names, depth))) goto out;
      if (empty) {
        if (h->leaf && (rc = h->leaf(h->ud, names, depth, "", 0))) goto out;
        if (h->close && (rc = h->close(h->ud, names, depth))) goto out;
        depth--;
      }
      i = j;
    }
  }
  if (depth) XFAIL("XML: document ends inside <%.*s>", (int)names[depth - 1].n, names[depth - 1].s);
  if (!seen_root) XFAIL("XML: no root element");
#undef XFAIL
out:
  cx_buf_free(&text);
  return rc;
}

/* --------------------------------------------------- nvidia-smi format */

struct smi {
  struct eidos_value *data, *gpus, *cur;
  char driver[128], cuda[64];
  int have_driver, have_cuda;
  long ngpus;
  char *err;
  size_t errlen;
};

static int nameis(const struct xml_name *x, const char *s) {
  return x->n == strlen(s) && memcmp(x->s, s, x->n) == 0;
}

static int smi_open(void *ud, const struct xml_name *names, int depth) {
  struct smi *S = ud;
  if (depth == 1 && !nameis(&names[0], "nvidia_smi_log"))
    return eidos_err(S->err, S->errlen, EIDOS_EINVAL,
                     "unexpected root element <%.*s>, expected <nvidia_smi_log>",
                     (int)names[0].n, names[0].s);
  if (depth == 2 && nameis(&names[1], "gpu")) {
    struct eidos_value *g = eidos_value_new_map();
    if (!g || eidos_value_map_set_int(g, "index", S->ngpus)) {
      eidos_value_free(g);
      return eidos_err(S->err, S->errlen, EIDOS_EINTERNAL, "out of memory");
    }
    if (eidos_value_list_push(S->gpus, g)) /* frees g on failure */
      return eidos_err(S->err, S->errlen, EIDOS_EINTERNAL, "out of memory");
    S->cur = g;
    S->ngpus++;
  }
  return 0;
}

static int smi_close(void *ud, const struct xml_name *names, int depth) {
  struct smi *S = ud;
  if (depth == 2 && nameis(&names[1], "gpu")) S->cur = NULL;
  return 0;
}

/* per-GPU leaf paths (below <gpu>) and their keys */
static const struct { const char *path, *key; } gpu_keys[] = {
  {"product_name", "model"},
  {"product_brand", "brand"},
  {"product_architecture", "product-architecture"},
  {"display_mode", "display-mode"},
  {"display_active", "display-active"},
  {"persistence_mode", "persistence-mode"},
  {"addressing_mode", "addressing-mode"},
  {"mig_mode/current_mig", "mig-mode"},
  {"mig_mode/pending_mig", "mig-mode-pending"},
  {"uuid", "uuid"},
  {"vbios_version", "vbios-version"},
  {"gsp_firmware_version", "gsp-firmware-version"},
  {"pci/pci_bus_id", "pci-bus-id"},
  {"pci/pci_device_id", "pci-device-id"},
  {"fb_memory_usage/total", "memory-total-mib"},
  {"compute_mode", "compute-mode"},
};

static int smi_leaf(void *ud, const struct xml_name *names, int depth,
                    const char *t, size_t n) {
  struct smi *S = ud;
  char rel[256];
  size_t rl = 0, k;
  int d;
  if (depth == 2) {
    if (nameis(&names[1], "driver_version") && n < sizeof S->driver) {
      memcpy(S->driver, t, n);
      S->driver[n] = '\0';
      S->have_driver = 1;
    } else if (nameis(&names[1], "cuda_version") && n < sizeof S->cuda) {
      memcpy(S->cuda, t, n);
      S->cuda[n] = '\0';
      S->have_cuda = 1;
    }
    return 0;
  }
  if (!S->cur || depth < 3 || !nameis(&names[1], "gpu")) return 0;
  for (d = 2; d < depth; d++) {
    if (rl + names[d].n + 2 > sizeof rel) return 0;
    if (rl) rel[rl++] = '/';
    memcpy(rel + rl, names[d].s, names[d].n);
    rl += names[d].n;
  }
  rel[rl] = '\0';
  for (k = 0; k < sizeof gpu_keys / sizeof gpu_keys[0]; k++) {
    struct eidos_value *v;
    if (strcmp(rel, gpu_keys[k].path)) continue;
    if (!cx_utf8(t, n)) return 0;
    if (!strcmp(gpu_keys[k].key, "memory-total-mib") && n > 4 &&
        !memcmp(t + n - 4, " MiB", 4)) {
      long long mib = 0;
      size_t i;
      for (i = 0; i < n - 4 && t[i] >= '0' && t[i] <= '9' && mib < (1LL << 50); i++)
        mib = mib * 10 + (t[i] - '0');
      v = i == n - 4 && i > 0 ? eidos_value_new_int(mib)
                              : eidos_value_new_lstring(t, n);
    } else {
      v = eidos_value_new_lstring(t, n);
    }
    if (eidos_value_map_set(S->cur, gpu_keys[k].key, v))
      return eidos_err(S->err, S->errlen, EIDOS_EINTERNAL, "out of memory");
    return 0;
  }
  return 0;
}

int eidos_collect_parse_smi_xml(const char *xml, size_t len,
                                struct eidos_value *data,
                                struct eidos_value *gpus,
                                char *err, size_t errlen) {
  struct smi S;
  struct xml_handler h;
  int rc;
  memset(&S, 0, sizeof S);
  S.data = data;
  S.gpus = gpus;
  S.err = err;
  S.errlen = errlen;
  h.ud = &S;
  h.open = smi_open;
  h.leaf = smi_leaf;
  h.close = smi_close;
  if ((rc = xml_scan(xml, len, &h, err, errlen))) return rc;
  if (!S.have_driver)
    return eidos_err(err, errlen, EIDOS_EINVAL,
                     "nvidia-smi XML has no <driver_version>");
  if (eidos_value_map_set_str(data, "driver", S.driver) ||
      eidos_value_map_set_str(data, "driver-version", S.driver) ||
      eidos_value_map_set_str(data, "cuda-version", S.have_cuda ? S.cuda : "") ||
      eidos_value_map_set_int(data, "gpu-count", S.ngpus))
    return eidos_err(err, errlen, EIDOS_EINTERNAL, "out of memory");
  return 0;
}

/* nvidia-smi -q -x of an 8-GPU node is ~300 KiB; 64 MiB is far beyond any */
#define SMI_MAX_OUT (64u << 20)

int cx_smi_run(const struct eidos_collect_ctx *c, char **xml, size_t *len,
               char *err, size_t errlen) {
  static const char *const argv[] = {"nvidia-smi", "-q", "-x", NULL};
  struct eidos_proc p;
  int rc;

  *xml = NULL;
  *len = 0;
  memset(&p, 0, sizeof p);
  p.argv = argv;
  p.path = c->path;
  p.envp = c->envp;
  p.deadline_ms = c->deadline_ms;
  p.max_out = SMI_MAX_OUT;
  p.max_err = 512;
  p.on_child = c->on_child;
  p.ud = c->child_ud;
  /* nvidia-smi says why it failed on stdout ("No devices were found"),
   * which the message then quotes */
  rc = eidos_proc_call(&p, NULL, EIDOS_EFAIL, err, errlen);
  if (!rc) {
    *xml = p.out;
    *len = p.out_len;
    p.out = NULL;
  }
  eidos_proc_free(&p);
  return rc;
}
