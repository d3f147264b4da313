/* srv_response.c — a handler's value onto the wire: the reference's
 * response Dict (status, headers, body, json, cookies), or a Str / Bytes
 * body, or nil (204).  Everything handed to h2o is copied into req->pool. */
#include <stdlib.h>
#include <string.h>

#include "modules/encoding/json.h"
#include "server/srv.h"
#include "server/srv_cache.h"

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 413: return "Payload Too Large";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return status < 300 ? "OK" : status < 400 ? "Redirect" : status < 500 ? "Client Error" : "Server Error";
    }
}

static void add_header(h2o_req_t *req, const char *name, size_t nlen, const char *value, size_t vlen)
{
    h2o_add_header_by_str(&req->pool, &req->res.headers, h2o_strdup(&req->pool, name, nlen).base, nlen, 1,
                          NULL, h2o_strdup(&req->pool, value, vlen).base, vlen);
}

/* A header h2o knows by token with a literal value: nothing to copy or look up. */
static void add_literal(h2o_req_t *req, const h2o_token_t *token, const char *value, size_t len)
{
    h2o_add_header(&req->pool, &req->res.headers, token, NULL, value, len);
}

/* h2o would write its server_name with a sprintf of its own for each
 * response; a token header with a constant value costs no formatting. */
void srv_add_server_header(h2o_req_t *req)
{
    add_literal(req, H2O_TOKEN_SERVER, H2O_STRLIT("quest"));
}

/* An upgrade request has it already when it became a WebSocket (see
 * srv_on_req); only then is one there before the response starts. */
static void on_setup_ostream(h2o_filter_t *self, h2o_req_t *req, h2o_ostream_t **slot)
{
    (void)self;
    if (!req->upgrade.base || h2o_find_header(&req->res.headers, H2O_TOKEN_SERVER, -1) < 0)
        srv_add_server_header(req);
    h2o_setup_next_ostream(req, slot);
}

void srv_server_header_filter(h2o_pathconf_t *pathconf)
{
    h2o_create_filter(pathconf, sizeof(h2o_filter_t))->on_setup_ostream = on_setup_ostream;
}

static void send_body(h2o_req_t *req, int status, const char *body, size_t len)
{
    req->res.status = status;
    req->res.reason = reason(status);
    req->res.content_length = len;
    h2o_send_inline(req, body, len);
}

int srv_send_error(srv_worker *w, h2o_req_t *req, int status, const char *detail)
{
    char body[512];
    const char *what = status == 413 ? "Payload Too Large" : reason(status);
    int n = snprintf(body, sizeof body, "%d %s%s%s\n", status, what,
                     detail && (w->cfg->debug || status != 500) ? ": " : "",
                     detail && (w->cfg->debug || status != 500) ? detail : "");
    add_literal(req, H2O_TOKEN_CONTENT_TYPE, H2O_STRLIT("text/plain; charset=utf-8"));
    send_body(req, status, body, (size_t)n);
    return status;
}

/* Set-Cookie from `name: value` or `name: {value, path, domain, max_age,
 * secure, http_only, same_site}`. */
static void add_cookie(srv_worker *w, h2o_req_t *req, qstr *name, qval spec)
{
    qvm *vm = w->vm;
    qbuf b;
    buf_init(&b);
    buf_append(&b, name->data, name->len);
    buf_putc(&b, '=');
    qval v;
    if (IS_STR(spec)) {
        buf_append(&b, AS_STR(spec)->data, AS_STR(spec)->len);
    } else if (IS_DICT(spec)) {
        qdict *d = AS_DICT(spec);
        if (dict_get_cstr(d, "value", &v) && IS_STR(v))
            buf_append(&b, AS_STR(v)->data, AS_STR(v)->len);
        if (dict_get_cstr(d, "max_age", &v) && IS_INT(v))
            buf_printf(&b, "; Max-Age=%lld", (long long)v.as.i);
        if (dict_get_cstr(d, "path", &v) && IS_STR(v))
            buf_printf(&b, "; Path=%s", AS_STR(v)->data);
        if (dict_get_cstr(d, "domain", &v) && IS_STR(v))
            buf_printf(&b, "; Domain=%s", AS_STR(v)->data);
        if (dict_get_cstr(d, "secure", &v) && vm_truthy(v))
            buf_puts(&b, "; Secure");
        if (dict_get_cstr(d, "http_only", &v) && vm_truthy(v))
            buf_puts(&b, "; HttpOnly");
        if (dict_get_cstr(d, "same_site", &v) && IS_STR(v))
            buf_printf(&b, "; SameSite=%s", AS_STR(v)->data);
    } else {
        buf_free(&b);
        return;
    }
    (void)vm;
    add_header(req, H2O_STRLIT("set-cookie"), b.data, b.len);
    buf_free(&b);
}

static bool has_header(const qdict *headers, const char *lower)
{
    for (uint32_t i = 0; headers && i < headers->used; i++)
        if (headers->entries[i].key && strcasecmp(headers->entries[i].key->data, lower) == 0)
            return true;
    return false;
}

/* The JSON text of a response, written into the worker's reusable buffer. */
static int send_json(srv_worker *w, h2o_req_t *req, int status, qval v, const qdict *headers)
{
    qbuf *out = &w->cache->out;
    out->len = 0;
    bool ok = json_write(w->vm, v, -1, out);
    if (ok) {
        if (!has_header(headers, "content-type"))
            add_literal(req, H2O_TOKEN_CONTENT_TYPE, H2O_STRLIT("application/json"));
        send_body(req, status, out->data, out->len); /* h2o copies it */
    }
    if (out->cap > SRV_OUT_KEEP) /* one huge answer does not pin its buffer */
        buf_free(out);
    if (!ok) {
        srv_log_exception(w, "encoding a json response");
        return srv_send_error(w, req, 500, "response is not JSON-encodable");
    }
    return status;
}

