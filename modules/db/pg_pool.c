/* pg_pool.c — await postgres.pool(url, max: N): PostgreSQL on libpq's
 * non-blocking API, driven by uv_poll on the VM's event loop.
 *
 *   let pg = await postgres.pool(url, max: 10, min: 1, timeout: 30)
 *   let row = await pg.fetch_one("SELECT * FROM users WHERE id = $1", [id])
 *   await pg.transaction(fun (tx) ... end)
 *   let ch = await pg.listen("events")      # a Channel of NOTIFY payloads
 *
 * Connections run in pipeline mode.  Each query is sent as Parse (first
 * time on the connection; statements are cached per connection as
 * prepared statements) + Bind/Execute + Sync, so each is its own implicit
 * transaction and an error aborts nothing else; queries from different
 * tasks may share a connection (up to PGP_DEPTH in flight), which is safe
 * because of those Syncs.  A leased connection (acquire(), transaction())
 * takes only its lease's queries.
 *
 * Failures: a connection that breaks fails its in-flight queries with
 * OperationalErr and is replaced after a backoff.  A query cancelled while
 * on the server is cancelled there (PQcancel, which blocks, on the thread
 * pool); its connection takes nothing new until the cancelled query has
 * answered.  A lease that ends inside a transaction is rolled back before
 * its connection serves anyone else (or the connection is closed).
 *
 * Lifetime: the Pool object owns the C pool; queries in flight keep the
 * Pool alive through their Tasks.  At vm_free the runtime shuts open pools
 * down (db.c).
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>

#include "modules/db/pg_internal.h"

#define PGP_DEPTH 16        /* queries in flight on one connection */
#define PGP_PACK 8          /* ... before the next connection is used */
#define PGP_STMTS 256       /* prepared statements cached per connection */
#define PGP_TICK_FAST 20    /* ms between checks while something waits */
#define PGP_TICK_SLOW 1000
#define PGP_BACKOFF_MIN 100 /* ms before replacing a lost connection */
#define PGP_BACKOFF_MAX 5000

typedef struct pgp_pool pgp_pool;
typedef struct pgp_conn pgp_conn;
typedef struct pgp_lease pgp_lease;
typedef struct pgp_op pgp_op;

typedef enum { STEP_PREPARE, STEP_DESCRIBE, STEP_EXEC, STEP_SCRIPT } pgp_step;
typedef enum { OPW_NEW, OPW_POOL, OPW_PENDING, OPW_SENT } pgp_where;
typedef enum { PC_RESOLVING, PC_CONNECTING, PC_READY } pgp_state;

/* A prepared statement of one connection. */
typedef struct pgp_stmt {
    char *sql;
    size_t len;
    uint32_t hash;
    char name[16];
    bool ready;        /* the server confirmed the Parse */
    bool sent;         /* Parse sent */
    int ntypes;        /* parameter types, once described (-1: not yet) */
    Oid *types;
} pgp_stmt;

struct pgp_op {
    pgp_op *next;
    pgp_pool *pool;
    pgp_conn *conn;        /* the leased connection, then the one it went to */
    qtask *task;           /* NULL once cancelled, and for internal ops */
    db_shape shape;
    uint8_t where;         /* pgp_where */
    char *sql;
    size_t len;
    qval params;           /* nil or an Array: the Task keeps it alive */
    uint8_t steps[3];      /* result-producing messages sent */
    uint8_t nsteps, step;  /* how many, and the one being read */
    bool sync;             /* a Sync follows (pipeline mode) */
    bool script;           /* several statements: the simple protocol */
    bool describing;       /* sent Parse/Describe only; Execute follows */
    bool orphan;           /* cancelled while on the server */
    bool retried;
    pgp_stmt *stmt;        /* the statement this op prepared, if any */
    Oid *types;            /* parameter types described without a cache entry */
    int ntypes;            /* -1: not described */
    PGresult *res;         /* the result of the Execute */
    PGresult *err;         /* the first failure */
    const char *lost;      /* the connection broke: why */
    uint64_t seq, queued_at;
    void (*on_done)(pgp_op *op);  /* internal ops (no task) */
    void *data;
};

/* A uv_poll of a connection's socket, allocated apart so that closing it
 * never waits for the connection (c is NULL once the connection is gone). */
typedef struct pgp_poll {
    uv_poll_t h;
    pgp_conn *c;
} pgp_poll;

typedef struct pgp_gai {
    uv_getaddrinfo_t req;
    pgp_conn *c;
} pgp_gai;

typedef struct pgp_cancel {
    uv_work_t req;
    PGcancel *pc;
    pgp_conn *c;
} pgp_cancel;

struct pgp_conn {
    pgp_conn *prev, *next;
    pgp_pool *pool;
    PGconn *pg;
    pgp_poll *poll;
    int fd;
    pgp_gai *gai;
    pgp_cancel *cancel;    /* PQcancel running on the thread pool */
    uint8_t state;         /* pgp_state */
    bool listener;
    bool pipeline;         /* in pipeline mode (not while a script runs) */
    bool want_write;
    bool dirty;            /* queries queued in libpq, to flush before the loop polls */
    bool reserved;         /* draining for an acquire() */
    bool release_check;    /* its lease ended: check the transaction state */
    bool cleaning;         /* rolling back what a lease left open */
    bool closed;           /* closed; freed at the next callback (graveyard) */
    PostgresPollingStatusType cst;
    pgp_op *head, *tail;   /* sent, answers pending */
    int inflight;
    pgp_op *phead, *ptail; /* the lease's queries not sent yet */
    pgp_op *blocker;       /* nothing else is sent until it is answered */
    int orphans;           /* cancelled queries still in flight */
    uint64_t cancel_at;
    pgp_lease *lease;
    uint64_t created, idle_since, deadline;
    pgp_stmt **stmts;      /* open addressing, 2 * PGP_STMTS slots */
    int nstmts;
    uint32_t stmt_seq;
};

struct pgp_lease {
    pgp_pool *pool;        /* NULL once the pool is shut down */
    qcdata *pool_obj;
    qcdata *self;          /* the PoolConn */
    pgp_conn *conn;        /* while held and alive */
    qtask *acquire;        /* while waiting */
    qtask *guard;
    pgp_lease *next;
    uint64_t seq, deadline;
    bool released, broken;
};

typedef struct pgp_listen {
    char *name;
    qchannel *ch;
    qtask *task;           /* listen() until the LISTEN is confirmed */
    bool active;           /* LISTEN confirmed on the current listener */
} pgp_listen;

struct pgp_pool {
    db_pool_link link;     /* first member */
    qvm *vm;
    qcdata *state;
    qcdata *obj;           /* the Pool object (not owned: it owns us) */
    char *conninfo;
    int max, min;
    double timeout, idle_timeout, max_lifetime;
    pgp_conn *conns;       /* every connection, the listener too */
    int size, connecting;  /* not counting the listener */
    pgp_conn *listener;
    pgp_conn *graveyard;   /* closed connections, freed at the next callback */
    pgp_op *qhead, *qtail; /* queries waiting for a connection */
    pgp_lease *ahead, *atail;
    pgp_listen *listens;
    int nlistens, caplistens;
    uv_timer_t tick;
    bool tick_ref;
    uv_prepare_t flusher;  /* sends what the loop iteration queued, in one write */
    int ndirty;
    uint64_t tick_due;
    int inflight;          /* queries on the wire, all connections */
    int fail_streak;
    uint64_t next_connect, next_listener;
    char last_error[256];
    qtask *open_task;      /* pool() until the first connection is up */
    uint64_t seq;
    int refs;              /* the Pool object, the timer, the flusher */
    bool closed, shut;
};

static void pgp_dispatch(pgp_pool *p);
static void pgp_conn_close(pgp_conn *c);
static void pgp_send_pending(pgp_conn *c);
static void pgp_schedule(pgp_pool *p);

static uint64_t pgp_now(pgp_pool *p)
{
    return uv_now(vm_loop(p->vm));
}

/* ---- ops ------------------------------------------------------------------------------------- */

static pgp_op *pgp_op_new(pgp_pool *p, const char *sql, size_t len)
{
    pgp_op *op = calloc(1, sizeof *op);
    if (!op || !(op->sql = malloc(len + 1))) {
        free(op);
        return NULL;
    }
    memcpy(op->sql, sql, len);
    op->sql[len] = '\0';
    op->len = len;
    op->pool = p;
    op->params = qv_nil();
    op->ntypes = -1;
    op->seq = ++p->seq;
    return op;
}

