/* srv_request.c — one HTTP request: the reference's request Dict, the call
 * of the handler inside a request scope (tasks it starts belong to the
 * request), and for async handlers the wait for their Task.  An async
 * handler runs inline (vm_call_async_inline): one that answers without
 * waiting needs no Task; one that waits becomes the Task waited for here.
 *
 * While a handler's Task runs, the h2o_req_t is guarded: a dispose callback
 * in req->pool (run when h2o frees the request for any reason, e.g. an
 * HTTP/2 reset) clears our pointer and cancels the handler, so a late
 * answer can never touch freed memory (stack.md §1).  A timer answers 504
 * and cancels the handler when the request timeout passes. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "server/srv.h"
#include "server/srv_cache.h"
#include "server/srv_multipart.h"

typedef struct srv_pending srv_pending;

typedef struct srv_guard {
    srv_pending *p;
} srv_guard;

struct srv_pending {
    srv_worker *w;
    h2o_req_t *req;       /* NULL once h2o disposed it */
    srv_guard *guard;
    qtask *handler;       /* the handler's Task */
    qtask *watcher;       /* native task woken when the handler finishes */
    qtask *scope;         /* owner of everything the request started */
    uv_timer_t timer;
    double started;
};

/* ---- the request Dict ------------------------------------------------------------- */

/* Field f of a Dict copied from the template (srv_request_dict). */
static void set(qdict *d, srv_field f, qval v)
{
    d->entries[f].val = v;
}

static qval text(qvm *vm, const char *s, size_t n)
{
    return qv_obj(str_new(vm, s, n));
}

static int hexval(int c)
{
    return isdigit(c) ? c - '0' : isxdigit(c) ? (tolower(c) - 'a' + 10) : -1;
}

/* Percent-decoding (the reference leaves '+' alone); invalid UTF-8 after
 * decoding keeps the raw text. */
static qval decoded(qvm *vm, const char *s, size_t n)
{
    qbuf b;
    buf_init(&b);
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < n + 0 && (hi = hexval((unsigned char)s[i + 1])) >= 0 &&
            (lo = hexval((unsigned char)s[i + 2])) >= 0) {
            buf_putc(&b, (char)(hi * 16 + lo));
            i += 2;
        } else {
            buf_putc(&b, s[i]);
        }
    }
    if (!utf8_valid(b.data ? b.data : "", b.len)) {
        buf_free(&b);
        return text(vm, s, n);
    }
    return qv_obj(buf_to_str(vm, &b));
}

static qdict *parse_query(qvm *vm, const char *q, size_t n)
{
    qdict *d = dict_new(vm);
    while (n) {
        const char *amp = memchr(q, '&', n);
        size_t part = amp ? (size_t)(amp - q) : n;
        if (part) {
            const char *eq = memchr(q, '=', part);
            size_t kl = eq ? (size_t)(eq - q) : part;
            qval k = decoded(vm, q, kl);
            qval v = eq ? decoded(vm, eq + 1, part - kl - 1) : qv_obj(str_new(vm, "", 0));
            dict_set(vm, d, AS_STR(k), v);
        }
        q += part + (amp != NULL);
        n -= part + (amp != NULL);
    }
    return d;
}

static qdict *parse_cookies(qvm *vm, const char *s, size_t n)
{
    qdict *d = dict_new(vm);
    while (n) {
        const char *semi = memchr(s, ';', n);
        size_t part = semi ? (size_t)(semi - s) : n;
        const char *p = s, *e = s + part;
        while (p < e && *p == ' ')
            p++;
        while (e > p && e[-1] == ' ')
            e--;
        const char *eq = memchr(p, '=', (size_t)(e - p));
        if (eq)
            dict_set(vm, d, str_new(vm, p, (size_t)(eq - p)), text(vm, eq + 1, (size_t)(e - eq - 1)));
        s += part + (semi != NULL);
        n -= part + (semi != NULL);
    }
    return d;
}

static bool trusted_proxy(const srv_config *cfg, const char *ip)
{
    for (int i = 0; i < cfg->nproxies; i++)
        if (strcmp(cfg->proxies[i], ip) == 0)
            return true;
    return false;
}

/* Decimal digits of v at p; returns the end. */
static char *put_uint(char *p, unsigned v)
{
    char tmp[10];
    int n = 0;
    do
        tmp[n++] = (char)('0' + v % 10);
    while (v /= 10);
    while (n)
        *p++ = tmp[--n];
    return p;
}

/* The peer's address as text, "unknown" when there is none; sets *port.
 * IPv4 by hand: glibc's inet_ntop formats each byte with sprintf. */
