/* str_methods.c — the methods of Str, character indexing (s[i]) and the
 * global builtins chr() and ord().
 *
 * A Str is immutable UTF-8.  len() counts bytes, while s[i], slice() and
 * split("") count characters (code points), as the reference does;
 * index_of() answers a byte offset.  Case mapping and letter classes come
 * from the C library's C.UTF-8 locale, so they cover all of Unicode but map
 * one character to one ("ß".upper() stays "ß"), and only ASCII digits count
 * as digits.  Whitespace is Unicode's White_Space set, as Rust's trim() uses.
 */
#include <ctype.h>
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wctype.h>

#include <gmp.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "vm.h"

/* ---- UTF-8 ------------------------------------------------------------------- */

/* Decode the character at s[*i] and step past it.  Tolerates bad input (a
 * stray byte decodes as itself) so that no read goes past len. */
static uint32_t u8_next(const char *s, size_t len, size_t *i)
{
    const unsigned char *p = (const unsigned char *)s + *i;
    uint32_t c = p[0];
    size_t n = c < 0xC0 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (n == 1 || *i + n > len) {
        (*i)++;
        return c;
    }
    *i += n;
    if (n == 2)
        return ((c & 0x1F) << 6) | (p[1] & 0x3F);
    if (n == 3)
        return ((c & 0x0F) << 12) | ((p[1] & 0x3F) << 6) | (p[2] & 0x3F);
    return ((c & 0x07) << 18) | ((p[1] & 0x3F) << 12) | ((p[2] & 0x3F) << 6) | (p[3] & 0x3F);
}

static void u8_put(qbuf *b, uint32_t c)
{
    char t[4];
    size_t n;
    if (c < 0x80) {
        t[0] = (char)c;
        n = 1;
    } else if (c < 0x800) {
        t[0] = (char)(0xC0 | (c >> 6));
        t[1] = (char)(0x80 | (c & 0x3F));
        n = 2;
    } else if (c < 0x10000) {
        t[0] = (char)(0xE0 | (c >> 12));
        t[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        t[2] = (char)(0x80 | (c & 0x3F));
        n = 3;
    } else {
        t[0] = (char)(0xF0 | (c >> 18));
        t[1] = (char)(0x80 | ((c >> 12) & 0x3F));
        t[2] = (char)(0x80 | ((c >> 6) & 0x3F));
        t[3] = (char)(0x80 | (c & 0x3F));
        n = 4;
    }
    buf_append(b, t, n);
}

bool utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        unsigned char c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint32_t cp, min;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 2; cp = c & 0x1F; min = 0x80;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 3; cp = c & 0x0F; min = 0x800;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 4; cp = c & 0x07; min = 0x10000;
        } else {
            return false;
        }
        if (i + n > len)
            return false;
        for (size_t k = 1; k < n; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += n;
    }
    return true;
}

/* ---- character classes ---------------------------------------------------------- */

/* The C.UTF-8 locale object is the only process-wide state here: created
 * once, never modified, shared by every VM (like the built-in tables). */
static pthread_once_t ctype_once = PTHREAD_ONCE_INIT;
static locale_t ctype_loc;

