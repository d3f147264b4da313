/* db.c — the parts of std/db/sqlite and std/db/postgres that do not
 * depend on the driver: the module skeleton, the error family, argument
 * parsing, the per-VM list of live pools, the pools' queues, lease guards
 * and the transaction helper. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "modules/db/db.h"

#define DB_STATE_KEY "std/db"

/* Per VM: the error types (kept reachable by the modules exporting them)
 * and the pools still open. */
typedef struct db_runtime {
    qtype *errs[DBE__COUNT];
    db_pool_link pools; /* sentinel of a circular list */
} db_runtime;

static const char *const err_names[DBE__COUNT] = {
    "DatabaseErr", "IntegrityErr", "OperationalErr", "ProgrammingErr", "DataErr",
};
static const char *const err_aliases[DBE__COUNT] = {
    "DatabaseError", "IntegrityError", "OperationalError", "ProgrammingError", "DataError",
};

/* At vm_free, before the loop is torn down: close what is still open. */
static void db_runtime_free(qvm *vm, void *p)
{
    (void)vm;
    db_runtime *rt = p;
    while (rt->pools.next != &rt->pools) {
        db_pool_link *l = rt->pools.next;
        db_pool_unregister(l);
        l->shutdown(l);
    }
    free(rt);
}

static db_runtime *db_rt(qvm *vm)
{
    db_runtime *rt = vm_module_state(vm, DB_STATE_KEY);
    if (rt)
        return rt;
    rt = calloc(1, sizeof *rt);
    if (!rt)
        abort();
    rt->pools.prev = rt->pools.next = &rt->pools;
    rt->errs[DBE_DATABASE] = vm_new_exc_type(vm, err_names[DBE_DATABASE], NULL);
    for (int k = 1; k < DBE__COUNT; k++)
        rt->errs[k] = vm_new_exc_type(vm, err_names[k], rt->errs[DBE_DATABASE]);
    vm_set_module_state(vm, DB_STATE_KEY, rt, db_runtime_free);
    return rt;
}

/* ---- errors ----------------------------------------------------------------------------- */

void db_export_errors(qvm *vm, qmodule *m)
{
    db_runtime *rt = db_rt(vm);
    for (int k = 0; k < DBE__COUNT; k++) {
        module_export(vm, m, err_names[k], qv_obj(rt->errs[k]));
        module_export(vm, m, err_aliases[k], qv_obj(rt->errs[k]));
    }
}

qtype *db_err_type(qvm *vm, db_err_kind kind)
{
    return db_rt(vm)->errs[kind];
}

static qexc *db_vexc(qvm *vm, db_err_kind kind, const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    char *text = malloc((size_t)n + 1);
    if (!text)
        abort();
    vsnprintf(text, (size_t)n + 1, fmt, ap);
    /* Server messages often end with a newline: trim it. */
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' '))
        n--;
    qstr *msg = str_new(vm, text, (size_t)n);
    free(text);
    return exc_new(vm, db_err_type(vm, kind), msg);
}

qexc *db_exc(qvm *vm, db_err_kind kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    qexc *e = db_vexc(vm, kind, fmt, ap);
    va_end(ap);
    return e;
}

qval db_raise(qvm *vm, db_err_kind kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    qexc *e = db_vexc(vm, kind, fmt, ap);
    va_end(ap);
    return vm_raise_exc(vm, e);
}

qval db_failed_task(qvm *vm, db_err_kind kind, const char *msg)
{
    qtask *t = task_new_pending(vm, "query");
    task_reject(vm, t, db_exc(vm, kind, "%s", msg));
    return task_value(t);
}

/* ---- pools ------------------------------------------------------------------------------ */

void db_pool_register(qvm *vm, db_pool_link *link)
{
    db_runtime *rt = db_rt(vm);
    link->next = rt->pools.next;
    link->prev = &rt->pools;
    rt->pools.next->prev = link;
    rt->pools.next = link;
}

void db_pool_unregister(db_pool_link *link)
{
    if (!link->next)
        return;
    link->prev->next = link->next;
    link->next->prev = link->prev;
    link->prev = link->next = NULL;
}

/* ---- queues ---------------------------------------------------------------------------------- */

void db_queue_push(db_queue *q, db_qnode *n)
{
    n->next = NULL;
    if (q->tail)
        q->tail->next = n;
    else
        q->head = n;
    q->tail = n;
}

void db_queue_push_front(db_queue *q, db_qnode *n)
{
    n->next = q->head;
    q->head = n;
    if (!q->tail)
        q->tail = n;
}

db_qnode *db_queue_pop(db_queue *q)
{
    db_qnode *n = q->head;
    if (!n)
        return NULL;
    if (!(q->head = n->next))
        q->tail = NULL;
    n->next = NULL;
    return n;
}

void db_queue_remove(db_queue *q, db_qnode *n)
{
    db_qnode *prev = NULL;
    for (db_qnode *x = q->head; x; prev = x, x = x->next) {
        if (x != n)
            continue;
        if (prev)
            prev->next = x->next;
        else
            q->head = x->next;
        if (q->tail == x)
            q->tail = prev;
        x->next = NULL;
        return;
    }
}

int64_t db_queue_len(const db_queue *q)
{
    int64_t n = 0;
    for (const db_qnode *x = q->head; x; x = x->next)
        n++;
    return n;
}

/* ---- the module ------------------------------------------------------------------------------ */

