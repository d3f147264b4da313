/* struct.c — std/encoding/struct: values packed into bytes by a format
 * string, in the manner of Python's struct module.
 *
 * A format is an optional byte-order prefix (@ and = native, < little, >
 * and ! big endian) and codes with optional repeat counts: x pad, c char,
 * b/B 8-bit, ? bool, h/H 16-bit, i/I/l/L 32-bit, q/Q 64-bit integers,
 * f/d 32/64-bit floats, s a fixed-size string and p a Pascal string (a
 * length byte first).  For s and p the count is the field's size in bytes
 * and one value fills it.  Sizes are the standard ones in every mode: no
 * native alignment padding.  Bad formats, wrong value counts, values out
 * of range and short data are ValueErr.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "modules/modules.h"

typedef struct st_item {
    char code;
    uint32_t count;
} st_item;

typedef struct st_format {
    bool little;
    uint32_t nitems;
    st_item *items;     /* malloc'd; freed by st_format_free */
    uint64_t size;      /* bytes packed */
    uint64_t nvalues;   /* values consumed / produced */
} st_format;

static int st_code_size(char code)
{
    switch (code) {
    case 'x': case 'c': case 'b': case 'B': case '?': case 's': case 'p': return 1;
    case 'h': case 'H': return 2;
    case 'i': case 'I': case 'l': case 'L': case 'f': return 4;
    case 'q': case 'Q': case 'd': return 8;
    default: return 0;
    }
}

static void st_format_free(st_format *f)
{
    free(f->items);
}

/* Parse fmt; false after raising ValueErr. */
static bool st_parse(qvm *vm, const qstr *fmt, st_format *f)
{
    const char *p = fmt->data, *end = p + fmt->len;
    *f = (st_format){.little = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__};
    if (p == end) {
        vm_raise(vm, E_VALUE, "Format string cannot be empty");
        return false;
    }
    if (*p == '<' || *p == '>' || *p == '!' || *p == '@' || *p == '=') {
        if (*p == '<' || *p == '>' || *p == '!')
            f->little = *p == '<';
        p++;
    }
    if (!(f->items = malloc((fmt->len + 1) * sizeof *f->items)))
        abort();
    while (p < end) {
        uint64_t count = 1;
        if (*p >= '0' && *p <= '9') {
            for (count = 0; p < end && *p >= '0' && *p <= '9'; p++)
                if ((count = count * 10 + (uint64_t)(*p - '0')) > UINT32_MAX)
                    break;
            if (count > UINT32_MAX) {
                vm_raise(vm, E_VALUE, "Repeat count too large in format '%s'", fmt->data);
                return false;
            }
            if (p == end) {
                vm_raise(vm, E_VALUE, "Format string ends with a count but no format character");
                return false;
            }
        }
        char code = *p++;
        if (!st_code_size(code)) {
            if ((unsigned char)code >= 0x20 && (unsigned char)code < 0x7f)
                vm_raise(vm, E_VALUE, "Invalid format character: '%c'", code);
            else
                vm_raise(vm, E_VALUE, "Invalid format character: byte 0x%02x", (unsigned char)code);
            return false;
        }
        f->items[f->nitems++] = (st_item){code, (uint32_t)count};
        f->size += count * (uint64_t)st_code_size(code);
        if (code == 's' || code == 'p')
            f->nvalues++;
        else if (code != 'x')
            f->nvalues += count;
    }
    if (f->size > UINT32_MAX) {
        vm_raise(vm, E_VALUE, "Format '%s' describes more than 4 GiB", fmt->data);
        return false;
    }
    return true;
}

/* The format argument, parsed; the caller frees it on success. */
static bool st_format_arg(qvm *vm, const char *fname, qval v, st_format *f)
{
    qstr *fmt;
    if (!arg_str(vm, fname, v, &fmt))
        return false;
    if (st_parse(vm, fmt, f))
        return true;
    st_format_free(f);
    return false;
}

/* ---- packing ------------------------------------------------------------------------------ */

static void st_put_uint(uint8_t *out, uint64_t u, int size, bool little)
{
    for (int i = 0; i < size; i++)
        out[little ? i : size - 1 - i] = (uint8_t)(u >> (8 * i));
}

