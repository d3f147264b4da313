/* json_parse.c — JSON text to Quest values (json_parse, see json.h).
 *
 * A recursive descent over a '\0'-terminated buffer that builds VM values
 * as it goes: no token stream, no intermediate tree.  The terminator
 * doubles as a sentinel, so the inner loops test one byte per character
 * and only look at the end pointer when they stop.  Strings without
 * escapes are copied once, straight from the input; object keys short
 * enough to repeat across a document are interned, so a thousand records
 * share one copy of each key and its hash.  The GC never runs inside a
 * native, so the values under construction need no rooting.
 *
 * The grammar and the error messages are serde_json's (the reference's
 * parser), with the position as "at line L column C".
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "modules/encoding/json.h"

/* Keys up to this many bytes are interned. */
#define JSON_INTERN_MAX 32

typedef struct jparser {
    qvm *vm;
    const char *start, *end;
    const char *p;          /* the next byte to read */
    int depth;
    char *sbuf;             /* scratch: the decoded text of an escaped string */
    size_t slen, scap;
    qval *items;            /* scratch: the elements of the open arrays */
    size_t nitems, capitems;
} jparser;

/* Raise ValueErr for an error at `at`; lines and columns count from 1, the
 * column in bytes, as serde_json does. */
static qval jp_fail(jparser *jp, const char *at, const char *what)
{
    int line = 1;
    const char *line_start = jp->start;
    for (const char *q = jp->start; q < at; q++)
        if (*q == '\n') {
            line++;
            line_start = q + 1;
        }
    return vm_raise(jp->vm, E_VALUE, "JSON parse error: %s at line %d column %ld", what, line,
                    (long)(at - line_start) + 1);
}

/* The message for an unexpected byte at p: running into the end of the
 * text reads differently from a wrong character. */
static qval jp_unexpected(jparser *jp, const char *p, const char *eof_what, const char *what)
{
    return jp_fail(jp, p, p >= jp->end ? eof_what : what);
}

static inline const char *jp_skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
        p++;
    return p;
}

static void *jp_grow(void *p, size_t *cap, size_t need, size_t elem)
{
    size_t ncap = *cap ? *cap : 64;
    while (ncap < need)
        ncap *= 2;
    p = realloc(p, ncap * elem);
    if (!p)
        abort();
    *cap = ncap;
    return p;
}

static void jp_push(jparser *jp, qval v)
{
    if (jp->nitems == jp->capitems)
        jp->items = jp_grow(jp->items, &jp->capitems, jp->nitems + 1, sizeof(qval));
    jp->items[jp->nitems++] = v;
}

static void jp_sappend(jparser *jp, const void *s, size_t n)
{
    if (n == 0)
        return;
    if (jp->slen + n > jp->scap)
        jp->sbuf = jp_grow(jp->sbuf, &jp->scap, jp->slen + n, 1);
    memcpy(jp->sbuf + jp->slen, s, n);
    jp->slen += n;
}

/* Bytes that end a run of plain string content: '"', '\\', controls
 * (which include the terminating '\0') and the start of a multi-byte
 * UTF-8 character, which must be checked. */
static const uint8_t jp_stop[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

/* True when none of the 8 bytes at p is special in a string.  Word-at-a-
 * time tests (exact for "is there any such byte"): a byte below 0x20, a
 * byte with the high bit set, a '"', a '\\'. */
static inline bool jp_plain8(const unsigned char *p)
{
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    uint64_t x, q, b;
    memcpy(&x, p, 8);
    q = x ^ (ones * '"');
    b = x ^ (ones * '\\');
    uint64_t special = ((x - ones * 0x20) & ~x) | x | ((q - ones) & ~q) | ((b - ones) & ~b);
    return (special & high) == 0;
}

/* Length of the valid UTF-8 sequence at p (lead byte >= 0x80), or 0.
 * No overlong forms, no surrogates, nothing above U+10FFFF.  Relies on the
 * '\0' after the text to stop at the end. */
static int jp_utf8_len(const unsigned char *p)
{
    unsigned c = p[0];
    if (c < 0xC2)
        return 0;
    if ((p[1] & 0xC0) != 0x80)
        return 0;
    if (c < 0xE0)
        return 2;
    if ((p[2] & 0xC0) != 0x80)
        return 0;
    if (c < 0xF0) {
        if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] >= 0xA0))
            return 0;
        return 3;
    }
    if (c > 0xF4 || (p[3] & 0xC0) != 0x80)
        return 0;
    if ((c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] >= 0x90))
        return 0;
    return 4;
}

