/* task.c — tasks: starting an async call, suspending and resuming it,
 * finishing, cancelling, ownership, and the Task methods.
 *
 * Calling an `async fun` makes a task with its own stack and runs it at
 * once (eager start) until it finishes or first suspends at an await of
 * something unfinished; the caller gets the Task.  When what it awaits
 * finishes, the task is queued and the scheduler (sched.c) resumes it.
 *
 * Ownership (DESIGN decision 3): a task belongs to the scope of the task
 * that started it — the root task of a request, a connection or a program.
 * When a scope task finishes, its unfinished, non-detached tasks are
 * cancelled.  Cancellation raises CancelledErr at the suspension point, so
 * `ensure` blocks run, and aborts the native I/O it was waiting for.
 */
#include <stdlib.h>
#include <string.h>

#include "vm_internal.h"

qtask *task_of(qval v)
{
    return IS_KIND(v, QO_TASK) ? (qtask *)v.as.o : NULL;
}

qval task_value(qtask *t)
{
    return qv_obj(t);
}

qtask *vm_current_task(qvm *vm)
{
    return vm->current;
}

bool vm_has_pending_tasks(qvm *vm)
{
    return vm->live != NULL;
}

qtask *vm_swap_current(qvm *vm, qtask *t)
{
    qtask *old = vm->current;
    vm->current = t;
    return old;
}

void task_set_data(qtask *t, void *data)
{
    t->data = data;
}

void *task_data(qtask *t)
{
    return t->data;
}

void vm_task_set_name(qtask *t, qstr *name)
{
    t->name = name;
}

bool vm_task_cancelled(const qtask *t)
{
    return t->cancelled;
}

bool task_is_done(const qtask *t)
{
    return t->state >= TS_DONE;
}

bool task_failed(const qtask *t)
{
    return t->state == TS_FAILED || t->state == TS_CANCELLED;
}

/* ---- life cycle ----------------------------------------------------------------------- */

static void live_add(qvm *vm, qtask *t)
{
    t->live_next = vm->live;
    t->live_prev = NULL;
    if (vm->live)
        vm->live->live_prev = t;
    vm->live = t;
}

static void live_remove(qvm *vm, qtask *t)
{
    if (t->live_prev)
        t->live_prev->live_next = t->live_next;
    else if (vm->live == t)
        vm->live = t->live_next;
    if (t->live_next)
        t->live_next->live_prev = t->live_prev;
    t->live_prev = t->live_next = NULL;
}

/* Owned tasks are kept in an intrusive list per owner (O(1) in and out). */
static qtask **owner_list(qvm *vm, qtask *t)
{
    return t->scope ? &t->scope->kids : &vm->orphans;
}

static void owner_add(qvm *vm, qtask *t)
{
    qtask **head = owner_list(vm, t);
    t->sib_prev = NULL;
    t->sib_next = *head;
    if (*head)
        (*head)->sib_prev = t;
    *head = t;
}

static void owner_remove(qvm *vm, qtask *t)
{
    if (t->sib_prev)
        t->sib_prev->sib_next = t->sib_next;
    else if (*owner_list(vm, t) == t)
        *owner_list(vm, t) = t->sib_next;
    if (t->sib_next)
        t->sib_next->sib_prev = t->sib_prev;
    t->sib_prev = t->sib_next = NULL;
}

/* Put t on the live list (a GC root) and its owner's list (cancelled with
 * it).  A Quest task joins them when it first suspends: most finish
 * without, and while running they are rooted by their caller. */
static void task_list(qvm *vm, qtask *t)
{
    if (t->listed)
        return;
    t->listed = true;
    live_add(vm, t);
    if (!t->detached)
        owner_add(vm, t);
}

static qtask *task_alloc(qvm *vm, qstr *name)
{
    qtask *t = vm_alloc_obj(vm, sizeof(qtask), QO_TASK);
    t->id = ++vm->next_task_id;
    t->name = name;
    t->result = qv_nil();
    t->state = TS_RUNNING;
    qtask *cur = vm->current;
    t->scope = cur ? cur->scope : NULL;
    return t;
}

void task_make_scope(qvm *vm, qtask *t)
{
    owner_remove(vm, t);
    t->scope = t;
}

qtask *task_new_pending(qvm *vm, const char *name)
{
    qtask *t = task_alloc(vm, name ? str_intern_cstr(vm, name) : NULL);
    t->state = TS_SUSPENDED;
    task_list(vm, t);
    return t;
}

void task_set_cancel(qtask *t, qtask_cancel_fn fn, void *data)
{
    t->on_cancel = fn;
    t->cancel_data = data;
}

void task_set_wake(qtask *t, qtask_wake_fn fn)
{
    t->wake = fn;
}

