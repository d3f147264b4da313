/* decimal_core.c — the arithmetic behind Decimal (see decimal_core.h).
 *
 * Magnitudes are unsigned 128-bit integers below 2^96.  Intermediate values
 * that need more room (a 96 x 96-bit product, an operand scaled by 10^28)
 * live in a 256-bit "wide" integer that knows only the few operations used
 * here.  Every result goes through fit(), the one place that rounds.
 */
#include <math.h>
#include <stdlib.h>

#include "decimal_core.h"

typedef unsigned __int128 u128;

#define MAG_LIMIT ((u128)1 << 96)   /* magnitudes stay below this */

static const uint64_t pow10_u64[20] = {
    1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL,
    100000000ULL, 1000000000ULL, 10000000000ULL, 100000000000ULL,
    1000000000000ULL, 10000000000000ULL, 100000000000000ULL,
    1000000000000000ULL, 10000000000000000ULL, 100000000000000000ULL,
    1000000000000000000ULL, 10000000000000000000ULL,
};

static u128 pow_u128(unsigned base, unsigned k)
{
    u128 p = 1;
    while (k--)
        p *= base;
    return p;
}

static u128 mag(qdec d)
{
    return d.coef < 0 ? (u128)-d.coef : (u128)d.coef;
}

static qdec make(u128 m, unsigned scale, bool neg)
{
    qdec d;
    d.coef = neg ? -(__int128)m : (__int128)m;
    d.scale = scale;
    return d;
}

/* ---- 256-bit unsigned integers (little-endian 64-bit limbs) ------------------ */

typedef struct wide {
    uint64_t w[4];
} wide;

static wide wide_from(u128 x)
{
    wide r = {{(uint64_t)x, (uint64_t)(x >> 64), 0, 0}};
    return r;
}

static bool wide_fits(const wide *a)
{
    return a->w[3] == 0 && a->w[2] == 0 && a->w[1] < ((uint64_t)1 << 32);
}

static u128 wide_low(const wide *a)
{
    return (u128)a->w[1] << 64 | a->w[0];
}

static int wide_cmp(const wide *a, const wide *b)
{
    for (int i = 3; i >= 0; i--)
        if (a->w[i] != b->w[i])
            return a->w[i] < b->w[i] ? -1 : 1;
    return 0;
}

static void wide_add(wide *a, const wide *b)
{
    uint64_t carry = 0;
    for (int i = 0; i < 4; i++) {
        u128 t = (u128)a->w[i] + b->w[i] + carry;
        a->w[i] = (uint64_t)t;
        carry = (uint64_t)(t >> 64);
    }
}

/* a -= b, with a >= b. */
static void wide_sub(wide *a, const wide *b)
{
    uint64_t borrow = 0;
    for (int i = 0; i < 4; i++) {
        u128 t = (u128)a->w[i] - b->w[i] - borrow;
        a->w[i] = (uint64_t)t;
        borrow = (t >> 64) != 0;
    }
}

static void wide_mul_small(wide *a, uint64_t m)
{
    uint64_t carry = 0;
    for (int i = 0; i < 4; i++) {
        u128 t = (u128)a->w[i] * m + carry;
        a->w[i] = (uint64_t)t;
        carry = (uint64_t)(t >> 64);
    }
}

/* a /= d; returns the remainder. */
static uint64_t wide_div_small(wide *a, uint64_t d)
{
    u128 rem = 0;
    for (int i = 3; i >= 0; i--) {
        u128 cur = rem << 64 | a->w[i];
        a->w[i] = (uint64_t)(cur / d);
        rem = cur % d;
    }
    return (uint64_t)rem;
}

