/* db_pool.c — what the async pools of both drivers share: the Pool and
 * PoolConn objects and their Quest methods, acquire() with its queue of
 * waiters and deadlines, and the end of a lease.  How queries run, and
 * which connection a waiter gets, is the driver's (db_pool_driver).
 *
 *   await db.fetch_all(sql, params)   fetch_one, fetch_val, execute
 *   await db.transaction(fun (tx) ... end)
 *   with await db.acquire(timeout: 2) as conn ... end
 *   db.stats(), db.close()
 *
 * Lifetime: the Pool object holds one reference to the driver's pool
 * (dropped by drv->unref when it is collected); a PoolConn keeps its Pool
 * object alive.  A lease also holds a guard: a pending task of the scope
 * that acquired it, so that the end of a request (or of the program)
 * gives the connection back.
 */
#include <stdlib.h>

#include "modules/db/db.h"

/* ---- the Pool object ----------------------------------------------------------------------- */

typedef struct pool_handle {
    db_pool *p;
} pool_handle;

static void pool_handle_free(void *data)
{
    db_pool *p = ((pool_handle *)data)->p;
    p->drv->shutdown(p, false);
    p->drv->unref(p);
    free(data);
}

static void pool_handle_mark(qvm *vm, void *data)
{
    db_pool *p = ((pool_handle *)data)->p;
    vm_mark_obj(vm, (qobj *)p->state);
    if (p->drv->mark)
        p->drv->mark(vm, p);
}

static const qcdata_class pool_class = {"Pool", pool_handle_free, pool_handle_mark, NULL};

static void pool_link_shutdown(db_pool_link *link)
{
    db_pool *p = (db_pool *)link;
    p->drv->shutdown(p, true);
}

void db_pool_init(db_pool *p, qvm *vm, qval state, const db_pool_driver *drv, double timeout)
{
    p->drv = drv;
    p->vm = vm;
    p->state = AS_CDATA(state);
    p->timeout = timeout;
    p->link.shutdown = pool_link_shutdown;
    db_pool_register(vm, &p->link);
}

qval db_pool_wrap(qvm *vm, db_pool *p)
{
    if (p->obj)
        return qv_obj(p->obj);
    pool_handle *h = malloc(sizeof *h);
    if (!h)
        abort();
    h->p = p;
    p->obj = cdata_new(vm, ((db_state *)p->state->data)->pool_type, &pool_class, h);
    return qv_obj(p->obj);
}

db_pool *db_pool_of(qvm *vm, qval self)
{
    pool_handle *h = cdata_get(vm, self, &pool_class);
    return h ? h->p : NULL;
}

/* ---- waiters -------------------------------------------------------------------------------- */

db_lease *db_pool_first_waiter(const db_pool *p)
{
    return (db_lease *)p->waiters.head;
}

void db_lease_grant(db_lease *l, void *conn)
{
    db_queue_remove(&l->pool->waiters, &l->node);
    l->conn = conn;
    qtask *t = l->acquire;
    l->acquire = NULL;
    task_resolve(l->pool->vm, t, qv_obj(l->self));
}

void db_lease_end(db_lease *l)
{
    db_pool *p = l->pool;
    l->released = true;
    qtask *g = l->guard;
    l->guard = NULL;
    if (g)
        db_guard_done(p->vm, g);
    void *conn = l->conn;
    l->conn = NULL;
    if (conn)
        p->drv->release(p, conn);
}

/* Take l out of the queue and fail its acquire() with e. */
static void waiter_fail(db_lease *l, qexc *e)
{
    db_pool *p = l->pool;
    db_queue_remove(&p->waiters, &l->node);
    qtask *t = l->acquire;
    l->acquire = NULL;
    db_lease_end(l);
    if (t)
        task_reject(p->vm, t, e);
}

void db_pool_fail_waiters(db_pool *p, db_err_kind kind, const char *why)
{
    while (p->waiters.head)
        waiter_fail(db_pool_first_waiter(p), db_exc(p->vm, kind, "%s", why));
}

