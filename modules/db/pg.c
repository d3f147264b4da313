/* pg.c — std/db/postgres: the reference's synchronous API (a Connection
 * and its Cursors over blocking libpq), plus postgres.pool() for the async
 * pool (pg_pool.c).
 *
 *   let conn = postgres.connect("host=localhost dbname=app user=me")
 *   let cur = conn.cursor()
 *   cur.execute("INSERT INTO t (a, b) VALUES ($1, $2)", [1, "x"])
 *
 * A connection string is a libpq one: key=value pairs or a URL.  Calls
 * block the calling thread; in a server use the pool.
 */
#include <stdlib.h>
#include <string.h>

#include "modules/db/pg_internal.h"

/* ---- Connection --------------------------------------------------------------------------- */

typedef struct pgc_connection {
    PGconn *pg;      /* NULL once closed */
    qcdata *state;
} pgc_connection;

static void pgc_free(void *p)
{
    pgc_connection *k = p;
    PQfinish(k->pg);
    free(k);
}

static void pgc_mark(qvm *vm, void *p)
{
    vm_mark_obj(vm, (qobj *)((pgc_connection *)p)->state);
}

static const qcdata_class pgc_class = {"Connection", pgc_free, pgc_mark, NULL};

static PGconn *pgc_open_conn(qvm *vm, qval v)
{
    pgc_connection *k = cdata_get(vm, v, &pgc_class);
    if (!k)
        return NULL;
    if (!k->pg)
        db_raise(vm, DBE_PROGRAMMING, "Cannot operate on a closed connection");
    return k->pg;
}

static bool pgc_result_ok(PGresult *r)
{
    ExecStatusType st = PQresultStatus(r);
    return st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK || st == PGRES_EMPTY_QUERY;
}

/* Raise the error of a failed call (r may be NULL: the connection). */
static bool pgc_fail(qvm *vm, PGconn *pg, PGresult *r)
{
    if (r && PQresultErrorField(r, PG_DIAG_SQLSTATE))
        vm_raise_exc(vm, pg_result_exc(vm, r));
    else
        db_raise(vm, DBE_OPERATIONAL, "%s", PQerrorMessage(pg));
    PQclear(r);
    return false;
}

/* The parameter types of sql, from the server (for Array parameters). */
static PGresult *pgc_describe(qvm *vm, PGconn *pg, qstr *sql)
{
    PGresult *r = PQprepare(pg, "", sql->data, 0, NULL);
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK)
        return pgc_fail(vm, pg, r), NULL;
    PQclear(r);
    r = PQdescribePrepared(pg, "");
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK)
        return pgc_fail(vm, pg, r), NULL;
    return r;
}

/* Run sql: the simple protocol without parameters (several statements
 * allowed), the extended one with.  NULL after raising. */
static PGresult *pgc_exec(qvm *vm, PGconn *pg, qstr *sql, qval params)
{
    if (IS_NIL(params) || (IS_ARRAY(params) && AS_ARRAY(params)->len == 0)) {
        PGresult *r = PQexec(pg, sql->data);
        return r && pgc_result_ok(r) ? r : (pgc_fail(vm, pg, r), NULL);
    }
    PGresult *desc = NULL;
    Oid types[256];
    int ntypes = 0;
    if (pg_params_need_types(params)) {
        if (!(desc = pgc_describe(vm, pg, sql)))
            return NULL;
        ntypes = PQnparams(desc) < 256 ? PQnparams(desc) : 256;
        for (int i = 0; i < ntypes; i++)
            types[i] = PQparamtype(desc, i);
        PQclear(desc);
    }
    pg_params p;
    if (!pg_params_from(vm, params, types, ntypes, &p))
        return NULL;
    PGresult *r = PQexecParams(pg, sql->data, p.n, NULL, (const char *const *)p.values, p.lengths, p.formats, 0);
    pg_params_free(&p);
    return r && pgc_result_ok(r) ? r : (pgc_fail(vm, pg, r), NULL);
}

static bool pgc_cursor_exec(qvm *vm, qval conn, qstr *sql, qval params, db_exec_result *out)
{
    PGconn *pg = pgc_open_conn(vm, conn);
    PGresult *r = pg ? pgc_exec(vm, pg, sql, params) : NULL;
    if (!r)
        return false;
    bool ok = true;
    if (PQresultStatus(r) == PGRES_TUPLES_OK)
        ok = (out->rows = pg_result_rows(vm, r)) != NULL;
    out->desc = ok ? pg_result_description(vm, r) : qv_nil();
    out->count = pg_result_count(r);
    PQclear(r);
    return ok;
}

static qval conn_cursor(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    if (!pgc_open_conn(vm, self))
        return qv_exc();
    pg_state *st = ((pgc_connection *)AS_CDATA(self)->data)->state->data;
    return db_cursor_new(vm, st->cursor_type, self, pgc_cursor_exec);
}

