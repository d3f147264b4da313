/* bigint.c — the BigInt type on GMP: construction and parsing, methods,
 * the BigInt side of the operators, and the globals ZERO ONE TWO TEN.
 *
 * A qbigint owns one mpz_t allocated with vm_realloc (object.c clears and
 * frees it).  BigInts are immutable: every operation makes a new one.
 * Division truncates toward zero and `%` takes the dividend's sign, as for
 * Int; `>>` rounds toward negative infinity (an arithmetic shift).
 */
#include <ctype.h>
#include <gmp.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "numeric.h"

/* Results above this many bits raise instead of eating the worker's
 * memory (a 2^(2^32) typo would need half a gigabyte). */
#define BIGINT_MAX_BITS ((uint64_t)1 << 26)

/* The mpz_t of a qbigint, writable and read-only. */
#define MPZ(b) ((mpz_ptr)(b)->mp)
#define CMPZ(b) ((mpz_srcptr)(b)->mp)

static qbigint *bigint_new(qvm *vm)
{
    qbigint *b = vm_alloc_obj(vm, sizeof(qbigint), QO_BIGINT);
    b->mp = vm_realloc(vm, NULL, 0, sizeof(mpz_t));
    mpz_init(MPZ(b));
    return b;
}

/* Bits of |x| (0 for zero), as num-bigint counts them. */
static uint64_t bit_length(mpz_srcptr x)
{
    return mpz_sgn(x) ? mpz_sizeinbase(x, 2) : 0;
}

static qval too_large(qvm *vm)
{
    return vm_raise(vm, E_RUNTIME, "BigInt result too large (over %llu bits)",
                    (unsigned long long)BIGINT_MAX_BITS);
}

/* ---- parsing ------------------------------------------------------------------------ */

static int digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'z' ? c - 'a' + 10 : 99;
}

/* Text to x: surrounding whitespace, a sign, a 0x/0b/0o prefix (any case),
 * `_` between digits and a trailing `n` (the literal suffix) are accepted. */
static bool parse(mpz_ptr x, const char *s)
{
    size_t len = strlen(s);
    while (len && isspace((unsigned char)s[len - 1]))
        len--;
    while (len && isspace((unsigned char)*s))
        s++, len--;
    bool neg = false;
    if (len && (*s == '+' || *s == '-')) {
        neg = *s == '-';
        s++, len--;
    }
    int base = 10;
    if (len > 2 && s[0] == '0' && strchr("xXbBoO", s[1])) {
        base = tolower((unsigned char)s[1]) == 'x' ? 16 : tolower((unsigned char)s[1]) == 'b' ? 2 : 8;
        s += 2, len -= 2;
    }
    if (len > 1 && (s[len - 1] == 'n' || s[len - 1] == 'N') && digit_value(s[len - 2]) < base)
        len--;
    if (len == 0)
        return false;
    char *digits = malloc(len + 1);
    size_t n = 0;
    bool ok = true;
    for (size_t i = 0; i < len && ok; i++) {
        if (s[i] == '_')
            ok = i > 0 && i + 1 < len && s[i - 1] != '_';
        else if ((ok = digit_value(s[i]) < base))
            digits[n++] = s[i];
    }
    digits[n] = '\0';
    ok = ok && mpz_set_str(x, digits, base) == 0;
    free(digits);
    if (ok && neg)
        mpz_neg(x, x);
    return ok;
}

qval bigint_from_cstr(qvm *vm, const char *digits)
{
    qbigint *b = bigint_new(vm);
    if (!parse(MPZ(b), digits))
        return vm_raise(vm, E_VALUE, "Invalid BigInt string '%s'", digits);
    return qv_obj(b);
}

qval bigint_from_int(qvm *vm, int64_t i)
{
    qbigint *b = bigint_new(vm);
    mpz_set_si(MPZ(b), i);   /* long is 64-bit on every platform we build for */
    return qv_obj(b);
}

