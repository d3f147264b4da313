/* dict_methods.c — the methods of Dict.
 *
 * Dict.set and Dict.remove return a new dict and leave the receiver alone
 * (the reference's documented behaviour; only d[k] = v mutates).  Keys given
 * to methods are converted to strings as d[k] does.  Keys and values come
 * out in insertion order. */
#include "vm.h"

/* The string form of a key argument; NULL after raising (a user type's
 * str() may fail). */
static qstr *dm_key(qvm *vm, qval k)
{
    return IS_STR(k) ? AS_STR(k) : vm_to_str(vm, k);
}

/* A new dict with the live entries of d, in order. */
static qdict *dm_copy(qvm *vm, const qdict *d)
{
    qdict *r = dict_new(vm);
    for (uint32_t i = 0; i < d->used; i++)
        if (d->entries[i].key)
            dict_set(vm, r, d->entries[i].key, d->entries[i].val);
    return r;
}

static qval dm_len(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return qv_int(AS_DICT(self)->count);
}

static qval dm_keys(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    qdict *d = AS_DICT(self);
    qarray *a = arr_new(vm, d->count);
    for (uint32_t i = 0; i < d->used; i++)
        if (d->entries[i].key)
            arr_push(vm, a, qv_obj(d->entries[i].key));
    return qv_obj(a);
}

static qval dm_values(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    qdict *d = AS_DICT(self);
    qarray *a = arr_new(vm, d->count);
    for (uint32_t i = 0; i < d->used; i++)
        if (d->entries[i].key)
            arr_push(vm, a, d->entries[i].val);
    return qv_obj(a);
}

static qval dm_contains(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qstr *k = dm_key(vm, argv[0]);
    if (!k)
        return qv_exc();
    return qv_bool(dict_get(AS_DICT(self), k, NULL));
}

/* get(k[, default]): the value, else the default, else nil. */
static qval dm_get(qvm *vm, qval self, int argc, qval *argv)
{
    qstr *k = dm_key(vm, argv[0]);
    if (!k)
        return qv_exc();
    qval v;
    if (dict_get(AS_DICT(self), k, &v))
        return v;
    return argc > 1 ? argv[1] : qv_nil();
}

static qval dm_set(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qstr *k = dm_key(vm, argv[0]);
    if (!k)
        return qv_exc();
    qdict *r = dm_copy(vm, AS_DICT(self));
    dict_set(vm, r, k, argv[1]);
    return qv_obj(r);
}

static qval dm_remove(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qstr *k = dm_key(vm, argv[0]);
    if (!k)
        return qv_exc();
    qdict *r = dm_copy(vm, AS_DICT(self));
    dict_del(r, k);
    return qv_obj(r);
}

/* clone(): a new dict with the same entries (values are shared). */
static qval dm_clone(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return qv_obj(dm_copy(vm, AS_DICT(self)));
}

/* each(fn): fn(key, value) for every entry.  It walks a snapshot, so the
 * callback may add or delete entries of the receiver. */
static qval dm_each(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qval fn = argv[0];
    if (!vm_is_callable(fn))
        return vm_raise(vm, E_TYPE, "each expects a function, got %s", vm_cls_name(fn));
    qdict *snap = dm_copy(vm, AS_DICT(self));
    vm_push_root(vm, qv_obj(snap));
    for (uint32_t i = 0; i < snap->used; i++) {
        qval args[2] = {qv_obj(snap->entries[i].key), snap->entries[i].val};
        qval r = vm_call(vm, fn, 2, args);
        if (IS_EXC(r)) {
            vm_pop_roots(vm, 1);
            return r;
        }
    }
    vm_pop_roots(vm, 1);
    return qv_nil();
}

static const qmethod_def dict_methods[] = {
    {"len", dm_len, 0, 0, false},
    {"keys", dm_keys, 0, 0, false},
    {"values", dm_values, 0, 0, false},
    {"contains", dm_contains, 1, 1, false},
    {"get", dm_get, 1, 2, false},
    {"set", dm_set, 2, 2, false},
    {"remove", dm_remove, 1, 1, false},
    {"clone", dm_clone, 0, 0, false},
    {"each", dm_each, 1, 1, false},
    {0},
};

void dict_init_class(qvm *vm, qtype *t)
{
    vm_add_methods(vm, t, dict_methods);
}
