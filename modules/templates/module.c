/* module.c — std/html/templates: the Quest-facing template engine.
 *
 *   use "std/html/templates"
 *   let tmpl = templates.from_dir(glob)   # or templates.create()
 *   tmpl.add_template("hello", "Hello {{ name }}")
 *   tmpl.render("page.html", {"posts": posts})
 *   tmpl.render_str("{{ 1 + 2 }}", {})
 *
 * An HtmlTemplate is a module object (cdata) owning a tpl_engine; its mark
 * callback keeps the compiled templates' strings alive.  Every failure is a
 * RuntimeErr whose message starts "Template error:" as in the reference,
 * and names the template, line and column.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "modules/modules.h"
#include "modules/templates/tpl.h"

static void mod_finalize(void *data)
{
    tpl_engine_free(data);
    free(data);
}

static void mod_mark(qvm *vm, void *data)
{
    tpl_engine_mark(vm, data);
}

static const qcdata_class mod_class = {"HtmlTemplate", mod_finalize, mod_mark, NULL};

/* The name render_str gives its one-off template (not auto-escaped). */
static const char mod_one_off[] = "__tera_one_off";

static tpl_engine *mod_engine(qvm *vm, qval self)
{
    return cdata_get(vm, self, &mod_class);
}

static bool mod_context(qvm *vm, const char *fname, qval v, qdict **out)
{
    if (!IS_DICT(v)) {
        vm_raise(vm, E_RUNTIME, "%s expects second argument to be a Dict", fname);
        return false;
    }
    *out = AS_DICT(v);
    return true;
}

static qval mod_render(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    tpl_engine *e = mod_engine(vm, self);
    qstr *name;
    qdict *ctx;
    if (!e || !arg_str(vm, "render", argv[0], &name) || !mod_context(vm, "render", argv[1], &ctx))
        return qv_exc();
    tpl_template *t = tpl_engine_get(e, name);
    if (!t)
        return vm_raise(vm, E_RUNTIME, "Template error: Template '%s' not found", name->data);
    return tpl_render(vm, e, t, ctx, 0);
}

static qval mod_render_str(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    tpl_engine *e = mod_engine(vm, self);
    qstr *src;
    qdict *ctx;
    if (!e || !arg_str(vm, "render_str", argv[0], &src) ||
        !mod_context(vm, "render_str", argv[1], &ctx))
        return qv_exc();
    tpl_error err;
    qstr *name = str_intern_cstr(vm, mod_one_off);
    tpl_template *t = tpl_parse(vm, name, src->data, src->len, &err);
    if (!t)
        return vm_raise(vm, E_RUNTIME, "Template error: Failed to parse '%s' (line %u, column %u): %s",
                        mod_one_off, err.line, err.col, err.msg);
    qval r = tpl_render(vm, e, t, ctx, 0);
    tpl_template_free(t);
    return r;
}

static qval mod_add_template(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    tpl_engine *e = mod_engine(vm, self);
    qstr *name, *src;
    if (!e || !arg_str(vm, "add_template", argv[0], &name) ||
        !arg_str(vm, "add_template", argv[1], &src))
        return qv_exc();
    name = str_intern(vm, name->data, name->len);
    return tpl_engine_add(vm, e, name, src->data, src->len) ? qv_nil() : qv_exc();
}

static qval mod_add_template_file(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    tpl_engine *e = mod_engine(vm, self);
    qstr *name, *path;
    if (!e || !arg_str(vm, "add_template_file", argv[0], &name) ||
        !arg_str(vm, "add_template_file", argv[1], &path))
        return qv_exc();
    size_t len;
    char *src = buf_read_file(path->data, SIZE_MAX, &len);
    if (!src)
        return vm_raise(vm, E_RUNTIME, "Failed to read template file: %s (%s)", strerror(errno),
                        path->data);
    name = str_intern(vm, name->data, name->len);
    bool ok = tpl_engine_add(vm, e, name, src, len);
    free(src);
    return ok ? qv_nil() : qv_exc();
}

static qval mod_names(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    tpl_engine *e = mod_engine(vm, self);
    if (!e)
        return qv_exc();
    qarray *a = arr_new(vm, e->n);
    for (uint32_t i = 0; i < e->n; i++)
        arr_push(vm, a, qv_obj(e->tpls[i]->name));
    return qv_obj(a);
}

static const qmethod_def mod_methods[] = {
    {"render", mod_render, 2, 2, false},
    {"render_str", mod_render_str, 2, 2, false},
    {"add_template", mod_add_template, 2, 2, false},
    {"add_template_file", mod_add_template_file, 2, 2, false},
    {"get_template_names", mod_names, 0, 0, false},
    {0},
};

/* create() and from_dir() are bound to the HtmlTemplate type. */
static qval mod_new(qvm *vm, qval type)
{
    tpl_engine *e = calloc(1, sizeof *e);
    if (!e)
        return vm_raise(vm, E_RUNTIME, "templates: out of memory");
    return qv_obj(cdata_new(vm, AS_TYPE(type), &mod_class, e));
}

static qval mod_create(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return mod_new(vm, self);
}

static qval mod_from_dir(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qstr *pattern;
    if (!arg_str(vm, "templates.from_dir", argv[0], &pattern))
        return qv_exc();
    qval obj = mod_new(vm, self);
    if (IS_EXC(obj))
        return obj;
    tpl_engine *e = AS_CDATA(obj)->data;
    return tpl_engine_load_glob(vm, e, pattern->data) ? obj : qv_exc();
}

bool templates_module_init(qvm *vm, qmodule *m)
{
    qtype *t = vm_new_cdata_type(vm, "HtmlTemplate", mod_methods);
    static const struct {
        const char *name;
        qnative_fn fn;
        int args;
    } fns[] = {{"create", mod_create, 0}, {"from_dir", mod_from_dir, 1}};
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
        qnative *fn = native_new(vm, fns[i].name, fns[i].fn, fns[i].args, fns[i].args);
        fn->bound = qv_obj(t);
        module_export(vm, m, fns[i].name, qv_obj(fn));
    }
    return true;
}