static void jp_put_utf8(jparser *jp, uint32_t cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | cp >> 6);
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | cp >> 12);
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | cp >> 18);
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    jp_sappend(jp, u, n);
}

/* The four hex digits after "\u" at p, or -1 (with *bad set to the first
 * byte that is not one). */
static long jp_hex4(const unsigned char *p, const unsigned char **bad)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int d = hex_digit_value(p[i]);
        if (d < 0) {
            *bad = p + i;
            return -1;
        }
        v = v << 4 | d;
    }
    return v;
}

/* A "\u" escape at p (pointing at 'u'): decoded into sbuf, surrogate pairs
 * joined.  Returns the position after it, or NULL after raising. */
static const unsigned char *jp_unicode_escape(jparser *jp, const unsigned char *p)
{
    const unsigned char *bad;
    long cp = jp_hex4(p + 1, &bad);
    if (cp < 0) {
        jp_unexpected(jp, (const char *)bad, "EOF while parsing a string", "invalid escape");
        return NULL;
    }
    p += 5;
    if (cp >= 0xDC00 && cp <= 0xDFFF) {
        jp_fail(jp, (const char *)p, "lone trailing surrogate in hex escape");
        return NULL;
    }
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        long lo = -1;
        if (p[0] == '\\' && p[1] == 'u')
            lo = jp_hex4(p + 2, &bad);
        if (lo < 0xDC00 || lo > 0xDFFF) {
            jp_fail(jp, (const char *)p, "lone leading surrogate in hex escape");
            return NULL;
        }
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        p += 6;
    }
    jp_put_utf8(jp, (uint32_t)cp);
    return p;
}

static qstr *jp_make_str(jparser *jp, const char *s, size_t n, bool key)
{
    if (key && n <= JSON_INTERN_MAX)
        return str_intern(jp->vm, s, n);
    return str_new(jp->vm, s, n);
}

/* A control byte, the end of the text, or broken UTF-8 inside a string. */
static qstr *jp_bad_string_byte(jparser *jp, const unsigned char *p)
{
    if ((const char *)p >= jp->end)
        jp_fail(jp, (const char *)p, "EOF while parsing a string");
    else if (*p >= 0x80)
        jp_fail(jp, (const char *)p, "invalid UTF-8 in string");
    else
        jp_fail(jp, (const char *)p, "control character (\\u0000-\\u001F) found while parsing a string");
    return NULL;
}

/* The rest of a string from its first backslash at p; the text before it,
 * from s, is plain. */
static qstr *jp_string_escaped(jparser *jp, const unsigned char *s, const unsigned char *p, bool key)
{
    jp->slen = 0;
    jp_sappend(jp, s, (size_t)(p - s));
    for (;;) {
        const unsigned char *run = p;
        while (!jp_stop[*p])
            p++;
        jp_sappend(jp, run, (size_t)(p - run));
        if (*p == '"')
            break;
        if (*p == '\\') {
            static const char simple[256] = {
                ['"'] = '"', ['\\'] = '\\', ['/'] = '/', ['b'] = '\b',
                ['f'] = '\f', ['n'] = '\n', ['r'] = '\r', ['t'] = '\t',
            };
            char c = simple[p[1]];
            if (c) {
                jp_sappend(jp, &c, 1);
                p += 2;
            } else if (p[1] == 'u') {
                if (!(p = jp_unicode_escape(jp, p + 1)))
                    return NULL;
            } else {
                jp_unexpected(jp, (const char *)p + 1, "EOF while parsing a string", "invalid escape");
                return NULL;
            }
            continue;
        }
        int n = *p >= 0x80 ? jp_utf8_len(p) : 0;
        if (!n)
            return jp_bad_string_byte(jp, p);
        jp_sappend(jp, p, (size_t)n);
        p += n;
    }
    jp->p = (const char *)p + 1;
    return jp_make_str(jp, jp->sbuf, jp->slen, key);
}