uint64_t db_pool_expire_waiters(db_pool *p, uint64_t now)
{
    uint64_t next = 0;
    for (db_lease *l = db_pool_first_waiter(p), *after; l; l = after) {
        after = (db_lease *)l->node.next;
        if (l->deadline > now) {
            next = next && next < l->deadline ? next : l->deadline;
            continue;
        }
        qvm *vm = p->vm;
        waiter_fail(l, exc_new(vm, vm_err_type(vm, E_TIMEOUT),
                               str_cstr(vm, "acquire timed out: every connection of the pool is busy")));
    }
    return next;
}

/* ---- leases ------------------------------------------------------------------------------------ */

static void lease_mark(qvm *vm, void *data)
{
    vm_mark_obj(vm, (qobj *)((db_lease *)data)->pool_obj);
}

static const qcdata_class lease_class = {"PoolConn", free, lease_mark, NULL};

/* The acquire() Task was cancelled while waiting. */
static void acquire_cancel(qvm *vm, qtask *t, void *data)
{
    (void)vm, (void)t;
    db_lease *l = data;
    db_pool *p = l->pool;
    l->acquire = NULL;
    db_queue_remove(&p->waiters, &l->node);
    db_lease_end(l);
    p->drv->waiters(p, true);
}

/* The owner (request, program) of the lease ended without release(). */
static void guard_cancel(qvm *vm, qtask *t, void *data)
{
    (void)t;
    db_lease *l = data;
    l->guard = NULL;
    if (l->acquire)
        task_cancel(vm, l->acquire);
    else
        db_lease_end(l);
}

static qval pool_acquire(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    db_pool *p = db_pool_of(vm, self);
    if (!p)
        return qv_exc();
    double timeout = p->timeout;
    if (!db_kw_seconds(vm, vm_kwargs(vm), "acquire", "timeout", &timeout))
        return qv_exc();
    if (p->closed)
        return db_failed_task(vm, DBE_OPERATIONAL, "the database pool is closed");
    db_lease *l = calloc(1, sizeof *l);
    if (!l)
        return vm_raise(vm, E_RUNTIME, "out of memory");
    l->pool = p;
    l->pool_obj = AS_CDATA(self);
    l->self = cdata_new(vm, ((db_state *)p->state->data)->lease_type, &lease_class, l);
    l->guard = db_guard_new(vm, guard_cancel, l);
    task_hold(l->guard, qv_obj(l->self));
    l->acquire = task_new_pending(vm, "acquire");
    task_hold(l->acquire, qv_obj(l->self));
    task_set_cancel(l->acquire, acquire_cancel, l);
    qval result = task_value(l->acquire);
    l->seq = ++p->seq;
    l->deadline = uv_now(vm_loop(vm)) + (uint64_t)(timeout * 1000.0) + 1;
    db_queue_push(&p->waiters, &l->node);
    p->drv->waiters(p, false);
    return result;
}

/* The lease of a PoolConn that still holds its connection; NULL after
 * raising. */
static db_lease *lease_live(qvm *vm, qval self)
{
    db_lease *l = cdata_get(vm, self, &lease_class);
    if (!l)
        return NULL;
    if (l->broken && !l->released) {
        db_raise(vm, DBE_OPERATIONAL, "the connection was lost");
        return NULL;
    }
    if (!l->conn || l->pool->shut) {
        db_raise(vm, DBE_PROGRAMMING, "this connection was released to its pool");
        return NULL;
    }
    return l;
}

/* A query on a Pool (any connection) or a PoolConn (its connection). */
static qval query(qvm *vm, qval self, int argc, qval *argv, const char *fname, db_shape shape)
{
    db_lease *lease = NULL;
    db_pool *p;
    qstr *sql;
    qval params;
    if (IS_KIND(self, QO_CDATA) && AS_CDATA(self)->cls == &lease_class)
        p = (lease = lease_live(vm, self)) ? lease->pool : NULL;
    else
        p = db_pool_of(vm, self);
    if (!p || !db_sql_args(vm, fname, argc, argv, true, &sql, &params))
        return qv_exc();
    if (p->closed && !lease)
        return db_failed_task(vm, DBE_OPERATIONAL, "the database pool is closed");
    return p->drv->submit(vm, p, lease, sql, params, shape, self);
}

