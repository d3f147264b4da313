/* settings_env.c — export .settings.toml's [os.environ] at startup.
 *
 * The reference reads ./.settings.toml before any Quest code runs and puts
 * the string values of its [os.environ] table into the environment, so a
 * program (and the libraries it loads) sees them through os.getenv from
 * its first line.  std/settings (modules/std/settings.q) reads the same
 * file again for the program's own lookups, leaving [os] out.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config/settings_env.h"
#include "modules/toml.h"
#include "vm/vm.h"

#define SETTINGS_FILE ".settings.toml"

static void se_export(const toml_value *environ)
{
    for (size_t i = 0; i < environ->u.tab.len; i++) {
        const toml_entry *e = &environ->u.tab.items[i];
        /* setenv cannot take a name with '=' or a NUL in it, nor a value with a NUL */
        if (e->val->kind == TOML_STRING && e->key_len > 0 && strlen(e->key) == e->key_len &&
            !strchr(e->key, '=') && strlen(e->val->u.str.data) == e->val->u.str.len)
            setenv(e->key, e->val->u.str.data, 1);
    }
}

bool quest_settings_export_env(FILE *err)
{
    size_t len;
    char *src = buf_read_file(SETTINGS_FILE, SIZE_MAX, &len);
    if (!src) {
        if (errno == ENOENT)
            return true;
        fprintf(err, "Error loading %s: %s\n", SETTINGS_FILE, strerror(errno));
        return false;
    }
    toml_error perr;
    toml_value *root = toml_parse(src, len, &perr);
    free(src);
    if (!root) {
        fprintf(err, "Error loading %s: %s at line %d column %d\n", SETTINGS_FILE, perr.msg,
                perr.line, perr.column);
        return false;
    }
    const toml_value *environ = toml_get(toml_get(root, "os"), "environ");
    if (environ && environ->kind == TOML_TABLE)
        se_export(environ);
    toml_free(root);
    return true;
}
