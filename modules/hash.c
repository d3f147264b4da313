/* hash.c — std/hash and std/crypto: message digests, HMAC and CRC-32.
 *
 * Digests come from OpenSSL's EVP interface, CRC-32 from zlib.  Every
 * function takes a Str (its UTF-8 bytes) or Bytes and returns lower-case
 * hex text.  std/crypto is the reference's home for the HMAC functions;
 * std/hash offers them too, so both modules are made here.
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <zlib.h>

#include "modules/modules.h"

/* The bytes of a Str or Bytes argument. */
static bool hash_data_arg(qvm *vm, const char *fname, qval v, const uint8_t **p, size_t *n)
{
    if (IS_STR(v)) {
        *p = (const uint8_t *)AS_STR(v)->data;
        *n = AS_STR(v)->len;
        return true;
    }
    if (IS_BYTES(v)) {
        *p = AS_BYTES(v)->data;
        *n = AS_BYTES(v)->len;
        return true;
    }
    vm_raise(vm, E_TYPE, "%s expects Str or Bytes, got %s", fname, vm_cls_name(v));
    return false;
}

static qval hash_hex(qvm *vm, const uint8_t *d, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char out[2 * EVP_MAX_MD_SIZE];
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    return qv_obj(str_new(vm, out, 2 * n));
}

static qval hash_digest(qvm *vm, const char *fname, qval v, const EVP_MD *md)
{
    const uint8_t *p;
    size_t n;
    uint8_t d[EVP_MAX_MD_SIZE];
    unsigned len;
    if (!hash_data_arg(vm, fname, v, &p, &n))
        return qv_exc();
    if (!EVP_Digest(p, n, d, &len, md, NULL))
        return vm_raise(vm, E_RUNTIME, "%s: the digest failed", fname);
    return hash_hex(vm, d, len);
}

/* HMAC of message under key; both Str or Bytes. */
static qval hash_hmac(qvm *vm, const char *fname, qval *argv, const EVP_MD *md)
{
    const uint8_t *msg, *key;
    size_t msg_len, key_len;
    uint8_t d[EVP_MAX_MD_SIZE];
    unsigned len;
    if (!hash_data_arg(vm, fname, argv[0], &msg, &msg_len) ||
        !hash_data_arg(vm, fname, argv[1], &key, &key_len))
        return qv_exc();
    if (key_len > INT32_MAX)
        return vm_raise(vm, E_VALUE, "%s: key too long", fname);
    /* OpenSSL wants a non-NULL key pointer even for an empty key. */
    if (!HMAC(md, key_len ? key : (const uint8_t *)"", (int)key_len, msg, msg_len, d, &len))
        return vm_raise(vm, E_RUNTIME, "%s: HMAC failed", fname);
    return hash_hex(vm, d, len);
}

#define HASH_DIGEST_FN(name, md)                                               \
    static qval hash_##name(qvm *vm, qval self, int argc, qval *argv)          \
    {                                                                          \
        (void)self, (void)argc;                                                \
        return hash_digest(vm, "hash." #name, argv[0], md());                  \
    }

HASH_DIGEST_FN(md5, EVP_md5)
HASH_DIGEST_FN(sha1, EVP_sha1)
HASH_DIGEST_FN(sha256, EVP_sha256)
HASH_DIGEST_FN(sha512, EVP_sha512)

static qval hash_hmac_sha256(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    return hash_hmac(vm, "hmac_sha256", argv, EVP_sha256());
}

static qval hash_hmac_sha512(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    return hash_hmac(vm, "hmac_sha512", argv, EVP_sha512());
}

/* crc32(data): the CRC-32 (as zip and PNG use it) as 8 hex digits. */
static qval hash_crc32(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    const uint8_t *p;
    size_t n;
    if (!hash_data_arg(vm, "hash.crc32", argv[0], &p, &n))
        return qv_exc();
    uLong crc = crc32_z(0L, Z_NULL, 0);
    crc = crc32_z(crc, p, n);
    char out[9];
    snprintf(out, sizeof out, "%08lx", (unsigned long)crc);
    return qv_obj(str_new(vm, out, 8));
}

static const qmethod_def hash_functions[] = {
    {"md5", hash_md5, 1, 1, false},
    {"sha1", hash_sha1, 1, 1, false},
    {"sha256", hash_sha256, 1, 1, false},
    {"sha512", hash_sha512, 1, 1, false},
    {"hmac_sha256", hash_hmac_sha256, 2, 2, false},
    {"hmac_sha512", hash_hmac_sha512, 2, 2, false},
    {"crc32", hash_crc32, 1, 1, false},
    {NULL, NULL, 0, 0, false},
};

static const qmethod_def crypto_functions[] = {
    {"hmac_sha256", hash_hmac_sha256, 2, 2, false},
    {"hmac_sha512", hash_hmac_sha512, 2, 2, false},
    {NULL, NULL, 0, 0, false},
};

bool hash_module_init(qvm *vm, qmodule *m)
{
    module_export_fns(vm, m, hash_functions);
    return true;
}

bool crypto_module_init(qvm *vm, qmodule *m)
{
    module_export_fns(vm, m, crypto_functions);
    return true;
}
