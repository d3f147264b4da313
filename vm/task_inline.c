/* task_inline.c — async calls without a stack of their own.
 *
 * Calling an async function from Quest code runs it on its caller's stack
 * like a plain call: interp.c pushes its frame marked inline_call.  Most
 * such calls finish without waiting, and then they needed no stack of their
 * own, no re-entry of the loop, and (when awaited at once, the AWAIT right
 * after the call) no Task at all.
 *
 * A call that is not awaited at once is `spawned`: its Task is made at the
 * call, it is what the caller gets, and an error leaving the call fails the
 * Task instead of reaching the caller (interp.c's unwinding stops there).
 * An awaited call's Task is made only when something needs it:
 *  - the call suspends: its frames move to a stack of their own and the
 *    caller awaits the new Task, as if it had been a task from the start
 *    (nested inline calls each become one, innermost first, up to a
 *    spawned call, whose caller goes on with its Task);
 *  - the call asks who it is (async.current(), async.is_cancelled(), a
 *    task-local at the top level ...): a running Task, kept in the stack's
 *    `selves` and settled when the frame returns or unwinds.
 * So ids, names, ownership, task-locals, cancellation, errors, call depth
 * and stack traces are those of a task.  Each stack keeps the index of its
 * innermost inline frame (inline_base; each inline frame remembers the one
 * before), so "the running task" costs nothing to find.
 */
#include <stdlib.h>
#include <string.h>

#include "vm_internal.h"

/* Whose task-locals, spawn flag and scope the code of frame j and above
 * uses: those are shared along a chain of awaited calls, so the innermost
 * spawned call's Task stands for its chain, below it the running task,
 * and at the top level (none) the chain's outermost call. */
static qtask *ctx_from(qvm *vm, qstack *s, uint32_t j, uint32_t self)
{
    uint32_t bottom = self;
    for (; j; j = s->frames[j].outer) {
        if (s->frames[j].spawned)
            return inline_self(vm, s, j);
        bottom = j;
    }
    if (vm->current)
        return vm->current;
    return bottom == self ? NULL : inline_self(vm, s, bottom);
}

qtask *task_ctx(qvm *vm)
{
    qstack *s = vm->stack;
    if (!s->inline_base)
        return vm->current;
    return ctx_from(vm, s, s->inline_base, 0);
}

qtask *vm_current_task(qvm *vm)
{
    qstack *s = vm->stack;
    return s->inline_base ? inline_self(vm, s, s->inline_base) : vm->current;
}

static qself *find_self(qstack *s, uint32_t k)
{
    for (uint32_t i = s->nselves; i-- > 0;)
        if (s->selves[i].frame == k)
            return &s->selves[i];
    return NULL;
}

qtask *inline_self(qvm *vm, qstack *s, uint32_t k)
{
    if (s->frames[k].has_self)
        return find_self(s, k)->task;
    qtask *ctx = ctx_from(vm, s, s->frames[k].outer, k);
    qtask *t = task_make(vm, s->frames[k].fn->proto->name, ctx);
    t->run->inline_run = true;
    if (s->nselves == s->capselves) {
        s->capselves = s->capselves ? s->capselves * 2 : 4;
        s->selves = realloc(s->selves, s->capselves * sizeof(qself));
        if (!s->selves)
            abort();
    }
    /* Kept in frame order: a chain's outer calls are made first. */
    uint32_t i = s->nselves++;
    for (; i > 0 && s->selves[i - 1].frame > k; i--)
        s->selves[i] = s->selves[i - 1];
    s->selves[i] = (qself){k, t};
    s->frames[k].has_self = true;
    return t;
}

/* The Task of inline frame k, out of the selves list (k is the innermost). */
static qtask *take_self(qstack *s)
{
    qtask *t = s->selves[--s->nselves].task;
    t->run->inline_run = false;
    return t;
}

