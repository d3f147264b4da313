/* urlparse.c — std/http/urlparse: URLs taken apart and put together, in
 * the manner of Python's urllib.parse.
 *
 *   urlparse(url, scheme?)     {scheme, netloc, path, params, query, fragment,
 *                               hostname, port, username, password}
 *   urljoin(base, url)         RFC 3986 reference resolution
 *   parse_qs / parse_qsl       query strings to a dict of lists / a list of pairs
 *   urlencode(dict or pairs)   the reverse ("+" for spaces, as HTML forms do)
 *   quote / quote_plus / unquote / unquote_plus
 *
 * Percent-decoding that yields bytes which are not UTF-8 puts U+FFFD in
 * their place, so the result is always a valid Str.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "modules/modules.h"

/* ---- percent-encoding ------------------------------------------------------------------------ */

static bool up_unreserved(unsigned char c)
{
    return isalnum(c) || c == '_' || c == '.' || c == '-' || c == '~';
}

static void up_quote(qbuf *b, const char *s, size_t n, const char *safe, bool plus)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (up_unreserved(c) || (c && strchr(safe, c)))
            buf_putc(b, (char)c);
        else if (plus && c == ' ')
            buf_putc(b, '+');
        else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            buf_append(b, e, 3);
        }
    }
}

/* Length of the valid UTF-8 sequence at s (0 if there is none). */
static size_t up_utf8_len(const char *s, size_t n)
{
    unsigned char c = (unsigned char)*s;
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    return len && len <= n && utf8_valid(s, len) ? len : 0;
}

/* Decode %XX (and '+' as space when plus) into a Str. */
static qstr *up_unquote(qvm *vm, const char *s, size_t n, bool plus)
{
    qbuf raw;
    buf_init(&raw);
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < n && (hi = hex_digit_value(s[i + 1])) >= 0 && (lo = hex_digit_value(s[i + 2])) >= 0) {
            buf_putc(&raw, (char)(hi << 4 | lo));
            i += 2;
        } else {
            buf_putc(&raw, plus && s[i] == '+' ? ' ' : s[i]);
        }
    }
    if (!raw.data || utf8_valid(raw.data, raw.len))
        return buf_to_str(vm, &raw);
    qbuf clean;
    buf_init(&clean);
    for (size_t i = 0; i < raw.len;) {
        size_t len = up_utf8_len(raw.data + i, raw.len - i);
        if (len) {
            buf_append(&clean, raw.data + i, len);
            i += len;
        } else {
            buf_puts(&clean, "\xEF\xBF\xBD");
            i++;
        }
    }
    buf_free(&raw);
    return buf_to_str(vm, &clean);
}

/* The text of a Str or Bytes argument. */
static bool up_text(qvm *vm, const char *fname, qval v, const char **s, size_t *n)
{
    if (IS_STR(v)) {
        *s = AS_STR(v)->data;
        *n = AS_STR(v)->len;
        return true;
    }
    if (IS_BYTES(v)) {
        *s = (const char *)AS_BYTES(v)->data;
        *n = AS_BYTES(v)->len;
        return true;
    }
    vm_raise(vm, E_TYPE, "%s expects Str or Bytes, got %s", fname, vm_cls_name(v));
    return false;
}

static qval up_quote_fn(qvm *vm, int argc, qval *argv, const char *fname, const char *default_safe, bool plus)
{
    const char *s;
    size_t n;
    qstr *safe = NULL;
    if (!up_text(vm, fname, argv[0], &s, &n) || (argc > 1 && !arg_str(vm, fname, argv[1], &safe)))
        return qv_exc();
    qbuf b;
    buf_init(&b);
    up_quote(&b, s, n, safe ? safe->data : default_safe, plus);
    return qv_obj(buf_to_str(vm, &b));
}

/* quote(text, safe = "/") */
static qval up_quote_m(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self;
    return up_quote_fn(vm, argc, argv, "quote", "/", false);
}

