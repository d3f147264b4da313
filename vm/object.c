/* object.c — allocating and freeing heap objects.
 *
 * Every object is linked into vm->objects for the sweeper and its size is
 * counted in vm->bytes.  Allocation never collects: it only flags that a
 * collection is due, and the interpreter collects at its next safe point
 * (see gc.c), so native code may keep objects in C locals between calls.
 */
#include <gmp.h>
#include <stdlib.h>
#include <string.h>

#include "vm_internal.h"

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q) {
        fputs("quest: out of memory\n", stderr);
        abort();
    }
    return q;
}

/* Count the change toward the next collection. */
static void account(qvm *vm, size_t old_size, size_t new_size)
{
    vm->bytes += new_size;
    vm->bytes -= old_size < vm->bytes ? old_size : vm->bytes;
    if (new_size > old_size && vm->bytes > vm->next_gc)
        vm->gc_pending = true;
}

void *vm_realloc(qvm *vm, void *p, size_t old_size, size_t new_size)
{
    account(vm, old_size, new_size);
    if (new_size == 0) {
        free(p);
        return NULL;
    }
    return xrealloc(p, new_size);
}

void *vm_small_alloc(qvm *vm, size_t size, uint16_t *off)
{
    account(vm, 0, size);
    void *p = slab_alloc(vm, (unsigned)((size + SLAB_GRAIN - 1) / SLAB_GRAIN), off);
    return p ? p : xrealloc(NULL, size);
}

void vm_small_free(qvm *vm, void *p, size_t size, uint16_t off)
{
    account(vm, size, 0);
    slab_free(vm, p, off);
}

/* A new object, linked and counted, with its header set. */
static inline qobj *obj_alloc(qvm *vm, size_t size, qobj_kind kind)
{
    unsigned cls = size <= SLAB_MAX ? (unsigned)((size + SLAB_GRAIN - 1) / SLAB_GRAIN) : 0;
    uint16_t off = 0;
    qobj *o = cls ? slab_alloc(vm, cls, &off) : NULL;
    if (o) {
        account(vm, 0, size);
    } else {
        o = vm_realloc(vm, NULL, 0, size);
        cls = 0;
    }
    o->marked = 0;
    o->sclass = (uint8_t)cls;
    o->slab_off = off;
    o->kind = (uint8_t)kind;
    o->next = vm->objects;
    vm->objects = o;
    vm->nobjects++;
    /* Stress mode collects at the first safe point after every allocation
     * while the heap is small, where missing roots show up in tests; on a
     * large heap, every heap/1024 allocations, so a test that builds big
     * data still runs in linear time. */
    if (vm->opts.gc_stress && vm->stress_countdown-- <= 0) {
        vm->gc_pending = true;
        vm->stress_countdown = (int64_t)(vm->nobjects / 1024);
    }
    return o;
}

void *vm_alloc_obj(qvm *vm, size_t size, qobj_kind kind)
{
    qobj *o = obj_alloc(vm, size, kind);
    memset((char *)o + sizeof(qobj), 0, size - sizeof(qobj));
    return o;
}

void *obj_alloc_unzeroed(qvm *vm, size_t size, qobj_kind kind)
{
    return obj_alloc(vm, size, kind);
}

qbytes *bytes_new(qvm *vm, const void *data, size_t len)
{
    qbytes *b = (qbytes *)obj_alloc(vm, sizeof(qbytes) + len + 1, QO_BYTES);
    b->len = (uint32_t)len;
    if (len)
        memcpy(b->data, data, len);
    b->data[len] = 0;
    return b;
}

qarray *arr_new(qvm *vm, uint32_t cap)
{
    qarray *a = vm_alloc_obj(vm, sizeof(qarray), QO_ARRAY);
    if (cap) {
        a->items = vm_realloc(vm, NULL, 0, cap * sizeof(qval));
        a->cap = cap;
    }
    return a;
}

void arr_push(qvm *vm, qarray *a, qval v)
{
    if (a->len == a->cap) {
        uint32_t ncap = a->cap < 8 ? 8 : a->cap * 2;
        a->items = vm_realloc(vm, a->items, a->cap * sizeof(qval), ncap * sizeof(qval));
        a->cap = ncap;
    }
    a->items[a->len++] = v;
}

qnative *native_new(qvm *vm, const char *name, qnative_fn fn, int min_args, int max_args)
{
    qnative *n = vm_alloc_obj(vm, sizeof(qnative), QO_NATIVE);
    n->fn = fn;
    n->name = name;
    n->min_args = (int16_t)min_args;
    n->max_args = (int16_t)max_args;
    n->bound = qv_nil();
    n->target = qv_nil();
    return n;
}

