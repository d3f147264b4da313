/* pg_pool.c — await postgres.pool(url, max: N): PostgreSQL on libpq's
 * non-blocking API, driven by the VM's event loop.
 *
 *   let pg = await postgres.pool(url, max: 10, min: 1, timeout: 30)
 *   let row = await pg.fetch_one("SELECT * FROM users WHERE id = $1", [id])
 *   await pg.transaction(fun (tx) ... end)
 *   let ch = await pg.listen("events")      # a Channel of NOTIFY payloads
 *
 * This file is the pool: which connection a query or an acquire() gets,
 * how many connections there are (from min up to max while all are busy;
 * idle ones above min and old ones are retired), the deadlines of what
 * waits, and the pool's life.  A query goes to the busiest connection
 * below PGP_PACK in flight (deep pipelines cost the server far fewer
 * wake-ups than many shallow ones) whose oldest query has not been out
 * for PGP_SLOW_MS (slow queries would hold up those behind them), else to
 * the least busy below PGP_DEPTH; a leased connection (acquire(), transaction()) carries only
 * its lease's queries.  The pipeline itself is pg_pipe.c; a connection's
 * life, pg_conn.c (see pg_pool.h).
 *
 * Lifetime: the Pool object owns the C pool; queries in flight keep the
 * Pool alive through their Tasks.  At vm_free the runtime shuts open pools
 * down (db.c).
 */
#include <stdlib.h>
#include <string.h>

#include "modules/db/pg_pool.h"

#define PGP_TICK_FAST 20    /* ms between checks while something waits */
#define PGP_TICK_SLOW 1000

static pgp_op *op_at(db_qnode *n)
{
    return (pgp_op *)n;
}

/* Put ops back at the head of the queue, in their order. */
void pgp_requeue(pgp_pool *p, db_queue *ops)
{
    for (db_qnode *n = ops->head; n; n = n->next) {
        op_at(n)->where = OPW_POOL;
        op_at(n)->conn = NULL;
    }
    if (!ops->head)
        return;
    ops->tail->next = p->queue.head;
    p->queue.head = ops->head;
    if (!p->queue.tail)
        p->queue.tail = ops->tail;
    ops->head = ops->tail = NULL;
}

void pgp_fail_waiting(pgp_pool *p, db_err_kind kind, const char *why)
{
    db_qnode *n;
    while ((n = db_queue_pop(&p->queue)) != NULL)
        pgp_op_fail(op_at(n), kind, why);
    db_pool_fail_waiters(&p->base, kind, why);
}

/* ---- dispatching -------------------------------------------------------------------------------------------- */

/* Free for anyone's queries. */
static bool pgp_shared(const pgp_conn *c)
{
    return !c->listener && !c->lease && !c->reserved && !c->release_check && !c->cleaning;
}

/* Can c be leased now? */
static bool pgp_idle(const pgp_conn *c)
{
    return c->inflight == 0 && !c->pending.head && !c->orphans && !c->cancel;
}

/* Connections for acquire(): an idle one now, else one drained for it. */
static void pgp_serve_acquires(pgp_pool *p)
{
    db_lease *l;
    while ((l = db_pool_first_waiter(&p->base)) != NULL) {
        pgp_conn *idle = NULL, *reserved = NULL, *least = NULL;
        for (pgp_conn *c = p->conns; c; c = c->next) {
            if (c->listener || c->lease || c->state != PC_READY || c->release_check || c->cleaning)
                continue;
            if (pgp_idle(c) && (!idle || c->reserved))
                idle = c;
            if (c->reserved)
                reserved = c;
            if (!c->reserved && (!least || c->inflight < least->inflight))
                least = c;
        }
        if (idle) {
            idle->reserved = false;
            idle->lease = l;
            db_lease_grant(l, idle);
            continue;
        }
        /* None idle and no room for another: drain one for it. */
        if (!reserved && least && p->size >= p->max)
            least->reserved = true;
        return;
    }
}

/* Is c working on a query that takes a while?  Then queries queued behind
 * it would wait: spread them instead. */
static bool pgp_slow(const pgp_conn *c, uint64_t now)
{
    return c->sent.head && now - ((pgp_op *)c->sent.head)->sent_at >= PGP_SLOW_MS;
}