static qstr *to_base(qvm *vm, mpz_srcptr x, int base)
{
    char *buf = malloc(mpz_sizeinbase(x, base) + 2);
    mpz_get_str(buf, base, x);
    qstr *s = str_cstr(vm, buf);
    free(buf);
    return s;
}

qstr *bigint_to_str(qvm *vm, const qbigint *b)
{
    return to_base(vm, CMPZ(b), 10);
}

bool bigint_is_zero(const qbigint *b)
{
    return mpz_sgn(CMPZ(b)) == 0;
}

int bigint_cmp(const qbigint *a, const qbigint *b)
{
    int c = mpz_cmp(CMPZ(a), CMPZ(b));
    return (c > 0) - (c < 0);
}

/* ---- operators ---------------------------------------------------------------------- */

qval bigint_arith(qvm *vm, int op, const qbigint *a, const qbigint *b)
{
    mpz_srcptr x = CMPZ(a), y = CMPZ(b);
    if ((op == QOP_DIV || op == QOP_MOD) && mpz_sgn(y) == 0)
        return vm_raise(vm, E_RUNTIME, op == QOP_DIV ? "Division by zero" : "Modulo by zero");
    if (op == QOP_MUL && bit_length(x) + bit_length(y) > BIGINT_MAX_BITS)
        return too_large(vm);
    qbigint *r = bigint_new(vm);
    switch (op) {
    case QOP_ADD: mpz_add(MPZ(r), x, y); break;
    case QOP_SUB: mpz_sub(MPZ(r), x, y); break;
    case QOP_MUL: mpz_mul(MPZ(r), x, y); break;
    case QOP_DIV: mpz_tdiv_q(MPZ(r), x, y); break;
    case QOP_MOD: mpz_tdiv_r(MPZ(r), x, y); break;
    case QOP_BOR: mpz_ior(MPZ(r), x, y); break;
    case QOP_BXOR: mpz_xor(MPZ(r), x, y); break;
    case QOP_BAND: mpz_and(MPZ(r), x, y); break;
    default: return vm_raise(vm, E_TYPE, "BigInt does not support this operator");
    }
    return qv_obj(r);
}

qval bigint_shift(qvm *vm, int op, const qbigint *a, int64_t n)
{
    if (n < 0)
        return vm_raise(vm, E_VALUE, "shift amount must be non-negative");
    if (op == QOP_SHL && bit_length(CMPZ(a)) && bit_length(CMPZ(a)) + (uint64_t)n > BIGINT_MAX_BITS)
        return too_large(vm);
    qbigint *r = bigint_new(vm);
    if (op == QOP_SHL)
        mpz_mul_2exp(MPZ(r), CMPZ(a), (mp_bitcnt_t)n);
    else
        mpz_fdiv_q_2exp(MPZ(r), CMPZ(a), (mp_bitcnt_t)n);
    return qv_obj(r);
}

qval bigint_negate(qvm *vm, const qbigint *a)
{
    qbigint *r = bigint_new(vm);
    mpz_neg(MPZ(r), CMPZ(a));
    return qv_obj(r);
}

qval bigint_invert(qvm *vm, const qbigint *a)
{
    qbigint *r = bigint_new(vm);
    mpz_com(MPZ(r), CMPZ(a));
    return qv_obj(r);
}

/* ---- methods ------------------------------------------------------------------------- */

static bool want_bigint(qvm *vm, const char *fname, qval v)
{
    if (IS_BIGINT(v))
        return true;
    vm_raise(vm, E_TYPE, "%s expects a BigInt argument, got %s", fname, vm_cls_name(v));
    return false;
}

static qval binary(qvm *vm, const char *fname, int op, qval self, qval arg)
{
    if (!want_bigint(vm, fname, arg))
        return qv_exc();
    return bigint_arith(vm, op, AS_BIGINT(self), AS_BIGINT(arg));
}

static qval m_plus(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    return binary(vm, "plus", QOP_ADD, self, argv[0]);
}

static qval m_minus(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    return binary(vm, "minus", QOP_SUB, self, argv[0]);
}

