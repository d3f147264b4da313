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

/* The hooks of native tasks live in their qtask_native record; a Quest
 * task has none. */
void task_set_data(qtask *t, void *data)
{
    if (t->native)
        task_native(t)->data = data;
}

void *task_data(qtask *t)
{
    return t->native ? task_native(t)->data : NULL;
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
    return task_done(t);
}

bool task_failed(const qtask *t)
{
    return t->state == TS_FAILED || t->state == TS_CANCELLED;
}

/* ---- life cycle ----------------------------------------------------------------------- */

/* The lists below link unfinished tasks, which all have a run record. */
static void live_add(qvm *vm, qtask *t)
{
    qtask_run *r = t->run;
    r->live_next = vm->live;
    r->live_prev = NULL;
    if (vm->live)
        vm->live->run->live_prev = t;
    vm->live = t;
}

static void live_remove(qvm *vm, qtask *t)
{
    qtask_run *r = t->run;
    if (r->live_prev)
        r->live_prev->run->live_next = r->live_next;
    else if (vm->live == t)
        vm->live = r->live_next;
    if (r->live_next)
        r->live_next->run->live_prev = r->live_prev;
    r->live_prev = r->live_next = NULL;
}

/* Owned tasks are kept in an intrusive list per owner (O(1) in and out). */
static qtask **owner_list(qvm *vm, qtask *t)
{
    return t->scope ? &t->scope->kids : &vm->orphans;
}

static void owner_add(qvm *vm, qtask *t)
{
    qtask **head = owner_list(vm, t);
    qtask_run *r = t->run;
    r->sib_prev = NULL;
    r->sib_next = *head;
    if (*head)
        (*head)->run->sib_prev = t;
    *head = t;
}

static void owner_remove(qvm *vm, qtask *t)
{
    qtask_run *r = t->run;
    if (r->sib_prev)
        r->sib_prev->run->sib_next = r->sib_next;
    else if (*owner_list(vm, t) == t)
        *owner_list(vm, t) = r->sib_next;
    if (r->sib_next)
        r->sib_next->run->sib_prev = r->sib_prev;
    r->sib_prev = r->sib_next = NULL;
}

/* Put t on the live list (a GC root) and its owner's list (cancelled with
 * it).  A Quest task joins them when it first suspends: most finish
 * without, and while running they are rooted by their caller. */
void task_list(qvm *vm, qtask *t)
{
    if (t->run->listed)
        return;
    t->run->listed = true;
    live_add(vm, t);
    if (!t->run->detached)
        owner_add(vm, t);
}

/* A Quest task's record: its stack has no arrays yet. */
static void quest_run_new(qvm *vm, qtask *t)
{
    uint16_t off;
    qtask_quest *q = vm_small_alloc(vm, sizeof *q, &off);
    memset(q, 0, sizeof *q);
    q->r.slab_off = off;
    t->run = &q->r;
}

/* Every task of a chain of inline calls has the running task's scope, so
 * vm->current stands for them all here. */
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

qtask *task_make(qvm *vm, qstr *name, qtask *ctx)
{
    qtask *t = task_alloc(vm, name);
    t->scope = ctx ? ctx->scope : NULL;
    quest_run_new(vm, t);
    /* The caller's task-locals are shared, so create them now: a set on
     * either side must be seen by the other.  Spawned tasks start empty. */
    if (ctx && !ctx->run->spawning) {
        if (!ctx->run->locals)
            ctx->run->locals = dict_new(vm);
        t->run->locals = ctx->run->locals;
    }
    return t;
}

void task_make_scope(qvm *vm, qtask *t)
{
    owner_remove(vm, t);
    t->scope = t;
}

/* A native task carries its record in the object: it outlives the task's
 * end, so callbacks may still read their data. */
qtask *task_new_pending(qvm *vm, const char *name)
{
    return task_new_pending_str(vm, name ? str_intern_cstr(vm, name) : NULL);
}

