/* bytes_methods.c — the methods of Bytes and byte indexing (b[i]).
 *
 * Bytes are immutable.  Unlike Str and Array, get() and slice() take no
 * negative positions (only b[i] does), and a bad position or range is an
 * IndexErr rather than being clamped.
 */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "vm.h"

qval bytes_index(qvm *vm, qbytes *b, qval index)
{
    int64_t at = index_check(vm, "Bytes", index, b->len);
    return at < 0 ? qv_exc() : qv_int(b->data[at]);
}

/* A position: Int, or a Float truncated as the reference does. */
static bool bytes_arg_pos(qvm *vm, const char *fname, qval v, int64_t *out)
{
    if (IS_FLOAT(v) && isfinite(v.as.f)) {
        *out = (int64_t)v.as.f;
        return true;
    }
    return arg_int(vm, fname, v, out);
}

static qval bytes_len(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return qv_int(AS_BYTES(self)->len);
}

static qval bytes_get(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qbytes *b = AS_BYTES(self);
    int64_t i;
    if (!bytes_arg_pos(vm, "Bytes.get", argv[0], &i))
        return qv_exc();
    if (i < 0 || i >= (int64_t)b->len)
        return vm_raise(vm, E_INDEX, "Index %" PRId64 " out of bounds for bytes of length %u", i,
                        b->len);
    return qv_int(b->data[i]);
}

static qval bytes_slice(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qbytes *b = AS_BYTES(self);
    int64_t from, to;
    if (!bytes_arg_pos(vm, "Bytes.slice", argv[0], &from) ||
        !bytes_arg_pos(vm, "Bytes.slice", argv[1], &to))
        return qv_exc();
    if (from < 0 || to > (int64_t)b->len || from > to)
        return vm_raise(vm, E_INDEX,
                        "Invalid slice range %" PRId64 ":%" PRId64 " for bytes of length %u",
                        from, to, b->len);
    return qv_obj(bytes_new(vm, b->data + from, (size_t)(to - from)));
}

static bool bytes_is_ascii(const qbytes *b)
{
    for (uint32_t i = 0; i < b->len; i++)
        if (b->data[i] >= 0x80)
            return false;
    return true;
}

/* decode([encoding]): "utf-8" (the default), "ascii" or "hex". */
static qval bytes_decode(qvm *vm, qval self, int argc, qval *argv)
{
    qbytes *b = AS_BYTES(self);
    qstr *enc = NULL;
    if (argc > 0 && !arg_str(vm, "Bytes.decode", argv[0], &enc))
        return qv_exc();
    const char *e = enc ? enc->data : "utf-8";
    if (!strcmp(e, "utf-8") || !strcmp(e, "utf8")) {
        if (!utf8_valid((const char *)b->data, b->len))
            return vm_raise(vm, E_VALUE, "Invalid UTF-8 in bytes");
    } else if (!strcmp(e, "ascii")) {
        if (!bytes_is_ascii(b))
            return vm_raise(vm, E_VALUE, "Bytes contain non-ASCII characters");
    } else if (!strcmp(e, "hex")) {
        static const char digits[] = "0123456789abcdef";
        qbuf h;
        buf_init(&h);
        for (uint32_t i = 0; i < b->len; i++) {
            buf_putc(&h, digits[b->data[i] >> 4]);
            buf_putc(&h, digits[b->data[i] & 15]);
        }
        if (h.len > UINT32_MAX) {
            buf_free(&h);
            return vm_raise(vm, E_VALUE, "resulting string is too large");
        }
        return qv_obj(buf_to_str(vm, &h));
    } else {
        return vm_raise(vm, E_VALUE, "Unknown encoding: %s. Supported: utf-8, hex, ascii", e);
    }
    return qv_obj(str_new(vm, (const char *)b->data, b->len));
}

static qval bytes_to_array(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    qbytes *b = AS_BYTES(self);
    qarray *a = arr_new(vm, b->len);
    for (uint32_t i = 0; i < b->len; i++)
        arr_push(vm, a, qv_int(b->data[i]));
    return qv_obj(a);
}

static const qmethod_def bytes_method_defs[] = {
    {"len", bytes_len, 0, 0, false},
    {"get", bytes_get, 1, 1, false},
    {"slice", bytes_slice, 2, 2, false},
    {"decode", bytes_decode, 0, 1, false},
    {"to_array", bytes_to_array, 0, 0, false},
    {0},
};

void bytes_init_class(qvm *vm, qtype *t)
{
    vm_add_methods(vm, t, bytes_method_defs);
}
