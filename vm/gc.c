/* gc.c — precise mark-and-sweep collector, one heap per VM.
 *
 * Collection happens only at safe points chosen by the interpreter (calls
 * and backward jumps), when every live value is reachable from the roots:
 * the VM's tables, the running task's stack, the explicit root stack that
 * natives push to across calls into Quest code, and the pending exception.
 * With opts.gc_stress every safe point after an allocation collects.
 */
#include <stdlib.h>

#include "vm_internal.h"

static void gray_grow(qvm *vm)
{
    vm->capgray = vm->capgray ? vm->capgray * 2 : 256;
    vm->gray = realloc(vm->gray, vm->capgray * sizeof(qobj *));
    if (!vm->gray)
        abort();
}

/* The collector's own loops mark through these, inline; natives' mark
 * callbacks and the other files reach them as vm_mark_obj/vm_mark_value. */
static inline void mark_obj(qvm *vm, qobj *o)
{
    if (!o || o->marked)
        return;
    o->marked = 1;
    if (vm->ngray == vm->capgray)
        gray_grow(vm);
    vm->gray[vm->ngray++] = o;
}

static inline void mark_value(qvm *vm, qval v)
{
    if (v.tag == QV_OBJ)
        mark_obj(vm, v.as.o);
}

void vm_mark_obj(qvm *vm, qobj *o)
{
    mark_obj(vm, o);
}

void vm_mark_value(qvm *vm, qval v)
{
    mark_value(vm, v);
}

static void mark_values(qvm *vm, const qval *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        mark_value(vm, v[i]);
}

static void blacken_proto(qvm *vm, qproto *p)
{
    mark_obj(vm, (qobj *)p->name);
    mark_obj(vm, (qobj *)p->doc);
    mark_obj(vm, (qobj *)p->file);
    mark_obj(vm, (qobj *)p->ret_type);
    mark_values(vm, p->consts, p->nconsts);
    for (uint32_t i = 0; i < p->nparams; i++) {
        mark_obj(vm, (qobj *)p->params[i].name);
        mark_obj(vm, (qobj *)p->params[i].type);
    }
}

static void blacken_type(qvm *vm, qtype *t)
{
    mark_obj(vm, (qobj *)t->name);
    mark_obj(vm, (qobj *)t->doc);
    mark_obj(vm, (qobj *)t->methods);
    mark_obj(vm, (qobj *)t->statics);
    mark_obj(vm, (qobj *)t->traits);
    mark_obj(vm, (qobj *)t->parent);
    for (uint32_t i = 0; i < t->nfields; i++) {
        mark_obj(vm, (qobj *)t->fields[i].name);
        mark_obj(vm, (qobj *)t->fields[i].type);
        mark_value(vm, t->fields[i].def);
    }
}

static void blacken(qvm *vm, qobj *o)
{
    switch ((qobj_kind)o->kind) {
    case QO_ARRAY: mark_values(vm, ((qarray *)o)->items, ((qarray *)o)->len); break;
    case QO_DICT: {
        qdict *d = (qdict *)o;
        for (uint32_t i = 0; i < d->used; i++) {
            if (d->entries[i].key) {
                mark_obj(vm, (qobj *)d->entries[i].key);
                mark_value(vm, d->entries[i].val);
            }
        }
        break;
    }
    case QO_SET: mark_values(vm, ((qset *)o)->items, ((qset *)o)->used); break;
    case QO_PROTO: blacken_proto(vm, (qproto *)o); break;
    case QO_CLOSURE: {
        qclosure *c = (qclosure *)o;
        mark_obj(vm, (qobj *)c->proto);
        mark_obj(vm, (qobj *)c->module);
        mark_obj(vm, (qobj *)c->owner);
        for (uint32_t i = 0; i < c->proto->nupvals; i++)
            mark_obj(vm, (qobj *)c->upvals[i]);
        break;
    }
    case QO_UPVAL: mark_value(vm, ((qupval *)o)->closed); break;
    case QO_NATIVE:
        mark_value(vm, ((qnative *)o)->bound);
        mark_value(vm, ((qnative *)o)->target);
        break;
    case QO_TYPE: blacken_type(vm, (qtype *)o); break;
    case QO_TRAIT: {
        qtrait *t = (qtrait *)o;
        mark_obj(vm, (qobj *)t->name);
        mark_obj(vm, (qobj *)t->doc);
        for (uint32_t i = 0; i < t->nmethods; i++)
            mark_obj(vm, (qobj *)t->method_names[i]);
        break;
    }
    case QO_INSTANCE: {
        qinstance *in = (qinstance *)o;
        mark_obj(vm, (qobj *)in->type);
        mark_values(vm, in->fields, in->type->nfields);
        break;
    }
    case QO_MODULE: {
        qmodule *m = (qmodule *)o;
        mark_obj(vm, (qobj *)m->name);
        mark_obj(vm, (qobj *)m->path);
        mark_obj(vm, (qobj *)m->doc);
        mark_obj(vm, (qobj *)m->globals);
        mark_obj(vm, (qobj *)m->pub);
        mark_obj(vm, (qobj *)m->consts);
        mark_obj(vm, (qobj *)m->types);
        break;
    }
    case QO_EXC: {
        qexc *e = (qexc *)o;
        mark_obj(vm, (qobj *)e->type);
        mark_obj(vm, (qobj *)e->message);
        mark_obj(vm, (qobj *)e->stack);
        mark_obj(vm, (qobj *)e->file);
        mark_value(vm, e->payload);
        mark_value(vm, e->cause);
        break;
    }
    case QO_TASK: task_mark(vm, (qtask *)o); break;
    case QO_CHANNEL: channel_mark(vm, (qchannel *)o); break;
    case QO_CDATA: {
        qcdata *c = (qcdata *)o;
        mark_obj(vm, (qobj *)c->type);
        if (c->cls && c->cls->mark)
            c->cls->mark(vm, c->data);
        break;
    }
    default: break;
    }
}

