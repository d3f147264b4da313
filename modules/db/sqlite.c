/* sqlite.c — std/db/sqlite: the reference's synchronous API, a Connection
 * and its Cursors (PEP 249 in spirit), plus sqlite.open() for the async
 * pool (sqlite_pool.c).
 *
 *   let conn = sqlite.connect("app.db")        (":memory:" works)
 *   let cur = conn.cursor()
 *   cur.execute("INSERT INTO t VALUES (?, ?)", [1, "a"])   ? and :name
 *   cur.fetch_all("SELECT * FROM t WHERE id = ?", 1)       convenience forms
 *
 * Unlike the reference there is no "starts with SELECT" test: any
 * statement that returns columns (WITH, PRAGMA, ... RETURNING) has rows.
 * Statements run on the calling thread; in a server prefer the pool.
 */
#include <stdlib.h>
#include <string.h>

#include "modules/db/sqlite_internal.h"

/* ---- Connection --------------------------------------------------------------------------- */

typedef struct sqc_connection {
    sq_conn *c;       /* NULL once closed */
    qcdata *state;    /* the module's state (its types) */
} sqc_connection;

static void sqc_conn_free(void *p)
{
    sqc_connection *k = p;
    sq_close(k->c);
    free(k);
}

static void sqc_conn_mark(qvm *vm, void *p)
{
    vm_mark_obj(vm, (qobj *)((sqc_connection *)p)->state);
}

static const qcdata_class sqc_conn_class = {"Connection", sqc_conn_free, sqc_conn_mark, NULL};

/* The open connection of a Connection value; NULL after raising. */
static sq_conn *sqc_open_conn(qvm *vm, qval v)
{
    sqc_connection *k = cdata_get(vm, v, &sqc_conn_class);
    if (!k)
        return NULL;
    if (!k->c)
        db_raise(vm, DBE_PROGRAMMING, "Cannot operate on a closed database");
    return k->c;
}

/* Run sql on a connection of this thread; false after raising. */
static bool sqc_run(qvm *vm, sq_conn *c, qstr *sql, qval params, sq_result *r)
{
    sq_params p;
    if (!sq_params_from(vm, params, &p))
        return false;
    sq_run(c, sql->data, sql->len, &p, r);
    sq_params_free(&p);
    if (!r->err)
        return true;
    vm_raise_exc(vm, sq_result_exc(vm, r));
    sq_result_free(r);
    return false;
}

/* The Cursor's exec: run on the calling thread, keep the rows. */
static bool sqc_cursor_exec(qvm *vm, qval conn, qstr *sql, qval params, db_exec_result *out)
{
    sq_conn *c = sqc_open_conn(vm, conn);
    sq_result r;
    if (!c || !sqc_run(vm, c, sql, params, &r))
        return false;
    out->rows = r.has_cols ? sq_result_rows(vm, &r, 0) : NULL;
    out->desc = sq_result_description(vm, &r);
    out->count = r.has_cols ? (int64_t)r.nrows : r.changes;
    out->last_rowid = r.last_rowid;
    sq_result_free(&r);
    return true;
}

/* ---- Connection methods ------------------------------------------------------------------------- */

static qval conn_cursor(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    if (!sqc_open_conn(vm, self))
        return qv_exc();
    sqlite_state *st = ((sqc_connection *)AS_CDATA(self)->data)->state->data;
    return db_cursor_new(vm, st->cursor_type, self, sqc_cursor_exec);
}

/* conn.execute(sql, params?) -> rows changed (or returned). */
static qval conn_execute(qvm *vm, qval self, int argc, qval *argv)
{
    sq_conn *c = sqc_open_conn(vm, self);
    qstr *sql;
    qval params;
    sq_result r;
    if (!c || !db_sql_args(vm, "execute", argc, argv, true, &sql, &params) || !sqc_run(vm, c, sql, params, &r))
        return qv_exc();
    qval n = sq_result_value(vm, &r, DB_COUNT);
    sq_result_free(&r);
    return n;
}

/* COMMIT / ROLLBACK when a transaction is open; nothing otherwise (the
 * connection is in autocommit mode until BEGIN). */
