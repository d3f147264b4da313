/* db_conn.c — the Connection of the synchronous API, shared by the
 * drivers: a blocking handle (sqlite3, PGconn) behind the reference's
 * methods.
 *
 *   let conn = sqlite.connect(path)       (or postgres.connect(conninfo))
 *   conn.execute(sql, params?)            rows changed (or returned)
 *   conn.cursor(), conn.commit(), conn.rollback(), conn.close()
 *   with ... as conn ... end              closes at the end of the block
 */
#include <stdlib.h>

#include "modules/db/db.h"

typedef struct db_conn {
    void *handle;      /* NULL once closed */
    const db_conn_driver *drv;
    qcdata *state;     /* the module's state (its types) */
} db_conn;

static void conn_free(void *p)
{
    db_conn *k = p;
    if (k->handle)
        k->drv->close(k->handle);
    free(k);
}

static void conn_mark(qvm *vm, void *p)
{
    vm_mark_obj(vm, (qobj *)((db_conn *)p)->state);
}

static const qcdata_class conn_class = {"Connection", conn_free, conn_mark, NULL};

qval db_conn_new(qvm *vm, qval self, const db_conn_driver *drv, void *handle)
{
    db_conn *k = malloc(sizeof *k);
    if (!k) {
        drv->close(handle);
        return vm_raise(vm, E_RUNTIME, "out of memory");
    }
    k->handle = handle;
    k->drv = drv;
    k->state = AS_CDATA(self);
    db_state *st = k->state->data;
    return qv_obj(cdata_new(vm, st->conn_type, &conn_class, k));
}

/* The Connection of v, open; NULL after raising. */
static db_conn *conn_open(qvm *vm, qval v)
{
    db_conn *k = cdata_get(vm, v, &conn_class);
    if (k && !k->handle) {
        db_raise(vm, DBE_PROGRAMMING, "%s", k->drv->closed_msg);
        return NULL;
    }
    return k;
}

bool db_conn_exec(qvm *vm, qval conn, qstr *sql, qval params, bool rows, db_exec_result *out)
{
    db_conn *k = conn_open(vm, conn);
    return k && k->drv->exec(vm, k->handle, sql, params, rows, out);
}

static qval conn_cursor(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    db_conn *k = conn_open(vm, self);
    if (!k)
        return qv_exc();
    return db_cursor_new(vm, ((db_state *)k->state->data)->cursor_type, self);
}

static qval conn_execute(qvm *vm, qval self, int argc, qval *argv)
{
    qstr *sql;
    qval params;
    db_exec_result r = {NULL, qv_nil(), 0, 0};
    if (!db_sql_args(vm, "execute", argc, argv, true, &sql, &params) ||
        !db_conn_exec(vm, self, sql, params, false, &r))
        return qv_exc();
    return qv_int(r.count);
}

static qval conn_end_tx(qvm *vm, qval self, const char *sql)
{
    db_conn *k = conn_open(vm, self);
    return k && k->drv->end_tx(vm, k->handle, sql) ? qv_nil() : qv_exc();
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
    db_conn *k = cdata_get(vm, self, &conn_class);
    if (!k)
        return qv_exc();
    if (k->handle)
        k->drv->close(k->handle);
    k->handle = NULL;
    return qv_nil();
}

static qval conn_enter(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return conn_open(vm, self) ? self : qv_exc();
}

const qmethod_def db_conn_methods[] = {
    {"cursor", conn_cursor, 0, 0, false},
    {"execute", conn_execute, 1, -1, false},
    {"commit", conn_commit, 0, 0, false},
    {"rollback", conn_rollback, 0, 0, false},
    {"close", conn_close, 0, 0, false},
    {"_enter", conn_enter, 0, 0, false},
    {"_exit", conn_close, 0, -1, false},
    {NULL, NULL, 0, 0, false},
};
