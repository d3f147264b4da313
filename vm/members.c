/* members.c — what `x.name`, `x.name(...)`, `x[i]` and `x.name = v` mean
 * for each kind of value, and the methods every value has (cls, str, _rep,
 * _doc, _id, is, does). */
#include <string.h>
#include <strings.h>

#include "vm_internal.h"

qtype *class_of(qvm *vm, qval v)
{
    switch (v.tag) {
    case QV_NIL: return vm->types[QC_NIL];
    case QV_BOOL: return vm->types[QC_BOOL];
    case QV_INT: return vm->types[QC_INT];
    case QV_FLOAT: return vm->types[QC_FLOAT];
    default: break;
    }
    switch ((qobj_kind)v.as.o->kind) {
    case QO_STR: return vm->types[QC_STR];
    case QO_BYTES: return vm->types[QC_BYTES];
    case QO_ARRAY: return vm->types[QC_ARRAY];
    case QO_DICT: return vm->types[QC_DICT];
    case QO_SET: return vm->types[QC_SET];
    case QO_BIGINT: return vm->types[QC_BIGINT];
    case QO_DECIMAL: return vm->types[QC_DECIMAL];
    case QO_UUID: return vm->types[QC_UUID];
    case QO_CLOSURE: case QO_NATIVE: return vm->types[QC_FUNCTION];
    case QO_TRAIT: return vm->types[QC_TRAIT];
    case QO_MODULE: return vm->types[QC_MODULE];
    case QO_EXC: return vm->types[QC_EXCEPTION];
    case QO_CDATA: return AS_CDATA(v)->type;
    case QO_INSTANCE: return AS_INSTANCE(v)->type;
    case QO_TASK: return vm->types[QC_TASK];
    case QO_CHANNEL: return vm->types[QC_CHANNEL];
    default: return vm->types[QC_TYPE];
    }
}

static int field_index(const qtype *t, const qstr *name)
{
    for (uint32_t i = 0; i < t->nfields; i++)
        if (t->fields[i].name == name || str_equal(t->fields[i].name, name))
            return (int)i;
    return -1;
}

static bool module_visible(qvm *vm, qmodule *m, qstr *name)
{
    return !m->pub || dict_get(m->pub, name, NULL) || interp_current_module(vm) == m;
}

static qval no_member(qvm *vm, qval recv, qstr *name)
{
    if (IS_NIL(recv))
        return vm_raise(vm, E_ATTR, "Cannot call method '%s' on nil", name->data);
    if (IS_TYPE(recv))
        return vm_raise(vm, E_ATTR, "Type %s has no method '%s'", AS_TYPE(recv)->name->data, name->data);
    if (IS_KIND(recv, QO_MODULE))
        return vm_raise(vm, E_ATTR, "Module '%s' has no member '%s'", AS_MODULE(recv)->name->data,
                        name->data);
    return vm_raise(vm, E_ATTR, "%s has no method '%s'", vm_cls_name(recv), name->data);
}

static found_kind found(qval m, qval *out, found_kind k)
{
    *out = m;
    return k;
}

static found_kind find_on_instance(qvm *vm, qval recv, qstr *name, qval *out)
{
    qinstance *in = AS_INSTANCE(recv);
    qval m;
    if (dict_get(in->type->methods, name, &m))
        return found(m, out, FOUND_METHOD);
    int fi = field_index(in->type, name);
    if (fi >= 0 && vm_is_callable(in->fields[fi]))
        return found(in->fields[fi], out, FOUND_VALUE);
    if (dict_get(vm->universal, name, &m))
        return found(m, out, FOUND_METHOD);
    no_member(vm, recv, name);
    return FOUND_NONE;
}

static found_kind find_on_type(qvm *vm, qval recv, qstr *name, qval *out)
{
    qtype *t = AS_TYPE(recv);
    qval m;
    /* User and exception types always construct with the built-in new. */
    bool builtin_new = name == vm->names.new_ && (t->tkind == QT_USER || t->tkind == QT_EXC);
    if (!builtin_new && dict_get(t->statics, name, &m))
        return found(m, out, FOUND_METHOD);
    if (dict_get(vm->types[QC_TYPE]->methods, name, &m))
        return found(m, out, FOUND_METHOD);
    if (dict_get(vm->universal, name, &m))
        return found(m, out, FOUND_METHOD);
    no_member(vm, recv, name);
    return FOUND_NONE;
}

