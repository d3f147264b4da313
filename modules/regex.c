/* regex.c — std/regex: regular expressions on PCRE2.
 *
 * Every function takes the pattern as a string, as the reference does; a
 * pattern is compiled once and kept in a small per-VM cache, so a loop that
 * reuses a pattern does not recompile it.  Patterns follow the reference
 * (Rust's regex crate) where the two differ by default: UTF-8 text, Unicode
 * classes (\d, \w, \s match beyond ASCII) and a `$` that matches only at the
 * very end unless (?m) is given.  Inline flags (?i) (?m) (?s) (?x) work.
 *
 * Replacement strings expand $0..$99 and ${n} to numbered groups, $name and
 * ${name} to named ones and $$ to a dollar sign; a group that does not exist
 * or did not take part in the match expands to nothing.
 *
 * A bad pattern raises ValueErr with PCRE2's reason and where it is; a
 * match that backtracks past PCRE2's limits raises RuntimeErr rather than
 * running for ever.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "modules/modules.h"

#define RX_CACHE_SIZE 32

typedef struct rx_entry {
    char *pattern;
    size_t len;
    pcre2_code *code;
} rx_entry;

/* The cache: a ring of compiled patterns, the oldest replaced first. */
typedef struct rx_state {
    rx_entry cache[RX_CACHE_SIZE];
    unsigned next;
} rx_state;

static void rx_state_free(void *p)
{
    rx_state *st = p;
    for (int i = 0; i < RX_CACHE_SIZE; i++) {
        free(st->cache[i].pattern);
        pcre2_code_free(st->cache[i].code);
    }
    free(st);
}

static const qcdata_class rx_state_class = {"RegexCache", rx_state_free, NULL, NULL};

static pcre2_code *rx_compile_raw(const qstr *pattern, char *err, size_t errlen)
{
    int code;
    PCRE2_SIZE offset;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern->data, pattern->len,
                                   PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY, &code, &offset, NULL);
    if (!re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof msg);
        snprintf(err, errlen, "%s at offset %zu", (const char *)msg, (size_t)offset);
        return NULL;
    }
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* optional: interpreted if JIT is unavailable */
    return re;
}

/* The compiled pattern, from the cache or compiled now; NULL after raising. */
static pcre2_code *rx_get(qvm *vm, qval self, qval pattern, const char *fname)
{
    rx_state *st = AS_CDATA(self)->data;
    qstr *p;
    if (!arg_str(vm, fname, pattern, &p))
        return NULL;
    for (int i = 0; i < RX_CACHE_SIZE; i++) {
        rx_entry *e = &st->cache[i];
        if (e->code && e->len == p->len && memcmp(e->pattern, p->data, p->len) == 0)
            return e->code;
    }
    char err[320];
    pcre2_code *re = rx_compile_raw(p, err, sizeof err);
    if (!re) {
        vm_raise(vm, E_VALUE, "Invalid regex pattern: %s", err);
        return NULL;
    }
    char *copy = malloc(p->len + 1);
    if (!copy) {
        pcre2_code_free(re);
        vm_raise(vm, E_RUNTIME, "std/regex: out of memory");
        return NULL;
    }
    memcpy(copy, p->data, p->len + 1);
    rx_entry *e = &st->cache[st->next];
    st->next = (st->next + 1) % RX_CACHE_SIZE;
    free(e->pattern);
    pcre2_code_free(e->code);
    *e = (rx_entry){copy, p->len, re};
    return re;
}

/* ---- matching ------------------------------------------------------------------------------ */

/* Successive non-overlapping matches.  After an empty match the next one
 * may not be empty at the same place; failing that the search moves on by
 * one character (not one byte: the text is UTF-8). */
typedef struct rx_iter {
    const pcre2_code *re;
    pcre2_match_data *md;
    const qstr *text;
    size_t pos;
    bool prev_empty, done;
} rx_iter;

