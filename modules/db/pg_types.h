/* pg_types.h — PostgreSQL values to and from Quest, connection
 * parameters, and error classes: what the synchronous connection (pg.c)
 * and the async pool (pg_pool.c) share.
 *
 * Parameters go as text (Bytes as binary) with their types left for the
 * server to infer; results come back as text and are decoded by column
 * type.  Every connection runs with DateStyle=ISO, IntervalStyle=iso_8601
 * and bytea_output=hex, so that the text forms are the ones decoded here.
 */
#ifndef QUEST_PG_TYPES_H
#define QUEST_PG_TYPES_H

#include <libpq-fe.h>

#include "modules/db/db.h"

/* Parameters as libpq takes them (values[i] NULL for SQL NULL). */
typedef struct pg_params {
    int n;
    char **values;     /* one block with lengths and formats */
    int *lengths;
    int *formats;
    char *text;        /* the values' bytes */
} pg_params;

/* Does converting these parameters need the statement's parameter types
 * (an Array goes as a PostgreSQL array or as JSON depending on them)? */
bool pg_params_need_types(qval params);
/* Convert nil or an Array of parameters; types (ntypes entries, may be
 * NULL) are the statement's parameter types when known.  False after
 * raising. */
bool pg_params_from(qvm *vm, qval params, const Oid *types, int ntypes, pg_params *out);
void pg_params_free(pg_params *p);

/* Quest values of a result (PGRES_TUPLES_OK or PGRES_COMMAND_OK). */
qval pg_result_value(qvm *vm, const PGresult *r, db_shape shape);
qarray *pg_result_rows(qvm *vm, const PGresult *r);
qval pg_result_description(qvm *vm, const PGresult *r);
/* Rows affected (or returned), for row_count and execute(). */
int64_t pg_result_count(const PGresult *r);
/* A failed result as an exception of the DatabaseErr family. */
qexc *pg_result_exc(qvm *vm, const PGresult *r);
/* The SQLSTATE of a failed result ("" if none). */
const char *pg_result_sqlstate(const PGresult *r);

/* Connection keywords and values for PQconnect*Params: conninfo (a URL or
 * key=value pairs) plus quest's session settings, and hostaddr when given
 * (an address already resolved).  Returns false with the reason in err;
 * free with pg_conn_params_free. */
typedef struct pg_conn_params {
    char **keys, **values;  /* NULL-terminated */
    char *host;             /* the host to resolve (NULL: none or not a name) */
} pg_conn_params;

bool pg_conn_params_make(const char *conninfo, const char *hostaddr, pg_conn_params *out, char *err,
                         size_t errlen);
void pg_conn_params_free(pg_conn_params *p);

/* Discard server notices (libpq prints them to stderr by default). */
void pg_quiet_notices(PGconn *c);

#endif