static void pgp_op_free(pgp_op *op)
{
    free(op->types);
    PQclear(op->res);
    PQclear(op->err);
    free(op->sql);
    free(op);
}

static void pgp_fifo_push(pgp_op **head, pgp_op **tail, pgp_op *op)
{
    op->next = NULL;
    if (*tail)
        (*tail)->next = op;
    else
        *head = op;
    *tail = op;
}

static pgp_op *pgp_fifo_pop(pgp_op **head, pgp_op **tail)
{
    pgp_op *op = *head;
    if (op && !(*head = op->next))
        *tail = NULL;
    if (op)
        op->next = NULL;
    return op;
}

static void pgp_fifo_remove(pgp_op **head, pgp_op **tail, pgp_op *op)
{
    pgp_op *prev = NULL;
    for (pgp_op *q = *head; q; prev = q, q = q->next) {
        if (q != op)
            continue;
        if (prev)
            prev->next = q->next;
        else
            *head = q->next;
        if (*tail == q)
            *tail = prev;
        q->next = NULL;
        return;
    }
}

/* Several statements in one string (no parameters): they need the simple
 * query protocol, outside pipeline mode. */
static bool pgp_is_script(const char *sql, size_t len)
{
    while (len && (sql[len - 1] == ';' || sql[len - 1] == ' ' || sql[len - 1] == '\n' ||
                   sql[len - 1] == '\t' || sql[len - 1] == '\r'))
        len--;
    return memchr(sql, ';', len) != NULL;
}

/* Deliver an op's outcome to its task or its owner, and free it. */
static void pgp_op_complete(pgp_op *op)
{
    pgp_pool *p = op->pool;
    qvm *vm = p->vm;
    if (op->on_done)
        op->on_done(op);
    qtask *t = op->task;
    op->task = NULL;
    if (t) {
        if (op->lost)
            task_reject(vm, t, db_exc(vm, DBE_OPERATIONAL, "connection lost: %s", op->lost));
        else if (op->err)
            task_reject(vm, t, pg_result_exc(vm, op->err));
        else {
            qval v = op->res ? pg_result_value(vm, op->res, op->shape) : qv_nil();
            if (IS_EXC(v))
                task_reject(vm, t, vm_take_exc(vm));
            else
                task_resolve(vm, t, v);
        }
    }
    pgp_op_free(op);
}

/* Fail an op that never reached the server. */
static void pgp_op_fail(pgp_op *op, db_err_kind kind, const char *msg)
{
    qvm *vm = op->pool->vm;
    qtask *t = op->task;
    op->task = NULL;
    if (op->on_done) {
        op->lost = msg;
        op->on_done(op);
    }
    if (t)
        task_reject(vm, t, db_exc(vm, kind, "%s", msg));
    pgp_op_free(op);
}

/* ---- the statement cache --------------------------------------------------------------------- */

static pgp_stmt **pgp_stmt_slot(pgp_conn *c, const char *sql, size_t len, uint32_t h)
{
    size_t mask = 2 * PGP_STMTS - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        pgp_stmt *s = c->stmts[i];
        if (!s || (s->hash == h && s->len == len && memcmp(s->sql, sql, len) == 0))
            return &c->stmts[i];
    }
}

static pgp_stmt *pgp_stmt_find(pgp_conn *c, const char *sql, size_t len)
{
    return *pgp_stmt_slot(c, sql, len, str_hash_bytes(sql, len));
}

/* A new entry for sql, or NULL when the cache is full. */
static pgp_stmt *pgp_stmt_add(pgp_conn *c, const char *sql, size_t len)
{
    if (c->nstmts >= PGP_STMTS)
        return NULL;
    uint32_t h = str_hash_bytes(sql, len);
    pgp_stmt **slot = pgp_stmt_slot(c, sql, len, h);
    pgp_stmt *s = calloc(1, sizeof *s);
    if (!s || !(s->sql = malloc(len + 1))) {
        free(s);
        return NULL;
    }
    memcpy(s->sql, sql, len);
    s->sql[len] = '\0';
    s->len = len;
    s->hash = h;
    s->ntypes = -1;
    snprintf(s->name, sizeof s->name, "q%u", ++c->stmt_seq);
    *slot = s;
    c->nstmts++;
    return s;
}

static void pgp_stmt_free(pgp_stmt *s)
{
    free(s->types);
    free(s->sql);
    free(s);
}

/* Forget s (its Parse failed, or its plan went stale); the table is
 * rebuilt to keep the probe chains intact. */
static void pgp_stmt_drop(pgp_conn *c, pgp_stmt *s)
{
    size_t cap = 2 * PGP_STMTS;
    pgp_stmt **old = c->stmts;
    c->stmts = calloc(cap, sizeof *c->stmts);
    if (!c->stmts)
        abort();
    for (size_t i = 0; i < cap; i++)
        if (old[i] && old[i] != s)
            *pgp_stmt_slot(c, old[i]->sql, old[i]->len, old[i]->hash) = old[i];
    free(old);
    pgp_stmt_free(s);
    c->nstmts--;
}

/* ---- polling and sending -------------------------------------------------------------------------- */

static void pgp_on_poll(uv_poll_t *h, int status, int events);

static void pgp_poll_closed(uv_handle_t *h)
{
    free(h->data);
}

static void pgp_poll_close(pgp_conn *c)
{
    if (!c->poll)
        return;
    c->poll->c = NULL;
    uv_close((uv_handle_t *)&c->poll->h, pgp_poll_closed);
    c->poll = NULL;
}

/* Watch the socket: always readable (answers, notifications, the server
 * closing), writable while libpq has output queued. */
static void pgp_poll_update(pgp_conn *c, int events)
{
    int fd = PQsocket(c->pg);
    if (c->poll && fd != c->fd) /* libpq moved to another socket (next host, SSL retry) */
        pgp_poll_close(c);
    if (!c->poll) {
        pgp_poll *pp = malloc(sizeof *pp);
        if (!pp)
            abort();
        pp->c = c;
        uv_poll_init_socket(vm_loop(c->pool->vm), &pp->h, fd);
        pp->h.data = pp;
        uv_unref((uv_handle_t *)&pp->h); /* the pool's timer keeps the loop alive when needed */
        c->poll = pp;
        c->fd = fd;
    }
    uv_poll_start(&c->poll->h, events, pgp_on_poll);
}

static void pgp_watch(pgp_conn *c)
{
    pgp_poll_update(c, UV_READABLE | (c->want_write ? UV_WRITABLE : 0));
}

static void pgp_flush_all(uv_prepare_t *h);

/* Queries are written when the loop is about to poll, so that those sent
 * during one iteration (many requests' handlers) share a write. */
static void pgp_mark_dirty(pgp_conn *c)
{
    pgp_pool *p = c->pool;
    if (c->dirty)
        return;
    c->dirty = true;
    if (p->ndirty++ == 0)
        uv_prepare_start(&p->flusher, pgp_flush_all);
}

static bool pgp_flush(pgp_conn *c)
{
    int r = PQflush(c->pg);
    if (r < 0)
        return false;
    if ((r == 1) != c->want_write) {
        c->want_write = r == 1;
        pgp_watch(c);
    }
    return true;
}

/* Parameters for the wire; false after failing the op. */
static bool pgp_op_params(pgp_op *op, const Oid *types, int ntypes, pg_params *out)
{
    qvm *vm = op->pool->vm;
    if (pg_params_from(vm, op->params, types, ntypes, out))
        return true;
    qexc *e = vm_take_exc(vm);
    qtask *t = op->task;
    op->task = NULL;
    if (t)
        task_reject(vm, t, e);
    return false;
}

/* Queue the messages of op on c (pipeline mode); false if libpq refused
 * (the connection is broken) or the op failed (and was freed). */