static bool rx_iter_init(qvm *vm, rx_iter *it, const pcre2_code *re, const qstr *text)
{
    *it = (rx_iter){re, pcre2_match_data_create_from_pattern(re, NULL), text, 0, false, false};
    if (!it->md)
        vm_raise(vm, E_RUNTIME, "std/regex: out of memory");
    return it->md != NULL;
}

static void rx_iter_free(rx_iter *it)
{
    pcre2_match_data_free(it->md);
}

/* 1 with the match in the ovector, 0 at the end, -1 after raising. */
static int rx_next(qvm *vm, rx_iter *it)
{
    const char *s = it->text->data;
    size_t len = it->text->len;
    while (!it->done) {
        uint32_t opts = PCRE2_NO_UTF_CHECK | (it->prev_empty ? PCRE2_NOTEMPTY_ATSTART | PCRE2_ANCHORED : 0);
        int rc = pcre2_match(it->re, (PCRE2_SPTR)s, len, it->pos, opts, it->md, NULL);
        if (rc == PCRE2_ERROR_NOMATCH) {
            if (!it->prev_empty || it->pos >= len) {
                it->done = true;
                return 0;
            }
            do
                it->pos++;
            while (it->pos < len && ((unsigned char)s[it->pos] & 0xC0) == 0x80);
            it->prev_empty = false;
            continue;
        }
        if (rc < 0) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(rc, msg, sizeof msg);
            vm_raise(vm, E_RUNTIME, "regex match failed: %s", (const char *)msg);
            return -1;
        }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(it->md);
        it->pos = ov[1];
        it->prev_empty = ov[0] == ov[1];
        return 1;
    }
    return 0;
}

static uint32_t rx_group_count(const pcre2_code *re)
{
    uint32_t n = 0;
    pcre2_pattern_info(re, PCRE2_INFO_CAPTURECOUNT, &n);
    return n;
}

/* Group g of the current match as a Str, nil when it did not take part. */
static qval rx_group(qvm *vm, const rx_iter *it, uint32_t g)
{
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(it->md);
    if (g >= pcre2_get_ovector_count(it->md) || ov[2 * g] == PCRE2_UNSET)
        return qv_nil();
    return qv_obj(str_new(vm, it->text->data + ov[2 * g], ov[2 * g + 1] - ov[2 * g]));
}

/* [whole match, group 1, group 2 ...] */
static qarray *rx_groups(qvm *vm, const rx_iter *it)
{
    uint32_t n = rx_group_count(it->re);
    qarray *a = arr_new(vm, n + 1);
    for (uint32_t g = 0; g <= n; g++)
        arr_push(vm, a, rx_group(vm, it, g));
    return a;
}

/* Set up an iterator over argv[1] for the pattern argv[0]. */
static bool rx_start(qvm *vm, qval self, qval *argv, const char *fname, rx_iter *it)
{
    pcre2_code *re = rx_get(vm, self, argv[0], fname);
    qstr *text;
    return re && arg_str(vm, fname, argv[1], &text) && rx_iter_init(vm, it, re, text);
}

/* ---- functions ---------------------------------------------------------------------------------- */

static qval rx_match(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    rx_iter it;
    if (!rx_start(vm, self, argv, "regex.match", &it))
        return qv_exc();
    int rc = rx_next(vm, &it);
    rx_iter_free(&it);
    return rc < 0 ? qv_exc() : qv_bool(rc > 0);
}

static qval rx_find(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    rx_iter it;
    if (!rx_start(vm, self, argv, "regex.find", &it))
        return qv_exc();
    int rc = rx_next(vm, &it);
    qval r = rc < 0 ? qv_exc() : rc == 0 ? qv_nil() : rx_group(vm, &it, 0);
    rx_iter_free(&it);
    return r;
}