qtask *task_new_pending_str(qvm *vm, qstr *name)
{
    qtask *t = vm_alloc_obj(vm, sizeof(qtask) + sizeof(qtask_native), QO_TASK);
    t->id = ++vm->next_task_id;
    t->name = name;
    t->result = qv_nil();
    t->state = TS_SUSPENDED;
    t->native = true;
    t->scope = vm->current ? vm->current->scope : NULL;
    t->run = (qtask_run *)(t + 1);
    task_list(vm, t);
    return t;
}

/* Nothing but the AWAIT that follows sees a task made for an awaited-at-once
 * call, and the task that awaits it resumes only after that AWAIT has taken
 * its outcome (or after cancelling it): so once finished it can serve that
 * task's next such wait, which spares an allocation per message to a loop
 * like `while true let m = await ws.recv() ... end`.  Only for code on a
 * task's own stack (an inline frame may leave it and its task run on) and
 * not on the live and owner lists: the awaiting task roots it, and
 * cancelling that task cancels what it waits for. */
qtask *task_new_awaited(qvm *vm)
{
    qtask *cur = vm->current;
    if (!vm->awaited || !cur || cur->native || !cur->run || vm->stack != &task_quest(cur)->stack ||
        vm->stack->inline_base)
        return task_new_pending(vm, NULL);
    qtask *t = task_quest(cur)->reusable;
    if (!t || !task_done(t)) { /* none yet, or one left pending by a failed await */
        t = task_new_pending(vm, NULL);
        task_quest(cur)->reusable = t;
        return t;
    }
    /* finish() left its waiters, hooks and list links cleared. */
    t->run->cancel_requested = false;
    t->run->listed = false;
    t->state = TS_SUSPENDED;
    t->cancelled = false;
    t->name = NULL;
    t->result = qv_nil();
    t->scope = cur->scope;
    return t;
}

void task_set_cancel(qtask *t, qtask_cancel_fn fn, void *data)
{
    if (!t->native)
        return;
    task_native(t)->on_cancel = fn;
    task_native(t)->cancel_data = data;
}

void task_set_wake(qtask *t, qtask_wake_fn fn)
{
    if (t->native)
        task_native(t)->wake = fn;
}

void task_hold(qtask *t, qval v)
{
    if (t->native)
        task_native(t)->hold = IS_OBJ(v) ? v.as.o : NULL;
}

/* The first waiter has its own slot: a task awaited by one other (the
 * common case) then needs no array.  A finished source wakes nobody.
 * (Static for this file's own calls, which run for every await.) */
static void watch(qvm *vm, qtask *waiter, qtask *source)
{
    if (task_done(source))
        return;
    qtask_run *r = source->run;
    if (!r->waiter) {
        r->waiter = waiter;
        return;
    }
    if (!r->waiters)
        r->waiters = arr_new(vm, 2);
    arr_push(vm, r->waiters, qv_obj(waiter));
}

static void unwatch(qtask *waiter, qtask *source)
{
    if (task_done(source))
        return;
    qtask_run *r = source->run;
    if (r->waiter == waiter) {
        r->waiter = NULL;
        return;
    }
    qarray *w = r->waiters;
    for (uint32_t i = 0; w && i < w->len; i++) {
        if (w->items[i].as.o == (qobj *)waiter) {
            memmove(&w->items[i], &w->items[i + 1], (w->len - i - 1) * sizeof(qval));
            w->len--;
            return;
        }
    }
}

void task_watch(qvm *vm, qtask *waiter, qtask *source)
{
    watch(vm, waiter, source);
}

void task_unwatch(qtask *waiter, qtask *source)
{
    unwatch(waiter, source);
}

static bool task_has_waiters(const qtask *t)
{
    return t->run->waiter || (t->run->waiters && t->run->waiters->len);
}

/* Cancel what a finished owner left running.  Cancelling one task can
 * finish others (their watchers), so take a snapshot first. */
