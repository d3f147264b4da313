/* srv_ws.c — WebSocket sessions: the handshake for the paths the app
 * registered (web.websocket, or its top-level handle_websocket), one
 * session per connection, and the WebSocket object Quest code holds.
 * srv_ws_wire.c moves the session's frames on its socket.
 *
 * A received message is offered into the session's channel from the
 * wire's callbacks, which never run Quest code: the channel wakes the
 * handler through the scheduler once the callback has returned.
 *
 * The handler is called as handler(ws, req) inside a scope task, like an
 * HTTP request's (srv_request.c): whatever it starts belongs to the
 * connection.  When it returns the connection closes with 1000, when it
 * raises with 1011; when the client leaves first, recv() returns nil and
 * a handler still running after HANDLER_GRACE seconds is cancelled.
 *
 * Limits: messages over ws_max_message_size close with 1009 (the wire);
 * more than ws_max_send_queue bytes waiting for a slow client, or more
 * than ws_max_recv_queue messages waiting for a slow handler, close with
 * 1008; a close handshake the client does not finish in CLOSE_TIMEOUT
 * seconds ends with the socket.  One timer per worker (the sweep) sends
 * pings and enforces the timeouts. */
#include <stdlib.h>
#include <string.h>

#include <h2o/websocket.h>

#include "server/srv_ws.h"

#define CLOSE_TIMEOUT 5.0   /* seconds for the client to answer our close frame */
#define HANDLER_GRACE 5.0   /* seconds a handler may run on after its client left */

/* ---- the record and its object ------------------------------------------------------ */

static void ws_finalize(void *data)
{
    srv_wire_free(data);
    free(data);
}

static void ws_mark(qvm *vm, void *data)
{
    srv_ws *s = data;
    vm_mark_obj(vm, (qobj *)s->inbox);
    vm_mark_value(vm, s->request);
    vm_mark_value(vm, s->params);
    vm_mark_obj(vm, (qobj *)s->path);
    vm_mark_obj(vm, (qobj *)s->protocol);
    vm_mark_obj(vm, (qobj *)s->topics);
    vm_mark_obj(vm, (qobj *)s->scope);
    vm_mark_obj(vm, (qobj *)s->handler);
    vm_mark_obj(vm, (qobj *)s->close_reason);
}

static const qcdata_class ws_class = {"WebSocket", ws_finalize, ws_mark, NULL};

srv_ws *srv_ws_session(qval ws)
{
    return AS_CDATA(ws)->data;
}

static double loop_now(srv_worker *w)
{
    return (double)uv_now(&w->loop) / 1000.0;
}

/* Listed sessions are GC roots: the connection may outlive every Quest
 * reference to its object, and the handler may outlive the connection. */
static void list(srv_ws *s)
{
    qarray *live = s->w->ws->live;
    s->slot = live->len;
    arr_push(s->w->vm, live, qv_obj(s->obj));
    s->listed = true;
}

/* A session leaves the list once its connection is closed (and its 101
 * no longer being written) and its handler has finished. */
static void unlist_if_over(srv_ws *s)
{
    if (!s->listed || s->phase != WS_CLOSED || s->scope || s->upgrading)
        return;
    qarray *live = s->w->ws->live;
    uint32_t last = live->len - 1;
    if (s->slot != last) {
        live->items[s->slot] = live->items[last];
        srv_ws_session(live->items[s->slot])->slot = s->slot;
    }
    live->len--;
    s->listed = false;
}

/* ---- closing and messages ------------------------------------------------------------- */

static void on_closer(uv_prepare_t *p);

/* Close from our side: the close frame goes out once what the handler sent
 * before has gone (wslay would put it first), or at once when `urgent` (a
 * client too slow to read them).  The connection ends when the client
 * answers, or at CLOSE_TIMEOUT.  Safe inside the wire's callbacks; the
 * caller flushes. */
static void start_close(srv_ws *s, uint16_t code, const char *reason, bool urgent)
{
    if (s->phase != WS_OPEN)
        return;
    s->phase = WS_CLOSING;
    s->since = loop_now(s->w);
    if (urgent || !srv_wire_queued(s, NULL)) {
        srv_wire_close_frame(s, code, reason, strlen(reason));
        return;
    }
    srv_ws_state *st = s->w->ws;
    s->close_out = code;
    s->close_reason = str_cstr(s->w->vm, reason);
    if (!st->closing->len)
        uv_prepare_start(&st->closer, on_closer);
    arr_push(s->w->vm, st->closing, qv_obj(s->obj));
}

