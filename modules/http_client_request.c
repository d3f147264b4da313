/* http_client_request.c — HttpRequest, the builder of client.request():
 * each setter records a part and returns the request itself; send() turns
 * the parts, over the client's settings and default headers, into an
 * hc_spec and sends it. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "modules/http_client.h"

typedef enum { BODY_NONE, BODY_RAW, BODY_JSON, BODY_FORM, BODY_TEXT } body_kind;

typedef struct hc_request {
    qval client;
    qstr *method, *url;
    qdict *headers;
    qdict *queries;
    qval body;
    body_kind kind;
    double timeout;   /* < 0: the client's */
} hc_request;

static void request_mark(qvm *vm, void *p)
{
    hc_request *r = p;
    vm_mark_value(vm, r->client);
    vm_mark_obj(vm, (qobj *)r->method);
    vm_mark_obj(vm, (qobj *)r->url);
    vm_mark_obj(vm, (qobj *)r->headers);
    vm_mark_obj(vm, (qobj *)r->queries);
    vm_mark_value(vm, r->body);
}

static const qcdata_class request_class = {"HttpRequest", free, request_mark, NULL};

qval hc_request_new(qvm *vm, qval client, qstr *method, qstr *url)
{
    hc_request *r = malloc(sizeof *r);
    if (!r)
        return vm_raise(vm, E_RUNTIME, "std/http/client: out of memory");
    r->client = client;
    r->method = method;
    r->url = url;
    r->headers = dict_new(vm);
    r->queries = dict_new(vm);
    r->body = qv_nil();
    r->kind = BODY_NONE;
    r->timeout = -1;
    return qv_obj(cdata_new(vm, hc_state_of(vm)->request_type, &request_class, r));
}

#define SELF(self) ((hc_request *)AS_CDATA(self)->data)

/* ---- setters ------------------------------------------------------------------------------ */

static qval req_header(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qstr *name;
    if (!arg_str(vm, "header", argv[0], &name))
        return qv_exc();
    dict_set(vm, SELF(self)->headers, name, argv[1]);
    return self;
}

/* Copy every entry of a Dict argument into d. */
static qval merge_dict(qvm *vm, qval self, qdict *d, const char *fname, qval arg)
{
    qdict *src;
    if (!arg_dict(vm, fname, arg, &src))
        return qv_exc();
    for (uint32_t i = 0; i < src->used; i++)
        if (src->entries[i].key)
            dict_set(vm, d, src->entries[i].key, src->entries[i].val);
    return self;
}

static qval req_headers(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    return merge_dict(vm, self, SELF(self)->headers, "headers", argv[0]);
}

static qval req_query(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qstr *key;
    if (!arg_str(vm, "query", argv[0], &key))
        return qv_exc();
    dict_set(vm, SELF(self)->queries, key, argv[1]);
    return self;
}

static qval req_queries(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    return merge_dict(vm, self, SELF(self)->queries, "queries", argv[0]);
}

static qval set_body(qval self, qval v, body_kind kind)
{
    SELF(self)->body = v;
    SELF(self)->kind = kind;
    return self;
}

static qval req_body(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qval v = argv[0];
    if (!IS_STR(v) && !IS_BYTES(v) && !IS_DICT(v) && !IS_ARRAY(v))
        return vm_raise(vm, E_TYPE, "body expects Str, Bytes, Dict or Array, got %s", vm_cls_name(v));
    return set_body(self, v, BODY_RAW);
}

static qval req_json(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc;
    return set_body(self, argv[0], BODY_JSON);
}

static qval req_form(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qdict *d;
    if (!arg_dict(vm, "form", argv[0], &d))
        return qv_exc();
    return set_body(self, argv[0], BODY_FORM);
}

static qval req_text(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qstr *s;
    if (!arg_str(vm, "text", argv[0], &s))
        return qv_exc();
    return set_body(self, argv[0], BODY_TEXT);
}

static qval req_bytes(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    if (!IS_BYTES(argv[0]))
        return vm_raise(vm, E_TYPE, "bytes expects Bytes, got %s", vm_cls_name(argv[0]));
    return set_body(self, argv[0], BODY_RAW);
}

static qval req_timeout(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    double secs;
    if (!hc_seconds(vm, "timeout", argv[0], &secs))
        return qv_exc();
    SELF(self)->timeout = secs;
    return self;
}