/* quote_plus(text, safe = ""): spaces become '+'. */
static qval up_quote_plus(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self;
    return up_quote_fn(vm, argc, argv, "quote_plus", "", true);
}

static qval up_unquote_fn(qvm *vm, qval arg, const char *fname, bool plus)
{
    qstr *s;
    if (!arg_str(vm, fname, arg, &s))
        return qv_exc();
    return qv_obj(up_unquote(vm, s->data, s->len, plus));
}

static qval up_unquote_m(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    return up_unquote_fn(vm, argv[0], "unquote", false);
}

static qval up_unquote_plus(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    return up_unquote_fn(vm, argv[0], "unquote_plus", true);
}

/* ---- splitting URLs ------------------------------------------------------------------------------ */

/* A URL's parts as slices of the original; has_* tell "absent" from "empty". */
typedef struct up_slice {
    const char *p;
    size_t n;
} up_slice;

typedef struct up_parts {
    up_slice scheme, netloc, path, query, fragment;
    bool has_netloc, has_query, has_fragment;
} up_parts;

static bool up_scheme_end(const char *s, size_t n, size_t *colon)
{
    if (n == 0 || !isalpha((unsigned char)s[0]))
        return false;
    for (size_t i = 1; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == ':') {
            *colon = i;
            return true;
        }
        if (!isalnum(c) && c != '+' && c != '-' && c != '.')
            return false;
    }
    return false;
}

static up_parts up_split(const char *s, size_t n)
{
    up_parts r;
    memset(&r, 0, sizeof r);
    size_t colon;
    if (up_scheme_end(s, n, &colon)) {
        r.scheme = (up_slice){s, colon};
        s += colon + 1;
        n -= colon + 1;
    }
    if (n >= 2 && s[0] == '/' && s[1] == '/') {
        size_t i = 2;
        while (i < n && !strchr("/?#", s[i]))
            i++;
        r.netloc = (up_slice){s + 2, i - 2};
        r.has_netloc = true;
        s += i;
        n -= i;
    }
    const char *hash = memchr(s, '#', n);
    if (hash) {
        r.fragment = (up_slice){hash + 1, (size_t)(s + n - hash - 1)};
        r.has_fragment = true;
        n = (size_t)(hash - s);
    }
    const char *q = memchr(s, '?', n);
    if (q) {
        r.query = (up_slice){q + 1, (size_t)(s + n - q - 1)};
        r.has_query = true;
        n = (size_t)(q - s);
    }
    r.path = (up_slice){s, n};
    return r;
}

static qval up_slice_str(qvm *vm, up_slice s)
{
    return qv_obj(str_new(vm, s.p ? s.p : "", s.n));
}

static qval up_lower(qvm *vm, const char *s, size_t n)
{
    qbuf b;
    buf_init(&b);
    for (size_t i = 0; i < n; i++)
        buf_putc(&b, (char)tolower((unsigned char)s[i]));
    return qv_obj(buf_to_str(vm, &b));
}

/* hostname, port, username and password from the netloc. */
static bool up_netloc_fields(qvm *vm, qdict *d, up_slice net)
{
    const char *s = net.p ? net.p : "", *at = NULL;
    size_t n = net.n;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '@')
            at = s + i;
    qval user = qv_nil(), pass = qv_nil();
    if (at) {
        const char *c = memchr(s, ':', (size_t)(at - s));
        user = qv_obj(str_new(vm, s, (size_t)((c ? c : at) - s)));
        if (c)
            pass = qv_obj(str_new(vm, c + 1, (size_t)(at - c - 1)));
        n -= (size_t)(at + 1 - s);
        s = at + 1;
    }
    const char *host = s, *port = NULL;
    size_t host_n = n;
    if (n > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        host = s + 1;
        host_n = close ? (size_t)(close - host) : n - 1;
        if (close && close + 1 < s + n && close[1] == ':')
            port = close + 2;
    } else {
        const char *c = memchr(s, ':', n);
        if (c) {
            host_n = (size_t)(c - s);
            port = c + 1;
        }
    }
    qval port_v = qv_nil();
    if (port && port < s + n) {
        int64_t v = 0;
        for (const char *p = port; p < s + n; p++) {
            if (!isdigit((unsigned char)*p) || (v = v * 10 + (*p - '0')) > 65535) {
                vm_raise(vm, E_VALUE, "Port could not be cast to integer value or is out of range 0-65535: '%.*s'",
                         (int)(s + n - port), port);
                return false;
            }
        }
        port_v = qv_int(v);
    }
    dict_set_cstr(vm, d, "hostname", host_n ? up_lower(vm, host, host_n) : qv_nil());
    dict_set_cstr(vm, d, "port", port_v);
    dict_set_cstr(vm, d, "username", user);
    dict_set_cstr(vm, d, "password", pass);
    return true;
}