/* A string; jp->p is just past the opening quote. */
static qstr *jp_string(jparser *jp, bool key)
{
    const unsigned char *s = (const unsigned char *)jp->p, *p = s;
    const unsigned char *end = (const unsigned char *)jp->end;
    for (;;) {
        while (end - p >= 8 && jp_plain8(p))
            p += 8;
        while (!jp_stop[*p])
            p++;
        if (*p == '"')
            break;
        if (*p == '\\')
            return jp_string_escaped(jp, s, p, key);
        int n = *p >= 0x80 ? jp_utf8_len(p) : 0;
        if (!n)
            return jp_bad_string_byte(jp, p);
        p += n;
    }
    jp->p = (const char *)p + 1;
    return jp_make_str(jp, (const char *)s, (size_t)(p - s), key);
}

static inline bool jp_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Powers of ten that doubles hold exactly. */
static const double jp_pow10[] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* The double nearest to the number text s..e (already checked). */
static double jp_strtod(const char *s, const char *e)
{
    char small[64], *buf = small;
    size_t n = (size_t)(e - s);
    if (n >= sizeof small && !(buf = malloc(n + 1)))
        abort();
    memcpy(buf, s, n);
    buf[n] = '\0';
    double f = strtod(buf, NULL);
    if (buf != small)
        free(buf);
    return f;
}

/* Append one decimal digit to the significand; false once it no longer
 * fits in 64 bits (the digits still count toward the exponent). */
static inline bool jp_accumulate(uint64_t *mant, char c)
{
    unsigned d = (unsigned)(c - '0');
    if (*mant > (UINT64_MAX - d) / 10)
        return false;
    *mant = *mant * 10 + d;
    return true;
}

static qval jp_number(jparser *jp)
{
    const char *s = jp->p, *p = s;
    bool neg = *p == '-', fits = true, is_float = false;
    uint64_t mant = 0;
    long exp10 = 0;
    if (neg)
        p++;
    if (*p == '0') {
        p++;
        if (jp_digit(*p))
            return jp_fail(jp, p, "invalid number");
    } else if (jp_digit(*p)) {
        for (; jp_digit(*p); p++)
            fits = fits && jp_accumulate(&mant, *p);
    } else {
        return jp_unexpected(jp, p, "EOF while parsing a value", "invalid number");
    }
    if (*p == '.') {
        is_float = true;
        if (!jp_digit(*++p))
            return jp_unexpected(jp, p, "EOF while parsing a value", "invalid number");
        for (; jp_digit(*p); p++, exp10--)
            fits = fits && jp_accumulate(&mant, *p);
    }
    if (*p == 'e' || *p == 'E') {
        is_float = true;
        p++;
        bool eneg = *p == '-';
        if (*p == '+' || *p == '-')
            p++;
        if (!jp_digit(*p))
            return jp_unexpected(jp, p, "EOF while parsing a value", "invalid number");
        long e = 0;
        for (; jp_digit(*p); p++)
            if (e < 1000000)
                e = e * 10 + (*p - '0');
        exp10 += eneg ? -e : e;
    }
    jp->p = p;
    if (!is_float && fits) {
        if (!neg && mant <= INT64_MAX)
            return qv_int((int64_t)mant);
        /* serde_json reads "-0" as the float -0.0. */
        if (neg && mant != 0 && mant <= (uint64_t)INT64_MAX + 1)
            return qv_int((int64_t)(0 - mant));
    }
    double f;
    if (fits && mant <= (1ULL << 53) && exp10 >= -22 && exp10 <= 22)
        /* Both operands exact: one correctly rounded operation (Clinger). */
        f = exp10 < 0 ? (double)mant / jp_pow10[-exp10] : (double)mant * jp_pow10[exp10];
    else
        f = fabs(jp_strtod(s, p));
    if (isinf(f))
        return jp_fail(jp, s, "number out of range");
    return qv_float(neg ? -f : f);
}

