/* sqlite_internal.h — what the parts of std/db/sqlite share: the async
 * pool's entry point (sqlite_pool.c). */
#ifndef QUEST_SQLITE_INTERNAL_H
#define QUEST_SQLITE_INTERNAL_H

#include "modules/db/sqlite_exec.h"

/* sqlite.open(path, pool: N, timeout: s) -> Pool (self is the module
 * state). */
qval sqlite_pool_open(qvm *vm, qval self, int argc, qval *argv);

#endif