static void cancel_owned(qvm *vm, qtask **head)
{
    if (!*head)
        return;
    qarray *snap = arr_new(vm, 8);
    for (qtask *c = *head; c; c = c->run->sib_next)
        arr_push(vm, snap, qv_obj(c));
    vm_push_root(vm, qv_obj(snap));
    for (uint32_t i = 0; i < snap->len; i++)
        task_cancel(vm, (qtask *)snap->items[i].as.o);
    vm_pop_roots(vm, 1);
}

static void wake_waiter(qvm *vm, qtask *waiter, qtask *source)
{
    if (task_done(waiter))
        return;
    if (waiter->native) {
        if (task_native(waiter)->wake)
            task_native(waiter)->wake(vm, waiter, source);
    } else if (task_quest(waiter)->awaiting == source) {
        sched_ready(vm, waiter);
    }
}

/* ---- task stacks ------------------------------------------------------------------------- */

/* Most tasks finish soon after they start, so the stacks of finished tasks
 * are kept for the next ones (a few, of modest size): three mallocs and
 * frees less per task. */
#define SPARE_STACK_VALUES 64

/* Keep the arrays of s (empty) for the next task, or free them. */
static void stack_release(qvm *vm, qstack *s)
{
    if (vm->nspare_stacks < (int)(sizeof vm->spare_stacks / sizeof *vm->spare_stacks) &&
        s->cap <= SPARE_STACK_VALUES && !s->open_upvals) {
        s->sp = 0;
        s->nframes = 0;
        s->nhandlers = 0;
        s->inline_base = 0;
        s->nselves = 0;
        vm->spare_stacks[vm->nspare_stacks++] = *s;
        memset(s, 0, sizeof *s);
        return;
    }
    stack_clear(s);
}

void task_free_spares(qvm *vm)
{
    while (vm->nspare_stacks)
        stack_clear(&vm->spare_stacks[--vm->nspare_stacks]);
}

/* Sized for what the task holds: a pending task should cost well under
 * 1 KiB, and the generic growth would round up to 16 values and 2 frames. */
void task_stack_init(qvm *vm, qstack *s, size_t nvalues, uint32_t nframes)
{
    if (vm->nspare_stacks) {
        *s = vm->spare_stacks[--vm->nspare_stacks];
        stack_reserve(s, nvalues);
        stack_reserve_frames(s, nframes);
        return;
    }
    stack_alloc(vm, s, nvalues, nframes);
}

/* A finished Quest task keeps only its outcome. */
static void run_free(qvm *vm, qtask *t)
{
    qtask_quest *q = task_quest(t);
    if (q->stack.values)
        stack_release(vm, &q->stack);
    t->run = NULL;
    vm_small_free(vm, q, sizeof *q, q->r.slab_off);
}

/* Record the outcome and wake whoever waits. */
static void finish(qvm *vm, qtask *t, qtask_state state)
{
    t->state = (uint8_t)state;
    qtask_run *r = t->run;
    if (!r)
        return; /* made finished (task_spawn of a plain function) */
    if (r->listed) {
        live_remove(vm, t);
        if (t->scope != t && !r->detached)
            owner_remove(vm, t);
    }
    qtask *first = r->waiter;
    qarray *w = r->waiters;
    r->waiter = NULL;
    r->waiters = NULL;
    if (t->native) {
        task_native(t)->on_cancel = NULL;
        task_native(t)->hold = NULL;
    } else {
        run_free(vm, t);
    }
    if (w)
        vm_push_root(vm, qv_obj(w)); /* a waker may run Quest code */
    if (first)
        wake_waiter(vm, first, t);
    for (uint32_t i = 0; w && i < w->len; i++)
        wake_waiter(vm, (qtask *)w->items[i].as.o, t);
    if (w)
        vm_pop_roots(vm, 1);
    if (t->scope == t)
        cancel_owned(vm, &t->kids);
}