/* The connection for a shared query (see the top of the file). */
static pgp_conn *pgp_pick(pgp_pool *p, const pgp_op *op)
{
    pgp_conn *packed = NULL, *least = NULL;
    uint64_t now = pgp_now(p);
    for (pgp_conn *c = p->conns; c; c = c->next) {
        if (!pgp_shared(c) || !pgp_can_send(c, op))
            continue;
        if (c->inflight < PGP_PACK && !pgp_slow(c, now) && (!packed || c->inflight > packed->inflight))
            packed = c;
        if (!least || c->inflight < least->inflight)
            least = c;
    }
    return packed ? packed : least;
}

void pgp_dispatch(pgp_pool *p)
{
    if (p->base.shut)
        return;
    pgp_serve_acquires(p);
    while (p->queue.head) {
        pgp_conn *best = pgp_pick(p, op_at(p->queue.head));
        if (!best)
            break;
        pgp_send(best, op_at(db_queue_pop(&p->queue)));
    }
    pgp_schedule(p);
}

/* ---- leases ---------------------------------------------------------------------------------------------------- */

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
void pgp_release_check(pgp_conn *c)
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
    if (st != PQTRANS_IDLE || p->base.closed)
        pgp_conn_close(c);
    pgp_dispatch(p);
}

static void pgp_release(db_pool *base, void *conn)
{
    pgp_conn *c = conn;
    c->lease = NULL;
    c->release_check = true;
    if (!c->inflight && !c->pending.head)
        pgp_release_check(c);
    (void)base;
}

static void pgp_waiters(db_pool *base, bool left)
{
    pgp_pool *p = (pgp_pool *)base;
    if (left) /* a drained connection may no longer be wanted */
        for (pgp_conn *c = p->conns; c; c = c->next)
            c->reserved = false;
    pgp_dispatch(p);
}

/* ---- the timer: deadlines, growth, idle and old connections ------------------------------------------------- */

