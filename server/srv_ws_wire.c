/* srv_ws_wire.c — a WebSocket connection's frames on its socket: the 101,
 * reading, writing and closing.  srv_ws.c decides what to send and when to
 * close; this file moves the bytes.
 *
 * wslay (stack.md §2) parses what the client sends, answers pings, runs
 * the close handshake and queues what waits for the socket.  Around it,
 * the two common cases take a shorter road, because wslay 1.1 spends more
 * than the rest of a small echo together on each message (four mallocs, a
 * copy into its own buffer, a byte-at-a-time UTF-8 check):
 *
 *   reading  a whole text or binary frame that is a message by itself is
 *            unmasked in the socket's buffer and handed up; wslay gets every
 *            other frame, one frame at a time, so that it is always between
 *            frames when this file looks at the input;
 *   writing  with nothing queued and no write out, a message is framed here
 *            and written at once; otherwise wslay queues it and flush()
 *            gathers every queued frame into one write.
 *
 * The connection is h2o's socket after the 101 (h2o_http1_upgrade), driven
 * here rather than by h2o's websocket.c: one read callback, one write in
 * flight, and the socket closed exactly once, by srv_wire_cut. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "server/srv_ws.h"

#include <h2o/http1.h> /* (needs <h2o.h> first) */

#define OUT_MAX (256u << 10)    /* bytes gathered into one write */
#define OUT_KEEP 4096           /* an idle connection keeps no bigger buffer */
#define LINGER_MS 1000          /* after a protocol error: how long to drain the client's data */

static void on_read(h2o_socket_t *sock, const char *err);
static void on_written(h2o_socket_t *sock, const char *err);

/* ---- writing -------------------------------------------------------------------------- */

/* Whether wslay has frames to send.  Only this file's calls into wslay
 * queue any (a message, a close or a ping queued; a received ping or close
 * answered), and each sets wslay_queued, so the common case, a message
 * sent with nothing queued, costs no call into the library. */
static bool wants_write(srv_ws *s)
{
    if (!s->wslay_queued)
        return false;
    if (wslay_event_want_write(s->ctx))
        return true;
    s->wslay_queued = false;
    return false;
}

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

static void out_done(srv_ws *s)
{
    s->out_len = 0;
    if (s->out_cap > OUT_KEEP)
        out_free(s);
}

/* What the kernel did not take (in s->out) goes through h2o's
 * asynchronous write, which reports errors too. */
static void write_later(srv_ws *s)
{
    h2o_iovec_t buf = h2o_iovec_init(s->out, s->out_len);
    h2o_socket_write(s->sock, &buf, 1, on_written);
}

/* With no write in flight the bytes go to the kernel at once, as
 * uv_try_write would (saving libuv's write request, its completion turn and
 * an epoll_ctl per message). */
static void write_out(srv_ws *s)
{
    ssize_t n;
    do
        n = send(s->fd, s->out, s->out_len, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n == (ssize_t)s->out_len) {
        out_done(s);
        return;
    }
    if (n > 0) {
        memmove(s->out, s->out + n, s->out_len - (size_t)n);
        s->out_len -= (size_t)n;
    }
    write_later(s);
}

/* wslay's send callback, called only from srv_wire_flush: every frame
 * wslay has queued goes into one buffer, which flush writes at once. */
static ssize_t on_wslay_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags, void *user)
{
    (void)flags;
    srv_ws *s = user;
    if (s->out_len && s->out_len + len > OUT_MAX) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    out_append(s, data, len);
    return (ssize_t)len;
}

static void on_written(h2o_socket_t *sock, const char *err)
{
    srv_ws *s = sock->data;
    out_done(s);
    if (err) {
        srv_wire_cut(s, false);
        return;
    }
    srv_wire_flush(s);
}

/* The common case, nothing queued in wslay and no write in flight: frame
 * the message here (a server's frames are unmasked: a 2-10 byte header,
 * then the payload) and write it, skipping wslay's copy into its queue.
 * False when the message has to queue behind others. */
