/* pg_internal.h — what the parts of std/db/postgres share: the module
 * state (its classes) and the async pool's entry points (pg_pool.c). */
#ifndef QUEST_PG_INTERNAL_H
#define QUEST_PG_INTERNAL_H

#include "modules/db/pg_types.h"

/* The module's state: a cdata to which the module functions are bound and
 * which every object it makes keeps alive. */
typedef struct pg_state {
    qtype *conn_type, *cursor_type, *pool_type, *lease_type;
} pg_state;

/* await postgres.pool(url, max:, min:, timeout:, idle_timeout:,
 * max_lifetime:) -> Pool (self is the state). */
qval pg_pool_open(qvm *vm, qval self, int argc, qval *argv);
extern const qmethod_def pg_pool_methods[];
extern const qmethod_def pg_lease_methods[];

#endif