/* The parts of a response Dict, found in one pass over its entries. */
typedef struct response_parts {
    qval status, headers, cookies, json, body;
    bool has_status, has_json;
} response_parts;

/* Is key the field `name` (interned)?  Literal keys are interned too, so
 * this is a pointer comparison except for keys built at run time. */
static bool key_is(const qstr *key, const qstr *name)
{
    return key == name || (!key->interned && str_equal(key, name));
}

static void find_parts(const srv_cache *c, const qdict *d, response_parts *r)
{
    *r = (response_parts){.status = qv_nil(), .headers = qv_nil(), .cookies = qv_nil(), .json = qv_nil(),
                          .body = qv_nil()};
    for (uint32_t i = 0; i < d->used; i++) {
        const qdict_entry *e = &d->entries[i];
        if (!e->key)
            continue;
        if (key_is(e->key, c->k_status)) {
            r->status = e->val;
            r->has_status = true;
        } else if (key_is(e->key, c->field[SRV_F_HEADERS])) {
            r->headers = e->val;
        } else if (key_is(e->key, c->field[SRV_F_COOKIES])) {
            r->cookies = e->val;
        } else if (key_is(e->key, c->k_json)) {
            r->json = e->val;
            r->has_json = true;
        } else if (key_is(e->key, c->field[SRV_F_BODY])) {
            r->body = e->val;
        }
    }
}

static int send_dict(srv_worker *w, h2o_req_t *req, qdict *d)
{
    qvm *vm = w->vm;
    response_parts r;
    find_parts(w->cache, d, &r);
    int status = 200;
    if (r.has_status) {
        if (!IS_INT(r.status) || r.status.as.i < 100 || r.status.as.i > 999) {
            srv_log_error(w, "response status must be an Int from 100 to 999");
            return srv_send_error(w, req, 500, "invalid response status");
        }
        status = (int)r.status.as.i;
    }
    qdict *headers = IS_DICT(r.headers) ? AS_DICT(r.headers) : NULL;
    bool ran_code = false;
    for (uint32_t i = 0; headers && i < headers->used; i++) {
        qdict_entry *e = &headers->entries[i];
        if (!e->key)
            continue;
        if (IS_STR(e->val)) {
            add_header(req, e->key->data, e->key->len, AS_STR(e->val)->data, AS_STR(e->val)->len);
        } else if (IS_ARRAY(e->val)) { /* repeated header */
            qarray *a = AS_ARRAY(e->val);
            for (uint32_t j = 0; j < a->len; j++)
                if (IS_STR(a->items[j]))
                    add_header(req, e->key->data, e->key->len, AS_STR(a->items[j])->data, AS_STR(a->items[j])->len);
        } else if (!IS_NIL(e->val)) {
            qstr *key = e->key; /* vm_to_str may run Quest code (vm.h), which may change the Dicts */
            vm_push_root(vm, qv_obj(key));
            qstr *s = vm_to_str(vm, e->val);
            if (s)
                add_header(req, key->data, key->len, s->data, s->len);
            vm_pop_roots(vm, 1);
            ran_code = true;
        }
    }
    if (ran_code) { /* what was found before may be gone */
        find_parts(w->cache, d, &r);
        headers = IS_DICT(r.headers) ? AS_DICT(r.headers) : NULL;
    }
    qdict *cookies = IS_DICT(r.cookies) ? AS_DICT(r.cookies) : NULL;
    for (uint32_t i = 0; cookies && i < cookies->used; i++)
        if (cookies->entries[i].key)
            add_cookie(w, req, cookies->entries[i].key, cookies->entries[i].val);
    if (r.has_json)
        return send_json(w, req, status, r.json, headers);
    qval v = r.body;
    if (IS_NIL(v)) {
        send_body(req, status, "", 0);
    } else if (IS_STR(v)) {
        send_body(req, status, AS_STR(v)->data, AS_STR(v)->len);
    } else if (IS_BYTES(v)) {
        send_body(req, status, (const char *)AS_BYTES(v)->data, AS_BYTES(v)->len);
    } else {
        srv_log_error(w, "response body must be Str or Bytes, got %s", vm_cls_name(v));
        return srv_send_error(w, req, 500, "invalid response body");
    }
    return status;
}

int srv_send_value(srv_worker *w, h2o_req_t *req, qval v)
{
    if (IS_DICT(v)) {
        vm_push_root(w->vm, v); /* a header value's str() may run Quest code */
        int status = send_dict(w, req, AS_DICT(v));
        vm_pop_roots(w->vm, 1);
        return status;
    }
    if (IS_STR(v)) {
        add_literal(req, H2O_TOKEN_CONTENT_TYPE, H2O_STRLIT("text/plain; charset=utf-8"));
        send_body(req, 200, AS_STR(v)->data, AS_STR(v)->len);
        return 200;
    }
    if (IS_BYTES(v)) {
        add_literal(req, H2O_TOKEN_CONTENT_TYPE, H2O_STRLIT("application/octet-stream"));
        send_body(req, 200, (const char *)AS_BYTES(v)->data, AS_BYTES(v)->len);
        return 200;
    }
    if (IS_NIL(v)) {
        send_body(req, 204, "", 0);
        return 204;
    }
    srv_log_error(w, "a handler returned %s; expected a Dict, Str, Bytes or nil", vm_cls_name(v));
    return srv_send_error(w, req, 500, "invalid response");
}
