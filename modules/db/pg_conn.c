/* pg_conn.c — one connection of postgres.pool(), from the host name to
 * PQfinish: resolve the host off the loop (uv_getaddrinfo), connect with
 * PQconnectPoll, then run in pipeline mode on one uv_poll that stays
 * started (readable always; writable only while libpq has output it could
 * not write).  Messages queued during a loop iteration are flushed, one
 * write per connection, when the loop is about to poll (a uv_prepare).
 *
 * A connection that breaks fails what it carried and is replaced after a
 * backoff; a failed connect backs off longer each time.  A closed
 * connection goes to the pool's graveyard and is freed at the next
 * callback, as callers up the stack may still look at it.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>

#include "modules/db/pg_pool.h"

#define PGP_BACKOFF_MAX 5000

/* ---- the socket ------------------------------------------------------------------------------ */

static void conn_on_poll(uv_poll_t *h, int status, int events);

static void poll_closed(uv_handle_t *h)
{
    free(h->data);
}

static void poll_close(pgp_conn *c)
{
    if (!c->poll)
        return;
    c->poll->c = NULL;
    uv_close((uv_handle_t *)&c->poll->h, poll_closed);
    c->poll = NULL;
}

/* Watch the socket for events; the poll is only restarted when they
 * change or libpq moved to another socket (next host, SSL retry). */
static void conn_watch(pgp_conn *c, int events)
{
    int fd = PQsocket(c->pg);
    if (c->poll && fd != c->fd)
        poll_close(c);
    if (!c->poll) {
        pgp_poll *pp = malloc(sizeof *pp);
        if (!pp)
            abort();
        pp->c = c;
        uv_poll_init_socket(vm_loop(c->pool->base.vm), &pp->h, fd);
        pp->h.data = pp;
        uv_unref((uv_handle_t *)&pp->h); /* the pool's timer keeps the loop alive when needed */
        c->poll = pp;
        c->fd = fd;
        c->events = 0;
    }
    if (events != c->events) {
        c->events = events;
        uv_poll_start(&c->poll->h, events, conn_on_poll);
    }
}

/* Write what libpq holds; poll for writable while some is left. */
static bool conn_flush(pgp_conn *c)
{
    int r = PQflush(c->pg);
    if (r < 0)
        return false;
    conn_watch(c, UV_READABLE | (r == 1 ? UV_WRITABLE : 0));
    return true;
}

/* Queries are written when the loop is about to poll, so that those sent
 * during one iteration (many requests' handlers) share a batch and a
 * write. */
void pgp_mark_dirty(pgp_conn *c)
{
    pgp_pool *p = c->pool;
    if (c->dirty)
        return;
    c->dirty = true;
    if (p->ndirty++ == 0)
        uv_prepare_start(&p->flusher, pgp_flush_all);
}

void pgp_flush_all(uv_prepare_t *h)
{
    pgp_pool *p = h->data;
    uv_prepare_stop(&p->flusher);
    p->ndirty = 0;
    for (pgp_conn *c = p->conns, *next; c; c = next) {
        next = c->next;
        if (!c->dirty)
            continue;
        c->dirty = false;
        pgp_close_batch(c);
        if (!c->closed && !conn_flush(c))
            pgp_conn_broken(c, PQerrorMessage(c->pg));
    }
}

/* ---- closing ------------------------------------------------------------------------------------- */

