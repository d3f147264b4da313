/* types.c — user-defined types: declaring them, constructing instances,
 * traits, decorators and the checks behind type annotations. */
#include <string.h>
#include <strings.h>

#include "vm_internal.h"

bool type_implements(qtype *t, const char *trait)
{
    if (!t->traits)
        return false;
    for (uint32_t i = 0; i < t->traits->len; i++) {
        qval tr = t->traits->items[i];
        const char *name = IS_KIND(tr, QO_TRAIT) ? AS_TRAIT(tr)->name->data : AS_STR(tr)->data;
        if (strcmp(name, trait) == 0)
            return true;
    }
    return false;
}

/* Last segment of a qualified annotation: `process.Process` -> `Process`. */
static const char *base_name(const char *type)
{
    const char *dot = strrchr(type, '.');
    return dot ? dot + 1 : type;
}

bool type_matches(qvm *vm, qval v, qstr *type)
{
    (void)vm;
    const char *t = base_name(type->data);
    if (!strcmp(t, "Obj") || !strcmp(t, "Any"))
        return true;
    if (!strcmp(t, "Num"))
        return IS_INT(v) || IS_FLOAT(v);
    if (!strcmp(t, "Int"))
        return IS_INT(v);
    if (!strcmp(t, "Float"))
        return IS_FLOAT(v);
    if (!strcmp(t, "Nil"))
        return IS_NIL(v);
    if (!strcmp(t, "Fun") || !strcmp(t, "Func") || !strcmp(t, "Function"))
        return vm_is_callable(v);
    if (IS_INSTANCE(v) && !strcmp(AS_INSTANCE(v)->type->name->data, t))
        return true;
    return strcasecmp(vm_cls_name(v), t) == 0;
}

/* Every trait method must exist with the same number of parameters. */
static qval check_trait(qvm *vm, qtype *t, qtrait *tr)
{
    for (uint32_t i = 0; i < tr->nmethods; i++) {
        qval m;
        if (!dict_get(t->methods, tr->method_names[i], &m))
            return vm_raise(vm, E_TYPE, "Type %s does not implement %s.%s", t->name->data,
                            tr->name->data, tr->method_names[i]->data);
        int arity = IS_KIND(m, QO_CLOSURE) ? AS_CLOSURE(m)->proto->nparams : -1;
        if (arity >= 0 && arity != tr->method_arity[i])
            return vm_raise(vm, E_TYPE, "%s.%s takes %d parameters but trait %s declares %d",
                            t->name->data, tr->method_names[i]->data, arity, tr->name->data,
                            tr->method_arity[i]);
    }
    return qv_nil();
}

static void copy_methods(qvm *vm, qdict *dst, const qdict *tmpl, qval *methods, qtype *owner)
{
    for (uint32_t i = 0; i < tmpl->used; i++) {
        if (!tmpl->entries[i].key)
            continue;
        qval m = methods[tmpl->entries[i].val.as.i];
        if (IS_KIND(m, QO_CLOSURE))
            AS_CLOSURE(m)->owner = owner;
        dict_set(vm, dst, tmpl->entries[i].key, m);
    }
}

qval type_define(qvm *vm, qtype *tmpl, qval *defaults, qval *methods, qval *traits)
{
    qtype *t = type_new(vm, QT_USER, tmpl->name);
    vm_push_root(vm, qv_obj(t));
    t->doc = tmpl->doc;
    t->nfields = tmpl->nfields;
    t->fields = vm_realloc(vm, NULL, 0, (tmpl->nfields ? tmpl->nfields : 1) * sizeof(qfield));
    if (tmpl->nfields)
        memcpy(t->fields, tmpl->fields, tmpl->nfields * sizeof(qfield));
    for (uint32_t i = 0, d = 0; i < t->nfields; i++)
        if (t->fields[i].has_default)
            t->fields[i].def = defaults[d++];
    copy_methods(vm, t->methods, tmpl->methods, methods, t);
    copy_methods(vm, t->statics, tmpl->statics, methods, t);
    vm->method_epoch++;
    t->traits = arr_new(vm, tmpl->traits->len);
    qval r = qv_nil();
    for (uint32_t i = 0; i < tmpl->traits->len && !IS_EXC(r); i++) {
        qval tr = traits[i];
        if (!IS_KIND(tr, QO_TRAIT))
            r = vm_raise(vm, E_TYPE, "'%s' is not a trait", AS_STR(tmpl->traits->items[i])->data);
        else
            r = check_trait(vm, t, AS_TRAIT(tr));
        if (!IS_EXC(r))
            arr_push(vm, t->traits, tr);
    }
    vm_pop_roots(vm, 1);
    return IS_EXC(r) ? r : qv_obj(t);
}

static int field_index(qtype *t, qstr *name)
{
    for (uint32_t i = 0; i < t->nfields; i++)
        if (str_equal(t->fields[i].name, name))
            return (int)i;
    return -1;
}