static int pgp_send_query(pgp_conn *c, pgp_op *op)
{
    PGconn *pg = c->pg;
    pgp_stmt *s = pgp_stmt_find(c, op->sql, op->len);
    bool typed = pg_params_need_types(op->params);
    if (!s && (s = pgp_stmt_add(c, op->sql, op->len)) != NULL)
        op->stmt = s;
    const char *name = s ? s->name : "";
    const Oid *types = s ? s->types : op->types;
    int ntypes = s ? s->ntypes : op->ntypes;
    if (typed && ntypes < 0) {
        /* Arrays go as PostgreSQL arrays or as JSON: ask the types first. */
        if ((!s || !s->sent) && !PQsendPrepare(pg, name, op->sql, 0, NULL))
            return 0;
        if (!s || !s->sent)
            op->steps[op->nsteps++] = STEP_PREPARE;
        if (s)
            s->sent = true;
        if (!PQsendDescribePrepared(pg, name))
            return 0;
        op->steps[op->nsteps++] = STEP_DESCRIBE;
        op->describing = true;
        c->blocker = op;
        return PQpipelineSync(pg) ? 1 : 0;
    }
    pg_params params;
    if (!pgp_op_params(op, types, ntypes, &params))
        return -1;
    int ok = 1;
    const char *const *vals = (const char *const *)params.values;
    if (s && !s->sent) { /* first use here: Parse (+ Describe, to learn the types) */
        s->sent = true;
        ok = PQsendPrepare(pg, name, op->sql, 0, NULL) && PQsendDescribePrepared(pg, name);
        op->steps[op->nsteps++] = STEP_PREPARE;
        op->steps[op->nsteps++] = STEP_DESCRIBE;
        ok = ok && PQsendQueryPrepared(pg, name, params.n, vals, params.lengths, params.formats, 0);
    } else if (s && s->ready) {
        ok = PQsendQueryPrepared(pg, name, params.n, vals, params.lengths, params.formats, 0);
    } else { /* no cache room, or another op's Parse still unanswered */
        ok = PQsendQueryParams(pg, op->sql, params.n, NULL, vals, params.lengths, params.formats, 0);
    }
    pg_params_free(&params);
    op->steps[op->nsteps++] = STEP_EXEC;
    return ok && PQpipelineSync(pg) ? 1 : 0;
}

static void pgp_conn_broken(pgp_conn *c, const char *why);

/* Send op on c.  False when c broke (op is then failed with the rest). */
static bool pgp_send(pgp_conn *c, pgp_op *op)
{
    pgp_pool *p = c->pool;
    op->conn = c;
    op->nsteps = op->step = 0;
    int ok;
    if (op->script) {
        ok = PQexitPipelineMode(c->pg) && PQsendQuery(c->pg, op->sql);
        c->pipeline = false;
        op->steps[op->nsteps++] = STEP_SCRIPT;
        op->sync = false;
        c->blocker = op;
    } else {
        op->sync = true;
        ok = pgp_send_query(c, op);
        if (ok < 0) { /* its parameters could not be converted */
            pgp_op_free(op);
            return true;
        }
    }
    op->where = OPW_SENT;
    pgp_fifo_push(&c->head, &c->tail, op);
    c->inflight++;
    p->inflight++;
    if (!ok) {
        pgp_conn_broken(c, PQerrorMessage(c->pg));
        return false;
    }
    pgp_mark_dirty(c);
    return true;
}

/* ---- connection life ------------------------------------------------------------------------------- */

static uint64_t pgp_backoff(pgp_pool *p)
{
    uint64_t ms = PGP_BACKOFF_MIN;
    for (int i = 1; i < p->fail_streak && ms < PGP_BACKOFF_MAX; i++)
        ms *= 2;
    return ms < PGP_BACKOFF_MAX ? ms : PGP_BACKOFF_MAX;
}

static void pgp_conn_unlink(pgp_conn *c)
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

/* Fail everything c has in flight or pending with "connection lost". */
static void pgp_conn_fail_ops(pgp_conn *c, const char *why)
{
    pgp_pool *p = c->pool;
    pgp_op *op;
    while ((op = pgp_fifo_pop(&c->head, &c->tail)) != NULL) {
        c->inflight--;
        p->inflight--;
        op->lost = why;
        pgp_op_complete(op);
    }
    while ((op = pgp_fifo_pop(&c->phead, &c->ptail)) != NULL) {
        op->lost = why;
        pgp_op_complete(op);
    }
    c->blocker = NULL;
    c->orphans = 0;
}

/* Close c now: stop polling, end the session, forget it. */
static void pgp_conn_close(pgp_conn *c)
{
    pgp_pool *p = c->pool;
    pgp_conn_unlink(c);
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
    pgp_poll_close(c); /* before PQfinish closes the socket */
    if (c->gai) {
        c->gai->c = NULL;
        uv_cancel((uv_req_t *)&c->gai->req);
    }
    if (c->cancel)
        c->cancel->c = NULL;
    PQfinish(c->pg);
    c->pg = NULL;
    c->closed = true;
    c->next = p->graveyard; /* callers up the stack may still look at c */
    p->graveyard = c;
}

static void pgp_conn_free(pgp_conn *c)
{
    for (int i = 0; c->stmts && i < 2 * PGP_STMTS; i++)
        if (c->stmts[i])
            pgp_stmt_free(c->stmts[i]);
    free(c->stmts);
    free(c);
}

/* Free the connections closed since the last callback. */
static void pgp_bury(pgp_pool *p)
{
    while (p->graveyard) {
        pgp_conn *c = p->graveyard;
        p->graveyard = c->next;
        pgp_conn_free(c);
    }
}

/* A connection that was up broke (the server went away, a backend was
 * terminated, a write failed): fail what it carried, replace it later. */
static void pgp_conn_broken(pgp_conn *c, const char *why)
{
    pgp_pool *p = c->pool;
    char msg[256];
    snprintf(msg, sizeof msg, "%s", why && *why ? why : "the server closed the connection");
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    snprintf(p->last_error, sizeof p->last_error, "%s", msg);
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

static void pgp_fail_waiting(pgp_pool *p, db_err_kind kind, const char *why);

/* A connection attempt failed. */
static void pgp_conn_failed(pgp_conn *c, const char *why)
{
    pgp_pool *p = c->pool;
    char msg[256];
    snprintf(msg, sizeof msg, "%s", why && *why ? why : "could not connect");
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    snprintf(p->last_error, sizeof p->last_error, "%s", msg);
    bool listener = c->listener;
    pgp_conn_fail_ops(c, msg);
    pgp_conn_close(c);
    p->fail_streak++;
    uint64_t at = pgp_now(p) + pgp_backoff(p);
    if (listener) {
        p->next_listener = at;
    } else {
        p->next_connect = at;
        if (p->open_task) { /* pool() fails: stop trying */
            qtask *t = p->open_task;
            p->open_task = NULL;
            p->closed = true;
            for (pgp_conn *o = p->conns, *next; o; o = next) {
                next = o->next;
                pgp_conn_close(o);
            }
            task_reject(p->vm, t, db_exc(p->vm, DBE_OPERATIONAL, "%s", msg));
        } else if (p->size - p->connecting == 0) {
            /* Nothing is up: waiting would only end in a timeout. */
            pgp_fail_waiting(p, DBE_OPERATIONAL, msg);
        }
    }
    pgp_schedule(p);
}

static void pgp_send_listens(pgp_conn *c);

static void pgp_conn_ready(pgp_conn *c)
{
    pgp_pool *p = c->pool;
    c->state = PC_READY;
    if (!c->listener)
        p->connecting--;
    p->fail_streak = 0;
    PQenterPipelineMode(c->pg);
    c->pipeline = true;
    c->created = c->idle_since = pgp_now(p);
    pgp_watch(c);
    if (c->listener)
        pgp_send_listens(c);
    if (p->open_task && !c->listener) {
        qtask *t = p->open_task;
        p->open_task = NULL;
        task_resolve(p->vm, t, qv_obj(p->obj));
    }
    pgp_dispatch(p);
}

/* One step of the non-blocking connect. */
static void pgp_connect_step(pgp_conn *c, bool first)
{
    c->cst = first ? PGRES_POLLING_WRITING : PQconnectPoll(c->pg);
    switch (c->cst) {
    case PGRES_POLLING_READING: pgp_poll_update(c, UV_READABLE); break;
    case PGRES_POLLING_WRITING: pgp_poll_update(c, UV_WRITABLE); break;
    case PGRES_POLLING_OK: pgp_conn_ready(c); break;
    default: pgp_conn_failed(c, PQerrorMessage(c->pg)); break;
    }
}

static void pgp_connect_start(pgp_conn *c, const char *hostaddr)
{
    pgp_pool *p = c->pool;
    pg_conn_params cp;
    char err[512];
    if (!pg_conn_params_make(p->conninfo, hostaddr, &cp, err, sizeof err)) {
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
    pgp_connect_step(c, true);
}

static void pgp_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
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
    pgp_connect_start(c, addr);
}

/* Open one more connection (the listener with `listener`). */
static void pgp_conn_open(pgp_pool *p, bool listener)
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
    c->deadline = pgp_now(p) + (uint64_t)(p->timeout * 1000.0);
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
    if (!host) {
        pgp_connect_start(c, NULL);
        return;
    }
    c->gai = malloc(sizeof *c->gai);
    if (!c->gai)
        abort();
    c->gai->c = c;
    c->gai->req.data = c->gai;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
    int rc = uv_getaddrinfo(vm_loop(p->vm), &c->gai->req, pgp_resolved, host, NULL, &hints);
    free(host);
    if (rc < 0) {
        free(c->gai);
        c->gai = NULL;
        pgp_conn_failed(c, uv_strerror(rc));
    }
}

