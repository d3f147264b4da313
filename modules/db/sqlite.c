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

/* ---- the Connection's driver ------------------------------------------------------------------ */

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

static bool sqc_exec(qvm *vm, void *handle, qstr *sql, qval params, bool rows, db_exec_result *out)
{
    sq_result r;
    if (!sqc_run(vm, handle, sql, params, &r))
        return false;
    if (rows) {
        out->rows = r.has_cols ? sq_result_rows(vm, &r, 0) : NULL;
        out->desc = sq_result_description(vm, &r);
    }
    out->count = r.has_cols ? (int64_t)r.nrows : r.changes;
    out->last_rowid = r.last_rowid;
    sq_result_free(&r);
    return true;
}

/* COMMIT / ROLLBACK when a transaction is open; nothing otherwise (the
 * connection is in autocommit mode until BEGIN). */
static bool sqc_end_tx(qvm *vm, void *handle, const char *sql)
{
    sq_conn *c = handle;
    sq_result r;
    if (sqlite3_get_autocommit(c->db))
        return true;
    if (!sqc_run(vm, c, str_cstr(vm, sql), qv_nil(), &r))
        return false;
    sq_result_free(&r);
    return true;
}

static void sqc_close(void *handle)
{
    sq_close(handle);
}

static const db_conn_driver sqc_driver = {
    .closed_msg = "Cannot operate on a closed database",
    .exec = sqc_exec,
    .end_tx = sqc_end_tx,
    .close = sqc_close,
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
    return db_conn_new(vm, self, &sqc_driver, c);
}

static qval sqlite_version(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc, (void)argv;
    return qv_obj(str_cstr(vm, sqlite3_libversion()));
}

static const qmethod_def sqlite_fns[] = {
    {"connect", sqlite_connect, 1, 1, false},
    {"version", sqlite_version, 0, 0, false},
    {"open", sqlite_pool_open, 1, 1, true},
    {NULL, NULL, 0, 0, false},
};

bool sqlite_module_init(qvm *vm, qmodule *m)
{
    return db_module_init(vm, m, "SqliteModule", sqlite_fns) != NULL;
}