size_t srv_peer_text(h2o_req_t *req, char *out, size_t size, int *port)
{
    struct sockaddr_storage ss;
    socklen_t len = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss);
    *port = 0;
    if (len && ss.ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;
        const unsigned char *b = (const unsigned char *)&a->sin_addr;
        char *p = out;
        for (int i = 0; i < 4; i++) {
            p = put_uint(p, b[i]);
            *p++ = i < 3 ? '.' : '\0';
        }
        *port = ntohs(a->sin_port);
        return (size_t)(p - out - 1);
    }
    if (len && ss.ss_family == AF_INET6 && inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, out, size)) {
        *port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        return strlen(out);
    }
    memcpy(out, "unknown", 8);
    return 7;
}

/* The peer's "ip:port" and ip, made once per connection. */
static srv_peer *peer_of(srv_worker *w, h2o_req_t *req)
{
    srv_peer *p = &w->cache->peer[req->conn->id % SRV_PEER_SLOTS];
    if (p->conn == req->conn->id && p->addr)
        return p;
    qvm *vm = w->vm;
    char addr[INET6_ADDRSTRLEN + 8];
    int port;
    size_t n = srv_peer_text(req, addr, INET6_ADDRSTRLEN, &port);
    addr[n] = ':';
    char *end = put_uint(addr + n + 1, (unsigned)port);
    p->conn = req->conn->id;
    p->addr = str_new(vm, addr, (size_t)(end - addr));
    p->ip = srv_cache_str(vm, &w->cache->slot[SRV_S_CLIENT_IP], addr, n);
    return p;
}

/* Peer address; behind a trusted proxy, the client it names. */
static void client_address(srv_worker *w, h2o_req_t *req, qdict *d, const h2o_iovec_t *xff)
{
    srv_peer *p = peer_of(w, req);
    set(d, SRV_F_REMOTE_ADDR, qv_obj(p->addr));
    if (xff && trusted_proxy(w->cfg, p->ip->data)) {
        const char *comma = memchr(xff->base, ',', xff->len); /* the original client comes first */
        size_t k = comma ? (size_t)(comma - xff->base) : xff->len;
        while (k && xff->base[k - 1] == ' ')
            k--;
        set(d, SRV_F_CLIENT_IP, text(w->vm, xff->base, k));
        return;
    }
    set(d, SRV_F_CLIENT_IP, qv_obj(p->ip));
}

/* A multipart/form-data body as {fields, files}; nil when it cannot be
 * parsed, and then *refused (if given) says how to answer. */
static qval form_value(srv_worker *w, const qstr *ctype, const char *b, size_t n, srv_refusal *refused)
{
    srv_multipart mp = {0};
    srv_multipart_result r = srv_multipart_parse(&mp, ctype->data, ctype->len, b, n, w->cfg->max_form_parts,
                                                 w->cfg->max_header_size);
    qval v = r == SRV_MULTIPART_OK ? srv_multipart_value(w->vm, &mp) : qv_nil();
    if (r != SRV_MULTIPART_OK && refused) {
        refused->status = r == SRV_MULTIPART_TOO_MANY ? 413 : 400;
        if (r == SRV_MULTIPART_TOO_MANY)
            snprintf(refused->why, sizeof refused->why, "multipart/form-data with %s", mp.error);
        else
            snprintf(refused->why, sizeof refused->why, "Invalid multipart/form-data: %s", mp.error);
    }
    srv_multipart_free(&mp);
    return v;
}

static qval body_value(srv_worker *w, h2o_req_t *req, qval ctype, srv_refusal *refused)
{
    qvm *vm = w->vm;
    const char *b = req->entity.base ? req->entity.base : "";
    size_t n = req->entity.base ? req->entity.len : 0;
    if (AS_STR(ctype)->len && srv_multipart_is_form(AS_STR(ctype)->data, AS_STR(ctype)->len)) {
        qval form = form_value(w, AS_STR(ctype), b, n, refused);
        if (!IS_NIL(form))
            return form;
    }
    if (utf8_valid(b, n))
        return text(vm, b, n);
    return qv_obj(bytes_new(vm, b, n)); /* binary uploads stay intact */
}

static qval version_text(srv_cache *c, qvm *vm, int version)
{
    switch (version) {
    case 0x100: return qv_obj(c->http10);
    case 0x101: return qv_obj(c->http11);
    case 0x200: return qv_obj(c->http20);
    default: return qv_obj(str_printf(vm, "HTTP/%d.%d", version >> 8, version & 0xff));
    }
}

/* The Dict is a copy of the worker's template (srv_cache.c): every key is
 * already in place, in field order, so filling it is one store per field;
 * no key is hashed or interned per request. */
