/* set_methods.c — the methods of Set and the static Set.new(array).
 *
 * Elements are Int, Float, Str or Bool (anything else is a TypeErr, as in
 * the reference).  Mutators return nil; the set algebra returns new sets;
 * to_array() and sorted() give the elements in the language's sort order. */
#include "vm.h"

static bool sm_hashable(qval v)
{
    return IS_INT(v) || IS_FLOAT(v) || IS_BOOL(v) || IS_STR(v);
}

static bool sm_elem_arg(qvm *vm, qval v)
{
    if (sm_hashable(v))
        return true;
    vm_raise(vm, E_TYPE, "Type %s is not hashable and cannot be added to Set", vm_cls_name(v));
    return false;
}

static bool sm_set_arg(qvm *vm, const char *fname, qval v, qset **out)
{
    if (!IS_SET(v)) {
        vm_raise(vm, E_TYPE, "%s expects Set, got %s", fname, vm_cls_name(v));
        return false;
    }
    *out = AS_SET(v);
    return true;
}

/* Live elements are the items that are not holes (QV_UNDEF). */
#define SET_EACH(s, i) for (uint32_t i = 0; i < (s)->used; i++) if (!IS_UNDEF((s)->items[i]))

static qset *sm_copy(qvm *vm, const qset *s)
{
    qset *r = set_new(vm);
    SET_EACH(s, i)
        set_add(vm, r, s->items[i]);
    return r;
}

/* Set.new(array) — Set.new() makes an empty set. */
static qval sm_new(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self;
    qarray *a = NULL;
    if (argc > 0 && !arg_array(vm, "Set.new", argv[0], &a))
        return qv_exc();
    qset *s = set_new(vm);
    for (uint32_t i = 0; a && i < a->len; i++) {
        if (!sm_elem_arg(vm, a->items[i]))
            return qv_exc();
        set_add(vm, s, a->items[i]);
    }
    return qv_obj(s);
}

static qval sm_len(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return qv_int(AS_SET(self)->count);
}

static qval sm_empty(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return qv_bool(AS_SET(self)->count == 0);
}

static qval sm_contains(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    if (!sm_elem_arg(vm, argv[0]))
        return qv_exc();
    return qv_bool(set_has(AS_SET(self), argv[0]));
}

static qval sm_add(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    if (!sm_elem_arg(vm, argv[0]))
        return qv_exc();
    set_add(vm, AS_SET(self), argv[0]);
    return qv_nil();
}

static qval sm_remove(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    if (!sm_elem_arg(vm, argv[0]))
        return qv_exc();
    if (!set_del(AS_SET(self), argv[0]))
        return vm_raise(vm, E_KEY, "Element not found in set");
    return qv_nil();
}

static qval sm_discard(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    if (!sm_elem_arg(vm, argv[0]))
        return qv_exc();
    set_del(AS_SET(self), argv[0]);
    return qv_nil();
}

/* clear() and pop() delete from the newest end, where set_del trims the
 * holes it leaves, so each costs O(1) per element. */
static qval sm_clear(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    qset *s = AS_SET(self);
    while (s->used)
        set_del(s, s->items[s->used - 1]);
    return qv_nil();
}

/* pop(): removes and returns the newest element. */
static qval sm_pop(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    qset *s = AS_SET(self);
    if (s->count == 0)
        return vm_raise(vm, E_RUNTIME, "pop from empty set");
    qval v = s->items[s->used - 1];
    set_del(s, v);
    return v;
}

static qval sm_to_array(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    qset *s = AS_SET(self);
    qarray *a = arr_new(vm, s->count);
    SET_EACH(s, i)
        arr_push(vm, a, s->items[i]);
    arr_sort_values(vm, a->items, a->len);
    return qv_obj(a);
}

/* ---- set algebra ---------------------------------------------------------------------- */

static qval sm_union(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qset *o;
    if (!sm_set_arg(vm, "union", argv[0], &o))
        return qv_exc();
    qset *r = sm_copy(vm, AS_SET(self));
    SET_EACH(o, i)
        set_add(vm, r, o->items[i]);
    return qv_obj(r);
}

/* Elements of a whose membership in b equals keep_common. */
static qset *sm_filter(qvm *vm, const qset *a, const qset *b, bool keep_common)
{
    qset *r = set_new(vm);
    SET_EACH(a, i)
        if (set_has(b, a->items[i]) == keep_common)
            set_add(vm, r, a->items[i]);
    return r;
}

static qval sm_intersection(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qset *o;
    if (!sm_set_arg(vm, "intersection", argv[0], &o))
        return qv_exc();
    return qv_obj(sm_filter(vm, AS_SET(self), o, true));
}

static qval sm_difference(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qset *o;
    if (!sm_set_arg(vm, "difference", argv[0], &o))
        return qv_exc();
    return qv_obj(sm_filter(vm, AS_SET(self), o, false));
}

static qval sm_symmetric_difference(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qset *s = AS_SET(self), *o;
    if (!sm_set_arg(vm, "symmetric_difference", argv[0], &o))
        return qv_exc();
    qset *r = sm_filter(vm, s, o, false);
    SET_EACH(o, i)
        if (!set_has(s, o->items[i]))
            set_add(vm, r, o->items[i]);
    return qv_obj(r);
}

/* Every element of a is in b. */
static bool sm_within(const qset *a, const qset *b)
{
    if (a->count > b->count)
        return false;
    SET_EACH(a, i)
        if (!set_has(b, a->items[i]))
            return false;
    return true;
}

static qval sm_is_subset(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qset *o;
    if (!sm_set_arg(vm, "is_subset", argv[0], &o))
        return qv_exc();
    return qv_bool(sm_within(AS_SET(self), o));
}

static qval sm_is_superset(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qset *o;
    if (!sm_set_arg(vm, "is_superset", argv[0], &o))
        return qv_exc();
    return qv_bool(sm_within(o, AS_SET(self)));
}

static qval sm_is_disjoint(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qset *s = AS_SET(self), *o;
    if (!sm_set_arg(vm, "is_disjoint", argv[0], &o))
        return qv_exc();
    SET_EACH(s, i)
        if (set_has(o, s->items[i]))
            return qv_bool(false);
    return qv_bool(true);
}

static const qmethod_def set_methods[] = {
    {"len", sm_len, 0, 0, false},
    {"empty", sm_empty, 0, 0, false},
    {"contains", sm_contains, 1, 1, false},
    {"add", sm_add, 1, 1, false},
    {"remove", sm_remove, 1, 1, false},
    {"discard", sm_discard, 1, 1, false},
    {"clear", sm_clear, 0, 0, false},
    {"pop", sm_pop, 0, 0, false},
    {"to_array", sm_to_array, 0, 0, false},
    {"sorted", sm_to_array, 0, 0, false},
    {"union", sm_union, 1, 1, false},
    {"intersection", sm_intersection, 1, 1, false},
    {"difference", sm_difference, 1, 1, false},
    {"symmetric_difference", sm_symmetric_difference, 1, 1, false},
    {"is_subset", sm_is_subset, 1, 1, false},
    {"is_superset", sm_is_superset, 1, 1, false},
    {"is_disjoint", sm_is_disjoint, 1, 1, false},
    {0},
};

static const qmethod_def set_statics[] = {
    {"new", sm_new, 0, 1, false},
    {0},
};

void set_init_class(qvm *vm, qtype *t)
{
    vm_add_methods(vm, t, set_methods);
    vm_add_statics(vm, t, set_statics);
}