qval inline_return(qvm *vm, qstack *s, uint32_t k, qval v)
{
    const qframe *f = &s->frames[k];
    s->inline_base = f->outer;
    if (!f->has_self)
        return v;
    bool spawned = f->spawned && !f->boundary; /* a call from C wants the value */
    qtask *t = take_self(s);
    task_resolve(vm, t, v);
    return spawned ? qv_obj(t) : v;
}

void inline_unwind(qvm *vm, qstack *s, uint32_t keep)
{
    while (s->inline_base >= keep && s->inline_base)
        s->inline_base = s->frames[s->inline_base].outer;
    qexc *e = vm->exc;
    while (s->nselves && s->selves[s->nselves - 1].frame >= keep)
        task_reject(vm, take_self(s), e);
    vm->exc = e; /* the error goes on unwinding */
}

/* Room the moved frames need: each was given nslots + maxstack + 8 above
 * its base when it was pushed (interp_push_frame). */
static size_t moved_need(const qstack *s, uint32_t k, size_t base)
{
    size_t need = s->sp - base;
    for (uint32_t i = k; i < s->nframes; i++) {
        const qproto *p = s->frames[i].fn->proto;
        size_t top = s->frames[i].base - base + (size_t)p->nslots + p->maxstack + 8;
        if (top > need)
            need = top;
    }
    return need;
}

/* Inline frame k and those above it move to a stack of their own: the
 * call becomes a Task suspended on `awaited`. */
static qtask *detach(qvm *vm, qstack *s, uint32_t k, qtask *awaited)
{
    qtask *t = inline_self(vm, s, k);
    take_self(s);
    qframe *fk = &s->frames[k];
    size_t base = fk->base;
    uint32_t nframes = s->nframes - k;
    qstack *ts = &task_quest(t)->stack;
    task_stack_init(vm, ts, moved_need(s, k, base), nframes);
    ts->sp = s->sp - base;
    memcpy(ts->values, &s->values[base], ts->sp * sizeof(qval));
    memcpy(ts->frames, fk, nframes * sizeof(qframe));
    ts->nframes = nframes;
    for (uint32_t i = 0; i < nframes; i++)
        ts->frames[i].base -= base;
    ts->frames[0].boundary = true;
    ts->frames[0].inline_call = false;
    ts->frames[0].spawned = false;
    ts->frames[0].has_self = false;
    ts->frames[0].outer = 0;
    /* Its try blocks (the innermost handlers) and open upvalues go along. */
    uint32_t h = s->nhandlers;
    while (h && s->handlers[h - 1].frame >= k)
        h--;
    for (uint32_t i = h; i < s->nhandlers; i++) {
        qhandler *nh = stack_push_handler(ts);
        *nh = s->handlers[i];
        nh->frame -= k;
        nh->sp -= base;
    }
    s->nhandlers = h;
    qupval **tail = &ts->open_upvals;
    while (s->open_upvals && s->open_upvals->stack_index >= base) {
        qupval *u = s->open_upvals;
        s->open_upvals = u->next_open;
        u->stack_index -= base;
        u->slot = &ts->values[u->stack_index];
        u->next_open = NULL;
        *tail = u;
        tail = &u->next_open;
    }
    s->inline_base = fk->outer;
    s->sp = base;
    s->nframes = k;
    task_quest(t)->awaiting = awaited;
    task_watch(vm, t, awaited);
    t->state = TS_SUSPENDED;
    task_list(vm, t);
    return t;
}

qval inline_await(qvm *vm, uint32_t stop, qtask *t)
{
    qstack *s = vm->stack;
    for (;;) {
        uint32_t k = s->inline_base;
        if (!k)
            return task_await(vm, t);
        if (k < stop) /* the inline call is an outer run's: this one is nested in C */
            return task_raise_sync_await(vm);
        if (s->frames[k].has_self) {
            qtask *self = find_self(s, k)->task;
            if (self->run->cancel_requested) {
                self->run->cancel_requested = false;
                return vm_raise(vm, E_CANCELLED, "Task was cancelled");
            }
        }
        bool spawned = s->frames[k].spawned;
        t = detach(vm, s, k, t);
        if (spawned) /* its caller goes on, with the Task */
            return qv_obj(t);
    }
}
