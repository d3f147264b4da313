/* toml_parse.c — TOML 1.0 text to a toml_value tree (see toml.h).
 *
 * A hand-written recursive-descent parser over a byte range.  The whole
 * input is checked to be UTF-8 first, so every string it yields is valid.
 * Besides the grammar it enforces TOML's rules about defining things once:
 * each table remembers how it came to exist (the TF_* flags) and that
 * decides whether a later [header] or dotted key may add to it.  Nesting is
 * bounded (TOML_MAX_DEPTH), so hostile input cannot exhaust the C stack of
 * the parser, of toml_free() or of a caller walking the tree.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/toml.h"
#include "vm/vm.h" /* hex_digit_value */

#define TOML_MAX_DEPTH 256

/* How a table or array came to be. */
enum {
    TF_IMPLICIT = 1, /* table created as a parent of a [header]: one [header] may still define it */
    TF_DEFINED = 2,  /* table named by a [header] or [[header]] */
    TF_DOTTED = 4,   /* table created by a dotted key: more dotted keys may add to it */
    TF_FROZEN = 8,   /* inline table or array literal: complete as written */
    TF_AOT = 16,     /* array of tables grown by [[header]] */
};

typedef struct tparse {
    const char *p, *end;
    int line;
    const char *line_start;
    toml_error *err;
    bool failed;
} tparse;

/* A growable byte string. */
typedef struct tbuf {
    char *data;
    size_t len, cap;
    bool oom;
} tbuf;

/* A key: its dotted parts. */
typedef struct tkey {
    tbuf *parts;
    size_t n, cap;
} tkey;

/* ---- errors and positions ---------------------------------------------------- */

static bool tp_fail(tparse *tp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Record the first error at the current position; always false. */
static bool tp_fail(tparse *tp, const char *fmt, ...)
{
    if (tp->failed)
        return false;
    tp->failed = true;
    tp->err->line = tp->line;
    int col = 1;
    for (const char *q = tp->line_start; q < tp->p && q < tp->end; q++)
        col += ((unsigned char)*q & 0xC0) != 0x80;
    tp->err->column = col;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tp->err->msg, sizeof tp->err->msg, fmt, ap);
    va_end(ap);
    return false;
}

static int tp_peek(const tparse *tp, size_t k)
{
    return tp->p + k < tp->end ? (unsigned char)tp->p[k] : -1;
}

static bool tp_at(const tparse *tp, const char *s)
{
    size_t n = strlen(s);
    return (size_t)(tp->end - tp->p) >= n && memcmp(tp->p, s, n) == 0;
}

/* A character TOML forbids in strings and comments (tab is allowed). */
static bool tp_is_control(int c)
{
    return (c >= 0 && c < 0x20 && c != '\t') || c == 0x7F;
}

/* ---- buffers and keys --------------------------------------------------------- */