/* ---- getters ---------------------------------------------------------------------------------- */

static qval req_url(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return qv_obj(SELF(self)->url);
}

static qval req_method(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return qv_obj(SELF(self)->method);
}

static qval req_get_header(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qstr *name;
    if (!arg_str(vm, "get_header", argv[0], &name))
        return qv_exc();
    qdict *d = SELF(self)->headers;
    qval found = qv_nil();
    for (uint32_t i = 0; i < d->used; i++) /* the last one set wins, as when sent */
        if (d->entries[i].key && strcasecmp(d->entries[i].key->data, name->data) == 0)
            found = d->entries[i].val;
    return found;
}

static qval copy_dict(qvm *vm, const qdict *src)
{
    qdict *d = dict_new(vm);
    for (uint32_t i = 0; i < src->used; i++)
        if (src->entries[i].key)
            dict_set(vm, d, src->entries[i].key, src->entries[i].val);
    return qv_obj(d);
}

static qval req_get_headers(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return copy_dict(vm, SELF(self)->headers);
}

static qval req_get_query(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qstr *key;
    if (!arg_str(vm, "get_query", argv[0], &key))
        return qv_exc();
    qval v = qv_nil();
    dict_get(SELF(self)->queries, key, &v);
    return v;
}

static qval req_get_queries(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return copy_dict(vm, SELF(self)->queries);
}

static qval req_str(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return qv_obj(str_printf(vm, "<HttpRequest %s %s>", SELF(self)->method->data, SELF(self)->url->data));
}

/* ---- send ---------------------------------------------------------------------------------------- */

static bool request_body(qvm *vm, hc_request *r, hc_spec *s)
{
    switch (r->kind) {
    case BODY_NONE: return true;
    case BODY_RAW: return hc_spec_body(vm, s, "body", r->body);
    case BODY_JSON: return hc_spec_json(vm, s, r->body);
    case BODY_FORM: return hc_spec_form(vm, s, "form", r->body);
    case BODY_TEXT:
        if (!hc_spec_body(vm, s, "text", r->body))
            return false;
        return hc_spec_has_header(s, "Content-Type") ||
               hc_spec_header(vm, s, str_cstr(vm, "Content-Type"), qv_obj(str_cstr(vm, "text/plain; charset=utf-8")));
    }
    return true;
}

static qval req_send(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    hc_request *r = SELF(self);
    hc_spec s;
    bool ok = hc_spec_init(vm, &s, r->method->data, r->url) && hc_client_apply(vm, r->client, &s) &&
              hc_spec_headers(vm, &s, "headers", qv_obj(r->headers)) &&
              hc_spec_query(vm, &s, "queries", qv_obj(r->queries)) && request_body(vm, r, &s);
    if (!ok) {
        hc_spec_free(&s);
        return qv_exc();
    }
    if (r->timeout >= 0)
        s.set.timeout = r->timeout;
    qtask *t = hc_send(vm, &s, self);
    return t ? hc_deliver(vm, t, r->method->data, r->url->data) : qv_exc();
}

static const qmethod_def request_methods[] = {
    {"header", req_header, 2, 2, false},
    {"headers", req_headers, 1, 1, false},
    {"query", req_query, 2, 2, false},
    {"queries", req_queries, 1, 1, false},
    {"body", req_body, 1, 1, false},
    {"json", req_json, 1, 1, false},
    {"form", req_form, 1, 1, false},
    {"text", req_text, 1, 1, false},
    {"bytes", req_bytes, 1, 1, false},
    {"timeout", req_timeout, 1, 1, false},
    {"send", req_send, 0, 0, false},
    {"url", req_url, 0, 0, false},
    {"method", req_method, 0, 0, false},
    {"get_header", req_get_header, 1, 1, false},
    {"get_headers", req_get_headers, 0, 0, false},
    {"get_query", req_get_query, 1, 1, false},
    {"get_queries", req_get_queries, 0, 0, false},
    {"str", req_str, 0, 0, false},
    {"_rep", req_str, 0, 0, false},
    {NULL, NULL, 0, 0, false},
};

void hc_request_init(qvm *vm, hc_state *st)
{
    st->request_type = vm_new_cdata_type(vm, "HttpRequest", request_methods);
}