/* The full product of two values below 2^128. */
static wide wide_mul(u128 a, u128 b)
{
    uint64_t x[2] = {(uint64_t)a, (uint64_t)(a >> 64)};
    uint64_t y[2] = {(uint64_t)b, (uint64_t)(b >> 64)};
    wide r = {{0, 0, 0, 0}};
    for (int i = 0; i < 2; i++) {
        uint64_t carry = 0;
        for (int j = 0; j < 2; j++) {
            u128 t = (u128)x[i] * y[j] + r.w[i + j] + carry;
            r.w[i + j] = (uint64_t)t;
            carry = (uint64_t)(t >> 64);
        }
        r.w[i + 2] = carry;
    }
    return r;
}

/* m * 10^k for m < 2^96 and k <= 28: below 2^190, so it cannot overflow. */
static wide wide_scaled(u128 m, unsigned k)
{
    wide r = wide_from(m);
    while (k > 0) {
        unsigned step = k < 19 ? k : 19;
        wide_mul_small(&r, pow10_u64[step]);
        k -= step;
    }
    return r;
}

/* ---- rounding ------------------------------------------------------------------ */

/* What a caller has already cut off below the last digit of a value. */
typedef enum { BELOW_NONE, BELOW_LESS_HALF, BELOW_HALF, BELOW_MORE_HALF } below;

static below below_of(u128 rem, u128 divisor)
{
    if (rem == 0)
        return BELOW_NONE;
    u128 twice = rem * 2;
    return twice < divisor ? BELOW_LESS_HALF : twice == divisor ? BELOW_HALF : BELOW_MORE_HALF;
}

/* Make m * 10^-scale a qdec: drop digits from the right while the magnitude
 * or the scale is too large, then round the last kept digit half to even,
 * taking into account every dropped digit and `rest`. */
static dec_status fit(wide m, int scale, bool neg, below rest, qdec *out)
{
    for (;;) {
        unsigned digit = 0;      /* the most significant digit dropped so far */
        bool dropped = false;
        bool sticky = false;     /* something nonzero lies below `digit` */
        while (scale > DEC_MAX_SCALE || !wide_fits(&m)) {
            if (scale == 0)
                return DEC_OVERFLOW;
            sticky |= dropped ? digit != 0 : rest != BELOW_NONE;
            digit = (unsigned)wide_div_small(&m, 10);
            dropped = true;
            scale--;
        }
        bool odd = m.w[0] & 1;
        bool up = dropped ? digit > 5 || (digit == 5 && (sticky || odd))
                          : rest == BELOW_MORE_HALF || (rest == BELOW_HALF && odd);
        if (up) {
            wide one = wide_from(1);
            wide_add(&m, &one);
        }
        if (wide_fits(&m))
            break;
        /* The carry reached 2^96: one more digit has to go. */
        rest = BELOW_NONE;
    }
    *out = make(wide_low(&m), (unsigned)scale, neg);
    return DEC_OK;
}

/* ---- conversions ---------------------------------------------------------------- */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

dec_status dec_parse(const char *s, size_t len, qdec *out)
{
    const char *p = s, *end = s + len;
    while (p < end && is_space(*p))
        p++;
    while (end > p && is_space(end[-1]))
        end--;
    bool neg = false;
    if (p < end && (*p == '+' || *p == '-'))
        neg = *p++ == '-';

    u128 coef = 0;
    unsigned scale = 0;
    bool point = false, any_digit = false, full = false;
    unsigned surplus = 0;    /* first digit that did not fit, for rounding */
    for (; p < end; p++) {
        char c = *p;
        if (c == '.') {
            if (point)
                return DEC_INVALID;
            point = true;
            continue;
        }
        if (c == '_') {  /* digit separator: only between two digits */
            if (p == s || !is_digit(p[-1]) || p + 1 == end || !is_digit(p[1]))
                return DEC_INVALID;
            continue;
        }
        if (!is_digit(c))
            return DEC_INVALID;
        any_digit = true;
        if (full)
            continue;
        u128 next = coef * 10 + (unsigned)(c - '0');
        if (next < MAG_LIMIT && (!point || scale < DEC_MAX_SCALE)) {
            coef = next;
            scale += point;
        } else if (!point) {
            return DEC_OVERFLOW;
        } else {
            full = true;
            surplus = (unsigned)(c - '0');
        }
    }
    if (!any_digit)
        return DEC_INVALID;
    if (surplus >= 5 && ++coef == MAG_LIMIT) {
        if (scale == 0)
            return DEC_OVERFLOW;
        coef = (coef + 5) / 10;
        scale--;
    }
    *out = make(coef, scale, neg);
    return DEC_OK;
}