/* ---- answers ------------------------------------------------------------------------------------------- */

static void pgp_cancel_issue(pgp_conn *c);
static void pgp_release_check(pgp_conn *c);
static void pgp_deliver_notify(pgp_pool *p, PGnotify *n);

/* Record the types a Describe reported. */
static void pgp_store_types(pgp_op *op, const PGresult *r)
{
    pgp_stmt *s = op->stmt ? op->stmt : pgp_stmt_find(op->conn, op->sql, op->len);
    Oid **types = s ? &s->types : &op->types;
    int *ntypes = s ? &s->ntypes : &op->ntypes;
    if (*ntypes >= 0)
        return;
    int n = PQnparams(r);
    *types = calloc((size_t)n + 1, sizeof(Oid));
    if (!*types)
        return;
    for (int i = 0; i < n; i++)
        (*types)[i] = PQparamtype(r, i);
    *ntypes = n;
}

static void pgp_take_result(pgp_op *op, PGresult *r)
{
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_PIPELINE_ABORTED) {
        PQclear(r);
        return;
    }
    if (st == PGRES_FATAL_ERROR || st == PGRES_NONFATAL_ERROR || st == PGRES_BAD_RESPONSE) {
        if (!op->err)
            op->err = r;
        else
            PQclear(r);
        return;
    }
    uint8_t step = op->step < op->nsteps ? op->steps[op->step] : STEP_EXEC;
    if (step == STEP_PREPARE) {
        pgp_stmt *s = op->stmt ? op->stmt : pgp_stmt_find(op->conn, op->sql, op->len);
        if (s)
            s->ready = true;
        PQclear(r);
    } else if (step == STEP_DESCRIBE) {
        pgp_store_types(op, r);
        PQclear(r);
    } else {
        PQclear(op->res);
        op->res = r;
    }
}

/* A query was cancelled by us for another op on this connection (a race
 * PQcancel cannot rule out): run it again. */
static bool pgp_spurious_cancel(pgp_conn *c, pgp_op *op)
{
    return op->err && !op->retried && !c->lease && op->task && c->cancel_at &&
           pgp_now(c->pool) - c->cancel_at < 2000 && strcmp(pg_result_sqlstate(op->err), "57014") == 0;
}

/* A statement whose plan went stale under it (ALTER TABLE): re-prepare. */
static bool pgp_stale_plan(const pgp_op *op)
{
    return op->err && strcmp(pg_result_sqlstate(op->err), "0A000") == 0 &&
           strstr(PQresultErrorMessage(op->err), "cached plan") != NULL;
}

static void pgp_requeue(pgp_pool *p, pgp_op *op)
{
    PQclear(op->err);
    PQclear(op->res);
    op->err = op->res = NULL;
    op->retried = true;
    op->stmt = NULL;
    op->where = OPW_POOL;
    op->next = p->qhead;
    p->qhead = op;
    if (!p->qtail)
        p->qtail = op;
}

/* All of op's answers are in. */
static void pgp_op_finished(pgp_conn *c, pgp_op *op)
{
    pgp_pool *p = c->pool;
    pgp_fifo_pop(&c->head, &c->tail);
    c->inflight--;
    p->inflight--;
    if (op->orphan)
        c->orphans--;
    if (c->blocker == op)
        c->blocker = NULL;
    if (op->script) {
        PQenterPipelineMode(c->pg);
        c->pipeline = true;
    }
    if (op->stmt && !op->stmt->ready) { /* its Parse failed: forget it */
        pgp_stmt_drop(c, op->stmt);
        op->stmt = NULL;
    }
    if (pgp_stale_plan(op)) {
        pgp_stmt *s = pgp_stmt_find(c, op->sql, op->len);
        if (s)
            pgp_stmt_drop(c, s);
    }
    if (op->describing && !op->err && !op->orphan) {
        op->describing = false; /* the types are known now: execute */
        op->stmt = NULL;
        pgp_send(c, op);
    } else if ((pgp_spurious_cancel(c, op) || (pgp_stale_plan(op) && !op->retried && !c->lease)) &&
               !op->orphan) {
        pgp_requeue(p, op);
    } else {
        pgp_op_complete(op);
    }
    if (c->closed)
        return;
    if (p->closed && !c->inflight && !c->lease && !c->phead && !c->cleaning && !c->release_check) {
        pgp_conn_close(c);
        return;
    }
    if (!c->inflight)
        c->idle_since = pgp_now(p);
    if (c->head && c->head->orphan && !c->cancel)
        pgp_cancel_issue(c);
}

/* Read what the server sent and complete the ops it answers. */
static void pgp_read(pgp_conn *c)
{
    pgp_pool *p = c->pool;
    if (!PQconsumeInput(c->pg)) {
        pgp_conn_broken(c, PQerrorMessage(c->pg));
        return;
    }
    while (!c->closed && c->head && !PQisBusy(c->pg)) {
        PGresult *r = PQgetResult(c->pg);
        pgp_op *op = c->head;
        if (!r) { /* the end of one message's answers */
            op->step++;
            if (!op->sync && op->step >= op->nsteps)
                pgp_op_finished(c, op);
            continue;
        }
        if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            pgp_op_finished(c, op);
            continue;
        }
        pgp_take_result(op, r);
    }
    if (c->closed)
        return;
    PGnotify *n;
    while ((n = PQnotifies(c->pg)) != NULL) {
        if (c->listener)
            pgp_deliver_notify(p, n);
        PQfreemem(n);
    }
    if (!c->head && c->release_check)
        pgp_release_check(c);
}

static void pgp_flush_all(uv_prepare_t *h)
{
    pgp_pool *p = h->data;
    uv_prepare_stop(&p->flusher);
    p->ndirty = 0;
    for (pgp_conn *c = p->conns, *next; c; c = next) {
        next = c->next;
        if (!c->dirty)
            continue;
        c->dirty = false;
        if (!pgp_flush(c))
            pgp_conn_broken(c, PQerrorMessage(c->pg));
    }
}

static void pgp_on_poll(uv_poll_t *h, int status, int events)
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
            pgp_connect_step(c, false);
        return;
    }
    if (status < 0) {
        pgp_conn_broken(c, uv_strerror(status));
        return;
    }
    if ((events & UV_WRITABLE) && !pgp_flush(c)) {
        pgp_conn_broken(c, PQerrorMessage(c->pg));
        return;
    }
    if (events & UV_READABLE)
        pgp_read(c);
    if (!c->closed)
        pgp_send_pending(c);
    pgp_dispatch(p);
}

/* ---- cancelling -------------------------------------------------------------------------------------------- */

static void pgp_cancel_work(uv_work_t *req)
{
    pgp_cancel *w = req->data;
    char err[256];
    PQcancel(w->pc, err, sizeof err);
}

static void pgp_cancel_done(uv_work_t *req, int status)
{
    (void)status;
    pgp_cancel *w = req->data;
    PQfreeCancel(w->pc);
    pgp_conn *c = w->c;
    free(w);
    if (!c)
        return;
    pgp_bury(c->pool);
    c->cancel = NULL;
    pgp_send_pending(c);
    pgp_dispatch(c->pool);
}

/* Ask the server to stop the query at the head of c (an orphan). */
static void pgp_cancel_issue(pgp_conn *c)
{
    pgp_cancel *w = malloc(sizeof *w);
    if (!w)
        return;
    w->pc = PQgetCancel(c->pg);
    if (!w->pc) {
        free(w);
        return;
    }
    w->c = c;
    w->req.data = w;
    c->cancel = w;
    c->cancel_at = pgp_now(c->pool);
    uv_queue_work(vm_loop(c->pool->vm), &w->req, pgp_cancel_work, pgp_cancel_done);
}

