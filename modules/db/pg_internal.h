/* pg_internal.h — what the parts of std/db/postgres share: the async
 * pool's entry points (pg_pool.c). */
#ifndef QUEST_PG_INTERNAL_H
#define QUEST_PG_INTERNAL_H

#include "modules/db/pg_types.h"

/* await postgres.pool(url, max:, min:, timeout:, idle_timeout:,
 * max_lifetime:, batch:) -> Pool (self is the module state). */
qval pg_pool_open(qvm *vm, qval self, int argc, qval *argv);
/* The Pool methods only PostgreSQL has (listen). */
extern const qmethod_def pg_pool_extra_methods[];

#endif