static found_kind find_on_module(qvm *vm, qval recv, qstr *name, qval *out)
{
    qmodule *mod = AS_MODULE(recv);
    qval m;
    if (dict_get(mod->globals, name, &m)) {
        if (!module_visible(vm, mod, name)) {
            vm_raise(vm, E_ATTR, "'%s' is private to module '%s'", name->data, mod->name->data);
            return FOUND_NONE;
        }
        return found(m, out, FOUND_VALUE);
    }
    if (dict_get(vm->universal, name, &m))
        return found(m, out, FOUND_METHOD);
    no_member(vm, recv, name);
    return FOUND_NONE;
}

bool member_class_method(qvm *vm, qtype *cls, bool instance, qstr *name, qval *out)
{
    return dict_get(cls->methods, name, out) || (!instance && dict_get(vm->universal, name, out));
}

found_kind member_find_method(qvm *vm, qval recv, qstr *name, qval *out)
{
    qval m;
    if (IS_INSTANCE(recv))
        return find_on_instance(vm, recv, name, out);
    if (IS_TYPE(recv))
        return find_on_type(vm, recv, name, out);
    if (IS_KIND(recv, QO_MODULE))
        return find_on_module(vm, recv, name, out);
    if (IS_NIL(recv) && name != vm->names.is) {
        no_member(vm, recv, name);
        return FOUND_NONE;
    }
    if (dict_get(class_of(vm, recv)->methods, name, &m))
        return found(m, out, FOUND_METHOD);
    if (dict_get(vm->universal, name, &m))
        return found(m, out, FOUND_METHOD);
    no_member(vm, recv, name);
    return FOUND_NONE;
}

/* `obj.method` without a call: a method reference bound to obj. */
static qval bind_method(qvm *vm, qval recv, qval m, const char *name)
{
    qnative *b;
    if (IS_KIND(m, QO_NATIVE)) {
        qnative *n = AS_NATIVE(m);
        b = native_new(vm, n->name, n->fn, n->min_args, n->max_args);
        b->kwargs = n->kwargs;
        b->target = n->target;
    } else {
        b = native_new(vm, name, NULL, -1, -1);
        b->target = m;
    }
    b->bound = recv;
    return qv_obj(b);
}

static qval instance_field(qvm *vm, qval obj, qstr *name, bool *done)
{
    qinstance *in = AS_INSTANCE(obj);
    int fi = field_index(in->type, name);
    *done = fi >= 0;
    if (fi < 0)
        return qv_nil();
    if (!in->type->fields[fi].pub && interp_current_owner(vm) != in->type)
        return vm_raise(vm, E_ATTR, "Field '%s' of type %s is private", name->data,
                        in->type->name->data);
    return in->fields[fi];
}

qval member_get(qvm *vm, qval obj, qstr *name)
{
    if (IS_INSTANCE(obj)) {
        bool done;
        qval v = instance_field(vm, obj, name, &done);
        if (done)
            return v;
    } else if (IS_KIND(obj, QO_MODULE)) {
        qval v;
        return find_on_module(vm, obj, name, &v) == FOUND_NONE ? qv_exc() : v;
    } else if (IS_KIND(obj, QO_CDATA)) {
        /* Module objects expose properties as natives in their statics. */
        qval getter;
        if (dict_get(AS_CDATA(obj)->type->statics, name, &getter) && IS_KIND(getter, QO_NATIVE))
            return AS_NATIVE(getter)->fn(vm, obj, 0, NULL);
    }
    qval m;
    found_kind k = member_find_method(vm, obj, name, &m);
    if (k == FOUND_NONE)
        return qv_exc();
    return k == FOUND_VALUE ? m : bind_method(vm, obj, m, name->data);
}

qval member_set(qvm *vm, qval obj, qstr *name, qval v)
{
    if (!IS_INSTANCE(obj)) {
        if (IS_NIL(obj))
            return vm_raise(vm, E_ATTR, "Cannot set field '%s' on nil", name->data);
        return vm_raise(vm, E_TYPE, "Cannot set field '%s' on %s", name->data, vm_cls_name(obj));
    }
    qinstance *in = AS_INSTANCE(obj);
    int fi = field_index(in->type, name);
    if (fi < 0)
        return vm_raise(vm, E_ATTR, "Type %s has no field '%s'", in->type->name->data, name->data);
    qfield *f = &in->type->fields[fi];
    if (f->type && !(IS_NIL(v) && f->optional) && !type_matches(vm, v, f->type))
        return vm_raise(vm, E_TYPE, "Field '%s' of type %s expects %s, got %s", name->data,
                        in->type->name->data, f->type->data, vm_cls_name(v));
    in->fields[fi] = v;
    return qv_nil();
}