/* The Task of an op was cancelled. */
static void pgp_op_cancel(qvm *vm, qtask *t, void *data)
{
    (void)vm, (void)t;
    pgp_op *op = data;
    pgp_pool *p = op->pool;
    op->task = NULL;
    switch (op->where) {
    case OPW_POOL:
        pgp_fifo_remove(&p->qhead, &p->qtail, op);
        pgp_op_free(op);
        break;
    case OPW_PENDING:
        pgp_fifo_remove(&op->conn->phead, &op->conn->ptail, op);
        pgp_op_free(op);
        break;
    case OPW_SENT: {
        pgp_conn *c = op->conn;
        op->orphan = true;
        c->orphans++;
        if (c->head == op && !c->cancel)
            pgp_cancel_issue(c);
        break;
    }
    default: break;
    }
}

/* ---- dispatching -------------------------------------------------------------------------------------------- */

/* Can c take another query now (for a lease: `leased` ops)? */
static bool pgp_can_send(const pgp_conn *c, const pgp_op *op)
{
    if (c->state != PC_READY || c->blocker || c->orphans || c->cancel || !c->pipeline)
        return false;
    return op && op->script ? c->inflight == 0 : c->inflight < PGP_DEPTH;
}

/* Send the lease's queued queries, in order, while c can take them. */
static void pgp_send_pending(pgp_conn *c)
{
    while (c->phead && pgp_can_send(c, c->phead)) {
        pgp_op *op = pgp_fifo_pop(&c->phead, &c->ptail);
        if (!pgp_send(c, op))
            return;
    }
}

/* Free for anyone's queries. */
static bool pgp_shared(const pgp_conn *c)
{
    return !c->listener && !c->lease && !c->reserved && !c->release_check && !c->cleaning;
}

static void pgp_grant(pgp_pool *p, pgp_lease *l, pgp_conn *c)
{
    p->ahead = l->next;
    if (!p->ahead)
        p->atail = NULL;
    l->next = NULL;
    c->reserved = false;
    c->lease = l;
    l->conn = c;
    qtask *t = l->acquire;
    l->acquire = NULL;
    task_resolve(p->vm, t, qv_obj(l->self));
}

/* Connections for acquire(): an idle one now, else one drained for it. */
static void pgp_serve_acquires(pgp_pool *p)
{
    while (p->ahead) {
        pgp_conn *idle = NULL, *reserved = NULL, *least = NULL;
        for (pgp_conn *c = p->conns; c; c = c->next) {
            if (c->listener || c->lease || c->state != PC_READY || c->release_check || c->cleaning)
                continue;
            if (c->inflight == 0 && !c->phead && !c->orphans && !c->cancel && (!idle || c->reserved))
                idle = c;
            if (c->reserved)
                reserved = c;
            if (!c->reserved && (!least || c->inflight < least->inflight))
                least = c;
        }
        if (idle) {
            pgp_grant(p, p->ahead, idle);
            continue;
        }
        /* None idle and no room for another: drain one for it. */
        if (!reserved && least && p->size >= p->max)
            least->reserved = true;
        return;
    }
}

/* The connection for a shared query: the busiest one below PGP_PACK
 * queries in flight (a few deep pipelines cost the server far fewer
 * wake-ups than many shallow ones), else the least busy below PGP_DEPTH. */
static pgp_conn *pgp_pick(pgp_pool *p, const pgp_op *op)
{
    pgp_conn *packed = NULL, *least = NULL;
    for (pgp_conn *c = p->conns; c; c = c->next) {
        if (!pgp_shared(c) || !pgp_can_send(c, op))
            continue;
        if (c->inflight < PGP_PACK && (!packed || c->inflight > packed->inflight))
            packed = c;
        if (!least || c->inflight < least->inflight)
            least = c;
    }
    return packed ? packed : least;
}

static void pgp_dispatch(pgp_pool *p)
{
    if (p->shut)
        return;
    pgp_serve_acquires(p);
    while (p->qhead) {
        pgp_op *op = p->qhead;
        pgp_conn *best = pgp_pick(p, op);
        if (!best)
            break;
        pgp_fifo_pop(&p->qhead, &p->qtail);
        pgp_send(best, op);
    }
    pgp_schedule(p);
}

/* ---- the timer: deadlines, growth, idle and old connections, keep-alive ----------------------------------------- */

static void pgp_fail_waiting(pgp_pool *p, db_err_kind kind, const char *why)
{
    pgp_op *op;
    while ((op = pgp_fifo_pop(&p->qhead, &p->qtail)) != NULL)
        pgp_op_fail(op, kind, why);
    while (p->ahead) {
        pgp_lease *l = p->ahead;
        p->ahead = l->next;
        l->next = NULL;
        l->released = true;
        qtask *t = l->acquire, *g = l->guard;
        l->acquire = l->guard = NULL;
        if (g)
            db_guard_done(p->vm, g);
        if (t)
            task_reject(p->vm, t, db_exc(p->vm, kind, "%s", why));
    }
    p->atail = NULL;
}

static void pgp_expire(pgp_pool *p, uint64_t now)
{
    qvm *vm = p->vm;
    uint64_t wait = (uint64_t)(p->timeout * 1000.0);
    while (p->qhead && now - p->qhead->queued_at >= wait) {
        pgp_op *op = pgp_fifo_pop(&p->qhead, &p->qtail);
        qtask *t = op->task;
        op->task = NULL;
        if (t)
            task_reject(vm, t, exc_new(vm, vm_err_type(vm, E_TIMEOUT),
                                       str_printf(vm, "no database connection within %g s%s%s", p->timeout,
                                                  p->last_error[0] ? ": " : "", p->last_error)));
        pgp_op_free(op);
    }
    pgp_lease *prev = NULL;
    for (pgp_lease *l = p->ahead; l;) {
        pgp_lease *next = l->next;
        if (l->deadline && l->deadline <= now) {
            if (prev)
                prev->next = next;
            else
                p->ahead = next;
            if (p->atail == l)
                p->atail = prev;
            l->next = NULL;
            l->released = true;
            qtask *t = l->acquire, *g = l->guard;
            l->acquire = l->guard = NULL;
            if (g)
                db_guard_done(vm, g);
            task_reject(vm, t, exc_new(vm, vm_err_type(vm, E_TIMEOUT),
                                       str_cstr(vm, "acquire timed out: every connection of the pool is busy")));
        } else {
            prev = l;
        }
        l = next;
    }
    for (pgp_conn *c = p->conns, *next; c; c = next) {
        next = c->next;
        if (c->state != PC_READY && c->deadline <= now)
            pgp_conn_failed(c, "timeout expired while connecting");
    }
}

/* Close connections idle too long (above min) or older than max_lifetime. */
static void pgp_retire(pgp_pool *p, uint64_t now)
{
    for (pgp_conn *c = p->conns, *next; c; c = next) {
        next = c->next;
        if (c->listener || c->state != PC_READY || c->lease || c->inflight || c->phead || c->cleaning ||
            c->release_check || c->cancel)
            continue;
        if (p->closed) {
            pgp_conn_close(c);
            continue;
        }
        bool idle_long = p->idle_timeout > 0 && p->size > p->min &&
                         now - c->idle_since >= (uint64_t)(p->idle_timeout * 1000.0);
        bool old = p->max_lifetime > 0 && now - c->created >= (uint64_t)(p->max_lifetime * 1000.0);
        if (idle_long || old)
            pgp_conn_close(c);
    }
}

/* Open connections when below min, when queries or acquire() wait, or when
 * every connection already carries queries (spread the load up to max). */
static void pgp_grow(pgp_pool *p, uint64_t now)
{
    if (p->closed || p->connecting || p->size >= p->max || now < p->next_connect)
        return;
    bool all_busy = true;
    for (pgp_conn *c = p->conns; c && all_busy; c = c->next)
        if (!c->listener && c->state == PC_READY && c->inflight == 0 && !c->lease)
            all_busy = false;
    if (p->size < p->min || p->qhead || p->ahead || (all_busy && p->inflight > 0))
        pgp_conn_open(p, false);
}

static bool pgp_busy(const pgp_pool *p)
{
    return p->qhead || p->ahead || p->inflight > 0 || p->open_task || p->nlistens > 0 ||
           (p->listener && p->listener->head);
}

static void pgp_tick(uv_timer_t *h)
{
    pgp_pool *p = h->data;
    uint64_t now = pgp_now(p);
    p->tick_due = 0;
    pgp_bury(p);
    pgp_expire(p, now);
    if (p->shut)
        return;
    pgp_retire(p, now);
    pgp_grow(p, now);
    if (p->nlistens && !p->listener && now >= p->next_listener)
        pgp_conn_open(p, true);
    pgp_dispatch(p);
}

