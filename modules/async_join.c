/* async_join.c — std/async combinators: timeout, join_all, try_join_all,
 * race and race_ok.
 *
 * Each returns a native task (an "aggregator") that watches its sources
 * and settles from their completions; no Quest code runs for it.  Its hold
 * is an Array [remaining, source...]: the sources stay alive as long as it
 * is pending, and the count of unfinished ones lives in a GC-managed slot.
 * Plain values among the sources count as already finished.
 *
 * Cancelling an aggregator (directly, or by cancelling the task that
 * awaits it) cancels the sources it still waits for; race and race_ok also
 * cancel the losers once they have a winner.  join_all fails as soon as a
 * source fails, leaving the others running (their owner's end cancels
 * them).
 */
#include "modules/async.h"

/* ---- aggregators ------------------------------------------------------------ */

/* The hold array (also the task's data, for the callbacks). */
static qarray *agg_hold(qtask *agg)
{
    return task_data(agg);
}

/* The hold array: [remaining, source...]. */
static qarray *hold_new(qvm *vm, qtask *agg, qarray *sources)
{
    qarray *h = arr_new(vm, sources->len + 1);
    arr_push(vm, h, qv_int(0));
    for (uint32_t i = 0; i < sources->len; i++) {
        qval s = sources->items[i];
        if (!task_of(s)) { /* a plain value: an already finished source */
            qtask *done = task_new_pending(vm, NULL);
            task_resolve(vm, done, s);
            s = task_value(done);
        }
        arr_push(vm, h, s);
    }
    task_hold(agg, qv_obj(h));
    task_set_data(agg, h);
    return h;
}

static qtask *source_at(qarray *h, uint32_t i)
{
    return task_of(h->items[i + 1]);
}

static uint32_t source_count(qarray *h)
{
    return h->len - 1;
}

/* Stop watching every source; with cancel, also cancel the unfinished. */
static void agg_release(qvm *vm, qtask *agg, qarray *h, bool cancel)
{
    for (uint32_t i = 0; i < source_count(h); i++)
        task_unwatch(agg, source_at(h, i));
    for (uint32_t i = 0; cancel && i < source_count(h); i++)
        if (!task_is_done(source_at(h, i)))
            task_cancel(vm, source_at(h, i));
}

/* Finish agg as the source finished: its value or its error. */
static void agg_settle_as(qvm *vm, qtask *agg, qtask *src)
{
    if (task_failed(src))
        task_reject(vm, agg, async_failure(vm, src));
    else
        task_resolve(vm, agg, task_result(vm, src));
}

static void agg_cancel(qvm *vm, qtask *agg, void *data)
{
    (void)data;
    agg_release(vm, agg, agg_hold(agg), true);
}

/* Make an aggregator over sources and feed it the ones already finished;
 * the rest are watched.  wake is called once per source completion. */
static qtask *agg_start(qvm *vm, const char *name, qarray *sources, qtask_wake_fn wake)
{
    qtask *agg = task_new_pending(vm, name);
    qarray *h = hold_new(vm, agg, sources);
    h->items[0] = qv_int(source_count(h));
    task_set_wake(agg, wake);
    task_set_cancel(agg, agg_cancel, NULL);
    for (uint32_t i = 0; i < source_count(h) && !task_is_done(agg); i++) {
        qtask *src = source_at(h, i);
        if (task_is_done(src))
            wake(vm, agg, src);
        else
            task_watch(vm, agg, src);
    }
    return agg;
}

/* Count one finished source; true when it was the last. */
static bool agg_count_down(qtask *agg)
{
    qarray *h = agg_hold(agg);
    return --h->items[0].as.i == 0;
}

/* ---- join_all / try_join_all ------------------------------------------------------- */

static void join_all_complete(qvm *vm, qtask *agg)
{
    qarray *h = agg_hold(agg);
    qarray *out = arr_new(vm, source_count(h));
    for (uint32_t i = 0; i < source_count(h); i++)
        arr_push(vm, out, task_result(vm, source_at(h, i)));
    task_resolve(vm, agg, qv_obj(out));
}

static void join_all_wake(qvm *vm, qtask *agg, qtask *src)
{
    if (task_failed(src)) {
        agg_release(vm, agg, agg_hold(agg), false);
        task_reject(vm, agg, async_failure(vm, src));
    } else if (agg_count_down(agg)) {
        join_all_complete(vm, agg);
    }
}

/* {ok: values of the tasks that succeeded, err: errors of the others},
 * each in the order of the list. */