void task_resolve(qvm *vm, qtask *t, qval v)
{
    if (task_done(t))
        return;
    t->result = v;
    finish(vm, t, TS_DONE);
}

void task_reject(qvm *vm, qtask *t, qexc *e)
{
    if (task_done(t))
        return;
    t->result = qv_obj(e);
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
    vm->stack = &task_quest(t)->stack;
    vm->current = t;
    t->state = TS_RUNNING;
    task_quest(t)->entry_c_depth = ++vm->c_depth;
    budget_reset(vm);
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
    if (task_done(t) || !task_has_stack(t))
        return;
    qtask_quest *q = task_quest(t);
    qtask *a = q->awaiting;
    q->awaiting = NULL;
    if (a)
        unwatch(t, a);
    bool raising = false;
    if (q->r.cancel_requested) { /* delivered once: ensure blocks may still await */
        q->r.cancel_requested = false;
        vm_raise(vm, E_CANCELLED, "Task was cancelled");
        raising = true;
    } else if (a && a->state == TS_DONE) {
        qstack *s = &q->stack;
        if (s->sp == s->cap) /* (the await took the task it awaits from there) */
            stack_reserve(s, 1);
        s->values[s->sp++] = a->result;
    } else if (a) {
        task_result(vm, a);
        raising = true;
    }
    task_run(vm, t, raising);
}

qval task_await(qvm *vm, qtask *t)
{
    qtask *cur = vm->current;
    if (cur && !cur->native && &task_quest(cur)->stack == vm->stack) {
        if (vm->c_depth != task_quest(cur)->entry_c_depth)
            return task_raise_sync_await(vm);
        if (cur->run->cancel_requested) {
            cur->run->cancel_requested = false;
            return vm_raise(vm, E_CANCELLED, "Task was cancelled");
        }
        task_quest(cur)->awaiting = t;
        watch(vm, cur, t);
        cur->state = TS_SUSPENDED;
        qval v;
        v.tag = QV_SUSPEND;
        v.as.i = 0;
        return v;
    }
    return vm_block_on(vm, qv_obj(t));
}

qval task_raise_sync_await(qvm *vm)
{
    return vm_raise(vm, E_RUNTIME, "cannot await inside a synchronous call "
                                   "(e.g. a callback passed to map); make it async");
}

qval task_start_call(qvm *vm, qclosure *cl, size_t at, int argc, qdict *kw)
{
    qstack *caller = vm->stack;
    qtask *t = task_make(vm, cl->proto->name, task_ctx(vm));
    qstack *s = &task_quest(t)->stack;
    size_t need = (size_t)cl->proto->nslots + cl->proto->maxstack + 8;
    task_stack_init(vm, s, need < (size_t)argc + 1 ? (size_t)argc + 1 : need, 1);
    memcpy(s->values, &caller->values[at], ((size_t)argc + 1) * sizeof(qval));
    s->sp = (size_t)argc + 1;
    vm->stack = s;
    bool ok = interp_push_frame(vm, cl, 0, argc, kw);
    vm->stack = caller;
    if (!ok) { /* bad arguments fail the call itself, as for any function */
        run_free(vm, t);
        t->state = TS_FAILED;
        return qv_exc();
    }
    s->frames[0].boundary = true;
    vm_push_root(vm, qv_obj(t));
    task_run(vm, t, false);
    vm_pop_roots(vm, 1);
    return qv_obj(t);
}

qval task_spawn(qvm *vm, qval fn, int argc, qval *argv, bool fresh_locals)
{
    qtask *cur = task_ctx(vm);
    bool saved = cur && cur->run->spawning;
    if (cur && fresh_locals)
        cur->run->spawning = true; /* the tasks fn starts get an empty set */
    qval r = vm_call(vm, fn, argc, argv);
    if (cur)
        cur->run->spawning = saved;
    if (IS_EXC(r) || task_of(r))
        return r;
    /* A plain function: its value, as an already finished task. */
    qtask *t = task_alloc(vm, NULL);
    task_resolve(vm, t, r);
    return qv_obj(t);
}

