/* srv_cache.c — what every request would otherwise build afresh, made once
 * per worker: the request Dict's keys (a template Dict that each request
 * copies with dict_shallow_copy, so no key is hashed or interned per request), the
 * constant strings the Dict holds ("", "http", "HTTP/1.1" ...), header
 * names by h2o token, and the last value seen in a few places (method,
 * path, host, client address, each known header, and the peer address of
 * each recent connection), handed out again while requests repeat them.  Quest strings are immutable, so sharing
 * one between requests cannot be observed.  Everything hangs off one cdata
 * object rooted for the worker's lifetime, whose mark function keeps it
 * alive. */
#include <stdlib.h>
#include <string.h>

#include "server/srv_cache.h"

/* Values longer than this are not remembered: the cache stays small. */
#define SRV_CACHE_MAX 256

static const char *const field_names[SRV_F__COUNT] = {
    [SRV_F_METHOD] = "method",
    [SRV_F_PATH] = "path",
    [SRV_F_QUERY_STRING] = "query_string",
    [SRV_F_QUERY] = "query",
    [SRV_F_HEADERS] = "headers",
    [SRV_F_USER_AGENT] = "user_agent",
    [SRV_F_REFERER] = "referer",
    [SRV_F_CONTENT_TYPE] = "content_type",
    [SRV_F_COOKIES] = "cookies",
    [SRV_F_BODY] = "body",
    [SRV_F_CONTENT_LENGTH] = "content_length",
    [SRV_F_VERSION] = "version",
    [SRV_F_HOST] = "host",
    [SRV_F_REMOTE_ADDR] = "remote_addr",
    [SRV_F_CLIENT_IP] = "client_ip",
    [SRV_F_SCHEME] = "scheme",
    [SRV_F_PARAMS] = "params",
};

static void mark_strs(qvm *vm, qstr **s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        vm_mark_obj(vm, (qobj *)s[i]);
}

static void cache_mark(qvm *vm, void *data)
{
    srv_cache *c = data;
    vm_mark_obj(vm, (qobj *)c->request); /* and through it the field keys */
    qstr *fixed[] = {c->k_status, c->k_json, c->empty, c->http, c->https,
                     c->unknown, c->http10, c->http11, c->http20, c->request_task};
    mark_strs(vm, fixed, sizeof fixed / sizeof *fixed);
    mark_strs(vm, c->slot, SRV_S__COUNT);
    for (int i = 0; i < SRV_PEER_SLOTS; i++) {
        vm_mark_obj(vm, (qobj *)c->peer[i].addr);
        vm_mark_obj(vm, (qobj *)c->peer[i].ip);
    }
    mark_strs(vm, c->header_name, H2O_MAX_TOKENS);
    mark_strs(vm, c->header_value, H2O_MAX_TOKENS);
}

static void cache_free(void *data)
{
    srv_cache *c = data;
    buf_free(&c->out);
    free(c);
}

static const qcdata_class cache_class = {"ServerCache", cache_free, cache_mark, NULL};

void srv_cache_init(srv_worker *w)
{
    qvm *vm = w->vm;
    srv_cache *c = calloc(1, sizeof *c);
    if (!c)
        abort();
    /* Rooted before anything else is allocated: a collection may run
     * whenever Quest code runs next, and everything below hangs off it. */
    qcdata *holder = cdata_new(vm, vm_new_cdata_type(vm, "ServerCache", NULL), &cache_class, c);
    vm_push_root(vm, qv_obj(holder));
    c->request = dict_new(vm);
    for (int f = 0; f < SRV_F__COUNT; f++) {
        c->field[f] = str_intern_cstr(vm, field_names[f]);
        dict_set(vm, c->request, c->field[f], qv_nil());
    }
    c->k_status = str_intern_cstr(vm, "status");
    c->k_json = str_intern_cstr(vm, "json");
    c->empty = str_new(vm, "", 0);
    c->http = str_cstr(vm, "http");
    c->https = str_cstr(vm, "https");
    c->unknown = str_cstr(vm, "unknown");
    c->http10 = str_cstr(vm, "HTTP/1.0");
    c->http11 = str_cstr(vm, "HTTP/1.1");
    c->http20 = str_cstr(vm, "HTTP/2.0");
    c->request_task = str_intern_cstr(vm, "request");
    w->cache = c;
}

qstr *srv_cache_str(qvm *vm, qstr **slot, const char *s, size_t len)
{
    qstr *c = *slot;
    if (c && c->len == len && memcmp(c->data, s, len) == 0)
        return c;
    c = str_new(vm, s, len);
    if (len <= SRV_CACHE_MAX)
        *slot = c;
    return c;
}

static int token_index(const h2o_iovec_t *name)
{
    return h2o_iovec_is_token(name) ? (int)((const h2o_token_t *)name - h2o__tokens) : -1;
}

qstr *srv_cache_header_name(srv_worker *w, const h2o_iovec_t *name)
{
    int t = token_index(name);
    if (t < 0)
        return str_new(w->vm, name->base, name->len);
    srv_cache *c = w->cache;
    if (!c->header_name[t])
        c->header_name[t] = str_intern(w->vm, name->base, name->len);
    return c->header_name[t];
}

qstr *srv_cache_header_value(srv_worker *w, const h2o_header_t *h)
{
    int t = token_index(h->name);
    if (t < 0)
        return str_new(w->vm, h->value.base, h->value.len);
    return srv_cache_str(w->vm, &w->cache->header_value[t], h->value.base, h->value.len);
}
