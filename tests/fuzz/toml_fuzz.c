/* toml_fuzz.c — the TOML parser on arbitrary bytes.
 *
 * Every input either parses or fails with a position inside the input and
 * a message, never a crash, leak or out-of-bounds read.  A tree that comes
 * back must hold what the parser promises: valid UTF-8 in every string and
 * key, no key twice in a table, nesting within its bound, and lookups that
 * find each key.  Dictionary: tests/fuzz/toml.dict.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/toml.h"
#include "vm/vm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_fail(const char *what)
{
    fprintf(stderr, "toml_fuzz: %s\n", what);
    abort();
}

static void fuzz_check(const toml_value *v, int depth)
{
    if (depth > 300)
        fuzz_fail("tree deeper than the parser allows");
    switch (v->kind) {
    case TOML_STRING:
    case TOML_DATETIME:
        if (v->u.str.data[v->u.str.len] != '\0' || !utf8_valid(v->u.str.data, v->u.str.len))
            fuzz_fail("string not NUL-terminated UTF-8");
        break;
    case TOML_ARRAY:
        for (size_t i = 0; i < v->u.arr.len; i++)
            fuzz_check(v->u.arr.items[i], depth + 1);
        break;
    case TOML_TABLE:
        for (size_t i = 0; i < v->u.tab.len; i++) {
            const toml_entry *e = &v->u.tab.items[i];
            if (!utf8_valid(e->key, e->key_len))
                fuzz_fail("key not UTF-8");
            for (size_t j = 0; j < i; j++)
                if (v->u.tab.items[j].key_len == e->key_len &&
                    memcmp(v->u.tab.items[j].key, e->key, e->key_len) == 0)
                    fuzz_fail("duplicate key in a table");
            if (strlen(e->key) == e->key_len && toml_get(v, e->key) != e->val)
                fuzz_fail("toml_get does not find a key");
            fuzz_check(e->val, depth + 1);
        }
        break;
    default:
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    toml_error err;
    toml_value *root = toml_parse((const char *)data, size, &err);
    if (!root) {
        size_t lines = 1;
        for (size_t i = 0; i < size; i++)
            lines += data[i] == '\n';
        if (err.line < 1 || (size_t)err.line > lines || err.column < 1 || !err.msg[0])
            fuzz_fail("error without a sensible position or message");
        return 0;
    }
    if (root->kind != TOML_TABLE)
        fuzz_fail("root is not a table");
    fuzz_check(root, 0);
    toml_free(root);
    return 0;
}
