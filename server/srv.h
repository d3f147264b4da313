/* srv.h — the parts of `quest serve` and what they share.
 *
 *   srv_main.c     the command: config, compile check, workers, signals, drain
 *   srv_listen.c   the listening sockets (SO_REUSEPORT group or one shared)
 *   srv_worker.c   one thread: uv loop, listener, h2o context, VM
 *   srv_request.c  an HTTP request: Quest Dict in, handler call, async guard, timeout
 *   srv_multipart.c multipart/form-data bodies (srv_multipart.h)
 *   srv_response.c a Quest response value onto the wire
 *   srv_static.c   web.static() directories, served by h2o's file sender
 *   srv_cache.c    what the request path reuses per worker (srv_cache.h)
 *   srv_log.c      access and error log lines
 *   srv_ws.c       WebSocket upgrades, sessions and the WebSocket object
 *   srv_ws_wire.c  a WebSocket connection's frames on its socket
 *   srv_bus.c      WebSocket pub/sub topics, across workers
 */
#ifndef QUEST_SRV_H
#define QUEST_SRV_H

#include <pthread.h>
#include <stdatomic.h>

#include <h2o.h>

#include "config/server_config.h"
#include "vm/vm.h"

#define SRV_MAX_STATIC 64

typedef struct srv_static_route {
    char url[512];      /* prefix, starts with '/' */
    char dir[4096];     /* canonical directory */
} srv_static_route;

typedef struct srv_worker {
    int id;
    pthread_t tid;
    const srv_config *cfg;
    h2o_globalconf_t *gconf;
    uv_loop_t loop;
    int listen_fd;      /* bound by srv_listen.c; the worker listens when ready */
    uv_tcp_t listener;
    uv_async_t stop;
    uv_timer_t drain;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
    qvm *vm;
    qval handler;       /* web._handle, or the app's handle_request */
    srv_static_route statics[SRV_MAX_STATIC];
    int nstatics;
    int nconns;
    int inflight;       /* requests being handled (async ones included) */
    bool draining;
    double drain_started;
    double quiet_since;  /* draining: when the last in-flight request ended */
    /* start-up handshake with the main thread */
    pthread_mutex_t *lock;
    pthread_cond_t *ready;
    int state;          /* 0 starting, 1 serving, -1 failed */
    struct srv_ws_state *ws; /* srv_ws.c: WebSocket routes, sessions, topics */
    struct srv_cache *cache; /* srv_cache.c: keys and strings reused by every request */
    struct srv_log *log;     /* srv_log.c: access lines waiting for the end of the loop iteration */
} srv_worker;

/* srv_listen.c: bind n listening sockets (one per worker) for cfg; false
 * after a message on stderr. */
bool srv_listen_open(const srv_config *cfg, int *fds, int n);

/* srv_worker.c */
void *srv_worker_main(void *arg);
/* srv_epoll.c: decide once whether libuv's redundant epoll re-registrations
 * may be skipped (see there); the hook itself is epoll_ctl(). */
void srv_epoll_init(void);
uint64_t srv_epoll_skipped(void); /* ADDs this thread answered itself (tests) */
double srv_now(void);

/* srv_request.c */
int srv_on_req(h2o_handler_t *self, h2o_req_t *req);
/* Why a request is answered before its handler runs. */
typedef struct srv_refusal {
    int status;         /* 0: not refused */
    char why[192];
} srv_refusal;
/* The request as the Quest Dict handlers receive.  A body that cannot be
 * turned into a value (a malformed multipart form, or one with too many
 * parts) sets *refused when given; without it such a body is kept raw. */
qval srv_request_dict(srv_worker *w, h2o_req_t *req, srv_refusal *refused);
/* The peer's address as text into out (size >= INET6_ADDRSTRLEN), "unknown"
 * when there is none; its length, and the port in *port. */
size_t srv_peer_text(h2o_req_t *req, char *out, size_t size, int *port);

/* srv_response.c: send v (Dict, Str, Bytes, nil) as the answer to req.
 * Returns the status sent. */
int srv_send_value(srv_worker *w, h2o_req_t *req, qval v);
int srv_send_error(srv_worker *w, h2o_req_t *req, int status, const char *detail);
/* `server: quest` on every response: a filter on pathconf for whatever h2o
 * sends through its filters, and srv_add_server_header for a 101, which
 * does not pass them. */
void srv_server_header_filter(h2o_pathconf_t *pathconf);
void srv_add_server_header(h2o_req_t *req);

/* srv_static.c */
void srv_static_load(srv_worker *w);
bool srv_static_serve(srv_worker *w, h2o_req_t *req, int *status);

/* srv_ws.c: set up after the app has loaded; answer a WebSocket handshake
 * for a registered path (true: req is taken care of); close every
 * WebSocket with 1001 when the worker drains. */
void srv_ws_init(srv_worker *w);
bool srv_ws_try_upgrade(srv_worker *w, h2o_req_t *req);
void srv_ws_shutdown(srv_worker *w);

/* srv_log.c: srv_log_init before the loop runs, srv_log_flush after. */
void srv_log_init(srv_worker *w);
void srv_log_flush(srv_worker *w);
void srv_log_access(srv_worker *w, h2o_req_t *req, int status, size_t bytes, double started);
void srv_log_error(srv_worker *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Log the VM's pending exception (and clear it). */
void srv_log_exception(srv_worker *w, const char *where);

#endif
