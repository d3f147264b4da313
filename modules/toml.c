/* toml.c — std/toml: toml.parse(text) turns a TOML document into Quest
 * values.
 *
 * Tables become Dicts (keys in document order), arrays Arrays, strings Str,
 * integers Int, floats Float, booleans Bool; dates and times become Str in
 * TOML's own notation ("1979-05-27T07:32:00Z"), as the reference does.  A
 * malformed document raises ValueErr naming the line and column.  The
 * parser itself is modules/toml_parse.c.
 */
#include "modules/modules.h"
#include "modules/toml.h"

static qval toml_to_quest(qvm *vm, const toml_value *v)
{
    switch (v->kind) {
    case TOML_STRING:
    case TOML_DATETIME:
        return qv_obj(str_new(vm, v->u.str.data, v->u.str.len));
    case TOML_INT:
        return qv_int(v->u.i);
    case TOML_FLOAT:
        return qv_float(v->u.f);
    case TOML_BOOL:
        return qv_bool(v->u.b);
    case TOML_ARRAY: {
        qarray *a = arr_new(vm, (uint32_t)v->u.arr.len);
        for (size_t i = 0; i < v->u.arr.len; i++)
            arr_push(vm, a, toml_to_quest(vm, v->u.arr.items[i]));
        return qv_obj(a);
    }
    case TOML_TABLE: {
        qdict *d = dict_new(vm);
        for (size_t i = 0; i < v->u.tab.len; i++) {
            const toml_entry *e = &v->u.tab.items[i];
            dict_set(vm, d, str_new(vm, e->key, e->key_len), toml_to_quest(vm, e->val));
        }
        return qv_obj(d);
    }
    }
    return qv_nil();
}

static qval toml_parse_value(qvm *vm, const char *src, size_t len)
{
    toml_error err;
    toml_value *root = toml_parse(src, len, &err);
    if (!root)
        return vm_raise(vm, E_VALUE, "TOML parse error: %s at line %d column %d", err.msg,
                        err.line, err.column);
    qval r = toml_to_quest(vm, root);
    toml_free(root);
    return r;
}

static qval toml_parse_fn(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    qstr *text;
    if (!arg_str(vm, "toml.parse", argv[0], &text))
        return qv_exc();
    return toml_parse_value(vm, text->data, text->len);
}

static const qmethod_def toml_functions[] = {
    {"parse", toml_parse_fn, 1, 1, false},
    {NULL, NULL, 0, 0, false},
};

bool toml_module_init(qvm *vm, qmodule *m)
{
    module_export_fns(vm, m, toml_functions);
    return true;
}
