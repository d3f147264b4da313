/* format.c — numbers as text: the str() form of a Float, the format-spec
 * mini-language of f-strings and Str.fmt, and Str.fmt itself.
 *
 * The reference interpreter is written in Rust, so a Float prints the way
 * Rust's Display does: the shortest digit string that reads back as the same
 * double, laid out positionally and never with an exponent (1e21 prints as
 * 1 followed by 21 zeros).  Specs follow Rust's syntax,
 * [fill][align][sign][#][0][width][.precision][type], with widths counted in
 * characters.  Printing relies on the "C" numeric locale (a '.' decimal
 * point), which the program never changes.
 */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gmp.h>

#include "vm.h"

/* Rust rejects widths and precisions beyond 16 bits; so do we, which also
 * keeps "{:999999999999}" from allocating gigabytes. */
#define FMT_LIMIT 65535

/* ---- floats ------------------------------------------------------------------ */

/* Split printf's "%.Ne" output ("d.ddde+XX") into its digits and the power
 * of ten of the first digit. */
static int fmt_split_exp(const char *txt, char *digits, int *exp)
{
    int nd = 0;
    const char *p = txt;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9')
            digits[nd++] = *p;
    *exp = *p ? atoi(p + 1) : 0;
    digits[nd] = 0;
    return nd;
}

/* The shortest digits (no trailing zeros) of a finite double > 0.  Every
 * decimal of at most 15 significant digits survives a trip through a normal
 * double, so if 15 digits read back, trimming their zeros gives the
 * shortest form; otherwise 16 may, and 17 always do.  Subnormals carry less
 * precision and are searched from one digit up. */
static int fmt_shortest(double f, char digits[24], int *exp)
{
    char txt[40];
    for (int prec = f < DBL_MIN ? 1 : 15; prec <= 17; prec++) {
        snprintf(txt, sizeof txt, "%.*e", prec - 1, f);
        if (prec == 17 || strtod(txt, NULL) == f)
            break;
    }
    int nd = fmt_split_exp(txt, digits, exp);
    while (nd > 1 && digits[nd - 1] == '0')
        digits[--nd] = 0;
    return nd;
}

/* Digits d1..dn, d1 standing at 10^exp, in positional notation. */
static void fmt_positional(qbuf *b, bool neg, const char *dig, int nd, int exp)
{
    if (neg)
        buf_putc(b, '-');
    if (exp < 0) {
        buf_append(b, "0.", 2);
        for (int i = -1; i > exp; i--)
            buf_putc(b, '0');
        buf_append(b, dig, (size_t)nd);
    } else if (nd <= exp + 1) {
        buf_append(b, dig, (size_t)nd);
        for (int i = nd; i <= exp; i++)
            buf_putc(b, '0');
    } else {
        buf_append(b, dig, (size_t)exp + 1);
        buf_putc(b, '.');
        buf_append(b, dig + exp + 1, (size_t)(nd - exp - 1));
    }
}

static bool fmt_special(qbuf *b, double f)
{
    if (isnan(f))
        buf_puts(b, "NaN");
    else if (isinf(f))
        buf_puts(b, f > 0 ? "inf" : "-inf");
    else
        return false;
    return true;
}

/* The str() form of a Float, appended to b. */
static void fmt_float_buf(qbuf *b, double f)
{
    if (fmt_special(b, f))
        return;
    if (f == trunc(f) && fabs(f) < 1e10) {
        if (f == 0 && signbit(f))
            buf_puts(b, "-0");
        else
            buf_printf(b, "%" PRId64, (int64_t)f);
        return;
    }
    char dig[24];
    int exp;
    int nd = fmt_shortest(fabs(f), dig, &exp);
    fmt_positional(b, f < 0, dig, nd, exp);
}

void fmt_float(char *out, size_t n, double f)
{
    if (n == 0)
        return;
    /* The common case, a whole number, needs no buffer. */
    if (f == trunc(f) && fabs(f) < 1e10 && !(f == 0 && signbit(f))) {
        snprintf(out, n, "%" PRId64, (int64_t)f);
        return;
    }
    qbuf b;
    buf_init(&b);
    fmt_float_buf(&b, f);
    snprintf(out, n, "%s", b.data);
    buf_free(&b);
}

