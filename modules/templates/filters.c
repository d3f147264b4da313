/* filters.c — Tera's built-in filters, tests and functions.
 *
 * Each filter receives the value it filters and its named arguments in the
 * slots of its parameter list (absent ones are QV_UNDEF); the parser has
 * already rejected unknown names.  Behaviour and messages follow Tera 1's
 * documentation: `truncate` counts characters and appends "…" only when
 * it cut, `filesizeformat` uses 1024-based kB/MB/GB, `round` returns a
 * Float, `split`/`join` understand "\n" and "\t" written in the template,
 * and so on.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "modules/templates/tpl.h"

/* ---- argument helpers ----------------------------------------------------------------- */

static bool fl_bad(tpl_rs *rs, const tpl_expr *at, const char *arg, qval v, const char *want)
{
    qbuf scratch;
    buf_init(&scratch);
    const char *name = tpl_filters[at->op].name;
    if (at->kind == X_FILTER && !arg)
        tpl_fail(rs, at->line, at->col,
                 "Filter `%s` was called on an incorrect value: got `%s` but expected a %s", name,
                 tpl_describe(rs->vm, &scratch, v), want);
    else
        tpl_fail(rs, at->line, at->col,
                 "%s `%s` received an incorrect type for arg `%s`: got `%s` but expected a %s",
                 at->kind == X_FILTER ? "Filter" : "Function",
                 at->kind == X_FILTER ? name : tpl_functions[at->op].name, arg ? arg : "value",
                 tpl_describe(rs->vm, &scratch, v), want);
    buf_free(&scratch);
    return false;
}

static bool fl_missing(tpl_rs *rs, const tpl_expr *at, const char *arg)
{
    const char *kind = at->kind == X_FILTER ? "Filter" : "Function";
    const char *name = at->kind == X_FILTER ? tpl_filters[at->op].name : tpl_functions[at->op].name;
    return tpl_fail(rs, at->line, at->col, "%s `%s` expected an arg called `%s`", kind, name, arg);
}

static bool fl_str(tpl_rs *rs, const tpl_expr *at, const char *arg, qval v, qstr **out)
{
    if (!IS_STR(v))
        return fl_bad(rs, at, arg, v, "String");
    *out = AS_STR(v);
    return true;
}

/* Optional string argument with a default. */
static bool fl_opt_str(tpl_rs *rs, const tpl_expr *at, const char *arg, qval v, const char *dflt,
                       qstr **out)
{
    if (IS_UNDEF(v)) {
        *out = str_cstr(rs->vm, dflt);
        return true;
    }
    return fl_str(rs, at, arg, v, out);
}

static bool fl_opt_bool(tpl_rs *rs, const tpl_expr *at, const char *arg, qval v, bool *out)
{
    if (IS_UNDEF(v)) {
        *out = false;
        return true;
    }
    if (!IS_BOOL(v))
        return fl_bad(rs, at, arg, v, "bool");
    *out = v.as.b;
    return true;
}

static bool fl_num(tpl_rs *rs, const tpl_expr *at, const char *arg, qval v, double *out)
{
    if (!IS_NUM(v))
        return fl_bad(rs, at, arg, v, "f64");
    *out = IS_INT(v) ? (double)v.as.i : v.as.f;
    return true;
}

static bool fl_int(tpl_rs *rs, const tpl_expr *at, const char *arg, qval v, bool unsig, int64_t *out)
{
    if (!IS_INT(v) || (unsig && v.as.i < 0))
        return fl_bad(rs, at, arg, v, unsig ? "usize" : "i64");
    *out = v.as.i;
    return true;
}

static bool fl_array(tpl_rs *rs, const tpl_expr *at, qval v, qarray **out)
{
    if (!IS_ARRAY(v))
        return fl_bad(rs, at, NULL, v, "Vec<Value>");
    *out = AS_ARRAY(v);
    return true;
}

static bool fl_ret_str(tpl_rs *rs, qbuf *b, qval *out)
{
    *out = qv_obj(buf_to_str(rs->vm, b));
    return true;
}

/* "\n" and "\t" typed in a template mean the characters (Tera). */
static qstr *fl_unescape(tpl_rs *rs, qstr *s)
{
    if (!memchr(s->data, '\\', s->len))
        return s;
    qbuf b;
    buf_init(&b);
    for (uint32_t i = 0; i < s->len; i++) {
        if (s->data[i] == '\\' && i + 1 < s->len && (s->data[i + 1] == 'n' || s->data[i + 1] == 't')) {
            buf_putc(&b, s->data[++i] == 'n' ? '\n' : '\t');
        } else {
            buf_putc(&b, s->data[i]);
        }
    }
    return buf_to_str(rs->vm, &b);
}

/* A Str method of the language (upper, lower, trim...), called directly:
 * natives run no Quest code, so this cannot collect garbage. */
static qval fl_str_method(tpl_rs *rs, const char *name, qval s)
{
    qval m;
    qtype *t = vm_builtin_type(rs->vm, QC_STR);
    if (!dict_get_cstr(t->methods, name, &m) || !IS_KIND(m, QO_NATIVE))
        return s;
    qval r = AS_NATIVE(m)->fn(rs->vm, s, 0, NULL);
    if (IS_EXC(r)) {
        vm_take_exc(rs->vm);
        return s;
    }
    return r;
}

/* s upper-cased (up) or lower-cased: ASCII inline, the rest through the
 * language's Str method (which knows Unicode case). */
static qstr *fl_case(tpl_rs *rs, const char *s, size_t len, bool up)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] >= 0x80)
            return AS_STR(fl_str_method(rs, up ? "upper" : "lower", qv_obj(str_new(rs->vm, s, len))));
    qbuf b;
    buf_init(&b);
    buf_append(&b, s, len);
    for (size_t i = 0; i < len; i++) {
        char ch = b.data[i];
        if (up && ch >= 'a' && ch <= 'z')
            b.data[i] = (char)(ch - 32);
        else if (!up && ch >= 'A' && ch <= 'Z')
            b.data[i] = (char)(ch + 32);
    }
    return buf_to_str(rs->vm, &b);
}

