/* sched.c — the scheduler: a FIFO of tasks ready to resume, drained from
 * inside the VM's libuv loop, and block_on for code that runs outside any
 * task (a script's top level, the test runner, REPL entries).
 *
 * A native completion (timer, query, transfer) only queues the tasks that
 * waited; an idle handle drains the queue once the callback has returned,
 * so resumptions never nest inside library callbacks' own state. */
#include <stdlib.h>

#include "vm_internal.h"

static void on_idle(uv_idle_t *h);

uv_loop_t *vm_loop(qvm *vm)
{
    if (vm->loop)
        return vm->loop;
    if (vm->opts.loop) {
        vm->loop = vm->opts.loop;
    } else {
        vm->loop = malloc(sizeof(uv_loop_t));
        if (!vm->loop || uv_loop_init(vm->loop) != 0)
            abort();
        vm->own_loop = true;
    }
    vm->idle = malloc(sizeof(uv_idle_t));
    if (!vm->idle)
        abort();
    uv_idle_init(vm->loop, vm->idle);
    vm->idle->data = vm;
    uv_unref((uv_handle_t *)vm->idle); /* an idle drainer alone keeps no loop alive */
    return vm->loop;
}

void sched_ready(qvm *vm, qtask *t)
{
    if (task_done(t) || t->run->queued)
        return;
    t->run->queued = true;
    t->run->next_ready = NULL;
    if (vm->ready_tail) {
        /* A queue that holds tasks is being drained or has its drainer
         * started (the first task in started it, and only a drain that
         * has emptied it stops it). */
        vm->ready_tail->run->next_ready = t;
        vm->ready_tail = t;
        return;
    }
    vm->ready_head = vm->ready_tail = t;
    if (vm->idle && uv_is_active((uv_handle_t *)vm->idle))
        return; /* the drainer is already due */
    vm_loop(vm);
    if (uv_is_closing((uv_handle_t *)vm->idle))
        return; /* the VM is being freed */
    uv_idle_start(vm->idle, on_idle);
    uv_ref((uv_handle_t *)vm->idle);
}

void sched_drain(qvm *vm)
{
    while (vm->ready_head) {
        qtask *t = vm->ready_head;
        vm->ready_head = t->run->next_ready;
        if (!vm->ready_head)
            vm->ready_tail = NULL;
        t->run->queued = false;
        t->run->next_ready = NULL;
        task_resume(vm, t);
        if (vm->gc_pending)
            vm_gc(vm);
    }
    if (vm->idle && uv_is_active((uv_handle_t *)vm->idle)) {
        uv_idle_stop(vm->idle);
        uv_unref((uv_handle_t *)vm->idle);
    }
}

void vm_run_ready(qvm *vm)
{
    sched_drain(vm);
}

void vm_set_serving(qvm *vm, bool serving)
{
    vm_loop(vm);
    vm->loop_running += serving ? 1 : -1;
}

static void on_idle(uv_idle_t *h)
{
    sched_drain(h->data);
}

qval vm_block_on(qvm *vm, qval v)
{
    qtask *t = task_of(v);
    if (!t)
        return v;
    if (vm->loop_running && !task_is_done(t))
        return vm_raise(vm, E_RUNTIME, "cannot block inside the event loop: use await in an async function");
    vm_push_root(vm, v);
    uv_loop_t *loop = vm_loop(vm);
    while (!task_is_done(t)) {
        sched_drain(vm);
        if (task_is_done(t))
            break;
        if (!uv_loop_alive(loop)) {
            vm_pop_roots(vm, 1);
            return vm_raise(vm, E_RUNTIME, "deadlock: the awaited task waits for something "
                                           "that can never happen");
        }
        vm->loop_running++;
        uv_run(loop, UV_RUN_ONCE);
        vm->loop_running--;
    }
    vm_pop_roots(vm, 1);
    return task_result(vm, t);
}

/* ---- blocking C work on the libuv thread pool ---------------------------------- */

typedef struct blocking {
    uv_work_t req;
    qvm *vm;
    qtask *task;              /* NULL once the task was cancelled */
    void (*work)(void *data);
    void (*done)(qvm *vm, qtask *t, void *data);
    void *data;
} blocking;

static void blocking_work(uv_work_t *req)
{
    blocking *b = req->data;
    b->work(b->data);
}

static void blocking_after(uv_work_t *req, int status)
{
    (void)status; /* UV_ECANCELED: cancelled before it started; task is NULL then */
    blocking *b = req->data;
    if (b->task)
        task_set_cancel(b->task, NULL, NULL);
    b->done(b->vm, b->task, b->data);
    free(b);
}

/* A pool thread cannot be stopped: if the work has started, it finishes
 * and done() only gets to clean up. */
static void blocking_cancel(qvm *vm, qtask *t, void *data)
{
    (void)vm, (void)t;
    blocking *b = data;
    b->task = NULL;
    uv_cancel((uv_req_t *)&b->req);
}

qtask *vm_run_blocking(qvm *vm, void (*work)(void *data),
                       void (*done)(qvm *vm, qtask *t, void *data), void *data)
{
    blocking *b = malloc(sizeof *b);
    if (!b)
        abort();
    qtask *t = task_new_pending(vm, "blocking");
    b->vm = vm;
    b->task = t;
    b->work = work;
    b->done = done;
    b->data = data;
    b->req.data = b;
    int rc = uv_queue_work(vm_loop(vm), &b->req, blocking_work, blocking_after);
    if (rc != 0) {
        free(b);
        task_reject(vm, t, exc_new(vm, vm_err_type(vm, E_RUNTIME),
                                   str_printf(vm, "cannot queue blocking work: %s", uv_strerror(rc))));
        done(vm, NULL, data);
        return t;
    }
    task_set_cancel(t, blocking_cancel, b);
    return t;
}

/* ---- shutting down ---------------------------------------------------------------- */

static void free_handle(uv_handle_t *h)
{
    free(h);
}

static void close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

/* At vm_free: close our handles and, if the loop is ours, the loop; free
 * the spare task stacks. */
void sched_free(qvm *vm)
{
    if (!vm->loop) {
        task_free_spares(vm);
        return;
    }
    timers_free(vm);
    if (vm->own_loop) {
        uv_walk(vm->loop, close_walk, NULL);
        uv_run(vm->loop, UV_RUN_DEFAULT);
        uv_loop_close(vm->loop);
        free(vm->loop);
        free(vm->idle);
    } else {
        uv_close((uv_handle_t *)vm->idle, free_handle);
    }
    vm->idle = NULL;
    vm->loop = NULL;
    task_free_spares(vm); /* last: the run above may finish tasks */
}