static void cp_init(void)
{
    ctype_loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

/* NULL when the locale is missing: non-ASCII characters then have no case
 * and no class. */
static locale_t cp_locale(void)
{
    pthread_once(&ctype_once, cp_init);
    return ctype_loc;
}

static uint32_t cp_upper(uint32_t c)
{
    if (c < 0x80)
        return c >= 'a' && c <= 'z' ? c - 32 : c;
    locale_t l = cp_locale();
    return l ? (uint32_t)towupper_l((wint_t)c, l) : c;
}

static uint32_t cp_lower(uint32_t c)
{
    if (c < 0x80)
        return c >= 'A' && c <= 'Z' ? c + 32 : c;
    locale_t l = cp_locale();
    return l ? (uint32_t)towlower_l((wint_t)c, l) : c;
}

static bool cp_is_digit(uint32_t c)
{
    return c >= '0' && c <= '9';
}

static bool cp_is_alpha(uint32_t c)
{
    if (c < 0x80)
        return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
    locale_t l = cp_locale();
    return l && iswalpha_l((wint_t)c, l);
}

static bool cp_is_alnum(uint32_t c)
{
    return cp_is_alpha(c) || cp_is_digit(c);
}

static bool cp_is_upper(uint32_t c)
{
    if (c < 0x80)
        return c >= 'A' && c <= 'Z';
    locale_t l = cp_locale();
    return l && iswupper_l((wint_t)c, l);
}

static bool cp_is_lower(uint32_t c)
{
    if (c < 0x80)
        return c >= 'a' && c <= 'z';
    locale_t l = cp_locale();
    return l && iswlower_l((wint_t)c, l);
}

/* Unicode White_Space. */
static bool cp_is_space(uint32_t c)
{
    if (c < 0x80)
        return c == ' ' || (c >= 0x09 && c <= 0x0D);
    return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) ||
           c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

/* ---- small helpers -------------------------------------------------------------- */

static qval str_val(qvm *vm, const char *p, size_t n)
{
    return qv_obj(str_new(vm, p, n));
}

/* A finished buffer as a Str (a Str holds at most 4 GiB). */
static qval str_from_buf(qvm *vm, qbuf *b)
{
    if (b->len > UINT32_MAX) {
        buf_free(b);
        return vm_raise(vm, E_VALUE, "resulting string is too large");
    }
    return qv_obj(buf_to_str(vm, b));
}

/* An index or count: Int, or a Float truncated as the reference does. */
static bool str_arg_int(qvm *vm, const char *fname, qval v, int64_t *out)
{
    if (IS_FLOAT(v) && isfinite(v.as.f)) {
        *out = (int64_t)v.as.f;
        return true;
    }
    return arg_int(vm, fname, v, out);
}

/* The [from, to) byte range of s without leading / trailing whitespace. */
static void str_trim_span(const qstr *s, bool left, bool right, size_t *from, size_t *to)
{
    size_t first = s->len, end = 0;
    for (size_t i = 0; i < s->len;) {
        size_t at = i;
        if (!cp_is_space(u8_next(s->data, s->len, &i))) {
            if (first == s->len)
                first = at;
            end = i;
        }
    }
    if (first == s->len) {
        *from = *to = 0;
        return;
    }
    *from = left ? first : 0;
    *to = right ? end : s->len;
}

/* Byte offset of the character at index i (which may be negative from the
 * end), clamped to the string, as slice() wants it. */
static size_t str_clamp_offset(const qstr *s, int64_t i)
{
    int64_t n = s->nchars;
    if (i < 0)
        i = i + n < 0 ? 0 : i + n;
    if (i > n)
        i = n;
    return str_char_offset(s, (uint32_t)i);
}

/* ---- basics --------------------------------------------------------------------- */

static qval str_len(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return qv_int(AS_STR(self)->len);
}

static qval str_concat(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qstr *s = AS_STR(self), *o = vm_to_str(vm, argv[0]);
    if (!o)
        return qv_exc();
    qbuf b;
    buf_init(&b);
    buf_append(&b, s->data, s->len);
    buf_append(&b, o->data, o->len);
    return str_from_buf(vm, &b);
}

static qval str_eq(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc;
    return qv_bool(IS_STR(argv[0]) && str_equal(AS_STR(self), AS_STR(argv[0])));
}

static qval str_neq(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc;
    return qv_bool(!IS_STR(argv[0]) || !str_equal(AS_STR(self), AS_STR(argv[0])));
}

static qval str_repeat(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qstr *s = AS_STR(self);
    int64_t n;
    if (!arg_int(vm, "Str.repeat", argv[0], &n))
        return qv_exc();
    if (n < 0)
        return vm_raise(vm, E_VALUE, "repeat count must be non-negative");
    if (s->len && (uint64_t)n > UINT32_MAX / s->len)
        return vm_raise(vm, E_VALUE, "resulting string is too large");
    qbuf b;
    buf_init(&b);
    for (int64_t k = 0; k < n; k++)
        buf_append(&b, s->data, s->len);
    return str_from_buf(vm, &b);
}

static qval str_bytes(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    qstr *s = AS_STR(self);
    return qv_obj(bytes_new(vm, s->data, s->len));
}

static qval str_ord(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    qstr *s = AS_STR(self);
    if (!s->len)
        return vm_raise(vm, E_VALUE, "ord requires non-empty string");
    size_t i = 0;
    return qv_int(u8_next(s->data, s->len, &i));
}

static qval str_fmt(qvm *vm, qval self, int argc, qval *argv)
{
    return str_format(vm, AS_STR(self), argc, argv);
}

/* ---- case --------------------------------------------------------------------- */

typedef enum { CASE_UPPER, CASE_LOWER, CASE_CAPITALIZE, CASE_TITLE } case_mode;

static qval str_case(qvm *vm, qstr *s, case_mode mode)
{
    qbuf b;
    buf_init(&b);
    bool start = true; /* at the start of the string (capitalize) or a word (title) */
    for (size_t i = 0; i < s->len;) {
        uint32_t c = u8_next(s->data, s->len, &i);
        bool up = mode == CASE_UPPER || ((mode == CASE_CAPITALIZE || mode == CASE_TITLE) && start);
        if (mode == CASE_CAPITALIZE)
            start = false;
        else if (mode == CASE_TITLE)
            start = cp_is_space(c);
        u8_put(&b, up ? cp_upper(c) : cp_lower(c));
    }
    return str_from_buf(vm, &b);
}

static qval str_upper(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return str_case(vm, AS_STR(self), CASE_UPPER);
}

static qval str_lower(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return str_case(vm, AS_STR(self), CASE_LOWER);
}

static qval str_capitalize(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return str_case(vm, AS_STR(self), CASE_CAPITALIZE);
}

static qval str_title(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return str_case(vm, AS_STR(self), CASE_TITLE);
}

/* ---- trimming ---------------------------------------------------------------------- */

static qval str_trim_with(qvm *vm, qval self, bool left, bool right)
{
    qstr *s = AS_STR(self);
    size_t from, to;
    str_trim_span(s, left, right, &from, &to);
    if (from == 0 && to == s->len)
        return self;
    return str_val(vm, s->data + from, to - from);
}

static qval str_trim(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return str_trim_with(vm, self, true, true);
}

static qval str_ltrim(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return str_trim_with(vm, self, true, false);
}

static qval str_rtrim(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return str_trim_with(vm, self, false, true);
}

/* ---- predicates ---------------------------------------------------------------- */

/* True when s is not empty and every character satisfies pred. */
static qval str_all(qval self, bool (*pred)(uint32_t))
{
    qstr *s = AS_STR(self);
    if (!s->len)
        return qv_bool(false);
    for (size_t i = 0; i < s->len;)
        if (!pred(u8_next(s->data, s->len, &i)))
            return qv_bool(false);
    return qv_bool(true);
}

static qval str_isalnum(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return str_all(self, cp_is_alnum);
}

static qval str_isalpha(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return str_all(self, cp_is_alpha);
}

/* isdigit, isdecimal and isnumeric agree: only ASCII digits are digits here
 * (see the header comment). */
static qval str_isdigit(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return str_all(self, cp_is_digit);
}

static qval str_isspace(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return str_all(self, cp_is_space);
}

static qval str_isascii(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    qstr *s = AS_STR(self);
    for (size_t i = 0; i < s->len; i++)
        if ((unsigned char)s->data[i] >= 0x80)
            return qv_bool(false);
    return qv_bool(true);
}

/* islower/isupper: at least one letter, and every letter in that case. */
static qval str_all_letters(qval self, bool (*pred)(uint32_t))
{
    qstr *s = AS_STR(self);
    bool any = false;
    for (size_t i = 0; i < s->len;) {
        uint32_t c = u8_next(s->data, s->len, &i);
        if (cp_is_alpha(c)) {
            if (!pred(c))
                return qv_bool(false);
            any = true;
        }
    }
    return qv_bool(any);
}

static qval str_islower(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return str_all_letters(self, cp_is_lower);
}

static qval str_isupper(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return str_all_letters(self, cp_is_upper);
}

/* Every run of letters starts upper-case and continues lower-case; any
 * non-letter separates words ("Hello-World", "Test123"). */
static qval str_istitle(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    qstr *s = AS_STR(self);
    bool in_word = false, any = false;
    for (size_t i = 0; i < s->len;) {
        uint32_t c = u8_next(s->data, s->len, &i);
        if (!cp_is_alpha(c)) {
            in_word = false;
            continue;
        }
        if (in_word ? cp_is_upper(c) : !cp_is_upper(c))
            return qv_bool(false);
        in_word = any = true;
    }
    return qv_bool(any);
}

/* ---- searching ---------------------------------------------------------------------- */

static qval str_contains(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qstr *s = AS_STR(self), *sub;
    if (!arg_str(vm, "Str.contains", argv[0], &sub))
        return qv_exc();
    return qv_bool(memmem(s->data, s->len, sub->data, sub->len) != NULL);
}

static bool str_starts(const qstr *s, const qstr *p)
{
    return p->len <= s->len && memcmp(s->data, p->data, p->len) == 0;
}

static bool str_ends(const qstr *s, const qstr *p)
{
    return p->len <= s->len && memcmp(s->data + s->len - p->len, p->data, p->len) == 0;
}

static qval str_startswith(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qstr *p;
    if (!arg_str(vm, "Str.startswith", argv[0], &p))
        return qv_exc();
    return qv_bool(str_starts(AS_STR(self), p));
}

static qval str_endswith(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qstr *p;
    if (!arg_str(vm, "Str.endswith", argv[0], &p))
        return qv_exc();
    return qv_bool(str_ends(AS_STR(self), p));
}

static qval str_index_of(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qstr *s = AS_STR(self), *sub;
    if (!arg_str(vm, "Str.index_of", argv[0], &sub))
        return qv_exc();
    const char *at = memmem(s->data, s->len, sub->data, sub->len);
    return qv_int(at ? at - s->data : -1);
}

/* Non-overlapping occurrences; the empty string occurs between every two
 * characters and at both ends. */
static qval str_count(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qstr *s = AS_STR(self), *sub;
    if (!arg_str(vm, "Str.count", argv[0], &sub))
        return qv_exc();
    if (!sub->len)
        return qv_int((int64_t)s->nchars + 1);
    int64_t n = 0;
    const char *p = s->data, *end = s->data + s->len;
    for (const char *at; (at = memmem(p, (size_t)(end - p), sub->data, sub->len)); p = at + sub->len)
        n++;
    return qv_int(n);
}

/* ---- splitting, slicing, replacing ------------------------------------------------------ */

static qval str_chars(qvm *vm, qstr *s)
{
    qarray *a = arr_new(vm, s->nchars);
    for (size_t i = 0; i < s->len;) {
        size_t at = i;
        u8_next(s->data, s->len, &i);
        arr_push(vm, a, str_val(vm, s->data + at, i - at));
    }
    return qv_obj(a);
}

static qval str_split(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qstr *s = AS_STR(self), *sep;
    if (!arg_str(vm, "Str.split", argv[0], &sep))
        return qv_exc();
    if (!sep->len)
        return str_chars(vm, s);
    qarray *a = arr_new(vm, 0);
    const char *p = s->data, *end = s->data + s->len;
    for (const char *at; (at = memmem(p, (size_t)(end - p), sep->data, sep->len)); p = at + sep->len)
        arr_push(vm, a, str_val(vm, p, (size_t)(at - p)));
    arr_push(vm, a, str_val(vm, p, (size_t)(end - p)));
    return qv_obj(a);
}

/* slice(a, b): characters a..b-1; negative indexes count from the end;
 * both are clamped, and a > b gives "". */
static qval str_slice(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qstr *s = AS_STR(self);
    int64_t a, b;
    if (!str_arg_int(vm, "Str.slice", argv[0], &a) || !str_arg_int(vm, "Str.slice", argv[1], &b))
        return qv_exc();
    size_t from = str_clamp_offset(s, a), to = str_clamp_offset(s, b);
    return str_val(vm, s->data + from, from < to ? to - from : 0);
}

/* replace(old, new): every occurrence; an empty `old` inserts `new` around
 * every character. */
static qval str_replace(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qstr *s = AS_STR(self), *old, *rep;
    if (!arg_str(vm, "Str.replace", argv[0], &old) || !arg_str(vm, "Str.replace", argv[1], &rep))
        return qv_exc();
    qbuf b;
    buf_init(&b);
    if (!old->len) {
        if ((uint64_t)rep->len * (s->nchars + 1) + s->len > UINT32_MAX)
            return vm_raise(vm, E_VALUE, "resulting string is too large");
        buf_append(&b, rep->data, rep->len);
        for (size_t i = 0; i < s->len;) {
            size_t at = i;
            u8_next(s->data, s->len, &i);
            buf_append(&b, s->data + at, i - at);
            buf_append(&b, rep->data, rep->len);
        }
        return str_from_buf(vm, &b);
    }
    const char *p = s->data, *end = s->data + s->len;
    for (const char *at; (at = memmem(p, (size_t)(end - p), old->data, old->len)); p = at + old->len) {
        buf_append(&b, p, (size_t)(at - p));
        buf_append(&b, rep->data, rep->len);
        if (b.len > UINT32_MAX)
            break;
    }
    buf_append(&b, p, (size_t)(end - p));
    return str_from_buf(vm, &b);
}

/* expandtabs([size=8]): tabs become spaces up to the next multiple of size
 * (columns restart after \n and \r); size <= 0 removes tabs. */
static qval str_expandtabs(qvm *vm, qval self, int argc, qval *argv)
{
    qstr *s = AS_STR(self);
    int64_t size = 8;
    if (argc > 0 && !str_arg_int(vm, "Str.expandtabs", argv[0], &size))
        return qv_exc();
    qbuf b;
    buf_init(&b);
    int64_t col = 0;
    for (size_t i = 0; i < s->len;) {
        size_t at = i;
        uint32_t c = u8_next(s->data, s->len, &i);
        if (c == '\t') {
            int64_t n = size > 0 ? size - col % size : 0;
            if (b.len + (uint64_t)n > UINT32_MAX) {
                buf_free(&b);
                return vm_raise(vm, E_VALUE, "resulting string is too large");
            }
            for (int64_t k = 0; k < n; k++)
                buf_putc(&b, ' ');
            col += n;
        } else {
            buf_append(&b, s->data + at, i - at);
            col = c == '\n' || c == '\r' ? 0 : col + 1;
        }
    }
    return str_from_buf(vm, &b);
}

/* ---- encodings -------------------------------------------------------------------------- */

/* Base64 is small enough to write out: OpenSSL's block codec accepts
 * malformed input silently and has no URL-safe alphabet. */
static const char B64_STD[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char B64_URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void b64_encode(qbuf *b, const unsigned char *p, size_t n, const char *alpha, bool pad)
{
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        size_t out = n - i >= 3 ? 4 : n - i + 1;
        for (size_t k = 0; k < 4; k++) {
            if (k < out)
                buf_putc(b, alpha[(v >> (18 - 6 * k)) & 0x3F]);
            else if (pad)
                buf_putc(b, '=');
        }
    }
}

static int b64_value(char c, const char *alpha)
{
    const char *at = c ? strchr(alpha, c) : NULL;
    return at ? (int)(at - alpha) : -1;
}

/* Padding is optional, but when present it must complete the last group. */
static bool b64_decode(qbuf *b, const char *s, size_t n, const char *alpha)
{
    if (n % 4 == 0 && n && s[n - 1] == '=')
        n -= s[n - 2] == '=' ? 2 : 1;
    if (n % 4 == 1)
        return false;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_value(s[i], alpha);
        if (v < 0)
            return false;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf_putc(b, (char)((acc >> bits) & 0xFF));
        }
    }
    return true;
}