static qval m_times(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    return binary(vm, "times", QOP_MUL, self, argv[0]);
}

static qval m_div(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    return binary(vm, "div", QOP_DIV, self, argv[0]);
}

static qval m_mod(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    return binary(vm, "mod", QOP_MOD, self, argv[0]);
}

static qval m_bit_and(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    return binary(vm, "bit_and", QOP_BAND, self, argv[0]);
}

static qval m_bit_or(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    return binary(vm, "bit_or", QOP_BOR, self, argv[0]);
}

static qval m_bit_xor(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    return binary(vm, "bit_xor", QOP_BXOR, self, argv[0]);
}

static qval m_divmod(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    if (!want_bigint(vm, "divmod", argv[0]))
        return qv_exc();
    mpz_srcptr y = CMPZ(AS_BIGINT(argv[0]));
    if (mpz_sgn(y) == 0)
        return vm_raise(vm, E_RUNTIME, "Division by zero");
    qbigint *q = bigint_new(vm), *r = bigint_new(vm);
    mpz_tdiv_qr(MPZ(q), MPZ(r), CMPZ(AS_BIGINT(self)), y);
    qarray *pair = arr_new(vm, 2);
    arr_push(vm, pair, qv_obj(q));
    arr_push(vm, pair, qv_obj(r));
    return qv_obj(pair);
}

/* An exponent: a non-negative Int or BigInt. */
static bool count_arg(qvm *vm, const char *fname, qval v, mpz_ptr out)
{
    if (IS_INT(v))
        mpz_set_si(out, v.as.i);
    else if (IS_BIGINT(v))
        mpz_set(out, CMPZ(AS_BIGINT(v)));
    else {
        vm_raise(vm, E_TYPE, "%s expects a BigInt or Int exponent, got %s", fname, vm_cls_name(v));
        return false;
    }
    if (mpz_sgn(out) < 0) {
        vm_raise(vm, E_VALUE, "pow exponent must be non-negative");
        return false;
    }
    return true;
}

/* x^e mod m for any exponent e >= 0, in 0 .. |m|-1 (GMP's rule). */
static qval powmod(qvm *vm, mpz_srcptr x, mpz_srcptr e, qval modulus)
{
    if (!want_bigint(vm, "pow", modulus))
        return qv_exc();
    mpz_srcptr m = CMPZ(AS_BIGINT(modulus));
    if (mpz_sgn(m) == 0)
        return vm_raise(vm, E_RUNTIME, "Modulo by zero");
    qbigint *r = bigint_new(vm);
    mpz_powm(MPZ(r), x, e, m);
    return qv_obj(r);
}

/* x^e, refusing results beyond BIGINT_MAX_BITS. */
static qval power(qvm *vm, mpz_srcptr x, mpz_ptr e)
{
    /* |x| <= 1 stays small whatever the exponent (only its parity
     * matters); otherwise the result has about (bits(x) - 1) * e bits. */
    if (mpz_cmpabs_ui(x, 1) <= 0) {
        if (!mpz_fits_ulong_p(e))
            mpz_set_ui(e, mpz_even_p(e) ? 2 : 1);
    } else if (!mpz_fits_ulong_p(e) || mpz_get_ui(e) > BIGINT_MAX_BITS / (bit_length(x) - 1)) {
        return too_large(vm);
    }
    qbigint *r = bigint_new(vm);
    mpz_pow_ui(MPZ(r), x, mpz_get_ui(e));
    return qv_obj(r);
}

/* x.pow(e) and x.pow(e, m); also registered as mod_pow(e, m), the name
 * the BigInt docs use. */
static qval m_pow(qvm *vm, qval self, int argc, qval *argv)
{
    mpz_t e;
    mpz_init(e);
    qval r = qv_exc();
    if (count_arg(vm, "pow", argv[0], e))
        r = argc == 2 ? powmod(vm, CMPZ(AS_BIGINT(self)), e, argv[1])
                      : power(vm, CMPZ(AS_BIGINT(self)), e);
    mpz_clear(e);
    return r;
}