/* Before each poll: the deferred close frames whose queue has drained. */
static void on_closer(uv_prepare_t *p)
{
    srv_worker *w = p->data;
    qarray *closing = w->ws->closing;
    uint32_t kept = 0, n = closing->len;
    for (uint32_t i = 0; i < n; i++) {
        srv_ws *s = srv_ws_session(closing->items[i]);
        if (s->ctx && srv_wire_queued(s, NULL)) {
            closing->items[kept++] = closing->items[i];
            continue;
        }
        if (s->ctx) {
            srv_wire_close_frame(s, s->close_out, s->close_reason->data, s->close_reason->len);
            s->close_reason = NULL;
            srv_wire_flush(s);
        }
    }
    closing->len = kept;
    if (!kept)
        uv_prepare_stop(p);
}

static void unsubscribe_all(srv_ws *s)
{
    for (uint32_t i = 0; s->topics && i < s->topics->len; i++)
        srv_bus_remove(s->w, AS_STR(s->topics->items[i]), qv_obj(s->obj));
    s->topics = NULL;
}

/* The connection is gone: wake the handler's recv() with nil.  (Called
 * again when a 101 that was being written completes.) */
void srv_ws_gone(srv_ws *s)
{
    if (s->phase != WS_CLOSED) {
        s->phase = WS_CLOSED;
        s->since = loop_now(s->w);
        unsubscribe_all(s);
        channel_close(s->w->vm, s->inbox);
    }
    unlist_if_over(s);
}

/* A message from the client: into the inbox, or, when the handler has
 * left too many unread, the connection closes with 1008. */
void srv_ws_received(srv_ws *s, int opcode, const void *data, size_t len, bool ascii)
{
    qvm *vm = s->w->vm;
    qval v;
    if (opcode != WSLAY_TEXT_FRAME)
        v = qv_obj(bytes_new(vm, data, len));
    else
        v = qv_obj(ascii ? str_new_ascii(vm, data, len) : str_new(vm, data, len));
    s->last_recv = loop_now(s->w);
    if (!channel_offer(vm, s->inbox, v) && s->phase == WS_OPEN)
        start_close(s, 1008, "too many unread messages", true);
}

void srv_ws_pong(srv_ws *s)
{
    s->ping_due = false;
}

/* A message that cannot go at once queues behind the others, within
 * ws_max_send_queue (a client that reads too slowly is closed with 1008). */
static bool deliver_queued(srv_ws *s, int opcode, const char *data, size_t len)
{
    size_t queued;
    srv_wire_queued(s, &queued);
    bool ok;
    if (queued + len > s->w->cfg->ws_max_send_queue) {
        start_close(s, 1008, "client too slow", true);
        ok = false;
    } else {
        ok = srv_wire_queue(s, opcode, data, len);
    }
    srv_wire_flush(s);
    return ok;
}

/* Send one message: at once when nothing waits before it, else queued.
 * False when closed or too slow.  (Inline in ws.send, its usual caller.) */
static inline bool deliver(srv_ws *s, const char *data, size_t len, bool text)
{
    if (s->phase != WS_OPEN)
        return false;
    int opcode = text ? WSLAY_TEXT_FRAME : WSLAY_BINARY_FRAME;
    return srv_wire_send_now(s, opcode, data, len) || deliver_queued(s, opcode, data, len);
}

bool srv_ws_deliver(srv_ws *s, const char *data, size_t len, bool text)
{
    return deliver(s, data, len, text);
}

/* Cut the connection without waiting for the client. */
static void force_close(srv_ws *s)
{
    srv_wire_cut(s, true);
}

/* ---- the handler ------------------------------------------------------------------------ */

static void handler_finished(srv_ws *s, qval r)
{
    srv_worker *w = s->w;
    qvm *vm = w->vm;
    s->handler = NULL;
    if (IS_EXC(r)) {
        qexc *e = vm_pending_exc(vm);
        if (e && e->type == vm_err_type(vm, E_CANCELLED) && s->phase == WS_CLOSED)
            vm_take_exc(vm); /* cancelled after its client left */
        else
            srv_log_exception(w, "in a WebSocket handler");
    }
    start_close(s, IS_EXC(r) ? 1011 : 1000, "", false);
    srv_wire_flush(s);
    qtask *scope = s->scope;
    s->scope = NULL;
    task_resolve(vm, scope, qv_nil()); /* cancels what the handler left running */
    unlist_if_over(s);
}

