/* template_fuzz.c — the template compiler and renderer on arbitrary bytes.
 *
 * The input is cut at each "\n--\n" into up to three templates, "a.html",
 * "b" and "c.html", which may include, extend and import one another.
 * Each must either compile or give a syntax error; when all compile,
 * "a.html" is rendered against a small fixed context with a work budget
 * (so `{% for %}` nests cannot run for ever) and must either render or
 * raise — never crash, leak or read out of bounds.
 *
 *   ninja -C build-fuzz && build-fuzz/tests/fuzz/template_fuzz \
 *       -dict=tests/fuzz/template.dict [CORPUS_DIR]
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "modules/templates/tpl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One VM for the whole run, with the context rooted for its lifetime. */
static qvm *fz_vm;
static qdict *fz_ctx;

static void fz_init(void)
{
    qvm *vm = fz_vm = vm_new(NULL);
    if (!vm)
        abort();
    qdict *ctx = fz_ctx = dict_new(vm);
    vm_push_root(vm, qv_obj(ctx));
    qdict *d = dict_new(vm);
    dict_set_cstr(vm, d, "a", qv_int(1));
    dict_set_cstr(vm, d, "s", qv_obj(str_cstr(vm, "<b>&'\"/")));
    qarray *items = arr_new(vm, 4);
    arr_push(vm, items, qv_int(1));
    arr_push(vm, items, qv_obj(str_cstr(vm, "two")));
    arr_push(vm, items, qv_obj(d));
    arr_push(vm, items, qv_float(2.5));
    dict_set_cstr(vm, ctx, "name", qv_obj(str_cstr(vm, "h\xC3\xA9llo w\xC3\xB6rld")));
    dict_set_cstr(vm, ctx, "n", qv_int(3));
    dict_set_cstr(vm, ctx, "big", qv_int(INT64_MAX));
    dict_set_cstr(vm, ctx, "f", qv_float(-1.5));
    dict_set_cstr(vm, ctx, "t", qv_bool(true));
    dict_set_cstr(vm, ctx, "z", qv_nil());
    dict_set_cstr(vm, ctx, "items", qv_obj(items));
    dict_set_cstr(vm, ctx, "d", qv_obj(d));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"a.html", "b", "c.html"};
    static unsigned runs;
    if (!fz_vm)
        fz_init();
    qvm *vm = fz_vm;
    tpl_engine eng = {0};
    const char *p = (const char *)data, *end = p + size;
    bool ok = true;
    for (int i = 0; i < 3 && ok && p <= end; i++) {
        const char *cut = memmem(p, (size_t)(end - p), "\n--\n", 4);
        size_t len = (size_t)((cut ? cut : end) - p);
        tpl_error err;
        tpl_template *t = tpl_parse(vm, str_intern_cstr(vm, names[i]), p, len, &err);
        ok = t && tpl_engine_put(&eng, t);
        if (!cut)
            break;
        p = cut + 4;
    }
    if (ok) {
        qval r = tpl_render(vm, &eng, eng.tpls[0], fz_ctx, 20000);
        if (IS_EXC(r))
            vm_take_exc(vm);
    }
    tpl_engine_free(&eng);
    if (++runs % 512 == 0)
        vm_gc(vm); /* drop the strings of templates already freed */
    return 0;
}