static qval conn_end_tx(qvm *vm, qval self, const char *sql)
{
    sq_conn *c = sqc_open_conn(vm, self);
    if (!c)
        return qv_exc();
    if (sqlite3_get_autocommit(c->db))
        return qv_nil();
    sq_result r;
    if (!sqc_run(vm, c, str_cstr(vm, sql), qv_nil(), &r))
        return qv_exc();
    sq_result_free(&r);
    return qv_nil();
}

static qval conn_commit(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return conn_end_tx(vm, self, "COMMIT");
}

static qval conn_rollback(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return conn_end_tx(vm, self, "ROLLBACK");
}

static qval conn_close(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    sqc_connection *k = cdata_get(vm, self, &sqc_conn_class);
    if (!k)
        return qv_exc();
    sq_close(k->c);
    k->c = NULL;
    return qv_nil();
}

static qval conn_enter(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return sqc_open_conn(vm, self) ? self : qv_exc();
}

static const qmethod_def sqc_conn_methods[] = {
    {"cursor", conn_cursor, 0, 0, false},
    {"execute", conn_execute, 1, -1, false},
    {"commit", conn_commit, 0, 0, false},
    {"rollback", conn_rollback, 0, 0, false},
    {"close", conn_close, 0, 0, false},
    {"_enter", conn_enter, 0, 0, false},
    {"_exit", conn_close, 0, -1, false},
    {NULL, NULL, 0, 0, false},
};

/* ---- the module ------------------------------------------------------------------------------------------ */

static qval sqlite_connect(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qstr *path;
    if (!arg_str(vm, "sqlite.connect", argv[0], &path))
        return qv_exc();
    char err[512];
    sq_conn *c = sq_open(path->data, false, false, err, sizeof err);
    if (!c)
        return db_raise(vm, DBE_OPERATIONAL, "%s", err);
    sqc_connection *k = malloc(sizeof *k);
    if (!k) {
        sq_close(c);
        return vm_raise(vm, E_RUNTIME, "out of memory");
    }
    k->c = c;
    k->state = AS_CDATA(self);
    sqlite_state *st = k->state->data;
    return qv_obj(cdata_new(vm, st->conn_type, &sqc_conn_class, k));
}

static qval sqlite_version(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc, (void)argv;
    return qv_obj(str_cstr(vm, sqlite3_libversion()));
}

static void sqlite_state_mark(qvm *vm, void *p)
{
    sqlite_state *st = p;
    vm_mark_obj(vm, (qobj *)st->conn_type);
    vm_mark_obj(vm, (qobj *)st->cursor_type);
    vm_mark_obj(vm, (qobj *)st->pool_type);
    vm_mark_obj(vm, (qobj *)st->lease_type);
}

static const qcdata_class sqlite_state_class = {"SqliteModule", free, sqlite_state_mark, NULL};

static const qmethod_def sqlite_fns[] = {
    {"connect", sqlite_connect, 1, 1, false},
    {"version", sqlite_version, 0, 0, false},
    {"open", sqlite_pool_open, 1, 1, true},
    {NULL, NULL, 0, 0, false},
};

bool sqlite_module_init(qvm *vm, qmodule *m)
{
    sqlite_state *st = calloc(1, sizeof *st);
    if (!st) {
        vm_raise(vm, E_RUNTIME, "out of memory");
        return false;
    }
    st->conn_type = vm_new_cdata_type(vm, "Connection", sqc_conn_methods);
    st->cursor_type = vm_new_cdata_type(vm, "Cursor", db_cursor_methods);
    st->pool_type = vm_new_cdata_type(vm, "Pool", sqlite_pool_methods);
    st->lease_type = vm_new_cdata_type(vm, "PoolConn", sqlite_lease_methods);
    /* Module functions are bound to this state; the objects they make
     * keep it alive. */
    qcdata *state = cdata_new(vm, vm_new_cdata_type(vm, "SqliteModule", NULL), &sqlite_state_class, st);
    for (const qmethod_def *d = sqlite_fns; d->name; d++) {
        qnative *n = native_new(vm, d->name, d->fn, d->min_args, d->max_args);
        n->kwargs = d->kwargs;
        n->bound = qv_obj(state);
        module_export(vm, m, d->name, qv_obj(n));
    }
    module_export(vm, m, "Connection", qv_obj(st->conn_type));
    module_export(vm, m, "Cursor", qv_obj(st->cursor_type));
    module_export(vm, m, "Pool", qv_obj(st->pool_type));
    db_export_errors(vm, m);
    return true;
}