/* find_all, captures_all: one item per match (the text, or its groups). */
static qval rx_collect(qvm *vm, qval self, qval *argv, const char *fname, bool groups)
{
    rx_iter it;
    if (!rx_start(vm, self, argv, fname, &it))
        return qv_exc();
    qarray *out = arr_new(vm, 0);
    int rc;
    while ((rc = rx_next(vm, &it)) > 0)
        arr_push(vm, out, groups ? qv_obj(rx_groups(vm, &it)) : rx_group(vm, &it, 0));
    rx_iter_free(&it);
    return rc < 0 ? qv_exc() : qv_obj(out);
}

static qval rx_find_all(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    return rx_collect(vm, self, argv, "regex.find_all", false);
}

static qval rx_captures_all(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    return rx_collect(vm, self, argv, "regex.captures_all", true);
}

static qval rx_captures(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    rx_iter it;
    if (!rx_start(vm, self, argv, "regex.captures", &it))
        return qv_exc();
    int rc = rx_next(vm, &it);
    qval r = rc < 0 ? qv_exc() : rc == 0 ? qv_nil() : qv_obj(rx_groups(vm, &it));
    rx_iter_free(&it);
    return r;
}

/* captures_named(pattern, text): {name: text or nil} for the first match. */
static qval rx_captures_named(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    rx_iter it;
    if (!rx_start(vm, self, argv, "regex.captures_named", &it))
        return qv_exc();
    int rc = rx_next(vm, &it);
    if (rc <= 0) {
        rx_iter_free(&it);
        return rc < 0 ? qv_exc() : qv_nil();
    }
    uint32_t count = 0, entry_size = 0;
    PCRE2_SPTR table = NULL;
    pcre2_pattern_info(it.re, PCRE2_INFO_NAMECOUNT, &count);
    pcre2_pattern_info(it.re, PCRE2_INFO_NAMEENTRYSIZE, &entry_size);
    pcre2_pattern_info(it.re, PCRE2_INFO_NAMETABLE, &table);
    /* The name table is sorted by name; the dict follows the pattern. */
    qdict *d = dict_new(vm);
    uint32_t groups = rx_group_count(it.re);
    for (uint32_t g = 1; g <= groups; g++) {
        for (uint32_t i = 0; i < count; i++) {
            PCRE2_SPTR e = table + i * entry_size;
            if ((uint32_t)(e[0] << 8 | e[1]) == g)
                dict_set_cstr(vm, d, (const char *)e + 2, rx_group(vm, &it, g));
        }
    }
    rx_iter_free(&it);
    return qv_obj(d);
}

/* Append the replacement for the current match, expanding $ references. */
static void rx_expand(const rx_iter *it, const qstr *rep, qbuf *b)
{
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(it->md);
    uint32_t nov = pcre2_get_ovector_count(it->md);
    const char *r = rep->data, *end = r + rep->len;
    while (r < end) {
        if (*r != '$' || r + 1 == end) {
            buf_putc(b, *r++);
            continue;
        }
        r++;
        if (*r == '$') {
            buf_putc(b, *r++);
            continue;
        }
        char name[64];
        size_t n = 0;
        bool braced = *r == '{';
        const char *p = r + braced;
        bool digits = *p >= '0' && *p <= '9';
        while (p < end && n < sizeof name - 1 &&
               (braced ? *p != '}'
                       : digits ? (*p >= '0' && *p <= '9')
                                : ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                                   (*p >= '0' && *p <= '9') || *p == '_')))
            name[n++] = *p++;
        name[n] = '\0';
        if (n == 0 || (braced && (p >= end || *p != '}'))) {
            buf_putc(b, '$'); /* not a reference: keep the dollar literally */
            continue;
        }
        r = p + braced;
        int g = name[0] >= '0' && name[0] <= '9' ? atoi(name)
                                                  : pcre2_substring_number_from_name(it->re, (PCRE2_SPTR)name);
        if (g >= 0 && (uint32_t)g < nov && ov[2 * g] != PCRE2_UNSET)
            buf_append(b, it->text->data + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
    }
}

