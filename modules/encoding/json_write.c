/* json_write.c — Quest values as JSON text (json_stringify, see json.h).
 *
 * Appends into one growing buffer and makes a single Str at the end.  It
 * writes what the reference (serde_json) writes: keys sorted, no spaces in
 * compact form, the same pretty layout, and floats in the shortest form
 * that reads back as the same double ("1.0", "0.1", "1e-7", "1.5e300").
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/encoding/json.h"

static void *jw_grow(void *p, size_t *cap, size_t need, size_t elem)
{
    size_t ncap = *cap ? *cap : 256;
    while (ncap < need)
        ncap *= 2;
    p = realloc(p, ncap * elem);
    if (!p)
        abort();
    *cap = ncap;
    return p;
}

typedef struct jwriter {
    qvm *vm;
    char *buf;
    size_t len, cap;
    int indent;               /* < 0: compact */
    qdict_entry **keys;       /* scratch: the entries of the open objects, sorted */
    size_t nkeys, capkeys;
    qdict_entry *small[32];   /* keys' first storage: small documents never malloc it */
} jwriter;

static inline char *jw_reserve(jwriter *w, size_t n)
{
    if (w->len + n > w->cap)
        w->buf = jw_grow(w->buf, &w->cap, w->len + n, 1);
    return w->buf + w->len;
}

static inline void jw_raw(jwriter *w, const char *s, size_t n)
{
    memcpy(jw_reserve(w, n), s, n);
    w->len += n;
}

static inline void jw_char(jwriter *w, char c)
{
    *jw_reserve(w, 1) = c;
    w->len++;
}

/* The line break and indentation before an item at `depth`. */
static void jw_newline(jwriter *w, int depth)
{
    size_t n = 1 + (size_t)w->indent * (size_t)depth;
    char *p = jw_reserve(w, n);
    p[0] = '\n';
    memset(p + 1, ' ', n - 1);
    w->len += n;
}

/* The decimal digits of u into out (at least 20 bytes); their count. */
static int jw_digits(uint64_t u, char *out)
{
    char tmp[20], *p = tmp + sizeof tmp;
    do
        *--p = (char)('0' + u % 10);
    while (u /= 10);
    int n = (int)(tmp + sizeof tmp - p);
    memcpy(out, p, (size_t)n);
    return n;
}

static void jw_int(jwriter *w, int64_t i)
{
    char *p = jw_reserve(w, 21);
    if (i < 0)
        *p++ = '-';
    w->len += (size_t)(i < 0) + (size_t)jw_digits(i < 0 ? 0 - (uint64_t)i : (uint64_t)i, p);
}

/* Lay out the digits dig[0..nd) of a number whose decimal point sits kk
 * places after the first digit, the way Ryu (and so serde_json) does:
 * positional within 16 places of the point, else d.ddde±x. */
static void jw_layout(jwriter *w, bool neg, const char *dig, int nd, int kk)
{
    char *p = jw_reserve(w, 48), *start = p;
    if (neg)
        *p++ = '-';
    if (nd <= kk && kk <= 16) {          /* 1234e7 -> 12340000000.0 */
        memcpy(p, dig, (size_t)nd);
        p += nd;
        memset(p, '0', (size_t)(kk - nd));
        p += kk - nd;
        memcpy(p, ".0", 2);
        p += 2;
    } else if (0 < kk && kk <= 16) {     /* 1234e-2 -> 12.34 */
        memcpy(p, dig, (size_t)kk);
        p += kk;
        *p++ = '.';
        memcpy(p, dig + kk, (size_t)(nd - kk));
        p += nd - kk;
    } else if (-5 < kk && kk <= 0) {     /* 1234e-6 -> 0.001234 */
        memcpy(p, "0.", 2);
        p += 2;
        memset(p, '0', (size_t)-kk);
        p += -kk;
        memcpy(p, dig, (size_t)nd);
        p += nd;
    } else {                             /* 1e30, 1.234e-7 */
        *p++ = dig[0];
        if (nd > 1) {
            *p++ = '.';
            memcpy(p, dig + 1, (size_t)nd - 1);
            p += nd - 1;
        }
        p += sprintf(p, "e%d", kk - 1);
    }
    w->len += (size_t)(p - start);
}