static void hex_encode(qbuf *b, const unsigned char *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        buf_putc(b, digits[p[i] >> 4]);
        buf_putc(b, digits[p[i] & 15]);
    }
}

static bool hex_decode(qbuf *b, const char *s, size_t n)
{
    if (n % 2)
        return false;
    for (size_t i = 0; i < n; i += 2) {
        int hi = hex_digit_value(s[i]), lo = hex_digit_value(s[i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        buf_putc(b, (char)(hi << 4 | lo));
    }
    return true;
}

static bool str_is(const qstr *s, const char *a, const char *b)
{
    return strcmp(s->data, a) == 0 || (b && strcmp(s->data, b) == 0);
}

static qval str_encode(qvm *vm, qval self, int argc, qval *argv)
{
    qstr *s = AS_STR(self), *enc = NULL;
    if (argc > 0 && !arg_str(vm, "Str.encode", argv[0], &enc))
        return qv_exc();
    const unsigned char *p = (const unsigned char *)s->data;
    qbuf b;
    buf_init(&b);
    if (!enc || str_is(enc, "utf-8", "utf8")) {
        buf_putc(&b, '[');
        for (size_t i = 0; i < s->len; i++)
            buf_printf(&b, i ? ", %u" : "%u", p[i]);
        buf_putc(&b, ']');
    } else if (str_is(enc, "hex", NULL)) {
        hex_encode(&b, p, s->len);
    } else if (str_is(enc, "b64", "base64")) {
        b64_encode(&b, p, s->len, B64_STD, true);
    } else if (str_is(enc, "b64url", "base64url")) {
        b64_encode(&b, p, s->len, B64_URL, false);
    } else {
        return vm_raise(vm, E_ARG, "Unknown encoding: %s. Supported: utf-8, hex, b64, b64url",
                        enc->data);
    }
    return str_from_buf(vm, &b);
}

static qval str_decode(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qstr *s = AS_STR(self), *enc;
    if (!arg_str(vm, "Str.decode", argv[0], &enc))
        return qv_exc();
    qbuf b;
    buf_init(&b);
    bool ok;
    const char *what;
    if (str_is(enc, "b64", "base64")) {
        ok = b64_decode(&b, s->data, s->len, B64_STD);
        what = "Base64";
    } else if (str_is(enc, "b64url", "base64url")) {
        ok = b64_decode(&b, s->data, s->len, B64_URL);
        what = "Base64";
    } else if (str_is(enc, "hex", NULL)) {
        ok = hex_decode(&b, s->data, s->len);
        what = "Hex";
    } else {
        return vm_raise(vm, E_ARG, "Unknown encoding: %s. Supported: b64, b64url, hex", enc->data);
    }
    if (!ok) {
        buf_free(&b);
        return vm_raise(vm, E_VALUE, "%s decode error: invalid input", what);
    }
    if (!utf8_valid(b.data, b.len)) {
        buf_free(&b);
        return vm_raise(vm, E_VALUE, "Invalid UTF-8 in decoded data");
    }
    return str_from_buf(vm, &b);
}

static qval str_hash(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qstr *s = AS_STR(self), *alg;
    if (!arg_str(vm, "Str.hash", argv[0], &alg))
        return qv_exc();
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    const EVP_MD *type = str_is(alg, "md5", NULL) ? EVP_md5()
                       : str_is(alg, "sha1", NULL) ? EVP_sha1()
                       : str_is(alg, "sha256", NULL) ? EVP_sha256()
                       : str_is(alg, "sha512", NULL) ? EVP_sha512()
                       : NULL;
    if (type) {
        if (!EVP_Digest(s->data, s->len, md, &mdlen, type, NULL))
            return vm_raise(vm, E_RUNTIME, "hash %s failed", alg->data);
    } else if (str_is(alg, "crc32", NULL)) {
        uLong crc = crc32(0L, (const Bytef *)s->data, (uInt)s->len);
        return qv_obj(str_printf(vm, "%08lx", (unsigned long)crc));
    } else {
        return vm_raise(vm, E_ARG,
                        "Unknown hash algorithm '%s'. Supported: md5, sha1, sha256, sha512, crc32",
                        alg->data);
    }
    qbuf b;
    buf_init(&b);
    hex_encode(&b, md, mdlen);
    return str_from_buf(vm, &b);
}

/* _url_decode(): %XX escapes to bytes (no '+' to space).  A result that is
 * not UTF-8 keeps each byte as the character of that code (Latin-1), as the
 * reference does for every escape. */
static qval str_url_decode(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    qstr *s = AS_STR(self);
    qbuf b;
    buf_init(&b);
    for (size_t i = 0; i < s->len; i++) {
        int hi, lo;
        if (s->data[i] == '%' && i + 2 < s->len && (hi = hex_digit_value(s->data[i + 1])) >= 0 && (lo = hex_digit_value(s->data[i + 2])) >= 0) {
            buf_putc(&b, (char)(hi << 4 | lo));
            i += 2;
        } else {
            buf_putc(&b, s->data[i]);
        }
    }
    if (!utf8_valid(b.data, b.len)) {
        qbuf latin;
        buf_init(&latin);
        for (size_t i = 0; i < b.len; i++)
            u8_put(&latin, (unsigned char)b.data[i]);
        buf_free(&b);
        b = latin;
    }
    return str_from_buf(vm, &b);
}

/* ---- conversions ------------------------------------------------------------------------- */

static int digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'z' ? c - 'a' + 10 : 99;
}

/* The literal syntax to_int and to_bigint accept: an optional sign, an
 * optional 0x/0b/0o prefix, then digits of that base with '_' anywhere
 * between them.  Fills `digits` with the bare digits. */
static bool str_scan_int(const char *p, size_t n, bool *neg, int *base, qbuf *digits)
{
    size_t i = 0;
    *neg = false;
    *base = 10;
    if (i < n && (p[i] == '+' || p[i] == '-'))
        *neg = p[i++] == '-';
    if (n - i > 2 && p[i] == '0') {
        char c = (char)(p[i + 1] | 0x20);
        *base = c == 'x' ? 16 : c == 'b' ? 2 : c == 'o' ? 8 : 10;
        if (*base != 10)
            i += 2;
    }
    for (; i < n; i++) {
        if (p[i] == '_' && digits->len)
            continue;
        if (digit_value(p[i]) >= *base)
            return false;
        buf_putc(digits, p[i]);
    }
    return digits->len > 0;
}

static qval str_to_int(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    qstr *s = AS_STR(self);
    size_t from, to;
    str_trim_span(s, true, true, &from, &to);
    bool neg;
    int base;
    qbuf d;
    buf_init(&d);
    bool ok = str_scan_int(s->data + from, to - from, &neg, &base, &d);
    uint64_t v = 0;
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (size_t i = 0; ok && i < d.len; i++) {
        uint64_t dv = (uint64_t)digit_value(d.data[i]);
        if (v > (limit - dv) / (uint64_t)base)
            ok = false;
        else
            v = v * (uint64_t)base + dv;
    }
    buf_free(&d);
    if (!ok)
        return vm_raise(vm, E_VALUE, "Invalid integer '%s'", s->data);
    return qv_int(neg ? (int64_t)(0 - v) : (int64_t)v);
}

static qval str_to_bigint(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    qstr *s = AS_STR(self);
    size_t from, to;
    str_trim_span(s, true, true, &from, &to);
    if (to > from && s->data[to - 1] == 'n')
        to--;
    bool neg;
    int base;
    qbuf d;
    buf_init(&d);
    if (!str_scan_int(s->data + from, to - from, &neg, &base, &d)) {
        buf_free(&d);
        return vm_raise(vm, E_VALUE, "Invalid bigint '%s'", s->data);
    }
    /* Hand BigInt plain decimal digits, whatever base we were given. */
    mpz_t z;
    mpz_init_set_str(z, d.data, base);
    if (neg)
        mpz_neg(z, z);
    char *dec = malloc(mpz_sizeinbase(z, 10) + 2);
    if (!dec)
        abort();
    mpz_get_str(dec, 10, z);
    mpz_clear(z);
    buf_free(&d);
    qval r = bigint_from_cstr(vm, dec);
    free(dec);
    return r;
}

/* Rust's f64 syntax: sign, digits with an optional fraction and exponent,
 * or inf / infinity / nan in any case.  No hex floats. */
static bool str_float_syntax(const char *p)
{
    if (*p == '+' || *p == '-')
        p++;
    if (!strcasecmp(p, "inf") || !strcasecmp(p, "infinity") || !strcasecmp(p, "nan"))
        return true;
    size_t nd = strspn(p, "0123456789");
    p += nd;
    if (*p == '.') {
        size_t nf = strspn(p + 1, "0123456789");
        nd += nf;
        p += 1 + nf;
    }
    if (!nd)
        return false;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        size_t ne = strspn(p, "0123456789");
        if (!ne)
            return false;
        p += ne;
    }
    return *p == 0;
}

