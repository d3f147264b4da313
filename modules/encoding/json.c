/* json.c — std/encoding/json: parse, stringify and friends.
 *
 * The parser and the serialiser are json_parse.c and json_write.c; the
 * path helpers (get, set, contains, merge) are written in Quest in
 * modules/std/encoding/json.q, which the loader runs over this module.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/encoding/json.h"
#include "modules/modules.h"

/* The text argument of parse & co: a Str, or Bytes holding UTF-8. */
static bool json_text_arg(qvm *vm, const char *fname, qval v, const char **text, size_t *len)
{
    if (IS_STR(v)) {
        *text = AS_STR(v)->data;
        *len = AS_STR(v)->len;
        return true;
    }
    if (IS_BYTES(v)) {
        *text = (const char *)AS_BYTES(v)->data;
        *len = AS_BYTES(v)->len;
        return true;
    }
    vm_raise(vm, E_TYPE, "%s expects Str, got %s", fname, vm_cls_name(v));
    return false;
}

static qval json_parse_fn(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    const char *text;
    size_t len;
    if (!json_text_arg(vm, "json.parse", argv[0], &text, &len))
        return qv_exc();
    return json_parse(vm, text, len);
}

/* try_parse(text): the value, or nil when text is not valid JSON. */
static qval json_try_parse(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    const char *text;
    size_t len;
    if (!json_text_arg(vm, "json.try_parse", argv[0], &text, &len))
        return qv_exc();
    qval v = json_parse(vm, text, len);
    if (IS_EXC(v)) {
        vm_take_exc(vm);
        return qv_nil();
    }
    return v;
}

static qval json_is_valid(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    const char *text;
    size_t len;
    if (!json_text_arg(vm, "json.is_valid", argv[0], &text, &len))
        return qv_exc();
    qval v = json_parse(vm, text, len);
    if (IS_EXC(v))
        vm_take_exc(vm);
    return qv_bool(!IS_EXC(v));
}

static qval json_result(qstr *s)
{
    return s ? qv_obj(s) : qv_exc();
}

/* stringify(value, pretty = false) */
static qval json_stringify_fn(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self;
    bool pretty = argc > 1 && vm_truthy(argv[1]);
    return json_result(json_stringify(vm, argv[0], pretty ? 2 : -1));
}

/* The indent argument of stringify_pretty and to_file. */
static bool json_indent_arg(qvm *vm, const char *fname, qval v, int *indent)
{
    int64_t i;
    if (!arg_int(vm, fname, v, &i))
        return false;
    if (i < 0 || i > 64) {
        vm_raise(vm, E_VALUE, "%s: indent must be between 0 and 64, got %lld", fname, (long long)i);
        return false;
    }
    *indent = (int)i;
    return true;
}

/* stringify_pretty(value, indent = 2) */
static qval json_stringify_pretty(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self;
    int indent = 2;
    if (argc > 1 && !json_indent_arg(vm, "json.stringify_pretty", argv[1], &indent))
        return qv_exc();
    return json_result(json_stringify(vm, argv[0], indent));
}

static qval json_is_array(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)self, (void)argc;
    return qv_bool(IS_ARRAY(argv[0]));
}

static qval json_is_object(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)self, (void)argc;
    return qv_bool(IS_DICT(argv[0]));
}

static qval json_parse_file(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    qstr *path;
    size_t len;
    if (!arg_str(vm, "json.parse_file", argv[0], &path))
        return qv_exc();
    char *text = buf_read_file(path->data, SIZE_MAX, &len);
    if (!text)
        return vm_raise(vm, E_IO, "Cannot read file '%s': %s", path->data, strerror(errno));
    qval v = json_parse(vm, text, len);
    free(text);
    return v;
}

/* to_file(value, path, pretty = false) */
static qval json_to_file(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self;
    qstr *path;
    if (!arg_str(vm, "json.to_file", argv[1], &path))
        return qv_exc();
    qstr *s = json_stringify(vm, argv[0], argc > 2 && vm_truthy(argv[2]) ? 2 : -1);
    if (!s)
        return qv_exc();
    FILE *f = fopen(path->data, "wb");
    if (!f)
        return vm_raise(vm, E_IO, "Cannot write file '%s': %s", path->data, strerror(errno));
    bool ok = fwrite(s->data, 1, s->len, f) == s->len;
    ok = (fclose(f) == 0) && ok;
    return ok ? qv_nil() : vm_raise(vm, E_IO, "Cannot write file '%s'", path->data);
}

static const qmethod_def json_functions[] = {
    {"parse", json_parse_fn, 1, 1, false},
    {"try_parse", json_try_parse, 1, 1, false},
    {"is_valid", json_is_valid, 1, 1, false},
    {"stringify", json_stringify_fn, 1, 2, false},
    {"stringify_pretty", json_stringify_pretty, 1, 2, false},
    {"is_array", json_is_array, 1, 1, false},
    {"is_object", json_is_object, 1, 1, false},
    {"parse_file", json_parse_file, 1, 1, false},
    {"to_file", json_to_file, 2, 3, false},
    {NULL, NULL, 0, 0, false},
};

bool json_module_init(qvm *vm, qmodule *m)
{
    module_export_fns(vm, m, json_functions);
    return true;
}