static qval jp_literal(jparser *jp, const char *word, qval v)
{
    const char *p = jp->p;
    for (const char *w = word; *w; w++, p++)
        if (*p != *w)
            return jp_unexpected(jp, p, "EOF while parsing a value", "expected ident");
    jp->p = p;
    return v;
}

static qval jp_value(jparser *jp);

static qval jp_array(jparser *jp)
{
    if (++jp->depth > JSON_MAX_DEPTH)
        return jp_fail(jp, jp->p, "recursion limit exceeded");
    const char *p = jp_skip_ws(jp->p + 1);
    size_t base = jp->nitems;
    if (*p != ']') {
        for (;;) {
            jp->p = p;
            qval v = jp_value(jp);
            if (IS_EXC(v))
                return v;
            jp_push(jp, v);
            p = jp_skip_ws(jp->p);
            if (*p == ']')
                break;
            if (*p != ',')
                return jp_unexpected(jp, p, "EOF while parsing a list", "expected `,` or `]`");
            p = jp_skip_ws(p + 1);
            if (*p == ']')
                return jp_fail(jp, p, "trailing comma");
        }
    }
    size_t n = jp->nitems - base;
    if (n > UINT32_MAX)
        return jp_fail(jp, p, "array too long");
    qarray *a = arr_new(jp->vm, (uint32_t)n);
    if (n)
        memcpy(a->items, jp->items + base, n * sizeof(qval));
    a->len = (uint32_t)n;
    jp->nitems = base;
    jp->p = p + 1;
    jp->depth--;
    return qv_obj(a);
}

static qval jp_object(jparser *jp)
{
    if (++jp->depth > JSON_MAX_DEPTH)
        return jp_fail(jp, jp->p, "recursion limit exceeded");
    qdict *d = dict_new(jp->vm);
    const char *p = jp_skip_ws(jp->p + 1);
    if (*p != '}') {
        for (;;) {
            if (*p != '"')
                return jp_unexpected(jp, p, "EOF while parsing an object", "key must be a string");
            jp->p = p + 1;
            qstr *key = jp_string(jp, true);
            if (!key)
                return qv_exc();
            p = jp_skip_ws(jp->p);
            if (*p != ':')
                return jp_unexpected(jp, p, "EOF while parsing an object", "expected `:`");
            jp->p = jp_skip_ws(p + 1);
            qval v = jp_value(jp);
            if (IS_EXC(v))
                return v;
            dict_set(jp->vm, d, key, v);
            p = jp_skip_ws(jp->p);
            if (*p == '}')
                break;
            if (*p != ',')
                return jp_unexpected(jp, p, "EOF while parsing an object", "expected `,` or `}`");
            p = jp_skip_ws(p + 1);
            if (*p == '}')
                return jp_fail(jp, p, "trailing comma");
        }
    }
    jp->p = p + 1;
    jp->depth--;
    return qv_obj(d);
}

/* One value; jp->p is at its first byte (whitespace already skipped). */
static qval jp_value(jparser *jp)
{
    switch (*jp->p) {
    case '{':
        return jp_object(jp);
    case '[':
        return jp_array(jp);
    case '"': {
        jp->p++;
        qstr *s = jp_string(jp, false);
        return s ? qv_obj(s) : qv_exc();
    }
    case 't':
        return jp_literal(jp, "true", qv_bool(true));
    case 'f':
        return jp_literal(jp, "false", qv_bool(false));
    case 'n':
        return jp_literal(jp, "null", qv_nil());
    case '-': case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        return jp_number(jp);
    default:
        return jp_unexpected(jp, jp->p, "EOF while parsing a value", "expected value");
    }
}

qval json_parse(qvm *vm, const char *text, size_t len)
{
    jparser jp = {.vm = vm, .start = text, .end = text + len};
    jp.p = jp_skip_ws(text);
    qval v = jp_value(&jp);
    if (!IS_EXC(v)) {
        const char *p = jp_skip_ws(jp.p);
        if (p < jp.end)
            v = jp_fail(&jp, p, "trailing characters");
    }
    free(jp.sbuf);
    free(jp.items);
    return v;
}