/* urlparse(url, scheme = ""): the default scheme applies when url has none. */
static qval up_urlparse(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self;
    qstr *url, *def = NULL;
    if (!arg_str(vm, "urlparse", argv[0], &url) || (argc > 1 && !arg_str(vm, "urlparse", argv[1], &def)))
        return qv_exc();
    up_parts p = up_split(url->data, url->len);
    qdict *d = dict_new(vm);
    if (p.scheme.p)
        dict_set_cstr(vm, d, "scheme", up_lower(vm, p.scheme.p, p.scheme.n));
    else
        dict_set_cstr(vm, d, "scheme", qv_obj(def ? def : str_cstr(vm, "")));
    dict_set_cstr(vm, d, "netloc", up_slice_str(vm, p.netloc));
    dict_set_cstr(vm, d, "path", up_slice_str(vm, p.path));
    dict_set_cstr(vm, d, "params", qv_obj(str_cstr(vm, "")));
    dict_set_cstr(vm, d, "query", up_slice_str(vm, p.query));
    dict_set_cstr(vm, d, "fragment", up_slice_str(vm, p.fragment));
    return up_netloc_fields(vm, d, p.netloc) ? qv_obj(d) : qv_exc();
}

/* ---- joining (RFC 3986 section 5.2) ----------------------------------------------------------------- */

/* Remove "." and ".." segments (RFC 3986 5.2.4) from a path held in a
 * buffer of our own, in place; returns the new length.  The output never
 * overtakes the input, so both can live in the one buffer. */
static size_t up_remove_dots(char *path, size_t n)
{
    size_t o = 0, i = 0;
    while (i < n) {
        const char *in = path + i;
        size_t left = n - i;
        if (left >= 3 && memcmp(in, "../", 3) == 0) {
            i += 3;
        } else if (left >= 2 && memcmp(in, "./", 2) == 0) {
            i += 2;
        } else if (left >= 3 && memcmp(in, "/./", 3) == 0) {
            i += 2;
        } else if (left == 2 && memcmp(in, "/.", 2) == 0) {
            path[++i] = '/';
        } else if ((left >= 4 && memcmp(in, "/../", 4) == 0) || (left == 3 && memcmp(in, "/..", 3) == 0)) {
            if (left == 3)
                path[i + 2] = '/';
            i += left == 3 ? 2 : 3;
            while (o > 0 && path[o - 1] != '/')
                o--;
            if (o > 0)
                o--;
        } else if ((left == 1 && in[0] == '.') || (left == 2 && memcmp(in, "..", 2) == 0)) {
            i = n;
        } else {
            do
                path[o++] = path[i++];
            while (i < n && path[i] != '/');
        }
    }
    return o;
}

static void up_put_slice(qbuf *b, up_slice s)
{
    buf_append(b, s.p ? s.p : "", s.n);
}