/* ---- indexing ------------------------------------------------------------------ */

qval index_get(qvm *vm, qval obj, qval idx)
{
    if (IS_ARRAY(obj))
        return arr_get_index(vm, AS_ARRAY(obj), idx);
    if (IS_DICT(obj)) {
        qstr *k = vm_to_str(vm, idx);
        qval v = qv_nil();
        if (!k)
            return qv_exc();
        dict_get(AS_DICT(obj), k, &v);
        return v;
    }
    if (IS_STR(obj))
        return str_index(vm, AS_STR(obj), idx);
    if (IS_BYTES(obj))
        return bytes_index(vm, AS_BYTES(obj), idx);
    if (IS_NIL(obj))
        return vm_raise(vm, E_TYPE, "Cannot index into nil");
    return vm_raise(vm, E_TYPE, "Cannot index into %s", vm_cls_name(obj));
}

qval index_set(qvm *vm, qval obj, qval idx, qval v)
{
    if (IS_ARRAY(obj))
        return arr_set_index(vm, AS_ARRAY(obj), idx, v);
    if (IS_DICT(obj)) {
        qstr *k = vm_to_str(vm, idx);
        if (!k)
            return qv_exc();
        dict_set(vm, AS_DICT(obj), k, v);
        return qv_nil();
    }
    if (IS_STR(obj) || IS_BYTES(obj))
        return vm_raise(vm, E_TYPE, "%s is immutable: cannot assign to an index", vm_cls_name(obj));
    return vm_raise(vm, E_TYPE, "Cannot assign to an index of %s", vm_cls_name(obj));
}

/* ---- universal methods ----------------------------------------------------------------- */

static qval u_cls(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    if (IS_EXCV(self))
        return qv_obj(str_intern_cstr(vm, "Exception"));
    return qv_obj(str_intern_cstr(vm, vm_cls_name(self)));
}

static qval u_str(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    qstr *s = vm_to_str(vm, self);
    return s ? qv_obj(s) : qv_exc();
}

static qval u_rep(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    qstr *s = vm_to_rep(vm, self);
    return s ? qv_obj(s) : qv_exc();
}

static qval u_id(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv, (void)vm;
    if (IS_NIL(self))
        return qv_int(0);
    if (IS_OBJ(self))
        return qv_int((int64_t)((uintptr_t)self.as.o >> 3));
    /* Floats are values without identity: as in the reference, where each
     * evaluation makes a new float object, every call gives a new id. */
    if (IS_FLOAT(self))
        return qv_int((int64_t)++vm->next_id);
    return qv_int(self.tag == QV_INT ? self.as.i : (int64_t)self.as.i ^ 0x5bd1e995);
}

static qval u_doc(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    if (IS_KIND(self, QO_CLOSURE)) {
        qproto *p = AS_CLOSURE(self)->proto;
        if (p->doc)
            return qv_obj(p->doc);
        return qv_obj(p->is_lambda ? str_cstr(vm, "Anonymous function")
                                   : str_printf(vm, "User-defined function: %s", p->name->data));
    }
    if (IS_KIND(self, QO_MODULE)) {
        qmodule *m = AS_MODULE(self);
        return qv_obj(m->doc ? m->doc : str_printf(vm, "Module: %s", m->name->data));
    }
    if (IS_KIND(self, QO_TRAIT)) {
        qtrait *t = AS_TRAIT(self);
        return qv_obj(t->doc ? t->doc : str_printf(vm, "Trait: %s", t->name->data));
    }
    if (IS_INSTANCE(self))
        return qv_obj(str_printf(vm, "Instance of type %s", AS_INSTANCE(self)->type->name->data));
    return qv_obj(str_printf(vm, "%s value", vm_cls_name(self)));
}

static bool name_is(qvm *vm, qval self, const char *want)
{
    const char *have = vm_cls_name(self);
    if (strcasecmp(have, want) == 0)
        return true;
    if (IS_EXCV(self) && strcasecmp(want, "Exception") == 0)
        return true;
    if (strcasecmp(want, "Num") == 0 && (IS_INT(self) || IS_FLOAT(self)))
        return true;
    (void)vm;
    return false;
}