/* Integer square root, rounded down. */
static qval m_sqrt(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    mpz_srcptr x = CMPZ(AS_BIGINT(self));
    if (mpz_sgn(x) < 0)
        return vm_raise(vm, E_VALUE, "sqrt of a negative BigInt");
    qbigint *r = bigint_new(vm);
    mpz_sqrt(MPZ(r), x);
    return qv_obj(r);
}

/* gcd and lcm are never negative. */
static qval m_gcd(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    if (!want_bigint(vm, "gcd", argv[0]))
        return qv_exc();
    qbigint *r = bigint_new(vm);
    mpz_gcd(MPZ(r), CMPZ(AS_BIGINT(self)), CMPZ(AS_BIGINT(argv[0])));
    return qv_obj(r);
}

static qval m_lcm(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    if (!want_bigint(vm, "lcm", argv[0]))
        return qv_exc();
    qbigint *r = bigint_new(vm);
    mpz_lcm(MPZ(r), CMPZ(AS_BIGINT(self)), CMPZ(AS_BIGINT(argv[0])));
    return qv_obj(r);
}

static qval m_shl(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    int64_t n;
    if (!arg_int(vm, "shl", argv[0], &n))
        return qv_exc();
    return bigint_shift(vm, QOP_SHL, AS_BIGINT(self), n);
}

static qval m_shr(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    int64_t n;
    if (!arg_int(vm, "shr", argv[0], &n))
        return qv_exc();
    return bigint_shift(vm, QOP_SHR, AS_BIGINT(self), n);
}

static qval m_abs(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    qbigint *r = bigint_new(vm);
    mpz_abs(MPZ(r), CMPZ(AS_BIGINT(self)));
    return qv_obj(r);
}

static qval m_negate(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return bigint_negate(vm, AS_BIGINT(self));
}

static qval m_bit_not(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return bigint_invert(vm, AS_BIGINT(self));
}

/* equals / not_equals accept anything (a non-BigInt is not equal); the
 * orderings need a BigInt. */
static qval m_equals(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc;
    return qv_bool(IS_BIGINT(argv[0]) && bigint_cmp(AS_BIGINT(self), AS_BIGINT(argv[0])) == 0);
}

static qval m_not_equals(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc;
    return qv_bool(!IS_BIGINT(argv[0]) || bigint_cmp(AS_BIGINT(self), AS_BIGINT(argv[0])) != 0);
}

static bool order(qvm *vm, const char *fname, qval self, qval other, int *out)
{
    if (!want_bigint(vm, fname, other))
        return false;
    *out = bigint_cmp(AS_BIGINT(self), AS_BIGINT(other));
    return true;
}

static qval m_less_than(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    int c;
    return order(vm, "less_than", self, argv[0], &c) ? qv_bool(c < 0) : qv_exc();
}

static qval m_less_equal(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    int c;
    return order(vm, "less_equal", self, argv[0], &c) ? qv_bool(c <= 0) : qv_exc();
}

static qval m_greater(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    int c;
    return order(vm, "greater", self, argv[0], &c) ? qv_bool(c > 0) : qv_exc();
}

static qval m_greater_equal(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    int c;
    return order(vm, "greater_equal", self, argv[0], &c) ? qv_bool(c >= 0) : qv_exc();
}

static qval m_is_zero(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return qv_bool(mpz_sgn(CMPZ(AS_BIGINT(self))) == 0);
}

static qval m_is_positive(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return qv_bool(mpz_sgn(CMPZ(AS_BIGINT(self))) > 0);
}

static qval m_is_negative(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return qv_bool(mpz_sgn(CMPZ(AS_BIGINT(self))) < 0);
}

static qval m_is_even(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return qv_bool(mpz_even_p(CMPZ(AS_BIGINT(self))));
}

static qval m_is_odd(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return qv_bool(mpz_odd_p(CMPZ(AS_BIGINT(self))));
}

static qval m_bit_length(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return qv_int((int64_t)bit_length(CMPZ(AS_BIGINT(self))));
}