qval srv_request_dict(srv_worker *w, h2o_req_t *req, srv_refusal *refused)
{
    qvm *vm = w->vm;
    srv_cache *c = w->cache;
    qdict *d = dict_shallow_copy(vm, c->request);
    vm_push_root(vm, qv_obj(d));
    size_t plen = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
    const char *qs = req->query_at != SIZE_MAX ? req->path.base + req->query_at + 1 : "";
    size_t qlen = req->query_at != SIZE_MAX ? req->path.len - req->query_at - 1 : 0;
    set(d, SRV_F_METHOD, qv_obj(srv_cache_str(vm, &c->slot[SRV_S_METHOD], req->method.base, req->method.len)));
    set(d, SRV_F_PATH, qv_obj(srv_cache_str(vm, &c->slot[SRV_S_PATH], req->path.base, plen)));
    set(d, SRV_F_QUERY_STRING, qlen ? text(vm, qs, qlen) : qv_obj(c->empty));
    set(d, SRV_F_QUERY, qv_obj(parse_query(vm, qs, qlen)));
    qdict *headers = dict_new_sized(vm, (uint32_t)req->headers.size);
    set(d, SRV_F_HEADERS, qv_obj(headers));
    const h2o_iovec_t *xff = NULL, *xfp = NULL;
    qval agent = qv_obj(c->empty), referer = agent, ctype = agent, cookie = qv_nil();
    for (size_t i = 0; i < req->headers.size; i++) {
        const h2o_header_t *h = &req->headers.entries[i];
        qval v = qv_obj(srv_cache_header_value(w, h));
        dict_set(vm, headers, srv_cache_header_name(w, h->name), v);
        /* h2o gives its known header names as token pointers */
        if (h->name == &H2O_TOKEN_USER_AGENT->buf)
            agent = v;
        else if (h->name == &H2O_TOKEN_REFERER->buf)
            referer = v;
        else if (h->name == &H2O_TOKEN_CONTENT_TYPE->buf)
            ctype = v;
        else if (h->name == &H2O_TOKEN_COOKIE->buf)
            cookie = v;
        else if (h->name == &H2O_TOKEN_X_FORWARDED_FOR->buf)
            xff = &h->value;
        else if (h2o_memis(h->name->base, h->name->len, H2O_STRLIT("x-forwarded-proto")))
            xfp = &h->value;
    }
    set(d, SRV_F_USER_AGENT, agent);
    set(d, SRV_F_REFERER, referer);
    set(d, SRV_F_CONTENT_TYPE, ctype);
    set(d, SRV_F_COOKIES,
        qv_obj(IS_NIL(cookie) ? dict_new(vm) : parse_cookies(vm, AS_STR(cookie)->data, AS_STR(cookie)->len)));
    bool no_body = !req->entity.base && !AS_STR(ctype)->len;
    set(d, SRV_F_BODY, no_body ? qv_obj(c->empty) : body_value(w, req, ctype, refused));
    set(d, SRV_F_CONTENT_LENGTH, qv_int(req->entity.base ? (int64_t)req->entity.len : 0));
    set(d, SRV_F_VERSION, version_text(c, vm, req->version));
    set(d, SRV_F_HOST, qv_obj(req->authority.len ? srv_cache_str(vm, &c->slot[SRV_S_HOST], req->authority.base,
                                                                  req->authority.len)
                                                  : c->unknown));
    client_address(w, req, d, xff);
    bool https = xfp && w->cfg->nproxies && h2o_memis(xfp->base, xfp->len, H2O_STRLIT("https"));
    set(d, SRV_F_SCHEME, qv_obj(https ? c->https : c->http));
    set(d, SRV_F_PARAMS, qv_obj(dict_new(vm)));
    vm_pop_roots(vm, 1);
    return qv_obj(d);
}

/* ---- finishing ------------------------------------------------------------------------ */

static void pending_closed(uv_handle_t *h)
{
    free(h->data);
}

/* The request is over (answered, timed out or gone): end its scope, which
 * cancels whatever it left running, and free our record. */
static void pending_finish(srv_pending *p)
{
    srv_worker *w = p->w;
    if (p->guard)
        p->guard->p = NULL;
    uv_timer_stop(&p->timer);
    task_resolve(w->vm, p->scope, qv_nil());
    if (!task_is_done(p->watcher))
        task_cancel(w->vm, p->watcher);
    w->inflight--;
    uv_close((uv_handle_t *)&p->timer, pending_closed);
}

static void answer(srv_pending *p, qval v, bool failed)
{
    srv_worker *w = p->w;
    h2o_req_t *req = p->req;
    if (!req)
        return;
    if (p->guard) { /* dispose still runs after a normal completion */
        p->guard->p = NULL;
        p->guard = NULL;
    }
    p->req = NULL;
    int status = failed ? srv_send_error(w, req, 500, NULL) : srv_send_value(w, req, v);
    srv_log_access(w, req, status, 0, p->started);
}