void task_hold(qtask *t, qval v)
{
    t->hold = IS_OBJ(v) ? v.as.o : NULL;
}

/* The first waiter has its own slot: a task awaited by one other (the
 * common case) then needs no array. */
void task_watch(qvm *vm, qtask *waiter, qtask *source)
{
    if (!source->waiter) {
        source->waiter = waiter;
        return;
    }
    if (!source->waiters)
        source->waiters = arr_new(vm, 2);
    arr_push(vm, source->waiters, qv_obj(waiter));
}

void task_unwatch(qtask *waiter, qtask *source)
{
    if (source->waiter == waiter) {
        source->waiter = NULL;
        return;
    }
    qarray *w = source->waiters;
    for (uint32_t i = 0; w && i < w->len; i++) {
        if (w->items[i].as.o == (qobj *)waiter) {
            memmove(&w->items[i], &w->items[i + 1], (w->len - i - 1) * sizeof(qval));
            w->len--;
            return;
        }
    }
}

static bool task_has_waiters(const qtask *t)
{
    return t->waiter || (t->waiters && t->waiters->len);
}

/* Cancel what a finished owner left running.  Cancelling one task can
 * finish others (their watchers), so take a snapshot first. */
static void cancel_owned(qvm *vm, qtask **head)
{
    if (!*head)
        return;
    qarray *snap = arr_new(vm, 8);
    for (qtask *c = *head; c; c = c->sib_next)
        arr_push(vm, snap, qv_obj(c));
    vm_push_root(vm, qv_obj(snap));
    for (uint32_t i = 0; i < snap->len; i++)
        task_cancel(vm, (qtask *)snap->items[i].as.o);
    vm_pop_roots(vm, 1);
}

static void wake_waiter(qvm *vm, qtask *waiter, qtask *source)
{
    if (task_is_done(waiter))
        return;
    if (waiter->wake)
        waiter->wake(vm, waiter, source);
    else if (waiter->awaiting == source)
        sched_ready(vm, waiter);
}

/* ---- task stacks ------------------------------------------------------------------------- */

/* Most tasks finish soon after they start, so the stacks of finished tasks
 * are kept for the next ones (a few, of modest size): three mallocs and
 * frees less per task. */
#define SPARE_STACK_VALUES 64

static void stack_release(qvm *vm, qstack *s)
{
    if (vm->nspare_stacks < (int)(sizeof vm->spare_stacks / sizeof *vm->spare_stacks) &&
        s->cap <= SPARE_STACK_VALUES && !s->open_upvals) {
        s->sp = 0;
        s->nframes = 0;
        s->nhandlers = 0;
        vm->spare_stacks[vm->nspare_stacks++] = s;
        return;
    }
    stack_free(vm, s);
}

void task_free_spares(qvm *vm)
{
    while (vm->nspare_stacks)
        stack_free(vm, vm->spare_stacks[--vm->nspare_stacks]);
}

/* A fresh task's stack, sized for its first frame: a pending task should
 * cost well under 1 KiB, and the generic growth would round up to 16
 * values and 2 frames. */
static qstack *stack_for(qvm *vm, qclosure *cl, int argc)
{
    size_t need = (size_t)cl->proto->nslots + cl->proto->maxstack + 8;
    if (need < (size_t)argc + 1)
        need = (size_t)argc + 1;
    if (vm->nspare_stacks) {
        qstack *s = vm->spare_stacks[--vm->nspare_stacks];
        stack_reserve(s, need);
        return s;
    }
    qstack *s = stack_new(vm);
    s->values = malloc(need * sizeof(qval));
    s->frames = malloc(sizeof(qframe));
    if (!s->values || !s->frames)
        abort();
    s->cap = need;
    s->capframes = 1;
    return s;
}

/* Record the outcome and wake whoever waits. */
static void finish(qvm *vm, qtask *t, qtask_state state)
{
    t->state = (uint8_t)state;
    t->on_cancel = NULL;
    if (t->listed) {
        live_remove(vm, t);
        if (t->scope != t && !t->detached)
            owner_remove(vm, t);
    }
    if (t->stack) {
        stack_release(vm, t->stack);
        t->stack = NULL;
    }
    qtask *first = t->waiter;
    qarray *w = t->waiters;
    t->waiter = NULL;
    t->waiters = NULL;
    if (first)
        wake_waiter(vm, first, t);
    for (uint32_t i = 0; w && i < w->len; i++)
        wake_waiter(vm, (qtask *)w->items[i].as.o, t);
    if (t->scope == t)
        cancel_owned(vm, &t->kids);
}

void task_resolve(qvm *vm, qtask *t, qval v)
{
    if (task_is_done(t))
        return;
    t->result = v;
    t->hold = NULL;
    finish(vm, t, TS_DONE);
}

