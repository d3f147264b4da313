/* uuid.c — std/uuid: making and parsing UUIDs (RFC 9562).
 *
 * v4 is random; v3 and v5 hash a namespace UUID and a name (MD5, SHA-1);
 * v1 and v6 carry the time in 100 ns steps since 1582 with a random clock
 * sequence and a node id (given, or random per call); v7 carries Unix
 * milliseconds; v8 takes 16 bytes of the caller's and sets only the
 * version and variant bits.  Randomness comes from OpenSSL's CSPRNG.
 *
 * The time-based versions never repeat or go backwards within a VM: v1
 * and v6 bump the timestamp when the clock has not moved, and v7 keeps a
 * 42-bit counter (RFC 9562 §6.2, method 1) seeded at random on each new
 * millisecond, so successive v7 UUIDs sort in creation order.  That state
 * lives in a per-module object the generators are bound to.
 *
 * The Uuid type's methods are in vm/uuid_methods.c.
 */
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "modules/modules.h"

/* 100 ns intervals from 1582-10-15 (the Gregorian reform) to 1970-01-01. */
#define UUID_GREGORIAN_OFFSET 0x01B21DD213814000ULL

typedef struct uuid_clock {
    uint64_t last_ticks;   /* v1/v6: last timestamp handed out */
    uint16_t clock_seq;    /* v1/v6: 14 random bits, fixed per VM */
    uint64_t last_ms;      /* v7: millisecond of the last UUID */
    uint64_t counter;      /* v7: 42-bit counter within last_ms */
} uuid_clock;

static const qcdata_class uuid_clock_class = {"UuidClock", free, NULL, NULL};

static bool uuid_random(qvm *vm, uint8_t *out, size_t n)
{
    if (RAND_bytes(out, (int)n) == 1)
        return true;
    vm_raise(vm, E_RUNTIME, "uuid: the random number generator failed");
    return false;
}

/* Stamp the version nibble and the RFC 9562 variant bits. */
static qval uuid_finish(qvm *vm, uint8_t b[16], int version)
{
    b[6] = (uint8_t)((b[6] & 0x0F) | version << 4);
    b[8] = (b[8] & 0x3F) | 0x80;
    return uuid_new(vm, b);
}

static qval uuid_v4(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc, (void)argv;
    uint8_t b[16];
    return uuid_random(vm, b, 16) ? uuid_finish(vm, b, 4) : qv_exc();
}

static qval uuid_nil_uuid(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc, (void)argv;
    static const uint8_t zero[16];
    return uuid_new(vm, zero);
}

/* ---- name-based: v3 and v5 ------------------------------------------------------------ */

static qval uuid_named(qvm *vm, const char *fname, qval *argv, const EVP_MD *md, int version)
{
    if (!IS_KIND(argv[0], QO_UUID))
        return vm_raise(vm, E_TYPE, "%s expects a Uuid namespace, got %s", fname, vm_cls_name(argv[0]));
    const uint8_t *name;
    size_t n;
    if (IS_STR(argv[1])) {
        name = (const uint8_t *)AS_STR(argv[1])->data;
        n = AS_STR(argv[1])->len;
    } else if (IS_BYTES(argv[1])) {
        name = AS_BYTES(argv[1])->data;
        n = AS_BYTES(argv[1])->len;
    } else {
        return vm_raise(vm, E_TYPE, "%s expects a Str or Bytes name, got %s", fname,
                        vm_cls_name(argv[1]));
    }
    uint8_t d[EVP_MAX_MD_SIZE];
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx && EVP_DigestInit_ex(ctx, md, NULL) &&
              EVP_DigestUpdate(ctx, AS_UUID(argv[0])->bytes, 16) && EVP_DigestUpdate(ctx, name, n) &&
              EVP_DigestFinal_ex(ctx, d, NULL);
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return vm_raise(vm, E_RUNTIME, "%s: the digest failed", fname);
    return uuid_finish(vm, d, version);
}

static qval uuid_v3(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    return uuid_named(vm, "uuid.v3", argv, EVP_md5(), 3);
}

static qval uuid_v5(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    return uuid_named(vm, "uuid.v5", argv, EVP_sha1(), 5);
}

/* ---- time-based: v1, v6, v7 ---------------------------------------------------------- */

static uint64_t uuid_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* A Gregorian timestamp later than any handed out before. */
static uint64_t uuid_ticks(uuid_clock *c)
{
    uint64_t t = uuid_now_ns() / 100 + UUID_GREGORIAN_OFFSET;
    if (t <= c->last_ticks)
        t = c->last_ticks + 1;
    return c->last_ticks = t;
}

/* The clock sequence and node id (bytes 8..15) of v1 and v6: the node is
 * the optional 6-byte argument, else random with the multicast bit set so
 * it cannot collide with a real MAC address. */