static void on_handler_done(qvm *vm, qtask *scope, qtask *handler)
{
    srv_ws *s = task_data(scope);
    handler_finished(s, task_result(vm, handler));
}

static void start_handler(srv_ws *s, qval handler)
{
    qvm *vm = s->w->vm;
    qval args[2] = {qv_obj(s->obj), s->request};
    qtask *saved = vm_swap_current(vm, s->scope);
    vm_reset_budget(vm);
    qval r = vm_call(vm, handler, 2, args);
    vm_swap_current(vm, saved);
    qtask *t = task_of(r);
    if (t && !task_is_done(t)) {
        s->handler = t;
        task_watch(vm, s->scope, t);
    } else {
        handler_finished(s, t ? task_result(vm, t) : r);
    }
    vm_run_ready(vm);
}

/* ---- the handshake ------------------------------------------------------------------------ */

/* The route of a path with parameters, as the Router finds it (the most
 * specific pattern wins); its captured values go to *params. */
static const srv_ws_route *find_pattern(srv_worker *w, const char *path, size_t len, qval *params)
{
    srv_ws_state *st = w->ws;
    qvm *vm = w->vm;
    qval args[2] = {qv_obj(str_cstr(vm, "GET")), qv_nil()};
    vm_push_root(vm, args[0]);
    args[1] = qv_obj(str_new(vm, path, len));
    vm_push_root(vm, args[1]);
    qval found = vm_invoke(vm, st->router, "lookup", 2, args), index;
    vm_pop_roots(vm, 2);
    if (IS_EXC(found)) {
        srv_log_exception(w, "while matching a WebSocket path");
        return NULL;
    }
    if (!IS_DICT(found) || !dict_get_cstr(AS_DICT(found), "params", params) ||
        !dict_get_cstr(AS_DICT(found), "route", &index) || !IS_DICT(index) ||
        !dict_get_cstr(AS_DICT(index), "handler", &index) || !IS_INT(index))
        return NULL;
    return &st->routes[index.as.i];
}

/* The route for req's path: an exact path, else a pattern, else the
 * app's handle_websocket; NULL when none.  *params gets the values a
 * pattern captured (nil otherwise), and must be rooted by the caller. */
static const srv_ws_route *find_route(srv_worker *w, h2o_req_t *req, srv_ws_route *fallback, qval *params)
{
    srv_ws_state *st = w->ws;
    size_t plen = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
    *params = qv_nil();
    for (int i = 0; i < st->nroutes; i++) {
        qstr *p = st->routes[i].path;
        if (!st->routes[i].pattern && p->len == plen && memcmp(p->data, req->path.base, plen) == 0)
            return &st->routes[i];
    }
    if (!IS_NIL(st->router)) {
        const srv_ws_route *r = find_pattern(w, req->path.base, plen, params);
        if (r)
            return r;
    }
    if (IS_NIL(st->fallback))
        return NULL;
    *fallback = (srv_ws_route){NULL, st->fallback, NULL, NULL, false};
    return fallback;
}

static const h2o_iovec_t *header(h2o_req_t *req, const char *name, size_t len, ssize_t *cursor)
{
    *cursor = h2o_find_header_by_str(&req->headers, name, len, *cursor);
    return *cursor >= 0 ? &req->headers.entries[*cursor].value : NULL;
}

/* Whether item (n bytes) is in a comma-separated list. */
static bool in_csv(const char *list, size_t len, const char *item, size_t n)
{
    const char *p = list, *end = list + len;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *e = comma ? comma : end;
        while (p < e && *p == ' ')
            p++;
        const char *t = e;
        while (t > p && t[-1] == ' ')
            t--;
        if ((size_t)(t - p) == n && memcmp(p, item, n) == 0)
            return true;
        p = e + 1;
    }
    return false;
}

