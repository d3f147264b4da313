/* vm_options.c — the qvm_options every command starts from.
 *
 * Kept apart from cli.c so that the parser (and its unit test and fuzz
 * target) does not pull the whole standard library in at link time. */
#include <stdlib.h>
#include <string.h>

#include "config/cli.h"
#include "modules/modules.h"

void quest_vm_options(const quest_cli *cli, qvm_options *opts)
{
    const char *stress = getenv("QUEST_GC_STRESS");

    memset(opts, 0, sizeof *opts);
    opts->native_modules = quest_native_modules;
    opts->embedded_sources = quest_embedded_sources;
    opts->gc_stress = stress && strcmp(stress, "1") == 0;
    opts->argc = cli->script_argc;
    opts->argv = cli->script_argv;
}