/* The handler's Task finished. */
static void on_handler_done(qvm *vm, qtask *watcher, qtask *source)
{
    (void)vm;
    srv_pending *p = task_data(watcher);
    qval r = task_result(vm, source);
    if (IS_EXC(r)) {
        if (p->req)
            srv_log_exception(p->w, "in an async handler");
        else
            vm_take_exc(vm);
    }
    answer(p, r, IS_EXC(r));
    task_resolve(vm, watcher, qv_nil());
    pending_finish(p);
}

static void on_timeout(uv_timer_t *t)
{
    srv_pending *p = t->data;
    srv_worker *w = p->w;
    if (p->req) {
        h2o_req_t *req = p->req;
        if (p->guard) {
            p->guard->p = NULL;
            p->guard = NULL;
        }
        p->req = NULL;
        int status = srv_send_error(w, req, 504, "the handler did not answer in time");
        srv_log_access(w, req, status, 0, p->started);
    }
    task_cancel(w->vm, p->handler); /* its ensure blocks run; the watcher finishes the rest */
    vm_run_ready(w->vm);
}

static void on_dispose(void *g)
{
    srv_guard *guard = g;
    srv_pending *p = guard->p;
    if (!p)
        return;
    p->req = NULL; /* the client went away: nobody to answer */
    p->guard = NULL;
    task_cancel(p->w->vm, p->handler);
}

/* An async handler: wait for its Task with the request guarded. */
static void wait_for(srv_worker *w, h2o_req_t *req, qtask *handler, qtask *scope, double started)
{
    srv_pending *p = calloc(1, sizeof *p);
    if (!p)
        abort();
    p->w = w;
    p->req = req;
    p->handler = handler;
    p->scope = scope;
    p->started = started;
    p->guard = h2o_mem_alloc_shared(&req->pool, sizeof *p->guard, on_dispose);
    p->guard->p = p;
    p->watcher = task_new_pending(w->vm, "request-watch");
    task_set_wake(p->watcher, on_handler_done);
    task_set_data(p->watcher, p);
    task_watch(w->vm, p->watcher, handler);
    w->inflight++;
    uv_timer_init(&w->loop, &p->timer);
    p->timer.data = p;
    uv_timer_start(&p->timer, on_timeout, (uint64_t)(w->cfg->request_timeout * 1000), 0);
}

/* What max_header_size bounds: the method, the target, the Host and every
 * other header's name and value. */
static size_t header_bytes(const h2o_req_t *req)
{
    size_t n = req->input.method.len + req->input.path.len + req->input.authority.len;
    for (size_t i = 0; i < req->headers.size; i++)
        n += req->headers.entries[i].name->len + req->headers.entries[i].value.len;
    return n;
}

int srv_on_req(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    srv_worker *w = req->conn->ctx->loop->data;
    double started = srv_now();
    int status;
    if (header_bytes(req) > w->cfg->max_header_size) {
        char why[96];
        snprintf(why, sizeof why, "more than %zu bytes of request line and headers", w->cfg->max_header_size);
        status = srv_send_error(w, req, 431, why);
        srv_log_access(w, req, status, 0, started);
        return 0;
    }
    if (req->upgrade.base)
        srv_add_server_header(req); /* a 101 passes no filter (srv_response.c) */
    if (srv_ws_try_upgrade(w, req))
        return 0;
    if (srv_static_serve(w, req, &status)) {
        srv_log_access(w, req, status, 0, started);
        return 0;
    }
    qvm *vm = w->vm;
    srv_refusal refused = {0};
    qval rq = srv_request_dict(w, req, &refused);
    if (refused.status) {
        status = srv_send_error(w, req, refused.status, refused.why);
        srv_log_access(w, req, status, 0, started);
        return 0;
    }
    qtask *scope = task_new_pending_str(vm, w->cache->request_task);
    task_make_scope(vm, scope);
    qtask *saved = vm_swap_current(vm, scope);
    vm_reset_budget(vm);
    qtask *t;
    qval r = vm_call_async_inline(vm, w->handler, 1, &rq, &t);
    vm_swap_current(vm, saved);
    if (!t)
        t = task_of(r);
    if (t && !task_is_done(t)) {
        wait_for(w, req, t, scope, started);
        vm_run_ready(vm);
        vm_collect_if_due(vm);
        return 0;
    }
    if (t)
        r = task_result(vm, t);
    if (IS_EXC(r)) {
        bool budget = vm_budget_exceeded(vm);
        srv_log_exception(w, "in a handler");
        status = srv_send_error(w, req, budget ? 503 : 500, budget ? "the handler used up its CPU budget" : NULL);
    } else {
        status = srv_send_value(w, req, r);
    }
    task_resolve(vm, scope, qv_nil());
    vm_run_ready(vm);
    vm_collect_if_due(vm);
    srv_log_access(w, req, status, 0, started);
    return 0;
}