static bool origin_allowed(srv_worker *w, h2o_req_t *req, const srv_ws_route *r)
{
    ssize_t at = -1;
    const h2o_iovec_t *origin = header(req, H2O_STRLIT("origin"), &at);
    if (!origin) /* not a browser: the Origin check protects browsers' users */
        return true;
    if (r->origins) {
        for (uint32_t i = 0; i < r->origins->len; i++) {
            qstr *o = AS_STR(r->origins->items[i]);
            if ((o->len == 1 && o->data[0] == '*') || h2o_memis(o->data, o->len, origin->base, origin->len))
                return true;
        }
        return false;
    }
    const char *list = w->cfg->ws_origins;
    return !list[0] || in_csv(list, strlen(list), "*", 1) || in_csv(list, strlen(list), origin->base, origin->len);
}

/* The first of the route's subprotocols that the client offers. */
static qstr *choose_protocol(h2o_req_t *req, const srv_ws_route *r)
{
    for (uint32_t i = 0; r->protocols && i < r->protocols->len; i++) {
        qstr *p = AS_STR(r->protocols->items[i]);
        ssize_t at = -1;
        const h2o_iovec_t *offer;
        while ((offer = header(req, H2O_STRLIT("sec-websocket-protocol"), &at)) != NULL)
            if (in_csv(offer->base, offer->len, p->data, p->len))
                return p;
    }
    return NULL;
}

/* params: what the route's pattern captured, or nil (then {}). */
static srv_ws *session_new(srv_worker *w, h2o_req_t *req, qstr *protocol, qval params)
{
    srv_ws_state *st = w->ws;
    qvm *vm = w->vm;
    srv_ws *s = calloc(1, sizeof *s);
    if (!s)
        abort();
    s->w = w;
    srv_wire_open(s);
    s->obj = cdata_new(vm, st->type, &ws_class, s);
    list(s); /* rooted from here on */
    s->id = ++st->next_id * w->cfg->workers + w->id; /* unique across workers */
    s->inbox = channel_new(vm, w->cfg->ws_max_recv_queue);
    s->request = srv_request_dict(w, req, NULL);
    if (IS_NIL(params))
        dict_get_cstr(AS_DICT(s->request), "params", &params);
    else
        dict_set_cstr(vm, AS_DICT(s->request), "params", params);
    s->params = params;
    size_t plen = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
    s->path = str_new(vm, req->path.base, plen);
    s->protocol = protocol;
    s->last_recv = s->ping_sent = s->since = loop_now(w);
    s->scope = task_new_pending(vm, "websocket");
    task_make_scope(vm, s->scope);
    task_set_data(s->scope, s);
    task_set_wake(s->scope, on_handler_done);
    return s;
}

static void refuse(srv_worker *w, h2o_req_t *req, int status, const char *why, double started)
{
    srv_log_access(w, req, srv_send_error(w, req, status, why), 0, started);
}

/* Answer a handshake for route r: refused (503 while draining, 403 for a
 * foreign origin) or upgraded, with the handler started. */
static void upgrade(srv_worker *w, h2o_req_t *req, const char *key, const srv_ws_route *r, qval params,
                    double started)
{
    if (w->draining) {
        refuse(w, req, 503, "the server is shutting down", started);
        return;
    }
    if (!origin_allowed(w, req, r)) {
        refuse(w, req, 403, "origin not allowed", started);
        return;
    }
    qstr *protocol = choose_protocol(req, r);
    srv_ws *s = session_new(w, req, protocol, params);
    if (protocol)
        h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("sec-websocket-protocol"), 0, NULL,
                              h2o_strdup(&req->pool, protocol->data, protocol->len).base, protocol->len);
    srv_log_access(w, req, 101, 0, started);
    srv_wire_upgrade(s, req, key);
    start_handler(s, r->handler);
}

bool srv_ws_try_upgrade(srv_worker *w, h2o_req_t *req)
{
    srv_ws_state *st = w->ws;
    const char *key;
    if (!st || (!st->nroutes && IS_NIL(st->fallback)) || req->version >= 0x200 || !req->upgrade.base)
        return false;
    double started = srv_now();
    if (h2o_is_websocket_handshake(req, &key) != 0) {
        refuse(w, req, 400, "invalid Sec-WebSocket-Key", started);
        return true;
    }
    srv_ws_route fallback;
    qval params;
    const srv_ws_route *r = key ? find_route(w, req, &fallback, &params) : NULL;
    if (!r)
        return false; /* not ours: the HTTP pipeline answers */
    vm_push_root(w->vm, params);
    upgrade(w, req, key, r, params, started);
    vm_pop_roots(w->vm, 1);
    return true;
}

