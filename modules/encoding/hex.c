/* hex.c — std/encoding/hex: bytes as hexadecimal text and back.
 *
 * decode() and is_valid() skip the separators people put between byte
 * pairs (':' '-' and whitespace), so MAC addresses and hexdumps read back.
 * A stray character or an odd number of digits is a ValueErr.
 */
#include "modules/modules.h"

/* The bytes to encode: Bytes, or a Str's UTF-8. */
static bool hex_data_arg(qvm *vm, const char *fname, qval v, const uint8_t **p, size_t *n)
{
    if (IS_BYTES(v)) {
        *p = AS_BYTES(v)->data;
        *n = AS_BYTES(v)->len;
        return true;
    }
    if (IS_STR(v)) {
        *p = (const uint8_t *)AS_STR(v)->data;
        *n = AS_STR(v)->len;
        return true;
    }
    vm_raise(vm, E_TYPE, "%s expects Bytes, got %s", fname, vm_cls_name(v));
    return false;
}

static qval hex_encode_with(qvm *vm, const char *fname, qval v, const char *digits,
                            const qstr *sep)
{
    const uint8_t *p;
    size_t n;
    if (!hex_data_arg(vm, fname, v, &p, &n))
        return qv_exc();
    if (n && (2 + (sep ? sep->len : 0)) * (n - 1) + 2 > UINT32_MAX)
        return vm_raise(vm, E_VALUE, "%s: data too large", fname);
    qbuf b;
    buf_init(&b);
    for (size_t i = 0; i < n; i++) {
        if (i && sep)
            buf_append(&b, sep->data, sep->len);
        char pair[2] = {digits[p[i] >> 4], digits[p[i] & 15]};
        buf_append(&b, pair, 2);
    }
    return qv_obj(buf_to_str(vm, &b));
}

static qval hex_encode(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    return hex_encode_with(vm, "hex.encode", argv[0], "0123456789abcdef", NULL);
}

static qval hex_encode_upper(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    return hex_encode_with(vm, "hex.encode_upper", argv[0], "0123456789ABCDEF", NULL);
}

static qval hex_encode_with_sep(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    qstr *sep;
    if (!arg_str(vm, "hex.encode_with_sep", argv[1], &sep))
        return qv_exc();
    return hex_encode_with(vm, "hex.encode_with_sep", argv[0], "0123456789abcdef", sep);
}

static bool hex_is_sep(char c)
{
    return c == ':' || c == '-' || c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

typedef enum { HEX_OK, HEX_ODD, HEX_BAD_CHAR } hex_status;

/* Decode s into b (when b is not NULL); on HEX_BAD_CHAR *bad is the
 * offending character. */
static hex_status hex_scan(const qstr *s, qbuf *b, char *bad)
{
    size_t digits = 0;
    for (uint32_t i = 0; i < s->len; i++)
        if (!hex_is_sep(s->data[i]))
            digits++;
    if (digits % 2)
        return HEX_ODD;
    int high = -1;
    for (uint32_t i = 0; i < s->len; i++) {
        char c = s->data[i];
        if (hex_is_sep(c))
            continue;
        int d = hex_digit_value(c);
        if (d < 0) {
            *bad = c;
            return HEX_BAD_CHAR;
        }
        if (high < 0) {
            high = d;
        } else {
            if (b)
                buf_putc(b, (char)(high << 4 | d));
            high = -1;
        }
    }
    return HEX_OK;
}

static qval hex_decode(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    qstr *s;
    if (!arg_str(vm, "hex.decode", argv[0], &s))
        return qv_exc();
    qbuf b;
    buf_init(&b);
    char bad = 0;
    hex_status st = hex_scan(s, &b, &bad);
    if (st != HEX_OK) {
        buf_free(&b);
        if (st == HEX_ODD)
            return vm_raise(vm, E_VALUE, "Invalid hex string: odd number of hex digits");
        if ((unsigned char)bad >= 0x20 && (unsigned char)bad < 0x7f)
            return vm_raise(vm, E_VALUE, "Invalid hex character: '%c'", bad);
        return vm_raise(vm, E_VALUE, "Invalid hex character: byte 0x%02x", (unsigned char)bad);
    }
    qbytes *out = bytes_new(vm, b.data, b.len);
    buf_free(&b);
    return qv_obj(out);
}

static qval hex_is_valid(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    qstr *s;
    char bad;
    if (!arg_str(vm, "hex.is_valid", argv[0], &s))
        return qv_exc();
    return qv_bool(hex_scan(s, NULL, &bad) == HEX_OK);
}

static const qmethod_def hex_functions[] = {
    {"encode", hex_encode, 1, 1, false},
    {"encode_upper", hex_encode_upper, 1, 1, false},
    {"encode_with_sep", hex_encode_with_sep, 2, 2, false},
    {"decode", hex_decode, 1, 1, false},
    {"is_valid", hex_is_valid, 1, 1, false},
    {NULL, NULL, 0, 0, false},
};

bool hex_module_init(qvm *vm, qmodule *m)
{
    module_export_fns(vm, m, hex_functions);
    return true;
}