typedef unsigned __int128 jw_u128;

/* 10^0 .. 10^19. */
static const uint64_t jw_pow10_u64[] = {
    1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL,
    100000000ULL, 1000000000ULL, 10000000000ULL, 100000000000ULL, 1000000000000ULL,
    10000000000000ULL, 100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL,
    100000000000000000ULL, 1000000000000000000ULL, 10000000000000000000ULL,
};

/* The shortest digits of f (normal, 1e-5 <= f < 2^55) that read back as
 * f, in exact integer arithmetic.  f = M * 2^E; every real strictly
 * between f's midpoints with its neighbours reads back as f.  Scaled by
 * 10^k to 17 digits, those bounds and f are exact 128-bit products, so
 * the integers in the interval are known exactly; the fewest-digit one
 * is found by dropping decimal digits while the interval still holds a
 * multiple of ten, and among those the nearest to f is taken.  Returns
 * the digit count, or 0 when f is out of range. */
static int jw_shortest_exact(double f, char dig[24], int *kk)
{
    uint64_t bits;
    memcpy(&bits, &f, 8);
    int biased = (int)(bits >> 52) & 0x7FF;
    uint64_t m = (bits & ((1ULL << 52) - 1)) | (1ULL << 52);
    int e2 = biased - 1075, shift = 2 - e2;      /* f = m * 2^e2 = 4m / 2^shift */
    int k = 16 - (int)floor(log10(f));           /* f * 10^k in [1e16, 1e17) */
    if (biased == 0 || shift < 0 || shift > 100 || k < 0 || k > 21)
        return 0;
    jw_u128 p10 = k > 19 ? (jw_u128)jw_pow10_u64[19] * jw_pow10_u64[k - 19] : jw_pow10_u64[k];
    /* The lower neighbour is closer when m is a power of two. */
    jw_u128 lo = (jw_u128)(4 * m - (m == 1ULL << 52 && biased > 1 ? 1 : 2)) * p10;
    jw_u128 hi = (jw_u128)(4 * m + 2) * p10;
    jw_u128 mid = (jw_u128)(4 * m) * p10;
    jw_u128 one = (jw_u128)1 << shift;
    uint64_t vl = (uint64_t)(lo >> shift) + 1;           /* bounds excluded */
    uint64_t vh = (uint64_t)((hi + one - 1) >> shift) - 1;
    uint64_t v = (uint64_t)(mid >> shift);
    bool frac = (mid & (one - 1)) != 0;
    bool above_half = (mid & (one - 1)) > (one >> 1), at_half = (mid & (one - 1)) == (one >> 1);
    if (vl > vh)
        return 0;
    int r = 0;
    while ((vl + 9) / 10 <= vh / 10) {
        vl = (vl + 9) / 10;
        vh /= 10;
        r++;
    }
    uint64_t q;
    if (r == 0) {
        q = v + (above_half || (at_half && shift > 0 && (v & 1)));
    } else {
        uint64_t p = jw_pow10_u64[r], rest = v % p;
        q = v / p;
        if (2 * rest > p || (2 * rest == p && (frac || (q & 1))))
            q++;
    }
    q = q < vl ? vl : q > vh ? vh : q;
    int nd = jw_digits(q, dig);
    *kk = nd + r - k;
    return nd;
}

/* The shortest digits of a finite f > 0 that read back as f, and kk (the
 * position of the decimal point after the first digit).  Numbers outside
 * the exact method's range go through printf's correctly rounded %.*e. */
static int jw_shortest(double f, char dig[24], int *kk)
{
    int nd = f >= 1e-5 ? jw_shortest_exact(f, dig, kk) : 0;
    if (nd)
        return nd;
    /* Subnormals carry fewer digits: search them from one digit up. */
    char txt[40];
    for (int prec = f < DBL_MIN ? 1 : 15; prec <= 17; prec++) {
        snprintf(txt, sizeof txt, "%.*e", prec - 1, f);
        if (prec == 17 || strtod(txt, NULL) == f)
            break;
    }
    const char *t = txt;
    for (; *t != 'e'; t++)
        if (*t != '.')
            dig[nd++] = *t;
    while (nd > 1 && dig[nd - 1] == '0')
        nd--;
    *kk = atoi(t + 1) + 1;
    return nd;
}