static bool uuid_node(qvm *vm, const char *fname, const uuid_clock *c, int argc, qval *argv,
                      uint8_t b[16])
{
    b[8] = (uint8_t)(c->clock_seq >> 8);
    b[9] = (uint8_t)c->clock_seq;
    if (argc == 0 || IS_NIL(argv[0])) {
        if (!uuid_random(vm, b + 10, 6))
            return false;
        b[10] |= 0x01;
        return true;
    }
    if (!IS_BYTES(argv[0])) {
        vm_raise(vm, E_TYPE, "%s expects Bytes for the node id, got %s", fname, vm_cls_name(argv[0]));
        return false;
    }
    if (AS_BYTES(argv[0])->len != 6) {
        vm_raise(vm, E_VALUE, "%s node_id must be exactly 6 bytes, got %u", fname,
                 AS_BYTES(argv[0])->len);
        return false;
    }
    memcpy(b + 10, AS_BYTES(argv[0])->data, 6);
    return true;
}

static void uuid_put_be(uint8_t *out, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        out[i] = (uint8_t)v;
}

/* v1([node_id]): time_low, time_mid, time_high, clock_seq, node. */
static qval uuid_v1(qvm *vm, qval self, int argc, qval *argv)
{
    uuid_clock *c = cdata_get(vm, self, &uuid_clock_class);
    uint8_t b[16];
    if (!c || !uuid_node(vm, "uuid.v1", c, argc, argv, b))
        return qv_exc();
    uint64_t t = uuid_ticks(c);
    uuid_put_be(b, t & 0xFFFFFFFF, 4);
    uuid_put_be(b + 4, (t >> 32) & 0xFFFF, 2);
    uuid_put_be(b + 6, (t >> 48) & 0x0FFF, 2);
    return uuid_finish(vm, b, 1);
}

/* v6([node_id]): v1's fields with the timestamp's most significant bits
 * first, so that the text sorts by time. */
static qval uuid_v6(qvm *vm, qval self, int argc, qval *argv)
{
    uuid_clock *c = cdata_get(vm, self, &uuid_clock_class);
    uint8_t b[16];
    if (!c || !uuid_node(vm, "uuid.v6", c, argc, argv, b))
        return qv_exc();
    uint64_t t = uuid_ticks(c);
    uuid_put_be(b, t >> 12, 6);
    uuid_put_be(b + 6, t & 0x0FFF, 2);
    return uuid_finish(vm, b, 6);
}

/* v7(): 48-bit Unix milliseconds, the 42-bit counter split around the
 * version and variant bits, 32 random bits. */
static qval uuid_v7(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    uuid_clock *c = cdata_get(vm, self, &uuid_clock_class);
    uint8_t b[16];
    if (!c || !uuid_random(vm, b, 16))
        return qv_exc();
    uint64_t ms = uuid_now_ns() / 1000000;
    if (ms > c->last_ms) {
        /* A fresh random start, top bit clear to leave room to count. */
        uint64_t r;
        memcpy(&r, b, 8);
        c->counter = r & ((1ULL << 41) - 1);
        c->last_ms = ms;
    } else if (++c->counter >> 42) {
        /* The counter ran out within one millisecond: borrow the next. */
        c->counter = 0;
        c->last_ms++;
    }
    uint64_t k = c->counter;
    uuid_put_be(b, c->last_ms, 6);
    b[6] = (uint8_t)(k >> 38);
    b[7] = (uint8_t)(k >> 30);
    b[8] = (uint8_t)(k >> 24);
    b[9] = (uint8_t)(k >> 16);
    b[10] = (uint8_t)(k >> 8);
    b[11] = (uint8_t)k;
    return uuid_finish(vm, b, 7);
}

/* v8(bytes): 16 caller-chosen bytes. */
static qval uuid_v8(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    if (!IS_BYTES(argv[0]))
        return vm_raise(vm, E_TYPE, "uuid.v8 expects Bytes, got %s", vm_cls_name(argv[0]));
    if (AS_BYTES(argv[0])->len != 16)
        return vm_raise(vm, E_VALUE, "uuid.v8 requires exactly 16 bytes, got %u", AS_BYTES(argv[0])->len);
    uint8_t b[16];
    memcpy(b, AS_BYTES(argv[0])->data, 16);
    return uuid_finish(vm, b, 8);
}

/* ---- parsing ------------------------------------------------------------------------------ */

/* The 32 hex digits of s (hyphens after digit 8, 12, 16 and 20 when
 * `hyphens`) into b; NULL on success, else why not. */
