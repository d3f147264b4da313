/* db.h — what std/db/sqlite and std/db/postgres share: the error family,
 * the parsing of (sql, params) arguments, the async pools' bookkeeping
 * (a per-VM list of live pools shut down at vm_free, lease guards) and the
 * Quest-side transaction helper.
 *
 * Errors: DatabaseErr (a child of Err) with the children IntegrityErr
 * (constraint violations), OperationalErr (connection, locking, I/O,
 * cancellation by the server), ProgrammingErr (bad SQL, missing tables,
 * wrong parameter counts) and DataErr (bad values).  `catch e: DatabaseErr`
 * catches all four.  The reference's names (DatabaseError, IntegrityError
 * ...) are exported as aliases of the same types.
 */
#ifndef QUEST_DB_H
#define QUEST_DB_H

#include "vm/vm.h"

typedef enum {
    DBE_DATABASE, DBE_INTEGRITY, DBE_OPERATIONAL, DBE_PROGRAMMING, DBE_DATA, DBE__COUNT
} db_err_kind;

/* A live async pool, as the per-VM runtime sees it: shut down (handles
 * closed, connections finished) at vm_free if still open then. */
typedef struct db_pool_link {
    struct db_pool_link *prev, *next;
    void (*shutdown)(struct db_pool_link *link);
} db_pool_link;

/* Export the error types (and their reference aliases) into a module. */
void db_export_errors(qvm *vm, qmodule *m);
qtype *db_err_type(qvm *vm, db_err_kind kind);
/* Raise / build an exception of the family; db_raise returns qv_exc(). */
qval db_raise(qvm *vm, db_err_kind kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
qexc *db_exc(qvm *vm, db_err_kind kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* An async method's failure that is the database's, not the caller's
 * (the pool is closed): a Task already failed with it. */
qval db_failed_task(qvm *vm, db_err_kind kind, const char *msg);

/* What a query call returns: all rows (Array of Dicts), the first row
 * (Dict or nil), the first column of the first row, or the count of rows
 * changed (returned, for statements with rows). */
typedef enum { DB_ROWS, DB_ONE, DB_VAL, DB_COUNT } db_shape;

/* ---- the synchronous cursor (db_cursor.c) ----
 * A driver runs a statement for a Cursor through its exec function, which
 * fills the result (rows: NULL when the statement returned no columns;
 * desc: the description or nil) or raises. */
typedef struct db_exec_result {
    qarray *rows;
    qval desc;
    int64_t count;       /* rows returned, or rows changed */
    int64_t last_rowid;  /* SQLite's last insert rowid (0 elsewhere) */
} db_exec_result;
typedef bool (*db_exec_fn)(qvm *vm, qval conn, qstr *sql, qval params, db_exec_result *out);

/* A Cursor of connection conn (its Connection value). */
qval db_cursor_new(qvm *vm, qtype *cursor_type, qval conn, db_exec_fn exec);
extern const qmethod_def db_cursor_methods[];

/* Register / unregister a pool with the VM's runtime. */
void db_pool_register(qvm *vm, db_pool_link *link);
void db_pool_unregister(db_pool_link *link);

/* (sql, params...) as the drivers accept them: no params, one Array
 * (positional), one Dict (named), or with `variadic` any other values
 * collected into a fresh Array.  *params is nil, an Array or a Dict. */
bool db_sql_args(qvm *vm, const char *fname, int argc, qval *argv, bool variadic, qstr **sql,
                 qval *params);

/* Seconds from a keyword argument (nil when absent): false after raising. */
bool db_kw_seconds(qvm *vm, qdict *kw, const char *fname, const char *key, double *out);
bool db_kw_int(qvm *vm, qdict *kw, const char *fname, const char *key, int64_t *out);

/* The str() text of a value for use as SQL text (Decimal, Uuid, times);
 * NULL after raising. */
qstr *db_text_of(qvm *vm, qval v);
/* The std/time class name of v ("Timestamp", "Zoned", "Date", "Time",
 * "Span") or NULL. */
const char *db_time_kind(qval v);
/* A std/time value made by calling time.<fn>(arg). */
qval db_time_call(qvm *vm, const char *fn, qval arg);

/* await pool.transaction(fun (tx) ... end): runs the Quest helper of
 * std/db/pool with (pool, body). */
qval db_transaction(qvm *vm, qval pool, qval body);

/* A lease guard: a pending task owned by the running task's scope, so
 * that the end of a request (or of the program) cancels it; its cancel
 * function then releases what was leased.  Resolve it with
 * db_guard_done() when the lease ends normally. */
qtask *db_guard_new(qvm *vm, qtask_cancel_fn on_end, void *data);
void db_guard_done(qvm *vm, qtask *guard);

#endif
