/*
 * lazy.h -- heavy shared libraries (libcrypto, libcurl, libarchive, zlib,
 * libsystemd) are opened with dlopen on first use, not linked, so that
 * commands which do not need them start as fast as a bare Lua VM (linking
 * them all costs ~4 ms of dynamic loading per process). Each library is a
 * table of function pointers typed from the library's own header with
 * __typeof__, filled once (pthread_once, thread-safe). A core module writes
 *
 *   const struct eidos_crypto *c = eidos_lazy_crypto(err, errlen);
 *   if (!c) return EIDOS_EUNAVAIL;
 *   EVP_MD_CTX *ctx = c->EVP_MD_CTX_new();
 *
 * libnettle gives SHA-256 (much cheaper to open than libcrypto, which is
 * kept for signatures). To use another function, add it to the library's X-macro list below.
 */
#ifndef EIDOS_LAZY_H
#define EIDOS_LAZY_H

#include <stddef.h>
#include "dl.h"
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/rand.h>
#include <curl/curl.h>
#include <archive.h>
#include <archive_entry.h>
#include <nettle/sha2.h>
#include <zlib.h>

#define EIDOS_CRYPTO_SYMS(X) \
  X(EVP_MD_CTX_new) X(EVP_MD_CTX_free) X(EVP_sha256) X(EVP_DigestInit_ex) \
  X(EVP_DigestUpdate) X(EVP_DigestFinal_ex) X(EVP_DigestSignInit) \
  X(EVP_DigestSign) X(EVP_DigestVerifyInit) X(EVP_DigestVerify) \
  X(EVP_PKEY_free) X(EVP_PKEY_get_base_id) X(BIO_new_mem_buf) X(BIO_free) \
  X(BIO_new) X(BIO_s_mem) X(BIO_ctrl) \
  X(PEM_read_bio_PrivateKey) X(PEM_read_bio_PUBKEY) X(PEM_write_bio_PUBKEY) \
  X(ERR_get_error) X(ERR_error_string_n) X(ERR_clear_error) \
  X(RAND_bytes) \
  X(EVP_MD_CTX_copy_ex) X(EVP_PKEY_get_group_name) X(EVP_PKEY_get0_type_name) \
  X(EVP_PKEY_new_raw_private_key) X(EVP_PKEY_get_raw_public_key)

/* GNU Nettle for plain hashing: it opens in ~0.1 ms where libcrypto takes
 * ~0.6 ms, and OpenSSL 3 also fetches the digest on every init. */
#define EIDOS_NETTLE_SYMS(X) \
  X(nettle_sha256_init) X(nettle_sha256_update) X(nettle_sha256_digest)

#define EIDOS_CURL_SYMS(X) \
  X(curl_global_init) X(curl_easy_init) X(curl_easy_setopt) \
  X(curl_easy_perform) X(curl_easy_getinfo) X(curl_easy_cleanup) \
  X(curl_easy_reset) X(curl_easy_strerror) X(curl_slist_append) \
  X(curl_slist_free_all)

#define EIDOS_ARCHIVE_SYMS(X) \
  X(archive_write_new) X(archive_write_free) X(archive_write_close) \
  X(archive_write_set_format_pax_restricted) X(archive_write_set_format_zip) \
  X(archive_write_add_filter_gzip) X(archive_write_add_filter_none) \
  X(archive_write_set_filter_option) X(archive_write_set_option) \
  X(archive_write_open_filename) X(archive_write_open_memory) \
  X(archive_write_set_bytes_in_last_block) \
  X(archive_write_header) X(archive_write_data) X(archive_error_string) \
  X(archive_entry_new) X(archive_entry_free) X(archive_entry_set_pathname) \
  X(archive_entry_set_size) X(archive_entry_set_filetype) \
  X(archive_entry_set_perm) X(archive_entry_set_mtime) \
  X(archive_entry_set_uid) X(archive_entry_set_gid) \
  X(archive_entry_set_uname) X(archive_entry_set_gname) \
  X(archive_write_open) X(archive_write_set_format_raw) \
  X(archive_read_new) X(archive_read_free) X(archive_read_support_filter_gzip) \
  X(archive_read_support_format_tar) X(archive_read_open_memory) \
  X(archive_read_next_header) X(archive_read_data) \
  X(archive_entry_pathname) X(archive_entry_size) X(archive_entry_size_is_set) \
  X(archive_entry_filetype) X(archive_entry_perm) X(archive_entry_hardlink)

/* zlib (it opens in ~0.1 ms, libarchive with its dependencies in ~3 ms;
 * docs/performance.md): inflate to read gzip streams (gunzip.c: Helm
 * release records), deflate for the gzip stream of tar.gz bundles and OCI
 * layers (targz.c) */
#define EIDOS_ZLIB_SYMS(X) \
  X(inflateInit2_) X(inflate) X(inflateEnd) X(inflateReset) \
  X(deflateInit2_) X(deflate) X(deflateEnd) X(deflateBound) X(crc32)

#define EIDOS_LAZY_FIELD(n) __typeof__(n) *n;
struct eidos_crypto { EIDOS_CRYPTO_SYMS(EIDOS_LAZY_FIELD) };
struct eidos_curl { EIDOS_CURL_SYMS(EIDOS_LAZY_FIELD) };
struct eidos_nettle { EIDOS_NETTLE_SYMS(EIDOS_LAZY_FIELD) };
struct eidos_archive { EIDOS_ARCHIVE_SYMS(EIDOS_LAZY_FIELD) };
struct eidos_zlib { EIDOS_ZLIB_SYMS(EIDOS_LAZY_FIELD) };

/* Each returns the filled table, or NULL with a message naming the library
 * file that could not be opened or the symbol that is missing. */
const struct eidos_crypto *eidos_lazy_crypto(char *err, size_t errlen);
const struct eidos_curl *eidos_lazy_curl(char *err, size_t errlen);
const struct eidos_nettle *eidos_lazy_nettle(char *err, size_t errlen);
const struct eidos_archive *eidos_lazy_archive(char *err, size_t errlen);
const struct eidos_zlib *eidos_lazy_zlib(char *err, size_t errlen);

#endif
