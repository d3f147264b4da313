/* time.c — std/time: clocks.
 *
 * ticks_ms() counts milliseconds on the monotonic clock (not moved by
 * changes of the wall clock) from the moment the module was first loaded in
 * this VM, which stands for "since the program started": it is meant for
 * measuring elapsed time.
 */
#include <stdlib.h>
#include <time.h>

#include "modules/modules.h"

static int64_t time_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The module's start instant; ticks_ms is bound to it. */
static const qcdata_class time_epoch_class = {"TimeEpoch", free, NULL, NULL};

static qval time_ticks_ms(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    const int64_t *start = cdata_get(vm, self, &time_epoch_class);
    return start ? qv_int(time_monotonic_ms() - *start) : qv_exc();
}

bool time_module_init(qvm *vm, qmodule *m)
{
    int64_t *start = malloc(sizeof *start);
    if (!start) {
        vm_raise(vm, E_RUNTIME, "std/time: out of memory");
        return false;
    }
    *start = time_monotonic_ms();
    qcdata *epoch = cdata_new(vm, vm_new_cdata_type(vm, "TimeEpoch", NULL), &time_epoch_class, start);
    qnative *ticks = native_new(vm, "ticks_ms", time_ticks_ms, 0, 0);
    ticks->bound = qv_obj(epoch);
    module_export(vm, m, "ticks_ms", qv_obj(ticks));
    return true;
}