static qval m_to_int(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    mpz_srcptr x = CMPZ(AS_BIGINT(self));
    if (!mpz_fits_slong_p(x))
        return vm_raise(vm, E_RUNTIME, "BigInt value too large to fit in Int (i64 range)");
    return qv_int(mpz_get_si(x));
}

/* Correctly rounded: mpz_get_d truncates, so larger values go through
 * decimal text and strtod; beyond the double range they are infinite. */
static qval m_to_float(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    mpz_srcptr x = CMPZ(AS_BIGINT(self));
    uint64_t bits = bit_length(x);
    if (bits <= 53)
        return qv_float(mpz_get_d(x));
    if (bits > 1100)
        return qv_float(mpz_sgn(x) < 0 ? -INFINITY : INFINITY);
    qstr *s = to_base(vm, x, 10);
    return qv_float(strtod(s->data, NULL));
}

static qval m_to_string(qvm *vm, qval self, int argc, qval *argv)
{
    int64_t base = 10;
    if (argc == 1) {
        if (!arg_int(vm, "to_string", argv[0], &base))
            return qv_exc();
        if (base < 2 || base > 36)
            return vm_raise(vm, E_VALUE, "Base must be between 2 and 36");
    }
    return qv_obj(to_base(vm, CMPZ(AS_BIGINT(self)), (int)base));
}

static bool signed_flag(qvm *vm, const char *fname, int argc, qval *argv, int at, bool *out)
{
    *out = true;
    if (argc <= at)
        return true;
    if (!IS_BOOL(argv[at])) {
        vm_raise(vm, E_TYPE, "%s expects a Bool (signed), got %s", fname, vm_cls_name(argv[at]));
        return false;
    }
    *out = argv[at].as.b;
    return true;
}

/* Big-endian bytes.  Signed: the shortest two's complement form (255 is
 * 00 ff, -1 is ff); unsigned: the magnitude.  Zero is one 00 byte. */
static qval m_to_bytes(qvm *vm, qval self, int argc, qval *argv)
{
    bool is_signed;
    if (!signed_flag(vm, "to_bytes", argc, argv, 0, &is_signed))
        return qv_exc();
    mpz_srcptr x = CMPZ(AS_BIGINT(self));
    mpz_t v;
    mpz_init(v);
    size_t n;
    if (is_signed) {
        /* Room for a sign bit: bits of x, or of -x-1 when negative. */
        mpz_t t;
        mpz_init(t);
        if (mpz_sgn(x) < 0)
            mpz_com(t, x);
        else
            mpz_set(t, x);
        n = bit_length(t) / 8 + 1;
        mpz_clear(t);
        mpz_set(v, x);
        if (mpz_sgn(x) < 0) {   /* v = x + 2^(8n) */
            mpz_t p;
            mpz_init(p);
            mpz_setbit(p, 8 * n);
            mpz_add(v, v, p);
            mpz_clear(p);
        }
    } else {
        mpz_abs(v, x);
        n = mpz_sgn(v) ? (bit_length(v) + 7) / 8 : 1;
    }
    uint8_t *buf = calloc(n, 1);
    size_t count = 0;
    mpz_export(buf + n - (bit_length(v) + 7) / 8, &count, 1, 1, 1, 0, v);
    qbytes *b = bytes_new(vm, buf, n);
    free(buf);
    mpz_clear(v);
    return qv_obj(b);
}

/* ---- statics --------------------------------------------------------------------------- */

static qval s_new(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    qval v = argv[0];
    if (IS_STR(v))
        return bigint_from_cstr(vm, AS_STR(v)->data);
    if (IS_INT(v))
        return bigint_from_int(vm, v.as.i);
    if (IS_BIGINT(v))
        return v;   /* immutable: no copy needed */
    return vm_raise(vm, E_TYPE, "BigInt.new expects a Str, Int or BigInt, got %s", vm_cls_name(v));
}

