/* srv_ws.c — WebSocket connections: the handshake for the paths the app
 * registered (web.websocket, or its top-level handle_websocket), one
 * session per connection, and the WebSocket object Quest code holds.
 *
 * The wire is h2o's websocket.h on wslay (stack.md §2).  h2o frees its
 * connection object when it reports the close (the arg == NULL callback),
 * and h2o_websocket_proceed() may report it from inside, so the session
 * keeps the pointer and clears it there; nothing touches `conn` after a
 * proceed without checking again.  Callbacks from h2o never run Quest code:
 * a received message is offered into the session's channel, which wakes
 * the handler through the scheduler once the callback has returned.
 *
 * The handler is called as handler(ws, req) inside a scope task, like an
 * HTTP request's (srv_request.c): whatever it starts belongs to the
 * connection.  When it returns the connection closes with 1000, when it
 * raises with 1011; when the client leaves first, recv() returns nil and
 * a handler still running after HANDLER_GRACE seconds is cancelled.
 *
 * Limits: messages over ws_max_message_size close with 1009 (wslay does
 * it); more than ws_max_send_queue bytes waiting for a slow client, or more
 * than ws_max_recv_queue messages waiting for a slow handler, close with
 * 1008; a close handshake the client does not finish in CLOSE_TIMEOUT
 * seconds ends with the socket.  One timer per worker (the sweep) sends
 * pings and enforces the timeouts. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <h2o/websocket.h>

#include "server/srv_ws.h"

#define CLOSE_TIMEOUT 5.0   /* seconds for the client to answer our close frame */
#define HANDLER_GRACE 5.0   /* seconds a handler may run on after its client left */
#define LINGER_MS 1000      /* after a protocol error: how long to drain the client's data */

typedef enum { WS_OPEN, WS_CLOSING, WS_CLOSED } srv_ws_phase;

struct srv_ws {
    srv_worker *w;
    h2o_websocket_conn_t *conn; /* NULL once the connection is closed */
    qcdata *obj;                /* the WebSocket object; frees this record when collected */
    qchannel *inbox;            /* received messages, for recv() and async.select */
    qval request;               /* the handshake request as a Dict */
    qstr *path, *protocol;      /* protocol: the chosen subprotocol, or NULL */
    qarray *topics;             /* subscribed topics (NULL: none yet) */
    qtask *scope;               /* owns what the handler starts; NULL once it has finished */
    qtask *handler;             /* the handler's Task while it runs */
    int64_t id;
    uint32_t slot;              /* index in state->live */
    bool listed;                /* in state->live (a GC root) */
    bool ping_due;              /* a ping went out and no pong came back yet */
    uint8_t phase;              /* srv_ws_phase */
    uint16_t close_code;        /* what the client's close frame said (1006: none) */
    uint16_t close_out;         /* our close code, while it waits for the queue to drain */
    qstr *close_reason;         /* ... and its reason */
    char *out;                  /* frames on their way to the socket (one write) */
    size_t out_len, out_cap;
    bool batching;              /* inside flush(): collect every queued frame */
    double last_recv, ping_sent, since; /* since: when the phase began */
};

/* ---- the record and its object ------------------------------------------------------ */

static void ws_finalize(void *data)
{
    free(data);
}

