/* b64.c — std/encoding/b64: Base64 (RFC 4648).
 *
 * encode/decode use the standard alphabet with '=' padding; encode_url and
 * decode_url the URL-safe alphabet ('-' and '_') without padding.  Decoding
 * is strict, as the reference's is: no whitespace, padding exactly where
 * the standard form puts it (and none in the URL-safe form), and no stray
 * bits in the last character.  Decoded data must be UTF-8 text, since the
 * result is a Str.  Any violation is a ValueErr.
 */
#include <string.h>

#include "modules/modules.h"

static const char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* The bytes to encode: a Str's UTF-8 or a Bytes value. */
static bool b64_data_arg(qvm *vm, const char *fname, qval v, const uint8_t **p, size_t *n)
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

static qval b64_encode_with(qvm *vm, const char *fname, qval v, const char *alpha, bool pad)
{
    const uint8_t *p;
    size_t n;
    if (!b64_data_arg(vm, fname, v, &p, &n))
        return qv_exc();
    if (n > (UINT32_MAX / 4) * 3 - 3)
        return vm_raise(vm, E_VALUE, "%s: data too large", fname);
    qbuf b;
    buf_init(&b);
    for (size_t i = 0; i < n; i += 3) {
        size_t left = n - i;
        uint32_t w = (uint32_t)p[i] << 16 | (left > 1 ? (uint32_t)p[i + 1] << 8 : 0) |
                     (left > 2 ? p[i + 2] : 0);
        char out[4] = {alpha[w >> 18], alpha[(w >> 12) & 63], alpha[(w >> 6) & 63], alpha[w & 63]};
        size_t keep = left > 2 ? 4 : left + 1;
        buf_append(&b, out, keep);
        if (pad)
            buf_append(&b, "==", 4 - keep);
    }
    return qv_obj(buf_to_str(vm, &b));
}

/* The 6-bit value of c in alpha, or -1. */
static int b64_value(unsigned char c, const char *alpha)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c && c == (unsigned char)alpha[62])
        return 62;
    if (c && c == (unsigned char)alpha[63])
        return 63;
    return -1;
}

static qval b64_fail_symbol(qvm *vm, unsigned char c, size_t at)
{
    if (c >= 0x20 && c < 0x7f)
        return vm_raise(vm, E_VALUE, "Base64 decode error: invalid symbol '%c' at offset %zu", c, at);
    return vm_raise(vm, E_VALUE, "Base64 decode error: invalid byte 0x%02x at offset %zu", c, at);
}

/* Decode s (n bytes) into b; false after raising. */
static bool b64_decode_into(qvm *vm, qbuf *b, const char *s, size_t n, const char *alpha, bool pad)
{
    size_t body = n;
    if (pad) {
        if (n % 4) {
            vm_raise(vm, E_VALUE, "Base64 decode error: invalid length %zu (not a multiple of 4)", n);
            return false;
        }
        while (body > 0 && n - body < 2 && s[body - 1] == '=')
            body--;
    } else if (n % 4 == 1) {
        vm_raise(vm, E_VALUE, "Base64 decode error: invalid length %zu", n);
        return false;
    }
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < body; i++) {
        int v = b64_value((unsigned char)s[i], alpha);
        if (v < 0) {
            b64_fail_symbol(vm, (unsigned char)s[i], i);
            return false;
        }
        acc = (acc << 6 | (uint32_t)v) & 0xFFFFFF;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf_putc(b, (char)(acc >> bits));
        }
    }
    /* The bits left over after the last whole byte must be zero
     * (otherwise two texts would decode alike). */
    if (acc & ((1u << bits) - 1)) {
        vm_raise(vm, E_VALUE, "Base64 decode error: invalid last symbol at offset %zu",
                 body ? body - 1 : 0);
        return false;
    }
    return true;
}

static qval b64_decode_with(qvm *vm, const char *fname, qval v, const char *alpha, bool pad)
{
    qstr *s;
    if (!arg_str(vm, fname, v, &s))
        return qv_exc();
    qbuf b;
    buf_init(&b);
    if (!b64_decode_into(vm, &b, s->data, s->len, alpha, pad)) {
        buf_free(&b);
        return qv_exc();
    }
    if (!utf8_valid(b.data ? b.data : "", b.len)) {
        buf_free(&b);
        return vm_raise(vm, E_VALUE, "Invalid UTF-8 in decoded data");
    }
    return qv_obj(buf_to_str(vm, &b));
}

static qval b64_encode(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    return b64_encode_with(vm, "b64.encode", argv[0], b64_std, true);
}

static qval b64_decode(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    return b64_decode_with(vm, "b64.decode", argv[0], b64_std, true);
}

static qval b64_encode_url(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    return b64_encode_with(vm, "b64.encode_url", argv[0], b64_url, false);
}

static qval b64_decode_url(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    return b64_decode_with(vm, "b64.decode_url", argv[0], b64_url, false);
}

static const qmethod_def b64_functions[] = {
    {"encode", b64_encode, 1, 1, false},
    {"decode", b64_decode, 1, 1, false},
    {"encode_url", b64_encode_url, 1, 1, false},
    {"decode_url", b64_decode_url, 1, 1, false},
    {NULL, NULL, 0, 0, false},
};

bool b64_module_init(qvm *vm, qmodule *m)
{
    module_export_fns(vm, m, b64_functions);
    return true;
}