static qval fetch_all(qvm *vm, qval self, int argc, qval *argv)
{
    return query(vm, self, argc, argv, "fetch_all", DB_ROWS);
}

static qval fetch_one(qvm *vm, qval self, int argc, qval *argv)
{
    return query(vm, self, argc, argv, "fetch_one", DB_ONE);
}

static qval fetch_val(qvm *vm, qval self, int argc, qval *argv)
{
    return query(vm, self, argc, argv, "fetch_val", DB_VAL);
}

static qval execute(qvm *vm, qval self, int argc, qval *argv)
{
    return query(vm, self, argc, argv, "execute", DB_COUNT);
}

static qval lease_sql(qvm *vm, qval self, const char *sql)
{
    db_lease *l = lease_live(vm, self);
    if (!l)
        return qv_exc();
    return l->pool->drv->submit(vm, l->pool, l, str_cstr(vm, sql), qv_nil(), DB_COUNT, self);
}

static qval lease_begin(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    db_lease *l = cdata_get(vm, self, &lease_class);
    return l ? lease_sql(vm, self, l->pool->drv->begin_sql) : qv_exc();
}

static qval lease_commit(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return lease_sql(vm, self, "COMMIT");
}

static qval lease_rollback(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return lease_sql(vm, self, "ROLLBACK");
}

static qval lease_release(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    db_lease *l = cdata_get(vm, self, &lease_class);
    if (!l)
        return qv_exc();
    if (!l->released)
        db_lease_end(l);
    return qv_nil();
}

static qval lease_enter(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return lease_live(vm, self) ? self : qv_exc();
}

const qmethod_def db_lease_methods[] = {
    {"fetch_all", fetch_all, 1, -1, false},
    {"fetch_one", fetch_one, 1, -1, false},
    {"fetch_val", fetch_val, 1, -1, false},
    {"execute", execute, 1, -1, false},
    {"begin", lease_begin, 0, 0, false},
    {"commit", lease_commit, 0, 0, false},
    {"rollback", lease_rollback, 0, 0, false},
    {"release", lease_release, 0, 0, false},
    {"_enter", lease_enter, 0, 0, false},
    {"_exit", lease_release, 0, -1, false},
    {NULL, NULL, 0, 0, false},
};

/* ---- Pool methods -------------------------------------------------------------------------------- */

static qval pool_transaction(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    if (!db_pool_of(vm, self))
        return qv_exc();
    return db_transaction(vm, self, argv[0]);
}

static qval pool_stats(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    db_pool *p = db_pool_of(vm, self);
    if (!p)
        return qv_exc();
    db_pool_stats s = {0, 0, 0, 0};
    p->drv->stats(p, &s);
    s.waiting += db_queue_len(&p->waiters);
    qdict *d = dict_new(vm);
    dict_set_cstr(vm, d, "size", qv_int(s.size));
    dict_set_cstr(vm, d, "idle", qv_int(s.idle));
    dict_set_cstr(vm, d, "busy", qv_int(s.busy));
    dict_set_cstr(vm, d, "waiting", qv_int(s.waiting));
    return qv_obj(d);
}

static qval pool_close(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    db_pool *p = db_pool_of(vm, self);
    if (!p)
        return qv_exc();
    if (!p->closed) {
        p->closed = true;
        db_pool_fail_waiters(p, DBE_OPERATIONAL, "the database pool is closed");
        p->drv->close(p);
    }
    return qv_nil();
}

const qmethod_def db_pool_methods[] = {
    {"fetch_all", fetch_all, 1, -1, false},
    {"fetch_one", fetch_one, 1, -1, false},
    {"fetch_val", fetch_val, 1, -1, false},
    {"execute", execute, 1, -1, false},
    {"transaction", pool_transaction, 1, 1, false},
    {"acquire", pool_acquire, 0, 0, true},
    {"stats", pool_stats, 0, 0, false},
    {"close", pool_close, 0, 0, false},
    {NULL, NULL, 0, 0, false},
};
