/* sqlite_exec.h — running SQL on one sqlite3 connection, independent of
 * the thread: parameters are plain C values copied from Quest values on
 * the loop thread, results come back as C values, and Quest values are
 * built from them on the loop thread again.  The synchronous cursor API
 * (sqlite.c) and the async pool (sqlite_pool.c) share it.
 */
#ifndef QUEST_SQLITE_EXEC_H
#define QUEST_SQLITE_EXEC_H

#include <sqlite3.h>

#include "modules/db/db.h"

typedef enum { SQV_NULL, SQV_INT, SQV_FLOAT, SQV_TEXT, SQV_BLOB } sq_vtype;

typedef struct sq_val {
    uint8_t type;   /* sq_vtype */
    int64_t i;
    double f;
    char *p;        /* TEXT / BLOB bytes, owned (TEXT is NUL-terminated) */
    size_t n;
} sq_val;

/* Parameters: positional when names is NULL, else named (Dict keys). */
typedef struct sq_params {
    uint32_t n;
    sq_val *vals;
    char **names;
} sq_params;

/* A result cell: TEXT and BLOB bytes live in the result's arena. */
typedef struct sq_cell {
    uint8_t type;   /* sq_vtype */
    int64_t i;
    double f;
    size_t off, n;  /* in the arena */
} sq_cell;

#define SQ_NONE ((size_t)-1)

/* What a run produced: the columns and rows of the last statement that
 * returned columns, the rows changed, or an error.  Every byte (names,
 * declared types, text) is in one arena: a query allocates a few blocks,
 * not one per value. */
typedef struct sq_result {
    int ncols;
    size_t *cols;       /* 2 * ncols arena offsets: name, declared type (SQ_NONE: none) */
    size_t nrows, cap;
    sq_cell *cells;     /* nrows * ncols */
    char *arena;
    size_t arena_len, arena_cap;
    int64_t changes;
    int64_t last_rowid;
    bool has_cols;
    bool readonly;      /* every statement was read-only */
    int err;            /* SQLITE_OK, or the (extended) result code */
    db_err_kind err_kind;
    char *errmsg;
} sq_result;

/* Cached prepared statements of one connection (used by one thread at a
 * time, like the connection). */
#define SQ_CACHE_SIZE 32
typedef struct sq_cached {
    char *sql;
    size_t len;
    sqlite3_stmt *st;
    uint64_t used;
} sq_cached;

typedef struct sq_conn {
    sqlite3 *db;
    sq_cached cache[SQ_CACHE_SIZE];
    uint64_t clock;
} sq_conn;

/* Open path with the settings every quest connection gets (busy timeout;
 * with wal, journal_mode=WAL and synchronous=NORMAL).  NULL with the
 * reason in err on failure. */
sq_conn *sq_open(const char *path, bool wal, bool nomutex, char *err, size_t errlen);
void sq_close(sq_conn *c);

/* Loop thread: copy Quest parameters (nil, an Array or a Dict) into C
 * values.  False after raising. */
bool sq_params_from(qvm *vm, qval params, sq_params *out);
void sq_params_free(sq_params *p);

/* Any thread: run sql (one or several statements; the parameters go to
 * the first) and fill r.  Always call sq_result_free afterwards. */
void sq_run(sq_conn *c, const char *sql, size_t len, const sq_params *p, sq_result *r);
void sq_result_free(sq_result *r);

/* Loop thread: Quest values of a result. */
qval sq_result_value(qvm *vm, const sq_result *r, db_shape shape);
/* Array of row Dicts from row `from` on. */
qarray *sq_result_rows(qvm *vm, const sq_result *r, size_t from);
/* The description Array, or nil when the statement returned no columns. */
qval sq_result_description(qvm *vm, const sq_result *r);
/* The error of a failed run as an exception of the DatabaseErr family. */
qexc *sq_result_exc(qvm *vm, const sq_result *r);

#endif
