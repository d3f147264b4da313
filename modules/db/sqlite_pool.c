/* sqlite_pool.c — sqlite.open(path, pool: N): statements run on the libuv
 * thread pool, never on the event loop.
 *
 *   let db = sqlite.open("app.db", pool: 4)
 *   let rows = await db.fetch_all("SELECT * FROM t WHERE id = ?", [1])
 *   await db.transaction(fun (tx) ... end)
 *
 * N connections to one file in WAL mode (synchronous=NORMAL).  Connection
 * 0 is the writer: SQLite has one writer at a time anyway, so statements
 * that may write queue for it (no SQLITE_BUSY between our own
 * connections), and acquire()/transaction() lease it (BEGIN IMMEDIATE).
 * Statements known to be read-only (sqlite3_stmt_readonly, learned the
 * first time a statement runs) go to any free connection.
 *
 * Small proven-fast reads run inline on the loop thread (see "the inline
 * path" below); everything else goes to the thread pool.
 *
 * Threads: a job's parameters are copied to C values on the loop thread,
 * the worker fills a C result, and the rows become Quest values in the
 * after-work callback, back on the loop thread.  A connection runs one
 * job at a time.  A cancelled job that is already running is interrupted
 * (sqlite3_interrupt); its result is dropped.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "modules/db/sqlite_internal.h"

/* The inline path: a proven run under this, a budget of that. */
#define SQP_INLINE_PROVEN_NS 200000
#define SQP_INLINE_BUDGET_NS 1000000

typedef struct sqp_pool sqp_pool;
typedef struct sqp_conn sqp_conn;
typedef struct sqp_lease sqp_lease;

/* Where a job is. */
typedef enum { JQ_READ, JQ_WRITE, JQ_PINNED, JQ_RUNNING } sqp_where;

typedef struct sqp_job {
    uv_work_t req;
    struct sqp_job *next;
    sqp_pool *pool;
    sqp_conn *conn;        /* the pinned connection, then the one it runs on */
    qtask *task;           /* NULL once cancelled, and for internal jobs */
    db_shape shape;
    uint8_t where;         /* sqp_where */
    bool internal;         /* the pool's own ROLLBACK after a lease */
    uint64_t seq;          /* arrival order */
    char *sql;
    size_t len;
    sq_params params;
    sq_result res;
    uint64_t ns;           /* how long the statement ran on its thread */
} sqp_job;

struct sqp_conn {
    sqp_pool *pool;
    sq_conn *c;            /* NULL once closed */
    sqp_job *running;
    sqp_job *qhead, *qtail;  /* jobs of the lease waiting their turn */
    sqp_lease *lease;
    bool check_tx;         /* a lease ended: roll back what it left open */
};

/* The C side of a PoolConn: a lease of the writer connection. */
struct sqp_lease {
    sqp_pool *pool;        /* NULL once the pool is shut down */
    qcdata *pool_obj;      /* the Pool, kept alive by the PoolConn */
    qcdata *self;          /* the PoolConn */
    sqp_conn *conn;        /* while held */
    qtask *acquire;        /* while waiting */
    qtask *guard;          /* from acquire() until the lease ends */
    sqp_lease *next;       /* in the waiters' queue */
    uint64_t seq;
    uint64_t deadline;     /* loop time in ms; 0: none */
    bool released;
};

/* Statements known to be read-only (an open-addressing table keyed by
 * SQL text), and whether they proved fast enough to run inline. */
typedef struct sqp_ro {
    char *sql;
    size_t len;
    bool fast;
} sqp_ro;

typedef struct sqp_roset {
    sqp_ro *slots;
    size_t cap, count;
} sqp_roset;

struct sqp_pool {
    db_pool_link link;     /* first member: the runtime's list points here */
    qvm *vm;
    qcdata *state;         /* the module state (its classes) */
    int nconns;
    sqp_conn *conns;       /* [0] is the writer */
    sqp_job *rhead, *rtail;  /* read-only statements waiting */
    sqp_job *whead, *wtail;  /* statements that may write, waiting */
    sqp_lease *ahead, *atail; /* acquire() waiting */
    uint64_t seq;
    uv_timer_t timer;      /* acquire deadlines */
    double timeout;        /* default acquire timeout, seconds (<0: none) */
    sqp_roset readonly;
    int refs;              /* the Pool object, jobs on the thread pool, the timer */
    bool closed;           /* close() was called */
    bool shut;             /* shut down: handles closing, no more jobs */
};