/* Rust's {:e} / {:.Ne}: "1.5e3", "1e-7", "2.50E3" — no '+', no padding of
 * the exponent.  prec < 0 means the shortest mantissa. */
static void fmt_exp(qbuf *b, double f, long prec, char e)
{
    if (fmt_special(b, f))
        return;
    char *dig;
    int nd, exp;
    char small[24];
    qbuf tmp;
    buf_init(&tmp);
    if (prec < 0) {
        dig = small;
        if (f == 0) {
            strcpy(small, "0");
            nd = 1;
            exp = 0;
        } else {
            nd = fmt_shortest(fabs(f), small, &exp);
        }
    } else {
        buf_printf(&tmp, "%.*e", (int)prec, fabs(f));
        dig = malloc(tmp.len + 1);
        if (!dig)
            abort();
        nd = fmt_split_exp(tmp.data, dig, &exp);
    }
    if (signbit(f))
        buf_putc(b, '-');
    buf_putc(b, dig[0]);
    if (nd > 1) {
        buf_putc(b, '.');
        buf_append(b, dig + 1, (size_t)nd - 1);
    }
    buf_printf(b, "%c%d", e, exp);
    if (dig != small)
        free(dig);
    buf_free(&tmp);
}

/* {:.N} of a Float: fixed decimals ("NaN" and "inf" stay words). */
static void fmt_fixed(qbuf *b, double f, long prec)
{
    if (!fmt_special(b, f))
        buf_printf(b, "%.*f", (int)prec, f);
}

/* ---- specs ------------------------------------------------------------------- */

typedef struct fspec {
    char fill[5];     /* one UTF-8 character */
    size_t fill_len;
    char align;       /* '<' '>' '^', or 0 when not given */
    char sign;        /* '+', ' ', or '-' (the default: only negatives) */
    bool alt;         /* '#': 0x / 0b / 0o prefixes */
    bool zero;        /* '0': zero padding after the sign */
    long width;       /* -1: none */
    long prec;        /* -1: none */
    char type;        /* 0 or one of x X b o e E */
} fspec;