qcdata *cdata_new(qvm *vm, qtype *t, const qcdata_class *cls, void *data)
{
    qcdata *c = vm_alloc_obj(vm, sizeof(qcdata), QO_CDATA);
    c->cls = cls;
    c->type = t;
    c->data = data;
    return c;
}

void *cdata_get(qvm *vm, qval v, const qcdata_class *cls)
{
    if (IS_KIND(v, QO_CDATA) && AS_CDATA(v)->cls == cls)
        return AS_CDATA(v)->data;
    vm_raise(vm, E_TYPE, "expected %s, got %s", cls->name, vm_cls_name(v));
    return NULL;
}

static void free_proto(qvm *vm, qproto *p)
{
    vm_realloc(vm, p->code, p->code_len, 0);
    vm_realloc(vm, p->lines, p->code_len * sizeof(int32_t), 0);
    vm_realloc(vm, p->depths, p->code_len, 0);
    vm_realloc(vm, p->consts, p->nconsts * sizeof(qval), 0);
    vm_realloc(vm, p->params, p->nparams * sizeof(qparam), 0);
    vm_realloc(vm, p->upval_is_local, p->nupvals, 0);
    vm_realloc(vm, p->upval_index, p->nupvals * sizeof(uint16_t), 0);
    interp_free_caches(p);
}

static void free_type(qvm *vm, qtype *t)
{
    vm_realloc(vm, t->fields, t->nfields * sizeof(qfield), 0);
}

static void free_trait(qvm *vm, qtrait *t)
{
    vm_realloc(vm, t->method_names, t->nmethods * sizeof(qstr *), 0);
    vm_realloc(vm, t->method_arity, t->nmethods * sizeof(int), 0);
}

void set_free_storage(qvm *vm, qset *s);
void dict_free_storage(qvm *vm, qdict *d);

/* Size of the object allocation itself, for accounting. */
static size_t obj_size(qobj *o)
{
    switch ((qobj_kind)o->kind) {
    case QO_STR: return sizeof(qstr) + ((qstr *)o)->len + 1;
    case QO_BYTES: return sizeof(qbytes) + ((qbytes *)o)->len + 1;
    case QO_ARRAY: return sizeof(qarray);
    case QO_DICT: return sizeof(qdict);
    case QO_SET: return sizeof(qset);
    case QO_BIGINT: return sizeof(qbigint);
    case QO_DECIMAL: return sizeof(qdecimal);
    case QO_UUID: return sizeof(quuid);
    case QO_PROTO: return sizeof(qproto);
    case QO_CLOSURE: return sizeof(qclosure) + ((qclosure *)o)->proto->nupvals * sizeof(qupval *);
    case QO_UPVAL: return sizeof(qupval);
    case QO_NATIVE: return sizeof(qnative);
    case QO_TYPE: return sizeof(qtype);
    case QO_TRAIT: return sizeof(qtrait);
    case QO_INSTANCE: return sizeof(qinstance) + ((qinstance *)o)->type->nfields * sizeof(qval);
    case QO_MODULE: return sizeof(qmodule);
    case QO_EXC: return sizeof(qexc);
    case QO_CDATA: return sizeof(qcdata);
    case QO_TASK: return sizeof(qtask) + (((qtask *)o)->native ? sizeof(qtask_native) : 0);
    case QO_CHANNEL: return sizeof(qchannel);
    case QO__COUNT: break;
    }
    return 0;
}

void obj_free(qvm *vm, qobj *o)
{
    size_t size = obj_size(o);
    vm->nobjects--;
    switch ((qobj_kind)o->kind) {
    case QO_ARRAY: {
        qarray *a = (qarray *)o;
        vm_realloc(vm, a->items, a->cap * sizeof(qval), 0);
        break;
    }
    case QO_DICT: dict_free_storage(vm, (qdict *)o); break;
    case QO_SET: set_free_storage(vm, (qset *)o); break;
    case QO_BIGINT: {
        qbigint *b = (qbigint *)o;
        if (b->mp) {
            mpz_clear(b->mp);
            vm_realloc(vm, b->mp, sizeof(mpz_t), 0);
        }
        break;
    }
    case QO_PROTO: free_proto(vm, (qproto *)o); break;
    case QO_TYPE: free_type(vm, (qtype *)o); break;
    case QO_TRAIT: free_trait(vm, (qtrait *)o); break;
    case QO_TASK: task_free(vm, (qtask *)o); break;
    case QO_CHANNEL: channel_free(vm, (qchannel *)o); break;
    case QO_CDATA: {
        qcdata *c = (qcdata *)o;
        if (c->cls && c->cls->finalize)
            c->cls->finalize(c->data);
        break;
    }
    default: break;
    }
    if (o->sclass) {
        account(vm, size, 0);
        slab_free(vm, o, o->slab_off);
    } else {
        vm_realloc(vm, o, size, 0);
    }
}
