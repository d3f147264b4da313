/* pg_pool.h — the inside of postgres.pool(), shared by its parts:
 *
 *   pg_pool.c     the pool: handing queries and leases to connections,
 *                 growth, deadlines, idle and old connections, life cycle
 *   pg_conn.c     one connection's life: resolve, connect, poll, flush,
 *                 break, close
 *   pg_pipe.c     the pipeline on one connection: statements prepared once,
 *                 queries sent in batches, answers read and delivered,
 *                 server-side cancel
 *   pg_stmt.c     the per-connection cache of prepared statements
 *   pg_listen.c   LISTEN / NOTIFY on an extra connection
 *
 * Everything runs on the VM's loop thread except PQcancel (thread pool).
 */
#ifndef QUEST_PG_POOL_H
#define QUEST_PG_POOL_H

#include "modules/db/pg_internal.h"

#define PGP_DEPTH 128       /* queries in flight on one connection */
#define PGP_PACK 64         /* ... before the next connection is used */
#define PGP_SLOW_MS 2       /* ... unless its oldest query is out this long */
#define PGP_BATCH 16        /* queries under one Sync at most */
#define PGP_STMTS 256       /* prepared statements cached per connection */
#define PGP_BACKOFF_MIN 100 /* ms before replacing a lost connection */

typedef struct pgp_pool pgp_pool;
typedef struct pgp_conn pgp_conn;
typedef struct pgp_op pgp_op;

/* The result-producing messages an op sent, in order. */
typedef enum { STEP_PREPARE, STEP_DESCRIBE, STEP_EXEC, STEP_SCRIPT } pgp_step;
/* Where an op is: not queued yet, in the pool's queue, in a lease's
 * queue, sent. */
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

/* One query (or the pool's own LISTEN, UNLISTEN, ROLLBACK). */
struct pgp_op {
    db_qnode node;         /* first: in a queue */
    pgp_pool *pool;
    pgp_conn *conn;        /* the leased connection, then the one it went to */
    qtask *task;           /* NULL once cancelled, and for internal ops */
    db_shape shape;
    uint8_t where;         /* pgp_where */
    char *sql;
    size_t len;
    qval params;           /* an Array converted when sent (the Task keeps it alive) */
    pg_params wire;        /* ... or the parameters converted at once (wired) */
    bool wired;
    uint8_t steps[3];      /* result-producing messages sent */
    uint8_t nsteps, step;  /* how many, and the one being read */
    uint64_t batch;        /* the Sync it ran under (its transaction) */
    bool script;           /* several statements: the simple protocol */
    bool solo;             /* needs a Sync (a transaction) of its own */
    bool describing;       /* sent Parse/Describe only; Execute follows */
    bool aborted;          /* skipped by the server after an earlier error */
    bool orphan;           /* cancelled while on the server */
    bool retried;
    pgp_stmt *stmt;        /* the statement this op prepared, if any */
    Oid *types;            /* parameter types described without a cache entry */
    int ntypes;            /* -1: not described */
    PGresult *res;         /* the result of the Execute */
    PGresult *err;         /* the first failure */
    const char *lost;      /* the connection broke: why */
    uint64_t queued_at, sent_at;  /* loop time, ms */
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
    int events;            /* what the poll watches */
    pgp_gai *gai;
    pgp_cancel *cancel;    /* PQcancel running on the thread pool */
    uint8_t state;         /* pgp_state */
    bool listener;
    bool pipeline;         /* in pipeline mode (not while a script runs) */
    bool dirty;            /* messages queued in libpq, to flush before the loop polls */
    bool reserved;         /* draining for an acquire() */
    bool release_check;    /* its lease ended: check the transaction state */
    bool cleaning;         /* rolling back what a lease left open */
    bool closed;           /* closed; freed at the next callback (graveyard) */
    db_queue sent;         /* ops sent, answers pending */
    db_queue held;         /* answered, waiting for their batch's Sync */
    int inflight;          /* ops in sent and held */
    int open;              /* ops sent since the last Sync */
    uint64_t batch_next;   /* the batch the next Sync closes */
    uint64_t batch_done;   /* the batch the next PGRES_PIPELINE_SYNC closes */
    PGresult *sync_err;    /* an error at a Sync: the commit failed */
    db_queue pending;      /* the lease's queries not sent yet */
    pgp_op *blocker;       /* nothing else is sent until it is answered */
    int orphans;           /* cancelled queries still in flight */
    uint64_t cancel_at;
    db_lease *lease;
    uint64_t created, idle_since, deadline;
    pgp_stmt **stmts;      /* open addressing, 2 * PGP_STMTS slots */
    int nstmts;
    uint32_t stmt_seq;
};

typedef struct pgp_listen {
    char *name;
    qchannel *ch;
    qtask *task;           /* listen() until the LISTEN is confirmed */
    bool active;           /* LISTEN confirmed on the current listener */
} pgp_listen;

struct pgp_pool {
    db_pool base;          /* first member */
    char *conninfo;
    int max, min;
    double idle_timeout, max_lifetime;
    bool batch;            /* queries of one loop turn share a Sync (batch: option) */
    pgp_conn *conns;       /* every connection, the listener too */
    int size, connecting;  /* not counting the listener */
    pgp_conn *listener;
    pgp_conn *graveyard;   /* closed connections, freed at the next callback */
    db_queue queue;        /* queries waiting for a connection */
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
    int refs;              /* the Pool object, the timer, the flusher */
};

static inline uint64_t pgp_now(pgp_pool *p)
{
    return uv_now(vm_loop(p->base.vm));
}

/* pg_pool.c */
void pgp_dispatch(pgp_pool *p);
void pgp_schedule(pgp_pool *p);
void pgp_requeue(pgp_pool *p, db_queue *ops);
void pgp_fail_waiting(pgp_pool *p, db_err_kind kind, const char *why);
void pgp_release_check(pgp_conn *c);

/* pg_conn.c */
void pgp_conn_open(pgp_pool *p, bool listener);
void pgp_conn_close(pgp_conn *c);
void pgp_conn_broken(pgp_conn *c, const char *why);
void pgp_conn_failed(pgp_conn *c, const char *why);
void pgp_bury(pgp_pool *p);
void pgp_mark_dirty(pgp_conn *c);
void pgp_flush_all(uv_prepare_t *h);

/* pg_pipe.c */
pgp_op *pgp_op_new(pgp_pool *p, const char *sql, size_t len);
void pgp_op_free(pgp_op *op);
void pgp_op_fail(pgp_op *op, db_err_kind kind, const char *msg);
bool pgp_can_send(const pgp_conn *c, const pgp_op *op);
bool pgp_send(pgp_conn *c, pgp_op *op);
void pgp_send_pending(pgp_conn *c);
void pgp_close_batch(pgp_conn *c);
void pgp_conn_fail_ops(pgp_conn *c, const char *why);
void pgp_read(pgp_conn *c);
void pgp_op_cancel(qvm *vm, qtask *t, void *data);
void pgp_on_cancelled(pgp_conn *c);

/* pg_stmt.c */
pgp_stmt *pgp_stmt_find(pgp_conn *c, const char *sql, size_t len);
pgp_stmt *pgp_stmt_add(pgp_conn *c, const char *sql, size_t len);
void pgp_stmt_drop(pgp_conn *c, pgp_stmt *s);
void pgp_stmts_free(pgp_conn *c);

/* pg_listen.c */
void pgp_send_listens(pgp_conn *c);
void pgp_deliver_notify(pgp_pool *p, PGnotify *n);
void pgp_listens_close(pgp_pool *p, bool vm_alive);

#endif