static void conn_unlink(pgp_conn *c)
{
    pgp_pool *p = c->pool;
    if (c->prev)
        c->prev->next = c->next;
    else
        p->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

/* Close c now: stop polling, end the session, forget it. */
void pgp_conn_close(pgp_conn *c)
{
    pgp_pool *p = c->pool;
    conn_unlink(c);
    if (c->listener) {
        p->listener = NULL;
        for (int i = 0; i < p->nlistens; i++)
            p->listens[i].active = false;
    } else {
        p->size--;
        if (c->state != PC_READY)
            p->connecting--;
    }
    if (c->lease) {
        c->lease->conn = NULL;
        c->lease->broken = true;
    }
    if (c->dirty) {
        c->dirty = false;
        p->ndirty--;
    }
    poll_close(c); /* before PQfinish closes the socket */
    if (c->gai) {
        c->gai->c = NULL;
        uv_cancel((uv_req_t *)&c->gai->req);
    }
    if (c->cancel)
        c->cancel->c = NULL;
    PQclear(c->sync_err);
    c->sync_err = NULL;
    PQfinish(c->pg);
    c->pg = NULL;
    c->closed = true;
    c->next = p->graveyard;
    p->graveyard = c;
}

/* Free the connections closed since the last callback. */
void pgp_bury(pgp_pool *p)
{
    while (p->graveyard) {
        pgp_conn *c = p->graveyard;
        p->graveyard = c->next;
        pgp_stmts_free(c);
        free(c);
    }
}

/* Keep why (without libpq's trailing newline) as the pool's last error. */
static const char *conn_error(pgp_pool *p, const char *why, const char *fallback)
{
    snprintf(p->last_error, sizeof p->last_error, "%s", why && *why ? why : fallback);
    size_t n = strlen(p->last_error);
    while (n && (p->last_error[n - 1] == '\n' || p->last_error[n - 1] == ' '))
        p->last_error[--n] = '\0';
    return p->last_error;
}

/* A connection that was up broke (the server went away, a backend was
 * terminated, a write failed): fail what it carried, replace it later. */
void pgp_conn_broken(pgp_conn *c, const char *why)
{
    pgp_pool *p = c->pool;
    char msg[256];
    snprintf(msg, sizeof msg, "%s", conn_error(p, why, "the server closed the connection"));
    pgp_conn_fail_ops(c, msg);
    bool listener = c->listener;
    pgp_conn_close(c);
    uint64_t at = pgp_now(p) + PGP_BACKOFF_MIN;
    if (listener)
        p->next_listener = at;
    else if (p->next_connect < at)
        p->next_connect = at;
    pgp_schedule(p);
}

static uint64_t conn_backoff(pgp_pool *p)
{
    uint64_t ms = PGP_BACKOFF_MIN;
    for (int i = 1; i < p->fail_streak && ms < PGP_BACKOFF_MAX; i++)
        ms *= 2;
    return ms < PGP_BACKOFF_MAX ? ms : PGP_BACKOFF_MAX;
}

/* pool() failed: the first connection could not be made. */
static void pool_open_failed(pgp_pool *p, const char *msg)
{
    qtask *t = p->open_task;
    p->open_task = NULL;
    p->base.closed = true;
    for (pgp_conn *o = p->conns, *next; o; o = next) {
        next = o->next;
        pgp_conn_close(o);
    }
    task_reject(p->base.vm, t, db_exc(p->base.vm, DBE_OPERATIONAL, "%s", msg));
}

/* A connection attempt failed. */
void pgp_conn_failed(pgp_conn *c, const char *why)
{
    pgp_pool *p = c->pool;
    char msg[256];
    snprintf(msg, sizeof msg, "%s", conn_error(p, why, "could not connect"));
    bool listener = c->listener;
    pgp_conn_fail_ops(c, msg);
    pgp_conn_close(c);
    p->fail_streak++;
    uint64_t at = pgp_now(p) + conn_backoff(p);
    if (listener) {
        p->next_listener = at;
    } else {
        p->next_connect = at;
        if (p->open_task)
            pool_open_failed(p, msg);
        else if (p->size - p->connecting == 0)
            pgp_fail_waiting(p, DBE_OPERATIONAL, msg); /* nothing is up: waiting would only time out */
    }
    pgp_schedule(p);
}

/* ---- connecting ----------------------------------------------------------------------------------- */

static void conn_ready(pgp_conn *c)
{
    pgp_pool *p = c->pool;
    c->state = PC_READY;
    if (!c->listener)
        p->connecting--;
    p->fail_streak = 0;
    PQenterPipelineMode(c->pg);
    c->pipeline = true;
    c->created = c->idle_since = pgp_now(p);
    conn_watch(c, UV_READABLE);
    if (c->listener)
        pgp_send_listens(c);
    if (p->open_task && !c->listener) {
        qtask *t = p->open_task;
        p->open_task = NULL;
        task_resolve(p->base.vm, t, qv_obj(p->base.obj));
    }
    pgp_dispatch(p);
}

/* One step of the non-blocking connect. */
static void conn_connect_step(pgp_conn *c, bool first)
{
    switch (first ? PGRES_POLLING_WRITING : PQconnectPoll(c->pg)) {
    case PGRES_POLLING_READING: conn_watch(c, UV_READABLE); break;
    case PGRES_POLLING_WRITING: conn_watch(c, UV_WRITABLE); break;
    case PGRES_POLLING_OK: conn_ready(c); break;
    default: pgp_conn_failed(c, PQerrorMessage(c->pg)); break;
    }
}

static void conn_connect_start(pgp_conn *c, const char *hostaddr)
{
    pg_conn_params cp;
    char err[512];
    if (!pg_conn_params_make(c->pool->conninfo, hostaddr, &cp, err, sizeof err)) {
        pgp_conn_failed(c, err);
        return;
    }
    c->pg = PQconnectStartParams((const char *const *)cp.keys, (const char *const *)cp.values, 0);
    pg_conn_params_free(&cp);
    if (!c->pg || PQstatus(c->pg) == CONNECTION_BAD) {
        pgp_conn_failed(c, c->pg ? PQerrorMessage(c->pg) : "out of memory");
        return;
    }
    PQsetnonblocking(c->pg, 1);
    pg_quiet_notices(c->pg);
    c->state = PC_CONNECTING;
    conn_connect_step(c, true);
}

static void conn_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    pgp_gai *g = req->data;
    pgp_conn *c = g->c;
    free(g);
    if (!c) {
        uv_freeaddrinfo(res);
        return;
    }
    pgp_bury(c->pool);
    c->gai = NULL;
    if (status < 0) {
        char msg[256];
        snprintf(msg, sizeof msg, "could not resolve the host name: %s", uv_strerror(status));
        uv_freeaddrinfo(res);
        pgp_conn_failed(c, msg);
        return;
    }
    /* IPv4 first: a server told to listen on "localhost" has it for sure. */
    struct addrinfo *pick = res;
    for (struct addrinfo *a = res; a; a = a->ai_next)
        if (a->ai_family == AF_INET) {
            pick = a;
            break;
        }
    char addr[INET6_ADDRSTRLEN] = "";
    if (pick->ai_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)pick->ai_addr)->sin_addr, addr, sizeof addr);
    else
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)pick->ai_addr)->sin6_addr, addr, sizeof addr);
    uv_freeaddrinfo(res);
    conn_connect_start(c, addr);
}

