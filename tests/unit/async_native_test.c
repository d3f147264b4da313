/* The native side of async operations (vm/vm.h, "tasks"): a pending task
 * completed from a libuv callback, a cancel hook, and blocking work on
 * the thread pool with vm_run_blocking. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "modules/modules.h"

/* ---- a pending task completed from a timer callback ------------------------ */

typedef struct op {
    uv_timer_t timer;
    qvm *vm;
    qtask *task;
    bool fail;
    bool aborted;
} op;

static void op_fired(uv_timer_t *h)
{
    op *o = h->data;
    uv_timer_stop(h);
    if (o->fail)
        task_reject(o->vm, o->task, exc_new(o->vm, vm_err_type(o->vm, E_IO), str_cstr(o->vm, "disk on fire")));
    else
        task_resolve(o->vm, o->task, qv_int(42));
}

static void op_cancel(qvm *vm, qtask *t, void *data)
{
    (void)vm, (void)t;
    op *o = data;
    uv_timer_stop(&o->timer);
    o->aborted = true;
}

static qtask *op_start(qvm *vm, op *o, bool fail)
{
    memset(o, 0, sizeof *o);
    o->vm = vm;
    o->fail = fail;
    o->task = task_new_pending(vm, "op");
    uv_timer_init(vm_loop(vm), &o->timer);
    o->timer.data = o;
    uv_timer_start(&o->timer, op_fired, 1, 0);
    task_set_cancel(o->task, op_cancel, o);
    return o->task;
}

static void test_pending_tasks(qvm *vm)
{
    op o[3];
    qtask *t = op_start(vm, &o[0], false);
    ok(!task_is_done(t), "a pending task is not done");
    qval r = vm_block_on(vm, task_value(t));
    is_int(IS_INT(r) ? r.as.i : -1, 42, "resolved from the callback");

    t = op_start(vm, &o[1], true);
    r = vm_block_on(vm, task_value(t));
    qexc *e = vm_take_exc(vm);
    ok(IS_EXC(r) && e && e->type == vm_err_type(vm, E_IO), "rejected from the callback");
    ok(task_failed(t), "task_failed after task_reject");

    t = op_start(vm, &o[2], false);
    task_cancel(vm, t);
    ok(o[2].aborted, "cancel calls the cancel hook");
    ok(task_is_done(t) && task_failed(t), "a cancelled native task is failed at once");
    r = vm_block_on(vm, task_value(t));
    e = vm_take_exc(vm);
    ok(IS_EXC(r) && e && e->type == vm_err_type(vm, E_CANCELLED), "awaiting it raises CancelledErr");

    for (int i = 0; i < 3; i++)
        uv_close((uv_handle_t *)&o[i].timer, NULL);
    uv_run(vm_loop(vm), UV_RUN_NOWAIT); /* the closes complete before o goes */
}

/* ---- vm_run_blocking --------------------------------------------------------------- */

typedef struct job {
    pthread_t loop_thread;
    bool other_thread;
    int64_t n, sum;
    int dones;
    bool done_saw_task;
} job;

static void job_work(void *data)
{
    job *j = data;
    j->other_thread = !pthread_equal(pthread_self(), j->loop_thread);
    for (int64_t i = 1; i <= j->n; i++)
        j->sum += i;
}

static void job_done(qvm *vm, qtask *t, void *data)
{
    job *j = data;
    j->dones++;
    j->done_saw_task = t != NULL;
    if (t)
        task_resolve(vm, t, qv_int(j->sum));
}

static void test_run_blocking(qvm *vm)
{
    job j = {.loop_thread = pthread_self(), .n = 1000};
    qtask *t = vm_run_blocking(vm, job_work, job_done, &j);
    qval r = vm_block_on(vm, task_value(t));
    is_int(IS_INT(r) ? r.as.i : -1, 500500, "the value done() resolved with");
    ok(j.other_thread, "work ran on a pool thread");
    is_int(j.dones, 1, "done ran once");

    /* Cancelled before the loop ran: done() still runs, without the task. */
    job k = {.loop_thread = pthread_self(), .n = 10};
    t = vm_run_blocking(vm, job_work, job_done, &k);
    task_cancel(vm, t);
    r = vm_block_on(vm, task_value(t));
    qexc *e = vm_take_exc(vm);
    ok(IS_EXC(r) && e && e->type == vm_err_type(vm, E_CANCELLED), "a cancelled blocking task raises CancelledErr");
    uv_run(vm_loop(vm), UV_RUN_DEFAULT); /* let the pool hand the request back */
    is_int(k.dones, 1, "done ran once after the cancel");
    ok(!k.done_saw_task, "and got no task");
}

int main(void)
{
    plan(13);
    qvm_options opts = {0};
    opts.native_modules = quest_native_modules;
    opts.embedded_sources = quest_embedded_sources;
    qvm *vm = vm_new(&opts);
    test_pending_tasks(vm);
    test_run_blocking(vm);
    vm_free(vm);
    return done_testing();
}