bool srv_wire_send_now(srv_ws *s, int opcode, const void *data, size_t len)
{
    if (!s->sock || h2o_socket_is_writing(s->sock) || s->out_len || wants_write(s))
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
    /* Header and payload in one call, without copying them into s->out:
     * only a part the kernel does not take is copied there. */
    struct iovec iov[2] = {{head, n}, {(void *)data, len}};
    struct msghdr m = {.msg_iov = iov, .msg_iovlen = 2};
    ssize_t w;
    do
        w = sendmsg(s->fd, &m, MSG_NOSIGNAL);
    while (w < 0 && errno == EINTR);
    size_t sent = w > 0 ? (size_t)w : 0;
    if (sent == n + len)
        return true;
    if (sent < n)
        out_append(s, head + sent, n - sent);
    sent = sent > n ? sent - n : 0;
    out_append(s, (const char *)data + sent, len - sent);
    write_later(s);
    return true;
}

bool srv_wire_queue(srv_ws *s, int opcode, const void *data, size_t len)
{
    struct wslay_event_msg m = {(uint8_t)opcode, data, len};
    s->wslay_queued = true;
    return wslay_event_queue_msg(s->ctx, &m) == 0;
}

void srv_wire_close_frame(srv_ws *s, uint16_t code, const char *reason, size_t len)
{
    s->wslay_queued = true;
    wslay_event_queue_close(s->ctx, code, (const uint8_t *)reason, len);
}

bool srv_wire_ping(srv_ws *s)
{
    struct wslay_event_msg m = {WSLAY_PING, (const uint8_t *)"quest", 5};
    s->wslay_queued = true;
    return wslay_event_queue_msg(s->ctx, &m) == 0;
}

size_t srv_wire_queued(srv_ws *s, size_t *bytes)
{
    if (bytes)
        *bytes = wslay_event_get_queued_msg_length(s->ctx);
    return wslay_event_get_queued_msg_count(s->ctx);
}

/* Send what wslay has queued, in one write if none is out; then read on,
 * or stop reading while the last frames go out (wslay reads no more after
 * a close or an error), or end the connection once both directions are
 * done.  May end the connection. */
void srv_wire_flush(srv_ws *s)
{
    if (!s->sock)
        return; /* before the 101 is out (the upgrade flushes), or closed */
    if (!h2o_socket_is_writing(s->sock) && wants_write(s)) {
        int r = wslay_event_send(s->ctx);
        if (r != 0) {
            srv_wire_cut(s, false);
            return;
        }
        if (s->out_len)
            write_out(s);
    }
    if (wslay_event_want_read(s->ctx)) {
        if (!h2o_socket_is_reading(s->sock))
            h2o_socket_read_start(s->sock, on_read);
    } else if (h2o_socket_is_writing(s->sock) || wants_write(s)) {
        h2o_socket_read_stop(s->sock);
    } else {
        srv_wire_cut(s, false);
    }
}

/* ---- reading --------------------------------------------------------------------------- */

/* A frame's header (RFC 6455 §5.2). */
typedef struct ws_frame {
    bool fin, masked;
    uint8_t rsv, opcode;
    uint8_t mask[4];
    size_t head;        /* header bytes */
    uint64_t len;       /* payload bytes */
} ws_frame;

/* The header at p (n bytes at hand); false while it is incomplete. */
static bool frame_header(const uint8_t *p, size_t n, ws_frame *f)
{
    if (n < 2)
        return false;
    f->fin = p[0] >> 7;
    f->rsv = (p[0] >> 4) & 7;
    f->opcode = p[0] & 15;
    f->masked = p[1] >> 7;
    f->len = p[1] & 127;
    f->head = 2;
    if (f->len == 126) {
        if (n < 4)
            return false;
        f->len = (uint64_t)p[2] << 8 | p[3];
        f->head = 4;
    } else if (f->len == 127) {
        if (n < 10)
            return false;
        f->len = 0;
        for (int i = 0; i < 8; i++)
            f->len = f->len << 8 | p[2 + i];
        f->head = 10;
    }
    if (f->masked) {
        if (n < f->head + 4)
            return false;
        memcpy(f->mask, p + f->head, 4);
        f->head += 4;
    }
    return true;
}

