/* http_client.c — std/http/client: outbound HTTP (the reference's API).
 *
 *   get/post/put/delete/patch/head/options(url, headers:, query:, body:,
 *       json:, form:, timeout:)      one request with a fresh client
 *   client(timeout:, headers:, max_redirects:, max_response_size:,
 *          verify:, ca_file:)        -> HttpClient: the same verbs, a
 *       cookie jar, default headers; request(method, url) -> HttpRequest
 *
 * Every request runs on the VM's event loop (http_client_curl.c).  Called
 * from an `async fun` it returns a Task to await; from sync code it waits
 * for the response (a script, a test), which a running server refuses
 * with a message saying to await it.  Failures raise HttpErr, whose child
 * TimeoutErr (caught by `catch e: TimeoutErr` too) reports deadlines.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "modules/http_client.h"

hc_state *hc_state_of(qvm *vm)
{
    return vm_module_state(vm, HC_MODULE);
}

/* ---- HttpClient ------------------------------------------------------------------------------- */

typedef struct hc_client {
    hc_settings set;
    qdict *headers;   /* sent with every request, under the request's own */
    CURLSH *share;    /* the cookie jar */
} hc_client;

static void client_mark(qvm *vm, void *p)
{
    vm_mark_obj(vm, (qobj *)((hc_client *)p)->headers);
}

static void client_free(void *p)
{
    hc_client *c = p;
    curl_share_cleanup(c->share);
    free(c->set.ca_file);
    free(c);
}

static const qcdata_class client_class = {"HttpClient", client_free, client_mark, NULL};

#define SELF(self) ((hc_client *)AS_CDATA(self)->data)

static const hc_settings default_settings = {
    HC_DEFAULT_TIMEOUT, HC_DEFAULT_REDIRECTS, HC_DEFAULT_MAX_RESPONSE, true, NULL,
};

/* Settings, default headers and cookie jar of client (nil: a fresh client's). */
bool hc_client_apply(qvm *vm, qval client, hc_spec *s)
{
    if (IS_NIL(client)) {
        s->set = default_settings;
        return true;
    }
    hc_client *c = SELF(client);
    s->set = c->set;
    s->set.ca_file = NULL;
    if (c->set.ca_file && !(s->set.ca_file = strdup(c->set.ca_file))) {
        vm_raise(vm, E_RUNTIME, "out of memory");
        return false;
    }
    s->share = c->share;
    return hc_spec_headers(vm, s, "headers", qv_obj(c->headers));
}

/* ---- keyword options ------------------------------------------------------------------------------ */

static qval kwarg(qdict *kw, const char *name)
{
    qval v = qv_nil();
    if (kw)
        dict_get_cstr(kw, name, &v);
    return v;
}

/* Reject names outside `known` (NULL-terminated). */
static bool check_kwargs(qvm *vm, const char *fname, qdict *kw, const char *const *known)
{
    for (uint32_t i = 0; kw && i < kw->used; i++) {
        qstr *k = kw->entries[i].key;
        if (!k)
            continue;
        const char *const *p = known;
        while (*p && strcmp(*p, k->data) != 0)
            p++;
        if (!*p) {
            vm_raise(vm, E_ARG, "%s: unknown keyword argument '%s'", fname, k->data);
            return false;
        }
    }
    return true;
}

static const char *const request_options[] = {"headers", "query", "body", "json", "form", "timeout", NULL};

/* headers:, query:, body: | json: | form:, timeout: onto s. */
static bool apply_request_options(qvm *vm, const char *fname, qdict *kw, hc_spec *s)
{
    if (!check_kwargs(vm, fname, kw, request_options))
        return false;
    qval headers = kwarg(kw, "headers"), query = kwarg(kw, "query"), timeout = kwarg(kw, "timeout");
    qval body = kwarg(kw, "body"), json = kwarg(kw, "json"), form = kwarg(kw, "form");
    if (!IS_NIL(body) + !IS_NIL(json) + !IS_NIL(form) > 1) {
        vm_raise(vm, E_ARG, "%s: give one of body:, json: and form:", fname);
        return false;
    }
    if (!IS_NIL(headers) && !hc_spec_headers(vm, s, fname, headers))
        return false;
    if (!IS_NIL(query) && !hc_spec_query(vm, s, fname, query))
        return false;
    if (!IS_NIL(body) && !hc_spec_body(vm, s, fname, body))
        return false;
    if (!IS_NIL(json) && !hc_spec_json(vm, s, json))
        return false;
    if (!IS_NIL(form) && !hc_spec_form(vm, s, fname, form))
        return false;
    return IS_NIL(timeout) || hc_seconds(vm, fname, timeout, &s->set.timeout);
}