/* ---- the sweep: pings and timeouts ---------------------------------------------------------- */

static void send_ping(srv_ws *s, double now)
{
    if (srv_wire_ping(s)) {
        s->ping_due = true;
        s->ping_sent = now;
        srv_wire_flush(s);
    }
}

static void sweep_one(srv_ws *s, double now)
{
    const srv_config *cfg = s->w->cfg;
    switch (s->phase) {
    case WS_OPEN:
        if (cfg->ws_idle_timeout > 0 && now - s->last_recv >= cfg->ws_idle_timeout) {
            start_close(s, 1001, "idle timeout", false);
            srv_wire_flush(s);
        } else if (cfg->ws_ping_interval > 0 && now - s->ping_sent >= cfg->ws_ping_interval) {
            if (!s->ping_due) {
                send_ping(s, now);
            } else { /* no pong for a whole interval: the client is gone */
                start_close(s, 1011, "ping timeout", true);
                force_close(s);
            }
        }
        break;
    case WS_CLOSING:
        if (now - s->since >= CLOSE_TIMEOUT)
            force_close(s);
        break;
    case WS_CLOSED:
        if (s->handler && now - s->since >= HANDLER_GRACE && !vm_task_cancelled(s->handler))
            task_cancel(s->w->vm, s->handler);
        break;
    }
}

static void on_sweep(uv_timer_t *t)
{
    srv_worker *w = t->data;
    qarray *live = w->ws->live;
    double now = loop_now(w);
    /* Backwards: a session leaving the list swaps in the last one, already seen. */
    for (uint32_t i = live->len; i-- > 0;)
        if (i < live->len)
            sweep_one(srv_ws_session(live->items[i]), now);
    vm_run_ready(w->vm);
}

static uint64_t sweep_period_ms(const srv_config *cfg)
{
    double p = 1.0;
    if (cfg->ws_ping_interval > 0 && cfg->ws_ping_interval / 2 < p)
        p = cfg->ws_ping_interval / 2;
    if (cfg->ws_idle_timeout > 0 && cfg->ws_idle_timeout / 2 < p)
        p = cfg->ws_idle_timeout / 2;
    return p < 0.05 ? 50 : (uint64_t)(p * 1000);
}

/* ---- the WebSocket object ------------------------------------------------------------------ */

static srv_ws *self_ws(qval self)
{
    return AS_CDATA(self)->data;
}

/* await ws.recv(): the next message (Str or Bytes), nil once closed. */
static qval wm_recv(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return channel_recv(vm, self_ws(self)->inbox);
}

/* ws.send(Str | Bytes): true when queued, false when closed. */
static qval wm_send(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    srv_ws *s = self_ws(self);
    qval v = argv[0];
    if (IS_STR(v))
        return qv_bool(deliver(s, AS_STR(v)->data, AS_STR(v)->len, true));
    if (IS_BYTES(v))
        return qv_bool(deliver(s, (const char *)AS_BYTES(v)->data, AS_BYTES(v)->len, false));
    return vm_raise(vm, E_TYPE, "WebSocket.send expects Str or Bytes, got %s", vm_cls_name(v));
}

static bool valid_close_code(int64_t c)
{
    return c == 1000 || c == 1001 || c == 1002 || c == 1003 || (c >= 1007 && c <= 1011) ||
           (c >= 3000 && c <= 4999);
}

/* ws.close(code: 1000, reason: "") */
static qval wm_close(qvm *vm, qval self, int argc, qval *argv)
{
    qdict *kw = vm_kwargs(vm);
    qval code = argc > 0 ? argv[0] : qv_int(1000), reason = argc > 1 ? argv[1] : qv_nil();
    if (kw) {
        dict_get_cstr(kw, "code", &code);
        dict_get_cstr(kw, "reason", &reason);
    }
    qstr *why = NULL;
    if (!IS_INT(code) || !valid_close_code(code.as.i))
        return vm_raise(vm, E_VALUE, "WebSocket.close: invalid close code %s",
                        IS_INT(code) ? vm_to_str(vm, code)->data : vm_cls_name(code));
    if (!IS_NIL(reason) && !arg_str(vm, "WebSocket.close", reason, &why))
        return qv_exc();
    if (why && why->len > 123)
        return vm_raise(vm, E_VALUE, "WebSocket.close: the reason must fit in 123 bytes");
    srv_ws *s = self_ws(self);
    start_close(s, (uint16_t)code.as.i, why ? why->data : "", false);
    srv_wire_flush(s);
    return qv_nil();
}

