/* http_client_response.c — HttpResponse: a finished response, body fully
 * read.  Header names are lower-cased (the last of repeated headers wins,
 * as in the reference); cookies() holds every cookie the responses of the
 * redirect chain set; text() and json() are computed once. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "modules/encoding/json.h"
#include "modules/http_client.h"

typedef struct hc_response {
    int64_t status;
    long http_version;
    qstr *url;
    qdict *headers;
    qdict *cookies;
    qbytes *body;
    qval text;   /* cached text(), or nil */
    qval json;   /* cached json(), or undef */
} hc_response;

static void response_mark(qvm *vm, void *p)
{
    hc_response *r = p;
    vm_mark_obj(vm, (qobj *)r->url);
    vm_mark_obj(vm, (qobj *)r->headers);
    vm_mark_obj(vm, (qobj *)r->cookies);
    vm_mark_obj(vm, (qobj *)r->body);
    vm_mark_value(vm, r->text);
    vm_mark_value(vm, r->json);
}

static const qcdata_class response_class = {"HttpResponse", free, response_mark, NULL};

/* ---- building one -------------------------------------------------------------------------- */

static size_t trim_end(const char *s, size_t n)
{
    while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    return n;
}

/* "Name: value\r\n" lines (the status line and the blank one skipped). */
static void parse_headers(qvm *vm, qdict *d, const char *s, size_t n)
{
    qbuf name;
    buf_init(&name);
    while (n > 0) {
        const char *nl = memchr(s, '\n', n);
        size_t len = nl ? (size_t)(nl - s) + 1 : n;
        const char *colon = memchr(s, ':', len);
        if (colon && colon > s && memcmp(s, "HTTP/", 5) != 0) {
            name.len = 0;
            for (const char *p = s; p < colon; p++)
                buf_putc(&name, (char)tolower((unsigned char)*p));
            const char *v = colon + 1;
            while (v < s + len && (*v == ' ' || *v == '\t'))
                v++;
            size_t vlen = trim_end(v, (size_t)(s + len - v));
            dict_set(vm, d, str_new(vm, name.data, name.len), qv_obj(str_new(vm, v, vlen)));
        }
        s += len;
        n -= len;
    }
    buf_free(&name);
}

/* Set-Cookie values, one a line: "name=value; attributes". */
static void parse_cookies(qvm *vm, qdict *d, const char *s, size_t n)
{
    while (n > 0) {
        const char *nl = memchr(s, '\n', n);
        size_t len = nl ? (size_t)(nl - s) : n;
        const char *eq = memchr(s, '=', len);
        if (eq && eq > s) {
            const char *v = eq + 1;
            const char *semi = memchr(v, ';', (size_t)(s + len - v));
            size_t vlen = (size_t)((semi ? semi : s + len) - v);
            dict_set(vm, d, str_new(vm, s, (size_t)(eq - s)), qv_obj(str_new(vm, v, trim_end(v, vlen))));
        }
        len += nl ? 1 : 0;
        s += len;
        n -= len;
    }
}

qval hc_response_new(qvm *vm, const hc_reply *rep)
{
    hc_response *r = malloc(sizeof *r);
    if (!r)
        return vm_raise(vm, E_RUNTIME, "std/http/client: out of memory");
    r->status = rep->status;
    r->http_version = rep->http_version;
    r->url = str_cstr(vm, rep->url);
    r->headers = dict_new(vm);
    parse_headers(vm, r->headers, rep->head, rep->head_len);
    r->cookies = dict_new(vm);
    parse_cookies(vm, r->cookies, rep->cookies, rep->cookies_len);
    r->body = bytes_new(vm, rep->body, rep->body_len);
    r->text = qv_nil();
    r->json = qv_undef();
    return qv_obj(cdata_new(vm, hc_state_of(vm)->response_type, &response_class, r));
}

/* ---- methods ------------------------------------------------------------------------------------ */

#define SELF(self) ((hc_response *)AS_CDATA(self)->data)

static qval resp_status(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return qv_int(SELF(self)->status);
}

static bool status_in(qval self, int64_t lo, int64_t hi)
{
    int64_t s = ((hc_response *)AS_CDATA(self)->data)->status;
    return s >= lo && s < hi;
}

static qval resp_ok(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return qv_bool(status_in(self, 200, 300));
}

static qval resp_is_informational(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return qv_bool(status_in(self, 100, 200));
}

static qval resp_is_redirect(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return qv_bool(status_in(self, 300, 400));
}

static qval resp_is_client_error(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return qv_bool(status_in(self, 400, 500));
}

static qval resp_is_server_error(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return qv_bool(status_in(self, 500, 600));
}

/* The header's value (nil when absent); name is matched case-insensitively. */
static qval header_lookup(qvm *vm, hc_response *r, const char *fname, qval name)
{
    qstr *n;
    if (!arg_str(vm, fname, name, &n))
        return qv_exc();
    qbuf low;
    buf_init(&low);
    for (uint32_t i = 0; i < n->len; i++)
        buf_putc(&low, (char)tolower((unsigned char)n->data[i]));
    qval v = qv_nil();
    dict_get(r->headers, str_new(vm, low.data ? low.data : "", low.len), &v);
    buf_free(&low);
    return v;
}