static qval s_from_int(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    int64_t i;
    if (!arg_int(vm, "BigInt.from_int", argv[0], &i))
        return qv_exc();
    return bigint_from_int(vm, i);
}

static qval s_from_bytes(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self;
    if (!IS_BYTES(argv[0]))
        return vm_raise(vm, E_TYPE, "BigInt.from_bytes expects Bytes, got %s", vm_cls_name(argv[0]));
    bool is_signed;
    if (!signed_flag(vm, "BigInt.from_bytes", argc, argv, 1, &is_signed))
        return qv_exc();
    const qbytes *bytes = AS_BYTES(argv[0]);
    qbigint *r = bigint_new(vm);
    mpz_import(MPZ(r), bytes->len, 1, 1, 1, 0, bytes->data);
    if (is_signed && bytes->len && (bytes->data[0] & 0x80)) {
        mpz_t p;
        mpz_init(p);
        mpz_setbit(p, 8 * (mp_bitcnt_t)bytes->len);
        mpz_sub(MPZ(r), MPZ(r), p);
        mpz_clear(p);
    }
    return qv_obj(r);
}

static const qmethod_def bigint_methods[] = {
    {"plus", m_plus, 1, 1, false},
    {"minus", m_minus, 1, 1, false},
    {"times", m_times, 1, 1, false},
    {"div", m_div, 1, 1, false},
    {"mod", m_mod, 1, 1, false},
    {"divmod", m_divmod, 1, 1, false},
    {"pow", m_pow, 1, 2, false},
    {"mod_pow", m_pow, 2, 2, false},
    {"sqrt", m_sqrt, 0, 0, false},
    {"gcd", m_gcd, 1, 1, false},
    {"lcm", m_lcm, 1, 1, false},
    {"abs", m_abs, 0, 0, false},
    {"negate", m_negate, 0, 0, false},
    {"equals", m_equals, 1, 1, false},
    {"not_equals", m_not_equals, 1, 1, false},
    {"less_than", m_less_than, 1, 1, false},
    {"less_equal", m_less_equal, 1, 1, false},
    {"greater", m_greater, 1, 1, false},
    {"greater_equal", m_greater_equal, 1, 1, false},
    {"is_zero", m_is_zero, 0, 0, false},
    {"is_positive", m_is_positive, 0, 0, false},
    {"is_negative", m_is_negative, 0, 0, false},
    {"is_even", m_is_even, 0, 0, false},
    {"is_odd", m_is_odd, 0, 0, false},
    {"bit_length", m_bit_length, 0, 0, false},
    {"bit_and", m_bit_and, 1, 1, false},
    {"bit_or", m_bit_or, 1, 1, false},
    {"bit_xor", m_bit_xor, 1, 1, false},
    {"bit_not", m_bit_not, 0, 0, false},
    {"shl", m_shl, 1, 1, false},
    {"shr", m_shr, 1, 1, false},
    {"to_int", m_to_int, 0, 0, false},
    {"to_float", m_to_float, 0, 0, false},
    {"to_string", m_to_string, 0, 1, false},
    {"to_bytes", m_to_bytes, 0, 1, false},
    {0},
};

static const qmethod_def bigint_statics[] = {
    {"new", s_new, 1, 1, false},
    {"from_int", s_from_int, 1, 1, false},
    {"from_bytes", s_from_bytes, 1, 2, false},
    {0},
};

void bigint_init_class(qvm *vm, qtype *t)
{
    vm_add_methods(vm, t, bigint_methods);
    vm_add_statics(vm, t, bigint_statics);
}

void bigint_register_builtins(qvm *vm, qdict *builtins)
{
    static const char *const names[] = {"ZERO", "ONE", "TWO", "TEN"};
    static const int values[] = {0, 1, 2, 10};
    dict_set_cstr(vm, builtins, "BigInt", qv_obj(vm_builtin_type(vm, QC_BIGINT)));
    for (int i = 0; i < 4; i++)
        dict_set_cstr(vm, builtins, names[i], bigint_from_int(vm, values[i]));
}
