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

/* ---- the Connection's driver ------------------------------------------------------------------ */

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

static bool pgc_exec_into(qvm *vm, void *handle, qstr *sql, qval params, bool rows, db_exec_result *out)
{
    PGresult *r = pgc_exec(vm, handle, sql, params);
    if (!r)
        return false;
    bool ok = true;
    if (rows && PQresultStatus(r) == PGRES_TUPLES_OK)
        ok = (out->rows = pg_result_rows(vm, r)) != NULL;
    if (rows && ok)
        out->desc = pg_result_description(vm, r);
    out->count = pg_result_count(r);
    PQclear(r);
    return ok;
}

/* COMMIT / ROLLBACK; outside a transaction the server only warns. */
static bool pgc_end_tx(qvm *vm, void *handle, const char *sql)
{
    PGresult *r = pgc_exec(vm, handle, str_cstr(vm, sql), qv_nil());
    PQclear(r);
    return r != NULL;
}

static void pgc_close(void *handle)
{
    PQfinish(handle);
}

static const db_conn_driver pgc_driver = {
    .closed_msg = "Cannot operate on a closed connection",
    .exec = pgc_exec_into,
    .end_tx = pgc_end_tx,
    .close = pgc_close,
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
    return db_conn_new(vm, self, &pgc_driver, pg);
}

static const qmethod_def pg_fns[] = {
    {"connect", pg_connect, 1, 1, false},
    {"pool", pg_pool_open, 1, 1, true},
    {NULL, NULL, 0, 0, false},
};

bool postgres_module_init(qvm *vm, qmodule *m)
{
    db_state *st = db_module_init(vm, m, "PostgresModule", pg_fns);
    if (st)
        vm_add_methods(vm, st->pool_type, pg_pool_extra_methods);
    return st != NULL;
}
