/* registry.c — the native modules compiled into quest.  `use "std/x"`
 * finds its entry here (see vm/modules.c for the lookup order). */
#include "modules/modules.h"

const qnative_module quest_native_modules[] = {
    {NULL, NULL},
};