static size_t fmt_u8len(unsigned char c)
{
    return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

static bool fmt_is_align(char c)
{
    return c == '<' || c == '>' || c == '^';
}

static bool fmt_bad_spec(qvm *vm, const char *spec, size_t n, const char *why)
{
    vm_raise(vm, E_VALUE, "Invalid format spec '%.*s': %s", (int)n, spec, why);
    return false;
}

/* Read a run of digits capped at FMT_LIMIT; false if it is larger. */
static bool fmt_number(const char *s, size_t n, size_t *i, long *out)
{
    long v = 0;
    for (; *i < n && s[*i] >= '0' && s[*i] <= '9'; (*i)++) {
        v = v * 10 + (s[*i] - '0');
        if (v > FMT_LIMIT)
            return false;
    }
    *out = v;
    return true;
}

static bool fmt_parse(qvm *vm, const char *s, size_t n, fspec *f)
{
    memset(f, 0, sizeof *f);
    f->fill[0] = ' ';
    f->fill_len = 1;
    f->sign = '-';
    f->width = f->prec = -1;
    size_t i = 0;
    size_t cl = n ? fmt_u8len((unsigned char)s[0]) : 0;
    if (n > cl && fmt_is_align(s[cl])) {
        memcpy(f->fill, s, cl);
        f->fill_len = cl;
        f->align = s[cl];
        i = cl + 1;
    } else if (n && fmt_is_align(s[0])) {
        f->align = s[0];
        i = 1;
    }
    if (i < n && (s[i] == '+' || s[i] == '-' || s[i] == ' '))
        f->sign = s[i++];
    if (i < n && s[i] == '#') {
        f->alt = true;
        i++;
    }
    if (i < n && s[i] == '0') {
        f->zero = true;
        i++;
    }
    if (i < n && s[i] >= '0' && s[i] <= '9' && !fmt_number(s, n, &i, &f->width))
        return fmt_bad_spec(vm, s, n, "width too large");
    if (i < n && s[i] == '.') {
        i++;
        if (i >= n || s[i] < '0' || s[i] > '9')
            return fmt_bad_spec(vm, s, n, "precision expected after '.'");
        if (!fmt_number(s, n, &i, &f->prec))
            return fmt_bad_spec(vm, s, n, "precision too large");
    }
    if (i < n) {
        /* 'd', 'f' and 's' are accepted and mean the default presentation,
         * as the reference (which ignores unknown types) lets them pass. */
        if (i + 1 != n || !strchr("xXboeEdfs", s[i]))
            return fmt_bad_spec(vm, s, n, "unknown format type");
        if (!strchr("dfs", s[i]))
            f->type = s[i];
    }
    return true;
}

/* ---- rendering one value ------------------------------------------------------- */

/* A rendered value: sign, base prefix and body are kept apart so that zero
 * padding can go between them ("-0x00ff"). */
typedef struct fparts {
    const char *sign;
    const char *prefix;
    qbuf body;
    bool numeric;
} fparts;

static void fmt_binary(qbuf *b, uint64_t u)
{
    char tmp[65];
    int i = 64;
    tmp[i] = 0;
    do {
        tmp[--i] = (char)('0' + (u & 1));
        u >>= 1;
    } while (u);
    buf_puts(b, tmp + i);
}

static const char *fmt_prefix(char type)
{
    switch (type) {
    case 'x': case 'X': return "0x";
    case 'b': return "0b";
    case 'o': return "0o";
    default: return "";
    }
}

/* Integer bases print the two's-complement bits of negative numbers, as
 * Rust does for i64. */
static void fmt_int(fparts *p, int64_t i, const fspec *f)
{
    switch (f->type) {
    case 'x': buf_printf(&p->body, "%" PRIx64, (uint64_t)i); break;
    case 'X': buf_printf(&p->body, "%" PRIX64, (uint64_t)i); break;
    case 'o': buf_printf(&p->body, "%" PRIo64, (uint64_t)i); break;
    case 'b': fmt_binary(&p->body, (uint64_t)i); break;
    case 'e': case 'E': fmt_exp(&p->body, (double)i, f->prec, f->type); break;
    default:
        if (f->prec >= 0)
            fmt_fixed(&p->body, (double)i, f->prec);
        else
            buf_printf(&p->body, "%" PRId64, i);
    }
}

/* Rust's `as i64`: saturating, NaN to 0. */
static int64_t fmt_f2i(double d)
{
    if (isnan(d))
        return 0;
    if (d >= 9223372036854775807.0)
        return INT64_MAX;
    if (d <= -9223372036854775808.0)
        return INT64_MIN;
    return (int64_t)d;
}

static void fmt_flt(fparts *p, double d, const fspec *f)
{
    switch (f->type) {
    case 'x': case 'X': case 'o': case 'b': fmt_int(p, fmt_f2i(d), f); break;
    case 'e': case 'E': fmt_exp(&p->body, d, f->prec, f->type); break;
    default:
        if (f->prec >= 0)
            fmt_fixed(&p->body, d, f->prec);
        else
            fmt_float_buf(&p->body, d);
    }
}

static void fmt_big(fparts *p, const qbigint *bi, const fspec *f)
{
    mpz_srcptr z = bi->mp;
    int base;
    switch (f->type) {
    case 'x': base = 16; break;
    case 'X': base = -16; break; /* GMP: negative base = upper-case digits */
    case 'o': base = 8; break;
    case 'b': base = 2; break;
    case 'e': case 'E': fmt_exp(&p->body, mpz_get_d(z), f->prec, f->type); return;
    default: base = 10; break;
    }
    char *txt = malloc(mpz_sizeinbase(z, abs(base)) + 2);
    if (!txt)
        abort();
    mpz_get_str(txt, base, z);
    buf_puts(&p->body, txt);
    free(txt);
    if (base == 10 && f->prec > 0) {
        buf_putc(&p->body, '.');
        for (long k = 0; k < f->prec; k++)
            buf_putc(&p->body, '0');
    }
}

/* u / 10^scale with exactly `scale` decimals (scale <= 28, so at most 40
 * digits). */
static void fmt_u128(qbuf *b, unsigned __int128 u, uint32_t scale)
{
    char tmp[64];
    int i = 63;
    tmp[i] = 0;
    uint32_t nd = 0;
    do {
        tmp[--i] = (char)('0' + (int)(u % 10));
        u /= 10;
        nd++;
    } while (u || nd <= scale);
    size_t len = (size_t)(63 - i);
    buf_append(b, tmp + i, len - scale);
    if (scale) {
        buf_putc(b, '.');
        buf_append(b, tmp + i + len - scale, scale);
    }
}

/* {:.N} of a Decimal: rounded half to even (rust_decimal's default), or
 * padded with zeros. */
static void fmt_dec_fixed(qbuf *b, const qdecimal *d, long prec)
{
    bool neg = d->coef < 0;
    unsigned __int128 u = neg ? -(unsigned __int128)d->coef : (unsigned __int128)d->coef;
    uint32_t scale = d->scale;
    if ((uint32_t)prec < scale) {
        unsigned __int128 div = 1;
        for (uint32_t k = (uint32_t)prec; k < scale; k++)
            div *= 10;
        unsigned __int128 q = u / div, r = u % div;
        if (r * 2 > div || (r * 2 == div && (q & 1)))
            q++;
        u = q;
        scale = (uint32_t)prec;
    }
    if (neg && u)
        buf_putc(b, '-');
    fmt_u128(b, u, scale);
    if ((uint32_t)prec > scale) {
        if (!scale)
            buf_putc(b, '.');
        for (long k = scale; k < prec; k++)
            buf_putc(b, '0');
    }
}

static bool fmt_dec(qvm *vm, fparts *p, const qdecimal *d, const fspec *f)
{
    switch (f->type) {
    case 'e': case 'E':
        fmt_exp(&p->body, decimal_to_double(d), f->prec, f->type);
        return true;
    case 0:
        break;
    default:
        vm_raise(vm, E_VALUE, "Format type '%c' does not apply to Decimal", f->type);
        return false;
    }
    if (f->prec >= 0) {
        fmt_dec_fixed(&p->body, d, f->prec);
    } else {
        qstr *s = decimal_to_str(vm, d);
        buf_append(&p->body, s->data, s->len);
    }
    return true;
}

/* Anything that is not a number: its str() form, precision truncating it
 * to that many characters. */
static bool fmt_text(qvm *vm, fparts *p, qval v, const fspec *f)
{
    if (f->type) {
        vm_raise(vm, E_VALUE, "Format type '%c' needs a number, got %s", f->type,
                 vm_cls_name(v));
        return false;
    }
    qstr *s = vm_to_str(vm, v);
    if (!s)
        return false;
    size_t len = s->len;
    if (f->prec >= 0 && (uint32_t)f->prec < s->nchars)
        len = str_char_offset(s, (uint32_t)f->prec);
    buf_append(&p->body, s->data, len);
    return true;
}

static bool fmt_render(qvm *vm, fparts *p, qval v, const fspec *f)
{
    bool neg = false;
    p->numeric = true;
    if (IS_INT(v)) {
        neg = v.as.i < 0;
        fmt_int(p, v.as.i, f);
    } else if (IS_FLOAT(v)) {
        neg = signbit(v.as.f) || isnan(v.as.f);
        fmt_flt(p, v.as.f, f);
    } else if (IS_BIGINT(v)) {
        neg = mpz_sgn((mpz_srcptr)AS_BIGINT(v)->mp) < 0;
        fmt_big(p, AS_BIGINT(v), f);
    } else if (IS_DECIMAL(v)) {
        neg = AS_DECIMAL(v)->coef < 0;
        if (!fmt_dec(vm, p, AS_DECIMAL(v), f))
            return false;
    } else {
        p->numeric = false;
        return fmt_text(vm, p, v, f);
    }
    if (p->body.len && p->body.data[0] == '-') {
        p->sign = "-";
        memmove(p->body.data, p->body.data + 1, p->body.len--);
    } else if (!neg && f->sign == '+') {
        p->sign = "+";
    } else if (!neg && f->sign == ' ') {
        p->sign = " ";
    }
    if (f->alt)
        p->prefix = fmt_prefix(f->type);
    return true;
}

static void fmt_repeat(qbuf *b, const char *s, size_t n, long times)
{
    for (long k = 0; k < times; k++)
        buf_append(b, s, n);
}

bool fmt_spec(qvm *vm, qbuf *b, qval v, const char *spec, size_t spec_len)
{
    fspec f;
    if (!fmt_parse(vm, spec, spec_len, &f))
        return false;
    fparts p = {"", "", {NULL, 0, 0}, false};
    if (!fmt_render(vm, &p, v, &f)) {
        buf_free(&p.body);
        return false;
    }
    const char *body = p.body.data ? p.body.data : "";
    size_t nchars = strlen(p.sign) + strlen(p.prefix) + utf8_count(body, p.body.len);
    long pad = f.width > (long)nchars ? f.width - (long)nchars : 0;
    if (f.zero && p.numeric) {
        /* Sign-aware zero padding: "-0042", "0x00ff". */
        buf_puts(b, p.sign);
        buf_puts(b, p.prefix);
        fmt_repeat(b, "0", 1, pad);
        buf_append(b, body, p.body.len);
    } else {
        const char *fill = f.zero && !f.align ? "0" : f.fill;
        size_t fill_len = f.zero && !f.align ? 1 : f.fill_len;
        char align = f.align ? f.align : '>';
        long left = align == '<' ? 0 : align == '^' ? pad / 2 : pad;
        fmt_repeat(b, fill, fill_len, left);
        buf_puts(b, p.sign);
        buf_puts(b, p.prefix);
        buf_append(b, body, p.body.len);
        fmt_repeat(b, fill, fill_len, pad - left);
    }
    buf_free(&p.body);
    return true;
}

/* ---- Str.fmt --------------------------------------------------------------------- */

/* One "{...}" placeholder: [index][:spec].  Auto-numbered placeholders take
 * the next argument; explicit indices do not move the counter. */
static bool fmt_placeholder(qvm *vm, qbuf *b, const char *ph, size_t n, int *next,
                            int argc, qval *argv)
{
    const char *colon = memchr(ph, ':', n);
    size_t idx_len = colon ? (size_t)(colon - ph) : n;
    long index;
    if (idx_len == 0) {
        index = (*next)++;
    } else {
        size_t i = 0;
        if (!fmt_number(ph, idx_len, &i, &index) || i != idx_len) {
            vm_raise(vm, E_VALUE, "Invalid placeholder index: %.*s", (int)idx_len, ph);
            return false;
        }
    }
    if (index >= argc) {
        vm_raise(vm, E_ARG, "Placeholder index %ld out of range (have %d args)", index, argc);
        return false;
    }
    qval v = argv[index];
    if (colon)
        return fmt_spec(vm, b, v, colon + 1, n - idx_len - 1);
    qstr *s = vm_to_str(vm, v);
    if (!s)
        return false;
    buf_append(b, s->data, s->len);
    return true;
}

qval str_format(qvm *vm, qstr *fmt, int argc, qval *argv)
{
    qbuf b;
    buf_init(&b);
    const char *s = fmt->data;
    size_t n = fmt->len;
    int next = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '{' && i + 1 < n && s[i + 1] == '{') {
            buf_putc(&b, '{');
            i++;
        } else if (c == '}' && i + 1 < n && s[i + 1] == '}') {
            buf_putc(&b, '}');
            i++;
        } else if (c == '{') {
            const char *end = memchr(s + i + 1, '}', n - i - 1);
            if (!end) {
                buf_free(&b);
                return vm_raise(vm, E_VALUE, "Unmatched '{' in format string");
            }
            size_t len = (size_t)(end - (s + i + 1));
            if (!fmt_placeholder(vm, &b, s + i + 1, len, &next, argc, argv)) {
                buf_free(&b);
                return qv_exc();
            }
            i += len + 1;
        } else {
            buf_putc(&b, c);
        }
    }
    if (b.len > UINT32_MAX) {
        buf_free(&b);
        return vm_raise(vm, E_VALUE, "formatted string too large");
    }
    return qv_obj(buf_to_str(vm, &b));
}