/* The target path: the reference's, or the base's directory plus it. */
static void up_merge_path(qbuf *path, const up_parts *base, const up_parts *ref)
{
    if (ref->path.n > 0 && ref->path.p[0] == '/') {
        up_put_slice(path, ref->path);
        return;
    }
    if (base->has_netloc && base->path.n == 0) {
        buf_putc(path, '/');
    } else {
        const char *slash = NULL;
        for (size_t i = 0; i < base->path.n; i++)
            if (base->path.p[i] == '/')
                slash = base->path.p + i;
        if (slash)
            buf_append(path, base->path.p, (size_t)(slash - base->path.p) + 1);
    }
    up_put_slice(path, ref->path);
}

static qval up_urljoin(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    qstr *bs, *rs;
    if (!arg_str(vm, "urljoin", argv[0], &bs) || !arg_str(vm, "urljoin", argv[1], &rs))
        return qv_exc();
    if (rs->len == 0)
        return argv[0];
    up_parts base = up_split(bs->data, bs->len), ref = up_split(rs->data, rs->len);
    up_parts t = ref;
    qbuf path;
    buf_init(&path);
    if (!ref.scheme.p) {
        t.scheme = base.scheme;
        if (!ref.has_netloc) {
            t.netloc = base.netloc;
            t.has_netloc = base.has_netloc;
            if (ref.path.n == 0) {
                up_put_slice(&path, base.path);
                if (!ref.has_query) {
                    t.query = base.query;
                    t.has_query = base.has_query;
                }
            } else {
                up_merge_path(&path, &base, &ref);
            }
        } else {
            up_put_slice(&path, ref.path);
        }
    } else {
        up_put_slice(&path, ref.path);
    }
    size_t plen = path.data ? up_remove_dots(path.data, path.len) : 0;
    qbuf b;
    buf_init(&b);
    if (t.scheme.p) {
        up_put_slice(&b, t.scheme);
        buf_putc(&b, ':');
    }
    if (t.has_netloc) {
        buf_puts(&b, "//");
        up_put_slice(&b, t.netloc);
    }
    if (plen)
        buf_append(&b, path.data, plen);
    buf_free(&path);
    if (t.has_query) {
        buf_putc(&b, '?');
        up_put_slice(&b, t.query);
    }
    if (t.has_fragment) {
        buf_putc(&b, '#');
        up_put_slice(&b, t.fragment);
    }
    return qv_obj(buf_to_str(vm, &b));
}

/* ---- query strings ---------------------------------------------------------------------------------- */

/* Call each(key, value) for the pairs of a query string, decoded.  Pairs
 * with an empty value (or no '=') are skipped unless keep_blank. */
typedef void (*up_pair_fn)(qvm *vm, void *ctx, qstr *key, qstr *value);

static void up_each_pair(qvm *vm, const qstr *qs, bool keep_blank, up_pair_fn each, void *ctx)
{
    const char *s = qs->data, *end = s + qs->len;
    while (s < end) {
        const char *amp = memchr(s, '&', (size_t)(end - s));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(s, '=', (size_t)(stop - s));
        const char *kend = eq ? eq : stop;
        size_t vlen = eq ? (size_t)(stop - eq - 1) : 0;
        if (stop > s && (vlen > 0 || keep_blank)) {
            qstr *k = up_unquote(vm, s, (size_t)(kend - s), true);
            qstr *v = up_unquote(vm, eq ? eq + 1 : "", vlen, true);
            each(vm, ctx, k, v);
        }
        s = stop + 1;
    }
}

static void up_add_to_dict(qvm *vm, void *ctx, qstr *key, qstr *value)
{
    qdict *d = ctx;
    qval list;
    if (!dict_get(d, key, &list)) {
        list = qv_obj(arr_new(vm, 1));
        dict_set(vm, d, key, list);
    }
    arr_push(vm, AS_ARRAY(list), qv_obj(value));
}

static void up_add_pair(qvm *vm, void *ctx, qstr *key, qstr *value)
{
    qarray *pair = arr_new(vm, 2);
    arr_push(vm, pair, qv_obj(key));
    arr_push(vm, pair, qv_obj(value));
    arr_push(vm, ctx, qv_obj(pair));
}