static qval check_field(qvm *vm, qtype *t, qfield *f, qval v)
{
    if (!f->type || (IS_NIL(v) && f->optional) || type_matches(vm, v, f->type))
        return qv_nil();
    return vm_raise(vm, E_TYPE, "Field '%s' of %s expects %s, got %s", f->name->data, t->name->data,
                    f->type->data, vm_cls_name(v));
}

qval type_construct(qvm *vm, qtype *t, int argc, qval *argv, qdict *kw)
{
    if (argc == 1 && !kw && IS_DICT(argv[0])) { /* T.new({x: 1}) names its fields */
        kw = AS_DICT(argv[0]);
        argc = 0;
    }
    if ((uint32_t)argc > t->nfields)
        return vm_raise(vm, E_ARG, "%s.new takes at most %u arguments, got %d", t->name->data,
                        t->nfields, argc);
    qinstance *in = vm_alloc_obj(vm, sizeof(qinstance) + t->nfields * sizeof(qval), QO_INSTANCE);
    in->type = t;
    for (uint32_t i = 0; i < t->nfields; i++)
        in->fields[i] = qv_undef();
    for (int i = 0; i < argc; i++)
        in->fields[i] = argv[i];
    if (kw) {
        for (uint32_t e = 0; e < kw->used; e++) {
            int fi = kw->entries[e].key ? field_index(t, kw->entries[e].key) : -1;
            if (fi >= 0)
                in->fields[fi] = kw->entries[e].val;
        }
    }
    vm_push_root(vm, qv_obj(in));
    qval r = qv_nil();
    for (uint32_t i = 0; i < t->nfields && !IS_EXC(r); i++) {
        qfield *f = &t->fields[i];
        if (IS_UNDEF(in->fields[i])) {
            if (f->has_default)
                in->fields[i] = vm_deep_copy(vm, f->def);
            else if (f->optional)
                in->fields[i] = qv_nil();
            else
                r = vm_raise(vm, E_ARG, "Required field '%s' not provided for %s", f->name->data,
                             t->name->data);
        } else {
            r = check_field(vm, t, f, in->fields[i]);
        }
    }
    vm_pop_roots(vm, 1);
    return IS_EXC(r) ? r : qv_obj(in);
}

qval vm_deep_copy(qvm *vm, qval v)
{
    if (IS_ARRAY(v)) {
        qarray *a = AS_ARRAY(v), *c = arr_new(vm, a->len);
        for (uint32_t i = 0; i < a->len; i++)
            c->items[c->len++] = vm_deep_copy(vm, a->items[i]);
        return qv_obj(c);
    }
    if (IS_DICT(v)) {
        qdict *d = AS_DICT(v), *c = dict_new(vm);
        for (uint32_t i = 0; i < d->used; i++)
            if (d->entries[i].key)
                dict_set(vm, c, d->entries[i].key, vm_deep_copy(vm, d->entries[i].val));
        return qv_obj(c);
    }
    return v;
}

/* @Deco(args) on fun f: an instance of Deco holding f (positionally first,
 * or in the field `func` when the decorator gets named arguments). */
qval type_decorate(qvm *vm, qval fn, qval deco, int argc, qval *argv, qarray *spec)
{
    if (!IS_TYPE(deco) || AS_TYPE(deco)->tkind != QT_USER)
        return vm_raise(vm, E_TYPE, "Decorator must be a type with a _call method, got %s",
                        vm_cls_name(deco));
    qtype *t = AS_TYPE(deco);
    if (!dict_get(t->methods, vm->names.call, NULL))
        return vm_raise(vm, E_TYPE, "Decorator %s has no _call method", t->name->data);
    qdict *kw = NULL;
    qarray *pos = arr_new(vm, (uint32_t)argc + 1);
    vm_push_root(vm, qv_obj(pos));
    for (int i = 0; i < argc; i++) {
        if (IS_STR(spec->items[i])) {
            if (!kw) {
                kw = dict_new(vm);
                vm_push_root(vm, qv_obj(kw));
            }
            dict_set(vm, kw, AS_STR(spec->items[i]), argv[i]);
        }
    }
    if (kw)
        dict_set(vm, kw, vm->names.func, fn);
    else
        arr_push(vm, pos, fn);
    for (int i = 0; i < argc; i++)
        if (!IS_STR(spec->items[i]))
            arr_push(vm, pos, argv[i]);
    qval inst = type_construct(vm, t, (int)pos->len, pos->items, kw);
    vm_pop_roots(vm, kw ? 2 : 1);
    if (IS_EXC(inst) || !dict_get(t->methods, vm->names.decorate, NULL))
        return inst;
    vm_push_root(vm, inst);
    qval r = vm_invoke(vm, inst, "_decorate", 1, &fn);
    vm_pop_roots(vm, 1);
    return r;
}
