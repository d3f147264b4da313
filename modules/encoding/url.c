/* url.c — std/encoding/url: percent-encoding (RFC 3986) and query strings.
 *
 * The encoders differ only in which bytes they leave alone: all of them
 * keep the unreserved set A-Z a-z 0-9 - . _ ~; encode_component also keeps
 * ! * ' ( ), encode_path keeps '/', encode_query keeps '=' and '&'.  Every
 * other byte of the UTF-8 text becomes %XX (upper-case hex).  decode()
 * reads '+' as a space (form encoding), decode_component() does not.
 */
#include <string.h>

#include "modules/modules.h"

typedef enum { URL_STANDARD, URL_COMPONENT, URL_PATH, URL_QUERY } url_mode;

static bool url_keeps(unsigned char c, url_mode mode)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~')
        return true;
    switch (mode) {
    case URL_COMPONENT: return c == '!' || c == '*' || c == '\'' || c == '(' || c == ')';
    case URL_PATH: return c == '/';
    case URL_QUERY: return c == '=' || c == '&';
    default: return false;
    }
}

static void url_encode_into(qbuf *b, const char *s, size_t n, url_mode mode)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (url_keeps(c, mode)) {
            buf_putc(b, (char)c);
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            buf_append(b, esc, 3);
        }
    }
}

static qval url_encode_with(qvm *vm, const char *fname, qval v, url_mode mode)
{
    qstr *s;
    if (!arg_str(vm, fname, v, &s))
        return qv_exc();
    if ((size_t)s->len * 3 > UINT32_MAX)
        return vm_raise(vm, E_VALUE, "%s: text too large", fname);
    qbuf b;
    buf_init(&b);
    url_encode_into(&b, s->data, s->len, mode);
    return qv_obj(buf_to_str(vm, &b));
}

/* Percent-decode s[0..n) into a new Str; NULL after raising ValueErr. */
static qstr *url_decode_text(qvm *vm, const char *s, size_t n, bool plus_is_space)
{
    qbuf b;
    buf_init(&b);
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (n - i < 3) {
                buf_free(&b);
                vm_raise(vm, E_VALUE, "Invalid percent encoding: missing hex digit");
                return NULL;
            }
            int hi = hex_digit_value(s[i + 1]), lo = hex_digit_value(s[i + 2]);
            if (hi < 0 || lo < 0) {
                buf_free(&b);
                vm_raise(vm, E_VALUE, "Invalid hex digit in percent encoding: '%%%c%c'", s[i + 1],
                         s[i + 2]);
                return NULL;
            }
            buf_putc(&b, (char)(hi << 4 | lo));
            i += 2;
        } else {
            buf_putc(&b, plus_is_space && c == '+' ? ' ' : c);
        }
    }
    if (!utf8_valid(b.data ? b.data : "", b.len)) {
        buf_free(&b);
        vm_raise(vm, E_VALUE, "Invalid UTF-8 in decoded string");
        return NULL;
    }
    return buf_to_str(vm, &b);
}

static qval url_decode_with(qvm *vm, const char *fname, qval v, bool plus_is_space)
{
    qstr *s;
    if (!arg_str(vm, fname, v, &s))
        return qv_exc();
    qstr *out = url_decode_text(vm, s->data, s->len, plus_is_space);
    return out ? qv_obj(out) : qv_exc();
}

static qval url_encode(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    return url_encode_with(vm, "url.encode", argv[0], URL_STANDARD);
}

static qval url_encode_component(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    return url_encode_with(vm, "url.encode_component", argv[0], URL_COMPONENT);
}

static qval url_encode_path(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    return url_encode_with(vm, "url.encode_path", argv[0], URL_PATH);
}

static qval url_encode_query(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    return url_encode_with(vm, "url.encode_query", argv[0], URL_QUERY);
}

static qval url_decode(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    return url_decode_with(vm, "url.decode", argv[0], true);
}

static qval url_decode_component(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    return url_decode_with(vm, "url.decode_component", argv[0], false);
}

/* build_query(dict): "k=v&k2=v2" in the dict's order, keys and values
 * encoded; values are converted with str(). */
static qval url_build_query(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    qdict *d;
    if (!arg_dict(vm, "url.build_query", argv[0], &d))
        return qv_exc();
    qbuf b;
    buf_init(&b);
    bool first = true;
    /* str() of a user value may run Quest code that changes the dict:
     * re-check the bounds on every step. */
    for (uint32_t i = 0; i < d->used; i++) {
        qstr *key = d->entries[i].key;
        if (!key)
            continue;
        vm_push_root(vm, qv_obj(key));
        qstr *val = vm_to_str(vm, d->entries[i].val);
        vm_pop_roots(vm, 1);
        if (!val) {
            buf_free(&b);
            return qv_exc();
        }
        if (!first)
            buf_putc(&b, '&');
        first = false;
        url_encode_into(&b, key->data, key->len, URL_STANDARD);
        buf_putc(&b, '=');
        url_encode_into(&b, val->data, val->len, URL_STANDARD);
    }
    if (b.len > UINT32_MAX) {
        buf_free(&b);
        return vm_raise(vm, E_VALUE, "url.build_query: result too large");
    }
    return qv_obj(buf_to_str(vm, &b));
}

/* parse_query("?a=1&b"): {"a": "1", "b": ""}; a leading '?' is skipped,
 * empty pairs are ignored, a repeated key keeps its last value. */
static qval url_parse_query(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    qstr *q;
    if (!arg_str(vm, "url.parse_query", argv[0], &q))
        return qv_exc();
    const char *s = q->data, *end = q->data + q->len;
    if (s < end && *s == '?')
        s++;
    qdict *d = dict_new(vm);
    while (s < end) {
        const char *amp = memchr(s, '&', (size_t)(end - s));
        const char *pair_end = amp ? amp : end;
        if (pair_end > s) {
            const char *eq = memchr(s, '=', (size_t)(pair_end - s));
            const char *key_end = eq ? eq : pair_end;
            qstr *key = url_decode_text(vm, s, (size_t)(key_end - s), true);
            qstr *val = key ? url_decode_text(vm, eq ? eq + 1 : pair_end,
                                              (size_t)(pair_end - (eq ? eq + 1 : pair_end)), true)
                            : NULL;
            if (!val)
                return qv_exc();
            dict_set(vm, d, key, qv_obj(val));
        }
        s = pair_end + (amp != NULL);
    }
    return qv_obj(d);
}

static const qmethod_def url_functions[] = {
    {"encode", url_encode, 1, 1, false},
    {"encode_component", url_encode_component, 1, 1, false},
    {"encode_path", url_encode_path, 1, 1, false},
    {"encode_query", url_encode_query, 1, 1, false},
    {"decode", url_decode, 1, 1, false},
    {"decode_component", url_decode_component, 1, 1, false},
    {"build_query", url_build_query, 1, 1, false},
    {"parse_query", url_parse_query, 1, 1, false},
    {NULL, NULL, 0, 0, false},
};

bool url_module_init(qvm *vm, qmodule *m)
{
    module_export_fns(vm, m, url_functions);
    return true;
}
