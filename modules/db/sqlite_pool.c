/* sqlite_pool.c — sqlite.open(path, pool: N): statements run on the libuv
 * thread pool, or inline when they are proven small reads; the event loop
 * is never held for long.
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

/* Where a job is. */
typedef enum { JQ_READ, JQ_WRITE, JQ_PINNED, JQ_RUNNING } sqp_where;

typedef struct sqp_job {
    db_qnode node;         /* first: in a queue */
    uv_work_t req;
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
    db_queue pinned;       /* jobs of the lease waiting their turn */
    db_lease *lease;
    bool check_tx;         /* a lease ended: roll back what it left open */
};

/* Statements known to be read-only (an open-addressing table keyed by
 * SQL text), and whether they proved fast enough to run inline. */
typedef struct sqp_ro {
    char *sql;
    size_t len;
    bool fast;
    uint8_t strikes;       /* inline runs in a row stopped by the budget */
} sqp_ro;

typedef struct sqp_roset {
    sqp_ro *slots;
    size_t cap, count;
} sqp_roset;

struct sqp_pool {
    db_pool base;          /* first member */
    int nconns;
    sqp_conn *conns;       /* [0] is the writer */
    db_queue reads;        /* read-only statements waiting */
    db_queue writes;       /* statements that may write, waiting */
    uv_timer_t timer;      /* acquire deadlines */
    sqp_roset readonly;
    int refs;              /* the Pool object, jobs on the thread pool, the timer */
};

static void sqp_dispatch(sqp_pool *p);

static sqp_job *sqp_pop(db_queue *q)
{
    return (sqp_job *)db_queue_pop(q);
}

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
        if (c->c && !c->running && !c->lease && !c->pinned.head) {
            sq_close(c->c);
            c->c = NULL;
        }
    }
}

/* Fail the jobs of q (vm_alive: their tasks; else nobody waits). */
static void sqp_fail_queue(sqp_pool *p, db_queue *q, const char *why, bool vm_alive)
{
    sqp_job *j;
    while ((j = sqp_pop(q)) != NULL) {
        qtask *t = j->task;
        sqp_job_free(j);
        if (t && vm_alive)
            task_reject(p->base.vm, t, db_exc(p->base.vm, DBE_OPERATIONAL, "%s", why));
    }
}

/* Shut down: no more jobs; close what is idle now and the rest as it
 * finishes. */
