/* db_cursor.c — the Cursor of the synchronous API, shared by the drivers:
 * execute() runs a statement through the driver and keeps its rows, which
 * fetch_one/fetch_many/fetch_all then hand out.
 *
 *   cur.execute(sql, params?)           params: Array, Dict, or values
 *   cur.fetch_one(sql?, params?)        with SQL: execute first
 *   cur.fetch_many(n = 10), cur.fetch_all(sql?, params?)
 *   cur.execute_many(sql, [params, ...])
 *   cur.description(), cur.row_count(), cur.last_row_id(), cur.close()
 */
#include <stdlib.h>

#include "modules/db/db.h"

typedef struct db_cursor {
    qval conn;          /* the Connection */
    qarray *rows;       /* rows of the last statement, or NULL */
    uint32_t pos;       /* next row to fetch */
    qval desc;          /* description Array or nil */
    int64_t row_count;  /* -1 before the first execute */
    int64_t last_rowid;
} db_cursor;

static void cursor_mark(qvm *vm, void *p)
{
    db_cursor *cur = p;
    vm_mark_value(vm, cur->conn);
    vm_mark_obj(vm, (qobj *)cur->rows);
    vm_mark_value(vm, cur->desc);
}

static const qcdata_class cursor_class = {"Cursor", free, cursor_mark, NULL};

qval db_cursor_new(qvm *vm, qtype *cursor_type, qval conn)
{
    db_cursor *cur = calloc(1, sizeof *cur);
    if (!cur)
        return vm_raise(vm, E_RUNTIME, "out of memory");
    cur->conn = conn;
    cur->desc = qv_nil();
    cur->row_count = -1;
    return qv_obj(cdata_new(vm, cursor_type, &cursor_class, cur));
}

static db_cursor *cursor_self(qvm *vm, qval self)
{
    return cdata_get(vm, self, &cursor_class);
}

static bool cursor_exec(qvm *vm, db_cursor *cur, qstr *sql, qval params)
{
    db_exec_result r = {NULL, qv_nil(), 0, 0};
    if (!db_conn_exec(vm, cur->conn, sql, params, true, &r))
        return false;
    cur->rows = r.rows;
    cur->pos = 0;
    cur->desc = r.desc;
    cur->row_count = r.count;
    cur->last_rowid = r.last_rowid;
    return true;
}

static qval cur_execute(qvm *vm, qval self, int argc, qval *argv)
{
    db_cursor *cur = cursor_self(vm, self);
    qstr *sql;
    qval params;
    if (!cur || !db_sql_args(vm, "execute", argc, argv, true, &sql, &params))
        return qv_exc();
    return cursor_exec(vm, cur, sql, params) ? qv_nil() : qv_exc();
}

static qval cur_execute_many(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    db_cursor *cur = cursor_self(vm, self);
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
        if (!cursor_exec(vm, cur, sql, p))
            return qv_exc();
        total += cur->row_count;
    }
    cur->rows = NULL;
    cur->desc = qv_nil();
    cur->row_count = total;
    return qv_nil();
}

/* fetch_one()/fetch_all() with arguments execute first. */
static bool cur_maybe_execute(qvm *vm, db_cursor *cur, const char *fname, int argc, qval *argv)
{
    if (argc == 0)
        return true;
    qstr *sql;
    qval params;
    return db_sql_args(vm, fname, argc, argv, true, &sql, &params) && cursor_exec(vm, cur, sql, params);
}

static qval cur_fetch_one(qvm *vm, qval self, int argc, qval *argv)
{
    db_cursor *cur = cursor_self(vm, self);
    if (!cur || !cur_maybe_execute(vm, cur, "fetch_one", argc, argv))
        return qv_exc();
    if (!cur->rows || cur->pos >= cur->rows->len)
        return qv_nil();
    return cur->rows->items[cur->pos++];
}

static qarray *cur_take(qvm *vm, db_cursor *cur, int64_t n)
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
    db_cursor *cur = cursor_self(vm, self);
    int64_t n = 10;
    if (!cur || (argc && !arg_int(vm, "fetch_many", argv[0], &n)))
        return qv_exc();
    return qv_obj(cur_take(vm, cur, n < 0 ? 0 : n));
}

static qval cur_fetch_all(qvm *vm, qval self, int argc, qval *argv)
{
    db_cursor *cur = cursor_self(vm, self);
    if (!cur || !cur_maybe_execute(vm, cur, "fetch_all", argc, argv))
        return qv_exc();
    return qv_obj(cur_take(vm, cur, -1));
}

static qval cur_description(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    db_cursor *cur = cursor_self(vm, self);
    return cur ? cur->desc : qv_exc();
}

static qval cur_row_count(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    db_cursor *cur = cursor_self(vm, self);
    return cur ? qv_int(cur->row_count) : qv_exc();
}

static qval cur_last_row_id(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    db_cursor *cur = cursor_self(vm, self);
    return cur ? qv_int(cur->last_rowid) : qv_exc();
}

static qval cur_close(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    db_cursor *cur = cursor_self(vm, self);
    if (!cur)
        return qv_exc();
    cur->rows = NULL;
    cur->desc = qv_nil();
    return qv_nil();
}

const qmethod_def db_cursor_methods[] = {
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