static void try_join_all_complete(qvm *vm, qtask *agg)
{
    qarray *h = agg_hold(agg);
    qarray *ok = arr_new(vm, 0), *err = arr_new(vm, 0);
    qdict *d = dict_new(vm);
    dict_set_cstr(vm, d, "ok", qv_obj(ok));
    dict_set_cstr(vm, d, "err", qv_obj(err));
    for (uint32_t i = 0; i < source_count(h); i++) {
        qtask *s = source_at(h, i);
        if (task_failed(s))
            arr_push(vm, err, qv_obj(async_failure(vm, s)));
        else
            arr_push(vm, ok, task_result(vm, s));
    }
    task_resolve(vm, agg, qv_obj(d));
}

static void try_join_all_wake(qvm *vm, qtask *agg, qtask *src)
{
    (void)src;
    if (agg_count_down(agg))
        try_join_all_complete(vm, agg);
}

/* ---- race / race_ok -------------------------------------------------------------------- */

static void race_wake(qvm *vm, qtask *agg, qtask *src)
{
    qarray *h = agg_hold(agg);
    agg_release(vm, agg, h, false);
    agg_settle_as(vm, agg, src);
    agg_release(vm, agg, h, true); /* the losers */
}

/* The first success wins; when every source fails, the last error. */
static void race_ok_wake(qvm *vm, qtask *agg, qtask *src)
{
    bool last = agg_count_down(agg);
    if (task_failed(src) && !last)
        return;
    race_wake(vm, agg, src);
}

/* ---- the functions ------------------------------------------------------------------------ */

static qval combine(qvm *vm, const char *fname, qval list, qtask_wake_fn wake,
                    void (*complete)(qvm *vm, qtask *agg))
{
    qarray *sources;
    if (!arg_array(vm, fname, list, &sources))
        return qv_exc();
    if (!complete && sources->len == 0)
        return vm_raise(vm, E_VALUE, "%s needs at least one task", fname);
    qtask *agg = agg_start(vm, fname + sizeof "async." - 1, sources, wake);
    if (sources->len == 0) /* nothing to wait for */
        complete(vm, agg);
    return task_value(agg);
}

static qval as_join_all(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    return combine(vm, "async.join_all", argv[0], join_all_wake, join_all_complete);
}

static qval as_try_join_all(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    return combine(vm, "async.try_join_all", argv[0], try_join_all_wake, try_join_all_complete);
}

static qval as_race(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    return combine(vm, "async.race", argv[0], race_wake, NULL);
}

static qval as_race_ok(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    return combine(vm, "async.race_ok", argv[0], race_ok_wake, NULL);
}

/* ---- timeout ----------------------------------------------------------------------------------- */

/* hold (and data): [inner, timer, seconds] */
static void timeout_wake(qvm *vm, qtask *agg, qtask *src)
{
    qarray *h = task_data(agg);
    qtask *inner = task_of(h->items[0]), *timer = task_of(h->items[1]);
    task_unwatch(agg, inner);
    task_unwatch(agg, timer);
    if (src == timer) {
        task_cancel(vm, inner);
        qstr *msg = str_printf(vm, "timed out after %g seconds", h->items[2].as.f);
        task_reject(vm, agg, exc_new(vm, vm_err_type(vm, E_TIMEOUT), msg));
        return;
    }
    task_cancel(vm, timer);
    agg_settle_as(vm, agg, inner);
}

static void timeout_cancel(qvm *vm, qtask *agg, void *data)
{
    (void)data;
    qarray *h = task_data(agg);
    for (int i = 0; i < 2; i++) {
        task_unwatch(agg, task_of(h->items[i]));
        task_cancel(vm, task_of(h->items[i]));
    }
}

static qval as_timeout(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    double secs;
    if (!async_seconds(vm, "async.timeout", argv[1], &secs))
        return qv_exc();
    qval inner = async_start(vm, "async.timeout", argv[0], false);
    if (IS_EXC(inner) || task_is_done(task_of(inner)))
        return inner;
    qtask *agg = task_new_pending(vm, "timeout");
    qtask *timer = task_sleep(vm, secs);
    qarray *h = arr_new(vm, 3);
    arr_push(vm, h, inner);
    arr_push(vm, h, task_value(timer));
    arr_push(vm, h, qv_float(secs));
    task_hold(agg, qv_obj(h));
    task_set_data(agg, h);
    task_set_wake(agg, timeout_wake);
    task_set_cancel(agg, timeout_cancel, NULL);
    task_watch(vm, agg, task_of(inner));
    task_watch(vm, agg, timer);
    return task_value(agg);
}

static const qmethod_def join_fns[] = {
    {"timeout", as_timeout, 2, 2, false},
    {"join_all", as_join_all, 1, 1, false},
    {"try_join_all", as_try_join_all, 1, 1, false},
    {"race", as_race, 1, 1, false},
    {"race_ok", as_race_ok, 1, 1, false},
    {NULL, NULL, 0, 0, false},
};

void async_join_export(qvm *vm, qmodule *m)
{
    module_export_fns(vm, m, join_fns);
}