static qval resp_header(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    return header_lookup(vm, SELF(self), "header", argv[0]);
}

static qval resp_has_header(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qval v = header_lookup(vm, SELF(self), "has_header", argv[0]);
    return IS_EXC(v) ? v : qv_bool(!IS_NIL(v));
}

static qval dict_copy(qvm *vm, const qdict *src)
{
    qdict *d = dict_new(vm);
    for (uint32_t i = 0; i < src->used; i++)
        if (src->entries[i].key)
            dict_set(vm, d, src->entries[i].key, src->entries[i].val);
    return qv_obj(d);
}

static qval resp_headers(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return dict_copy(vm, SELF(self)->headers);
}

static const char *content_type(hc_response *r)
{
    qval v;
    return dict_get_cstr(r->headers, "content-type", &v) ? AS_STR(v)->data : "";
}

static qval resp_content_type(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    qval v = qv_nil();
    dict_get_cstr(SELF(self)->headers, "content-type", &v);
    return v;
}

static qval resp_content_length(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    qval v;
    if (!dict_get_cstr(SELF(self)->headers, "content-length", &v))
        return qv_nil();
    char *end;
    long long n = strtoll(AS_STR(v)->data, &end, 10);
    return end != AS_STR(v)->data && *end == '\0' && n >= 0 ? qv_int(n) : qv_nil();
}

static qval resp_is_json(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return qv_bool(strstr(content_type(SELF(self)), "application/json") != NULL);
}

static qval resp_is_html(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return qv_bool(strstr(content_type(SELF(self)), "text/html") != NULL);
}

static qval resp_is_text(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return qv_bool(strncmp(content_type(SELF(self)), "text/", 5) == 0);
}

static qval resp_url(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return qv_obj(SELF(self)->url);
}

static qval resp_http_version(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    switch (SELF(self)->http_version) {
    case CURL_HTTP_VERSION_1_0: return qv_obj(str_cstr(vm, "1.0"));
    case CURL_HTTP_VERSION_2_0: return qv_obj(str_cstr(vm, "2"));
    case CURL_HTTP_VERSION_3: return qv_obj(str_cstr(vm, "3"));
    default: return qv_obj(str_cstr(vm, "1.1"));
    }
}

static qval resp_text(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    hc_response *r = SELF(self);
    if (IS_NIL(r->text)) {
        if (!utf8_valid((const char *)r->body->data, r->body->len))
            return vm_raise(vm, E_VALUE, "response body of %s is not valid UTF-8", r->url->data);
        r->text = qv_obj(str_new(vm, (const char *)r->body->data, r->body->len));
    }
    return r->text;
}

static qval resp_json(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    hc_response *r = SELF(self);
    if (IS_UNDEF(r->json)) {
        qval text = resp_text(vm, self, 0, NULL);
        if (IS_EXC(text))
            return text;
        qval v = json_parse(vm, AS_STR(text)->data, AS_STR(text)->len);
        if (IS_EXC(v))
            return v;
        r->json = v;
    }
    return r->json;
}

static qval resp_bytes(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return qv_obj(SELF(self)->body);
}

static qval resp_cookies(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return dict_copy(vm, SELF(self)->cookies);
}

static qval resp_cookie(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qstr *name;
    if (!arg_str(vm, "cookie", argv[0], &name))
        return qv_exc();
    qval v = qv_nil();
    dict_get(SELF(self)->cookies, name, &v);
    return v;
}

static qval resp_str(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return qv_obj(str_printf(vm, "<HttpResponse %lld>", (long long)SELF(self)->status));
}

static const qmethod_def response_methods[] = {
    {"status", resp_status, 0, 0, false},
    {"ok", resp_ok, 0, 0, false},
    {"is_success", resp_ok, 0, 0, false},
    {"is_informational", resp_is_informational, 0, 0, false},
    {"is_redirect", resp_is_redirect, 0, 0, false},
    {"is_client_error", resp_is_client_error, 0, 0, false},
    {"is_server_error", resp_is_server_error, 0, 0, false},
    {"header", resp_header, 1, 1, false},
    {"has_header", resp_has_header, 1, 1, false},
    {"headers", resp_headers, 0, 0, false},
    {"content_type", resp_content_type, 0, 0, false},
    {"content_length", resp_content_length, 0, 0, false},
    {"is_json", resp_is_json, 0, 0, false},
    {"is_html", resp_is_html, 0, 0, false},
    {"is_text", resp_is_text, 0, 0, false},
    {"url", resp_url, 0, 0, false},
    {"http_version", resp_http_version, 0, 0, false},
    {"text", resp_text, 0, 0, false},
    {"json", resp_json, 0, 0, false},
    {"bytes", resp_bytes, 0, 0, false},
    {"body", resp_bytes, 0, 0, false},
    {"cookies", resp_cookies, 0, 0, false},
    {"cookie", resp_cookie, 1, 1, false},
    {"str", resp_str, 0, 0, false},
    {"_rep", resp_str, 0, 0, false},
    {NULL, NULL, 0, 0, false},
};

void hc_response_init(qvm *vm, hc_state *st)
{
    st->response_type = vm_new_cdata_type(vm, "HttpResponse", response_methods);
}
