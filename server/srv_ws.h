/* srv_ws.h — what the WebSocket files share: srv_ws.c (routes, sessions,
 * the WebSocket object), srv_ws_wire.c (a connection's frames on the
 * socket) and srv_bus.c (pub/sub).  Everything here belongs to one worker
 * thread, except the bus inbox, which other workers post into under its
 * lock. */
#ifndef QUEST_SRV_WS_H
#define QUEST_SRV_WS_H

#include <wslay/wslay.h>

#include "server/srv.h"

typedef struct srv_ws srv_ws;
typedef struct srv_bus_inbox srv_bus_inbox;

/* A path registered with web.websocket(path, handler, protocols:, origins:). */
typedef struct srv_ws_route {
    qstr *path;
    qval handler;
    qarray *protocols;  /* subprotocols the route speaks, in preference order; NULL: none */
    qarray *origins;    /* allowed Origin values; NULL: the ws_origins setting */
    bool pattern;       /* a path with parameters: matched by the state's Router */
} srv_ws_route;

typedef struct srv_ws_state {
    qtype *type;            /* WebSocket */
    qarray *live;           /* WebSocket objects whose connection or handler is still going */
    qval routes_value;      /* the Array the routes come from (keeps their values alive) */
    srv_ws_route *routes;
    int nroutes;
    qval router;            /* a std/web/router Router for the routes with parameters, or nil */
    qval fallback;          /* the app's handle_websocket(ws, req), or nil */
    uv_timer_t sweep;       /* pings, idle and close timeouts */
    uv_prepare_t closer;    /* sends deferred close frames */
    qarray *closing;        /* WebSocket objects whose close frame waits for their queue */
    int64_t next_id;
    qdict *topics;          /* srv_bus.c: topic -> Array of subscribed WebSocket objects */
    srv_bus_inbox *inbox;   /* srv_bus.c: messages published on other workers */
} srv_ws_state;

typedef enum { WS_OPEN, WS_CLOSING, WS_CLOSED } srv_ws_phase;

struct srv_ws {
    srv_worker *w;
    /* The wire (srv_ws_wire.c). */
    wslay_event_context_ptr ctx; /* control frames, fragments, queued sends; NULL once closed */
    h2o_socket_t *sock;          /* NULL until the 101 is out, and once closed */
    int fd;                      /* sock's descriptor */
    bool upgrading;              /* the 101 is being written: the record must stay */
    bool fragmented;             /* wslay holds the start of a fragmented message */
    bool wslay_queued;           /* wslay may have frames to send (see wants_write) */
    uint16_t close_code;         /* what the client's close frame said (1006: none) */
    uint64_t frame_left;         /* bytes of the frame wslay reads that it has not had yet */
    char *out;                   /* frames on their way to the socket (one write) */
    size_t out_len, out_cap;
    /* The session (srv_ws.c). */
    qcdata *obj;                /* the WebSocket object; frees this record when collected */
    qchannel *inbox;            /* received messages, for recv() and async.select */
    qval request;               /* the handshake request as a Dict */
    qval params;                /* what the route's pattern captured (a Dict) */
    qstr *path, *protocol;      /* protocol: the chosen subprotocol, or NULL */
    qarray *topics;             /* subscribed topics (NULL: none yet) */
    qtask *scope;               /* owns what the handler starts; NULL once it has finished */
    qtask *handler;             /* the handler's Task while it runs */
    int64_t id;
    uint32_t slot;              /* index in state->live */
    bool listed;                /* in state->live (a GC root) */
    bool ping_due;              /* a ping went out and no pong came back yet */
    uint8_t phase;              /* srv_ws_phase */
    uint16_t close_out;         /* our close code, while it waits for the queue to drain */
    qstr *close_reason;         /* ... and its reason */
    double last_recv, ping_sent, since; /* since: when the phase began */
};

/* srv_ws_wire.c: a connection's frames.  srv_wire_open makes the wslay
 * context; srv_wire_upgrade sends the 101 and takes the socket.
 * send_now writes a message at once when nothing waits before it (false:
 * it must queue); queue, close_frame and ping queue frames in wslay, and
 * queued counts them (and their bytes); flush writes what is queued.  cut
 * ends the connection (`forced`: at once, without lingering for the
 * client's last bytes).  The wire reports to srv_ws.c through
 * srv_ws_received, srv_ws_pong and srv_ws_gone. */
void srv_wire_open(srv_ws *s);
void srv_wire_upgrade(srv_ws *s, h2o_req_t *req, const char *key);
bool srv_wire_send_now(srv_ws *s, int opcode, const void *data, size_t len);
bool srv_wire_queue(srv_ws *s, int opcode, const void *data, size_t len);
void srv_wire_close_frame(srv_ws *s, uint16_t code, const char *reason, size_t len);
bool srv_wire_ping(srv_ws *s);
size_t srv_wire_queued(srv_ws *s, size_t *bytes);
void srv_wire_flush(srv_ws *s);
void srv_wire_cut(srv_ws *s, bool forced);
void srv_wire_free(srv_ws *s);

/* srv_ws.c, for the wire: a text or binary message arrived (`ascii`:
 * every byte is known to be ASCII), a pong arrived, the connection is gone
 * (closed by either side, or broken). */
void srv_ws_received(srv_ws *s, int opcode, const void *data, size_t len, bool ascii);
void srv_ws_pong(srv_ws *s);
void srv_ws_gone(srv_ws *s);

/* srv_ws.c, for the bus: the session behind a WebSocket object, and
 * sending one message to it (false when it is closed or was too slow). */
srv_ws *srv_ws_session(qval ws);
bool srv_ws_deliver(srv_ws *s, const char *data, size_t len, bool text);

/* srv_bus.c */
void srv_bus_init(srv_worker *w);
void srv_bus_shutdown(srv_worker *w);
void srv_bus_add(srv_worker *w, qstr *topic, qval ws);
void srv_bus_remove(srv_worker *w, qstr *topic, qval ws);
/* web.publish(topic, message) as the server implements it. */
qval srv_bus_publish(qvm *vm, qval self, int argc, qval *argv);

#endif