static qval str_to_float(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    qstr *s = AS_STR(self);
    size_t from, to;
    str_trim_span(s, true, true, &from, &to);
    qbuf t;
    buf_init(&t);
    for (size_t i = from; i < to; i++)
        if (s->data[i] != '_')
            buf_putc(&t, s->data[i]);
    bool ok = t.len && !memchr(t.data, 0, t.len) && str_float_syntax(t.data);
    double f = ok ? strtod(t.data, NULL) : 0;
    buf_free(&t);
    if (!ok)
        return vm_raise(vm, E_VALUE, "Invalid float '%s'", s->data);
    return qv_float(f);
}

static qval str_to_decimal(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    qstr *s = AS_STR(self);
    size_t from, to;
    str_trim_span(s, true, true, &from, &to);
    if (memchr(s->data, 0, s->len))
        return vm_raise(vm, E_VALUE, "Invalid decimal '%s'", s->data);
    qbuf t;
    buf_init(&t);
    buf_append(&t, s->data + from, to - from);
    qval r = decimal_from_cstr(vm, t.data);
    buf_free(&t);
    return r;
}

/* ---- s[i] ----------------------------------------------------------------------------- */

/* An Int index, or a BigInt that fits in one. */
static bool index_arg(qvm *vm, const char *what, qval index, int64_t *out)
{
    if (IS_INT(index)) {
        *out = index.as.i;
        return true;
    }
    if (IS_BIGINT(index)) {
        mpz_srcptr z = AS_BIGINT(index)->mp;
        if (!mpz_fits_slong_p(z)) {
            vm_raise(vm, E_INDEX, "Index too large (must fit in Int)");
            return false;
        }
        *out = mpz_get_si(z);
        return true;
    }
    vm_raise(vm, E_TYPE, "%s index must be Int, got: %s", what, vm_cls_name(index));
    return false;
}