/* libpq resolves host names synchronously: resolve them on the thread
 * pool first and connect to the address. */
static void conn_resolve(pgp_conn *c, const char *host)
{
    c->gai = malloc(sizeof *c->gai);
    if (!c->gai)
        abort();
    c->gai->c = c;
    c->gai->req.data = c->gai;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
    int rc = uv_getaddrinfo(vm_loop(c->pool->base.vm), &c->gai->req, conn_resolved, host, NULL, &hints);
    if (rc < 0) {
        free(c->gai);
        c->gai = NULL;
        pgp_conn_failed(c, uv_strerror(rc));
    }
}

/* Open one more connection (the listener with `listener`). */
void pgp_conn_open(pgp_pool *p, bool listener)
{
    pgp_conn *c = calloc(1, sizeof *c);
    if (!c || !(c->stmts = calloc(2 * PGP_STMTS, sizeof *c->stmts))) {
        free(c);
        return;
    }
    c->pool = p;
    c->listener = listener;
    c->fd = -1;
    c->state = PC_RESOLVING;
    c->deadline = pgp_now(p) + (uint64_t)(p->base.timeout * 1000.0);
    c->next = p->conns;
    if (p->conns)
        p->conns->prev = c;
    p->conns = c;
    if (listener) {
        p->listener = c;
    } else {
        p->size++;
        p->connecting++;
    }
    pg_conn_params cp;
    char err[512];
    if (!pg_conn_params_make(p->conninfo, NULL, &cp, err, sizeof err)) {
        pgp_conn_failed(c, err);
        return;
    }
    char *host = cp.host ? strdup(cp.host) : NULL;
    pg_conn_params_free(&cp);
    if (host)
        conn_resolve(c, host);
    else
        conn_connect_start(c, NULL);
    free(host);
}

/* ---- events ---------------------------------------------------------------------------------------- */

static void conn_on_poll(uv_poll_t *h, int status, int events)
{
    pgp_poll *pp = h->data;
    pgp_conn *c = pp->c;
    if (!c)
        return;
    pgp_pool *p = c->pool;
    pgp_bury(p);
    if (c->state != PC_READY) {
        if (status < 0)
            pgp_conn_failed(c, uv_strerror(status));
        else
            conn_connect_step(c, false);
        return;
    }
    if (status < 0) {
        pgp_conn_broken(c, uv_strerror(status));
        return;
    }
    if ((events & UV_WRITABLE) && !conn_flush(c)) {
        pgp_conn_broken(c, PQerrorMessage(c->pg));
        return;
    }
    if (events & UV_READABLE)
        pgp_read(c);
    if (!c->closed)
        pgp_send_pending(c);
    pgp_dispatch(p);
}
