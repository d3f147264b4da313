/* rand.c — std/rand: random number generators as objects.
 *
 *   rand.secure()    bytes straight from the kernel's CSPRNG (getrandom),
 *                    buffered: for tokens, keys, salts
 *   rand.fast()      xoshiro256** seeded from the kernel: quick, not secure
 *   rand.seed(v)     xoshiro256** seeded from an Int or a Str: the same seed
 *                    gives the same sequence on every machine
 *
 * All three are "RNG" objects with the same methods.  Integers in a range
 * are drawn without modulo bias (rejection sampling); floats take the top
 * 53 bits of a 64-bit draw.  The sequences differ from the reference's (it
 * uses Rust's ChaCha and PCG); only their properties carry over.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "modules/modules.h"

typedef enum { RNG_SECURE, RNG_FAST, RNG_SEEDED } rng_kind;

typedef struct rng {
    rng_kind kind;
    uint64_t s[4];        /* xoshiro256** state */
    uint8_t pool[256];    /* secure: unread kernel bytes at pool[used..] */
    size_t used;
} rng;

static const qcdata_class rng_class = {"RNG", free, NULL, NULL};

/* ---- generators ----------------------------------------------------------------------- */

/* Fill buf from the kernel; false (errno set) if it cannot. */
static bool rng_os_bytes(void *buf, size_t n)
{
    uint8_t *p = buf;
    while (n > 0) {
        ssize_t got = getrandom(p, n, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        p += got;
        n -= (size_t)got;
    }
    return true;
}

static uint64_t rng_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_xoshiro(rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rng_rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rng_rotl(s[3], 45);
    return result;
}

/* splitmix64 spreads one 64-bit seed over the whole state. */
static void rng_seed_state(rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++) {
        uint64_t z = (seed += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        r->s[i] = z ^ (z >> 31);
    }
}

static bool rng_fill(rng *r, void *buf, size_t n)
{
    uint8_t *p = buf;
    if (r->kind != RNG_SECURE) {
        while (n > 0) {
            uint64_t v = rng_xoshiro(r);
            size_t k = n < 8 ? n : 8;
            memcpy(p, &v, k);
            p += k;
            n -= k;
        }
        return true;
    }
    while (n > 0) {
        if (r->used == sizeof r->pool) {
            if (!rng_os_bytes(r->pool, sizeof r->pool))
                return false;
            r->used = 0;
        }
        size_t k = sizeof r->pool - r->used;
        if (k > n)
            k = n;
        memcpy(p, r->pool + r->used, k);
        memset(r->pool + r->used, 0, k); /* handed out: do not keep a copy */
        r->used += k;
        p += k;
        n -= k;
    }
    return true;
}

static bool rng_u64(qvm *vm, rng *r, uint64_t *out)
{
    if (rng_fill(r, out, sizeof *out))
        return true;
    vm_raise(vm, E_IO, "rand: the system's random source failed: %s", strerror(errno));
    return false;
}

/* Uniform in [0, bound) (bound > 0), rejecting the biased tail. */
static bool rng_below(qvm *vm, rng *r, uint64_t bound, uint64_t *out)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % bound, v;
    do {
        if (!rng_u64(vm, r, &v))
            return false;
    } while (v >= limit);
    *out = v % bound;
    return true;
}

/* Uniform in [0, 1). */
static bool rng_unit(qvm *vm, rng *r, double *out)
{
    uint64_t v;
    if (!rng_u64(vm, r, &v))
        return false;
    *out = (double)(v >> 11) * 0x1.0p-53;
    return true;
}

/* ---- module functions ---------------------------------------------------------------- */

static qval rng_new(qvm *vm, qval self, rng_kind kind, uint64_t seed)
{
    rng *r = calloc(1, sizeof *r);
    if (!r)
        return vm_raise(vm, E_RUNTIME, "rand: out of memory");
    r->kind = kind;
    r->used = sizeof r->pool;
    if (kind == RNG_FAST && !rng_os_bytes(&seed, sizeof seed)) {
        free(r);
        return vm_raise(vm, E_IO, "rand: the system's random source failed: %s", strerror(errno));
    }
    rng_seed_state(r, seed);
    return qv_obj(cdata_new(vm, AS_TYPE(self), &rng_class, r));
}