size_t dec_format(qdec d, char *out)
{
    char rev[DEC_FMT_MAX];   /* digits, least significant first */
    size_t n = 0;
    u128 m = mag(d);
    do {
        rev[n++] = (char)('0' + (unsigned)(m % 10));
        m /= 10;
    } while (m);
    while (n <= d.scale)
        rev[n++] = '0';
    char *p = out;
    if (d.coef < 0)
        *p++ = '-';
    for (size_t i = n; i-- > d.scale;)
        *p++ = rev[i];
    if (d.scale) {
        *p++ = '.';
        for (size_t i = d.scale; i-- > 0;)
            *p++ = rev[i];
    }
    *p = '\0';
    return (size_t)(p - out);
}

qdec dec_from_i64(int64_t i)
{
    qdec d = {i, 0};
    return d;
}

dec_status dec_from_double(double f, qdec *out)
{
    if (!isfinite(f))
        return DEC_INVALID;
    bool neg = signbit(f);
    if (f == 0) {
        *out = make(0, 0, false);
        return DEC_OK;
    }
    /* |f| = m * 2^e with m an odd integer of at most 53 bits. */
    int e;
    uint64_t m = (uint64_t)ldexp(frexp(fabs(f), &e), 53);
    e -= 53;
    while (!(m & 1)) {
        m >>= 1;
        e++;
    }
    if (e >= 0) {
        if (e + 64 - __builtin_clzll(m) > 96)
            return DEC_OVERFLOW;
        *out = make((u128)m << e, 0, neg);
        return DEC_OK;
    }
    /* m / 2^k = m * 5^k / 10^k.  Take s = min(k, 28) decimals: m * 5^s fits
     * 128 bits, and the remaining division by 2^(k - s) is a shift whose
     * lost bits tell how to round. */
    unsigned k = (unsigned)-e, s = k < DEC_MAX_SCALE ? k : DEC_MAX_SCALE, shift = k - s;
    u128 w = (u128)m * pow_u128(5, s), q;
    below rest;
    if (shift >= 128) {         /* w < 2^119: far below half a unit */
        q = 0;
        rest = BELOW_LESS_HALF;
    } else if (shift == 0) {
        q = w;
        rest = BELOW_NONE;
    } else {
        q = w >> shift;
        rest = below_of(w & (((u128)1 << shift) - 1), (u128)1 << shift);
    }
    dec_status st = fit(wide_from(q), (int)s, neg, rest, out);
    if (st == DEC_OK && out->coef == 0)
        out->scale = 0;
    return st;
}

double dec_to_double(qdec d)
{
    char buf[DEC_FMT_MAX];
    dec_format(d, buf);
    return strtod(buf, NULL);
}

/* ---- arithmetic ------------------------------------------------------------------- */

dec_status dec_add(qdec a, qdec b, qdec *out)
{
    unsigned s = a.scale > b.scale ? a.scale : b.scale;
    wide x = wide_scaled(mag(a), s - a.scale);
    wide y = wide_scaled(mag(b), s - b.scale);
    bool na = a.coef < 0, nb = b.coef < 0, neg;
    if (na == nb) {
        wide_add(&x, &y);
        neg = na;
    } else if (wide_cmp(&x, &y) >= 0) {
        wide_sub(&x, &y);
        neg = na;
    } else {
        wide_sub(&y, &x);
        x = y;
        neg = nb;
    }
    return fit(x, (int)s, neg, BELOW_NONE, out);
}

dec_status dec_sub(qdec a, qdec b, qdec *out)
{
    return dec_add(a, dec_neg(b), out);
}