/* XOR with the client's key, eight bytes at a time (applying it twice
 * restores the bytes).  True when every byte it gives is ASCII, which
 * spares most text the UTF-8 check and the counting of characters. */
static bool unmask(uint8_t *p, size_t n, const uint8_t mask[4])
{
    uint32_t m4;
    memcpy(&m4, mask, 4);
    uint64_t m8 = (uint64_t)m4 << 32 | m4, seen = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t v;
        memcpy(&v, p + i, 8);
        v ^= m8;
        seen |= v;
        memcpy(p + i, &v, 8);
    }
    for (; i < n; i++) {
        p[i] ^= mask[i & 3];
        seen |= p[i];
    }
    return !(seen & 0x8080808080808080u);
}

/* The short road: a whole, masked, unfragmented text or binary frame
 * within the size limit, while wslay holds no message's beginning, is
 * unmasked in place and handed up.  False when the frame is wslay's
 * (which also refuses it when it breaks a rule: 1002, 1007, 1009). */
static bool take_frame(srv_ws *s, uint8_t *p, size_t avail, const ws_frame *f)
{
    if (!f->fin || f->rsv || !f->masked || s->fragmented ||
        (f->opcode != WSLAY_TEXT_FRAME && f->opcode != WSLAY_BINARY_FRAME) ||
        f->len > s->w->cfg->ws_max_message_size || f->len > avail - f->head)
        return false;
    uint8_t *payload = p + f->head;
    size_t len = (size_t)f->len;
    bool ascii = unmask(payload, len, f->mask);
    if (f->opcode == WSLAY_TEXT_FRAME && !ascii && !utf8_valid((const char *)payload, len)) {
        unmask(payload, len, f->mask);
        return false;
    }
    srv_ws_received(s, f->opcode, payload, len, ascii);
    return true;
}

/* Hand wslay the frame at the start of the input: count its bytes, and
 * follow whether a fragmented message is open. */
static void give_to_wslay(srv_ws *s, const ws_frame *f)
{
    s->frame_left = f->len > UINT64_MAX - f->head ? UINT64_MAX : f->head + f->len;
    if (f->opcode == WSLAY_TEXT_FRAME || f->opcode == WSLAY_BINARY_FRAME)
        s->fragmented = !f->fin;
    else if (f->opcode == WSLAY_CONTINUATION_FRAME && f->fin)
        s->fragmented = false;
}

/* Read every frame the input holds.  Stops at an incomplete header (the
 * rest is on its way) or when wslay reads no more.  Nonzero: wslay failed. */
static int receive(srv_ws *s)
{
    while (s->sock->input->size && wslay_event_want_read(s->ctx)) {
        h2o_buffer_t *in = s->sock->input;
        size_t before = in->size;
        if (!s->frame_left) {
            ws_frame f;
            uint8_t *p = (uint8_t *)in->bytes;
            if (!frame_header(p, in->size, &f))
                return 0;
            if (take_frame(s, p, in->size, &f)) {
                h2o_buffer_consume(&s->sock->input, f.head + (size_t)f.len);
                continue;
            }
            give_to_wslay(s, &f);
        }
        s->wslay_queued = true; /* (it answers pings and closes) */
        int r = wslay_event_recv(s->ctx);
        if (r != 0)
            return r;
        if (s->sock->input->size == before)
            return 0; /* (wslay took nothing: never loop on it) */
    }
    return 0;
}

/* wslay's recv callback: the rest of the current frame, and no more. */
static ssize_t on_wslay_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *user)
{
    (void)flags;
    srv_ws *s = user;
    h2o_buffer_t *in = s->sock->input;
    size_t n = in->size < len ? in->size : len;
    if (s->frame_left < n)
        n = (size_t)s->frame_left;
    if (!n) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    memcpy(buf, in->bytes, n);
    h2o_buffer_consume(&s->sock->input, n);
    s->frame_left -= n;
    return (ssize_t)n;
}

/* A whole message wslay has read (pings and closes it answers itself). */
static void on_wslay_message(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg, void *user)
{
    (void)ctx;
    srv_ws *s = user;
    if (arg->opcode == WSLAY_TEXT_FRAME || arg->opcode == WSLAY_BINARY_FRAME)
        srv_ws_received(s, arg->opcode, arg->msg, arg->msg_length, false);
    else if (arg->opcode == WSLAY_PONG)
        srv_ws_pong(s);
}