/* An integer value for code (Int, or a Float truncated); false after raising. */
static bool st_int_value(qvm *vm, qval v, char code, int64_t *out)
{
    if (IS_INT(v)) {
        *out = v.as.i;
        return true;
    }
    if (IS_FLOAT(v)) {
        if (!(v.as.f > -9223372036854775809.0 && v.as.f < 9223372036854775808.0)) {
            vm_raise(vm, E_VALUE, "Value %g out of range for format '%c'", v.as.f, code);
            return false;
        }
        *out = (int64_t)v.as.f;
        return true;
    }
    vm_raise(vm, E_TYPE, "Format '%c' expects Int or Float, got %s", code, vm_cls_name(v));
    return false;
}

static bool st_pack_int(qvm *vm, uint8_t *out, qval v, char code, bool little)
{
    static const struct { char code; int size; int64_t lo, hi; const char *what; } ranges[] = {
        {'b', 1, -128, 127, "signed byte"},
        {'B', 1, 0, 255, "unsigned byte"},
        {'h', 2, -32768, 32767, "signed short"},
        {'H', 2, 0, 65535, "unsigned short"},
        {'i', 4, -2147483648LL, 2147483647LL, "signed int"},
        {'l', 4, -2147483648LL, 2147483647LL, "signed int"},
        {'I', 4, 0, 4294967295LL, "unsigned int"},
        {'L', 4, 0, 4294967295LL, "unsigned int"},
        {'q', 8, INT64_MIN, INT64_MAX, "signed long long"},
        {'Q', 8, 0, INT64_MAX, "unsigned long long"},
    };
    int64_t n;
    if (!st_int_value(vm, v, code, &n))
        return false;
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
        if (ranges[i].code != code)
            continue;
        if (n < ranges[i].lo || n > ranges[i].hi) {
            vm_raise(vm, E_VALUE, "Value %lld out of range for %s (%lld to %lld)", (long long)n,
                     ranges[i].what, (long long)ranges[i].lo, (long long)ranges[i].hi);
            return false;
        }
        st_put_uint(out, (uint64_t)n, ranges[i].size, little);
        return true;
    }
    return false;
}

static bool st_pack_float(qvm *vm, uint8_t *out, qval v, char code, bool little)
{
    double d;
    if (!arg_num(vm, code == 'f' ? "struct.pack 'f'" : "struct.pack 'd'", v, &d))
        return false;
    if (code == 'f') {
        float x = (float)d;
        uint32_t u;
        memcpy(&u, &x, 4);
        st_put_uint(out, u, 4, little);
    } else {
        uint64_t u;
        memcpy(&u, &d, 8);
        st_put_uint(out, u, 8, little);
    }
    return true;
}

/* The bytes of a Str or Bytes value for c, s and p. */
static bool st_text_value(qvm *vm, qval v, char code, const uint8_t **p, size_t *n)
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
    vm_raise(vm, E_TYPE, "Format '%c' expects Str or Bytes, got %s", code, vm_cls_name(v));
    return false;
}

/* One code with its count; *vi is the next value to use. */
static bool st_pack_item(qvm *vm, uint8_t *out, const st_item *it, bool little, qval *vals, size_t *vi)
{
    const uint8_t *p;
    size_t n;
    switch (it->code) {
    case 'x':
        return true; /* the buffer starts zeroed */
    case 's':
        if (!st_text_value(vm, vals[(*vi)++], 's', &p, &n))
            return false;
        memcpy(out, p, n < it->count ? n : it->count);
        return true;
    case 'p':
        if (!st_text_value(vm, vals[(*vi)++], 'p', &p, &n))
            return false;
        if (it->count == 0)
            return true;
        if (n > it->count - 1)
            n = it->count - 1;
        if (n > 255)
            n = 255;
        out[0] = (uint8_t)n;
        memcpy(out + 1, p, n);
        return true;
    default:
        break;
    }
    int size = st_code_size(it->code);
    for (uint32_t k = 0; k < it->count; k++, out += size) {
        qval v = vals[(*vi)++];
        if (it->code == 'c') {
            if (!st_text_value(vm, v, 'c', &p, &n))
                return false;
            if (n != 1) {
                vm_raise(vm, E_VALUE, "'c' format requires a string of length 1, got %zu", n);
                return false;
            }
            out[0] = p[0];
        } else if (it->code == '?') {
            out[0] = vm_truthy(v);
        } else if (it->code == 'f' || it->code == 'd') {
            if (!st_pack_float(vm, out, v, it->code, little))
                return false;
        } else if (!st_pack_int(vm, out, v, it->code, little)) {
            return false;
        }
    }
    return true;
}