/* Re-arm the timer for what is pending, and keep the loop alive exactly
 * while the pool has work (its sockets' polls never do). */
static void pgp_schedule(pgp_pool *p)
{
    if (p->shut)
        return;
    uint64_t now = pgp_now(p);
    pgp_grow(p, now);
    bool urgent = p->qhead || p->ahead || p->connecting || (p->nlistens && !p->listener) ||
                  (p->size < p->min && !p->closed);
    uint64_t due = now + (urgent ? PGP_TICK_FAST : PGP_TICK_SLOW);
    if (!p->tick_due || due < p->tick_due) {
        p->tick_due = due;
        uv_timer_start(&p->tick, pgp_tick, due - now, 0);
    }
    bool busy = pgp_busy(p);
    if (busy != p->tick_ref) {
        p->tick_ref = busy;
        if (busy)
            uv_ref((uv_handle_t *)&p->tick);
        else
            uv_unref((uv_handle_t *)&p->tick);
    }
}

/* ---- life of the pool ------------------------------------------------------------------------------------------ */

static void pgp_unref(pgp_pool *p)
{
    if (--p->refs > 0)
        return;
    pgp_bury(p);
    for (int i = 0; i < p->nlistens; i++)
        free(p->listens[i].name);
    free(p->listens);
    free(p->conninfo);
    free(p);
}

static void pgp_tick_closed(uv_handle_t *h)
{
    pgp_unref(h->data);
}

/* vm_alive: at vm_free (fail what waits) rather than from the Pool's
 * finalizer (nothing waits then: Tasks keep the Pool alive). */
static void pgp_shutdown(pgp_pool *p, bool vm_alive)
{
    if (p->shut)
        return;
    p->closed = p->shut = true;
    db_pool_unregister(&p->link);
    if (vm_alive) {
        pgp_fail_waiting(p, DBE_OPERATIONAL, "the database pool was shut down");
        if (p->open_task) {
            qtask *t = p->open_task;
            p->open_task = NULL;
            task_reject(p->vm, t, db_exc(p->vm, DBE_OPERATIONAL, "the database pool was shut down"));
        }
        for (int i = 0; i < p->nlistens; i++)
            channel_close(p->vm, p->listens[i].ch);
    }
    for (int i = 0; i < p->nlistens; i++)
        free(p->listens[i].name);
    p->nlistens = 0;
    while (p->conns) {
        pgp_conn *c = p->conns;
        if (vm_alive)
            pgp_conn_fail_ops(c, "the database pool was shut down");
        pgp_conn_close(c);
    }
    uv_timer_stop(&p->tick);
    uv_close((uv_handle_t *)&p->tick, pgp_tick_closed);
    uv_close((uv_handle_t *)&p->flusher, pgp_tick_closed);
}

static void pgp_link_shutdown(db_pool_link *link)
{
    pgp_shutdown((pgp_pool *)link, true);
}

typedef struct pgp_handle {
    pgp_pool *p;
} pgp_handle;

static void pgp_handle_free(void *data)
{
    pgp_handle *h = data;
    pgp_shutdown(h->p, false);
    pgp_unref(h->p);
    free(h);
}

static void pgp_handle_mark(qvm *vm, void *data)
{
    pgp_pool *p = ((pgp_handle *)data)->p;
    vm_mark_obj(vm, (qobj *)p->state);
    for (int i = 0; i < p->nlistens; i++)
        vm_mark_obj(vm, (qobj *)p->listens[i].ch);
}

static const qcdata_class pgp_class = {"Pool", pgp_handle_free, pgp_handle_mark, NULL};

static pgp_pool *pgp_of(qvm *vm, qval self)
{
    pgp_handle *h = cdata_get(vm, self, &pgp_class);
    return h ? h->p : NULL;
}

/* ---- queries from Quest ---------------------------------------------------------------------------------------- */

/* Queue sql (for the lease's connection when `lease`) and return the Task
 * of its result; hold: what the Task keeps alive (the Pool or PoolConn). */
static qval pgp_submit(qvm *vm, pgp_pool *p, pgp_lease *lease, qstr *sql, qval params, db_shape shape, qval hold)
{
    if (p->closed && !lease)
        return db_failed_task(vm, DBE_OPERATIONAL, "the database pool is closed");
    if (!IS_NIL(params) && !IS_ARRAY(params))
        return db_raise(vm, DBE_PROGRAMMING,
                        "PostgreSQL takes positional parameters ($1, $2 ...): pass an Array, not a %s",
                        vm_cls_name(params));
    pgp_op *op = pgp_op_new(p, sql->data, sql->len);
    if (!op)
        return vm_raise(vm, E_RUNTIME, "out of memory");
    op->shape = shape;
    op->params = params;
    op->script = (IS_NIL(params) || AS_ARRAY(params)->len == 0) && pgp_is_script(op->sql, op->len);
    op->task = task_new_pending(vm, "query");
    qval result = task_value(op->task);
    if (IS_NIL(params)) {
        task_hold(op->task, hold);
    } else { /* the parameters are read when the query is sent */
        qarray *keep = arr_new(vm, 2);
        arr_push(vm, keep, hold);
        arr_push(vm, keep, params);
        task_hold(op->task, qv_obj(keep));
    }
    task_set_cancel(op->task, pgp_op_cancel, op);
    op->queued_at = pgp_now(p);
    if (lease) {
        pgp_conn *c = lease->conn;
        op->conn = c;
        op->where = OPW_PENDING;
        pgp_fifo_push(&c->phead, &c->ptail, op);
        pgp_send_pending(c);
    } else {
        op->where = OPW_POOL;
        pgp_fifo_push(&p->qhead, &p->qtail, op);
        pgp_dispatch(p);
    }
    pgp_schedule(p);
    return result;
}

static qval pgp_query(qvm *vm, qval self, int argc, qval *argv, const char *fname, db_shape shape)
{
    pgp_pool *p = pgp_of(vm, self);
    qstr *sql;
    qval params;
    if (!p || !db_sql_args(vm, fname, argc, argv, true, &sql, &params))
        return qv_exc();
    return pgp_submit(vm, p, NULL, sql, params, shape, self);
}

static qval pool_fetch_all(qvm *vm, qval self, int argc, qval *argv)
{
    return pgp_query(vm, self, argc, argv, "fetch_all", DB_ROWS);
}

static qval pool_fetch_one(qvm *vm, qval self, int argc, qval *argv)
{
    return pgp_query(vm, self, argc, argv, "fetch_one", DB_ONE);
}

static qval pool_fetch_val(qvm *vm, qval self, int argc, qval *argv)
{
    return pgp_query(vm, self, argc, argv, "fetch_val", DB_VAL);
}

static qval pool_execute(qvm *vm, qval self, int argc, qval *argv)
{
    return pgp_query(vm, self, argc, argv, "execute", DB_COUNT);
}

static qval pool_transaction(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    if (!pgp_of(vm, self))
        return qv_exc();
    return db_transaction(vm, self, argv[0]);
}

/* ---- leases ---------------------------------------------------------------------------------------------------- */

static void pgp_lease_free(void *data)
{
    free(data);
}

static void pgp_lease_mark(qvm *vm, void *data)
{
    vm_mark_obj(vm, (qobj *)((pgp_lease *)data)->pool_obj);
}

static const qcdata_class pgp_lease_class = {"PoolConn", pgp_lease_free, pgp_lease_mark, NULL};

static void pgp_cleanup_done(pgp_op *op)
{
    pgp_conn *c = op->conn;
    c->cleaning = false;
    if (op->lost)
        return;
    if (op->err || PQtransactionStatus(c->pg) != PQTRANS_IDLE)
        pgp_conn_close(c); /* cannot be made clean: discard it */
    pgp_dispatch(op->pool);
}

/* A lease ended and c has nothing in flight: make sure no transaction is
 * left open before anyone else gets c. */
static void pgp_release_check(pgp_conn *c)
{
    pgp_pool *p = c->pool;
    c->release_check = false;
    PGTransactionStatusType st = PQtransactionStatus(c->pg);
    if (st == PQTRANS_INTRANS || st == PQTRANS_INERROR) {
        pgp_op *op = pgp_op_new(p, "ROLLBACK", 8);
        if (op) {
            op->on_done = pgp_cleanup_done;
            c->cleaning = true;
            pgp_send(c, op);
            return;
        }
    }
    if (st != PQTRANS_IDLE || p->closed)
        pgp_conn_close(c);
    pgp_dispatch(p);
}