static void ws_mark(qvm *vm, void *data)
{
    srv_ws *s = data;
    vm_mark_obj(vm, (qobj *)s->inbox);
    vm_mark_value(vm, s->request);
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

static void unlist_if_over(srv_ws *s)
{
    if (!s->listed || s->phase != WS_CLOSED || s->scope)
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

/* ---- the wire ------------------------------------------------------------------------- */

static void on_closer(uv_prepare_t *p);
static void on_ws_message(h2o_websocket_conn_t *conn, const struct wslay_event_on_msg_recv_arg *arg);

/* Writing.  h2o 2.2.5's own send callback writes every piece wslay hands
 * it (a frame header, then its payload) with its own write(2), one at a
 * time, a loop turn apart.  Ours collects them: inside flush() every frame
 * wslay has queued goes into one buffer and one write; when h2o's proceed
 * sends by itself (a pong, a close reply, or right after the 101), each
 * frame goes out whole.  One write is in flight at a time, as in h2o. */
#define OUT_MAX (256u << 10)  /* bytes gathered into one write */

static void on_written(h2o_socket_t *sock, const char *err);

static void out_append(srv_ws *s, const void *data, size_t len)
{
    if (s->out_len + len > s->out_cap) {
        size_t cap = s->out_cap ? s->out_cap : 256;
        while (cap < s->out_len + len)
            cap *= 2;
        char *p = realloc(s->out, cap);
        if (!p)
            abort();
        s->out = p;
        s->out_cap = cap;
    }
    memcpy(s->out + s->out_len, data, len);
    s->out_len += len;
}

static void out_free(srv_ws *s)
{
    free(s->out);
    s->out = NULL;
    s->out_len = s->out_cap = 0;
}

/* With no write in flight the bytes go to the kernel at once, as
 * uv_try_write would (saving libuv's write request, its completion turn and
 * an epoll_ctl per message); only what the kernel does not take goes
 * through h2o's asynchronous write. */
static void write_out(srv_ws *s)
{
    int fd = h2o_socket_get_fd(s->conn->sock);
    ssize_t n;
    do
        n = fd >= 0 ? write(fd, s->out, s->out_len) : -1;
    while (n < 0 && errno == EINTR);
    if (n == (ssize_t)s->out_len) {
        s->out_len = 0;
        if (s->out_cap > 4096) /* an idle connection keeps no big buffer */
            out_free(s);
        return;
    }
    if (n > 0) {
        memmove(s->out, s->out + n, s->out_len - (size_t)n);
        s->out_len -= (size_t)n;
    }
    h2o_iovec_t buf = h2o_iovec_init(s->out, s->out_len);
    h2o_socket_write(s->conn->sock, &buf, 1, on_written); /* reports errors too */
}

static ssize_t on_wslay_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags, void *user)
{
    h2o_websocket_conn_t *conn = user;
    srv_ws *s = conn->data;
    if (h2o_socket_is_writing(conn->sock) || (s->out_len && s->out_len + len > OUT_MAX)) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    out_append(s, data, len);
    if (!s->batching && !(flags & WSLAY_MSG_MORE))
        write_out(s);
    return (ssize_t)len;
}

/* Send what wslay has queued, in one write, and let h2o go on reading (or
 * close, when both sides are done).  May close the connection. */
static void flush(srv_ws *s)
{
    if (!s->conn || !s->conn->sock)
        return; /* before the 101 is out: h2o sends the queue after it */
    if (!h2o_socket_is_writing(s->conn->sock)) {
        s->batching = true;
        int r = wslay_event_send(s->conn->ws_ctx);
        s->batching = false;
        if (r == 0 && s->out_len)
            write_out(s);
    }
    h2o_websocket_proceed(s->conn);
}

static void on_written(h2o_socket_t *sock, const char *err)
{
    h2o_websocket_conn_t *conn = sock->data;
    srv_ws *s = conn->data;
    s->out_len = 0;
    if (s->out_cap > 4096) /* an idle connection keeps no big buffer */
        out_free(s);
    if (err) {
        on_ws_message(conn, NULL);
        return;
    }
    flush(s);
}

static void queue_close(srv_ws *s, uint16_t code, const char *reason, size_t len)
{
    wslay_event_queue_close(s->conn->ws_ctx, code, (const uint8_t *)reason, len);
}

/* Close from our side: the close frame goes out once what the handler sent
 * before has gone (wslay would put it first), or at once when `urgent` (a
 * client too slow to read them).  The connection ends when the client
 * answers, or at CLOSE_TIMEOUT.  Safe inside wslay's callbacks. */
static void start_close(srv_ws *s, uint16_t code, const char *reason, bool urgent)
{
    if (s->phase != WS_OPEN)
        return;
    s->phase = WS_CLOSING;
    s->since = loop_now(s->w);
    if (urgent || !wslay_event_get_queued_msg_count(s->conn->ws_ctx)) {
        queue_close(s, code, reason, strlen(reason));
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
        if (s->conn && wslay_event_get_queued_msg_count(s->conn->ws_ctx)) {
            closing->items[kept++] = closing->items[i];
            continue;
        }
        if (s->conn) {
            queue_close(s, s->close_out, s->close_reason->data, s->close_reason->len);
            s->close_reason = NULL;
            flush(s);
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

/* After a protocol error (1009, 1007, 1002) wslay stops reading and h2o
 * would close the socket as soon as the close frame is written.  Data the
 * client is still sending would then turn the close into a reset, which
 * can destroy the close frame before the client reads it: so the socket
 * lingers, discarding input, until the client hangs up or LINGER_MS. */
typedef struct srv_linger {
    uv_timer_t timer;
    h2o_socket_t *sock;
} srv_linger;

static void linger_free(uv_handle_t *h)
{
    free(h->data);
}

static void linger_end(srv_linger *l)
{
    h2o_socket_close(l->sock);
    uv_close((uv_handle_t *)&l->timer, linger_free);
}

static void on_linger_read(h2o_socket_t *sock, const char *err)
{
    if (err) {
        linger_end(sock->data);
        return;
    }
    h2o_buffer_consume(&sock->input, sock->input->size);
}

static void on_linger_timeout(uv_timer_t *t)
{
    srv_linger *l = t->data;
    h2o_socket_read_stop(l->sock);
    linger_end(l);
}

static void linger(srv_worker *w, h2o_socket_t *sock)
{
    srv_linger *l = malloc(sizeof *l);
    if (!l)
        abort();
    l->sock = sock;
    sock->data = l;
    uv_timer_init(&w->loop, &l->timer);
    l->timer.data = l;
    uv_timer_start(&l->timer, on_linger_timeout, LINGER_MS, 0);
    h2o_buffer_consume(&sock->input, sock->input->size);
    h2o_socket_read_start(sock, on_linger_read);
}

/* The connection is gone (closed by either side, broken, or cut by us with
 * `forced`): free h2o's side and wake the handler's recv() with nil. */
static void session_closed(srv_ws *s, bool forced)
{
    h2o_websocket_conn_t *conn = s->conn;
    s->conn = NULL;
    s->close_code = wslay_event_get_status_code_received(conn->ws_ctx);
    /* (Not while a write is in flight: its completion would find our record
     * in sock->data; h2o's close cancels that write cleanly.) */
    if (!forced && conn->sock && !h2o_socket_is_writing(conn->sock) &&
        !wslay_event_get_close_received(conn->ws_ctx)) {
        linger(s->w, conn->sock);
        conn->sock = NULL; /* ours now: h2o_websocket_close leaves it */
    }
    h2o_websocket_close(conn);
    out_free(s); /* the socket is closed or lingers: nothing writes from it */
    s->phase = WS_CLOSED;
    s->since = loop_now(s->w);
    unsubscribe_all(s);
    channel_close(s->w->vm, s->inbox);
    unlist_if_over(s);
}

static void on_ws_message(h2o_websocket_conn_t *conn, const struct wslay_event_on_msg_recv_arg *arg)
{
    srv_ws *s = conn->data;
    if (!arg) {
        session_closed(s, false);
        return;
    }
    qvm *vm = s->w->vm;
    qval v;
    switch (arg->opcode) {
    case WSLAY_TEXT_FRAME: /* wslay has checked the UTF-8 (1007 otherwise) */
        v = qv_obj(str_new(vm, (const char *)arg->msg, arg->msg_length));
        break;
    case WSLAY_BINARY_FRAME:
        v = qv_obj(bytes_new(vm, arg->msg, arg->msg_length));
        break;
    case WSLAY_PONG:
        s->ping_due = false;
        return;
    default: /* ping and close: wslay answers them itself */
        return;
    }
    s->last_recv = loop_now(s->w);
    if (!channel_offer(vm, s->inbox, v) && s->phase == WS_OPEN)
        start_close(s, 1008, "too many unread messages", true);
}

/* Queue one message; false when closed, or when the client reads too
 * slowly (it is then closed with 1008).  The caller flushes. */
static bool queue_message(srv_ws *s, int opcode, const void *data, size_t len)
{
    if (s->phase != WS_OPEN)
        return false;
    wslay_event_context_ptr ctx = s->conn->ws_ctx;
    if (wslay_event_get_queued_msg_length(ctx) + len > s->w->cfg->ws_max_send_queue) {
        start_close(s, 1008, "client too slow", true);
        return false;
    }
    struct wslay_event_msg m = {(uint8_t)opcode, data, len};
    return wslay_event_queue_msg(ctx, &m) == 0;
}

/* The common case, nothing waiting in wslay and no write in flight: frame
 * the message here (a server's frames are unmasked: a 2-10 byte header,
 * then the payload) and write it, skipping wslay's copy into its queue and
 * h2o's proceed.  False when the message has to queue behind others. */
static bool send_now(srv_ws *s, int opcode, const char *data, size_t len)
{
    h2o_websocket_conn_t *conn = s->conn;
    if (s->phase != WS_OPEN || !conn->sock || h2o_socket_is_writing(conn->sock) || s->out_len ||
        wslay_event_want_write(conn->ws_ctx))
        return false;
    uint8_t head[10];
    size_t n = 2;
    head[0] = (uint8_t)(0x80 | opcode); /* FIN: one frame per message */
    if (len < 126) {
        head[1] = (uint8_t)len;
    } else if (len < 65536) {
        head[1] = 126;
        head[2] = (uint8_t)(len >> 8);
        head[3] = (uint8_t)len;
        n = 4;
    } else {
        head[1] = 127;
        for (int i = 0; i < 8; i++)
            head[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
        n = 10;
    }
    out_append(s, head, n);
    out_append(s, data, len);
    write_out(s);
    return true;
}

bool srv_ws_deliver(srv_ws *s, const char *data, size_t len, bool text)
{
    int opcode = text ? WSLAY_TEXT_FRAME : WSLAY_BINARY_FRAME;
    if (send_now(s, opcode, data, len))
        return true;
    bool ok = queue_message(s, opcode, data, len);
    flush(s);
    return ok;
}

/* Cut the connection without waiting for the client. */
static void force_close(srv_ws *s)
{
    if (s->conn)
        session_closed(s, true);
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
    flush(s);
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

static const srv_ws_route *find_route(srv_ws_state *st, h2o_req_t *req, srv_ws_route *fallback)
{
    size_t plen = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
    for (int i = 0; i < st->nroutes; i++) {
        qstr *p = st->routes[i].path;
        if (p->len == plen && memcmp(p->data, req->path.base, plen) == 0)
            return &st->routes[i];
    }
    if (IS_NIL(st->fallback))
        return NULL;
    *fallback = (srv_ws_route){NULL, st->fallback, NULL, NULL};
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

static srv_ws *session_new(srv_worker *w, h2o_req_t *req, qstr *protocol)
{
    srv_ws_state *st = w->ws;
    qvm *vm = w->vm;
    srv_ws *s = calloc(1, sizeof *s);
    if (!s)
        abort();
    s->w = w;
    s->obj = cdata_new(vm, st->type, &ws_class, s);
    list(s); /* rooted from here on */
    s->id = ++st->next_id * w->cfg->workers + w->id; /* unique across workers */
    s->inbox = channel_new(vm, w->cfg->ws_max_recv_queue);
    s->request = srv_request_dict(w, req);
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
    const srv_ws_route *r = key ? find_route(st, req, &fallback) : NULL;
    if (!r)
        return false; /* not ours: the HTTP pipeline answers */
    if (w->draining) {
        refuse(w, req, 503, "the server is shutting down", started);
        return true;
    }
    if (!origin_allowed(w, req, r)) {
        refuse(w, req, 403, "origin not allowed", started);
        return true;
    }
    qstr *protocol = choose_protocol(req, r);
    srv_ws *s = session_new(w, req, protocol);
    if (protocol)
        h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("sec-websocket-protocol"), 0, NULL,
                              h2o_strdup(&req->pool, protocol->data, protocol->len).base, protocol->len);
    srv_log_access(w, req, 101, 0, started);
    /* req is freed once the 101 is written: everything is copied by now. */
    s->conn = h2o_upgrade_to_websocket(req, key, s, on_ws_message);
    struct wslay_event_callbacks callbacks = s->conn->ws_callbacks;
    callbacks.send_callback = on_wslay_send;
    wslay_event_config_set_callbacks(s->conn->ws_ctx, &callbacks);
    wslay_event_config_set_max_recv_msg_length(s->conn->ws_ctx, w->cfg->ws_max_message_size);
    start_handler(s, r->handler);
    return true;
}

/* ---- the sweep: pings and timeouts ---------------------------------------------------------- */

static void send_ping(srv_ws *s, double now)
{
    struct wslay_event_msg m = {WSLAY_PING, (const uint8_t *)"quest", 5};
    if (wslay_event_queue_msg(s->conn->ws_ctx, &m) == 0) {
        s->ping_due = true;
        s->ping_sent = now;
        flush(s);
    }
}

static void sweep_one(srv_ws *s, double now)
{
    const srv_config *cfg = s->w->cfg;
    switch (s->phase) {
    case WS_OPEN:
        if (cfg->ws_idle_timeout > 0 && now - s->last_recv >= cfg->ws_idle_timeout) {
            start_close(s, 1001, "idle timeout", false);
            flush(s);
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
        return qv_bool(srv_ws_deliver(s, AS_STR(v)->data, AS_STR(v)->len, true));
    if (IS_BYTES(v))
        return qv_bool(srv_ws_deliver(s, (const char *)AS_BYTES(v)->data, AS_BYTES(v)->len, false));
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
    flush(s);
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
        st->routes[st->nroutes++] = (srv_ws_route){AS_STR(path), handler, str_array_or_null(d, "protocols"),
                                                   str_array_or_null(d, "origins")};
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
    uv_prepare_init(&w->loop, &st->closer);
    st->closer.data = w;
    st->routes_value = qv_nil();
    load_routes(w, st);
    st->fallback = vm_main_global(vm, "handle_websocket");
    if (!vm_is_callable(st->fallback))
        st->fallback = qv_nil();
    /* Worker-lifetime roots, like the HTTP handler. */
    vm_push_root(vm, qv_obj(st->type));
    vm_push_root(vm, qv_obj(st->live));
    vm_push_root(vm, qv_obj(st->topics));
    vm_push_root(vm, qv_obj(st->closing));
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
        flush(s);
    }
    vm_run_ready(w->vm);
}