static qval wm_is_open(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return qv_bool(self_ws(self)->phase == WS_OPEN);
}

static int topic_index(srv_ws *s, qstr *topic)
{
    for (uint32_t i = 0; s->topics && i < s->topics->len; i++)
        if (str_equal(AS_STR(s->topics->items[i]), topic))
            return (int)i;
    return -1;
}

/* ws.subscribe(topic): web.publish(topic, msg) from any worker reaches it. */
static qval wm_subscribe(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    srv_ws *s = self_ws(self);
    qstr *topic;
    if (!arg_str(vm, "WebSocket.subscribe", argv[0], &topic))
        return qv_exc();
    if (s->phase == WS_CLOSED || topic_index(s, topic) >= 0)
        return qv_nil();
    if (!s->topics)
        s->topics = arr_new(vm, 2);
    arr_push(vm, s->topics, argv[0]);
    srv_bus_add(s->w, topic, self);
    return qv_nil();
}

static qval wm_unsubscribe(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    srv_ws *s = self_ws(self);
    qstr *topic;
    if (!arg_str(vm, "WebSocket.unsubscribe", argv[0], &topic))
        return qv_exc();
    int i = topic_index(s, topic);
    if (i < 0)
        return qv_nil();
    memmove(&s->topics->items[i], &s->topics->items[i + 1], (s->topics->len - (uint32_t)i - 1) * sizeof(qval));
    s->topics->len--;
    srv_bus_remove(s->w, topic, self);
    return qv_nil();
}

/* async.select([ws, ...]) waits on this channel. */
static qval wm_channel(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return qv_obj(self_ws(self)->inbox);
}

static qval wp_id(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return qv_int(self_ws(self)->id);
}

static qval wp_path(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return qv_obj(self_ws(self)->path);
}

static qval wp_request(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return self_ws(self)->request;
}

static qval wp_params(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return self_ws(self)->params;
}

static qval wp_protocol(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    qstr *p = self_ws(self)->protocol;
    return p ? qv_obj(p) : qv_nil();
}

/* The code of the client's close frame once closed (1005: none given,
 * 1006: no close frame at all), nil while open. */
static qval wp_close_code(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    srv_ws *s = self_ws(self);
    return s->phase == WS_CLOSED ? qv_int(s->close_code) : qv_nil();
}

static const qmethod_def ws_methods[] = {
    {"recv", wm_recv, 0, 0, false},
    {"send", wm_send, 1, 1, false},
    {"close", wm_close, 0, 2, true},
    {"is_open", wm_is_open, 0, 0, false},
    {"subscribe", wm_subscribe, 1, 1, false},
    {"unsubscribe", wm_unsubscribe, 1, 1, false},
    {"_channel", wm_channel, 0, 0, false},
    {NULL, NULL, 0, 0, false},
};

static const qmethod_def ws_properties[] = {
    {"id", wp_id, 0, 0, false},
    {"path", wp_path, 0, 0, false},
    {"request", wp_request, 0, 0, false},
    {"params", wp_params, 0, 0, false},
    {"protocol", wp_protocol, 0, 0, false},
    {"close_code", wp_close_code, 0, 0, false},
    {NULL, NULL, 0, 0, false},
};

/* ---- set-up and shutdown ---------------------------------------------------------------------- */

static qarray *str_array_or_null(qdict *d, const char *key)
{
    qval v;
    if (!dict_get_cstr(d, key, &v) || !IS_ARRAY(v))
        return NULL;
    qarray *a = AS_ARRAY(v);
    for (uint32_t i = 0; i < a->len; i++)
        if (!IS_STR(a->items[i]))
            return NULL;
    return a;
}

/* A route with parameters goes into a std/web/router Router (made with
 * the first one, and rooted for the worker's life), its index in
 * st->routes standing for the handler. */
