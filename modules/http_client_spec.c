/* http_client_spec.c — building one outbound request in C form (hc_spec)
 * from Quest values: URL and query, headers, and the body kinds (raw,
 * JSON, form).  A spec owns all its memory, so it can outlive the values
 * it was made from while the transfer runs. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "modules/encoding/json.h"
#include "modules/http_client.h"

bool hc_seconds(qvm *vm, const char *fname, qval v, double *out)
{
    if (!arg_num(vm, fname, v, out))
        return false;
    if (!isfinite(*out) || *out < 0) {
        vm_raise(vm, E_VALUE, "%s: timeout must be a non-negative number of seconds", fname);
        return false;
    }
    return true;
}

/* ---- URL and method ------------------------------------------------------------------ */

static bool is_token_char(unsigned char c)
{
    return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool is_token(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_token_char((unsigned char)s[i]))
            return false;
    return true;
}

/* Only http and https: a URL from user input must not read file:// etc. */
static bool spec_parse_url(qvm *vm, hc_spec *s, qstr *url)
{
    s->url = curl_url();
    if (!s->url) {
        vm_raise(vm, E_RUNTIME, "out of memory");
        return false;
    }
    CURLUcode rc = strlen(url->data) == url->len ? curl_url_set(s->url, CURLUPART_URL, url->data, 0)
                                                 : CURLUE_MALFORMED_INPUT;
    if (rc != CURLUE_OK) {
        vm_raise(vm, E_VALUE, "invalid URL '%s': %s", url->data, curl_url_strerror(rc));
        return false;
    }
    char *scheme = NULL;
    curl_url_get(s->url, CURLUPART_SCHEME, &scheme, 0);
    bool web = scheme && (strcasecmp(scheme, "http") == 0 || strcasecmp(scheme, "https") == 0);
    curl_free(scheme);
    if (!web) {
        vm_raise(vm, E_VALUE, "invalid URL '%s': only http and https are supported", url->data);
        return false;
    }
    return true;
}

bool hc_spec_init(qvm *vm, hc_spec *s, const char *method, qstr *url)
{
    memset(s, 0, sizeof *s);
    buf_init(&s->body);
    if (!is_token(method, strlen(method))) {
        vm_raise(vm, E_VALUE, "Invalid HTTP method: '%s'", method);
        return false;
    }
    s->method = strdup(method);
    if (!s->method) {
        vm_raise(vm, E_RUNTIME, "out of memory");
        return false;
    }
    return spec_parse_url(vm, s, url);
}

void hc_spec_free(hc_spec *s)
{
    for (size_t i = 0; i < s->nheaders; i++) {
        free(s->headers[i].name);
        free(s->headers[i].value);
    }
    free(s->headers);
    free(s->method);
    free(s->set.ca_file);
    curl_url_cleanup(s->url);
    buf_free(&s->body);
    memset(s, 0, sizeof *s);
}

/* ---- headers ----------------------------------------------------------------------------- */

static hc_header *spec_find_header(const hc_spec *s, const char *name)
{
    for (size_t i = 0; i < s->nheaders; i++)
        if (strcasecmp(s->headers[i].name, name) == 0)
            return &s->headers[i];
    return NULL;
}

bool hc_spec_has_header(const hc_spec *s, const char *name)
{
    return spec_find_header(s, name) != NULL;
}

/* Set name: value (both checked), replacing an earlier value. */
static bool spec_set_header(qvm *vm, hc_spec *s, const char *name, size_t nlen, const char *value,
                            size_t vlen)
{
    if (!is_token(name, nlen) || strlen(name) != nlen) {
        vm_raise(vm, E_VALUE, "invalid header name '%s'", name);
        return false;
    }
    if (strcspn(value, "\r\n") != vlen) {
        vm_raise(vm, E_VALUE, "header '%s': value must not contain line breaks", name);
        return false;
    }
    char *v = strdup(value);
    if (!v) {
        vm_raise(vm, E_RUNTIME, "out of memory");
        return false;
    }
    hc_header *h = spec_find_header(s, name);
    if (h) {
        free(h->value);
        h->value = v;
        return true;
    }
    if (s->nheaders == s->capheaders) {
        size_t cap = s->capheaders ? 2 * s->capheaders : 8;
        hc_header *grown = realloc(s->headers, cap * sizeof *grown);
        if (!grown) {
            free(v);
            vm_raise(vm, E_RUNTIME, "out of memory");
            return false;
        }
        s->headers = grown;
        s->capheaders = cap;
    }
    h = &s->headers[s->nheaders];
    h->name = strdup(name);
    if (!h->name) {
        free(v);
        vm_raise(vm, E_RUNTIME, "out of memory");
        return false;
    }
    h->value = v;
    s->nheaders++;
    return true;
}