qdict *task_locals(qvm *vm)
{
    qtask *t = task_ctx(vm);
    if (!t)
        return NULL;
    if (!t->run->locals)
        t->run->locals = dict_new(vm);
    return t->run->locals;
}

/* async.with_context: call fn() with the task-locals extended by `extra`
 * (in a copy: the caller's own set is left as it was).  An async fn's task
 * keeps the extended set.  Outside any task a stand-in task is current
 * during the call, so that task-locals work there too. */
qval task_with_locals(qvm *vm, qval fn, qdict *extra)
{
    qtask *stand_in = NULL;
    qtask *cur = task_ctx(vm);
    if (!cur) {
        stand_in = task_new_pending(vm, "context");
        vm->current = cur = stand_in;
    }
    qdict *saved = cur->run->locals;
    qdict *ctx = dict_new(vm);
    for (uint32_t i = 0; saved && i < saved->used; i++)
        if (saved->entries[i].key)
            dict_set(vm, ctx, saved->entries[i].key, saved->entries[i].val);
    for (uint32_t i = 0; i < extra->used; i++)
        if (extra->entries[i].key)
            dict_set(vm, ctx, extra->entries[i].key, extra->entries[i].val);
    cur->run->locals = ctx;
    vm_push_root(vm, saved ? qv_obj(saved) : qv_nil());
    qval r = vm_call(vm, fn, 0, NULL);
    vm_pop_roots(vm, 1);
    cur->run->locals = saved;
    if (stand_in) {
        vm->current = NULL;
        task_resolve(vm, stand_in, qv_nil());
    }
    return r;
}

/* ---- cancellation ------------------------------------------------------------------------- */

void task_cancel(qvm *vm, qtask *t)
{
    if (task_done(t))
        return;
    t->run->cancel_requested = true;
    t->cancelled = true;
    if (t->native) { /* abort its I/O and fail it now */
        qtask_native *n = task_native(t);
        qtask_cancel_fn fn = n->on_cancel;
        n->on_cancel = NULL;
        if (fn)
            fn(vm, t, n->cancel_data);
        task_reject(vm, t, exc_new(vm, vm->err_types[E_CANCELLED], str_cstr(vm, "Task was cancelled")));
        return;
    }
    if (t->state == TS_SUSPENDED) {
        qtask *a = task_quest(t)->awaiting;
        if (a) {
            unwatch(t, a);
            /* A native operation nobody else waits for is aborted too. */
            if (a->native && !task_done(a) && !task_has_waiters(a))
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
    MARK(t->scope);
    qtask_run *r = t->run;
    if (!r)
        return;
    MARK(r->waiter);
    MARK(r->waiters);
    MARK(r->locals);
    if (t->native) {
        MARK(task_native(t)->hold);
    } else {
        MARK(task_quest(t)->awaiting);
        MARK(task_quest(t)->reusable);
        stack_mark(vm, &task_quest(t)->stack);
    }
}

void task_free(qvm *vm, qtask *t)
{
    if (t->run && !t->native) {
        stack_clear(&task_quest(t)->stack);
        run_free(vm, t);
    }
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
    return qv_bool(task_done(self_task(self)));
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
    bool was_pending = !task_done(t);
    task_cancel(vm, t);
    return qv_bool(was_pending);
}

/* Hand the task to the worker: its owner's end no longer cancels it. */
static qval tm_detach(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    qtask *t = self_task(self);
    if (!task_done(t) && !t->run->detached) {
        owner_remove(vm, t);
        t->run->detached = true;
    }
    return self;
}

/* The value if finished (raising its error), nil while pending. */
static qval tm_try_unwrap(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    qtask *t = self_task(self);
    return task_done(t) ? task_result(vm, t) : qv_nil();
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