static void sqp_dispatch(sqp_pool *p);

/* ---- life cycle ------------------------------------------------------------------------------ */

static void sqp_roset_free(sqp_roset *s)
{
    for (size_t i = 0; i < s->cap; i++)
        free(s->slots[i].sql);
    free(s->slots);
}

static void sqp_unref(sqp_pool *p)
{
    if (--p->refs > 0)
        return;
    for (int i = 0; i < p->nconns; i++)
        sq_close(p->conns[i].c);
    free(p->conns);
    sqp_roset_free(&p->readonly);
    free(p);
}

static void sqp_timer_closed(uv_handle_t *h)
{
    sqp_unref(h->data);
}

static void sqp_job_free(sqp_job *j)
{
    free(j->sql);
    sq_params_free(&j->params);
    sq_result_free(&j->res);
    free(j);
}

/* Close the connections nobody uses (all of them once the pool is shut
 * down or closed and they fall idle). */
static void sqp_close_idle(sqp_pool *p)
{
    for (int i = 0; i < p->nconns; i++) {
        sqp_conn *c = &p->conns[i];
        if (c->c && !c->running && !c->lease && !c->qhead) {
            sq_close(c->c);
            c->c = NULL;
        }
    }
}

static void sqp_queue_remove(sqp_job **head, sqp_job **tail, sqp_job *j)
{
    sqp_job *prev = NULL;
    for (sqp_job *q = *head; q; prev = q, q = q->next) {
        if (q != j)
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

static void sqp_waiter_remove(sqp_pool *p, sqp_lease *l)
{
    sqp_lease *prev = NULL;
    for (sqp_lease *q = p->ahead; q; prev = q, q = q->next) {
        if (q != l)
            continue;
        if (prev)
            prev->next = q->next;
        else
            p->ahead = q->next;
        if (p->atail == q)
            p->atail = prev;
        q->next = NULL;
        return;
    }
}

/* Fail every waiting job and acquire() with OperationalErr. */
static void sqp_fail_waiting(sqp_pool *p, const char *why)
{
    qvm *vm = p->vm;
    sqp_job **heads[] = {&p->rhead, &p->whead};
    for (int k = 0; k < 2; k++) {
        while (*heads[k]) {
            sqp_job *j = *heads[k];
            *heads[k] = j->next;
            qtask *t = j->task;
            sqp_job_free(j);
            if (t)
                task_reject(vm, t, db_exc(vm, DBE_OPERATIONAL, "%s", why));
        }
    }
    p->rtail = p->wtail = NULL;
    while (p->ahead) {
        sqp_lease *l = p->ahead;
        p->ahead = l->next;
        l->next = NULL;
        l->released = true;
        qtask *t = l->acquire, *g = l->guard;
        l->acquire = l->guard = NULL;
        if (g)
            db_guard_done(vm, g);
        if (t)
            task_reject(vm, t, db_exc(vm, DBE_OPERATIONAL, "%s", why));
    }
    p->atail = NULL;
}

/* Shut down: no more jobs; close what is idle now and the rest as it
 * finishes.  vm_alive: at vm_free (waiting tasks are failed) rather than
 * from the Pool's finalizer (nothing waits then: tasks keep the Pool). */
static void sqp_shutdown(sqp_pool *p, bool vm_alive)
{
    if (p->shut)
        return;
    p->shut = p->closed = true;
    db_pool_unregister(&p->link);
    if (vm_alive)
        sqp_fail_waiting(p, "the database pool was shut down");
    for (int i = 0; i < p->nconns; i++) {
        sqp_conn *c = &p->conns[i];
        while (c->qhead) {
            sqp_job *j = c->qhead;
            c->qhead = j->next;
            if (j->task && vm_alive)
                task_reject(p->vm, j->task, db_exc(p->vm, DBE_OPERATIONAL, "the database pool was shut down"));
            sqp_job_free(j);
        }
        c->qtail = NULL;
        if (c->running)
            c->running->task = NULL; /* nobody will be resumed now */
        if (c->lease)
            c->lease->conn = NULL;
        c->lease = NULL;
    }
    sqp_close_idle(p);
    uv_timer_stop(&p->timer);
    uv_close((uv_handle_t *)&p->timer, sqp_timer_closed);
}

static void sqp_link_shutdown(db_pool_link *link)
{
    sqp_shutdown((sqp_pool *)link, true);
}

/* ---- the Pool object --------------------------------------------------------------------------- */

typedef struct sqp_handle {
    sqp_pool *p;
} sqp_handle;

static void sqp_handle_free(void *data)
{
    sqp_handle *h = data;
    sqp_shutdown(h->p, false);
    sqp_unref(h->p);
    free(h);
}

static void sqp_handle_mark(qvm *vm, void *data)
{
    vm_mark_obj(vm, (qobj *)((sqp_handle *)data)->p->state);
}

static const qcdata_class sqp_class = {"Pool", sqp_handle_free, sqp_handle_mark, NULL};

static sqp_pool *sqp_of(qvm *vm, qval self)
{
    sqp_handle *h = cdata_get(vm, self, &sqp_class);
    return h ? h->p : NULL;
}

/* ---- read-only statements ---------------------------------------------------------------------- */

#define SQP_RO_MAX 4096

static size_t sqp_ro_slot(const sqp_roset *s, const char *sql, size_t len)
{
    size_t i = str_hash_bytes(sql, len) & (s->cap - 1);
    while (s->slots[i].sql && (s->slots[i].len != len || memcmp(s->slots[i].sql, sql, len) != 0))
        i = (i + 1) & (s->cap - 1);
    return i;
}

static sqp_ro *sqp_ro_find(const sqp_roset *s, const char *sql, size_t len)
{
    if (!s->cap)
        return NULL;
    sqp_ro *e = &s->slots[sqp_ro_slot(s, sql, len)];
    return e->sql ? e : NULL;
}

static sqp_ro *sqp_ro_add(sqp_roset *s, const char *sql, size_t len)
{
    sqp_ro *e = sqp_ro_find(s, sql, len);
    if (e || s->count >= SQP_RO_MAX)
        return e;
    if ((s->count + 1) * 2 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        sqp_roset bigger = {calloc(cap, sizeof(sqp_ro)), cap, s->count};
        if (!bigger.slots)
            return NULL;
        for (size_t i = 0; i < s->cap; i++)
            if (s->slots[i].sql)
                bigger.slots[sqp_ro_slot(&bigger, s->slots[i].sql, s->slots[i].len)] = s->slots[i];
        free(s->slots);
        *s = bigger;
    }
    char *copy = strndup(sql, len);
    if (!copy)
        return NULL;
    e = &s->slots[sqp_ro_slot(s, sql, len)];
    *e = (sqp_ro){copy, len, false};
    s->count++;
    return e;
}

/* ---- running jobs --------------------------------------------------------------------------------- */

static uint64_t sqp_clock_ns(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The CPU time the statement took is what tells whether it is small: on a
 * busy machine the wall time of a pool thread says little. */
static void sqp_work(uv_work_t *req)
{
    sqp_job *j = req->data;
    uint64_t start = sqp_clock_ns(CLOCK_THREAD_CPUTIME_ID);
    sq_run(j->conn->c, j->sql, j->len, &j->params, &j->res);
    j->ns = sqp_clock_ns(CLOCK_THREAD_CPUTIME_ID) - start;
}

static void sqp_complete(sqp_pool *p, sqp_job *j)
{
    qvm *vm = p->vm;
    qtask *t = j->task;
    j->task = NULL;
    if (j->res.err)
        task_reject(vm, t, sq_result_exc(vm, &j->res));
    else
        task_resolve(vm, t, sq_result_value(vm, &j->res, j->shape));
}

static void sqp_after(uv_work_t *req, int status)
{
    (void)status;
    sqp_job *j = req->data;
    sqp_pool *p = j->pool;
    sqp_conn *c = j->conn;
    c->running = NULL;
    if (!j->res.err && j->res.readonly && !j->internal) {
        sqp_ro *ro = sqp_ro_add(&p->readonly, j->sql, j->len);
        if (ro)
            ro->fast = j->ns < SQP_INLINE_PROVEN_NS;
    }
    if (j->task)
        sqp_complete(p, j);
    sqp_job_free(j);
    if (p->closed)
        sqp_close_idle(p);
    if (!p->shut)
        sqp_dispatch(p);
    sqp_unref(p);
}

static void sqp_run(sqp_conn *c, sqp_job *j)
{
    sqp_pool *p = c->pool;
    j->conn = c;
    j->where = JQ_RUNNING;
    j->next = NULL;
    c->running = j;
    j->req.data = j;
    p->refs++;
    uv_queue_work(vm_loop(p->vm), &j->req, sqp_work, sqp_after);
}

static sqp_job *sqp_pop(sqp_job **head, sqp_job **tail)
{
    sqp_job *j = *head;
    if (j && !(*head = j->next))
        *tail = NULL;
    return j;
}

static sqp_job *sqp_job_new(sqp_pool *p, const char *sql, size_t len)
{
    sqp_job *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    j->pool = p;
    j->sql = malloc(len + 1);
    if (!j->sql) {
        free(j);
        return NULL;
    }
    memcpy(j->sql, sql, len);
    j->sql[len] = '\0';
    j->len = len;
    j->seq = ++p->seq;
    return j;
}

/* A lease ended with a transaction still open: ROLLBACK before the
 * connection serves anyone else. */
static sqp_job *sqp_cleanup_job(sqp_conn *c)
{
    c->check_tx = false;
    if (sqlite3_get_autocommit(c->c->db))
        return NULL;
    sqp_job *j = sqp_job_new(c->pool, "ROLLBACK", 8);
    if (j)
        j->internal = true;
    return j;
}

static void sqp_grant(sqp_pool *p, sqp_lease *l, sqp_conn *c)
{
    sqp_waiter_remove(p, l);
    c->lease = l;
    l->conn = c;
    qtask *t = l->acquire;
    l->acquire = NULL;
    task_resolve(p->vm, t, qv_obj(l->self));
}

/* The next job for an idle, unleased connection: the writer serves, in
 * arrival order, statements that may write and acquire(); then reads. */
static sqp_job *sqp_next_job(sqp_pool *p, sqp_conn *c, bool writer)
{
    if (!writer)
        return sqp_pop(&p->rhead, &p->rtail);
    if (p->ahead && (!p->whead || p->ahead->seq < p->whead->seq)) {
        sqp_grant(p, p->ahead, c);
        return NULL;
    }
    if (p->whead)
        return sqp_pop(&p->whead, &p->wtail);
    return sqp_pop(&p->rhead, &p->rtail);
}

static void sqp_dispatch(sqp_pool *p)
{
    for (int i = 0; i < p->nconns && !p->shut; i++) {
        sqp_conn *c = &p->conns[i];
        if (!c->c || c->running)
            continue;
        sqp_job *j = NULL;
        if (c->qhead)
            j = sqp_pop(&c->qhead, &c->qtail);
        else if (c->lease)
            continue;
        else if (c->check_tx)
            j = sqp_cleanup_job(c);
        if (!j && !c->qhead && !c->lease)
            j = sqp_next_job(p, c, i == 0);
        if (j)
            sqp_run(c, j);
    }
    if (p->closed)
        sqp_close_idle(p);
}

/* ---- submitting from Quest ------------------------------------------------------------------------------ */

static void sqp_job_cancel(qvm *vm, qtask *t, void *data)
{
    (void)vm, (void)t;
    sqp_job *j = data;
    sqp_pool *p = j->pool;
    j->task = NULL;
    switch (j->where) {
    case JQ_READ: sqp_queue_remove(&p->rhead, &p->rtail, j); sqp_job_free(j); break;
    case JQ_WRITE: sqp_queue_remove(&p->whead, &p->wtail, j); sqp_job_free(j); break;
    case JQ_PINNED: sqp_queue_remove(&j->conn->qhead, &j->conn->qtail, j); sqp_job_free(j); break;
    default: sqlite3_interrupt(j->conn->c->db); break;
    }
}

static void sqp_append(sqp_job **head, sqp_job **tail, sqp_job *j)
{
    j->next = NULL;
    if (*tail)
        (*tail)->next = j;
    else
        *head = j;
    *tail = j;
}

/* ---- the inline path ----
 * A read-only statement whose last run on the thread pool took under
 * SQP_INLINE_PROVEN_NS of CPU (a point lookup by key, say) runs right here on the
 * loop thread, on a connection that is idle — no thread hop, as the
 * stack's measurements recommend for small indexed reads.  A progress
 * handler stops it after SQP_INLINE_BUDGET_NS; it then goes to the thread
 * pool after all (being read-only, it can run again) and is no longer
 * taken for fast until a pool run proves it fast again. */
typedef struct sqp_budget {
    uint64_t deadline;
    bool hit;
} sqp_budget;

static int sqp_budget_check(void *data)
{
    sqp_budget *b = data;
    if (sqp_clock_ns(CLOCK_MONOTONIC) < b->deadline)
        return 0;
    b->hit = true;
    return 1;
}

/* An idle connection the loop thread may use now (no job, no lease). */
static sqp_conn *sqp_idle_conn(sqp_pool *p)
{
    for (int i = p->nconns - 1; i >= 0; i--) {
        sqp_conn *c = &p->conns[i];
        if (c->c && !c->running && !c->lease && !c->qhead && !c->check_tx)
            return &p->conns[i];
    }
    return NULL;
}

/* Run j inline; false when it must go to the thread pool instead. */
static bool sqp_run_inline(qvm *vm, sqp_pool *p, sqp_job *j, sqp_ro *ro, qval *out)
{
    sqp_conn *c = sqp_idle_conn(p);
    if (!c)
        return false;
    sqp_budget b = {sqp_clock_ns(CLOCK_MONOTONIC) + SQP_INLINE_BUDGET_NS, false};
    sqlite3_progress_handler(c->c->db, 64, sqp_budget_check, &b);
    sq_run(c->c, j->sql, j->len, &j->params, &j->res);
    sqlite3_progress_handler(c->c->db, 0, NULL, NULL);
    if (b.hit) {
        ro->fast = false;
        sq_result_free(&j->res);
        memset(&j->res, 0, sizeof j->res);
        return false;
    }
    qtask *t = task_new_pending(vm, "query");
    if (j->res.err) {
        task_reject(vm, t, sq_result_exc(vm, &j->res));
    } else {
        qval v = sq_result_value(vm, &j->res, j->shape);
        task_resolve(vm, t, v);
    }
    *out = task_value(t);
    return true;
}

/* Queue sql for the pool (pinned: for that leased connection) and return
 * the Task of its result.  hold: what the Task keeps alive. */
static qval sqp_submit(qvm *vm, sqp_pool *p, sqp_conn *pinned, qstr *sql, qval params, db_shape shape,
                       qval hold)
{
    if (p->closed)
        return db_failed_task(vm, DBE_OPERATIONAL, "the database pool is closed");
    sqp_job *j = sqp_job_new(p, sql->data, sql->len);
    if (!j)
        return vm_raise(vm, E_RUNTIME, "out of memory");
    if (!sq_params_from(vm, params, &j->params)) {
        sqp_job_free(j);
        return qv_exc();
    }
    j->shape = shape;
    sqp_ro *ro = pinned ? NULL : sqp_ro_find(&p->readonly, j->sql, j->len);
    qval done;
    if (ro && ro->fast && sqp_run_inline(vm, p, j, ro, &done)) {
        sqp_job_free(j);
        return done;
    }
    j->task = task_new_pending(vm, "query");
    task_hold(j->task, hold);
    task_set_cancel(j->task, sqp_job_cancel, j);
    qval result = task_value(j->task);
    if (pinned) {
        j->conn = pinned;
        j->where = JQ_PINNED;
        sqp_append(&pinned->qhead, &pinned->qtail, j);
    } else if (ro) {
        j->where = JQ_READ;
        sqp_append(&p->rhead, &p->rtail, j);
    } else {
        j->where = JQ_WRITE;
        sqp_append(&p->whead, &p->wtail, j);
    }
    sqp_dispatch(p);
    return result;
}

static qval sqp_query(qvm *vm, qval self, int argc, qval *argv, const char *fname, db_shape shape)
{
    sqp_pool *p = sqp_of(vm, self);
    qstr *sql;
    qval params;
    if (!p || !db_sql_args(vm, fname, argc, argv, true, &sql, &params))
        return qv_exc();
    return sqp_submit(vm, p, NULL, sql, params, shape, self);
}

static qval pool_fetch_all(qvm *vm, qval self, int argc, qval *argv)
{
    return sqp_query(vm, self, argc, argv, "fetch_all", DB_ROWS);
}

static qval pool_fetch_one(qvm *vm, qval self, int argc, qval *argv)
{
    return sqp_query(vm, self, argc, argv, "fetch_one", DB_ONE);
}

static qval pool_fetch_val(qvm *vm, qval self, int argc, qval *argv)
{
    return sqp_query(vm, self, argc, argv, "fetch_val", DB_VAL);
}

static qval pool_execute(qvm *vm, qval self, int argc, qval *argv)
{
    return sqp_query(vm, self, argc, argv, "execute", DB_COUNT);
}

static qval pool_transaction(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    if (!sqp_of(vm, self))
        return qv_exc();
    return db_transaction(vm, self, argv[0]);
}

/* ---- leases ------------------------------------------------------------------------------------------------- */

static void sqp_lease_free(void *data)
{
    free(data);
}

static void sqp_lease_mark(qvm *vm, void *data)
{
    vm_mark_obj(vm, (qobj *)((sqp_lease *)data)->pool_obj);
}

static const qcdata_class sqp_lease_class = {"PoolConn", sqp_lease_free, sqp_lease_mark, NULL};

static void sqp_arm_timer(sqp_pool *p);

/* Give the connection back; the jobs it queued still run first. */
static void sqp_lease_end(sqp_lease *l)
{
    sqp_pool *p = l->pool;
    l->released = true;
    qtask *g = l->guard;
    l->guard = NULL;
    if (g && p)
        db_guard_done(p->vm, g);
    sqp_conn *c = l->conn;
    l->conn = NULL;
    if (!c || !p)
        return;
    c->lease = NULL;
    c->check_tx = true;
    sqp_dispatch(p);
}

/* The acquire() Task was cancelled while waiting. */
static void sqp_acquire_cancel(qvm *vm, qtask *t, void *data)
{
    (void)vm, (void)t;
    sqp_lease *l = data;
    l->acquire = NULL;
    if (l->pool) {
        sqp_waiter_remove(l->pool, l);
        sqp_arm_timer(l->pool);
    }
    sqp_lease_end(l);
}

/* The owner (request, program) of the lease ended without release(). */
static void sqp_guard_cancel(qvm *vm, qtask *t, void *data)
{
    (void)t;
    sqp_lease *l = data;
    l->guard = NULL;
    if (l->acquire)
        task_cancel(vm, l->acquire);
    else
        sqp_lease_end(l);
}

static void sqp_timer_fired(uv_timer_t *h)
{
    sqp_pool *p = h->data;
    uint64_t now = uv_now(h->loop);
    sqp_lease *l = p->ahead;
    while (l) {
        sqp_lease *next = l->next;
        if (l->deadline && l->deadline <= now) {
            sqp_waiter_remove(p, l);
            qtask *t = l->acquire;
            l->acquire = NULL;
            sqp_lease_end(l);
            task_reject(p->vm, t, exc_new(p->vm, vm_err_type(p->vm, E_TIMEOUT),
                                          str_cstr(p->vm, "acquire timed out: no connection became free")));
        }
        l = next;
    }
    sqp_arm_timer(p);
}

static void sqp_arm_timer(sqp_pool *p)
{
    if (p->shut)
        return;
    uint64_t first = 0;
    for (sqp_lease *l = p->ahead; l; l = l->next)
        if (l->deadline && (!first || l->deadline < first))
            first = l->deadline;
    if (!first) {
        uv_timer_stop(&p->timer);
        return;
    }
    uint64_t now = uv_now(vm_loop(p->vm));
    uv_timer_start(&p->timer, sqp_timer_fired, first > now ? first - now : 0, 0);
}

static qval pool_acquire(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    sqp_pool *p = sqp_of(vm, self);
    double timeout = -1;
    if (!p)
        return qv_exc();
    timeout = p->timeout;
    if (!db_kw_seconds(vm, vm_kwargs(vm), "acquire", "timeout", &timeout))
        return qv_exc();
    if (p->closed)
        return db_failed_task(vm, DBE_OPERATIONAL, "the database pool is closed");
    sqp_lease *l = calloc(1, sizeof *l);
    if (!l)
        return vm_raise(vm, E_RUNTIME, "out of memory");
    l->pool = p;
    l->pool_obj = AS_CDATA(self);
    sqlite_state *st = p->state->data;
    l->self = cdata_new(vm, st->lease_type, &sqp_lease_class, l);
    l->guard = db_guard_new(vm, sqp_guard_cancel, l);
    task_hold(l->guard, qv_obj(l->self));
    l->acquire = task_new_pending(vm, "acquire");
    task_hold(l->acquire, qv_obj(l->self));
    task_set_cancel(l->acquire, sqp_acquire_cancel, l);
    qval result = task_value(l->acquire);
    l->seq = ++p->seq;
    if (timeout >= 0)
        l->deadline = uv_now(vm_loop(vm)) + (uint64_t)(timeout * 1000.0) + (timeout > 0 ? 0 : 1);
    if (p->atail)
        p->atail->next = l;
    else
        p->ahead = l;
    p->atail = l;
    sqp_dispatch(p);
    sqp_arm_timer(p);
    return result;
}

static qval pool_stats(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    sqp_pool *p = sqp_of(vm, self);
    if (!p)
        return qv_exc();
    int64_t size = 0, idle = 0, waiting = 0;
    for (int i = 0; i < p->nconns; i++) {
        sqp_conn *c = &p->conns[i];
        if (!c->c)
            continue;
        size++;
        if (!c->running && !c->lease && !c->qhead)
            idle++;
    }
    for (sqp_job *j = p->rhead; j; j = j->next)
        waiting++;
    for (sqp_job *j = p->whead; j; j = j->next)
        waiting++;
    for (sqp_lease *l = p->ahead; l; l = l->next)
        waiting++;
    qdict *d = dict_new(vm);
    dict_set_cstr(vm, d, "size", qv_int(size));
    dict_set_cstr(vm, d, "idle", qv_int(idle));
    dict_set_cstr(vm, d, "busy", qv_int(size - idle));
    dict_set_cstr(vm, d, "waiting", qv_int(waiting));
    return qv_obj(d);
}

static qval pool_close(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    sqp_pool *p = sqp_of(vm, self);
    if (!p)
        return qv_exc();
    if (!p->closed) {
        p->closed = true;
        sqp_fail_waiting(p, "the database pool is closed");
        sqp_arm_timer(p);
        sqp_close_idle(p);
    }
    return qv_nil();
}

const qmethod_def sqlite_pool_methods[] = {
    {"fetch_all", pool_fetch_all, 1, -1, false},
    {"fetch_one", pool_fetch_one, 1, -1, false},
    {"fetch_val", pool_fetch_val, 1, -1, false},
    {"execute", pool_execute, 1, -1, false},
    {"transaction", pool_transaction, 1, 1, false},
    {"acquire", pool_acquire, 0, 0, true},
    {"stats", pool_stats, 0, 0, false},
    {"close", pool_close, 0, 0, false},
    {NULL, NULL, 0, 0, false},
};

/* ---- PoolConn methods ------------------------------------------------------------------------------------ */

static sqp_lease *sqp_lease_of(qvm *vm, qval self)
{
    sqp_lease *l = cdata_get(vm, self, &sqp_lease_class);
    if (l && (!l->conn || !l->pool)) {
        db_raise(vm, DBE_PROGRAMMING, "this connection was released to its pool");
        return NULL;
    }
    return l;
}

static qval sqp_lease_query(qvm *vm, qval self, int argc, qval *argv, const char *fname, db_shape shape)
{
    sqp_lease *l = sqp_lease_of(vm, self);
    qstr *sql;
    qval params;
    if (!l || !db_sql_args(vm, fname, argc, argv, true, &sql, &params))
        return qv_exc();
    return sqp_submit(vm, l->pool, l->conn, sql, params, shape, self);
}

static qval lease_fetch_all(qvm *vm, qval self, int argc, qval *argv)
{
    return sqp_lease_query(vm, self, argc, argv, "fetch_all", DB_ROWS);
}

static qval lease_fetch_one(qvm *vm, qval self, int argc, qval *argv)
{
    return sqp_lease_query(vm, self, argc, argv, "fetch_one", DB_ONE);
}

static qval lease_fetch_val(qvm *vm, qval self, int argc, qval *argv)
{
    return sqp_lease_query(vm, self, argc, argv, "fetch_val", DB_VAL);
}

static qval lease_execute(qvm *vm, qval self, int argc, qval *argv)
{
    return sqp_lease_query(vm, self, argc, argv, "execute", DB_COUNT);
}

static qval sqp_lease_sql(qvm *vm, qval self, const char *sql)
{
    sqp_lease *l = sqp_lease_of(vm, self);
    if (!l)
        return qv_exc();
    return sqp_submit(vm, l->pool, l->conn, str_cstr(vm, sql), qv_nil(), DB_COUNT, self);
}

/* Writes are the point of a transaction: take the write lock at once. */
static qval lease_begin(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return sqp_lease_sql(vm, self, "BEGIN IMMEDIATE");
}

static qval lease_commit(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return sqp_lease_sql(vm, self, "COMMIT");
}

static qval lease_rollback(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return sqp_lease_sql(vm, self, "ROLLBACK");
}

static qval lease_release(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    sqp_lease *l = cdata_get(vm, self, &sqp_lease_class);
    if (!l)
        return qv_exc();
    if (!l->released)
        sqp_lease_end(l);
    return qv_nil();
}

static qval lease_enter(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return sqp_lease_of(vm, self) ? self : qv_exc();
}

const qmethod_def sqlite_lease_methods[] = {
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

/* ---- sqlite.open ------------------------------------------------------------------------------------------------ */

static bool sqp_is_memory(const char *path)
{
    return !path[0] || strcmp(path, ":memory:") == 0 || strstr(path, "mode=memory") != NULL;
}

static bool sqp_open_conns(qvm *vm, sqp_pool *p, const char *path)
{
    bool memory = sqp_is_memory(path);
    for (int i = 0; i < p->nconns; i++) {
        char err[512];
        p->conns[i].pool = p;
        p->conns[i].c = sq_open(path, !memory, true, err, sizeof err);
        if (!p->conns[i].c) {
            db_raise(vm, DBE_OPERATIONAL, "%s", err);
            return false;
        }
    }
    return true;
}

qval sqlite_pool_open(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qstr *path;
    int64_t size = 4;
    double timeout = 30;
    qdict *kw = vm_kwargs(vm);
    if (!arg_str(vm, "sqlite.open", argv[0], &path) || !db_kw_int(vm, kw, "sqlite.open", "pool", &size) ||
        !db_kw_seconds(vm, kw, "sqlite.open", "timeout", &timeout))
        return qv_exc();
    if (size < 1 || size > 256)
        return vm_raise(vm, E_VALUE, "sqlite.open: pool must be between 1 and 256, got %lld", (long long)size);
    /* Each connection to ":memory:" is a database of its own. */
    if (sqp_is_memory(path->data))
        size = 1;
    sqp_pool *p = calloc(1, sizeof *p);
    sqp_handle *h = malloc(sizeof *h);
    if (!p || !h || !(p->conns = calloc((size_t)size, sizeof(sqp_conn)))) {
        free(p ? p->conns : NULL), free(p), free(h);
        return vm_raise(vm, E_RUNTIME, "out of memory");
    }
    p->vm = vm;
    p->state = AS_CDATA(self);
    p->nconns = (int)size;
    p->timeout = timeout;
    p->refs = 1;
    if (!sqp_open_conns(vm, p, path->data)) {
        sqp_unref(p);
        free(h);
        return qv_exc();
    }
    uv_timer_init(vm_loop(vm), &p->timer);
    p->timer.data = p;
    p->refs++;
    p->link.shutdown = sqp_link_shutdown;
    db_pool_register(vm, &p->link);
    h->p = p;
    sqlite_state *st = p->state->data;
    return qv_obj(cdata_new(vm, st->pool_type, &sqp_class, h));
}