static void on_read(h2o_socket_t *sock, const char *err)
{
    srv_ws *s = sock->data;
    if (err || receive(s) != 0) {
        srv_wire_cut(s, false);
        return;
    }
    srv_wire_flush(s);
}

/* ---- opening ---------------------------------------------------------------------------- */

void srv_wire_open(srv_ws *s)
{
    struct wslay_event_callbacks callbacks = {
        .recv_callback = on_wslay_recv,
        .send_callback = on_wslay_send,
        .on_msg_recv_callback = on_wslay_message,
    };
    if (wslay_event_context_server_init(&s->ctx, &callbacks, s) != 0)
        abort();
    wslay_event_config_set_max_recv_msg_length(s->ctx, s->w->cfg->ws_max_message_size);
}

/* The 101 is out (sock), or failed (NULL); the request is gone either way. */
static void on_upgraded(void *data, h2o_socket_t *sock, size_t reqsize)
{
    srv_ws *s = data;
    s->upgrading = false;
    if (!s->ctx || !sock) { /* closed meanwhile, or the client left */
        if (sock)
            h2o_socket_close(sock);
        if (s->ctx)
            srv_wire_cut(s, true);
        else
            srv_ws_gone(s);
        return;
    }
    s->sock = sock;
    s->fd = h2o_socket_get_fd(sock);
    sock->data = s;
    h2o_buffer_consume(&sock->input, reqsize);
    h2o_socket_read_start(sock, on_read);
    on_read(sock, NULL); /* frames the client sent right behind its request */
}

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

/* Answer the handshake whose 24-byte Sec-WebSocket-Key is `key` with 101;
 * the socket is ours once the answer is written.  Everything the session
 * needs from req is copied by now: it is freed with the HTTP connection. */
void srv_wire_upgrade(srv_ws *s, h2o_req_t *req, const char *key)
{
    uint8_t src[24 + sizeof WS_GUID - 1], digest[SHA_DIGEST_LENGTH];
    memcpy(src, key, 24);
    memcpy(src + 24, WS_GUID, sizeof WS_GUID - 1);
    SHA1(src, sizeof src, digest);
    char *accept = h2o_mem_alloc_pool(&req->pool, h2o_base64_encode_capacity(sizeof digest));
    size_t n = h2o_base64_encode(accept, digest, sizeof digest, 0);
    req->res.status = 101;
    req->res.reason = "Switching Protocols";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_UPGRADE, NULL, H2O_STRLIT("websocket"));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("sec-websocket-accept"), 0, NULL, accept, n);
    s->upgrading = true;
    h2o_http1_upgrade(req, NULL, 0, on_upgraded, s);
}

/* ---- closing ---------------------------------------------------------------------------- */

/* After a protocol error (1009, 1007, 1002) wslay reads no more, and the
 * socket would close as soon as the close frame is written.  Data the
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

/* End the connection: close (or linger on) the socket, free wslay's side
 * and tell the session.  Not while the 101 is being written: on_upgraded
 * then finds the context gone and closes the socket itself. */
void srv_wire_cut(srv_ws *s, bool forced)
{
    if (!s->ctx)
        return;
    s->close_code = wslay_event_get_status_code_received(s->ctx);
    h2o_socket_t *sock = s->sock;
    s->sock = NULL;
    /* (Not while a write is in flight: its completion would find our record
     * in sock->data; closing cancels that write cleanly.) */
    if (sock && !forced && !h2o_socket_is_writing(sock) && !wslay_event_get_close_received(s->ctx))
        linger(s->w, sock);
    else if (sock)
        h2o_socket_close(sock);
    wslay_event_context_free(s->ctx);
    s->ctx = NULL;
    out_free(s); /* the socket is closed or lingers: nothing writes from it */
    srv_ws_gone(s);
}

/* The record is being freed with its object (never while it is connected:
 * a connected session is a GC root). */
void srv_wire_free(srv_ws *s)
{
    if (s->ctx)
        wslay_event_context_free(s->ctx);
    free(s->out);
}