static size_t fl_char_len(const char *s)
{
    unsigned char c = (unsigned char)*s;
    return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

/* Value at a dotted path ("author.name", "tags.0") or false. */
static bool fl_pointer(qval v, const qstr *path, qval *out)
{
    *out = v;
    const char *p = path->data, *end = p + path->len;
    while (p < end) {
        const char *dot = memchr(p, '.', (size_t)(end - p));
        size_t n = (size_t)((dot ? dot : end) - p);
        if (IS_ARRAY(*out)) {
            char *stop;
            long long i = strtoll(p, &stop, 10);
            if (stop != p + n || i < 0 || (uint64_t)i >= AS_ARRAY(*out)->len)
                return false;
            *out = AS_ARRAY(*out)->items[i];
        } else {
            qval found;
            bool ok = false;
            if (IS_DICT(*out)) {
                qdict *d = AS_DICT(*out);
                for (uint32_t k = 0; k < d->used && !ok; k++) {
                    qstr *key = d->entries[k].key;
                    if (key && key->len == n && memcmp(key->data, p, n) == 0) {
                        found = d->entries[k].val;
                        ok = true;
                    }
                }
            } else if (IS_INSTANCE(*out)) {
                qinstance *in = AS_INSTANCE(*out);
                for (uint32_t k = 0; k < in->type->nfields && !ok; k++) {
                    qstr *key = in->type->fields[k].name;
                    if (key->len == n && memcmp(key->data, p, n) == 0) {
                        found = in->fields[k];
                        ok = true;
                    }
                }
            }
            if (!ok)
                return false;
            *out = found;
        }
        p += n + (dot != NULL);
    }
    return true;
}

/* ---- strings ------------------------------------------------------------------------------ */

static bool f_upper(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, qval *out)
{
    (void)args;
    qstr *s = NULL;
    if (!fl_str(rs, at, NULL, v, &s))
        return false;
    *out = qv_obj(fl_case(rs, s->data, s->len, true));
    return true;
}

static bool f_lower(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, qval *out)
{
    (void)args;
    qstr *s = NULL;
    if (!fl_str(rs, at, NULL, v, &s))
        return false;
    *out = qv_obj(fl_case(rs, s->data, s->len, false));
    return true;
}

static bool fl_is_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* Trim whitespace at the start (1), the end (2) or both (3). */
static bool fl_trim(tpl_rs *rs, const tpl_expr *at, qval v, int ends, qval *out)
{
    qstr *s = NULL;
    if (!fl_str(rs, at, NULL, v, &s))
        return false;
    size_t a = 0, b = s->len;
    while ((ends & 1) && a < b && fl_is_space((unsigned char)s->data[a]))
        a++;
    while ((ends & 2) && b > a && fl_is_space((unsigned char)s->data[b - 1]))
        b--;
    *out = qv_obj(str_new(rs->vm, s->data + a, b - a));
    return true;
}

static bool f_trim(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, qval *out)
{
    (void)args;
    return fl_trim(rs, at, v, 3, out);
}

static bool f_trim_start(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, qval *out)
{
    (void)args;
    return fl_trim(rs, at, v, 1, out);
}

static bool f_trim_end(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, qval *out)
{
    (void)args;
    return fl_trim(rs, at, v, 2, out);
}

static bool fl_trim_matches(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, bool start,
                            qval *out)
{
    qstr *s = NULL, *pat = NULL;
    if (!fl_str(rs, at, NULL, v, &s))
        return false;
    if (IS_UNDEF(args[0]))
        return fl_missing(rs, at, "pat");
    if (!fl_str(rs, at, "pat", args[0], &pat))
        return false;
    pat = fl_unescape(rs, pat);
    size_t a = 0, b = s->len;
    if (pat->len) {
        while (start && b - a >= pat->len && memcmp(s->data + a, pat->data, pat->len) == 0)
            a += pat->len;
        while (!start && b - a >= pat->len && memcmp(s->data + b - pat->len, pat->data, pat->len) == 0)
            b -= pat->len;
    }
    *out = qv_obj(str_new(rs->vm, s->data + a, b - a));
    return true;
}

static bool f_trim_start_matches(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, qval *out)
{
    return fl_trim_matches(rs, at, v, args, true, out);
}

static bool f_trim_end_matches(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, qval *out)
{
    return fl_trim_matches(rs, at, v, args, false, out);
}

static bool f_truncate(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, qval *out)
{
    qstr *s = NULL, *end = NULL;
    int64_t length = 255;
    if (!fl_str(rs, at, NULL, v, &s) ||
        (!IS_UNDEF(args[0]) && !fl_int(rs, at, "length", args[0], true, &length)) ||
        !fl_opt_str(rs, at, "end", args[1], "\xE2\x80\xA6", &end))
        return false;
    if ((uint64_t)length >= s->nchars) {
        *out = v;
        return true;
    }
    size_t cut = str_char_offset(s, (uint32_t)length);
    qbuf b;
    buf_init(&b);
    buf_append(&b, s->data, cut);
    buf_append(&b, end->data, end->len);
    return fl_ret_str(rs, &b, out);
}

static bool f_wordcount(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, qval *out)
{
    (void)args;
    qstr *s = NULL;
    if (!fl_str(rs, at, NULL, v, &s))
        return false;
    int64_t n = 0;
    bool in_word = false;
    for (uint32_t i = 0; i < s->len; i++) {
        bool space = fl_is_space((unsigned char)s->data[i]);
        n += !space && !in_word;
        in_word = !space;
    }
    *out = qv_int(n);
    return true;
}

static bool f_replace(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, qval *out)
{
    qstr *s = NULL, *from = NULL, *to = NULL;
    if (!fl_str(rs, at, NULL, v, &s))
        return false;
    if (IS_UNDEF(args[0]))
        return fl_missing(rs, at, "from");
    if (IS_UNDEF(args[1]))
        return fl_missing(rs, at, "to");
    if (!fl_str(rs, at, "from", args[0], &from) || !fl_str(rs, at, "to", args[1], &to))
        return false;
    qbuf b;
    buf_init(&b);
    const char *p = s->data, *end = s->data + s->len;
    if (!from->len) { /* Rust: the replacement goes around every character */
        buf_append(&b, to->data, to->len);
        while (p < end) {
            size_t n = fl_char_len(p);
            buf_append(&b, p, n);
            buf_append(&b, to->data, to->len);
            p += n;
        }
        return fl_ret_str(rs, &b, out);
    }
    for (const char *hit; (hit = memmem(p, (size_t)(end - p), from->data, from->len));) {
        buf_append(&b, p, (size_t)(hit - p));
        buf_append(&b, to->data, to->len);
        p = hit + from->len;
    }
    buf_append(&b, p, (size_t)(end - p));
    return fl_ret_str(rs, &b, out);
}

static bool f_capitalize(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, qval *out)
{
    (void)args;
    qstr *s = NULL;
    if (!fl_str(rs, at, NULL, v, &s))
        return false;
    if (!s->len) {
        *out = v;
        return true;
    }
    size_t n = fl_char_len(s->data);
    *out = qv_obj(str_cat(rs->vm, fl_case(rs, s->data, n, true), fl_case(rs, s->data + n, s->len - n, false)));
    return true;
}

static bool fl_word_char(const char *p)
{
    unsigned char c = (unsigned char)*p;
    return c >= 0x80 || isalnum(c) || c == '_';
}

/* Every word: first character upper-case, the rest lower-case. */
static bool f_title(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, qval *out)
{
    (void)args;
    qstr *s = NULL;
    if (!fl_str(rs, at, NULL, v, &s))
        return false;
    qbuf b;
    buf_init(&b);
    const char *p = s->data, *end = s->data + s->len;
    while (p < end) {
        if (!fl_word_char(p)) {
            buf_putc(&b, *p++);
            continue;
        }
        const char *w = p;
        while (p < end && (fl_word_char(p) || *p == '\''))
            p += fl_char_len(p);
        while (p > w && p[-1] == '\'')
            p--;
        size_t n = fl_char_len(w), wlen = (size_t)(p - w);
        if (n == 1 && wlen == strspn(w, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_'")) {
            buf_putc(&b, (char)toupper((unsigned char)*w)); /* ASCII word: no allocation */
            for (size_t i = 1; i < wlen; i++)
                buf_putc(&b, (char)tolower((unsigned char)w[i]));
            continue;
        }
        qstr *first = fl_case(rs, w, n, true), *rest = fl_case(rs, w + n, wlen - n, false);
        buf_append(&b, first->data, first->len);
        buf_append(&b, rest->data, rest->len);
    }
    return fl_ret_str(rs, &b, out);
}

static bool f_linebreaksbr(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, qval *out)
{
    (void)args;
    qstr *s = NULL;
    if (!fl_str(rs, at, NULL, v, &s))
        return false;
    qbuf b;
    buf_init(&b);
    for (uint32_t i = 0; i < s->len; i++) {
        if (s->data[i] == '\r' && i + 1 < s->len && s->data[i + 1] == '\n')
            continue;
        if (s->data[i] == '\n')
            buf_puts(&b, "<br>");
        else
            buf_putc(&b, s->data[i]);
    }
    return fl_ret_str(rs, &b, out);
}

static bool f_indent(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, qval *out)
{
    qstr *s = NULL, *prefix = NULL;
    bool first = false, blank = false;
    if (!fl_str(rs, at, NULL, v, &s) || !fl_opt_str(rs, at, "prefix", args[0], "    ", &prefix) ||
        !fl_opt_bool(rs, at, "first", args[1], &first) ||
        !fl_opt_bool(rs, at, "blank", args[2], &blank))
        return false;
    qbuf b;
    buf_init(&b);
    const char *p = s->data, *end = s->data + s->len;
    for (bool first_line = true; p < end; first_line = false) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = (size_t)((nl ? nl : end) - p);
        size_t shown = n && p[n - 1] == '\r' ? n - 1 : n;
        bool is_blank = true;
        for (size_t i = 0; i < shown && is_blank; i++)
            is_blank = fl_is_space((unsigned char)p[i]);
        if (!first_line)
            buf_putc(&b, '\n');
        if (first_line ? first : (blank || !is_blank))
            buf_append(&b, prefix->data, prefix->len);
        buf_append(&b, p, shown);
        p += n + (nl != NULL);
    }
    return fl_ret_str(rs, &b, out);
}

static bool f_striptags(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, qval *out)
{
    (void)args;
    qstr *s = NULL;
    if (!fl_str(rs, at, NULL, v, &s))
        return false;
    qbuf b;
    buf_init(&b);
    const char *p = s->data, *end = s->data + s->len;
    while (p < end) {
        const char *lt = memchr(p, '<', (size_t)(end - p));
        if (!lt) {
            buf_append(&b, p, (size_t)(end - p));
            break;
        }
        buf_append(&b, p, (size_t)(lt - p));
        const char *close = NULL;
        if (end - lt >= 4 && memcmp(lt, "<!--", 4) == 0) {
            const char *c = memmem(lt + 4, (size_t)(end - lt - 4), "-->", 3);
            if (c && !memchr(lt, '\n', (size_t)(c - lt)))
                close = c + 3;
        }
        if (!close) {
            const char *gt = memchr(lt, '>', (size_t)(end - lt));
            close = gt ? gt + 1 : NULL;
        }
        if (!close) {
            buf_append(&b, lt, (size_t)(end - lt));
            break;
        }
        p = close;
    }
    return fl_ret_str(rs, &b, out);
}

static bool f_spaceless(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, qval *out)
{
    (void)args;
    qstr *s = NULL;
    if (!fl_str(rs, at, NULL, v, &s))
        return false;
    qbuf b;
    buf_init(&b);
    for (uint32_t i = 0; i < s->len; i++) {
        buf_putc(&b, s->data[i]);
        if (s->data[i] != '>')
            continue;
        uint32_t j = i + 1;
        while (j < s->len && fl_is_space((unsigned char)s->data[j]))
            j++;
        if (j > i + 1 && j < s->len && s->data[j] == '<')
            i = j - 1;
    }
    return fl_ret_str(rs, &b, out);
}

static bool fl_urlencode(tpl_rs *rs, const tpl_expr *at, qval v, const char *keep, qval *out)
{
    qstr *s = NULL;
    if (!fl_str(rs, at, NULL, v, &s))
        return false;
    qbuf b;
    buf_init(&b);
    for (uint32_t i = 0; i < s->len; i++) {
        unsigned char c = (unsigned char)s->data[i];
        if (isalnum(c) || (c && strchr(keep, c)))
            buf_putc(&b, (char)c);
        else
            buf_printf(&b, "%%%02X", c);
    }
    return fl_ret_str(rs, &b, out);
}

/* Python's quote() with '/' kept (Tera), and strict: only alphanumerics kept. */
static bool f_urlencode(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, qval *out)
{
    (void)args;
    return fl_urlencode(rs, at, v, "-_.~/%", out);
}

static bool f_urlencode_strict(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, qval *out)
{
    (void)args;
    return fl_urlencode(rs, at, v, "", out);
}

static bool f_escape(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, qval *out)
{
    (void)args;
    qstr *s = NULL;
    if (!fl_str(rs, at, NULL, v, &s))
        return false;
    qbuf b;
    buf_init(&b);
    tpl_escape(&b, s->data, s->len);
    return fl_ret_str(rs, &b, out);
}

static bool f_escape_xml(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, qval *out)
{
    (void)args;
    qstr *s = NULL;
    if (!fl_str(rs, at, NULL, v, &s))
        return false;
    qbuf b;
    buf_init(&b);
    for (uint32_t i = 0; i < s->len; i++) {
        switch (s->data[i]) {
        case '&': buf_puts(&b, "&amp;"); break;
        case '<': buf_puts(&b, "&lt;"); break;
        case '>': buf_puts(&b, "&gt;"); break;
        case '"': buf_puts(&b, "&quot;"); break;
        case '\'': buf_puts(&b, "&apos;"); break;
        default: buf_putc(&b, s->data[i]);
        }
    }
    return fl_ret_str(rs, &b, out);
}

/* ASCII letter for a Latin-1 accented one (U+00C0..U+00FF), or 0. */
static char fl_fold_latin1(uint32_t cp)
{
    static const char map[] = "AAAAAAACEEEEIIIIDNOOOOOxOUUUUYTs" /* C0..DF */
                              "aaaaaaaceeeeiiiidnooooo/ouuuuyty"; /* E0..FF */
    if (cp < 0xC0 || cp > 0xFF)
        return 0;
    char c = map[cp - 0xC0];
    return isalpha((unsigned char)c) ? c : 0;
}

/* Lower-case ASCII words joined by '-'; accented Latin letters lose their
 * accents, other characters separate words. */
static bool f_slugify(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, qval *out)
{
    (void)args;
    qstr *s = NULL;
    if (!fl_str(rs, at, NULL, v, &s))
        return false;
    qbuf b;
    buf_init(&b);
    bool dash = false;
    for (const char *p = s->data, *end = s->data + s->len; p < end;) {
        size_t n = fl_char_len(p);
        unsigned char c = (unsigned char)*p;
        char ascii = 0;
        if (n == 1 && isalnum(c))
            ascii = (char)tolower(c);
        else if (n == 2)
            ascii = (char)tolower(fl_fold_latin1(((uint32_t)(c & 0x1F) << 6) | (p[1] & 0x3F)));
        if (ascii) {
            if (dash && b.len)
                buf_putc(&b, '-');
            buf_putc(&b, ascii);
            dash = false;
        } else {
            dash = true;
        }
        p += n;
    }
    return fl_ret_str(rs, &b, out);
}

static bool f_addslashes(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, qval *out)
{
    (void)args;
    qstr *s = NULL;
    if (!fl_str(rs, at, NULL, v, &s))
        return false;
    qbuf b;
    buf_init(&b);
    for (uint32_t i = 0; i < s->len; i++) {
        if (strchr("\\\"'", s->data[i]) && s->data[i])
            buf_putc(&b, '\\');
        buf_putc(&b, s->data[i]);
    }
    return fl_ret_str(rs, &b, out);
}

static bool f_split(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, qval *out)
{
    qstr *s = NULL, *pat = NULL;
    if (!fl_str(rs, at, NULL, v, &s))
        return false;
    if (IS_UNDEF(args[0]))
        return fl_missing(rs, at, "pat");
    if (!fl_str(rs, at, "pat", args[0], &pat))
        return false;
    pat = fl_unescape(rs, pat);
    qarray *a = arr_new(rs->vm, 4);
    const char *p = s->data, *end = s->data + s->len;
    if (!pat->len) { /* Rust: "", each character, "" */
        arr_push(rs->vm, a, qv_obj(str_new(rs->vm, "", 0)));
        for (size_t n; p < end; p += n) {
            n = fl_char_len(p);
            arr_push(rs->vm, a, qv_obj(str_new(rs->vm, p, n)));
        }
        arr_push(rs->vm, a, qv_obj(str_new(rs->vm, "", 0)));
    } else {
        for (const char *hit; (hit = memmem(p, (size_t)(end - p), pat->data, pat->len));) {
            arr_push(rs->vm, a, qv_obj(str_new(rs->vm, p, (size_t)(hit - p))));
            p = hit + pat->len;
        }
        arr_push(rs->vm, a, qv_obj(str_new(rs->vm, p, (size_t)(end - p))));
    }
    *out = qv_obj(a);
    return true;
}

static bool f_int(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, qval *out)
{
    int64_t dflt = 0, base = 10;
    if ((!IS_UNDEF(args[0]) && !fl_int(rs, at, "default", args[0], false, &dflt)) ||
        (!IS_UNDEF(args[1]) && !fl_int(rs, at, "base", args[1], true, &base)))
        return false;
    if (IS_INT(v)) {
        *out = v;
        return true;
    }
    if (IS_FLOAT(v)) {
        *out = qv_int(isfinite(v.as.f) ? (int64_t)v.as.f : dflt);
        return true;
    }
    if (!IS_STR(v))
        return tpl_fail(rs, at->line, at->col, "Filter `int` received an unexpected type");
    if (base < 2 || base > 36)
        return tpl_fail(rs, at->line, at->col, "Filter `int`: base must be between 2 and 36");
    qstr *s = AS_STR(v);
    size_t a = 0, b = s->len;
    while (a < b && fl_is_space((unsigned char)s->data[a]))
        a++;
    while (b > a && fl_is_space((unsigned char)s->data[b - 1]))
        b--;
    char tmp[80];
    size_t n = b - a < sizeof tmp - 1 ? b - a : sizeof tmp - 1;
    memcpy(tmp, s->data + a, n);
    tmp[n] = '\0';
    const char *digits = tmp;
    static const char *const prefixes[] = {[2] = "0b", [8] = "0o", [16] = "0x"};
    if ((base == 2 || base == 8 || base == 16) && strncmp(digits, prefixes[base], 2) == 0)
        digits += 2;
    char *stop;
    errno = 0;
    long long r = *digits ? strtoll(digits, &stop, (int)base) : 0;
    if (*digits && !*stop && !errno && !isspace((unsigned char)*digits)) {
        *out = qv_int(r);
    } else if (strchr(digits, '.')) {
        double f = strtod(digits, &stop);
        *out = qv_int(!*stop && isfinite(f) ? (int64_t)f : dflt);
    } else {
        *out = qv_int(dflt);
    }
    return true;
}

static bool f_float(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, qval *out)
{
    double dflt = 0;
    if (!IS_UNDEF(args[0]) && !fl_num(rs, at, "default", args[0], &dflt))
        return false;
    if (IS_NUM(v)) {
        *out = qv_float(IS_INT(v) ? (double)v.as.i : v.as.f);
        return true;
    }
    if (!IS_STR(v))
        return tpl_fail(rs, at->line, at->col, "Filter `float` received an unexpected type");
    char *stop;
    const char *s = AS_STR(v)->data;
    while (fl_is_space((unsigned char)*s))
        s++;
    double f = strtod(s, &stop);
    while (fl_is_space((unsigned char)*stop))
        stop++;
    *out = qv_float(stop != s && !*stop ? f : dflt);
    return true;
}

/* ---- arrays -------------------------------------------------------------------------------- */

static qval fl_empty_str(tpl_rs *rs)
{
    return qv_obj(str_new(rs->vm, "", 0));
}

static bool f_first(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, qval *out)
{
    (void)args;
    qarray *a = NULL;
    if (!fl_array(rs, at, v, &a))
        return false;
    *out = a->len ? a->items[0] : fl_empty_str(rs);
    return true;
}

static bool f_last(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, qval *out)
{
    (void)args;
    qarray *a = NULL;
    if (!fl_array(rs, at, v, &a))
        return false;
    *out = a->len ? a->items[a->len - 1] : fl_empty_str(rs);
    return true;
}

static bool f_nth(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, qval *out)
{
    qarray *a = NULL;
    int64_t n = 0;
    if (!fl_array(rs, at, v, &a))
        return false;
    if (!a->len) {
        *out = fl_empty_str(rs);
        return true;
    }
    if (IS_UNDEF(args[0]))
        return tpl_fail(rs, at->line, at->col, "The `nth` filter has to have an `n` argument");
    if (!fl_int(rs, at, "n", args[0], true, &n))
        return false;
    *out = (uint64_t)n < a->len ? a->items[n] : fl_empty_str(rs);
    return true;
}

static bool f_join(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, qval *out)
{
    qarray *a = NULL;
    qstr *sep = NULL;
    if (!fl_array(rs, at, v, &a) || !fl_opt_str(rs, at, "sep", args[0], "", &sep))
        return false;
    sep = fl_unescape(rs, sep);
    qbuf b;
    buf_init(&b);
    for (uint32_t i = 0; i < a->len; i++) {
        if (i)
            buf_append(&b, sep->data, sep->len);
        tpl_print(rs->vm, &b, a->items[i]);
    }
    return fl_ret_str(rs, &b, out);
}

/* Sort keys: all numbers, all strings, all bools or all arrays (by length). */
typedef struct fl_key {
    qval item;
    double num;
    qstr *str;
    uint32_t pos;
} fl_key;

static int fl_key_cmp(const void *pa, const void *pb)
{
    const fl_key *a = pa, *b = pb;
    int c;
    if (a->str) {
        size_t n = a->str->len < b->str->len ? a->str->len : b->str->len;
        c = memcmp(a->str->data, b->str->data, n);
        if (!c)
            c = (a->str->len > b->str->len) - (a->str->len < b->str->len);
    } else {
        c = (a->num > b->num) - (a->num < b->num);
    }
    return c ? c : (a->pos > b->pos) - (a->pos < b->pos);
}

static const char *fl_kind(qval v)
{
    if (IS_NUM(v))
        return "number";
    if (IS_STR(v))
        return "string";
    if (IS_BOOL(v))
        return "bool";
    if (IS_ARRAY(v))
        return "array";
    return IS_NIL(v) ? "null" : "object";
}

static bool f_sort(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, qval *out)
{
    qarray *a = NULL;
    qstr *attr = NULL;
    if (!fl_array(rs, at, v, &a) || !fl_opt_str(rs, at, "attribute", args[0], "", &attr))
        return false;
    fl_key *keys = calloc(a->len ? a->len : 1, sizeof *keys);
    if (!keys)
        abort();
    const char *kind = NULL;
    bool ok = true;
    for (uint32_t i = 0; ok && i < a->len; i++) {
        qval k;
        if (!fl_pointer(a->items[i], attr, &k)) {
            ok = tpl_fail(rs, at->line, at->col, "attribute '%s' does not reference a field",
                          attr->data);
            break;
        }
        ok = tpl_norm(rs, at->line, at->col, k, &k);
        if (!ok)
            break;
        if (!kind)
            kind = fl_kind(k);
        if (strcmp(kind, fl_kind(k)) != 0 || IS_NIL(k) || tpl_is_object(k)) {
            ok = tpl_fail(rs, at->line, at->col, "expected %s got %s", kind, fl_kind(k));
            break;
        }
        keys[i] = (fl_key){a->items[i], 0, NULL, i};
        if (IS_STR(k))
            keys[i].str = AS_STR(k);
        else if (IS_ARRAY(k))
            keys[i].num = AS_ARRAY(k)->len;
        else if (IS_BOOL(k))
            keys[i].num = k.as.b;
        else
            keys[i].num = IS_INT(k) ? (double)k.as.i : k.as.f;
    }
    if (ok) {
        qsort(keys, a->len, sizeof *keys, fl_key_cmp);
        qarray *r = arr_new(rs->vm, a->len);
        for (uint32_t i = 0; i < a->len; i++)
            arr_push(rs->vm, r, keys[i].item);
        *out = qv_obj(r);
    }
    free(keys);
    return ok;
}

static bool f_unique(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, qval *out)
{
    qarray *a = NULL;
    qstr *attr = NULL;
    bool case_sensitive = false;
    if (!fl_array(rs, at, v, &a) || !fl_opt_bool(rs, at, "case_sensitive", args[1], &case_sensitive) ||
        !fl_opt_str(rs, at, "attribute", args[0], "", &attr))
        return false;
    qarray *r = arr_new(rs->vm, a->len);
    qarray *seen = arr_new(rs->vm, a->len);
    const char *kind = NULL;
    for (uint32_t i = 0; i < a->len; i++) {
        qval k;
        if (!fl_pointer(a->items[i], attr, &k))
            continue;
        if (!tpl_norm(rs, at->line, at->col, k, &k))
            return false;
        if (!kind) {
            kind = fl_kind(k);
            if (!IS_NUM(k) && !IS_STR(k) && !IS_BOOL(k))
                return tpl_fail(rs, at->line, at->col, "Unique filter can't compare %ss", kind);
        }
        if (strcmp(kind, fl_kind(k)) != 0)
            return tpl_fail(rs, at->line, at->col, "unique filter can't compare multiple types");
        if (IS_STR(k) && !case_sensitive)
            k = qv_obj(fl_case(rs, AS_STR(k)->data, AS_STR(k)->len, false));
        bool dup = false;
        for (uint32_t j = 0; j < seen->len && !dup; j++)
            dup = tpl_equal(seen->items[j], k);
        if (!dup) {
            arr_push(rs->vm, seen, k);
            arr_push(rs->vm, r, a->items[i]);
        }
    }
    *out = qv_obj(r);
    return true;
}

/* Slice bound: negative counts from the end, clamped to the array. */
static uint32_t fl_index(double i, uint32_t len)
{
    double r = i >= 0 ? i : len + i;
    return r <= 0 ? 0 : r >= len ? len : (uint32_t)r;
}

static bool f_slice(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, qval *out)
{
    qarray *a = NULL;
    double start = 0, end;
    if (!fl_array(rs, at, v, &a))
        return false;
    end = a->len;
    if ((!IS_UNDEF(args[0]) && !fl_num(rs, at, "start", args[0], &start)) ||
        (!IS_UNDEF(args[1]) && !fl_num(rs, at, "end", args[1], &end)))
        return false;
    uint32_t s = fl_index(start, a->len), e = fl_index(end, a->len);
    qarray *r = arr_new(rs->vm, s < e ? e - s : 0);
    for (uint32_t i = s; i < e; i++)
        arr_push(rs->vm, r, a->items[i]);
    *out = qv_obj(r);
    return true;
}

static bool fl_attribute(tpl_rs *rs, const tpl_expr *at, qval arg, qstr **out)
{
    if (IS_UNDEF(arg))
        return tpl_fail(rs, at->line, at->col, "The `%s` filter has to have an `attribute` argument",
                        tpl_filters[at->op].name);
    return fl_str(rs, at, "attribute", arg, out);
}

static bool f_group_by(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, qval *out)
{
    qarray *a = NULL;
    qstr *attr = NULL;
    if (!fl_array(rs, at, v, &a) || !fl_attribute(rs, at, args[0], &attr))
        return false;
    qdict *groups = dict_new(rs->vm);
    for (uint32_t i = 0; i < a->len; i++) {
        qval k, list;
        if (!fl_pointer(a->items[i], attr, &k) || IS_NIL(k))
            continue;
        if (!tpl_norm(rs, at->line, at->col, k, &k))
            return false;
        qstr *key = tpl_to_str(rs->vm, k);
        if (!dict_get(groups, key, &list)) {
            list = qv_obj(arr_new(rs->vm, 4));
            dict_set(rs->vm, groups, key, list);
        }
        arr_push(rs->vm, AS_ARRAY(list), a->items[i]);
    }
    *out = qv_obj(groups);
    return true;
}

static bool f_filter(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, qval *out)
{
    qarray *a = NULL;
    qstr *attr = NULL;
    if (!fl_array(rs, at, v, &a) || !fl_attribute(rs, at, args[0], &attr))
        return false;
    qval want = IS_UNDEF(args[1]) ? qv_nil() : args[1];
    qarray *r = arr_new(rs->vm, a->len);
    for (uint32_t i = 0; i < a->len; i++) {
        qval k;
        if (!fl_pointer(a->items[i], attr, &k))
            k = qv_nil();
        if (!tpl_norm(rs, at->line, at->col, k, &k))
            return false;
        if (IS_NIL(want) ? !IS_NIL(k) : tpl_equal(k, want))
            arr_push(rs->vm, r, a->items[i]);
    }
    *out = qv_obj(r);
    return true;
}

static bool f_map(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, qval *out)
{
    qarray *a = NULL;
    qstr *attr = NULL;
    if (!fl_array(rs, at, v, &a) || !fl_attribute(rs, at, args[0], &attr))
        return false;
    qarray *r = arr_new(rs->vm, a->len);
    for (uint32_t i = 0; i < a->len; i++) {
        qval k;
        if (fl_pointer(a->items[i], attr, &k) && !IS_NIL(k))
            arr_push(rs->vm, r, k);
    }
    *out = qv_obj(r);
    return true;
}

static bool f_concat(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, qval *out)
{
    qarray *a = NULL;
    if (!fl_array(rs, at, v, &a))
        return false;
    if (IS_UNDEF(args[0]))
        return tpl_fail(rs, at->line, at->col, "The `concat` filter has to have a `with` argument");
    qarray *r = arr_new(rs->vm, a->len + 1);
    for (uint32_t i = 0; i < a->len; i++)
        arr_push(rs->vm, r, a->items[i]);
    if (IS_ARRAY(args[0])) {
        qarray *w = AS_ARRAY(args[0]);
        for (uint32_t i = 0; i < w->len; i++)
            arr_push(rs->vm, r, w->items[i]);
    } else {
        arr_push(rs->vm, r, args[0]);
    }
    *out = qv_obj(r);
    return true;
}

/* ---- numbers --------------------------------------------------------------------------------- */

static bool f_abs(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, qval *out)
{
    (void)args;
    if (IS_INT(v) && v.as.i != INT64_MIN)
        *out = qv_int(v.as.i < 0 ? -v.as.i : v.as.i);
    else if (IS_NUM(v))
        *out = qv_float(fabs(IS_INT(v) ? (double)v.as.i : v.as.f));
    else
        return tpl_fail(rs, at->line, at->col, "Filter `abs` was used on a value that isn't a number.");
    return true;
}

static bool f_pluralize(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, qval *out)
{
    double n = 0;
    qstr *singular = NULL, *plural = NULL;
    if (!fl_num(rs, at, NULL, v, &n) || !fl_opt_str(rs, at, "singular", args[0], "", &singular) ||
        !fl_opt_str(rs, at, "plural", args[1], "s", &plural))
        return false;
    *out = qv_obj(fabs(fabs(n) - 1) > 2.220446049250313e-16 ? plural : singular);
    return true;
}

static bool f_round(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, qval *out)
{
    double n = 0;
    qstr *method = NULL;
    int64_t precision = 0;
    if (!fl_num(rs, at, NULL, v, &n) || !fl_opt_str(rs, at, "method", args[0], "common", &method) ||
        (!IS_UNDEF(args[1]) && !fl_int(rs, at, "precision", args[1], false, &precision)))
        return false;
    double m = precision == 0 ? 1.0 : pow(10.0, (double)precision);
    if (strcmp(method->data, "common") == 0)
        *out = qv_float(round(m * n) / m);
    else if (strcmp(method->data, "ceil") == 0)
        *out = qv_float(ceil(m * n) / m);
    else if (strcmp(method->data, "floor") == 0)
        *out = qv_float(floor(m * n) / m);
    else
        return tpl_fail(rs, at->line, at->col,
                        "Filter `round` received an incorrect value for arg `method`: got `\"%s\"`, "
                        "only common, ceil and floor are allowed",
                        method->data);
    return true;
}

/* "117.74 MB": 1024-based, up to two decimals without trailing zeros. */
static bool f_filesizeformat(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, qval *out)
{
    static const char *const windows[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
    static const char *const binary[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    int64_t n = 0;
    bool bin = false;
    if (!fl_int(rs, at, NULL, v, true, &n) || !fl_opt_bool(rs, at, "binary", args[0], &bin))
        return false;
    const char *const *units = bin ? binary : windows;
    qbuf b;
    buf_init(&b);
    if (n < 1024) {
        buf_printf(&b, "%lld %s", (long long)n, units[0]);
        return fl_ret_str(rs, &b, out);
    }
    double size = (double)n;
    int u = 0;
    while (size >= 1024 && u < 6) {
        size /= 1024;
        u++;
    }
    char num[64];
    snprintf(num, sizeof num, "%.2f", size);
    size_t len = strlen(num);
    while (num[len - 1] == '0')
        num[--len] = '\0';
    if (num[len - 1] == '.')
        num[--len] = '\0';
    buf_printf(&b, "%s %s", num, units[u]);
    return fl_ret_str(rs, &b, out);
}

/* ---- common -------------------------------------------------------------------------------------- */

static bool f_length(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, qval *out)
{
    (void)args;
    if (IS_ARRAY(v))
        *out = qv_int(AS_ARRAY(v)->len);
    else if (IS_STR(v))
        *out = qv_int(AS_STR(v)->nchars);
    else if (tpl_is_object(v))
        *out = qv_int(tpl_object_len(v));
    else
        return tpl_fail(rs, at->line, at->col,
                        "Filter `length` was used on a value that isn't an array, an object, or a string.");
    return true;
}

static bool f_reverse(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, qval *out)
{
    (void)args;
    if (IS_ARRAY(v)) {
        qarray *a = AS_ARRAY(v), *r = arr_new(rs->vm, a->len);
        for (uint32_t i = a->len; i-- > 0;)
            arr_push(rs->vm, r, a->items[i]);
        *out = qv_obj(r);
        return true;
    }
    if (!IS_STR(v))
        return fl_bad(rs, at, "value", v, "Array|String");
    qstr *s = AS_STR(v);
    qbuf b;
    buf_init(&b);
    for (const char *end = s->data + s->len; end > s->data;) {
        const char *c = end - 1;
        while (c > s->data && ((unsigned char)*c & 0xC0) == 0x80)
            c--;
        buf_append(&b, c, (size_t)(end - c));
        end = c;
    }
    return fl_ret_str(rs, &b, out);
}

static bool f_json_encode(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, qval *out)
{
    (void)at;
    qbuf b;
    buf_init(&b);
    tpl_json(rs->vm, &b, v, IS_BOOL(args[0]) && args[0].as.b ? 2 : -1);
    return fl_ret_str(rs, &b, out);
}

static bool f_as_str(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, qval *out)
{
    (void)at, (void)args;
    *out = qv_obj(tpl_to_str(rs->vm, v));
    return true;
}

static bool f_get(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, qval *out)
{
    qstr *key = NULL;
    if (IS_UNDEF(args[0]))
        return tpl_fail(rs, at->line, at->col, "The `get` filter has to have an `key` argument");
    if (!fl_str(rs, at, "key", args[0], &key))
        return false;
    if (!tpl_is_object(v))
        return tpl_fail(rs, at->line, at->col, "Filter `get` was used on a value that isn't an object");
    if (tpl_object_get(v, key, out))
        return true;
    if (!IS_UNDEF(args[1])) {
        *out = args[1];
        return true;
    }
    return tpl_fail(rs, at->line, at->col, "Filter `get` tried to get key `%s` but it wasn't found",
                    key->data);
}

/* Parse "YYYY-MM-DD[THH:MM:SS[.frac][Z|+HH:MM]]" into a UTC time and the
 * offset written.  False when it is not that shape. */
static bool fl_parse_date(const char *s, time_t *t, long *offset)
{
    struct tm tm = {0};
    int n = 0;
    *offset = 0;
    if (sscanf(s, "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &n) != 3 || n != 10)
        return false;
    s += n;
    if (*s == 'T' || *s == 't') {
        if (sscanf(s + 1, "%2d:%2d:%2d%n", &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 3 || n != 8)
            return false;
        s += 1 + n;
        if (*s == '.')
            for (s++; isdigit((unsigned char)*s); s++)
                ;
        if (*s == 'Z' || *s == 'z') {
            s++;
        } else if (*s == '+' || *s == '-') {
            int hh, mm;
            if (sscanf(s + 1, "%2d:%2d%n", &hh, &mm, &n) != 2 || n != 5)
                return false;
            *offset = (*s == '-' ? -1 : 1) * (hh * 3600L + mm * 60L);
            s += 1 + n;
        }
    }
    if (*s)
        return false;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    *t = timegm(&tm) - *offset;
    return true;
}

static bool f_date(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, qval *out)
{
    qstr *format = NULL;
    if (!fl_opt_str(rs, at, "format", args[0], "%Y-%m-%d", &format))
        return false;
    if (!IS_UNDEF(args[1])) {
        qstr *tz = NULL;
        if (!fl_str(rs, at, "timezone", args[1], &tz))
            return false;
        if (strcmp(tz->data, "UTC") != 0)
            return tpl_fail(rs, at->line, at->col, "Error parsing `%s` as a timezone (only UTC is known)",
                            tz->data);
    }
    time_t t;
    long offset = 0;
    if (IS_INT(v)) {
        t = (time_t)v.as.i;
    } else if (IS_STR(v)) {
        if (!fl_parse_date(AS_STR(v)->data, &t, &offset))
            return tpl_fail(rs, at->line, at->col, "Error parsing `\"%s\"` as %s", AS_STR(v)->data,
                            strchr(AS_STR(v)->data, 'T') ? "rfc3339 date or naive datetime"
                                                         : "YYYY-MM-DD date");
    } else if (IS_FLOAT(v)) {
        char num[FMT_FLOAT_MAX];
        fmt_float(num, sizeof num, v.as.f);
        return tpl_fail(rs, at->line, at->col, "Filter `date` was invoked on a float: %s", num);
    } else {
        return fl_bad(rs, at, "value", v, "i64|u64|String");
    }
    time_t local = t + offset;
    struct tm tm;
    if (!gmtime_r(&local, &tm))
        return tpl_fail(rs, at->line, at->col, "Filter `date`: timestamp out of range");
    tm.tm_gmtoff = offset;
    tm.tm_zone = offset ? "" : "UTC";
    char tmp[512];
    size_t n = strftime(tmp, sizeof tmp, format->data, &tm);
    if (!n && format->len)
        return tpl_fail(rs, at->line, at->col, "Invalid date format `%s`", format->data);
    *out = qv_obj(str_new(rs->vm, tmp, n));
    return true;
}

#define FILTER(name, fn, ...) {name, {__VA_ARGS__}, 0, fn, NULL, NULL}

/* `safe` and `default` have no function: the evaluator and the parser
 * handle them (see tpl_filter_safe, tpl_filter_default). */
const tpl_builtin tpl_filters[] = {
    FILTER("safe", NULL, NULL),
    FILTER("default", NULL, "value", NULL),
    FILTER("upper", f_upper, NULL),
    FILTER("lower", f_lower, NULL),
    FILTER("trim", f_trim, NULL),
    FILTER("trim_start", f_trim_start, NULL),
    FILTER("trim_end", f_trim_end, NULL),
    FILTER("trim_start_matches", f_trim_start_matches, "pat", NULL),
    FILTER("trim_end_matches", f_trim_end_matches, "pat", NULL),
    FILTER("truncate", f_truncate, "length", "end", NULL),
    FILTER("wordcount", f_wordcount, NULL),
    FILTER("replace", f_replace, "from", "to", NULL),
    FILTER("capitalize", f_capitalize, NULL),
    FILTER("title", f_title, NULL),
    FILTER("linebreaksbr", f_linebreaksbr, NULL),
    FILTER("indent", f_indent, "prefix", "first", "blank", NULL),
    FILTER("striptags", f_striptags, NULL),
    FILTER("spaceless", f_spaceless, NULL),
    FILTER("urlencode", f_urlencode, NULL),
    FILTER("urlencode_strict", f_urlencode_strict, NULL),
    FILTER("escape", f_escape, NULL),
    FILTER("escape_xml", f_escape_xml, NULL),
    FILTER("slugify", f_slugify, NULL),
    FILTER("addslashes", f_addslashes, NULL),
    FILTER("split", f_split, "pat", NULL),
    FILTER("int", f_int, "default", "base", NULL),
    FILTER("float", f_float, "default", NULL),
    FILTER("first", f_first, NULL),
    FILTER("last", f_last, NULL),
    FILTER("nth", f_nth, "n", NULL),
    FILTER("join", f_join, "sep", NULL),
    FILTER("sort", f_sort, "attribute", NULL),
    FILTER("unique", f_unique, "attribute", "case_sensitive", NULL),
    FILTER("slice", f_slice, "start", "end", NULL),
    FILTER("group_by", f_group_by, "attribute", NULL),
    FILTER("filter", f_filter, "attribute", "value", NULL),
    FILTER("map", f_map, "attribute", NULL),
    FILTER("concat", f_concat, "with", NULL),
    FILTER("abs", f_abs, NULL),
    FILTER("pluralize", f_pluralize, "singular", "plural", NULL),
    FILTER("round", f_round, "method", "precision", NULL),
    FILTER("filesizeformat", f_filesizeformat, "binary", NULL),
    FILTER("length", f_length, NULL),
    FILTER("reverse", f_reverse, NULL),
    FILTER("date", f_date, "format", "timezone", NULL),
    FILTER("json_encode", f_json_encode, "pretty", NULL),
    FILTER("as_str", f_as_str, NULL),
    FILTER("get", f_get, "key", "default", NULL),
    {NULL, {NULL}, 0, NULL, NULL, NULL},
};

const int tpl_filter_safe = 0, tpl_filter_default = 1;

/* ---- tests --------------------------------------------------------------------------------------- */

static bool t_defined_value(tpl_rs *rs, const tpl_expr *at, qval v)
{
    if (!IS_UNDEF(v))
        return true;
    return tpl_fail(rs, at->line, at->col, "Tester `%s` was called on an undefined variable",
                    tpl_tests[at->op].name);
}

static bool t_defined(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, uint32_t n, bool *out)
{
    (void)rs, (void)at, (void)args, (void)n;
    *out = !IS_UNDEF(v);
    return true;
}

static bool t_undefined(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, uint32_t n, bool *out)
{
    (void)rs, (void)at, (void)args, (void)n;
    *out = IS_UNDEF(v);
    return true;
}

static bool t_string(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, uint32_t n, bool *out)
{
    (void)args, (void)n;
    *out = IS_STR(v);
    return t_defined_value(rs, at, v);
}

static bool t_number(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, uint32_t n, bool *out)
{
    (void)args, (void)n;
    *out = IS_NUM(v);
    return t_defined_value(rs, at, v);
}

static bool t_odd(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, uint32_t n, bool *out)
{
    (void)args, (void)n;
    if (!t_defined_value(rs, at, v))
        return false;
    if (!IS_NUM(v))
        return tpl_fail(rs, at->line, at->col, "Tester `%s` was called on a variable that isn't a number",
                        tpl_tests[at->op].name);
    double f = IS_INT(v) ? (double)v.as.i : v.as.f;
    *out = fmod(f, 2.0) != 0;
    return true;
}

static bool t_even(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, uint32_t n, bool *out)
{
    if (!t_odd(rs, at, v, args, n, out))
        return false;
    *out = !*out;
    return true;
}

static bool t_divisibleby(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, uint32_t n,
                          bool *out)
{
    if (!t_defined_value(rs, at, v))
        return false;
    if (!IS_NUM(v))
        return tpl_fail(rs, at->line, at->col,
                        "Tester `divisibleby` was called on a variable that isn't a number");
    if (n < 1 || !IS_NUM(args[0]))
        return tpl_fail(rs, at->line, at->col,
                        "Tester `divisibleby` was called with a parameter that isn't a number");
    double a = IS_INT(v) ? (double)v.as.i : v.as.f, b = IS_INT(args[0]) ? (double)args[0].as.i : args[0].as.f;
    *out = fmod(a, b) == 0;
    return true;
}

static bool t_iterable(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, uint32_t n, bool *out)
{
    (void)args, (void)n;
    *out = IS_ARRAY(v) || tpl_is_object(v);
    return t_defined_value(rs, at, v);
}

static bool t_object(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, uint32_t n, bool *out)
{
    (void)args, (void)n;
    *out = tpl_is_object(v);
    return t_defined_value(rs, at, v);
}

/* Both the value and the argument must be strings. */
static bool t_strings(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, uint32_t n,
                      qstr **s, qstr **arg)
{
    const char *name = tpl_tests[at->op].name;
    if (!t_defined_value(rs, at, v))
        return false;
    if (!IS_STR(v))
        return tpl_fail(rs, at->line, at->col, "Tester `%s` was called on a variable that isn't a string",
                        name);
    if (n < 1 || !IS_STR(args[0]))
        return tpl_fail(rs, at->line, at->col, "Tester `%s` was called with a parameter that isn't a string",
                        name);
    *s = AS_STR(v);
    *arg = AS_STR(args[0]);
    return true;
}

static bool t_starting_with(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, uint32_t n,
                            bool *out)
{
    qstr *s = NULL, *p = NULL;
    if (!t_strings(rs, at, v, args, n, &s, &p))
        return false;
    *out = s->len >= p->len && memcmp(s->data, p->data, p->len) == 0;
    return true;
}

static bool t_ending_with(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, uint32_t n,
                          bool *out)
{
    qstr *s = NULL, *p = NULL;
    if (!t_strings(rs, at, v, args, n, &s, &p))
        return false;
    *out = s->len >= p->len && memcmp(s->data + s->len - p->len, p->data, p->len) == 0;
    return true;
}

static bool t_containing(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, uint32_t n,
                         bool *out)
{
    if (!t_defined_value(rs, at, v))
        return false;
    if (n < 1)
        return tpl_fail(rs, at->line, at->col, "Tester `containing` needs an argument");
    qval x = args[0];
    if (IS_STR(v)) {
        if (!IS_STR(x))
            return tpl_fail(rs, at->line, at->col,
                            "Tester `containing` can only check if a string contains a string");
        *out = memmem(AS_STR(v)->data, AS_STR(v)->len, AS_STR(x)->data, AS_STR(x)->len) != NULL;
    } else if (IS_ARRAY(v)) {
        qarray *a = AS_ARRAY(v);
        *out = false;
        for (uint32_t i = 0; i < a->len && !*out; i++)
            *out = tpl_equal(a->items[i], x);
    } else if (tpl_is_object(v)) {
        if (!IS_STR(x))
            return tpl_fail(rs, at->line, at->col, "Tester `containing` can only check if a map contains a string");
        *out = tpl_object_get(v, AS_STR(x), NULL);
    } else {
        return tpl_fail(rs, at->line, at->col,
                        "Tester `containing` can only be used on string, array or map");
    }
    return true;
}

static bool t_matching(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, uint32_t n, bool *out)
{
    qstr *s = NULL, *re = NULL;
    if (!t_strings(rs, at, v, args, n, &s, &re))
        return false;
    int err;
    PCRE2_SIZE off;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)re->data, re->len, PCRE2_UTF, &err, &off, NULL);
    if (!code)
        return tpl_fail(rs, at->line, at->col, "Tester `matching`: invalid regex `%s`", re->data);
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(code, NULL);
    int rc = md ? pcre2_match(code, (PCRE2_SPTR)s->data, s->len, 0, 0, md, NULL) : -1;
    pcre2_match_data_free(md);
    pcre2_code_free(code);
    *out = rc >= 0;
    return true;
}

#define TEST(name, fn, max) {name, {NULL}, max, NULL, fn, NULL}

const tpl_builtin tpl_tests[] = {
    TEST("defined", t_defined, 0),
    TEST("undefined", t_undefined, 0),
    TEST("string", t_string, 0),
    TEST("number", t_number, 0),
    TEST("odd", t_odd, 0),
    TEST("even", t_even, 0),
    TEST("divisibleby", t_divisibleby, 1),
    TEST("iterable", t_iterable, 0),
    TEST("object", t_object, 0),
    TEST("starting_with", t_starting_with, 1),
    TEST("ending_with", t_ending_with, 1),
    TEST("containing", t_containing, 1),
    TEST("matching", t_matching, 1),
    {NULL, {NULL}, 0, NULL, NULL, NULL},
};

/* ---- functions ---------------------------------------------------------------------------------------- */

static bool fn_range(tpl_rs *rs, const tpl_expr *at, const qval *args, qval *out)
{
    int64_t start = 0, end, step = 1;
    if (IS_UNDEF(args[1]))
        return fl_missing(rs, at, "end");
    if ((!IS_UNDEF(args[0]) && !fl_int(rs, at, "start", args[0], false, &start)) ||
        !fl_int(rs, at, "end", args[1], false, &end) ||
        (!IS_UNDEF(args[2]) && !fl_int(rs, at, "step_by", args[2], false, &step)))
        return false;
    if (step <= 0)
        return tpl_fail(rs, at->line, at->col,
                        "Function `range` was called with a `step_by` argument of %lld", (long long)step);
    if (start > end)
        return tpl_fail(rs, at->line, at->col,
                        "Function `range` was called with a `start` argument greater than the `end` one");
    qarray *a = arr_new(rs->vm, 0);
    for (int64_t i = start; i < end; i += step) {
        arr_push(rs->vm, a, qv_int(i));
        if (end - i <= step)
            break;
    }
    *out = qv_obj(a);
    return true;
}

static bool fn_now(tpl_rs *rs, const tpl_expr *at, const qval *args, qval *out)
{
    bool timestamp = false, utc = false;
    if (!fl_opt_bool(rs, at, "timestamp", args[0], &timestamp) ||
        !fl_opt_bool(rs, at, "utc", args[1], &utc))
        return false;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (timestamp) {
        *out = qv_int((int64_t)ts.tv_sec);
        return true;
    }
    struct tm tm;
    if (utc)
        gmtime_r(&ts.tv_sec, &tm);
    else
        localtime_r(&ts.tv_sec, &tm);
    char date[64], zone[32];
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    if (utc) {
        strcpy(zone, "Z");
    } else {
        int off = (int)(tm.tm_gmtoff / 60);
        snprintf(zone, sizeof zone, "%c%02d:%02d", off < 0 ? '-' : '+', abs(off) / 60 % 100,
                 abs(off) % 60);
    }
    qbuf b;
    buf_init(&b);
    buf_printf(&b, "%s.%09ld%s", date, (long)ts.tv_nsec, zone);
    return fl_ret_str(rs, &b, out);
}

static bool fn_throw(tpl_rs *rs, const tpl_expr *at, const qval *args, qval *out)
{
    (void)out;
    qstr *msg = NULL;
    if (IS_UNDEF(args[0]))
        return fl_missing(rs, at, "message");
    if (!fl_str(rs, at, "message", args[0], &msg))
        return false;
    return tpl_fail(rs, at->line, at->col, "%s", msg->data);
}

static bool fn_get_random(tpl_rs *rs, const tpl_expr *at, const qval *args, qval *out)
{
    int64_t start = 0, end;
    if (IS_UNDEF(args[1]))
        return fl_missing(rs, at, "end");
    if ((!IS_UNDEF(args[0]) && !fl_int(rs, at, "start", args[0], false, &start)) ||
        !fl_int(rs, at, "end", args[1], false, &end))
        return false;
    if (start >= end)
        return tpl_fail(rs, at->line, at->col, "Function `get_random`: `start` must be below `end`");
    uint64_t r;
    FILE *f = fopen("/dev/urandom", "rb");
    bool got = f && fread(&r, sizeof r, 1, f) == 1;
    if (f)
        fclose(f);
    if (!got)
        r = (uint64_t)time(NULL) * 6364136223846793005ULL;
    *out = qv_int(start + (int64_t)(r % (uint64_t)(end - start)));
    return true;
}

static bool fn_get_env(tpl_rs *rs, const tpl_expr *at, const qval *args, qval *out)
{
    qstr *name = NULL;
    if (IS_UNDEF(args[0]))
        return fl_missing(rs, at, "name");
    if (!fl_str(rs, at, "name", args[0], &name))
        return false;
    const char *v = getenv(name->data);
    if (v) {
        *out = qv_obj(str_cstr(rs->vm, v));
        return true;
    }
    if (!IS_UNDEF(args[1])) {
        *out = args[1];
        return true;
    }
    return tpl_fail(rs, at->line, at->col, "Environment variable `%s` not found", name->data);
}

#define FUNCTION(name, fn, ...) {name, {__VA_ARGS__}, 0, NULL, NULL, fn}

const tpl_builtin tpl_functions[] = {
    FUNCTION("range", fn_range, "start", "end", "step_by", NULL),
    FUNCTION("now", fn_now, "timestamp", "utc", NULL),
    FUNCTION("throw", fn_throw, "message", NULL),
    FUNCTION("get_random", fn_get_random, "start", "end", NULL),
    FUNCTION("get_env", fn_get_env, "name", "default", NULL),
    {NULL, {NULL}, 0, NULL, NULL, NULL},
};

/* ---- lookup ------------------------------------------------------------------------------------------- */

int tpl_builtin_find(const tpl_builtin *table, const char *name, size_t len)
{
    for (int i = 0; table[i].name; i++)
        if (strlen(table[i].name) == len && memcmp(table[i].name, name, len) == 0)
            return i;
    return -1;
}

int tpl_builtin_param(const tpl_builtin *b, const char *name, size_t len)
{
    for (int i = 0; b->params[i]; i++)
        if (strlen(b->params[i]) == len && memcmp(b->params[i], name, len) == 0)
            return i;
    return -1;
}
