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
    if (t->queued || task_is_done(t))
        return;
    t->queued = true;
    t->next_ready = NULL;
    if (vm->ready_tail)
        vm->ready_tail->next_ready = t;
    else
        vm->ready_head = t;
    vm->ready_tail = t;
    uv_loop_t *loop = vm_loop(vm);
    (void)loop;
    if (!uv_is_active((uv_handle_t *)vm->idle)) {
        uv_idle_start(vm->idle, on_idle);
        uv_ref((uv_handle_t *)vm->idle);
    }
}

void sched_drain(qvm *vm)
{
    while (vm->ready_head) {
        qtask *t = vm->ready_head;
        vm->ready_head = t->next_ready;
        if (!vm->ready_head)
            vm->ready_tail = NULL;
        t->queued = false;
        t->next_ready = NULL;
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

/* At vm_free: close our handles and, if the loop is ours, the loop. */
void sched_free(qvm *vm)
{
    if (!vm->loop)
        return;
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
}