static qval u_is(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qval t = argv[0];
    if (IS_STR(t))
        return qv_bool(name_is(vm, self, AS_STR(t)->data));
    if (IS_TYPE(t)) {
        if (IS_INSTANCE(self))
            return qv_bool(AS_INSTANCE(self)->type == AS_TYPE(t) ||
                           str_equal(AS_INSTANCE(self)->type->name, AS_TYPE(t)->name));
        return qv_bool(name_is(vm, self, AS_TYPE(t)->name->data));
    }
    return vm_raise(vm, E_TYPE, "is() expects a type, got %s", vm_cls_name(t));
}

static qval u_does(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qval t = argv[0];
    const char *name = IS_KIND(t, QO_TRAIT) ? AS_TRAIT(t)->name->data
                     : IS_STR(t) ? AS_STR(t)->data : NULL;
    if (!name)
        return vm_raise(vm, E_TYPE, "does() expects a trait, got %s", vm_cls_name(t));
    qtype *ty = IS_INSTANCE(self) ? AS_INSTANCE(self)->type : IS_TYPE(self) ? AS_TYPE(self) : NULL;
    return qv_bool(ty && type_implements(ty, name));
}

static qval fn_name(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    if (IS_KIND(self, QO_CLOSURE))
        return qv_obj(AS_CLOSURE(self)->proto->name);
    if (IS_KIND(self, QO_NATIVE))
        return qv_obj(str_cstr(vm, AS_NATIVE(self)->name));
    return vm_raise(vm, E_TYPE, "_name() needs a function");
}

static qval type_doc(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    qtype *t = AS_TYPE(self);
    if (t->doc)
        return qv_obj(t->doc);
    qbuf b;
    buf_init(&b);
    buf_printf(&b, "Type definition: %s", t->name->data);
    if (t->nfields)
        buf_puts(&b, "\nFields:");
    for (uint32_t i = 0; i < t->nfields; i++) {
        qfield *f = &t->fields[i];
        if (f->type)
            buf_printf(&b, "\n  %s%s: %s", f->type->data, f->optional && !f->has_default ? "?" : "", f->name->data);
        else
            buf_printf(&b, "\n  %s", f->name->data);
    }
    return qv_obj(buf_to_str(vm, &b));
}

static qval type_name_m(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv, (void)vm;
    return qv_obj(AS_TYPE(self)->name);
}

static qval type_new_m(qvm *vm, qval self, int argc, qval *argv)
{
    qtype *t = AS_TYPE(self);
    if (t->tkind == QT_EXC) {
        if (argc > 1)
            return vm_raise(vm, E_ARG, "%s.new expects 1 argument, got %d", t->name->data, argc);
        qstr *msg = vm->names.empty;
        if (argc == 1 && !(msg = IS_STR(argv[0]) ? AS_STR(argv[0]) : NULL))
            return vm_raise(vm, E_TYPE, "%s.new expects a Str message, got %s", t->name->data,
                            vm_cls_name(argv[0]));
        return qv_obj(exc_new(vm, t, msg));
    }
    if (t->tkind != QT_USER)
        return vm_raise(vm, E_TYPE, "Cannot construct %s with new()", t->name->data);
    return type_construct(vm, t, argc, argv, vm_kwargs(vm));
}

static const qmethod_def universal_methods[] = {
    {"cls", u_cls, 0, 0, false},
    {"str", u_str, 0, 0, false},
    {"_str", u_str, 0, 0, false},
    {"_rep", u_rep, 0, 0, false},
    {"_id", u_id, 0, 0, false},
    {"_doc", u_doc, 0, 0, false},
    {"is", u_is, 1, 1, false},
    {"does", u_does, 1, 1, false},
    {NULL, NULL, 0, 0, false},
};

static const qmethod_def function_methods[] = {
    {"_name", fn_name, 0, 0, false},
    {NULL, NULL, 0, 0, false},
};

static const qmethod_def type_methods[] = {
    {"_doc", type_doc, 0, 0, false},
    {"_name", type_name_m, 0, 0, false},
    {"new", type_new_m, -1, -1, true},
    {NULL, NULL, 0, 0, false},
};

void members_init(qvm *vm)
{
    vm->universal = dict_new(vm);
    for (const qmethod_def *d = universal_methods; d->name; d++) {
        qnative *n = native_new(vm, d->name, d->fn, d->min_args, d->max_args);
        dict_set(vm, vm->universal, str_intern_cstr(vm, d->name), qv_obj(n));
    }
    vm->method_epoch++;
    vm_add_methods(vm, vm->types[QC_FUNCTION], function_methods);
    vm_add_methods(vm, vm->types[QC_TYPE], type_methods);
}