void task_reject(qvm *vm, qtask *t, qexc *e)
{
    if (task_is_done(t))
        return;
    t->result = qv_obj(e);
    t->hold = NULL;
    finish(vm, t, e->type == vm->err_types[E_CANCELLED] ? TS_CANCELLED : TS_FAILED);
}

qval task_result(qvm *vm, qtask *t)
{
    if (t->state == TS_DONE)
        return t->result;
    if (IS_EXCV(t->result))
        return vm_raise_exc(vm, AS_EXCV(t->result));
    return vm_raise(vm, E_CANCELLED, "Task was cancelled");
}

/* ---- running Quest tasks ---------------------------------------------------------------- */

/* Run t on its own stack until it finishes or suspends again. */
static void task_run(qvm *vm, qtask *t, bool raising)
{
    qstack *saved_stack = vm->stack;
    qtask *saved_current = vm->current;
    vm->stack = t->stack;
    vm->current = t;
    t->state = TS_RUNNING;
    t->entry_c_depth = ++vm->c_depth;
    vm_reset_budget(vm);
    qval r = interp_run(vm, 0, raising);
    vm->c_depth--;
    vm->stack = saved_stack;
    vm->current = saved_current;
    if (r.tag == QV_SUSPEND) {
        task_list(vm, t);
        return;
    }
    if (IS_EXC(r))
        task_reject(vm, t, vm_take_exc(vm));
    else
        task_resolve(vm, t, r);
}

/* Deliver what t awaited (value, exception or cancellation) and run it. */
void task_resume(qvm *vm, qtask *t)
{
    if (task_is_done(t) || !t->stack)
        return;
    qtask *a = t->awaiting;
    t->awaiting = NULL;
    if (a)
        task_unwatch(t, a);
    bool raising = false;
    if (t->cancel_requested) { /* delivered once: ensure blocks may still await */
        t->cancel_requested = false;
        vm_raise(vm, E_CANCELLED, "Task was cancelled");
        raising = true;
    } else if (a && a->state == TS_DONE) {
        qstack *s = t->stack;
        stack_reserve(s, 1);
        s->values[s->sp++] = a->result;
    } else if (a) {
        task_result(vm, a);
        raising = true;
    }
    task_run(vm, t, raising);
}

qval task_start_call(qvm *vm, qclosure *cl, size_t at, int argc, qdict *kw)
{
    qstack *caller = vm->stack;
    qtask *t = task_alloc(vm, cl->proto->name);
    qtask *cur = vm->current;
    /* The caller's task-locals are shared, so create them now: a set on
     * either side must be seen by the other.  Spawned tasks start empty. */
    if (cur && !cur->spawning)
        t->locals = task_locals(vm);
    t->stack = stack_for(vm, cl, argc);
    memcpy(t->stack->values, &caller->values[at], ((size_t)argc + 1) * sizeof(qval));
    t->stack->sp = (size_t)argc + 1;
    vm->stack = t->stack;
    bool ok = interp_push_frame(vm, cl, 0, argc, kw);
    vm->stack = caller;
    if (!ok) { /* bad arguments fail the call itself, as for any function */
        stack_release(vm, t->stack);
        t->stack = NULL;
        t->state = TS_FAILED;
        return qv_exc();
    }
    t->stack->frames[0].boundary = true;
    vm_push_root(vm, qv_obj(t));
    task_run(vm, t, false);
    vm_pop_roots(vm, 1);
    return qv_obj(t);
}

qval task_spawn(qvm *vm, qval fn, int argc, qval *argv, bool fresh_locals)
{
    qtask *cur = vm->current;
    bool saved = cur && cur->spawning;
    if (cur && fresh_locals)
        cur->spawning = true; /* the tasks fn starts get an empty set */
    qval r = vm_call(vm, fn, argc, argv);
    if (cur)
        cur->spawning = saved;
    if (IS_EXC(r) || task_of(r))
        return r;
    /* A plain function: its value, as an already finished task. */
    qtask *t = task_alloc(vm, NULL);
    task_resolve(vm, t, r);
    return qv_obj(t);
}

qdict *task_locals(qvm *vm)
{
    qtask *t = vm->current;
    if (!t)
        return NULL;
    if (!t->locals)
        t->locals = dict_new(vm);
    return t->locals;
}

/* async.with_context: call fn() with the task-locals extended by `extra`
 * (in a copy: the caller's own set is left as it was).  An async fn's task
 * keeps the extended set.  Outside any task a stand-in task is current
 * during the call, so that task-locals work there too. */
