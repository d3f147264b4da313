/* registry.c — the native modules compiled into quest.  `use "std/x"`
 * finds its entry here (see vm/modules.c for the lookup order). */
#include "modules/modules.h"

const qnative_module quest_native_modules[] = {
    {"std/io", io_module_init},
    {"std/math", math_module_init},
    {"std/sys", sys_module_init},
    {"std/term", term_module_init},
    {"std/time", time_module_init},
    {NULL, NULL},
};