static bool up_qs_args(qvm *vm, const char *fname, int argc, qval *argv, qstr **qs, bool *keep)
{
    if (!arg_str(vm, fname, argv[0], qs))
        return false;
    *keep = argc > 1 && vm_truthy(argv[1]);
    return true;
}

/* parse_qs(qs, keep_blank_values = false): {key: [values...]} */
static qval up_parse_qs(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self;
    qstr *qs;
    bool keep;
    if (!up_qs_args(vm, "parse_qs", argc, argv, &qs, &keep))
        return qv_exc();
    qdict *d = dict_new(vm);
    up_each_pair(vm, qs, keep, up_add_to_dict, d);
    return qv_obj(d);
}

/* parse_qsl(qs, keep_blank_values = false): [[key, value], ...] */
static qval up_parse_qsl(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self;
    qstr *qs;
    bool keep;
    if (!up_qs_args(vm, "parse_qsl", argc, argv, &qs, &keep))
        return qv_exc();
    qarray *a = arr_new(vm, 0);
    up_each_pair(vm, qs, keep, up_add_pair, a);
    return qv_obj(a);
}

/* key=value, both encoded; an Array value gives one pair per element. */
static bool up_encode_pair(qvm *vm, qbuf *b, qval key, qval value)
{
    if (IS_ARRAY(value)) {
        qarray *a = AS_ARRAY(value);
        for (uint32_t i = 0; i < a->len; i++)
            if (!up_encode_pair(vm, b, key, a->items[i]))
                return false;
        return true;
    }
    qstr *k = vm_to_str(vm, key), *v = k ? vm_to_str(vm, value) : NULL;
    if (!v)
        return false;
    if (b->len)
        buf_putc(b, '&');
    up_quote(b, k->data, k->len, "", true);
    buf_putc(b, '=');
    up_quote(b, v->data, v->len, "", true);
    return true;
}

/* urlencode(dict or [[key, value], ...]) */
static qval up_urlencode(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    qval q = argv[0];
    qbuf b;
    buf_init(&b);
    bool ok = true;
    if (IS_DICT(q)) {
        qdict *d = AS_DICT(q);
        for (uint32_t i = 0; ok && i < d->used; i++)
            if (d->entries[i].key)
                ok = up_encode_pair(vm, &b, qv_obj(d->entries[i].key), d->entries[i].val);
    } else if (IS_ARRAY(q)) {
        qarray *a = AS_ARRAY(q);
        for (uint32_t i = 0; ok && i < a->len; i++) {
            qval pair = a->items[i];
            if (!IS_ARRAY(pair) || AS_ARRAY(pair)->len != 2) {
                buf_free(&b);
                return vm_raise(vm, E_VALUE, "urlencode expects [key, value] pairs, got %s at index %u",
                                vm_cls_name(pair), i);
            }
            ok = up_encode_pair(vm, &b, AS_ARRAY(pair)->items[0], AS_ARRAY(pair)->items[1]);
        }
    } else {
        return vm_raise(vm, E_TYPE, "urlencode expects a Dict or an Array of [key, value] pairs, got %s",
                        vm_cls_name(q));
    }
    if (!ok) {
        buf_free(&b);
        return qv_exc();
    }
    return qv_obj(buf_to_str(vm, &b));
}

static const qmethod_def up_functions[] = {
    {"urlparse", up_urlparse, 1, 2, false},
    {"urljoin", up_urljoin, 2, 2, false},
    {"parse_qs", up_parse_qs, 1, 2, false},
    {"parse_qsl", up_parse_qsl, 1, 2, false},
    {"urlencode", up_urlencode, 1, 1, false},
    {"quote", up_quote_m, 1, 2, false},
    {"quote_plus", up_quote_plus, 1, 2, false},
    {"unquote", up_unquote_m, 1, 1, false},
    {"unquote_plus", up_unquote_plus, 1, 1, false},
    {NULL, NULL, 0, 0, false},
};

bool urlparse_module_init(qvm *vm, qmodule *m)
{
    module_export_fns(vm, m, up_functions);
    return true;
}