int64_t index_check(qvm *vm, const char *what, qval index, int64_t n)
{
    int64_t i;
    if (!index_arg(vm, what, index, &i))
        return -1;
    int64_t at = i < 0 ? i + n : i;
    if (at >= 0 && at < n)
        return at;
    if (n == 0)
        vm_raise(vm, E_INDEX, "%s index out of bounds: %" PRId64 " (%c%s is empty)", what, i,
                 tolower((unsigned char)what[0]), what + 1);
    else
        vm_raise(vm, E_INDEX,
                 "%s index out of bounds: %" PRId64 " (valid: 0..%" PRId64 " or -%" PRId64 "..-1)",
                 what, i, n - 1, n);
    return -1;
}

qval str_index(qvm *vm, qstr *s, qval index)
{
    int64_t at = index_check(vm, "String", index, s->nchars);
    if (at < 0)
        return qv_exc();
    size_t off = str_char_offset(s, (uint32_t)at), end = off;
    u8_next(s->data, s->len, &end);
    return str_val(vm, s->data + off, end - off);
}

/* ---- chr and ord --------------------------------------------------------------------------- */

static qval builtin_chr(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    int64_t cp;
    if (!str_arg_int(vm, "chr", argv[0], &cp))
        return qv_exc();
    if (cp < 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return vm_raise(vm, E_VALUE, "Invalid Unicode codepoint: %" PRId64, cp);
    qbuf b;
    buf_init(&b);
    u8_put(&b, (uint32_t)cp);
    return str_from_buf(vm, &b);
}

static qval builtin_ord(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    qstr *s;
    if (!arg_str(vm, "ord", argv[0], &s))
        return qv_exc();
    if (!s->len)
        return vm_raise(vm, E_VALUE, "ord expects non-empty string");
    size_t i = 0;
    return qv_int(u8_next(s->data, s->len, &i));
}

void str_register_builtins(qvm *vm, qdict *builtins)
{
    dict_set(vm, builtins, str_intern_cstr(vm, "chr"),
             qv_obj(native_new(vm, "chr", builtin_chr, 1, 1)));
    dict_set(vm, builtins, str_intern_cstr(vm, "ord"),
             qv_obj(native_new(vm, "ord", builtin_ord, 1, 1)));
}

/* ---- registration ------------------------------------------------------------------------- */

static const qmethod_def str_method_defs[] = {
    {"len", str_len, 0, 0, false},
    {"concat", str_concat, 1, 1, false},
    {"eq", str_eq, 1, 1, false},
    {"neq", str_neq, 1, 1, false},
    {"repeat", str_repeat, 1, 1, false},
    {"bytes", str_bytes, 0, 0, false},
    {"ord", str_ord, 0, 0, false},
    {"fmt", str_fmt, 0, -1, false},
    {"upper", str_upper, 0, 0, false},
    {"lower", str_lower, 0, 0, false},
    {"capitalize", str_capitalize, 0, 0, false},
    {"title", str_title, 0, 0, false},
    {"trim", str_trim, 0, 0, false},
    {"ltrim", str_ltrim, 0, 0, false},
    {"rtrim", str_rtrim, 0, 0, false},
    {"isalnum", str_isalnum, 0, 0, false},
    {"isalpha", str_isalpha, 0, 0, false},
    {"isascii", str_isascii, 0, 0, false},
    {"isdigit", str_isdigit, 0, 0, false},
    {"isdecimal", str_isdigit, 0, 0, false},
    {"isnumeric", str_isdigit, 0, 0, false},
    {"isspace", str_isspace, 0, 0, false},
    {"islower", str_islower, 0, 0, false},
    {"isupper", str_isupper, 0, 0, false},
    {"istitle", str_istitle, 0, 0, false},
    {"contains", str_contains, 1, 1, false},
    {"startswith", str_startswith, 1, 1, false},
    {"starts_with", str_startswith, 1, 1, false},
    {"endswith", str_endswith, 1, 1, false},
    {"ends_with", str_endswith, 1, 1, false},
    {"index_of", str_index_of, 1, 1, false},
    {"count", str_count, 1, 1, false},
    {"split", str_split, 1, 1, false},
    {"slice", str_slice, 2, 2, false},
    {"replace", str_replace, 2, 2, false},
    {"expandtabs", str_expandtabs, 0, 1, false},
    {"encode", str_encode, 0, 1, false},
    {"decode", str_decode, 1, 1, false},
    {"hash", str_hash, 1, 1, false},
    {"_url_decode", str_url_decode, 0, 0, false},
    {"to_int", str_to_int, 0, 0, false},
    {"to_float", str_to_float, 0, 0, false},
    {"to_decimal", str_to_decimal, 0, 0, false},
    {"to_bigint", str_to_bigint, 0, 0, false},
    {0},
};

void str_init_class(qvm *vm, qtype *t)
{
    vm_add_methods(vm, t, str_method_defs);
}