static const char *uuid_scan(const char *s, size_t n, bool hyphens, uint8_t b[16], size_t *bad)
{
    static const size_t dash_at[] = {8, 13, 18, 23};
    size_t nd = 0, d = 0;
    for (size_t i = 0; i < n; i++) {
        if (hyphens && d < 4 && i == dash_at[d]) {
            if (s[i] != '-') {
                *bad = i;
                return "expected '-'";
            }
            d++;
            continue;
        }
        int v = hex_digit_value(s[i]);
        if (v < 0) {
            *bad = i;
            return "invalid character";
        }
        b[nd / 2] = (uint8_t)(nd % 2 ? b[nd / 2] | v : v << 4);
        nd++;
    }
    return NULL;
}

/* parse(text): 32 hex digits, optionally hyphenated 8-4-4-4-12, braced
 * ("{...}") or as a URN ("urn:uuid:..."); any case. */
static qval uuid_parse(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    qstr *str;
    if (!arg_str(vm, "uuid.parse", argv[0], &str))
        return qv_exc();
    const char *s = str->data;
    size_t n = str->len, skip = 0;
    if (n == 45 && strncasecmp(s, "urn:uuid:", 9) == 0)
        skip = 9;
    else if (n == 38 && s[0] == '{' && s[37] == '}')
        skip = 1;
    size_t body = n - skip - (skip == 1);
    if (body != 32 && body != 36)
        return vm_raise(vm, E_VALUE,
                        "Invalid UUID string: expected 32 hex digits, optionally hyphenated "
                        "(36 characters), found %zu characters", n);
    uint8_t b[16];
    size_t bad = 0;
    const char *why = uuid_scan(s + skip, body, body == 36, b, &bad);
    if (why)
        return vm_raise(vm, E_VALUE, "Invalid UUID string: %s at position %zu", why, skip + bad + 1);
    return uuid_new(vm, b);
}

static qval uuid_from_bytes(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    if (!IS_BYTES(argv[0]))
        return vm_raise(vm, E_TYPE, "uuid.from_bytes expects Bytes, got %s", vm_cls_name(argv[0]));
    if (AS_BYTES(argv[0])->len != 16)
        return vm_raise(vm, E_VALUE, "UUID requires exactly 16 bytes, got %u", AS_BYTES(argv[0])->len);
    return uuid_new(vm, AS_BYTES(argv[0])->data);
}

/* ---- the module -------------------------------------------------------------------------- */

static const qmethod_def uuid_functions[] = {
    {"v3", uuid_v3, 2, 2, false},
    {"v4", uuid_v4, 0, 0, false},
    {"v5", uuid_v5, 2, 2, false},
    {"v8", uuid_v8, 1, 1, false},
    {"nil_uuid", uuid_nil_uuid, 0, 0, false},
    {"parse", uuid_parse, 1, 1, false},
    {"from_bytes", uuid_from_bytes, 1, 1, false},
    {NULL, NULL, 0, 0, false},
};

/* The generators that read and advance the clock state. */
static const qmethod_def uuid_clocked[] = {
    {"v1", uuid_v1, 0, 1, false},
    {"v6", uuid_v6, 0, 1, false},
    {"v7", uuid_v7, 0, 0, false},
    {NULL, NULL, 0, 0, false},
};

/* The namespaces of RFC 9562 appendix C: 6ba7b81X-9dad-11d1-80b4-00c04fd430c8. */
static void uuid_export_namespace(qvm *vm, qmodule *m, const char *name, uint8_t which)
{
    uint8_t b[16] = {0x6b, 0xa7, 0xb8, which, 0x9d, 0xad, 0x11, 0xd1,
                     0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8};
    module_export(vm, m, name, uuid_new(vm, b));
}

bool uuid_module_init(qvm *vm, qmodule *m)
{
    uuid_clock *c = calloc(1, sizeof *c);
    uint8_t seq[2];
    if (!c) {
        vm_raise(vm, E_RUNTIME, "std/uuid: out of memory");
        return false;
    }
    if (!uuid_random(vm, seq, 2)) {
        free(c);
        return false;
    }
    c->clock_seq = (uint16_t)((seq[0] << 8 | seq[1]) & 0x3FFF);
    qcdata *state = cdata_new(vm, vm_new_cdata_type(vm, "UuidClock", NULL), &uuid_clock_class, c);
    module_export_fns(vm, m, uuid_functions);
    for (const qmethod_def *d = uuid_clocked; d->name; d++) {
        qnative *fn = native_new(vm, d->name, d->fn, d->min_args, d->max_args);
        fn->bound = qv_obj(state);
        module_export(vm, m, d->name, qv_obj(fn));
    }
    uuid_export_namespace(vm, m, "NAMESPACE_DNS", 0x10);
    uuid_export_namespace(vm, m, "NAMESPACE_URL", 0x11);
    uuid_export_namespace(vm, m, "NAMESPACE_OID", 0x12);
    uuid_export_namespace(vm, m, "NAMESPACE_X500", 0x14);
    return true;
}