static void pgp_lease_end(pgp_lease *l)
{
    pgp_pool *p = l->pool;
    l->released = true;
    qtask *g = l->guard;
    l->guard = NULL;
    if (g && p)
        db_guard_done(p->vm, g);
    pgp_conn *c = l->conn;
    l->conn = NULL;
    if (!c || !p)
        return;
    c->lease = NULL;
    c->release_check = true;
    if (!c->head && !c->phead)
        pgp_release_check(c);
}

static void pgp_acquire_cancel(qvm *vm, qtask *t, void *data)
{
    (void)vm, (void)t;
    pgp_lease *l = data;
    l->acquire = NULL;
    pgp_pool *p = l->pool;
    if (p) {
        pgp_lease *prev = NULL;
        for (pgp_lease *q = p->ahead; q; prev = q, q = q->next) {
            if (q != l)
                continue;
            if (prev)
                prev->next = q->next;
            else
                p->ahead = q->next;
            if (p->atail == q)
                p->atail = prev;
            break;
        }
        for (pgp_conn *c = p->conns; c; c = c->next)
            c->reserved = false;
    }
    pgp_lease_end(l);
    if (p)
        pgp_dispatch(p);
}

static void pgp_guard_cancel(qvm *vm, qtask *t, void *data)
{
    (void)t;
    pgp_lease *l = data;
    l->guard = NULL;
    if (l->acquire)
        task_cancel(vm, l->acquire);
    else
        pgp_lease_end(l);
}

static qval pool_acquire(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    pgp_pool *p = pgp_of(vm, self);
    if (!p)
        return qv_exc();
    double timeout = p->timeout;
    if (!db_kw_seconds(vm, vm_kwargs(vm), "acquire", "timeout", &timeout))
        return qv_exc();
    if (p->closed)
        return db_failed_task(vm, DBE_OPERATIONAL, "the database pool is closed");
    pgp_lease *l = calloc(1, sizeof *l);
    if (!l)
        return vm_raise(vm, E_RUNTIME, "out of memory");
    l->pool = p;
    l->pool_obj = AS_CDATA(self);
    pg_state *st = p->state->data;
    l->self = cdata_new(vm, st->lease_type, &pgp_lease_class, l);
    l->guard = db_guard_new(vm, pgp_guard_cancel, l);
    task_hold(l->guard, qv_obj(l->self));
    l->acquire = task_new_pending(vm, "acquire");
    task_hold(l->acquire, qv_obj(l->self));
    task_set_cancel(l->acquire, pgp_acquire_cancel, l);
    qval result = task_value(l->acquire);
    l->seq = ++p->seq;
    l->deadline = pgp_now(p) + (uint64_t)(timeout * 1000.0) + 1;
    if (p->atail)
        p->atail->next = l;
    else
        p->ahead = l;
    p->atail = l;
    pgp_dispatch(p);
    return result;
}

static pgp_lease *pgp_lease_of(qvm *vm, qval self)
{
    pgp_lease *l = cdata_get(vm, self, &pgp_lease_class);
    if (!l)
        return NULL;
    if (l->broken && !l->released) {
        db_raise(vm, DBE_OPERATIONAL, "the connection was lost");
        return NULL;
    }
    if (!l->conn || !l->pool) {
        db_raise(vm, DBE_PROGRAMMING, "this connection was released to its pool");
        return NULL;
    }
    return l;
}

static qval pgp_lease_query(qvm *vm, qval self, int argc, qval *argv, const char *fname, db_shape shape)
{
    pgp_lease *l = pgp_lease_of(vm, self);
    qstr *sql;
    qval params;
    if (!l || !db_sql_args(vm, fname, argc, argv, true, &sql, &params))
        return qv_exc();
    return pgp_submit(vm, l->pool, l, sql, params, shape, self);
}

static qval lease_fetch_all(qvm *vm, qval self, int argc, qval *argv)
{
    return pgp_lease_query(vm, self, argc, argv, "fetch_all", DB_ROWS);
}

static qval lease_fetch_one(qvm *vm, qval self, int argc, qval *argv)
{
    return pgp_lease_query(vm, self, argc, argv, "fetch_one", DB_ONE);
}

static qval lease_fetch_val(qvm *vm, qval self, int argc, qval *argv)
{
    return pgp_lease_query(vm, self, argc, argv, "fetch_val", DB_VAL);
}

static qval lease_execute(qvm *vm, qval self, int argc, qval *argv)
{
    return pgp_lease_query(vm, self, argc, argv, "execute", DB_COUNT);
}

static qval pgp_lease_sql(qvm *vm, qval self, const char *sql)
{
    pgp_lease *l = pgp_lease_of(vm, self);
    if (!l)
        return qv_exc();
    return pgp_submit(vm, l->pool, l, str_cstr(vm, sql), qv_nil(), DB_COUNT, self);
}

static qval lease_begin(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return pgp_lease_sql(vm, self, "BEGIN");
}

static qval lease_commit(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return pgp_lease_sql(vm, self, "COMMIT");
}

static qval lease_rollback(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return pgp_lease_sql(vm, self, "ROLLBACK");
}

static qval lease_release(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    pgp_lease *l = cdata_get(vm, self, &pgp_lease_class);
    if (!l)
        return qv_exc();
    if (!l->released)
        pgp_lease_end(l);
    return qv_nil();
}

static qval lease_enter(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return pgp_lease_of(vm, self) ? self : qv_exc();
}

const qmethod_def pg_lease_methods[] = {
    {"fetch_all", lease_fetch_all, 1, -1, false},
    {"fetch_one", lease_fetch_one, 1, -1, false},
    {"fetch_val", lease_fetch_val, 1, -1, false},
    {"execute", lease_execute, 1, -1, false},
    {"begin", lease_begin, 0, 0, false},
    {"commit", lease_commit, 0, 0, false},
    {"rollback", lease_rollback, 0, 0, false},
    {"release", lease_release, 0, 0, false},
    {"_enter", lease_enter, 0, 0, false},
    {"_exit", lease_release, 0, -1, false},
    {NULL, NULL, 0, 0, false},
};

/* ---- LISTEN / NOTIFY ------------------------------------------------------------------------------------------- */

/* "name" quoted as an SQL identifier. */
static char *pgp_quote_ident(const char *name)
{
    size_t n = strlen(name);
    char *q = malloc(2 * n + 3), *o = q;
    if (!q)
        abort();
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        if (name[i] == '"')
            *o++ = '"';
        *o++ = name[i];
    }
    *o++ = '"';
    *o = '\0';
    return q;
}

/* A LISTEN was answered: the listen() calls for that name get their
 * channels.  After a lost connection they wait for the next listener. */
static void pgp_listen_done(pgp_op *op)
{
    pgp_pool *p = op->pool;
    const char *name = op->data;
    for (int i = 0; i < p->nlistens && !op->lost;) {
        pgp_listen *e = &p->listens[i];
        if (strcmp(e->name, name) != 0) {
            i++;
            continue;
        }
        qtask *t = e->task;
        e->task = NULL;
        if (op->err) {
            if (t)
                task_reject(p->vm, t, pg_result_exc(p->vm, op->err));
            free(e->name);
            *e = p->listens[--p->nlistens];
            continue;
        }
        e->active = true;
        if (t)
            task_resolve(p->vm, t, qv_obj(e->ch));
        i++;
    }
    free(op->data);
}

static void pgp_send_sql(pgp_conn *c, const char *verb, const char *name)
{
    char *q = pgp_quote_ident(name);
    size_t len = strlen(verb) + strlen(q) + 2;
    char *sql = malloc(len);
    if (!sql)
        abort();
    snprintf(sql, len, "%s %s", verb, q);
    free(q);
    pgp_op *op = pgp_op_new(c->pool, sql, strlen(sql));
    free(sql);
    if (!op)
        return;
    if (strcmp(verb, "LISTEN") == 0) {
        op->on_done = pgp_listen_done;
        op->data = strdup(name);
    }
    op->where = OPW_PENDING;
    op->conn = c;
    pgp_fifo_push(&c->phead, &c->ptail, op);
    pgp_send_pending(c);
}