/* ---- the verbs ------------------------------------------------------------------------------------ */

/* method url with client's settings (nil: a fresh client) and the
 * caller's keyword options. */
static qval verb(qvm *vm, qval client, const char *method, const char *fname, qval url)
{
    qstr *u;
    if (!arg_str(vm, fname, url, &u))
        return qv_exc();
    qdict *kw = vm_kwargs(vm);
    if (kw)
        vm_push_root(vm, qv_obj(kw)); /* options may call str() on user values */
    hc_spec s;
    bool ok = hc_spec_init(vm, &s, method, u) && hc_client_apply(vm, client, &s) &&
              apply_request_options(vm, fname, kw, &s);
    if (kw)
        vm_pop_roots(vm, 1);
    if (!ok) {
        hc_spec_free(&s);
        return qv_exc();
    }
    qtask *t = hc_send(vm, &s, client);
    return t ? hc_deliver(vm, t, method, u->data) : qv_exc();
}

#define VERBS(X) \
    X(get, "GET") X(post, "POST") X(put, "PUT") X(delete, "DELETE") X(patch, "PATCH") \
    X(head, "HEAD") X(options, "OPTIONS")

#define MODULE_VERB(name, method) \
    static qval mod_##name(qvm *vm, qval self, int argc, qval *argv) \
    { \
        (void)self, (void)argc; \
        return verb(vm, qv_nil(), method, #name, argv[0]); \
    } \
    static qval client_##name(qvm *vm, qval self, int argc, qval *argv) \
    { \
        (void)argc; \
        return verb(vm, self, method, #name, argv[0]); \
    }
VERBS(MODULE_VERB)

/* ---- HttpClient methods ---------------------------------------------------------------------------- */

static qval client_request(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qstr *method, *url;
    if (!arg_str(vm, "request", argv[0], &method) || !arg_str(vm, "request", argv[1], &url))
        return qv_exc();
    return hc_request_new(vm, self, method, url);
}

static qval client_set_timeout(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    return hc_seconds(vm, "set_timeout", argv[0], &SELF(self)->set.timeout) ? qv_nil() : qv_exc();
}

static qval client_timeout(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    double t = SELF(self)->set.timeout;
    return t == floor(t) && t < 9e15 ? qv_int((int64_t)t) : qv_float(t);
}

static qval client_set_header(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qstr *name;
    if (!arg_str(vm, "set_header", argv[0], &name))
        return qv_exc();
    dict_set(vm, SELF(self)->headers, name, argv[1]);
    return qv_nil();
}

static qval client_set_headers(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qdict *d;
    if (!arg_dict(vm, "set_headers", argv[0], &d))
        return qv_exc();
    for (uint32_t i = 0; i < d->used; i++)
        if (d->entries[i].key)
            dict_set(vm, SELF(self)->headers, d->entries[i].key, d->entries[i].val);
    return qv_nil();
}

static qval client_headers(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    qdict *src = SELF(self)->headers, *d = dict_new(vm);
    for (uint32_t i = 0; i < src->used; i++)
        if (src->entries[i].key)
            dict_set(vm, d, src->entries[i].key, src->entries[i].val);
    return qv_obj(d);
}

static qval client_str(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc, (void)argv;
    return qv_obj(str_cstr(vm, "<HttpClient>"));
}

#define CLIENT_VERB_DEF(name, method) {#name, client_##name, 1, 1, true},
static const qmethod_def client_methods[] = {
    VERBS(CLIENT_VERB_DEF)
    {"request", client_request, 2, 2, false},
    {"set_timeout", client_set_timeout, 1, 1, false},
    {"timeout", client_timeout, 0, 0, false},
    {"set_header", client_set_header, 2, 2, false},
    {"set_headers", client_set_headers, 1, 1, false},
    {"headers", client_headers, 0, 0, false},
    {"str", client_str, 0, 0, false},
    {"_rep", client_str, 0, 0, false},
    {NULL, NULL, 0, 0, false},
};

/* ---- http.client(...) ------------------------------------------------------------------------------ */

static const char *const client_settings_options[] = {"timeout", "headers", "max_redirects", "max_response_size",
                                             "verify", "ca_file", NULL};

static bool client_configure(qvm *vm, hc_client *c, qdict *kw)
{
    if (!check_kwargs(vm, "client", kw, client_settings_options))
        return false;
    qval v;
    int64_t n;
    if (!IS_NIL(v = kwarg(kw, "timeout")) && !hc_seconds(vm, "client", v, &c->set.timeout))
        return false;
    if (!IS_NIL(v = kwarg(kw, "headers"))) {
        qdict *d;
        if (!arg_dict(vm, "client", v, &d))
            return false;
        for (uint32_t i = 0; i < d->used; i++)
            if (d->entries[i].key)
                dict_set(vm, c->headers, d->entries[i].key, d->entries[i].val);
    }
    if (!IS_NIL(v = kwarg(kw, "max_redirects"))) {
        if (!arg_int(vm, "client", v, &n))
            return false;
        if (n < 0 || n > 1000) {
            vm_raise(vm, E_VALUE, "client: max_redirects must be between 0 and 1000");
            return false;
        }
        c->set.max_redirects = (long)n;
    }
    if (!IS_NIL(v = kwarg(kw, "max_response_size"))) {
        if (!arg_int(vm, "client", v, &n))
            return false;
        if (n <= 0 || n > UINT32_MAX) {
            vm_raise(vm, E_VALUE, "client: max_response_size must be between 1 and 4294967295 bytes");
            return false;
        }
        c->set.max_response = n;
    }
    if (!IS_NIL(v = kwarg(kw, "verify"))) {
        if (!IS_BOOL(v)) {
            vm_raise(vm, E_TYPE, "client: verify must be a Bool");
            return false;
        }
        c->set.verify = v.as.b;
    }
    if (!IS_NIL(v = kwarg(kw, "ca_file"))) {
        qstr *path;
        if (!arg_str(vm, "client", v, &path))
            return false;
        if (!(c->set.ca_file = strdup(path->data))) {
            vm_raise(vm, E_RUNTIME, "out of memory");
            return false;
        }
    }
    return true;
}

static qval mod_client(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc, (void)argv;
    hc_client *c = calloc(1, sizeof *c);
    if (!c)
        return vm_raise(vm, E_RUNTIME, "std/http/client: out of memory");
    c->set = default_settings;
    c->headers = dict_new(vm);
    c->share = curl_share_init();
    /* One VM is one thread: the jar needs no locks. */
    if (c->share)
        curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_COOKIE);
    qval v = qv_obj(cdata_new(vm, hc_state_of(vm)->client_type, &client_class, c));
    if (!c->share)
        return vm_raise(vm, E_RUNTIME, "std/http/client: out of memory");
    return client_configure(vm, c, vm_kwargs(vm)) ? v : qv_exc();
}

/* ---- the module -------------------------------------------------------------------------------------- */

#define MODULE_VERB_DEF(name, method) {#name, mod_##name, 1, 1, true},
static const qmethod_def module_fns[] = {
    VERBS(MODULE_VERB_DEF)
    {"client", mod_client, 0, 0, true},
    {NULL, NULL, 0, 0, false},
};

static void state_free(qvm *vm, void *p)
{
    (void)vm;
    hc_state *st = p;
    hc_engine_free(st->engine);
    free(st);
    curl_global_cleanup();
}

static hc_state *state_new(qvm *vm)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        vm_raise(vm, E_RUNTIME, "std/http/client: libcurl failed to initialise");
        return NULL;
    }
    hc_state *st = calloc(1, sizeof *st);
    if (!st) {
        curl_global_cleanup();
        vm_raise(vm, E_RUNTIME, "std/http/client: out of memory");
        return NULL;
    }
    st->client_type = vm_new_cdata_type(vm, "HttpClient", client_methods);
    hc_request_init(vm, st);
    hc_response_init(vm, st);
    st->http_err = vm_new_exc_type(vm, "HttpErr", NULL);
    st->timeout_err = vm_new_exc_type(vm, "TimeoutErr", st->http_err);
    vm_set_module_state(vm, HC_MODULE, st, state_free);
    return st;
}

bool http_client_module_init(qvm *vm, qmodule *m)
{
    hc_state *st = hc_state_of(vm);
    if (!st && !(st = state_new(vm)))
        return false;
    module_export_fns(vm, m, module_fns);
    /* The module keeps the types alive (the state only points at them). */
    module_export(vm, m, "HttpClient", qv_obj(st->client_type));
    module_export(vm, m, "HttpRequest", qv_obj(st->request_type));
    module_export(vm, m, "HttpResponse", qv_obj(st->response_type));
    module_export(vm, m, "HttpErr", qv_obj(st->http_err));
    module_export(vm, m, "TimeoutErr", qv_obj(st->timeout_err));
    return true;
}