bool hc_spec_header(qvm *vm, hc_spec *s, qstr *name, qval value)
{
    qstr *v = IS_STR(value) ? AS_STR(value) : vm_to_str(vm, value);
    return v && spec_set_header(vm, s, name->data, name->len, v->data, v->len);
}

bool hc_spec_headers(qvm *vm, hc_spec *s, const char *fname, qval dict)
{
    qdict *d;
    if (!arg_dict(vm, fname, dict, &d))
        return false;
    for (uint32_t i = 0; i < d->used; i++)
        if (d->entries[i].key && !hc_spec_header(vm, s, d->entries[i].key, d->entries[i].val))
            return false;
    return true;
}

/* ---- query and form encoding --------------------------------------------------------------- */

/* application/x-www-form-urlencoded, as browsers and reqwest write it. */
static void form_escape(qbuf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isalnum(c) || c == '*' || c == '-' || c == '.' || c == '_') {
            buf_putc(b, (char)c);
        } else if (c == ' ') {
            buf_putc(b, '+');
        } else {
            buf_putc(b, '%');
            buf_putc(b, hex[c >> 4]);
            buf_putc(b, hex[c & 15]);
        }
    }
}

static bool form_pair(qvm *vm, qbuf *b, qstr *key, qval v)
{
    qstr *s = IS_STR(v) ? AS_STR(v) : IS_NIL(v) ? NULL : vm_to_str(vm, v);
    if (!s && !IS_NIL(v))
        return false;
    if (b->len)
        buf_putc(b, '&');
    form_escape(b, key->data, key->len);
    buf_putc(b, '=');
    if (s)
        form_escape(b, s->data, s->len);
    return true;
}

/* {k: v} -> k=v&...; an Array value repeats its key (k=1&k=2). */
bool hc_form_encode(qvm *vm, qbuf *b, const char *fname, qval dict)
{
    qdict *d;
    if (!arg_dict(vm, fname, dict, &d))
        return false;
    for (uint32_t i = 0; i < d->used; i++) {
        qstr *key = d->entries[i].key;
        qval v = d->entries[i].val;
        if (!key)
            continue;
        if (IS_ARRAY(v)) {
            qarray *a = AS_ARRAY(v);
            for (uint32_t j = 0; j < a->len; j++)
                if (!form_pair(vm, b, key, a->items[j]))
                    return false;
        } else if (!form_pair(vm, b, key, v)) {
            return false;
        }
    }
    return true;
}

bool hc_spec_query(qvm *vm, hc_spec *s, const char *fname, qval dict)
{
    qbuf q;
    buf_init(&q);
    bool ok = hc_form_encode(vm, &q, fname, dict);
    if (ok && q.len) {
        buf_putc(&q, '\0');
        if (curl_url_set(s->url, CURLUPART_QUERY, q.data, CURLU_APPENDQUERY) != CURLUE_OK) {
            vm_raise(vm, E_RUNTIME, "out of memory");
            ok = false;
        }
    }
    buf_free(&q);
    return ok;
}

/* ---- bodies --------------------------------------------------------------------------------- */

static bool spec_default_type(qvm *vm, hc_spec *s, const char *type)
{
    if (hc_spec_has_header(s, "Content-Type"))
        return true;
    return spec_set_header(vm, s, "Content-Type", 12, type, strlen(type));
}

static void spec_set_body(hc_spec *s, const char *data, size_t len)
{
    s->body.len = 0;
    buf_append(&s->body, data, len);
    s->has_body = true;
}

bool hc_spec_json(qvm *vm, hc_spec *s, qval v)
{
    qstr *text = json_stringify(vm, v, -1);
    if (!text)
        return false;
    spec_set_body(s, text->data, text->len);
    return spec_default_type(vm, s, "application/json");
}

bool hc_spec_body(qvm *vm, hc_spec *s, const char *fname, qval v)
{
    if (IS_STR(v)) {
        spec_set_body(s, AS_STR(v)->data, AS_STR(v)->len);
    } else if (IS_KIND(v, QO_BYTES)) {
        spec_set_body(s, (const char *)AS_BYTES(v)->data, AS_BYTES(v)->len);
    } else if (IS_DICT(v) || IS_ARRAY(v)) {
        return hc_spec_json(vm, s, v);
    } else {
        vm_raise(vm, E_TYPE, "%s: body must be Str, Bytes, Dict or Array, got %s", fname, vm_cls_name(v));
        return false;
    }
    return true;
}

bool hc_spec_form(qvm *vm, hc_spec *s, const char *fname, qval dict)
{
    qbuf b;
    buf_init(&b);
    if (!hc_form_encode(vm, &b, fname, dict)) {
        buf_free(&b);
        return false;
    }
    spec_set_body(s, b.data ? b.data : "", b.len);
    buf_free(&b);
    return spec_default_type(vm, s, "application/x-www-form-urlencoded");
}
