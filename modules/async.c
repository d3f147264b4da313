/* async.c — std/async: spawning and awaiting tasks, timers, channels and
 * select.  The machinery (tasks, scheduler, channels) is in vm/; this is
 * the Quest-facing surface (DESIGN.md "std/async API"). */
#include <math.h>
#include <stdlib.h>

#include "modules/modules.h"

/* ---- timers --------------------------------------------------------------- */

typedef struct sleeper {
    uv_timer_t timer;
    qvm *vm;
    qtask *task;
} sleeper;

static void sleeper_closed(uv_handle_t *h)
{
    free(h->data);
}

static void sleeper_fired(uv_timer_t *h)
{
    sleeper *sl = h->data;
    qtask *t = sl->task;
    sl->task = NULL;
    uv_close((uv_handle_t *)&sl->timer, sleeper_closed);
    task_resolve(sl->vm, t, qv_nil());
}

static void sleeper_cancel(qvm *vm, qtask *t, void *data)
{
    (void)vm, (void)t;
    sleeper *sl = data;
    sl->task = NULL;
    uv_timer_stop(&sl->timer);
    uv_close((uv_handle_t *)&sl->timer, sleeper_closed);
}

/* Seconds from a Quest number; false after raising. */
static bool seconds_arg(qvm *vm, const char *fname, qval v, double *out)
{
    if (!arg_num(vm, fname, v, out))
        return false;
    if (!isfinite(*out) || *out < 0) {
        vm_raise(vm, E_VALUE, "%s: duration must be a non-negative number of seconds", fname);
        return false;
    }
    return true;
}

/* A pending task that resolves with nil after `secs`. */
static qval timer_task(qvm *vm, double secs, const char *name)
{
    qtask *t = task_new_pending(vm, name);
    sleeper *sl = malloc(sizeof *sl);
    if (!sl)
        return vm_raise(vm, E_RUNTIME, "out of memory");
    sl->vm = vm;
    sl->task = t;
    uv_timer_init(vm_loop(vm), &sl->timer);
    sl->timer.data = sl;
    uv_timer_start(&sl->timer, sleeper_fired, (uint64_t)llround(secs * 1000.0), 0);
    task_set_cancel(t, sleeper_cancel, sl);
    return task_value(t);
}

static qval as_sleep(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    double secs;
    if (!seconds_arg(vm, "async.sleep", argv[0], &secs))
        return qv_exc();
    return timer_task(vm, secs, "sleep");
}

static qval as_after(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    double secs;
    if (!seconds_arg(vm, "async.after", argv[0], &secs))
        return qv_exc();
    return timer_task(vm, secs, "after");
}

/* Let other ready tasks run: a zero-length timer. */
static qval as_yield_now(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc, (void)argv;
    return timer_task(vm, 0, "yield");
}

/* ---- spawning and blocking ---------------------------------------------------- */

static qval name_kw(qvm *vm)
{
    qdict *kw = vm_kwargs(vm);
    qval name = qv_nil();
    if (kw)
        dict_get_cstr(kw, "name", &name);
    return name;
}

static qval as_spawn(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    qval name = name_kw(vm);
    if (!IS_NIL(name) && !IS_STR(name))
        return vm_raise(vm, E_TYPE, "async.spawn: name must be a Str");
    qval t = task_of(argv[0]) ? argv[0] : task_spawn(vm, argv[0], 0, NULL, true);
    if (!IS_EXC(t) && IS_STR(name))
        vm_task_set_name(task_of(t), AS_STR(name));
    return t;
}

static qval as_block_on(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    qval t = task_of(argv[0]) ? argv[0] : vm_call(vm, argv[0], 0, NULL);
    if (IS_EXC(t))
        return t;
    return vm_block_on(vm, t);
}

static qval as_current(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc, (void)argv;
    qtask *t = vm_current_task(vm);
    return t ? task_value(t) : qv_nil();
}

static qval as_is_cancelled(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc, (void)argv;
    qtask *t = vm_current_task(vm);
    return qv_bool(t && vm_task_cancelled(t));
}

/* ---- channels and select ----------------------------------------------------------- */

static qval as_channel(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self;
    qval cap = argc ? argv[0] : qv_nil();
    qdict *kw = vm_kwargs(vm);
    if (kw)
        dict_get_cstr(kw, "capacity", &cap);
    if (IS_NIL(cap))
        return qv_obj(channel_new(vm, -1));
    int64_t n;
    if (!arg_int(vm, "async.channel", cap, &n))
        return qv_exc();
    if (n < 0)
        return vm_raise(vm, E_VALUE, "async.channel: capacity must be >= 0, got %lld", (long long)n);
    return qv_obj(channel_new(vm, n));
}

static qval as_select(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    qarray *sources;
    if (!arg_array(vm, "async.select", argv[0], &sources))
        return qv_exc();
    if (sources->len == 0)
        return vm_raise(vm, E_VALUE, "async.select needs at least one source");
    return channel_select(vm, sources);
}

/* ---- task-locals ----------------------------------------------------------------------- */

static qval as_task_local(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self;
    qstr *key;
    if (!arg_str(vm, "async.task_local", argv[0], &key))
        return qv_exc();
    qdict *locals = task_locals(vm);
    if (!locals)
        return vm_raise(vm, E_RUNTIME, "async.task_local needs a running task");
    if (argc == 2) {
        dict_set(vm, locals, key, argv[1]);
        return argv[1];
    }
    qval v = qv_nil();
    dict_get(locals, key, &v);
    return v;
}

static const qmethod_def async_fns[] = {
    {"sleep", as_sleep, 1, 1, false},
    {"after", as_after, 1, 1, false},
    {"yield_now", as_yield_now, 0, 0, false},
    {"spawn", as_spawn, 1, 1, true},
    {"block_on", as_block_on, 1, 1, false},
    {"current", as_current, 0, 0, false},
    {"is_cancelled", as_is_cancelled, 0, 0, false},
    {"channel", as_channel, 0, 1, true},
    {"select", as_select, 1, 1, false},
    {"task_local", as_task_local, 1, 2, false},
    {NULL, NULL, 0, 0, false},
};

bool async_module_init(qvm *vm, qmodule *m)
{
    module_export_fns(vm, m, async_fns);
    module_export(vm, m, "TimeoutErr", qv_obj(vm_err_type(vm, E_TIMEOUT)));
    module_export(vm, m, "CancelledErr", qv_obj(vm_err_type(vm, E_CANCELLED)));
    module_export(vm, m, "Task", qv_obj(vm_builtin_type(vm, QC_TASK)));
    module_export(vm, m, "Channel", qv_obj(vm_builtin_type(vm, QC_CHANNEL)));
    return true;
}
