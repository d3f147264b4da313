/* srv_ws.h — what srv_ws.c (WebSocket sessions) and srv_bus.c (pub/sub)
 * share.  Everything here belongs to one worker thread, except the bus
 * inbox, which other workers post into under its lock. */
#ifndef QUEST_SRV_WS_H
#define QUEST_SRV_WS_H

#include "server/srv.h"

typedef struct srv_ws srv_ws;
typedef struct srv_bus_inbox srv_bus_inbox;

/* A path registered with web.websocket(path, handler, protocols:, origins:). */
typedef struct srv_ws_route {
    qstr *path;
    qval handler;
    qarray *protocols;  /* subprotocols the route speaks, in preference order; NULL: none */
    qarray *origins;    /* allowed Origin values; NULL: the ws_origins setting */
} srv_ws_route;

typedef struct srv_ws_state {
    qtype *type;            /* WebSocket */
    qarray *live;           /* WebSocket objects whose connection or handler is still going */
    qval routes_value;      /* the Array the routes come from (keeps their values alive) */
    srv_ws_route *routes;
    int nroutes;
    qval fallback;          /* the app's handle_websocket(ws, req), or nil */
    uv_timer_t sweep;       /* pings, idle and close timeouts */
    uv_prepare_t closer;    /* sends deferred close frames */
    qarray *closing;        /* WebSocket objects whose close frame waits for their queue */
    int64_t next_id;
    qdict *topics;          /* srv_bus.c: topic -> Array of subscribed WebSocket objects */
    srv_bus_inbox *inbox;   /* srv_bus.c: messages published on other workers */
} srv_ws_state;

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