static qval conn_execute(qvm *vm, qval self, int argc, qval *argv)
{
    PGconn *pg = pgc_open_conn(vm, self);
    qstr *sql;
    qval params;
    if (!pg || !db_sql_args(vm, "execute", argc, argv, true, &sql, &params))
        return qv_exc();
    PGresult *r = pgc_exec(vm, pg, sql, params);
    if (!r)
        return qv_exc();
    int64_t n = pg_result_count(r);
    PQclear(r);
    return qv_int(n);
}

/* COMMIT / ROLLBACK; outside a transaction the server only warns. */
static qval conn_sql(qvm *vm, qval self, const char *sql)
{
    PGconn *pg = pgc_open_conn(vm, self);
    PGresult *r = pg ? pgc_exec(vm, pg, str_cstr(vm, sql), qv_nil()) : NULL;
    if (!r)
        return qv_exc();
    PQclear(r);
    return qv_nil();
}

static qval conn_commit(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return conn_sql(vm, self, "COMMIT");
}

static qval conn_rollback(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return conn_sql(vm, self, "ROLLBACK");
}

static qval conn_close(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    pgc_connection *k = cdata_get(vm, self, &pgc_class);
    if (!k)
        return qv_exc();
    PQfinish(k->pg);
    k->pg = NULL;
    return qv_nil();
}

static qval conn_enter(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return pgc_open_conn(vm, self) ? self : qv_exc();
}

static const qmethod_def pgc_methods[] = {
    {"cursor", conn_cursor, 0, 0, false},
    {"execute", conn_execute, 1, -1, false},
    {"commit", conn_commit, 0, 0, false},
    {"rollback", conn_rollback, 0, 0, false},
    {"close", conn_close, 0, 0, false},
    {"_enter", conn_enter, 0, 0, false},
    {"_exit", conn_close, 0, -1, false},
    {NULL, NULL, 0, 0, false},
};

/* ---- the module --------------------------------------------------------------------------------- */

static qval pg_connect(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qstr *info;
    if (!arg_str(vm, "postgres.connect", argv[0], &info))
        return qv_exc();
    pg_conn_params cp;
    char err[512];
    if (!pg_conn_params_make(info->data, NULL, &cp, err, sizeof err))
        return db_raise(vm, DBE_PROGRAMMING, "%s", err);
    PGconn *pg = PQconnectdbParams((const char *const *)cp.keys, (const char *const *)cp.values, 0);
    pg_conn_params_free(&cp);
    if (!pg || PQstatus(pg) != CONNECTION_OK) {
        qval e = db_raise(vm, DBE_OPERATIONAL, "%s", pg ? PQerrorMessage(pg) : "out of memory");
        PQfinish(pg);
        return e;
    }
    pg_quiet_notices(pg);
    pgc_connection *k = malloc(sizeof *k);
    if (!k) {
        PQfinish(pg);
        return vm_raise(vm, E_RUNTIME, "out of memory");
    }
    k->pg = pg;
    k->state = AS_CDATA(self);
    pg_state *st = k->state->data;
    return qv_obj(cdata_new(vm, st->conn_type, &pgc_class, k));
}

static void pg_state_mark(qvm *vm, void *p)
{
    pg_state *st = p;
    vm_mark_obj(vm, (qobj *)st->conn_type);
    vm_mark_obj(vm, (qobj *)st->cursor_type);
    vm_mark_obj(vm, (qobj *)st->pool_type);
    vm_mark_obj(vm, (qobj *)st->lease_type);
}

static const qcdata_class pg_state_class = {"PostgresModule", free, pg_state_mark, NULL};

static const qmethod_def pg_fns[] = {
    {"connect", pg_connect, 1, 1, false},
    {"pool", pg_pool_open, 1, 1, true},
    {NULL, NULL, 0, 0, false},
};

bool postgres_module_init(qvm *vm, qmodule *m)
{
    pg_state *st = calloc(1, sizeof *st);
    if (!st) {
        vm_raise(vm, E_RUNTIME, "out of memory");
        return false;
    }
    st->conn_type = vm_new_cdata_type(vm, "Connection", pgc_methods);
    st->cursor_type = vm_new_cdata_type(vm, "Cursor", db_cursor_methods);
    st->pool_type = vm_new_cdata_type(vm, "Pool", pg_pool_methods);
    st->lease_type = vm_new_cdata_type(vm, "PoolConn", pg_lease_methods);
    /* Module functions are bound to this state; the objects they make
     * keep it alive. */
    qcdata *state = cdata_new(vm, vm_new_cdata_type(vm, "PostgresModule", NULL), &pg_state_class, st);
    for (const qmethod_def *d = pg_fns; d->name; d++) {
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