static qval rand_secure(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return rng_new(vm, self, RNG_SECURE, 0);
}

static qval rand_fast(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return rng_new(vm, self, RNG_FAST, 0);
}

/* 64-bit FNV-1a: a string seed's number. */
static uint64_t rng_hash(const char *s, size_t n)
{
    uint64_t h = 0xCBF29CE484222325ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 0x100000001B3ULL;
    return h;
}

static qval rand_seed(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qval v = argv[0];
    if (IS_INT(v))
        return rng_new(vm, self, RNG_SEEDED, (uint64_t)v.as.i);
    if (IS_STR(v))
        return rng_new(vm, self, RNG_SEEDED, rng_hash(AS_STR(v)->data, AS_STR(v)->len));
    return vm_raise(vm, E_TYPE, "seed() expects Int or Str, got %s", vm_cls_name(v));
}

/* ---- RNG methods ------------------------------------------------------------------------------- */

static rng *rng_self(qvm *vm, qval self)
{
    return cdata_get(vm, self, &rng_class);
}

/* int(min, max): both ends included. */
static qval rng_int(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    rng *r = rng_self(vm, self);
    if (!r)
        return qv_exc();
    if (!IS_INT(argv[0]) || !IS_INT(argv[1]))
        return vm_raise(vm, E_TYPE, "int() min and max must be Int, got %s and %s", vm_cls_name(argv[0]),
                        vm_cls_name(argv[1]));
    int64_t lo = argv[0].as.i, hi = argv[1].as.i;
    if (lo > hi)
        return vm_raise(vm, E_VALUE, "min (%lld) cannot be greater than max (%lld)", (long long)lo,
                        (long long)hi);
    uint64_t span = (uint64_t)hi - (uint64_t)lo, v;
    bool ok = span == UINT64_MAX ? rng_u64(vm, r, &v) : rng_below(vm, r, span + 1, &v);
    return ok ? qv_int((int64_t)((uint64_t)lo + v)) : qv_exc();
}

/* float() in [0, 1); float(min, max) in [min, max). */
static qval rng_float(qvm *vm, qval self, int argc, qval *argv)
{
    rng *r = rng_self(vm, self);
    double u, lo = 0, hi = 1;
    if (!r)
        return qv_exc();
    if (argc == 1)
        return vm_raise(vm, E_ARG, "float() expects 0 or 2 arguments, got 1");
    if (argc == 2 && (!arg_num(vm, "float()", argv[0], &lo) || !arg_num(vm, "float()", argv[1], &hi)))
        return qv_exc();
    if (lo > hi)
        return vm_raise(vm, E_VALUE, "min (%g) cannot be greater than max (%g)", lo, hi);
    if (!rng_unit(vm, r, &u))
        return qv_exc();
    double x = lo + u * (hi - lo);
    return qv_float(x < hi || lo == hi ? x : lo); /* rounding may reach hi */
}

static qval rng_bool(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    rng *r = rng_self(vm, self);
    uint64_t v;
    return r && rng_u64(vm, r, &v) ? qv_bool(v >> 63) : qv_exc();
}

static qval rng_bytes(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    rng *r = rng_self(vm, self);
    int64_t n;
    if (!r || !arg_int(vm, "bytes()", argv[0], &n))
        return qv_exc();
    if (n < 0)
        return vm_raise(vm, E_VALUE, "bytes() n cannot be negative, got %lld", (long long)n);
    if (n > (1 << 30))
        return vm_raise(vm, E_VALUE, "bytes() n is too large (at most 1 GiB), got %lld", (long long)n);
    uint8_t *buf = malloc(n ? (size_t)n : 1);
    if (!buf)
        return vm_raise(vm, E_RUNTIME, "rand: out of memory");
    qval out = rng_fill(r, buf, (size_t)n)
                   ? qv_obj(bytes_new(vm, buf, (size_t)n))
                   : vm_raise(vm, E_IO, "rand: the system's random source failed: %s", strerror(errno));
    free(buf);
    return out;
}

