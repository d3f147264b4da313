/* async.h — the parts of std/async shared by its files: async.c (timers,
 * spawning, channels, task-locals), async_join.c (timeout, join_all and
 * the races) and async_group.c (task groups). */
#ifndef QUEST_MODULES_ASYNC_H
#define QUEST_MODULES_ASYNC_H

#include "modules/modules.h"

/* A Task from a Task or a function to call (spawn, block_on, timeout): a
 * function that returns a Task gives that Task, one that returns a plain
 * value gives a finished Task.  fresh: the new task starts with no
 * task-locals (spawn).  qv_exc() after raising. */
qval async_start(qvm *vm, const char *fname, qval task_or_fn, bool fresh);
/* The exception a failed task finished with (a CancelledErr if it was
 * cancelled), without disturbing an exception pending in the VM. */
qexc *async_failure(qvm *vm, qtask *t);
/* Seconds from a Quest number: finite and >= 0.  False after raising. */
bool async_seconds(qvm *vm, const char *fname, qval v, double *out);
/* The name: keyword of spawn-like functions (nil when absent). */
bool async_name_kw(qvm *vm, const char *fname, qval *out);

void async_join_export(qvm *vm, qmodule *m);
void async_group_export(qvm *vm, qmodule *m);

#endif