static bool add_pattern(srv_worker *w, srv_ws_state *st, qval path, int index)
{
    qvm *vm = w->vm;
    if (IS_NIL(st->router)) {
        qval module = vm_import(vm, "std/web/router"), type;
        if (IS_EXC(module) || !dict_get_cstr(AS_MODULE(module)->globals, "Router", &type)) {
            srv_log_exception(w, "while loading std/web/router");
            return false;
        }
        qval router = vm_invoke(vm, type, "new", 0, NULL);
        if (IS_EXC(router)) {
            srv_log_exception(w, "while making the WebSocket router");
            return false;
        }
        st->router = router;
        vm_push_root(vm, router);
    }
    qval args[3] = {qv_obj(str_cstr(vm, "GET")), path, qv_int(index)};
    vm_push_root(vm, args[0]);
    qval r = vm_invoke(vm, st->router, "add", 3, args);
    vm_pop_roots(vm, 1);
    if (IS_EXC(r)) {
        srv_log_exception(w, "while adding a WebSocket route");
        return false;
    }
    return true;
}

/* web.websocket() registrations, as std/web's _ws_routes() lists them. */
static void load_routes(srv_worker *w, srv_ws_state *st)
{
    qvm *vm = w->vm;
    qval web = vm_loaded_module(vm, "std/web");
    if (IS_NIL(web))
        return;
    qval routes = vm_invoke(vm, web, "_ws_routes", 0, NULL);
    if (IS_EXC(routes) || !IS_ARRAY(routes)) {
        vm_take_exc(vm);
        return;
    }
    qarray *a = AS_ARRAY(routes);
    st->routes_value = routes;
    st->routes = calloc(a->len ? a->len : 1, sizeof *st->routes);
    if (!st->routes)
        abort();
    for (uint32_t i = 0; i < a->len; i++) {
        qval path, handler;
        if (!IS_DICT(a->items[i]))
            continue;
        qdict *d = AS_DICT(a->items[i]);
        if (!dict_get_cstr(d, "path", &path) || !IS_STR(path) || !dict_get_cstr(d, "handler", &handler))
            continue;
        qstr *p = AS_STR(path);
        bool pattern = memchr(p->data, '{', p->len) || memchr(p->data, '*', p->len);
        if (pattern && !add_pattern(w, st, path, st->nroutes))
            continue;
        st->routes[st->nroutes++] = (srv_ws_route){p, handler, str_array_or_null(d, "protocols"),
                                                   str_array_or_null(d, "origins"), pattern};
    }
}

void srv_ws_init(srv_worker *w)
{
    qvm *vm = w->vm;
    srv_ws_state *st = calloc(1, sizeof *st);
    if (!st)
        abort();
    w->ws = st;
    st->type = vm_new_cdata_type(vm, "WebSocket", ws_methods);
    vm_add_statics(vm, st->type, ws_properties);
    st->live = arr_new(vm, 16);
    st->topics = dict_new(vm);
    st->closing = arr_new(vm, 4);
    /* Worker-lifetime roots, like the HTTP handler (before load_routes,
     * which runs Quest code). */
    vm_push_root(vm, qv_obj(st->type));
    vm_push_root(vm, qv_obj(st->live));
    vm_push_root(vm, qv_obj(st->topics));
    vm_push_root(vm, qv_obj(st->closing));
    uv_prepare_init(&w->loop, &st->closer);
    st->closer.data = w;
    st->routes_value = qv_nil();
    st->router = qv_nil();
    load_routes(w, st);
    st->fallback = vm_main_global(vm, "handle_websocket");
    if (!vm_is_callable(st->fallback))
        st->fallback = qv_nil();
    vm_push_root(vm, st->routes_value);
    vm_push_root(vm, st->fallback);
    srv_bus_init(w);
    if (!st->nroutes && IS_NIL(st->fallback))
        return;
    uv_timer_init(&w->loop, &st->sweep);
    st->sweep.data = w;
    uint64_t period = sweep_period_ms(w->cfg);
    uv_timer_start(&st->sweep, on_sweep, period, period);
    uv_unref((uv_handle_t *)&st->sweep); /* the sweep alone keeps no loop alive */
}

void srv_ws_shutdown(srv_worker *w)
{
    srv_ws_state *st = w->ws;
    if (!st)
        return;
    srv_bus_shutdown(w);
    qarray *live = st->live;
    for (uint32_t i = live->len; i-- > 0;) {
        if (i >= live->len)
            continue;
        srv_ws *s = srv_ws_session(live->items[i]);
        start_close(s, 1001, "server shutting down", false);
        srv_wire_flush(s);
    }
    vm_run_ready(w->vm);
}