static bool jw_float(jwriter *w, double f)
{
    if (!isfinite(f)) {
        vm_raise(w->vm, E_VALUE, "JSON stringify error: %s is not a valid JSON number",
                 isnan(f) ? "NaN" : f > 0 ? "inf" : "-inf");
        return false;
    }
    double a = fabs(f);
    if (a < 1e16 && a == trunc(a)) {
        if (signbit(f))
            jw_char(w, '-');
        jw_int(w, (int64_t)a);
        jw_raw(w, ".0", 2);
        return true;
    }
    char dig[24];
    int kk, nd = jw_shortest(a, dig, &kk);
    jw_layout(w, f < 0, dig, nd, kk);
    return true;
}

/* How each byte is written inside a string: 0 as itself, else the letter
 * after the backslash ('u' for \u00XX). */
static const char jw_escape[256] = {
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'b', 't', 'n', 'u', 'f', 'r', 'u', 'u',
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
    0, 0, '"', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '\\', 0, 0, 0,
};

/* Whether one of the 8 bytes of x needs escaping: below 0x20, '"' or '\\'.
 * (A byte-wise borrow can only flag a word that has such a byte.) */
static inline bool jw_word_escapes(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
    uint64_t quote = x ^ (ones * '"'), slash = x ^ (ones * '\\');
    return (((x - ones * 0x20) & ~x) | ((quote - ones) & ~quote) | ((slash - ones) & ~slash)) & high;
}

static void jw_string(jwriter *w, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    jw_reserve(w, n + 2);
    w->buf[w->len++] = '"';
    while (p < end) {
        const unsigned char *run = p;
        for (uint64_t x; end - p >= 8 && (memcpy(&x, p, 8), !jw_word_escapes(x));)
            p += 8;
        while (p < end && !jw_escape[*p])
            p++;
        jw_raw(w, (const char *)run, (size_t)(p - run));
        if (p == end)
            break;
        char e = jw_escape[*p];
        char *o = jw_reserve(w, 6);
        o[0] = '\\';
        o[1] = e;
        if (e == 'u') {
            static const char hex[] = "0123456789abcdef";
            o[2] = '0';
            o[3] = '0';
            o[4] = hex[*p >> 4];
            o[5] = hex[*p & 15];
            w->len += 6;
        } else {
            w->len += 2;
        }
        p++;
    }
    jw_char(w, '"');
}

static void jw_base64(jwriter *w, const uint8_t *p, size_t n)
{
    static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *o = jw_reserve(w, (n + 2) / 3 * 4 + 2), *start = o;
    *o++ = '"';
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        *o++ = alpha[v >> 18];
        *o++ = alpha[(v >> 12) & 63];
        *o++ = i + 1 < n ? alpha[(v >> 6) & 63] : '=';
        *o++ = i + 2 < n ? alpha[v & 63] : '=';
    }
    *o++ = '"';
    w->len += (size_t)(o - start);
}

static void jw_qstr(jwriter *w, const qstr *s)
{
    jw_string(w, s->data, s->len);
}

static void jw_colon(jwriter *w)
{
    if (w->indent >= 0)
        jw_raw(w, ": ", 2);
    else
        jw_char(w, ':');
}

static bool jw_value(jwriter *w, qval v, int depth);

/* One item of an array or object: the separator and line break first. */
static void jw_item_start(jwriter *w, bool first, int depth)
{
    if (!first)
        jw_char(w, ',');
    if (w->indent >= 0)
        jw_newline(w, depth);
}

static void jw_close(jwriter *w, char c, bool empty, int depth)
{
    if (w->indent >= 0 && !empty)
        jw_newline(w, depth);
    jw_char(w, c);
}

