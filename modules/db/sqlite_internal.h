/* sqlite_internal.h — what the parts of std/db/sqlite share: the module
 * state (its classes) and the async pool's entry points (sqlite_pool.c). */
#ifndef QUEST_SQLITE_INTERNAL_H
#define QUEST_SQLITE_INTERNAL_H

#include "modules/db/sqlite_exec.h"

/* The module's state: a cdata to which the module functions are bound and
 * which every object it makes keeps alive. */
typedef struct sqlite_state {
    qtype *conn_type, *cursor_type, *pool_type, *lease_type;
} sqlite_state;

/* sqlite.open(path, pool: N, timeout: s) -> Pool (self is the state). */
qval sqlite_pool_open(qvm *vm, qval self, int argc, qval *argv);
extern const qmethod_def sqlite_pool_methods[];
extern const qmethod_def sqlite_lease_methods[];

#endif