static void pgp_expire(pgp_pool *p, uint64_t now)
{
    qvm *vm = p->base.vm;
    uint64_t wait = (uint64_t)(p->base.timeout * 1000.0);
    while (p->queue.head && now - op_at(p->queue.head)->queued_at >= wait) {
        pgp_op *op = op_at(db_queue_pop(&p->queue));
        qtask *t = op->task;
        op->task = NULL;
        if (t)
            task_reject(vm, t, exc_new(vm, vm_err_type(vm, E_TIMEOUT),
                                       str_printf(vm, "no database connection within %g s%s%s", p->base.timeout,
                                                  p->last_error[0] ? ": " : "", p->last_error)));
        pgp_op_free(op);
    }
    db_pool_expire_waiters(&p->base, now);
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
        if (c->listener || c->state != PC_READY || c->lease || c->inflight || c->pending.head || c->cleaning ||
            c->release_check || c->cancel)
            continue;
        if (p->base.closed) {
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
    if (p->base.closed || p->connecting || p->size >= p->max || now < p->next_connect)
        return;
    bool all_busy = true;
    for (pgp_conn *c = p->conns; c && all_busy; c = c->next)
        if (!c->listener && c->state == PC_READY && c->inflight == 0 && !c->lease)
            all_busy = false;
    if (p->size < p->min || p->queue.head || p->base.waiters.head || (all_busy && p->inflight > 0))
        pgp_conn_open(p, false);
}

static bool pgp_busy(const pgp_pool *p)
{
    return p->queue.head || p->base.waiters.head || p->inflight > 0 || p->open_task || p->nlistens > 0 ||
           (p->listener && p->listener->sent.head);
}

static void pgp_tick(uv_timer_t *h)
{
    pgp_pool *p = h->data;
    uint64_t now = pgp_now(p);
    p->tick_due = 0;
    pgp_bury(p);
    pgp_expire(p, now);
    if (p->base.shut)
        return;
    pgp_retire(p, now);
    pgp_grow(p, now);
    if (p->nlistens && !p->listener && now >= p->next_listener)
        pgp_conn_open(p, true);
    pgp_dispatch(p);
}

/* Re-arm the timer for what is pending, and keep the loop alive exactly
 * while the pool has work (its sockets' polls never do). */
void pgp_schedule(pgp_pool *p)
{
    if (p->base.shut)
        return;
    uint64_t now = pgp_now(p);
    pgp_grow(p, now);
    bool urgent = p->queue.head || p->base.waiters.head || p->connecting || (p->nlistens && !p->listener) ||
                  (p->size < p->min && !p->base.closed);
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

static void pgp_handle_closed(uv_handle_t *h)
{
    pgp_unref(h->data);
}

static void pgp_drop(db_pool *base)
{
    pgp_unref((pgp_pool *)base);
}

static void pgp_shutdown(db_pool *base, bool vm_alive)
{
    pgp_pool *p = (pgp_pool *)base;
    if (base->shut)
        return;
    base->closed = base->shut = true;
    db_pool_unregister(&base->link);
    const char *why = "the database pool was shut down";
    if (vm_alive) {
        pgp_fail_waiting(p, DBE_OPERATIONAL, why);
        if (p->open_task) {
            qtask *t = p->open_task;
            p->open_task = NULL;
            task_reject(base->vm, t, db_exc(base->vm, DBE_OPERATIONAL, "%s", why));
        }
    }
    pgp_listens_close(p, vm_alive);
    while (p->conns) {
        pgp_conn *c = p->conns;
        if (vm_alive)
            pgp_conn_fail_ops(c, why);
        pgp_conn_close(c);
    }
    uv_timer_stop(&p->tick);
    uv_close((uv_handle_t *)&p->tick, pgp_handle_closed);
    uv_close((uv_handle_t *)&p->flusher, pgp_handle_closed);
}

static void pgp_mark(qvm *vm, db_pool *base)
{
    pgp_pool *p = (pgp_pool *)base;
    for (int i = 0; i < p->nlistens; i++)
        vm_mark_obj(vm, (qobj *)p->listens[i].ch);
}

/* ---- queries from Quest ---------------------------------------------------------------------------------------- */

/* Several statements in one string (no parameters): they need the simple
 * query protocol, outside pipeline mode. */
static bool pgp_is_script(const char *sql, size_t len)
{
    while (len && (sql[len - 1] == ';' || sql[len - 1] == ' ' || sql[len - 1] == '\n' ||
                   sql[len - 1] == '\t' || sql[len - 1] == '\r'))
        len--;
    return memchr(sql, ';', len) != NULL;
}

static qval pgp_submit(qvm *vm, db_pool *base, db_lease *lease, qstr *sql, qval params, db_shape shape, qval hold)
{
    pgp_pool *p = (pgp_pool *)base;
    if (!IS_NIL(params) && !IS_ARRAY(params))
        return db_raise(vm, DBE_PROGRAMMING,
                        "PostgreSQL takes positional parameters ($1, $2 ...): pass an Array, not a %s",
                        vm_cls_name(params));
    pgp_op *op = pgp_op_new(p, sql->data, sql->len);
    if (!op)
        return vm_raise(vm, E_RUNTIME, "out of memory");
    op->shape = shape;
    op->script = (IS_NIL(params) || AS_ARRAY(params)->len == 0) && pgp_is_script(op->sql, op->len);
    op->task = task_new_pending(vm, "query");
    qval result = task_value(op->task);
    task_hold(op->task, hold);
    if (pg_params_need_types(params)) {
        op->params = params; /* converted once the statement's types are known */
        qarray *keep = arr_new(vm, 2);
        arr_push(vm, keep, hold);
        arr_push(vm, keep, params);
        task_hold(op->task, qv_obj(keep));
    } else if (!(op->wired = pg_params_from(vm, params, NULL, 0, &op->wire))) {
        task_reject(vm, op->task, vm_take_exc(vm)); /* the error comes with the result */
        op->task = NULL;
        pgp_op_free(op);
        return result;
    }
    task_set_cancel(op->task, pgp_op_cancel, op);
    op->queued_at = pgp_now(p);
    if (lease) {
        pgp_conn *c = lease->conn;
        op->conn = c;
        op->where = OPW_PENDING;
        db_queue_push(&c->pending, &op->node);
        pgp_send_pending(c);
    } else {
        op->where = OPW_POOL;
        db_queue_push(&p->queue, &op->node);
        pgp_dispatch(p);
    }
    pgp_schedule(p);
    return result;
}

/* ---- stats, close ---------------------------------------------------------------------------------------------- */

static void pgp_stats(db_pool *base, db_pool_stats *s)
{
    pgp_pool *p = (pgp_pool *)base;
    for (pgp_conn *c = p->conns; c; c = c->next)
        if (!c->listener && c->state == PC_READY && !c->inflight && !c->lease && !c->pending.head && !c->cleaning)
            s->idle++;
    s->size = p->size;
    s->busy = p->size - p->connecting - s->idle; /* connecting: neither idle nor busy */
    s->waiting = db_queue_len(&p->queue);
}

static void pgp_close(db_pool *base)
{
    pgp_pool *p = (pgp_pool *)base;
    pgp_fail_waiting(p, DBE_OPERATIONAL, "the database pool is closed");
    pgp_listens_close(p, true);
    for (pgp_conn *c = p->conns, *next; c; c = next) {
        next = c->next;
        if (c->listener || (!c->lease && !c->inflight && !c->pending.head && !c->cleaning))
            pgp_conn_close(c); /* the others close when their lease ends */
    }
    pgp_schedule(p);
}

static const db_pool_driver pgp_driver = {
    .begin_sql = "BEGIN",
    .submit = pgp_submit,
    .waiters = pgp_waiters,
    .release = pgp_release,
    .stats = pgp_stats,
    .close = pgp_close,
    .shutdown = pgp_shutdown,
    .unref = pgp_drop,
    .mark = pgp_mark,
};

/* ---- postgres.pool ------------------------------------------------------------------------------------------------ */

static bool pgp_options(qvm *vm, pgp_pool *p, double *timeout)
{
    qdict *kw = vm_kwargs(vm);
    int64_t max = 10, min = 1;
    const char *f = "postgres.pool";
    qval batch;
    *timeout = 30;
    p->idle_timeout = 300;
    p->max_lifetime = 3600;
    if (!db_kw_int(vm, kw, f, "max", &max) || !db_kw_int(vm, kw, f, "min", &min) ||
        !db_kw_seconds(vm, kw, f, "timeout", timeout) ||
        !db_kw_seconds(vm, kw, f, "idle_timeout", &p->idle_timeout) ||
        !db_kw_seconds(vm, kw, f, "max_lifetime", &p->max_lifetime))
        return false;
    p->batch = !kw || !dict_get_cstr(kw, "batch", &batch) || vm_truthy(batch);
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
    double timeout;
    if (!arg_str(vm, "postgres.pool", argv[0], &info))
        return qv_exc();
    pgp_pool *p = calloc(1, sizeof *p);
    if (!p || !(p->conninfo = strdup(info->data))) {
        free(p);
        return vm_raise(vm, E_RUNTIME, "out of memory");
    }
    pg_conn_params check;
    char err[512];
    bool ok = pgp_options(vm, p, &timeout);
    if (ok && !pg_conn_params_make(p->conninfo, NULL, &check, err, sizeof err)) {
        db_raise(vm, DBE_PROGRAMMING, "%s", err);
        ok = false;
    }
    if (!ok) {
        free(p->conninfo), free(p);
        return qv_exc();
    }
    pg_conn_params_free(&check);
    uv_timer_init(vm_loop(vm), &p->tick);
    p->tick.data = p;
    uv_unref((uv_handle_t *)&p->tick);
    uv_prepare_init(vm_loop(vm), &p->flusher);
    p->flusher.data = p;
    uv_unref((uv_handle_t *)&p->flusher);
    p->refs = 3; /* the Pool object, the timer, the flusher */
    db_pool_init(&p->base, vm, self, &pgp_driver, timeout);
    db_pool_wrap(vm, &p->base);
    p->open_task = task_new_pending(vm, "pool");
    task_hold(p->open_task, qv_obj(p->base.obj));
    qval result = task_value(p->open_task);
    int first = p->min > 1 ? p->min : 1;
    for (int i = 0; i < first && !p->base.closed && p->open_task; i++)
        pgp_conn_open(p, false);
    pgp_schedule(p);
    return result;
}
