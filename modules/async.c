/* async.c — std/async: timers, spawning and blocking, channels and select,
 * task-locals.  The machinery (tasks, scheduler, timers, channels) is in
 * vm/; this is the Quest-facing surface (DESIGN.md "std/async API").  The
 * combinators are in async_join.c, task groups in async_group.c. */
#include <math.h>
#include <string.h>

#include "modules/async.h"

/* ---- helpers shared by the async files ------------------------------------ */

qval async_start(qvm *vm, const char *fname, qval task_or_fn, bool fresh)
{
    if (task_of(task_or_fn))
        return task_or_fn;
    if (!vm_is_callable(task_or_fn))
        return vm_raise(vm, E_TYPE, "%s expects a Task or a function, got %s", fname,
                        vm_cls_name(task_or_fn));
    return task_spawn(vm, task_or_fn, 0, NULL, fresh);
}

qexc *async_failure(qvm *vm, qtask *t)
{
    qexc *pending = vm_take_exc(vm);
    task_result(vm, t);
    qexc *e = vm_take_exc(vm);
    if (pending)
        vm_raise_exc(vm, pending);
    return e;
}

bool async_seconds(qvm *vm, const char *fname, qval v, double *out)
{
    if (!arg_num(vm, fname, v, out))
        return false;
    if (!isfinite(*out) || *out < 0) {
        vm_raise(vm, E_VALUE, "%s: duration must be a non-negative number of seconds", fname);
        return false;
    }
    return true;
}

bool async_name_kw(qvm *vm, const char *fname, qval *out)
{
    qdict *kw = vm_kwargs(vm);
    *out = qv_nil();
    if (kw) {
        for (uint32_t i = 0; i < kw->used; i++) {
            qstr *k = kw->entries[i].key;
            if (k && strcmp(k->data, "name") != 0) {
                vm_raise(vm, E_ARG, "%s got an unexpected keyword argument '%s'", fname, k->data);
                return false;
            }
        }
        dict_get_cstr(kw, "name", out);
    }
    if (!IS_NIL(*out) && !IS_STR(*out)) {
        vm_raise(vm, E_TYPE, "%s: name must be a Str, got %s", fname, vm_cls_name(*out));
        return false;
    }
    return true;
}

/* ---- timers ------------------------------------------------------------------ */

static qval as_sleep(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    double secs;
    if (!async_seconds(vm, "async.sleep", argv[0], &secs))
        return qv_exc();
    return task_value(task_sleep(vm, secs));
}

static qval as_after(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    double secs;
    if (!async_seconds(vm, "async.after", argv[0], &secs))
        return qv_exc();
    return task_value(task_sleep(vm, secs));
}

/* Let other ready tasks and I/O callbacks run: a zero-length sleep, which
 * resumes after one turn of the event loop. */
static qval as_yield_now(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc, (void)argv;
    return task_value(task_sleep(vm, 0));
}

/* ---- spawning and blocking ------------------------------------------------------ */

static qval as_spawn(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    qval name;
    if (!async_name_kw(vm, "async.spawn", &name))
        return qv_exc();
    qval t = async_start(vm, "async.spawn", argv[0], true);
    if (!IS_EXC(t) && IS_STR(name))
        vm_task_set_name(task_of(t), AS_STR(name));
    return t;
}

static qval as_block_on(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    qval t = async_start(vm, "async.block_on", argv[0], false);
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

/* ---- channels and select ------------------------------------------------------------ */

static qval as_channel(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self;
    qval cap = argc ? argv[0] : qv_nil();
    qdict *kw = vm_kwargs(vm);
    if (kw && kw->count) {
        if (argc || kw->count > 1 || !dict_get_cstr(kw, "capacity", &cap))
            return vm_raise(vm, E_ARG, "async.channel takes one argument: capacity");
    }
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

/* ---- task-locals ------------------------------------------------------------------------- */

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

static qval as_with_context(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    qdict *ctx;
    if (!arg_dict(vm, "async.with_context", argv[0], &ctx))
        return qv_exc();
    if (!vm_is_callable(argv[1]))
        return vm_raise(vm, E_TYPE, "async.with_context expects a function, got %s",
                        vm_cls_name(argv[1]));
    return task_with_locals(vm, argv[1], ctx);
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
    {"with_context", as_with_context, 2, 2, false},
    {NULL, NULL, 0, 0, false},
};

bool async_module_init(qvm *vm, qmodule *m)
{
    module_export_fns(vm, m, async_fns);
    async_join_export(vm, m);
    async_group_export(vm, m);
    module_export(vm, m, "TimeoutErr", qv_obj(vm_err_type(vm, E_TIMEOUT)));
    module_export(vm, m, "CancelledErr", qv_obj(vm_err_type(vm, E_CANCELLED)));
    module_export(vm, m, "Task", qv_obj(vm_builtin_type(vm, QC_TASK)));
    module_export(vm, m, "Channel", qv_obj(vm_builtin_type(vm, QC_CHANNEL)));
    return true;
}