static void db_state_mark(qvm *vm, void *p)
{
    db_state *st = p;
    vm_mark_obj(vm, (qobj *)st->conn_type);
    vm_mark_obj(vm, (qobj *)st->cursor_type);
    vm_mark_obj(vm, (qobj *)st->pool_type);
    vm_mark_obj(vm, (qobj *)st->lease_type);
}

db_state *db_module_init(qvm *vm, qmodule *m, const char *state_name, const qmethod_def *fns)
{
    static const qcdata_class state_class = {"DatabaseModule", free, db_state_mark, NULL};
    db_state *st = calloc(1, sizeof *st);
    if (!st) {
        vm_raise(vm, E_RUNTIME, "out of memory");
        return NULL;
    }
    st->conn_type = vm_new_cdata_type(vm, "Connection", db_conn_methods);
    st->cursor_type = vm_new_cdata_type(vm, "Cursor", db_cursor_methods);
    st->pool_type = vm_new_cdata_type(vm, "Pool", db_pool_methods);
    st->lease_type = vm_new_cdata_type(vm, "PoolConn", db_lease_methods);
    /* Module functions are bound to this state; the objects they make
     * keep it alive. */
    qcdata *state = cdata_new(vm, vm_new_cdata_type(vm, state_name, NULL), &state_class, st);
    for (const qmethod_def *d = fns; d->name; d++) {
        qnative *n = native_new(vm, d->name, d->fn, d->min_args, d->max_args);
        n->kwargs = d->kwargs;
        n->bound = qv_obj(state);
        module_export(vm, m, d->name, qv_obj(n));
    }
    module_export(vm, m, "Connection", qv_obj(st->conn_type));
    module_export(vm, m, "Cursor", qv_obj(st->cursor_type));
    module_export(vm, m, "Pool", qv_obj(st->pool_type));
    db_export_errors(vm, m);
    return st;
}

/* ---- arguments ------------------------------------------------------------------------------ */

bool db_sql_args(qvm *vm, const char *fname, int argc, qval *argv, bool variadic, qstr **sql,
                 qval *params)
{
    if (!arg_str(vm, fname, argv[0], sql))
        return false;
    *params = qv_nil();
    if (argc < 2)
        return true;
    if (argc == 2 && (IS_ARRAY(argv[1]) || IS_DICT(argv[1]) || IS_NIL(argv[1]))) {
        *params = argv[1];
        return true;
    }
    if (!variadic) {
        vm_raise(vm, E_TYPE, "%s expects parameters as an Array or a Dict, got %s", fname,
                 vm_cls_name(argv[1]));
        return false;
    }
    qarray *a = arr_new(vm, (uint32_t)argc - 1);
    for (int i = 1; i < argc; i++)
        arr_push(vm, a, argv[i]);
    *params = qv_obj(a);
    return true;
}

bool db_kw_seconds(qvm *vm, qdict *kw, const char *fname, const char *key, double *out)
{
    qval v;
    if (!kw || !dict_get_cstr(kw, key, &v) || IS_NIL(v))
        return true;
    if (!arg_num(vm, fname, v, out))
        return false;
    if (!isfinite(*out) || *out < 0) {
        vm_raise(vm, E_VALUE, "%s: %s must be a non-negative number of seconds", fname, key);
        return false;
    }
    return true;
}

bool db_kw_int(qvm *vm, qdict *kw, const char *fname, const char *key, int64_t *out)
{
    qval v;
    if (!kw || !dict_get_cstr(kw, key, &v) || IS_NIL(v))
        return true;
    return arg_int(vm, fname, v, out);
}

/* ---- values ----------------------------------------------------------------------------------- */

qstr *db_text_of(qvm *vm, qval v)
{
    return IS_STR(v) ? AS_STR(v) : vm_to_str(vm, v);
}

const char *db_time_kind(qval v)
{
    static const char *const kinds[] = {"Timestamp", "Zoned", "Date", "Time", "Span"};
    if (!IS_KIND(v, QO_CDATA) || !AS_CDATA(v)->cls)
        return NULL;
    const char *name = AS_CDATA(v)->cls->name;
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        if (strcmp(name, kinds[i]) == 0)
            return kinds[i];
    return NULL;
}

qval db_time_call(qvm *vm, const char *fn, qval arg)
{
    qval m = vm_import(vm, "std/time");
    if (IS_EXC(m))
        return m;
    qval f;
    if (!dict_get_cstr(AS_MODULE(m)->globals, fn, &f))
        return vm_raise(vm, E_RUNTIME, "std/time has no %s", fn);
    return vm_call(vm, f, 1, &arg);
}

/* ---- transactions and leases ------------------------------------------------------------------- */

qval db_transaction(qvm *vm, qval pool, qval body)
{
    if (!vm_is_callable(body))
        return vm_raise(vm, E_TYPE, "transaction expects a function, got %s", vm_cls_name(body));
    qval m = vm_import(vm, "std/db/pool");
    if (IS_EXC(m))
        return m;
    qval helper;
    if (!dict_get_cstr(AS_MODULE(m)->globals, "transaction", &helper))
        return vm_raise(vm, E_RUNTIME, "std/db/pool has no transaction");
    qval args[2] = {pool, body};
    return vm_call(vm, helper, 2, args);
}

qtask *db_guard_new(qvm *vm, qtask_cancel_fn on_end, void *data)
{
    qtask *g = task_new_pending(vm, "lease");
    task_set_cancel(g, on_end, data);
    return g;
}

void db_guard_done(qvm *vm, qtask *guard)
{
    task_set_cancel(guard, NULL, NULL);
    task_resolve(vm, guard, qv_nil());
}