qval task_with_locals(qvm *vm, qval fn, qdict *extra)
{
    qtask *stand_in = NULL;
    if (!vm->current) {
        stand_in = task_new_pending(vm, "context");
        vm->current = stand_in;
    }
    qtask *cur = vm->current;
    qdict *saved = cur->locals;
    qdict *ctx = dict_new(vm);
    for (uint32_t i = 0; saved && i < saved->used; i++)
        if (saved->entries[i].key)
            dict_set(vm, ctx, saved->entries[i].key, saved->entries[i].val);
    for (uint32_t i = 0; i < extra->used; i++)
        if (extra->entries[i].key)
            dict_set(vm, ctx, extra->entries[i].key, extra->entries[i].val);
    cur->locals = ctx;
    vm_push_root(vm, saved ? qv_obj(saved) : qv_nil());
    qval r = vm_call(vm, fn, 0, NULL);
    vm_pop_roots(vm, 1);
    cur->locals = saved;
    if (stand_in) {
        vm->current = NULL;
        task_resolve(vm, stand_in, qv_nil());
    }
    return r;
}

/* ---- cancellation ------------------------------------------------------------------------- */

void task_cancel(qvm *vm, qtask *t)
{
    if (task_is_done(t))
        return;
    t->cancel_requested = true;
    t->cancelled = true;
    if (!t->stack) { /* native: abort its I/O and fail it now */
        qtask_cancel_fn fn = t->on_cancel;
        t->on_cancel = NULL;
        if (fn)
            fn(vm, t, t->cancel_data);
        task_reject(vm, t, exc_new(vm, vm->err_types[E_CANCELLED], str_cstr(vm, "Task was cancelled")));
        return;
    }
    if (t->state == TS_SUSPENDED) {
        qtask *a = t->awaiting;
        if (a) {
            task_unwatch(t, a);
            /* A native operation nobody else waits for is aborted too. */
            if (!a->stack && !task_has_waiters(a))
                task_cancel(vm, a);
        }
        sched_ready(vm, t);
    }
    /* A running task sees the request at its next await. */
}

/* At exit: tasks started outside any task that are still pending. */
void tasks_cancel_orphans(qvm *vm)
{
    cancel_owned(vm, &vm->orphans);
    sched_drain(vm);
}

/* ---- GC -------------------------------------------------------------------------------------- */

/* Fields are tested before the call: a heap may hold a million tasks, and
 * most of their links are NULL. */
#define MARK(o)                               \
    do {                                      \
        if (o)                                \
            vm_mark_obj(vm, (qobj *)(o));     \
    } while (0)

void task_mark(qvm *vm, qtask *t)
{
    MARK(t->name);
    if (IS_OBJ(t->result))
        vm_mark_obj(vm, t->result.as.o);
    MARK(t->hold);
    MARK(t->awaiting);
    MARK(t->waiter);
    MARK(t->waiters);
    MARK(t->scope);
    MARK(t->locals);
    if (t->stack)
        stack_mark(vm, t->stack);
}

void task_free(qvm *vm, qtask *t)
{
    if (t->stack)
        stack_free(vm, t->stack);
}

/* ---- Task methods ------------------------------------------------------------------------------ */

static qtask *self_task(qval self)
{
    return (qtask *)self.as.o;
}

static qval tm_id(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return qv_int(self_task(self)->id);
}

static qval tm_name(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    qtask *t = self_task(self);
    return t->name ? qv_obj(t->name) : qv_nil();
}

static qval tm_is_finished(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return qv_bool(task_is_done(self_task(self)));
}

static qval tm_is_cancelled(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    qtask *t = self_task(self);
    return qv_bool(t->state == TS_CANCELLED || t->cancelled);
}

static qval tm_cancel(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    qtask *t = self_task(self);
    bool was_pending = !task_is_done(t);
    task_cancel(vm, t);
    return qv_bool(was_pending);
}

/* Hand the task to the worker: its owner's end no longer cancels it. */
static qval tm_detach(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    qtask *t = self_task(self);
    if (!t->detached && !task_is_done(t))
        owner_remove(vm, t);
    t->detached = true;
    return self;
}

/* The value if finished (raising its error), nil while pending. */
static qval tm_try_unwrap(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    qtask *t = self_task(self);
    return task_is_done(t) ? task_result(vm, t) : qv_nil();
}

static const qmethod_def task_methods[] = {
    {"id", tm_id, 0, 0, false},
    {"name", tm_name, 0, 0, false},
    {"is_finished", tm_is_finished, 0, 0, false},
    {"is_done", tm_is_finished, 0, 0, false},
    {"is_cancelled", tm_is_cancelled, 0, 0, false},
    {"cancel", tm_cancel, 0, 0, false},
    {"abort", tm_cancel, 0, 0, false},
    {"detach", tm_detach, 0, 0, false},
    {"try_unwrap", tm_try_unwrap, 0, 0, false},
    {NULL, NULL, 0, 0, false},
};

void task_init_class(qvm *vm, qtype *t)
{
    vm_add_methods(vm, t, task_methods);
}