/* pack(format, values...) -> Bytes */
static qval st_pack(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self;
    st_format f;
    if (!st_format_arg(vm, "struct.pack", argv[0], &f))
        return qv_exc();
    size_t given = (size_t)argc - 1, vi = 0;
    if (given != f.nvalues) {
        st_format_free(&f);
        return vm_raise(vm, E_VALUE, "pack expected %llu values for format '%s', got %zu",
                        (unsigned long long)f.nvalues, AS_STR(argv[0])->data, given);
    }
    uint8_t *buf = calloc(f.size + 1, 1);
    if (!buf)
        abort();
    bool ok = true;
    size_t at = 0;
    for (uint32_t i = 0; ok && i < f.nitems; i++) {
        ok = st_pack_item(vm, buf + at, &f.items[i], f.little, argv + 1, &vi);
        at += (size_t)f.items[i].count * (size_t)st_code_size(f.items[i].code);
    }
    qval r = ok ? qv_obj(bytes_new(vm, buf, f.size)) : qv_exc();
    free(buf);
    st_format_free(&f);
    return r;
}

static qval st_calcsize(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    st_format f;
    if (!st_format_arg(vm, "struct.calcsize", argv[0], &f))
        return qv_exc();
    st_format_free(&f);
    return qv_int((int64_t)f.size);
}

/* ---- unpacking --------------------------------------------------------------------------- */

static uint64_t st_get_uint(const uint8_t *in, int size, bool little)
{
    uint64_t u = 0;
    for (int i = 0; i < size; i++)
        u |= (uint64_t)in[little ? i : size - 1 - i] << (8 * i);
    return u;
}

/* Bytes as text, each invalid UTF-8 sequence replaced by U+FFFD. */
static qstr *st_lossy_str(qvm *vm, const uint8_t *p, size_t n)
{
    if (utf8_valid((const char *)p, n))
        return str_new(vm, (const char *)p, n);
    qbuf b;
    buf_init(&b);
    for (size_t i = 0; i < n;) {
        size_t len = p[i] < 0x80 ? 1 : p[i] >= 0xF0 ? 4 : p[i] >= 0xE0 ? 3 : p[i] >= 0xC0 ? 2 : 0;
        if (len && i + len <= n && utf8_valid((const char *)p + i, len)) {
            buf_append(&b, (const char *)p + i, len);
            i += len;
        } else {
            buf_puts(&b, "\xEF\xBF\xBD");
            i++;
        }
    }
    return buf_to_str(vm, &b);
}

/* A byte as the character with that code point (U+0000..U+00FF). */
static qstr *st_char_str(qvm *vm, uint8_t c)
{
    char u[2] = {(char)(0xC0 | c >> 6), (char)(0x80 | (c & 0x3F))};
    return c < 0x80 ? str_new(vm, (const char *)&c, 1) : str_new(vm, u, 2);
}

static qval st_unpack_int(qvm *vm, const uint8_t *in, char code, bool little)
{
    int size = st_code_size(code);
    uint64_t u = st_get_uint(in, size, little);
    bool is_signed = code == 'b' || code == 'h' || code == 'i' || code == 'l' || code == 'q';
    if (is_signed && size < 8 && (u >> (8 * size - 1)))
        u |= ~0ULL << (8 * size); /* sign-extend */
    if (code == 'Q' && u > INT64_MAX) {
        char digits[24];
        snprintf(digits, sizeof digits, "%llu", (unsigned long long)u);
        return bigint_from_cstr(vm, digits);
    }
    return qv_int((int64_t)u);
}

