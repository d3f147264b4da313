/* modules.h — the standard library as the VM sees it: two tables handed to
 * vm_new() in qvm_options.  Both end with an all-NULL entry. */
#ifndef QUEST_MODULES_H
#define QUEST_MODULES_H

#include "vm/vm.h"

/* Native modules ("std/time" -> init function): modules/registry.c. */
extern const qnative_module quest_native_modules[];

/* Quest-written modules ("std/test" -> source text), generated at build time
 * from modules/std/ by scripts/embed.py. */
extern const qembedded_source quest_embedded_sources[];

/* Initialisers of the native modules (one per modules/<name>.c), listed
 * in quest_native_modules[]. */
bool io_module_init(qvm *vm, qmodule *m);
bool math_module_init(qvm *vm, qmodule *m);
bool sys_module_init(qvm *vm, qmodule *m);
bool term_module_init(qvm *vm, qmodule *m);
bool time_module_init(qvm *vm, qmodule *m);

#endif
