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

/* ---- Cursor ------------------------------------------------------------------------------------ */

typedef struct sqc_cursor {
    qcdata *conn;      /* the Connection */
    qarray *rows;      /* rows of the last statement, or NULL */
    uint32_t pos;      /* next row to fetch */
    qval desc;         /* description Array or nil */
    int64_t row_count;
    int64_t last_rowid;
} sqc_cursor;

static void sqc_cursor_mark(qvm *vm, void *p)
{
    sqc_cursor *cur = p;
    vm_mark_obj(vm, (qobj *)cur->conn);
    vm_mark_obj(vm, (qobj *)cur->rows);
    vm_mark_value(vm, cur->desc);
}

static const qcdata_class sqc_cursor_class = {"Cursor", free, sqc_cursor_mark, NULL};

static sqc_cursor *sqc_self(qvm *vm, qval self)
{
    return cdata_get(vm, self, &sqc_cursor_class);
}

/* Execute on the cursor: keep its rows, description and counts. */
static bool sqc_cursor_exec(qvm *vm, sqc_cursor *cur, qstr *sql, qval params)
{
    sq_conn *c = sqc_open_conn(vm, qv_obj(cur->conn));
    sq_result r;
    if (!c || !sqc_run(vm, c, sql, params, &r))
        return false;
    cur->rows = r.has_cols ? sq_result_rows(vm, &r, 0) : NULL;
    cur->pos = 0;
    cur->desc = sq_result_description(vm, &r);
    cur->row_count = r.has_cols ? (int64_t)r.nrows : r.changes;
    cur->last_rowid = r.last_rowid;
    sq_result_free(&r);
    return true;
}

static qval cur_execute(qvm *vm, qval self, int argc, qval *argv)
{
    sqc_cursor *cur = sqc_self(vm, self);
    qstr *sql;
    qval params;
    if (!cur || !db_sql_args(vm, "execute", argc, argv, true, &sql, &params))
        return qv_exc();
    return sqc_cursor_exec(vm, cur, sql, params) ? qv_nil() : qv_exc();
}

static qval cur_execute_many(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    sqc_cursor *cur = sqc_self(vm, self);
    qstr *sql;
    qarray *seq;
    if (!cur || !arg_str(vm, "execute_many", argv[0], &sql) || !arg_array(vm, "execute_many", argv[1], &seq))
        return qv_exc();
    int64_t total = 0;
    for (uint32_t i = 0; i < seq->len; i++) {
        qval p = seq->items[i];
        if (!IS_ARRAY(p) && !IS_DICT(p) && !IS_NIL(p))
            return vm_raise(vm, E_TYPE, "execute_many expects an Array of Arrays or Dicts, got %s",
                            vm_cls_name(p));
        if (!sqc_cursor_exec(vm, cur, sql, p))
            return qv_exc();
        total += cur->row_count;
    }
    cur->rows = NULL;
    cur->desc = qv_nil();
    cur->row_count = total;
    return qv_nil();
}

/* fetch_one()/fetch_all() with arguments execute first. */
static bool cur_maybe_execute(qvm *vm, sqc_cursor *cur, const char *fname, int argc, qval *argv)
{
    if (argc == 0)
        return true;
    qstr *sql;
    qval params;
    return db_sql_args(vm, fname, argc, argv, true, &sql, &params) && sqc_cursor_exec(vm, cur, sql, params);
}

static qval cur_fetch_one(qvm *vm, qval self, int argc, qval *argv)
{
    sqc_cursor *cur = sqc_self(vm, self);
    if (!cur || !cur_maybe_execute(vm, cur, "fetch_one", argc, argv))
        return qv_exc();
    if (!cur->rows || cur->pos >= cur->rows->len)
        return qv_nil();
    return cur->rows->items[cur->pos++];
}

static qarray *cur_take(qvm *vm, sqc_cursor *cur, int64_t n)
{
    uint32_t left = cur->rows ? cur->rows->len - cur->pos : 0;
    uint32_t take = n < 0 || n > left ? left : (uint32_t)n;
    qarray *a = arr_new(vm, take);
    for (uint32_t i = 0; i < take; i++)
        arr_push(vm, a, cur->rows->items[cur->pos++]);
    return a;
}

static qval cur_fetch_many(qvm *vm, qval self, int argc, qval *argv)
{
    sqc_cursor *cur = sqc_self(vm, self);
    int64_t n = 10;
    if (!cur || (argc && !arg_int(vm, "fetch_many", argv[0], &n)))
        return qv_exc();
    return qv_obj(cur_take(vm, cur, n < 0 ? 0 : n));
}

static qval cur_fetch_all(qvm *vm, qval self, int argc, qval *argv)
{
    sqc_cursor *cur = sqc_self(vm, self);
    if (!cur || !cur_maybe_execute(vm, cur, "fetch_all", argc, argv))
        return qv_exc();
    return qv_obj(cur_take(vm, cur, -1));
}

static qval cur_description(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    sqc_cursor *cur = sqc_self(vm, self);
    return cur ? cur->desc : qv_exc();
}

static qval cur_row_count(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    sqc_cursor *cur = sqc_self(vm, self);
    return cur ? qv_int(cur->row_count) : qv_exc();
}

static qval cur_last_row_id(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    sqc_cursor *cur = sqc_self(vm, self);
    return cur ? qv_int(cur->last_rowid) : qv_exc();
}

static qval cur_close(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    sqc_cursor *cur = sqc_self(vm, self);
    if (!cur)
        return qv_exc();
    cur->rows = NULL;
    cur->desc = qv_nil();
    return qv_nil();
}

static const qmethod_def sqc_cursor_methods[] = {
    {"execute", cur_execute, 1, -1, false},
    {"execute_many", cur_execute_many, 2, 2, false},
    {"fetch_one", cur_fetch_one, 0, -1, false},
    {"fetch_many", cur_fetch_many, 0, 1, false},
    {"fetch_all", cur_fetch_all, 0, -1, false},
    {"description", cur_description, 0, 0, false},
    {"row_count", cur_row_count, 0, 0, false},
    {"last_row_id", cur_last_row_id, 0, 0, false},
    {"close", cur_close, 0, 0, false},
    {NULL, NULL, 0, 0, false},
};

/* ---- Connection methods ------------------------------------------------------------------------- */

static qval conn_cursor(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    if (!sqc_open_conn(vm, self))
        return qv_exc();
    sqc_cursor *cur = calloc(1, sizeof *cur);
    if (!cur)
        return vm_raise(vm, E_RUNTIME, "out of memory");
    cur->conn = AS_CDATA(self);
    cur->desc = qv_nil();
    cur->row_count = -1;
    sqlite_state *st = ((sqc_connection *)AS_CDATA(self)->data)->state->data;
    return qv_obj(cdata_new(vm, st->cursor_type, &sqc_cursor_class, cur));
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
    qval n = sq_result_value(vm, &r, SQ_COUNT);
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
    st->cursor_type = vm_new_cdata_type(vm, "Cursor", sqc_cursor_methods);
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
