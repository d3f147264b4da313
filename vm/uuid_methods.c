/* uuid_methods.c — the Uuid type: 16 bytes in RFC 9562 (network) order.
 *
 * Uuid values are made by std/uuid (modules/uuid.c) and by database drivers;
 * this file gives them their methods.  str() and _rep() are the VM's
 * (vm/print.c): the lower-case hyphenated form and Uuid("...").
 */
#include <string.h>

#include "vm.h"

qval uuid_new(qvm *vm, const uint8_t bytes[16])
{
    quuid *u = vm_alloc_obj(vm, sizeof(quuid), QO_UUID);
    memcpy(u->bytes, bytes, 16);
    return qv_obj(u);
}

/* The 32 hex digits, with hyphens after the 4th, 6th, 8th and 10th byte
 * when `hyphens`, after `prefix`. */
static qval uuid_text(qvm *vm, const quuid *u, const char *prefix, bool hyphens)
{
    static const char digits[] = "0123456789abcdef";
    char out[64];
    size_t n = strlen(prefix);
    memcpy(out, prefix, n);
    for (int i = 0; i < 16; i++) {
        if (hyphens && (i == 4 || i == 6 || i == 8 || i == 10))
            out[n++] = '-';
        out[n++] = digits[u->bytes[i] >> 4];
        out[n++] = digits[u->bytes[i] & 15];
    }
    return qv_obj(str_new(vm, out, n));
}

static qval uuid_to_string(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return uuid_text(vm, AS_UUID(self), "", true);
}

static qval uuid_to_simple(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return uuid_text(vm, AS_UUID(self), "", false);
}

static qval uuid_to_urn(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return uuid_text(vm, AS_UUID(self), "urn:uuid:", true);
}

static qval uuid_to_bytes(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return qv_obj(bytes_new(vm, AS_UUID(self)->bytes, 16));
}

/* The version nibble (0 for the nil UUID, 15 for the max UUID). */
static qval uuid_version(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return qv_int(AS_UUID(self)->bytes[6] >> 4);
}

/* The variant field, named as the reference names it. */
static qval uuid_variant(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    uint8_t v = AS_UUID(self)->bytes[8];
    const char *name = !(v & 0x80)   ? "NCS"
                       : !(v & 0x40) ? "RFC4122"
                       : !(v & 0x20) ? "Microsoft"
                                     : "Future";
    return qv_obj(str_cstr(vm, name));
}

static qval uuid_is_nil(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    static const uint8_t zero[16];
    return qv_bool(memcmp(AS_UUID(self)->bytes, zero, 16) == 0);
}

/* eq/neq: by value; anything that is not a Uuid differs. */
static bool uuid_same(qval self, qval other)
{
    return IS_KIND(other, QO_UUID) && memcmp(AS_UUID(self)->bytes, AS_UUID(other)->bytes, 16) == 0;
}

static qval uuid_eq(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc;
    return qv_bool(uuid_same(self, argv[0]));
}

static qval uuid_neq(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc;
    return qv_bool(!uuid_same(self, argv[0]));
}

static const qmethod_def uuid_method_defs[] = {
    {"to_string", uuid_to_string, 0, 0, false},
    {"to_hyphenated", uuid_to_string, 0, 0, false},
    {"to_simple", uuid_to_simple, 0, 0, false},
    {"to_urn", uuid_to_urn, 0, 0, false},
    {"to_bytes", uuid_to_bytes, 0, 0, false},
    {"version", uuid_version, 0, 0, false},
    {"variant", uuid_variant, 0, 0, false},
    {"is_nil", uuid_is_nil, 0, 0, false},
    {"eq", uuid_eq, 1, 1, false},
    {"neq", uuid_neq, 1, 1, false},
    {0},
};

void uuid_init_class(qvm *vm, qtype *t)
{
    vm_add_methods(vm, t, uuid_method_defs);
}
