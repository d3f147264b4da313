/* db.h — what std/db/sqlite and std/db/postgres share, so that a driver
 * only says how to talk to its database:
 *
 *   db.c         the module skeleton, the error family, (sql, params)
 *                arguments, the per-VM list of live pools, queues, lease
 *                guards, the Quest-side transaction helper
 *   db_conn.c    the synchronous Connection over a driver's blocking handle
 *   db_cursor.c  its Cursor
 *   db_pool.c    the async Pool and PoolConn: query methods, acquire() and
 *                its waiters, leases, stats(), close()
 *
 * Errors: DatabaseErr (a child of Err) with the children IntegrityErr
 * (constraint violations), OperationalErr (connection, locking, I/O,
 * cancellation by the server), ProgrammingErr (bad SQL, missing tables,
 * wrong parameter counts) and DataErr (bad values).  `catch e: DatabaseErr`
 * catches all four.  The reference's names (DatabaseError, IntegrityError
 * ...) are exported as aliases of the same types.
 */
#ifndef QUEST_DB_H
#define QUEST_DB_H

#include "vm/vm.h"

typedef enum {
    DBE_DATABASE, DBE_INTEGRITY, DBE_OPERATIONAL, DBE_PROGRAMMING, DBE_DATA, DBE__COUNT
} db_err_kind;

/* A live async pool, as the per-VM runtime sees it: shut down (handles
 * closed, connections finished) at vm_free if still open then. */
typedef struct db_pool_link {
    struct db_pool_link *prev, *next;
    void (*shutdown)(struct db_pool_link *link);
} db_pool_link;