static qval rng_choice(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    rng *r = rng_self(vm, self);
    qarray *a;
    uint64_t i;
    if (!r || !arg_array(vm, "choice()", argv[0], &a))
        return qv_exc();
    if (a->len == 0)
        return vm_raise(vm, E_RUNTIME, "Cannot choose from empty array");
    return rng_below(vm, r, a->len, &i) ? a->items[i] : qv_exc();
}

/* Fisher-Yates over items[0..n), stopping after the first k places. */
static bool rng_shuffle_prefix(qvm *vm, rng *r, qval *items, uint32_t n, uint32_t k)
{
    for (uint32_t i = 0; i < k && i + 1 < n; i++) {
        uint64_t j;
        if (!rng_below(vm, r, n - i, &j))
            return false;
        qval t = items[i];
        items[i] = items[i + j];
        items[i + j] = t;
    }
    return true;
}

static qval rng_shuffle(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    rng *r = rng_self(vm, self);
    qarray *a;
    if (!r || !arg_array(vm, "shuffle()", argv[0], &a))
        return qv_exc();
    return rng_shuffle_prefix(vm, r, a->items, a->len, a->len) ? qv_nil() : qv_exc();
}

/* sample(array, k): k distinct positions, in random order. */
static qval rng_sample(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    rng *r = rng_self(vm, self);
    qarray *a;
    int64_t k;
    if (!r || !arg_array(vm, "sample()", argv[0], &a) || !arg_int(vm, "sample()", argv[1], &k))
        return qv_exc();
    if (k < 0 || k > a->len)
        return vm_raise(vm, E_VALUE, "Cannot sample %lld elements from array of length %u", (long long)k,
                        a->len);
    qarray *out = arr_new(vm, a->len);
    for (uint32_t i = 0; i < a->len; i++)
        arr_push(vm, out, a->items[i]);
    if (!rng_shuffle_prefix(vm, r, out->items, out->len, (uint32_t)k))
        return qv_exc();
    out->len = (uint32_t)k;
    return qv_obj(out);
}

static qval rng_str(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    rng *r = rng_self(vm, self);
    static const char *const names[] = {"RNG(secure)", "RNG(fast)", "RNG(seeded)"};
    return r ? qv_obj(str_cstr(vm, names[r->kind])) : qv_exc();
}

static const qmethod_def rng_methods[] = {
    {"int", rng_int, 2, 2, false},
    {"float", rng_float, 0, 2, false},
    {"bool", rng_bool, 0, 0, false},
    {"bytes", rng_bytes, 1, 1, false},
    {"choice", rng_choice, 1, 1, false},
    {"shuffle", rng_shuffle, 1, 1, false},
    {"sample", rng_sample, 2, 2, false},
    {"str", rng_str, 0, 0, false},
    {"_str", rng_str, 0, 0, false},
    {"_rep", rng_str, 0, 0, false},
    {NULL, NULL, 0, 0, false},
};

static const qmethod_def rand_functions[] = {
    {"secure", rand_secure, 0, 0, false},
    {"fast", rand_fast, 0, 0, false},
    {"seed", rand_seed, 1, 1, false},
    {NULL, NULL, 0, 0, false},
};

bool rand_module_init(qvm *vm, qmodule *m)
{
    /* The constructors are bound to the RNG type they instantiate. */
    qtype *t = vm_new_cdata_type(vm, "RNG", rng_methods);
    for (const qmethod_def *d = rand_functions; d->name; d++) {
        qnative *fn = native_new(vm, d->name, d->fn, d->min_args, d->max_args);
        fn->bound = qv_obj(t);
        module_export(vm, m, d->name, qv_obj(fn));
    }
    module_export(vm, m, "RNG", qv_obj(t));
    return true;
}
