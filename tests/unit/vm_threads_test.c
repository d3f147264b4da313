/* Two VMs on two threads at once: nothing in vm/ may be shared mutable
 * state.  Each thread builds strings, dicts and closures (exercising the
 * allocator, the intern table and the GC) and checks its own result. */
#include <pthread.h>
#include <stdlib.h>

#include "tap.h"
#include "modules/modules.h"

typedef struct job {
    int seed;
    int64_t result;
    bool ok;
} job;

static const char *program =
    "fun make_adder(n) fun (x) x + n end end\n"
    "let total = 0\n"
    "let d = {}\n"
    "for i in 0 until 20000\n"
    "  let key = \"k\" .. (i % 500)\n"
    "  d[key] = (d[key] ?: 0) + 1\n"
    "  total = make_adder(SEED)(total)\n"
    "end\n"
    "total + d.len()\n";

static void *run_job(void *arg)
{
    job *j = arg;
    qvm_options opts = {0};
    opts.native_modules = quest_native_modules;
    opts.embedded_sources = quest_embedded_sources;
    qvm *vm = vm_new(&opts);
    char src[1024];
    snprintf(src, sizeof src, "const SEED = %d\n%s", j->seed, program);
    qval r = vm_run_string(vm, "<thread>", src);
    j->ok = IS_INT(r);
    j->result = j->ok ? r.as.i : -1;
    if (!j->ok)
        vm_report_exc(vm, stderr);
    vm_free(vm);
    return NULL;
}

int main(void)
{
    plan(4);
    job jobs[2] = {{.seed = 3}, {.seed = 7}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, run_job, &jobs[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    ok(jobs[0].ok, "first VM ran");
    is_int(jobs[0].result, 3 * 20000 + 500, "first VM's result");
    ok(jobs[1].ok, "second VM ran");
    is_int(jobs[1].result, 7 * 20000 + 500, "second VM's result");
    return done_testing();
}