/* Export the error types (and their reference aliases) into a module. */
void db_export_errors(qvm *vm, qmodule *m);
qtype *db_err_type(qvm *vm, db_err_kind kind);
/* Raise / build an exception of the family; db_raise returns qv_exc(). */
qval db_raise(qvm *vm, db_err_kind kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
qexc *db_exc(qvm *vm, db_err_kind kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* An async method's failure that is the database's, not the caller's
 * (the pool is closed): a Task already failed with it. */
qval db_failed_task(qvm *vm, db_err_kind kind, const char *msg);

/* What a query call returns: all rows (Array of Dicts), the first row
 * (Dict or nil), the first column of the first row, or the count of rows
 * changed (returned, for statements with rows). */
typedef enum { DB_ROWS, DB_ONE, DB_VAL, DB_COUNT } db_shape;

/* A module's state (db.c): a cdata to which the module functions
 * are bound and which every object the module makes keeps alive. */
typedef struct db_state {
    qtype *conn_type, *cursor_type, *pool_type, *lease_type;
} db_state;

/* Build std/db/<driver>: the four types with their shared methods, the
 * functions `fns` bound to the state, the exported types and errors.
 * NULL after raising; the state's types may get driver methods added. */
db_state *db_module_init(qvm *vm, qmodule *m, const char *state_name, const qmethod_def *fns);

/* ---- the synchronous API (db_conn.c, db_cursor.c) ----
 * A driver runs statements on its blocking connection handle; with
 * `rows` (a Cursor) it fills the whole result (rows: NULL when the
 * statement returned no columns; desc: the description or nil), without
 * only the count.  Both raise on failure. */
typedef struct db_exec_result {
    qarray *rows;
    qval desc;
    int64_t count;       /* rows returned, or rows changed */
    int64_t last_rowid;  /* SQLite's last insert rowid (0 elsewhere) */
} db_exec_result;

typedef struct db_conn_driver {
    const char *closed_msg;  /* what using a closed Connection raises */
    bool (*exec)(qvm *vm, void *handle, qstr *sql, qval params, bool rows, db_exec_result *out);
    /* COMMIT / ROLLBACK */
    bool (*end_tx)(qvm *vm, void *handle, const char *sql);
    void (*close)(void *handle);
} db_conn_driver;

/* A Connection owning handle (closed with the driver when collected);
 * self is the module state. */
qval db_conn_new(qvm *vm, qval self, const db_conn_driver *drv, void *handle);
/* Run sql on a Connection value; false after raising. */
bool db_conn_exec(qvm *vm, qval conn, qstr *sql, qval params, bool rows, db_exec_result *out);
extern const qmethod_def db_conn_methods[];

/* A Cursor of connection conn (its Connection value). */
qval db_cursor_new(qvm *vm, qtype *cursor_type, qval conn);
extern const qmethod_def db_cursor_methods[];

/* ---- FIFO queues of the pools: the element embeds db_qnode first ---- */
typedef struct db_qnode {
    struct db_qnode *next;
} db_qnode;

typedef struct db_queue {
    db_qnode *head, *tail;
} db_queue;

void db_queue_push(db_queue *q, db_qnode *n);
void db_queue_push_front(db_queue *q, db_qnode *n);
db_qnode *db_queue_pop(db_queue *q);
void db_queue_remove(db_queue *q, db_qnode *n);
int64_t db_queue_len(const db_queue *q);

/* ---- async pools: what both drivers share (db_pool.c) ----
 * A driver's pool embeds db_pool first.  The Pool and PoolConn objects,
 * their query methods, acquire() and its waiters, leases, stats() and
 * close() are shared; the driver says how queries run. */
typedef struct db_pool db_pool;
typedef struct db_lease db_lease;

typedef struct db_pool_stats {
    int64_t size, idle, busy, waiting;
} db_pool_stats;

typedef struct db_pool_driver {
    const char *begin_sql;  /* what PoolConn.begin() runs */
    /* Queue sql (on the lease's connection when lease) and return the Task
     * of its result; hold is what the Task keeps alive. */
    qval (*submit)(qvm *vm, db_pool *p, db_lease *lease, qstr *sql, qval params, db_shape shape, qval hold);
    /* The acquire() waiters changed (one came, or one left): hand out
     * connections, re-arm deadlines. */
    void (*waiters)(db_pool *p, bool left);
    /* A lease ended: conn goes back to the pool. */
    void (*release)(db_pool *p, void *conn);
    /* size, idle, busy, and the queries waiting (the shared code adds the
     * acquire() waiters). */
    void (*stats)(db_pool *p, db_pool_stats *out);
    /* close(): the waiters have been failed; close what is idle. */
    void (*close)(db_pool *p);
    /* Shut down (vm_alive: at vm_free, not from the Pool's finalizer). */
    void (*shutdown)(db_pool *p, bool vm_alive);
    /* The Pool object was collected: drop its reference. */
    void (*unref)(db_pool *p);
    void (*mark)(qvm *vm, db_pool *p);  /* may be NULL */
} db_pool_driver;

struct db_pool {
    db_pool_link link;     /* first member: the runtime's list points here */
    const db_pool_driver *drv;
    qvm *vm;
    qcdata *state;         /* the module state (db_state) */
    qcdata *obj;           /* the Pool object (not owned: it owns us) */
    db_queue waiters;      /* acquire() calls waiting: db_lease */
    uint64_t seq;          /* arrival order of queries and acquires */
    double timeout;        /* seconds acquire() waits by default */
    bool closed;           /* close() was called (or the pool failed) */
    bool shut;             /* shut down: handles closing, no more work */
};

/* The C side of a PoolConn. */
struct db_lease {
    db_qnode node;         /* in the waiters' queue */
    db_pool *pool;
    qcdata *pool_obj;      /* the Pool, kept alive by the PoolConn */
    qcdata *self;          /* the PoolConn */
    void *conn;            /* the driver's connection while held */
    qtask *acquire;        /* while waiting */
    qtask *guard;          /* from acquire() until the lease ends */
    uint64_t seq;
    uint64_t deadline;     /* loop time in ms */
    bool released;
    bool broken;           /* its connection was lost */
};

/* Fill the shared fields and register with the runtime (state: the module
 * state value the pool functions are bound to). */
void db_pool_init(db_pool *p, qvm *vm, qval state, const db_pool_driver *drv, double timeout);
/* The Pool object of p (made once; p->obj). */
qval db_pool_wrap(qvm *vm, db_pool *p);
/* The pool of a Pool object; NULL after raising. */
db_pool *db_pool_of(qvm *vm, qval self);
extern const qmethod_def db_pool_methods[];
extern const qmethod_def db_lease_methods[];

/* The first waiting acquire(), or NULL. */
db_lease *db_pool_first_waiter(const db_pool *p);
/* Hand conn to waiter l and resolve its acquire(). */
void db_lease_grant(db_lease *l, void *conn);
/* End a lease: the connection goes back through drv->release. */
void db_lease_end(db_lease *l);
/* Fail every waiting acquire() with an error of the family. */
void db_pool_fail_waiters(db_pool *p, db_err_kind kind, const char *why);
/* Fail the acquire() calls whose deadline passed; the next deadline
 * (loop ms) or 0. */
uint64_t db_pool_expire_waiters(db_pool *p, uint64_t now);

/* Register / unregister a pool with the VM's runtime. */
void db_pool_register(qvm *vm, db_pool_link *link);
void db_pool_unregister(db_pool_link *link);

/* (sql, params...) as the drivers accept them: no params, one Array
 * (positional), one Dict (named), or with `variadic` any other values
 * collected into a fresh Array.  *params is nil, an Array or a Dict. */
bool db_sql_args(qvm *vm, const char *fname, int argc, qval *argv, bool variadic, qstr **sql,
                 qval *params);

/* Seconds from a keyword argument (nil when absent): false after raising. */
bool db_kw_seconds(qvm *vm, qdict *kw, const char *fname, const char *key, double *out);
bool db_kw_int(qvm *vm, qdict *kw, const char *fname, const char *key, int64_t *out);

/* The str() text of a value for use as SQL text (Decimal, Uuid, times);
 * NULL after raising. */
qstr *db_text_of(qvm *vm, qval v);
/* The std/time class name of v ("Timestamp", "Zoned", "Date", "Time",
 * "Span") or NULL. */
const char *db_time_kind(qval v);
/* A std/time value made by calling time.<fn>(arg). */
qval db_time_call(qvm *vm, const char *fn, qval arg);

/* await pool.transaction(fun (tx) ... end): runs the Quest helper of
 * std/db/pool with (pool, body). */
qval db_transaction(qvm *vm, qval pool, qval body);

/* A lease guard: a pending task owned by the running task's scope, so
 * that the end of a request (or of the program) cancels it; its cancel
 * function then releases what was leased.  Resolve it with
 * db_guard_done() when the lease ends normally. */
qtask *db_guard_new(qvm *vm, qtask_cancel_fn on_end, void *data);
void db_guard_done(qvm *vm, qtask *guard);

#endif
