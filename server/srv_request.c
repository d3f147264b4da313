/* srv_request.c — one HTTP request: the reference's request Dict, the call
 * of the handler inside a request scope (tasks it starts belong to the
 * request), and for async handlers the wait for their Task.
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

static void put(qvm *vm, qdict *d, const char *key, qval v)
{
    dict_set_cstr(vm, d, key, v);
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

/* Peer address; behind a trusted proxy, the client it names. */
static void client_address(srv_worker *w, h2o_req_t *req, qdict *d, const h2o_iovec_t *xff)
{
    qvm *vm = w->vm;
    struct sockaddr_storage ss;
    char ip[INET6_ADDRSTRLEN] = "unknown";
    int port = 0;
    socklen_t len = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss);
    if (len && ss.ss_family == AF_INET) {
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, ip, sizeof ip);
        port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    } else if (len && ss.ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, ip, sizeof ip);
        port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    put(vm, d, "remote_addr", qv_obj(str_printf(vm, "%s:%d", ip, port)));
    if (xff && trusted_proxy(w->cfg, ip)) {
        size_t n = strcspn(xff->base, ","); /* the original client comes first */
        n = n < xff->len ? n : xff->len;
        while (n && xff->base[n - 1] == ' ')
            n--;
        put(vm, d, "client_ip", text(vm, xff->base, n));
        return;
    }
    put(vm, d, "client_ip", text(vm, ip, strlen(ip)));
}

static qval body_value(qvm *vm, h2o_req_t *req)
{
    const char *b = req->entity.base ? req->entity.base : "";
    size_t n = req->entity.base ? req->entity.len : 0;
    if (utf8_valid(b, n))
        return text(vm, b, n);
    return qv_obj(bytes_new(vm, b, n)); /* binary uploads stay intact */
}

qval srv_request_dict(srv_worker *w, h2o_req_t *req)
{
    qvm *vm = w->vm;
    qdict *d = dict_new(vm);
    vm_push_root(vm, qv_obj(d));
    size_t plen = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
    const char *qs = req->query_at != SIZE_MAX ? req->path.base + req->query_at + 1 : "";
    size_t qlen = req->query_at != SIZE_MAX ? req->path.len - req->query_at - 1 : 0;
    put(vm, d, "method", text(vm, req->method.base, req->method.len));
    put(vm, d, "path", text(vm, req->path.base, plen));
    put(vm, d, "query_string", text(vm, qs, qlen));
    put(vm, d, "query", qv_obj(parse_query(vm, qs, qlen)));
    qdict *headers = dict_new(vm);
    put(vm, d, "headers", qv_obj(headers));
    const h2o_iovec_t *xff = NULL, *xfp = NULL;
    const char *fields[] = {"user_agent", "referer", "content_type", "cookie"};
    const char *names[] = {"user-agent", "referer", "content-type", "cookie"};
    qval known[4] = {text(vm, "", 0), text(vm, "", 0), text(vm, "", 0), qv_nil()};
    for (size_t i = 0; i < req->headers.size; i++) {
        h2o_header_t *h = &req->headers.entries[i];
        qval v = text(vm, h->value.base, h->value.len);
        dict_set(vm, headers, str_new(vm, h->name->base, h->name->len), v);
        for (int k = 0; k < 4; k++)
            if (h->name->len == strlen(names[k]) && !memcmp(h->name->base, names[k], h->name->len))
                known[k] = v;
        if (h2o_memis(h->name->base, h->name->len, H2O_STRLIT("x-forwarded-for")))
            xff = &h->value;
        if (h2o_memis(h->name->base, h->name->len, H2O_STRLIT("x-forwarded-proto")))
            xfp = &h->value;
    }
    for (int k = 0; k < 3; k++)
        put(vm, d, fields[k], known[k]);
    put(vm, d, "cookies", qv_obj(IS_NIL(known[3]) ? dict_new(vm)
                                                   : parse_cookies(vm, AS_STR(known[3])->data, AS_STR(known[3])->len)));
    put(vm, d, "body", body_value(vm, req));
    put(vm, d, "content_length", qv_int(req->entity.base ? (int64_t)req->entity.len : 0));
    put(vm, d, "version", qv_obj(str_printf(vm, "HTTP/%d.%d", req->version >> 8, req->version & 0xff)));
    put(vm, d, "host", req->authority.len ? text(vm, req->authority.base, req->authority.len) : text(vm, "unknown", 7));
    client_address(w, req, d, xff);
    bool https = xfp && h2o_memis(xfp->base, xfp->len, H2O_STRLIT("https"));
    put(vm, d, "scheme", text(vm, https && w->cfg->nproxies ? "https" : "http", https && w->cfg->nproxies ? 5 : 4));
    put(vm, d, "params", qv_obj(dict_new(vm)));
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

int srv_on_req(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    srv_worker *w = req->conn->ctx->loop->data;
    if (srv_ws_try_upgrade(w, req))
        return 0;
    double started = srv_now();
    int status;
    if (srv_static_serve(w, req, &status)) {
        srv_log_access(w, req, status, 0, started);
        return 0;
    }
    qvm *vm = w->vm;
    qtask *scope = task_new_pending(vm, "request");
    task_make_scope(vm, scope);
    qval rq = srv_request_dict(w, req);
    qtask *saved = vm_swap_current(vm, scope);
    vm_reset_budget(vm);
    qval r = vm_call(vm, w->handler, 1, &rq);
    vm_swap_current(vm, saved);
    qtask *t = task_of(r);
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