static void sqp_shutdown(db_pool *base, bool vm_alive)
{
    sqp_pool *p = (sqp_pool *)base;
    const char *why = "the database pool was shut down";
    if (base->shut)
        return;
    base->shut = base->closed = true;
    db_pool_unregister(&base->link);
    if (vm_alive) {
        sqp_fail_queue(p, &p->reads, why, true);
        sqp_fail_queue(p, &p->writes, why, true);
        db_pool_fail_waiters(base, DBE_OPERATIONAL, why);
    }
    for (int i = 0; i < p->nconns; i++) {
        sqp_conn *c = &p->conns[i];
        sqp_fail_queue(p, &c->pinned, why, vm_alive);
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

static void sqp_drop(db_pool *base)
{
    sqp_unref((sqp_pool *)base);
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
    *e = (sqp_ro){copy, len, false, 0};
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

/* Settle t with the job's result. */
static void sqp_settle(qvm *vm, qtask *t, const sqp_job *j)
{
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
    j->conn->running = NULL;
    if (!j->res.err && j->res.readonly && !j->internal) {
        sqp_ro *ro = sqp_ro_add(&p->readonly, j->sql, j->len);
        if (ro) {
            ro->fast = j->ns < SQP_INLINE_PROVEN_NS;
            ro->strikes = 0;
        }
    }
    qtask *t = j->task;
    j->task = NULL;
    if (t)
        sqp_settle(p->base.vm, t, j);
    sqp_job_free(j);
    if (p->base.closed)
        sqp_close_idle(p);
    if (!p->base.shut)
        sqp_dispatch(p);
    sqp_unref(p);
}

static void sqp_run(sqp_conn *c, sqp_job *j)
{
    sqp_pool *p = c->pool;
    j->conn = c;
    j->where = JQ_RUNNING;
    c->running = j;
    j->req.data = j;
    p->refs++;
    uv_queue_work(vm_loop(p->base.vm), &j->req, sqp_work, sqp_after);
}

static sqp_job *sqp_job_new(sqp_pool *p, const char *sql, size_t len)
{
    sqp_job *j = calloc(1, sizeof *j);
    if (!j || !(j->sql = malloc(len + 1))) {
        free(j);
        return NULL;
    }
    j->pool = p;
    memcpy(j->sql, sql, len);
    j->sql[len] = '\0';
    j->len = len;
    j->seq = ++p->base.seq;
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

/* The next job for an idle, unleased connection: the writer serves, in
 * arrival order, statements that may write and acquire(); then reads. */
static sqp_job *sqp_next_job(sqp_pool *p, sqp_conn *c, bool writer)
{
    if (!writer)
        return sqp_pop(&p->reads);
    db_lease *l = db_pool_first_waiter(&p->base);
    sqp_job *w = (sqp_job *)p->writes.head;
    if (l && (!w || l->seq < w->seq)) {
        c->lease = l;
        db_lease_grant(l, c);
        return NULL;
    }
    return w ? sqp_pop(&p->writes) : sqp_pop(&p->reads);
}

static void sqp_dispatch(sqp_pool *p)
{
    for (int i = 0; i < p->nconns && !p->base.shut; i++) {
        sqp_conn *c = &p->conns[i];
        if (!c->c || c->running)
            continue;
        sqp_job *j = NULL;
        if (c->pinned.head)
            j = sqp_pop(&c->pinned);
        else if (c->lease)
            continue;
        else if (c->check_tx)
            j = sqp_cleanup_job(c);
        if (!j && !c->pinned.head && !c->lease)
            j = sqp_next_job(p, c, i == 0);
        if (j)
            sqp_run(c, j);
    }
    if (p->base.closed)
        sqp_close_idle(p);
}

/* ---- the inline path ----
 * A read-only statement whose last pool run took under
 * SQP_INLINE_PROVEN_NS of CPU (a point lookup by key, say) runs right here
 * on the loop thread, on a connection that is idle: no thread hop, no
 * wake-up of the loop, which cost more than such a statement itself.  A
 * progress handler stops it after SQP_INLINE_BUDGET_NS; it then goes to
 * the thread pool after all (being read-only, it can run again) and is no
 * longer taken for fast until a pool run proves it fast again.  So the
 * loop is never held for long, whatever the data does later. */
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
        if (c->c && !c->running && !c->lease && !c->pinned.head && !c->check_tx)
            return c;
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
        if (++ro->strikes >= 2)
            ro->fast = false;
        sq_result_free(&j->res);
        memset(&j->res, 0, sizeof j->res);
        return false;
    }
    ro->strikes = 0;
    qtask *t = task_new_pending(vm, "query");
    sqp_settle(vm, t, j);
    *out = task_value(t);
    return true;
}

/* ---- submitting from Quest ------------------------------------------------------------------------------ */

static void sqp_job_cancel(qvm *vm, qtask *t, void *data)
{
    (void)vm, (void)t;
    sqp_job *j = data;
    sqp_pool *p = j->pool;
    j->task = NULL;
    switch (j->where) {
    case JQ_READ: db_queue_remove(&p->reads, &j->node); break;
    case JQ_WRITE: db_queue_remove(&p->writes, &j->node); break;
    case JQ_PINNED: db_queue_remove(&j->conn->pinned, &j->node); break;
    default: sqlite3_interrupt(j->conn->c->db); return; /* its result is dropped */
    }
    sqp_job_free(j);
}

/* Queue sql for the pool (for the lease's connection when lease) and
 * return the Task of its result.  hold: what the Task keeps alive. */
static qval sqp_submit(qvm *vm, db_pool *base, db_lease *lease, qstr *sql, qval params, db_shape shape,
                       qval hold)
{
    sqp_pool *p = (sqp_pool *)base;
    sqp_job *j = sqp_job_new(p, sql->data, sql->len);
    if (!j)
        return vm_raise(vm, E_RUNTIME, "out of memory");
    if (!sq_params_from(vm, params, &j->params)) {
        sqp_job_free(j);
        return qv_exc();
    }
    j->shape = shape;
    sqp_ro *ro = lease ? NULL : sqp_ro_find(&p->readonly, j->sql, j->len);
    qval done;
    if (ro && ro->fast && sqp_run_inline(vm, p, j, ro, &done)) {
        sqp_job_free(j);
        return done;
    }
    j->task = task_new_pending(vm, "query");
    task_hold(j->task, hold);
    task_set_cancel(j->task, sqp_job_cancel, j);
    qval result = task_value(j->task);
    if (lease) {
        j->conn = lease->conn;
        j->where = JQ_PINNED;
        db_queue_push(&j->conn->pinned, &j->node);
    } else {
        j->where = ro ? JQ_READ : JQ_WRITE;
        db_queue_push(ro ? &p->reads : &p->writes, &j->node);
    }
    sqp_dispatch(p);
    return result;
}

/* ---- leases and waiters ------------------------------------------------------------------------------------- */

/* The lease's connection comes back; the jobs it queued still run first. */
static void sqp_release(db_pool *base, void *conn)
{
    sqp_conn *c = conn;
    c->lease = NULL;
    c->check_tx = true;
    if (!base->shut)
        sqp_dispatch((sqp_pool *)base);
}

static void sqp_arm_timer(sqp_pool *p);

static void sqp_timer_fired(uv_timer_t *h)
{
    sqp_pool *p = h->data;
    db_pool_expire_waiters(&p->base, uv_now(h->loop));
    sqp_arm_timer(p);
}

static void sqp_arm_timer(sqp_pool *p)
{
    if (p->base.shut)
        return;
    uint64_t now = uv_now(vm_loop(p->base.vm));
    uint64_t first = db_pool_expire_waiters(&p->base, now);
    if (first)
        uv_timer_start(&p->timer, sqp_timer_fired, first - now, 0);
    else
        uv_timer_stop(&p->timer);
}

static void sqp_waiters(db_pool *base, bool left)
{
    sqp_pool *p = (sqp_pool *)base;
    if (!left)
        sqp_dispatch(p);
    sqp_arm_timer(p);
}

static void sqp_stats(db_pool *base, db_pool_stats *s)
{
    sqp_pool *p = (sqp_pool *)base;
    for (int i = 0; i < p->nconns; i++) {
        sqp_conn *c = &p->conns[i];
        if (!c->c)
            continue;
        s->size++;
        if (!c->running && !c->lease && !c->pinned.head)
            s->idle++;
    }
    s->busy = s->size - s->idle;
    s->waiting = db_queue_len(&p->reads) + db_queue_len(&p->writes);
}

static void sqp_close(db_pool *base)
{
    sqp_pool *p = (sqp_pool *)base;
    const char *why = "the database pool is closed";
    sqp_fail_queue(p, &p->reads, why, true);
    sqp_fail_queue(p, &p->writes, why, true);
    sqp_arm_timer(p);
    sqp_close_idle(p);
}

static const db_pool_driver sqp_driver = {
    .begin_sql = "BEGIN IMMEDIATE", /* writes are the point: the write lock at once */
    .submit = sqp_submit,
    .waiters = sqp_waiters,
    .release = sqp_release,
    .stats = sqp_stats,
    .close = sqp_close,
    .shutdown = sqp_shutdown,
    .unref = sqp_drop,
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
    if (!p || !(p->conns = calloc((size_t)size, sizeof(sqp_conn)))) {
        free(p);
        return vm_raise(vm, E_RUNTIME, "out of memory");
    }
    p->nconns = (int)size;
    p->refs = 1; /* the Pool object */
    if (!sqp_open_conns(vm, p, path->data)) {
        sqp_unref(p);
        return qv_exc();
    }
    uv_timer_init(vm_loop(vm), &p->timer);
    p->timer.data = p;
    p->refs++;
    db_pool_init(&p->base, vm, self, &sqp_driver, timeout);
    return db_pool_wrap(vm, &p->base);
}
