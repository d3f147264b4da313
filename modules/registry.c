/* registry.c — the native modules compiled into quest.  `use "std/x"`
 * finds its entry here (see vm/modules.c for the lookup order). */
#include "modules/modules.h"

const qnative_module quest_native_modules[] = {
    {"std/async", async_module_init},
    {"std/compress/bzip2", bzip2_module_init},
    {"std/compress/deflate", deflate_module_init},
    {"std/compress/gzip", gzip_module_init},
    {"std/compress/zlib", zlib_module_init},
    {"std/crypto", crypto_module_init},
    {"std/encoding/b64", b64_module_init},
    {"std/encoding/csv", csv_module_init},
    {"std/encoding/hex", hex_module_init},
    {"std/encoding/json", json_module_init},
    {"std/encoding/struct", struct_module_init},
    {"std/encoding/url", url_module_init},
    {"std/hash", hash_module_init},
    {"std/html/templates", templates_module_init},
    {"std/http/urlparse", urlparse_module_init},
    {"std/io", io_module_init},
    {"std/markdown", markdown_module_init},
    {"std/math", math_module_init},
    {"std/os", os_module_init},
    {"std/process", process_module_init},
    {"std/rand", rand_module_init},
    {"std/regex", regex_module_init},
    {"std/sys", sys_module_init},
    {"std/term", term_module_init},
    {"std/time", time_module_init},
    {"std/toml", toml_module_init},
    {"std/uuid", uuid_module_init},
    {NULL, NULL},
};
