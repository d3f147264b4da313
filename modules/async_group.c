/* async_group.c — std/async task groups (structured concurrency).
 *
 *     async with async.task_group() as g
 *         g.spawn(fun () fetch(1) end)
 *         g.spawn(fun () fetch(2) end)
 *     end                      # waits for both; the first failure cancels
 *                              # the other and is raised here
 *
 * A group watches its children through one native task, made at the first
 * spawn.  That task finishes once the group is closed (_exit or wait) and
 * every child is done: with nil, or with the first child failure.  A child
 * that ends cancelled is not a failure.  Cancelling the task that waits in
 * _exit cancels the children.
 */
#include <stdlib.h>

#include "modules/async.h"

typedef struct group {
    qtask *watch;       /* NULL until the first unfinished child */
    qarray *children;   /* every task spawned, in order */
    qexc *error;        /* the first child failure */
    int64_t pending;    /* unfinished children */
    bool closed;        /* _exit or wait was called: no more spawns */
} group;

static void group_mark(qvm *vm, void *data)
{
    group *g = data;
    vm_mark_obj(vm, (qobj *)g->watch);
    vm_mark_obj(vm, (qobj *)g->children);
    vm_mark_obj(vm, (qobj *)g->error);
}

static const qcdata_class group_class = {"TaskGroup", free, group_mark, NULL};

static void cancel_children(qvm *vm, group *g)
{
    for (uint32_t i = 0; i < g->children->len; i++)
        task_cancel(vm, task_of(g->children->items[i]));
}

/* A child finished: a failure is kept (the first one) and cancels the rest. */
static void child_done(qvm *vm, group *g, qtask *child)
{
    if (!task_failed(child) || g->error)
        return;
    qexc *e = async_failure(vm, child);
    if (e->type == vm_err_type(vm, E_CANCELLED))
        return;
    g->error = e;
    cancel_children(vm, g);
}

static void maybe_finish(qvm *vm, group *g)
{
    if (!g->closed || g->pending || !g->watch || task_is_done(g->watch))
        return;
    if (g->error)
        task_reject(vm, g->watch, g->error);
    else
        task_resolve(vm, g->watch, qv_nil());
}

static void watch_wake(qvm *vm, qtask *watch, qtask *child)
{
    group *g = task_data(watch);
    g->pending--;
    child_done(vm, g, child);
    maybe_finish(vm, g);
}

static void watch_cancel(qvm *vm, qtask *watch, void *data)
{
    (void)watch;
    group *g = data;
    g->closed = true;
    cancel_children(vm, g);
}

static group *self_group(qvm *vm, qval self)
{
    return cdata_get(vm, self, &group_class);
}

/* ---- methods ------------------------------------------------------------------ */

static qval tg_spawn(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    group *g = self_group(vm, self);
    if (!g)
        return qv_exc();
    if (g->closed)
        return vm_raise(vm, E_RUNTIME, "TaskGroup.spawn: the group is closed");
    qval name;
    if (!async_name_kw(vm, "TaskGroup.spawn", &name))
        return qv_exc();
    qval t = async_start(vm, "TaskGroup.spawn", argv[0], true);
    if (IS_EXC(t))
        return t;
    qtask *child = task_of(t);
    if (IS_STR(name))
        vm_task_set_name(child, AS_STR(name));
    arr_push(vm, g->children, t);
    if (task_is_done(child)) {
        child_done(vm, g, child);
        return t;
    }
    if (!g->watch) {
        g->watch = task_new_pending(vm, "task_group");
        task_hold(g->watch, self);
        task_set_data(g->watch, g);
        task_set_wake(g->watch, watch_wake);
        task_set_cancel(g->watch, watch_cancel, g);
    }
    g->pending++;
    task_watch(vm, g->watch, child);
    return t;
}

/* Close the group and wait for the children: a Task to await inside a
 * task; outside any task (a script's top level) the wait blocks here.
 * `done` is what a finished wait gives (_exit: false, "don't suppress"). */
static qval group_wait(qvm *vm, qval self, qval done)
{
    group *g = self_group(vm, self);
    if (!g)
        return qv_exc();
    g->closed = true;
    maybe_finish(vm, g);
    if (g->pending == 0)
        return g->error ? vm_raise_exc(vm, g->error) : done;
    if (vm_current_task(vm))
        return task_value(g->watch);
    qval r = vm_block_on(vm, task_value(g->watch));
    return IS_EXC(r) ? r : done;
}

static qval tg_wait(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return group_wait(vm, self, qv_nil());
}

static qval tg_enter(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return self;
}

static qval tg_exit(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return group_wait(vm, self, qv_bool(false));
}

static qval tg_cancel(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    group *g = self_group(vm, self);
    if (!g)
        return qv_exc();
    cancel_children(vm, g);
    return qv_nil();
}

static qval tg_tasks(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    group *g = self_group(vm, self);
    if (!g)
        return qv_exc();
    qarray *a = arr_new(vm, g->children->len);
    for (uint32_t i = 0; i < g->children->len; i++)
        arr_push(vm, a, g->children->items[i]);
    return qv_obj(a);
}

static const qmethod_def group_methods[] = {
    {"spawn", tg_spawn, 1, 1, true},
    {"wait", tg_wait, 0, 0, false},
    {"cancel", tg_cancel, 0, 0, false},
    {"tasks", tg_tasks, 0, 0, false},
    {"_enter", tg_enter, 0, 0, false},
    {"_exit", tg_exit, 0, 0, false},
    {NULL, NULL, 0, 0, false},
};

/* async.task_group(): self is the TaskGroup type (bound at export). */
static qval as_task_group(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    group *g = calloc(1, sizeof *g);
    if (!g)
        return vm_raise(vm, E_RUNTIME, "out of memory");
    g->children = arr_new(vm, 0);
    return qv_obj(cdata_new(vm, AS_TYPE(self), &group_class, g));
}

void async_group_export(qvm *vm, qmodule *m)
{
    qtype *t = vm_new_cdata_type(vm, "TaskGroup", group_methods);
    qnative *fn = native_new(vm, "task_group", as_task_group, 0, 0);
    fn->bound = qv_obj(t);
    module_export(vm, m, "task_group", qv_obj(fn));
    module_export(vm, m, "TaskGroup", qv_obj(t));
}