void stack_mark(qvm *vm, qstack *s)
{
    mark_values(vm, s->values, s->sp);
    for (uint32_t i = 0; i < s->nframes; i++)
        mark_obj(vm, (qobj *)s->frames[i].fn);
    for (qupval *u = s->open_upvals; u; u = u->next_open)
        mark_obj(vm, (qobj *)u);
    for (uint32_t i = 0; i < s->nselves; i++)
        mark_obj(vm, (qobj *)s->selves[i].task);
}

void gc_mark_roots(qvm *vm)
{
    for (int i = 0; i < QC__COUNT; i++)
        mark_obj(vm, (qobj *)vm->types[i]);
    for (int i = 0; i < E__COUNT; i++)
        mark_obj(vm, (qobj *)vm->err_types[i]);
    mark_obj(vm, (qobj *)vm->builtins);
    mark_obj(vm, (qobj *)vm->universal);
    mark_obj(vm, (qobj *)vm->modules);
    mark_obj(vm, (qobj *)vm->exc);
    mark_obj(vm, (qobj *)vm->kwargs);
    qstr **names = (qstr **)&vm->names;
    for (size_t i = 0; i < sizeof vm->names / sizeof(qstr *); i++)
        mark_obj(vm, (qobj *)names[i]);
    mark_values(vm, vm->roots, (size_t)vm->nroots);
    mark_values(vm, vm->redirect, 3);
    if (vm->stack)
        stack_mark(vm, vm->stack);
    if (vm->base_stack)
        stack_mark(vm, vm->base_stack);
    for (qtask *t = vm->live; t; t = t->run->live_next)
        mark_obj(vm, (qobj *)t);
}

static void sweep(qvm *vm)
{
    qobj **link = &vm->objects;
    while (*link) {
        qobj *o = *link;
        if (o->marked) {
            o->marked = 0;
            link = &o->next;
        } else {
            *link = o->next;
            obj_free(vm, o);
        }
    }
}

/* The next collection comes when the heap has doubled, or quadrupled when
 * this one found little garbage: a heap that is mostly growing live data
 * (a million tasks started and waiting) is then marked about a third as
 * often, while one that churns garbage keeps the usual bound. */
void vm_gc(qvm *vm)
{
    size_t before = vm->bytes;
    gc_mark_roots(vm);
    while (vm->ngray)
        blacken(vm, vm->gray[--vm->ngray]);
    intern_sweep(vm);
    sweep(vm);
    size_t growth = vm->bytes > before - before / 4 ? 4 : 2;
    vm->next_gc = vm->bytes * growth < (1u << 20) ? (1u << 20) : vm->bytes * growth;
    vm->gc_pending = false;
}

void vm_collect_if_due(qvm *vm)
{
    if (vm->gc_pending)
        vm_gc(vm);
}

void gc_maybe(qvm *vm)
{
    if (vm->gc_pending)
        vm_gc(vm);
}

void vm_push_root(qvm *vm, qval v)
{
    if (vm->nroots == vm->caproots) {
        vm->caproots = vm->caproots ? vm->caproots * 2 : 64;
        vm->roots = realloc(vm->roots, (size_t)vm->caproots * sizeof(qval));
        if (!vm->roots)
            abort();
    }
    vm->roots[vm->nroots++] = v;
}

void vm_pop_roots(qvm *vm, int n)
{
    vm->nroots -= n;
}
