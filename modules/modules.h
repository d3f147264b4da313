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
bool async_module_init(qvm *vm, qmodule *m);
bool b64_module_init(qvm *vm, qmodule *m);
bool bzip2_module_init(qvm *vm, qmodule *m);
bool crypto_module_init(qvm *vm, qmodule *m);
bool csv_module_init(qvm *vm, qmodule *m);
bool deflate_module_init(qvm *vm, qmodule *m);
bool gzip_module_init(qvm *vm, qmodule *m);
bool hash_module_init(qvm *vm, qmodule *m);
bool hex_module_init(qvm *vm, qmodule *m);
bool http_client_module_init(qvm *vm, qmodule *m);
bool io_module_init(qvm *vm, qmodule *m);
bool json_module_init(qvm *vm, qmodule *m);
bool markdown_module_init(qvm *vm, qmodule *m);
bool math_module_init(qvm *vm, qmodule *m);
bool os_module_init(qvm *vm, qmodule *m);
bool postgres_module_init(qvm *vm, qmodule *m);
bool process_module_init(qvm *vm, qmodule *m);
bool rand_module_init(qvm *vm, qmodule *m);
bool regex_module_init(qvm *vm, qmodule *m);
bool sqlite_module_init(qvm *vm, qmodule *m);
bool struct_module_init(qvm *vm, qmodule *m);
bool sys_module_init(qvm *vm, qmodule *m);
bool templates_module_init(qvm *vm, qmodule *m);
bool term_module_init(qvm *vm, qmodule *m);
bool time_module_init(qvm *vm, qmodule *m);
bool toml_module_init(qvm *vm, qmodule *m);
bool url_module_init(qvm *vm, qmodule *m);
bool urlparse_module_init(qvm *vm, qmodule *m);
bool uuid_module_init(qvm *vm, qmodule *m);
bool web_module_init(qvm *vm, qmodule *m);
bool zlib_module_init(qvm *vm, qmodule *m);

#endif