/* On a (new) listener: LISTEN to every channel name in use. */
static void pgp_send_listens(pgp_conn *c)
{
    pgp_pool *p = c->pool;
    for (int i = 0; i < p->nlistens; i++) {
        bool seen = false;
        for (int j = 0; j < i && !seen; j++)
            seen = strcmp(p->listens[j].name, p->listens[i].name) == 0;
        if (!seen)
            pgp_send_sql(c, "LISTEN", p->listens[i].name);
    }
}

static void pgp_listen_remove(pgp_pool *p, int i)
{
    char *name = p->listens[i].name;
    p->listens[i] = p->listens[--p->nlistens];
    bool still = false;
    for (int j = 0; j < p->nlistens && !still; j++)
        still = strcmp(p->listens[j].name, name) == 0;
    if (!still && p->listener && p->listener->state == PC_READY)
        pgp_send_sql(p->listener, "UNLISTEN", name);
    free(name);
}

static void pgp_deliver_notify(pgp_pool *p, PGnotify *n)
{
    for (int i = 0; i < p->nlistens;) {
        pgp_listen *e = &p->listens[i];
        if (strcmp(e->name, n->relname) != 0) {
            i++;
            continue;
        }
        if (!channel_offer(p->vm, e->ch, qv_obj(str_cstr(p->vm, n->extra))))
            pgp_listen_remove(p, i); /* the program closed its channel */
        else
            i++;
    }
}

static void pgp_listen_cancel(qvm *vm, qtask *t, void *data)
{
    (void)vm;
    pgp_pool *p = data;
    for (int i = 0; i < p->nlistens; i++) {
        if (p->listens[i].task == t) {
            p->listens[i].task = NULL;
            pgp_listen_remove(p, i);
            return;
        }
    }
}

static qval pool_listen(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    pgp_pool *p = pgp_of(vm, self);
    qstr *name;
    if (!p || !arg_str(vm, "listen", argv[0], &name))
        return qv_exc();
    if (p->closed)
        return db_failed_task(vm, DBE_OPERATIONAL, "the database pool is closed");
    if (p->nlistens == p->caplistens) {
        int cap = p->caplistens ? p->caplistens * 2 : 4;
        pgp_listen *l = realloc(p->listens, (size_t)cap * sizeof *l);
        if (!l)
            return vm_raise(vm, E_RUNTIME, "out of memory");
        p->listens = l;
        p->caplistens = cap;
    }
    bool active = false;
    for (int i = 0; i < p->nlistens; i++)
        active |= strcmp(p->listens[i].name, name->data) == 0 && p->listens[i].active;
    pgp_listen *e = &p->listens[p->nlistens++];
    e->name = strdup(name->data);
    e->ch = channel_new(vm, -1);
    e->active = active;
    e->task = task_new_pending(vm, "listen");
    qtask *t = e->task;
    task_hold(t, self);
    if (active) { /* already listening to that name */
        e->task = NULL;
        task_resolve(vm, t, qv_obj(e->ch));
    } else {
        task_set_cancel(t, pgp_listen_cancel, p);
        if (p->listener && p->listener->state == PC_READY)
            pgp_send_sql(p->listener, "LISTEN", name->data);
        else if (!p->listener && pgp_now(p) >= p->next_listener)
            pgp_conn_open(p, true);
    }
    pgp_schedule(p);
    return task_value(t);
}

/* ---- stats, close ---------------------------------------------------------------------------------------------- */

static qval pool_stats(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    pgp_pool *p = pgp_of(vm, self);
    if (!p)
        return qv_exc();
    int64_t idle = 0, waiting = 0;
    for (pgp_conn *c = p->conns; c; c = c->next)
        if (!c->listener && c->state == PC_READY && !c->inflight && !c->lease && !c->phead && !c->cleaning)
            idle++;
    for (pgp_op *op = p->qhead; op; op = op->next)
        waiting++;
    for (pgp_lease *l = p->ahead; l; l = l->next)
        waiting++;
    qdict *d = dict_new(vm);
    dict_set_cstr(vm, d, "size", qv_int(p->size));
    dict_set_cstr(vm, d, "idle", qv_int(idle));
    /* Connections still connecting are neither idle nor busy. */
    dict_set_cstr(vm, d, "busy", qv_int(p->size - p->connecting - idle));
    dict_set_cstr(vm, d, "waiting", qv_int(waiting));
    return qv_obj(d);
}

static qval pool_close(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    pgp_pool *p = pgp_of(vm, self);
    if (!p)
        return qv_exc();
    if (p->closed)
        return qv_nil();
    p->closed = true;
    pgp_fail_waiting(p, DBE_OPERATIONAL, "the database pool is closed");
    for (int i = 0; i < p->nlistens; i++)
        channel_close(vm, p->listens[i].ch);
    for (pgp_conn *c = p->conns, *next; c; c = next) {
        next = c->next;
        if (c->listener || (!c->lease && !c->inflight && !c->phead && !c->cleaning))
            pgp_conn_close(c); /* the others close when their lease ends */
    }
    pgp_schedule(p);
    return qv_nil();
}

const qmethod_def pg_pool_methods[] = {
    {"fetch_all", pool_fetch_all, 1, -1, false},
    {"fetch_one", pool_fetch_one, 1, -1, false},
    {"fetch_val", pool_fetch_val, 1, -1, false},
    {"execute", pool_execute, 1, -1, false},
    {"transaction", pool_transaction, 1, 1, false},
    {"acquire", pool_acquire, 0, 0, true},
    {"listen", pool_listen, 1, 1, false},
    {"stats", pool_stats, 0, 0, false},
    {"close", pool_close, 0, 0, false},
    {NULL, NULL, 0, 0, false},
};

/* ---- postgres.pool ------------------------------------------------------------------------------------------------ */

static bool pgp_options(qvm *vm, pgp_pool *p)
{
    qdict *kw = vm_kwargs(vm);
    int64_t max = 10, min = 1;
    const char *f = "postgres.pool";
    p->timeout = 30;
    p->idle_timeout = 300;
    p->max_lifetime = 3600;
    if (!db_kw_int(vm, kw, f, "max", &max) || !db_kw_int(vm, kw, f, "min", &min) ||
        !db_kw_seconds(vm, kw, f, "timeout", &p->timeout) ||
        !db_kw_seconds(vm, kw, f, "idle_timeout", &p->idle_timeout) ||
        !db_kw_seconds(vm, kw, f, "max_lifetime", &p->max_lifetime))
        return false;
    if (max < 1 || max > 1000 || min < 0 || min > max) {
        vm_raise(vm, E_VALUE, "postgres.pool: need 0 <= min <= max <= 1000, got min %lld, max %lld",
                 (long long)min, (long long)max);
        return false;
    }
    p->max = (int)max;
    p->min = (int)min;
    return true;
}

qval pg_pool_open(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qstr *info;
    if (!arg_str(vm, "postgres.pool", argv[0], &info))
        return qv_exc();
    pgp_pool *p = calloc(1, sizeof *p);
    pgp_handle *h = malloc(sizeof *h);
    if (!p || !h || !(p->conninfo = strdup(info->data))) {
        free(p), free(h);
        return vm_raise(vm, E_RUNTIME, "out of memory");
    }
    p->vm = vm;
    p->state = AS_CDATA(self);
    if (!pgp_options(vm, p)) {
        free(p->conninfo), free(p), free(h);
        return qv_exc();
    }
    pg_conn_params check;
    char err[512];
    if (!pg_conn_params_make(p->conninfo, NULL, &check, err, sizeof err)) {
        free(p->conninfo), free(p), free(h);
        return db_raise(vm, DBE_PROGRAMMING, "%s", err);
    }
    pg_conn_params_free(&check);
    uv_timer_init(vm_loop(vm), &p->tick);
    p->tick.data = p;
    uv_unref((uv_handle_t *)&p->tick);
    uv_prepare_init(vm_loop(vm), &p->flusher);
    p->flusher.data = p;
    uv_unref((uv_handle_t *)&p->flusher);
    p->refs = 3; /* the Pool object, the timer, the flusher */
    p->link.shutdown = pgp_link_shutdown;
    db_pool_register(vm, &p->link);
    h->p = p;
    pg_state *st = p->state->data;
    p->obj = cdata_new(vm, st->pool_type, &pgp_class, h);
    p->open_task = task_new_pending(vm, "pool");
    task_hold(p->open_task, qv_obj(p->obj));
    qval result = task_value(p->open_task);
    int first = p->min > 1 ? p->min : 1;
    for (int i = 0; i < first && !p->closed && p->open_task; i++)
        pgp_conn_open(p, false);
    pgp_schedule(p);
    return result;
}