static qval st_unpack_value(qvm *vm, const uint8_t *in, char code, bool little)
{
    switch (code) {
    case 'c': return qv_obj(st_char_str(vm, in[0]));
    case '?': return qv_bool(in[0] != 0);
    case 'f': {
        uint32_t u = (uint32_t)st_get_uint(in, 4, little);
        float x;
        memcpy(&x, &u, 4);
        return qv_float(x);
    }
    case 'd': {
        uint64_t u = st_get_uint(in, 8, little);
        double x;
        memcpy(&x, &u, 8);
        return qv_float(x);
    }
    default: return st_unpack_int(vm, in, code, little);
    }
}

static qval st_unpack_at(qvm *vm, qval fmtv, const qbytes *data, int64_t offset)
{
    st_format f;
    if (!st_format_arg(vm, "struct.unpack", fmtv, &f))
        return qv_exc();
    if (offset < 0 || offset > (int64_t)data->len || f.size > data->len - (uint64_t)offset) {
        st_format_free(&f);
        return vm_raise(vm, E_VALUE, "unpack requires %llu bytes, but only %lld bytes available from offset %lld",
                        (unsigned long long)f.size,
                        (long long)(offset <= (int64_t)data->len ? (int64_t)data->len - offset : 0),
                        (long long)offset);
    }
    const uint8_t *in = data->data + offset;
    qarray *out = arr_new(vm, (uint32_t)f.nvalues);
    for (uint32_t i = 0; i < f.nitems; i++) {
        const st_item *it = &f.items[i];
        if (it->code == 's') {
            const uint8_t *nul = memchr(in, 0, it->count);
            arr_push(vm, out, qv_obj(st_lossy_str(vm, in, nul ? (size_t)(nul - in) : it->count)));
            in += it->count;
            continue;
        }
        if (it->code == 'p') {
            size_t n = it->count ? in[0] : 0;
            if (it->count && n > it->count - 1)
                n = it->count - 1;
            arr_push(vm, out, qv_obj(st_lossy_str(vm, in + 1, n)));
            in += it->count;
            continue;
        }
        int size = st_code_size(it->code);
        for (uint32_t k = 0; k < it->count; k++, in += size)
            if (it->code != 'x')
                arr_push(vm, out, st_unpack_value(vm, in, it->code, f.little));
    }
    st_format_free(&f);
    return qv_obj(out);
}

static bool st_bytes_arg(qvm *vm, const char *fname, qval v, qbytes **out)
{
    if (IS_BYTES(v)) {
        *out = AS_BYTES(v);
        return true;
    }
    vm_raise(vm, E_TYPE, "%s expects Bytes, got %s", fname, vm_cls_name(v));
    return false;
}

/* unpack(format, data) -> Array */
static qval st_unpack(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    qbytes *data;
    if (!st_bytes_arg(vm, "struct.unpack", argv[1], &data))
        return qv_exc();
    return st_unpack_at(vm, argv[0], data, 0);
}

/* unpack_from(format, data, offset) -> Array */
static qval st_unpack_from(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    qbytes *data;
    int64_t offset;
    if (!st_bytes_arg(vm, "struct.unpack_from", argv[1], &data))
        return qv_exc();
    if (IS_FLOAT(argv[2]) && fabs(argv[2].as.f) < 9e18)
        offset = (int64_t)argv[2].as.f;
    else if (!arg_int(vm, "struct.unpack_from", argv[2], &offset))
        return qv_exc();
    if (offset < 0)
        return vm_raise(vm, E_VALUE, "Offset cannot be negative");
    return st_unpack_at(vm, argv[0], data, offset);
}

static const qmethod_def struct_functions[] = {
    {"pack", st_pack, 1, -1, false},
    {"unpack", st_unpack, 2, 2, false},
    {"unpack_from", st_unpack_from, 3, 3, false},
    {"calcsize", st_calcsize, 1, 1, false},
    {NULL, NULL, 0, 0, false},
};

bool struct_module_init(qvm *vm, qmodule *m)
{
    module_export_fns(vm, m, struct_functions);
    return true;
}