static bool jw_items(jwriter *w, const qval *items, uint32_t n, int depth)
{
    jw_char(w, '[');
    for (uint32_t i = 0; i < n; i++) {
        jw_item_start(w, i == 0, depth + 1);
        if (!jw_value(w, items[i], depth + 1))
            return false;
    }
    jw_close(w, ']', n == 0, depth);
    return true;
}

static bool jw_set(jwriter *w, const qset *s, int depth)
{
    jw_char(w, '[');
    bool first = true;
    for (uint32_t i = 0; i < s->used; i++) {
        if (IS_UNDEF(s->items[i]))
            continue;
        jw_item_start(w, first, depth + 1);
        first = false;
        if (!jw_value(w, s->items[i], depth + 1))
            return false;
    }
    jw_close(w, ']', first, depth);
    return true;
}

static int jw_key_cmp(const qstr *a, const qstr *b)
{
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->data, b->data, n);
    return c ? c : (a->len > b->len) - (a->len < b->len);
}

static int jw_entry_cmp(const void *x, const void *y)
{
    return jw_key_cmp((*(qdict_entry *const *)x)->key, (*(qdict_entry *const *)y)->key);
}

/* Sort n entry pointers by key: insertion sort for the usual small object
 * (often already in order), qsort beyond. */
static void jw_sort(qdict_entry **e, size_t n)
{
    if (n > 16) {
        qsort(e, n, sizeof *e, jw_entry_cmp);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        qdict_entry *x = e[i];
        size_t j = i;
        for (; j > 0 && jw_key_cmp(e[j - 1]->key, x->key) > 0; j--)
            e[j] = e[j - 1];
        e[j] = x;
    }
}

/* A key-value pair of an object. */
static bool jw_member(jwriter *w, bool first, const qstr *key, qval v, int depth)
{
    jw_item_start(w, first, depth);
    jw_qstr(w, key);
    jw_colon(w);
    return jw_value(w, v, depth);
}

static bool jw_dict(jwriter *w, const qdict *d, int depth)
{
    size_t base = w->nkeys, n = 0;
    if (w->nkeys + d->count > w->capkeys) {
        bool first = w->keys == w->small;
        w->keys = jw_grow(first ? NULL : w->keys, &w->capkeys, w->nkeys + d->count, sizeof *w->keys);
        if (first)
            memcpy(w->keys, w->small, w->nkeys * sizeof *w->keys);
    }
    for (uint32_t i = 0; i < d->used; i++)
        if (d->entries[i].key)
            w->keys[base + n++] = &d->entries[i];
    w->nkeys += n;
    jw_sort(w->keys + base, n);
    jw_char(w, '{');
    for (size_t i = 0; i < n; i++) {
        qdict_entry *e = w->keys[base + i]; /* re-read: nested objects may move keys */
        if (!jw_member(w, i == 0, e->key, e->val, depth + 1))
            return false;
    }
    w->nkeys = base;
    jw_close(w, '}', n == 0, depth);
    return true;
}

/* A struct: its fields as an object, sorted by name. */
static bool jw_instance(jwriter *w, const qinstance *in, int depth)
{
    const qtype *t = in->type;
    uint32_t n = t->nfields, small[32], *order = small;
    if (n > 32 && !(order = malloc(n * sizeof *order)))
        abort();
    for (uint32_t i = 0; i < n; i++) {
        uint32_t j = i;
        for (; j > 0 && jw_key_cmp(t->fields[order[j - 1]].name, t->fields[i].name) > 0; j--)
            order[j] = order[j - 1];
        order[j] = i;
    }
    bool ok = true;
    jw_char(w, '{');
    for (uint32_t i = 0; ok && i < n; i++) {
        qval f = in->fields[order[i]];
        ok = jw_member(w, i == 0, t->fields[order[i]].name, IS_UNDEF(f) ? qv_nil() : f, depth + 1);
    }
    if (order != small)
        free(order);
    jw_close(w, '}', n == 0, depth);
    return ok;
}