static qval rx_sub(qvm *vm, qval self, qval *argv, const char *fname, bool all)
{
    qstr *rep;
    rx_iter it;
    if (!arg_str(vm, fname, argv[2], &rep) || !rx_start(vm, self, argv, fname, &it))
        return qv_exc();
    qbuf b;
    buf_init(&b);
    size_t copied = 0;
    int rc;
    while ((rc = rx_next(vm, &it)) > 0) {
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(it.md);
        buf_append(&b, it.text->data + copied, ov[0] - copied);
        rx_expand(&it, rep, &b);
        copied = ov[1];
        if (!all)
            break;
    }
    rx_iter_free(&it);
    if (rc < 0) {
        buf_free(&b);
        return qv_exc();
    }
    buf_append(&b, it.text->data + copied, it.text->len - copied);
    return qv_obj(buf_to_str(vm, &b));
}

static qval rx_replace(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    return rx_sub(vm, self, argv, "regex.replace", false);
}

static qval rx_replace_all(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    return rx_sub(vm, self, argv, "regex.replace_all", true);
}

/* split: the text between matches, including empty pieces at either end. */
static qval rx_split(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    rx_iter it;
    if (!rx_start(vm, self, argv, "regex.split", &it))
        return qv_exc();
    qarray *out = arr_new(vm, 0);
    size_t last = 0;
    int rc;
    while ((rc = rx_next(vm, &it)) > 0) {
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(it.md);
        arr_push(vm, out, qv_obj(str_new(vm, it.text->data + last, ov[0] - last)));
        last = ov[1];
    }
    rx_iter_free(&it);
    if (rc < 0)
        return qv_exc();
    arr_push(vm, out, qv_obj(str_new(vm, it.text->data + last, it.text->len - last)));
    return qv_obj(out);
}

static qval rx_is_valid(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    qstr *p;
    if (!arg_str(vm, "regex.is_valid", argv[0], &p))
        return qv_exc();
    char err[320];
    pcre2_code *re = rx_compile_raw(p, err, sizeof err);
    pcre2_code_free(re);
    return qv_bool(re != NULL);
}

/* escape(text): a pattern matching text literally. */
static qval rx_escape(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    qstr *s;
    if (!arg_str(vm, "regex.escape", argv[0], &s))
        return qv_exc();
    qbuf b;
    buf_init(&b);
    for (uint32_t i = 0; i < s->len; i++) {
        if (strchr("\\^$.|?*+()[]{}-#&~ \t\n", s->data[i]) && s->data[i] != '\0')
            buf_putc(&b, '\\');
        if (s->data[i] == '\n' || s->data[i] == '\t')
            buf_putc(&b, s->data[i] == '\n' ? 'n' : 't');
        else
            buf_putc(&b, s->data[i]);
    }
    return qv_obj(buf_to_str(vm, &b));
}

static const qmethod_def rx_functions[] = {
    {"match", rx_match, 2, 2, false},
    {"find", rx_find, 2, 2, false},
    {"find_all", rx_find_all, 2, 2, false},
    {"captures", rx_captures, 2, 2, false},
    {"captures_all", rx_captures_all, 2, 2, false},
    {"captures_named", rx_captures_named, 2, 2, false},
    {"replace", rx_replace, 3, 3, false},
    {"replace_all", rx_replace_all, 3, 3, false},
    {"split", rx_split, 2, 2, false},
    {"is_valid", rx_is_valid, 1, 1, false},
    {"escape", rx_escape, 1, 1, false},
    {NULL, NULL, 0, 0, false},
};

bool regex_module_init(qvm *vm, qmodule *m)
{
    rx_state *st = calloc(1, sizeof *st);
    if (!st) {
        vm_raise(vm, E_RUNTIME, "std/regex: out of memory");
        return false;
    }
    qcdata *state = cdata_new(vm, vm_new_cdata_type(vm, "RegexCache", NULL), &rx_state_class, st);
    for (const qmethod_def *d = rx_functions; d->name; d++) {
        qnative *fn = native_new(vm, d->name, d->fn, d->min_args, d->max_args);
        fn->bound = qv_obj(state);
        module_export(vm, m, d->name, qv_obj(fn));
    }
    return true;
}