dec_status dec_mul(qdec a, qdec b, qdec *out)
{
    wide p = wide_mul(mag(a), mag(b));
    return fit(p, (int)(a.scale + b.scale), (a.coef < 0) != (b.coef < 0), BELOW_NONE, out);
}

/* Long division, one decimal digit at a time: the quotient gets digits
 * while it is inexact and one more digit fits (or while its scale is still
 * negative), then the remainder rounds the last digit.  An inexact quotient
 * loses its trailing zeros, as rust_decimal's does. */
dec_status dec_div(qdec a, qdec b, qdec *out)
{
    u128 d = mag(b);
    if (d == 0)
        return DEC_DIV_ZERO;
    u128 n = mag(a);
    u128 q = n / d, r = n % d;
    bool inexact = r != 0;
    int scale = (int)a.scale - (int)b.scale;
    while (scale < 0 || (r != 0 && scale < DEC_MAX_SCALE)) {
        u128 next = q * 10 + r * 10 / d;
        if (next >= MAG_LIMIT) {
            if (scale < 0)
                return DEC_OVERFLOW;
            break;
        }
        q = next;
        r = r * 10 % d;
        scale++;
    }
    dec_status st = fit(wide_from(q), scale, (a.coef < 0) != (b.coef < 0), below_of(r, d), out);
    if (st == DEC_OK && inexact) {
        while (out->scale > 0 && out->coef % 10 == 0) {
            out->coef /= 10;
            out->scale--;
        }
    }
    return st;
}

dec_status dec_rem(qdec a, qdec b, qdec *out)
{
    u128 d = mag(b);
    if (d == 0)
        return DEC_DIV_ZERO;
    u128 n = mag(a), r;
    unsigned scale;
    if (a.scale >= b.scale) {
        /* Scale the divisor up; if it then exceeds the dividend, the
         * dividend is the remainder, otherwise it fits 96 bits. */
        scale = a.scale;
        wide dw = wide_scaled(d, a.scale - b.scale), nw = wide_from(n);
        r = wide_cmp(&nw, &dw) < 0 ? n : n % wide_low(&dw);
    } else {
        /* (n * 10^k) mod d one digit at a time: r * 10 stays below 2^100. */
        scale = b.scale;
        r = n % d;
        for (unsigned k = b.scale - a.scale; k > 0; k--)
            r = r * 10 % d;
    }
    *out = make(r, scale, a.coef < 0);
    return DEC_OK;
}

int dec_cmp(qdec a, qdec b)
{
    int sa = (a.coef > 0) - (a.coef < 0), sb = (b.coef > 0) - (b.coef < 0);
    if (sa != sb)
        return sa < sb ? -1 : 1;
    if (sa == 0)
        return 0;
    unsigned s = a.scale > b.scale ? a.scale : b.scale;
    wide x = wide_scaled(mag(a), s - a.scale);
    wide y = wide_scaled(mag(b), s - b.scale);
    int c = wide_cmp(&x, &y);
    return sa < 0 ? -c : c;
}

qdec dec_neg(qdec d)
{
    d.coef = -d.coef;
    return d;
}

qdec dec_abs(qdec d)
{
    if (d.coef < 0)
        d.coef = -d.coef;
    return d;
}

qdec dec_round(qdec d, dec_rounding mode)
{
    if (d.scale == 0)
        return d;
    u128 p = pow_u128(10, d.scale), m = mag(d), q = m / p, r = m % p;
    bool neg = d.coef < 0, up = false;
    switch (mode) {
    case DEC_ROUND_HALF_EVEN: up = r * 2 > p || (r * 2 == p && (q & 1)); break;
    case DEC_ROUND_FLOOR: up = neg && r != 0; break;
    case DEC_ROUND_CEIL: up = !neg && r != 0; break;
    case DEC_ROUND_TRUNC: break;
    }
    return make(q + up, 0, neg);
}