/* The name of a member (a literal) with what goes before and after it. */
static void jw_name(jwriter *w, bool first, const char *name, int depth)
{
    jw_item_start(w, first, depth);
    jw_string(w, name, strlen(name));
    jw_colon(w);
}

/* An exception: {"file", "line", "message", "type"} (file and line when known). */
static bool jw_exception(jwriter *w, const qexc *e, int depth)
{
    bool first = true;
    jw_char(w, '{');
    if (e->file) {
        jw_name(w, first, "file", depth + 1);
        jw_qstr(w, e->file);
        first = false;
    }
    if (e->line > 0) {
        jw_name(w, first, "line", depth + 1);
        jw_int(w, e->line);
        first = false;
    }
    jw_name(w, first, "message", depth + 1);
    jw_qstr(w, e->message);
    jw_name(w, false, "type", depth + 1);
    jw_qstr(w, e->type->name);
    jw_close(w, '}', false, depth);
    return true;
}

/* Values with a text form written as a JSON string: BigInt (all its
 * digits), Uuid. */
static bool jw_as_text(jwriter *w, qval v)
{
    qstr *s = vm_to_str(w->vm, v);
    if (!s)
        return false;
    jw_qstr(w, s);
    return true;
}

static bool jw_object(jwriter *w, qval v, int depth)
{
    qobj *o = AS_OBJ(v);
    switch ((qobj_kind)o->kind) {
    case QO_STR: jw_qstr(w, (qstr *)o); return true;
    case QO_ARRAY: return jw_items(w, ((qarray *)o)->items, ((qarray *)o)->len, depth);
    case QO_DICT: return jw_dict(w, (qdict *)o, depth);
    case QO_SET: return jw_set(w, (qset *)o, depth);
    case QO_BYTES: jw_base64(w, ((qbytes *)o)->data, ((qbytes *)o)->len); return true;
    case QO_DECIMAL: return jw_float(w, decimal_to_double((qdecimal *)o));
    case QO_BIGINT:
    case QO_UUID: return jw_as_text(w, v);
    case QO_INSTANCE: return jw_instance(w, (qinstance *)o, depth);
    case QO_EXC: return jw_exception(w, (qexc *)o, depth);
    default:
        vm_raise(w->vm, E_TYPE, "Cannot convert %s to JSON", vm_cls_name(v));
        return false;
    }
}

static bool jw_value(jwriter *w, qval v, int depth)
{
    if (depth > JSON_MAX_DEPTH) {
        vm_raise(w->vm, E_VALUE,
                 "JSON stringify error: nesting deeper than %d levels (is the data cyclic?)",
                 JSON_MAX_DEPTH);
        return false;
    }
    switch (v.tag) {
    case QV_NIL: jw_raw(w, "null", 4); return true;
    case QV_BOOL: v.as.b ? jw_raw(w, "true", 4) : jw_raw(w, "false", 5); return true;
    case QV_INT: jw_int(w, v.as.i); return true;
    case QV_FLOAT: return jw_float(w, v.as.f);
    case QV_OBJ: return jw_object(w, v, depth);
    default: jw_raw(w, "null", 4); return true; /* an unset field */
    }
}

bool json_write(qvm *vm, qval v, int indent, qbuf *out)
{
    jwriter w = {.vm = vm, .indent = indent, .buf = out->data, .len = out->len, .cap = out->cap};
    w.keys = w.small;
    w.capkeys = sizeof w.small / sizeof *w.small;
    bool ok = jw_value(&w, v, 0);
    jw_char(&w, '\0'); /* a qbuf's text stays terminated */
    out->data = w.buf;
    out->len = w.len - 1;
    out->cap = w.cap;
    if (w.keys != w.small)
        free(w.keys);
    return ok;
}

qstr *json_stringify(qvm *vm, qval v, int indent)
{
    qbuf b;
    buf_init(&b);
    qstr *s = NULL;
    bool ok = json_write(vm, v, indent, &b);
    if (ok && b.len > UINT32_MAX)
        vm_raise(vm, E_VALUE, "JSON stringify error: the result is too large");
    else if (ok)
        s = str_new(vm, b.data, b.len);
    buf_free(&b);
    return s;
}