static void tb_append(tbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 32;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *data = realloc(b->data, cap);
        if (!data) {
            b->oom = true;
            return;
        }
        b->data = data;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void tb_putc(tbuf *b, char c)
{
    tb_append(b, &c, 1);
}

static void tkey_free(tkey *k)
{
    for (size_t i = 0; i < k->n; i++)
        free(k->parts[i].data);
    free(k->parts);
}

/* A new empty part at the end of k; NULL when memory runs out. */
static tbuf *tkey_add(tkey *k)
{
    if (k->n == k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 4;
        tbuf *parts = realloc(k->parts, cap * sizeof *parts);
        if (!parts)
            return NULL;
        k->parts = parts;
        k->cap = cap;
    }
    tbuf *b = &k->parts[k->n++];
    memset(b, 0, sizeof *b);
    tb_append(b, "", 0); /* keys are never NULL, even when empty ("") */
    return b;
}

/* ---- values ---------------------------------------------------------------------- */

static toml_value *tv_new(toml_kind kind, int depth)
{
    toml_value *v = calloc(1, sizeof *v);
    if (v) {
        v->kind = kind;
        v->depth = (uint16_t)depth;
    }
    return v;
}

void toml_free(toml_value *v)
{
    if (!v)
        return;
    switch (v->kind) {
    case TOML_STRING:
    case TOML_DATETIME:
        free(v->u.str.data);
        break;
    case TOML_ARRAY:
        for (size_t i = 0; i < v->u.arr.len; i++)
            toml_free(v->u.arr.items[i]);
        free(v->u.arr.items);
        break;
    case TOML_TABLE:
        for (size_t i = 0; i < v->u.tab.len; i++) {
            free(v->u.tab.items[i].key);
            toml_free(v->u.tab.items[i].val);
        }
        free(v->u.tab.items);
        break;
    default:
        break;
    }
    free(v);
}

static bool tv_push(toml_value *a, toml_value *item)
{
    if (a->u.arr.len == a->u.arr.cap) {
        size_t cap = a->u.arr.cap ? a->u.arr.cap * 2 : 4;
        toml_value **items = realloc(a->u.arr.items, cap * sizeof *items);
        if (!items)
            return false;
        a->u.arr.items = items;
        a->u.arr.cap = cap;
    }
    a->u.arr.items[a->u.arr.len++] = item;
    return true;
}

static toml_entry *tv_find(const toml_value *t, const char *key, size_t len)
{
    for (size_t i = 0; i < t->u.tab.len; i++) {
        toml_entry *e = &t->u.tab.items[i];
        if (e->key_len == len && memcmp(e->key, key, len) == 0)
            return e;
    }
    return NULL;
}

const toml_value *toml_get(const toml_value *t, const char *key)
{
    if (!t || t->kind != TOML_TABLE)
        return NULL;
    const toml_entry *e = tv_find(t, key, strlen(key));
    return e ? e->val : NULL;
}

/* Add key -> val to table t, taking ownership of the key's bytes. */
static bool tv_add(toml_value *t, tbuf *key, toml_value *val)
{
    if (t->u.tab.len == t->u.tab.cap) {
        size_t cap = t->u.tab.cap ? t->u.tab.cap * 2 : 8;
        toml_entry *items = realloc(t->u.tab.items, cap * sizeof *items);
        if (!items)
            return false;
        t->u.tab.items = items;
        t->u.tab.cap = cap;
    }
    toml_entry *e = &t->u.tab.items[t->u.tab.len++];
    e->key = key->data;
    e->key_len = key->len;
    e->val = val;
    memset(key, 0, sizeof *key);
    return true;
}

/* A new table of the given flags under key in t (which takes it). */
static toml_value *tp_add_table(tparse *tp, toml_value *t, tbuf *key, uint8_t flags)
{
    if (t->depth + 1 > TOML_MAX_DEPTH) {
        tp_fail(tp, "tables nested too deeply");
        return NULL;
    }
    toml_value *sub = tv_new(TOML_TABLE, t->depth + 1);
    if (!sub || !tv_add(t, key, sub)) {
        free(sub);
        tp_fail(tp, "out of memory");
        return NULL;
    }
    sub->flags = flags;
    return sub;
}

/* An inline table is complete as written, and so are the tables its
 * dotted keys created. */
static void tv_freeze(toml_value *t)
{
    t->flags |= TF_FROZEN;
    for (size_t i = 0; i < t->u.tab.len; i++)
        if (t->u.tab.items[i].val->kind == TOML_TABLE)
            tv_freeze(t->u.tab.items[i].val);
}

/* ---- whitespace, comments, newlines ------------------------------------------------ */

static void tp_skip_ws(tparse *tp)
{
    while (tp->p < tp->end && (*tp->p == ' ' || *tp->p == '\t'))
        tp->p++;
}

static bool tp_newline(tparse *tp)
{
    size_t n = tp_peek(tp, 0) == '\n' ? 1 : (tp_peek(tp, 0) == '\r' && tp_peek(tp, 1) == '\n') ? 2 : 0;
    if (!n)
        return false;
    tp->p += n;
    tp->line++;
    tp->line_start = tp->p;
    return true;
}

/* A '#' comment up to (not including) the end of its line. */
static bool tp_comment(tparse *tp)
{
    if (tp_peek(tp, 0) != '#')
        return true;
    for (tp->p++; tp->p < tp->end && *tp->p != '\n'; tp->p++) {
        int c = (unsigned char)*tp->p;
        if (c == '\r' && tp_peek(tp, 1) == '\n')
            break;
        if (tp_is_control(c))
            return tp_fail(tp, "control character in a comment");
    }
    return true;
}

/* Whitespace, comments and newlines, as allowed between array items. */
static bool tp_skip_blank(tparse *tp)
{
    for (;;) {
        tp_skip_ws(tp);
        if (!tp_comment(tp))
            return false;
        if (!tp_newline(tp))
            return true;
    }
}

/* The rest of a line after a key/value pair or a header. */
static bool tp_end_of_line(tparse *tp)
{
    tp_skip_ws(tp);
    if (!tp_comment(tp))
        return false;
    if (tp->p >= tp->end || tp_newline(tp))
        return true;
    return tp_fail(tp, "expected the end of the line");
}

/* ---- strings ----------------------------------------------------------------------------- */

static void tb_put_utf8(tbuf *b, uint32_t cp)
{
    char s[4];
    size_t n;
    if (cp < 0x80) {
        s[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        s[0] = (char)(0xC0 | cp >> 6);
        s[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        s[0] = (char)(0xE0 | cp >> 12);
        s[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        s[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        s[0] = (char)(0xF0 | cp >> 18);
        s[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        s[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        s[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    tb_append(b, s, n);
}

/* An escape sequence; tp->p is just past the backslash. */
static bool tp_escape(tparse *tp, tbuf *out)
{
    int c = tp_peek(tp, 0);
    static const char plain[] = "b\bt\tn\nf\fr\r\"\"\\\\";
    for (const char *e = plain; *e; e += 2)
        if (c == e[0]) {
            tb_putc(out, e[1]);
            tp->p++;
            return true;
        }
    if (c != 'u' && c != 'U') {
        if (c > 0x20 && c < 0x7F)
            return tp_fail(tp, "invalid escape sequence '\\%c'", c);
        return tp_fail(tp, "invalid escape sequence");
    }
    int n = c == 'u' ? 4 : 8;
    uint32_t cp = 0;
    for (int i = 1; i <= n; i++) {
        int h = hex_digit_value(tp_peek(tp, (size_t)i));
        if (h < 0)
            return tp_fail(tp, "expected %d hexadecimal digits after '\\%c'", n, c);
        cp = cp << 4 | (uint32_t)h;
    }
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return tp_fail(tp, "escape '\\%c' is not a Unicode scalar value", c);
    tb_put_utf8(out, cp);
    tp->p += n + 1;
    return true;
}

/* A run of quotes at tp->p inside a multi-line string: *closed tells
 * whether it ends the string, in which case up to two quotes before the
 * closing three belong to the text and are added to out.  False after
 * raising (six or more quotes). */
static bool tp_ml_close(tparse *tp, tbuf *out, char q, bool *closed)
{
    size_t n = 0;
    while (tp_peek(tp, n) == q)
        n++;
    *closed = n >= 3;
    if (!*closed)
        return true;
    if (n > 5)
        return tp_fail(tp, "too many quotes at the end of a multi-line string");
    for (size_t i = 3; i < n; i++)
        tb_putc(out, q);
    tp->p += n;
    return true;
}

/* Backslash at the end of a line in a """ string: it swallows the newline
 * and all whitespace up to the next text.  False (no error) when the
 * backslash is an ordinary escape. */
static bool tp_line_continuation(tparse *tp)
{
    const char *q = tp->p + 1;
    while (q < tp->end && (*q == ' ' || *q == '\t'))
        q++;
    if (!(q < tp->end && (*q == '\n' || (*q == '\r' && q + 1 < tp->end && q[1] == '\n'))))
        return false;
    tp->p = q;
    for (;;) {
        if (tp_newline(tp))
            continue;
        if (tp->p < tp->end && (*tp->p == ' ' || *tp->p == '\t')) {
            tp->p++;
            continue;
        }
        return true;
    }
}

/* The text of a multi-line string; tp->p is past the opening quotes. */
static bool tp_ml_string(tparse *tp, tbuf *out, char q)
{
    tp_newline(tp); /* a newline right after the opening quotes is dropped */
    for (;;) {
        if (tp->p >= tp->end)
            return tp_fail(tp, "unterminated multi-line string");
        int c = (unsigned char)*tp->p;
        bool closed;
        if (c == q) {
            if (!tp_ml_close(tp, out, q, &closed))
                return false;
            if (closed)
                return true;
            tb_putc(out, q);
            tp->p++;
        } else if (c == '\\' && q == '"') {
            if (!tp_line_continuation(tp)) {
                tp->p++;
                if (!tp_escape(tp, out))
                    return false;
            }
        } else if (tp_newline(tp)) {
            tb_putc(out, '\n');
        } else if (tp_is_control(c)) {
            return tp_fail(tp, "control character in a string");
        } else {
            tb_putc(out, (char)c);
            tp->p++;
        }
    }
}

/* A string at tp->p, in any of TOML's four forms.  Keys may use only the
 * single-line ones (multiline = false). */
static bool tp_string(tparse *tp, tbuf *out, bool multiline)
{
    char q = *tp->p;
    if (multiline && tp_at(tp, q == '"' ? "\"\"\"" : "'''")) {
        tp->p += 3;
        return tp_ml_string(tp, out, q);
    }
    for (tp->p++;;) {
        int c = tp_peek(tp, 0);
        if (c < 0 || c == '\n' || (c == '\r' && tp_peek(tp, 1) == '\n'))
            return tp_fail(tp, "unterminated string");
        tp->p++;
        if (c == q)
            return true;
        if (c == '\\' && q == '"') {
            if (!tp_escape(tp, out))
                return false;
        } else if (tp_is_control(c)) {
            tp->p--;
            return tp_fail(tp, "control character in a string");
        } else {
            tb_putc(out, (char)c);
        }
    }
}

/* ---- keys ----------------------------------------------------------------------------------- */

static bool tp_is_bare(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-';
}

/* A dotted key: bare or quoted parts joined by '.' (whitespace around dots
 * allowed). */
static bool tp_key(tparse *tp, tkey *key)
{
    for (;;) {
        tp_skip_ws(tp);
        tbuf *part = tkey_add(key);
        if (!part)
            return tp_fail(tp, "out of memory");
        int c = tp_peek(tp, 0);
        if (c == '"' || c == '\'') {
            if (!tp_string(tp, part, false))
                return false;
        } else if (tp_is_bare(c)) {
            const char *start = tp->p;
            while (tp->p < tp->end && tp_is_bare((unsigned char)*tp->p))
                tp->p++;
            tb_append(part, start, (size_t)(tp->p - start));
        } else {
            return tp_fail(tp, "expected a key");
        }
        if (part->oom)
            return tp_fail(tp, "out of memory");
        tp_skip_ws(tp);
        if (tp_peek(tp, 0) != '.')
            return true;
        tp->p++;
    }
}

/* ---- scalars: numbers, booleans, dates -------------------------------------------------------- */

static bool tp_is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* Exactly n decimal digits at s. */
static bool tp_fixed_digits(const char *s, size_t avail, int n, int *out)
{
    if (avail < (size_t)n)
        return false;
    *out = 0;
    for (int i = 0; i < n; i++) {
        if (!tp_is_digit((unsigned char)s[i]))
            return false;
        *out = *out * 10 + (s[i] - '0');
    }
    return true;
}

static int tp_days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

/* "HH:MM:SS[.frac]" at s[*i]; appends the normalised time to out. */
static bool tp_time(const char *s, size_t n, size_t *i, tbuf *out)
{
    int h, mi, sec;
    const char *t = s + *i;
    size_t avail = n - *i;
    if (!(tp_fixed_digits(t, avail, 2, &h) && avail > 2 && t[2] == ':' &&
          tp_fixed_digits(t + 3, avail - 3, 2, &mi) && avail > 5 && t[5] == ':' &&
          tp_fixed_digits(t + 6, avail - 6, 2, &sec)))
        return false;
    if (h > 23 || mi > 59 || sec > 60)
        return false;
    char text[16];
    snprintf(text, sizeof text, "%02d:%02d:%02d", h, mi, sec);
    tb_append(out, text, strlen(text));
    *i += 8;
    if (*i < n && s[*i] == '.') {
        size_t start = ++*i;
        while (*i < n && tp_is_digit((unsigned char)s[*i]))
            (*i)++;
        size_t digits = *i - start;
        if (digits == 0)
            return false;
        if (digits > 9) /* nanoseconds: finer digits are dropped */
            digits = 9;
        while (digits > 0 && s[start + digits - 1] == '0')
            digits--;
        if (digits) {
            tb_putc(out, '.');
            tb_append(out, s + start, digits);
        }
    }
    return true;
}

/* An offset date-time, local date-time, local date or local time. */
static toml_value *tp_datetime(tparse *tp, const char *s, size_t n)
{
    tbuf out = {0};
    size_t i = 0;
    bool ok = true, has_date = n >= 10 && s[4] == '-', has_time = true;
    if (has_date) {
        int y, m, d;
        ok = tp_fixed_digits(s, n, 4, &y) && tp_fixed_digits(s + 5, n - 5, 2, &m) && s[7] == '-' &&
             tp_fixed_digits(s + 8, n - 8, 2, &d) && m >= 1 && m <= 12 && d >= 1 &&
             d <= tp_days_in_month(y, m);
        if (ok) {
            char text[16];
            snprintf(text, sizeof text, "%04d-%02d-%02d", y, m, d);
            tb_append(&out, text, strlen(text));
        }
        i = 10;
        has_time = i < n;
        if (ok && has_time) {
            ok = s[i] == 'T' || s[i] == 't' || s[i] == ' ';
            i++;
            tb_putc(&out, 'T');
        }
    }
    if (ok && has_time)
        ok = tp_time(s, n, &i, &out);
    if (ok && i < n && has_date) {
        int oh, om;
        if (s[i] == 'Z' || s[i] == 'z') {
            tb_putc(&out, 'Z');
            i++;
        } else if ((s[i] == '+' || s[i] == '-') && tp_fixed_digits(s + i + 1, n - i - 1, 2, &oh) &&
                   i + 3 < n && s[i + 3] == ':' &&
                   tp_fixed_digits(s + i + 4, n - i - 4, 2, &om) && oh < 24 && om < 60) {
            tb_append(&out, s + i, 6);
            i += 6;
        } else {
            ok = false;
        }
    }
    toml_value *v = ok && i == n && !out.oom ? tv_new(TOML_DATETIME, 0) : NULL;
    if (!v) {
        free(out.data);
        if (ok && i == n)
            tp_fail(tp, "out of memory");
        else
            tp_fail(tp, "invalid date or time '%.*s'", (int)(n > 40 ? 40 : n), s);
        return NULL;
    }
    v->u.str.data = out.data;
    v->u.str.len = out.len;
    return v;
}

/* Copy the digits of s (base 2, 8, 10 or 16) to out without underscores;
 * each underscore must stand between two digits. */
static bool tp_clean_digits(const char *s, size_t n, int base, char *out, size_t *len)
{
    *len = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '_') {
            if (i == 0 || i + 1 == n || s[i - 1] == '_')
                return false;
            continue;
        }
        int d = hex_digit_value((unsigned char)s[i]);
        if (d < 0 || d >= base)
            return false;
        out[(*len)++] = s[i];
    }
    out[*len] = '\0';
    return *len > 0;
}

static toml_value *tp_int_value(tparse *tp, int64_t i)
{
    toml_value *v = tv_new(TOML_INT, 0);
    if (!v)
        tp_fail(tp, "out of memory");
    else
        v->u.i = i;
    return v;
}

/* 0x, 0o, 0b integers (no sign allowed). */
static toml_value *tp_prefixed_int(tparse *tp, const char *s, size_t n, char *digits)
{
    int base = s[1] == 'x' ? 16 : s[1] == 'o' ? 8 : 2;
    size_t len;
    if (!tp_clean_digits(s + 2, n - 2, base, digits, &len)) {
        tp_fail(tp, "invalid number '%.*s'", (int)(n > 40 ? 40 : n), s);
        return NULL;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (v > ((uint64_t)INT64_MAX - (uint64_t)hex_digit_value(digits[i])) / (uint64_t)base) {
            tp_fail(tp, "integer out of range '%.*s'", (int)(n > 40 ? 40 : n), s);
            return NULL;
        }
        v = v * (uint64_t)base + (uint64_t)hex_digit_value(digits[i]);
    }
    return tp_int_value(tp, (int64_t)v);
}

/* A decimal integer, already stripped of underscores and sign. */
static toml_value *tp_decimal_int(tparse *tp, const char *digits, bool neg, const char *s, size_t n)
{
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t v = 0;
    for (const char *d = digits; *d; d++) {
        if (v > (limit - (uint64_t)(*d - '0')) / 10) {
            tp_fail(tp, "integer out of range '%.*s'", (int)(n > 40 ? 40 : n), s);
            return NULL;
        }
        v = v * 10 + (uint64_t)(*d - '0');
    }
    return tp_int_value(tp, neg ? (int64_t)(0 - v) : (int64_t)v);
}

/* Length of the run of digits and underscores at s. */
static size_t tp_digit_run(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && (tp_is_digit((unsigned char)s[i]) || s[i] == '_'))
        i++;
    return i;
}

/* Decimal integers and floats: [sign] int [. frac] [e [sign] exp]. */
static toml_value *tp_number(tparse *tp, const char *s, size_t n)
{
    char *clean = malloc(n + 2);
    if (!clean) {
        tp_fail(tp, "out of memory");
        return NULL;
    }
    toml_value *v = NULL;
    size_t i = 0, len = 0, part;
    bool neg = s[0] == '-';
    if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o' || s[1] == 'b')) {
        v = tp_prefixed_int(tp, s, n, clean);
        free(clean);
        return v;
    }
    if (s[0] == '+' || s[0] == '-')
        clean[len++] = s[i++];
    size_t int_start = len, int_len = tp_digit_run(s + i, n - i);
    bool ok = tp_clean_digits(s + i, int_len, 10, clean + len, &part);
    ok = ok && !(part > 1 && clean[len] == '0'); /* no leading zeros */
    len += part;
    i += int_len;
    bool is_float = false;
    if (ok && i < n && s[i] == '.') {
        size_t frac_len = tp_digit_run(s + i + 1, n - i - 1);
        clean[len++] = '.';
        ok = tp_clean_digits(s + i + 1, frac_len, 10, clean + len, &part);
        len += part;
        i += 1 + frac_len;
        is_float = true;
    }
    if (ok && i < n && (s[i] == 'e' || s[i] == 'E')) {
        clean[len++] = 'e';
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            clean[len++] = s[i++];
        size_t exp_len = tp_digit_run(s + i, n - i);
        ok = tp_clean_digits(s + i, exp_len, 10, clean + len, &part);
        len += part;
        i += exp_len;
        is_float = true;
    }
    clean[len] = '\0';
    if (!ok || i != n) {
        tp_fail(tp, "invalid value '%.*s'", (int)(n > 40 ? 40 : n), s);
    } else if (!is_float) {
        v = tp_decimal_int(tp, clean + int_start, neg, s, n);
    } else if ((v = tv_new(TOML_FLOAT, 0)) != NULL) {
        v->u.f = strtod(clean, NULL); /* too large: inf, as the reference */
    } else {
        tp_fail(tp, "out of memory");
    }
    free(clean);
    return v;
}

static bool tp_is_scalar_char(int c)
{
    return tp_is_bare(c) || c == '+' || c == '.' || c == ':';
}

static bool tp_token_is(const char *s, size_t n, const char *word)
{
    return strlen(word) == n && memcmp(s, word, n) == 0;
}

/* inf and nan, optionally signed. */
static bool tp_special_float(const char *s, size_t n, double *out)
{
    size_t k = n > 0 && (s[0] == '+' || s[0] == '-');
    double x;
    if (tp_token_is(s + k, n - k, "inf"))
        x = INFINITY;
    else if (tp_token_is(s + k, n - k, "nan"))
        x = NAN;
    else
        return false;
    *out = s[0] == '-' ? -x : x;
    return true;
}

static bool tp_leading_digits(const char *s, int n)
{
    for (int i = 0; i < n; i++)
        if (!tp_is_digit((unsigned char)s[i]))
            return false;
    return true;
}

/* true, false, inf, nan, a number or a date at tp->p. */
static toml_value *tp_scalar(tparse *tp)
{
    const char *s = tp->p;
    while (tp->p < tp->end && tp_is_scalar_char((unsigned char)*tp->p))
        tp->p++;
    size_t n = (size_t)(tp->p - s);
    /* "1979-05-27 07:32:00": a space may separate date and time */
    if (n == 10 && s[4] == '-' && tp_peek(tp, 0) == ' ' && tp_is_digit(tp_peek(tp, 1)) &&
        tp_is_digit(tp_peek(tp, 2)) && tp_peek(tp, 3) == ':') {
        tp->p++;
        while (tp->p < tp->end && tp_is_scalar_char((unsigned char)*tp->p))
            tp->p++;
        n = (size_t)(tp->p - s);
    }
    if (n == 0) {
        tp_fail(tp, "expected a value");
        return NULL;
    }
    toml_value *v;
    double x;
    if (tp_token_is(s, n, "true") || tp_token_is(s, n, "false")) {
        if ((v = tv_new(TOML_BOOL, 0)) != NULL)
            v->u.b = s[0] == 't';
    } else if (tp_special_float(s, n, &x)) {
        if ((v = tv_new(TOML_FLOAT, 0)) != NULL)
            v->u.f = x;
    } else if ((n >= 10 && tp_leading_digits(s, 4) && s[4] == '-') ||
               (n >= 8 && tp_leading_digits(s, 2) && s[2] == ':')) {
        return tp_datetime(tp, s, n);
    } else {
        return tp_number(tp, s, n);
    }
    if (!v)
        tp_fail(tp, "out of memory");
    return v;
}

/* ---- arrays, inline tables, key/value pairs ------------------------------------------------------ */

static toml_value *tp_value(tparse *tp, int depth);
static bool tp_keyval(tparse *tp, toml_value *table);

static toml_value *tp_array(tparse *tp, int depth)
{
    toml_value *a = tv_new(TOML_ARRAY, depth);
    if (!a) {
        tp_fail(tp, "out of memory");
        return NULL;
    }
    a->flags = TF_FROZEN;
    for (tp->p++;;) {
        if (!tp_skip_blank(tp))
            break;
        if (tp_peek(tp, 0) == ']') {
            tp->p++;
            return a;
        }
        toml_value *item = tp_value(tp, depth + 1);
        if (!item)
            break;
        if (!tv_push(a, item)) {
            toml_free(item);
            tp_fail(tp, "out of memory");
            break;
        }
        if (!tp_skip_blank(tp))
            break;
        if (tp_peek(tp, 0) == ',') {
            tp->p++;
        } else if (tp_peek(tp, 0) == ']') {
            tp->p++;
            return a;
        } else {
            tp_fail(tp, "expected ',' or ']' after an array item");
            break;
        }
    }
    toml_free(a);
    return NULL;
}

static toml_value *tp_inline_table(tparse *tp, int depth)
{
    toml_value *t = tv_new(TOML_TABLE, depth);
    if (!t) {
        tp_fail(tp, "out of memory");
        return NULL;
    }
    tp->p++;
    tp_skip_ws(tp);
    if (tp_peek(tp, 0) == '}') {
        tp->p++;
        tv_freeze(t);
        return t;
    }
    for (;;) {
        if (!tp_keyval(tp, t))
            break;
        tp_skip_ws(tp);
        if (tp_peek(tp, 0) == ',') {
            tp->p++;
        } else if (tp_peek(tp, 0) == '}') {
            tp->p++;
            tv_freeze(t);
            return t;
        } else {
            tp_fail(tp, "expected ',' or '}' after a value in an inline table "
                        "(inline tables stay on one line)");
            break;
        }
    }
    toml_free(t);
    return NULL;
}

static toml_value *tp_value(tparse *tp, int depth)
{
    if (depth > TOML_MAX_DEPTH) {
        tp_fail(tp, "values nested too deeply");
        return NULL;
    }
    int c = tp_peek(tp, 0);
    if (c == '"' || c == '\'') {
        tbuf b = {0};
        tb_append(&b, "", 0);
        toml_value *v = tp_string(tp, &b, true) && !b.oom ? tv_new(TOML_STRING, 0) : NULL;
        if (!v) {
            free(b.data);
            tp_fail(tp, "out of memory"); /* no-op after a syntax error */
            return NULL;
        }
        v->u.str.data = b.data;
        v->u.str.len = b.len;
        return v;
    }
    if (c == '[')
        return tp_array(tp, depth);
    if (c == '{')
        return tp_inline_table(tp, depth);
    return tp_scalar(tp);
}

/* key = value, added to table (dotted keys create tables inside it). */
static bool tp_keyval(tparse *tp, toml_value *table)
{
    tkey key = {0};
    bool ok = tp_key(tp, &key);
    if (ok && tp_peek(tp, 0) != '=')
        ok = tp_fail(tp, "expected '=' after a key");
    toml_value *t = table;
    for (size_t i = 0; ok && i + 1 < key.n; i++) {
        toml_entry *e = tv_find(t, key.parts[i].data, key.parts[i].len);
        if (!e)
            ok = (t = tp_add_table(tp, t, &key.parts[i], TF_DOTTED)) != NULL;
        else if (e->val->kind == TOML_TABLE &&
                 (e->val->flags == TF_DOTTED || e->val->flags == TF_IMPLICIT)) {
            t = e->val;
            t->flags = TF_DOTTED; /* no [header] may define it any more */
        } else
            ok = tp_fail(tp, "cannot add keys to '%s': it is already defined",
                         key.parts[i].data);
    }
    tbuf *last = ok ? &key.parts[key.n - 1] : NULL;
    if (ok && tv_find(t, last->data, last->len))
        ok = tp_fail(tp, "duplicate key '%s'", last->data);
    if (ok) {
        tp->p++; /* '=' */
        tp_skip_ws(tp);
        toml_value *v = tp_value(tp, t->depth + 1);
        ok = v != NULL;
        if (ok && !tv_add(t, last, v)) {
            toml_free(v);
            ok = tp_fail(tp, "out of memory");
        }
    }
    tkey_free(&key);
    return ok;
}

/* ---- [table] and [[array of tables]] headers ---------------------------------------------------------- */

/* The table a header's leading parts lead to, creating missing ones. */
static toml_value *tp_header_parent(tparse *tp, toml_value *root, tkey *key)
{
    toml_value *t = root;
    for (size_t i = 0; i + 1 < key->n; i++) {
        toml_entry *e = tv_find(t, key->parts[i].data, key->parts[i].len);
        toml_value *v = e ? e->val : NULL;
        if (!v)
            t = tp_add_table(tp, t, &key->parts[i], TF_IMPLICIT);
        else if (v->kind == TOML_TABLE && !(v->flags & TF_FROZEN))
            t = v;
        else if (v->kind == TOML_ARRAY && (v->flags & TF_AOT))
            t = v->u.arr.items[v->u.arr.len - 1];
        else {
            tp_fail(tp, "'%s' is already defined as a value", key->parts[i].data);
            return NULL;
        }
        if (!t)
            return NULL;
    }
    return t;
}

/* Append a new table to the array of tables under the last key part. */
static toml_value *tp_aot_element(tparse *tp, toml_value *parent, tbuf *name)
{
    toml_entry *e = tv_find(parent, name->data, name->len);
    toml_value *a = e ? e->val : NULL;
    if (a && !(a->kind == TOML_ARRAY && (a->flags & TF_AOT))) {
        tp_fail(tp, "'%s' is not an array of tables", name->data);
        return NULL;
    }
    if (!a) {
        if (parent->depth + 2 > TOML_MAX_DEPTH) {
            tp_fail(tp, "tables nested too deeply");
            return NULL;
        }
        a = tv_new(TOML_ARRAY, parent->depth + 1);
        if (!a || !tv_add(parent, name, a)) {
            free(a);
            tp_fail(tp, "out of memory");
            return NULL;
        }
        a->flags = TF_AOT;
    }
    toml_value *t = tv_new(TOML_TABLE, a->depth + 1);
    if (!t || !tv_push(a, t)) {
        free(t);
        tp_fail(tp, "out of memory");
        return NULL;
    }
    t->flags = TF_DEFINED;
    return t;
}

/* Define the table named by a [header]. */
static toml_value *tp_table_header(tparse *tp, toml_value *parent, tbuf *name)
{
    toml_entry *e = tv_find(parent, name->data, name->len);
    if (!e)
        return tp_add_table(tp, parent, name, TF_DEFINED);
    if (e->val->kind == TOML_TABLE && e->val->flags == TF_IMPLICIT) {
        e->val->flags = TF_DEFINED;
        return e->val;
    }
    tp_fail(tp, "'%s' is already defined", name->data);
    return NULL;
}

/* [a.b] or [[a.b]] at tp->p; *current becomes the table it opens. */
static bool tp_header(tparse *tp, toml_value *root, toml_value **current)
{
    bool aot = tp_peek(tp, 1) == '[';
    tp->p += aot ? 2 : 1;
    tkey key = {0};
    bool ok = tp_key(tp, &key);
    if (ok && !tp_at(tp, aot ? "]]" : "]"))
        ok = tp_fail(tp, aot ? "expected ']]' after a table name" : "expected ']' after a table name");
    toml_value *parent = ok ? tp_header_parent(tp, root, &key) : NULL;
    toml_value *t = NULL;
    if (parent) {
        tp->p += aot ? 2 : 1;
        tbuf *name = &key.parts[key.n - 1];
        t = aot ? tp_aot_element(tp, parent, name) : tp_table_header(tp, parent, name);
    }
    tkey_free(&key);
    if (!t)
        return false;
    *current = t;
    return true;
}

/* ---- the document ------------------------------------------------------------------------------------ */

/* Length of the UTF-8 sequence at s (0 if invalid: overlong, surrogate,
 * beyond U+10FFFF or truncated). */
static size_t tp_utf8_seq(const unsigned char *s, size_t avail)
{
    unsigned c = s[0];
    size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (n == 0 || n > avail)
        return 0;
    uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

static bool tp_check_utf8(tparse *tp)
{
    const unsigned char *s = (const unsigned char *)tp->p;
    size_t len = (size_t)(tp->end - tp->p);
    for (size_t i = 0; i < len;) {
        size_t n = tp_utf8_seq(s + i, len - i);
        if (n == 0) {
            while (tp->p < (const char *)s + i) /* to the bad byte, counting lines */
                if (!tp_newline(tp))
                    tp->p++;
            return tp_fail(tp, "invalid UTF-8");
        }
        i += n;
    }
    return true;
}

toml_value *toml_parse(const char *src, size_t len, toml_error *err)
{
    tparse tp = {src, src + len, 1, src, err, false};
    memset(err, 0, sizeof *err);
    if (len >= 3 && memcmp(src, "\xEF\xBB\xBF", 3) == 0)
        tp.p = tp.line_start = src + 3; /* byte order mark */
    toml_value *root = tv_new(TOML_TABLE, 0);
    if (!root) {
        tp_fail(&tp, "out of memory");
        return NULL;
    }
    toml_value *current = root;
    bool ok = tp_check_utf8(&tp);
    while (ok) {
        tp_skip_ws(&tp);
        if (tp.p >= tp.end)
            break;
        int c = tp_peek(&tp, 0);
        if (c == '[')
            ok = tp_header(&tp, root, &current);
        else if (c != '#' && c != '\n' && c != '\r')
            ok = tp_keyval(&tp, current);
        ok = ok && tp_end_of_line(&tp);
    }
    if (!ok) {
        toml_free(root);
        return NULL;
    }
    return root;
}
