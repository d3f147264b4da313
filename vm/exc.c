/* exc.c — exceptions: raising values, capturing where they happened,
 * matching catch clauses, the methods of exception values and the report
 * printed for an uncaught one. */
#include <string.h>

#include "vm_internal.h"

static int frame_line(const qframe *f)
{
    qproto *p = f->fn->proto;
    size_t off = (size_t)(f->ip - p->code);
    if (off > 0)
        off--;
    return off < p->code_len ? p->lines[off] : p->line;
}

void exc_capture(qvm *vm, qexc *e)
{
    qstack *s = vm->stack;
    if (!e || e->line || e->stack->len || !s->nframes)
        return;
    const qframe *top = &s->frames[s->nframes - 1];
    e->line = frame_line(top);
    e->file = top->fn->proto->file;
    /* A task's trace is its own stack: inline calls start at their frame. */
    for (uint32_t i = s->nframes; i-- > s->inline_base;) {
        const qframe *f = &s->frames[i];
        arr_push(vm, e->stack, qv_obj(str_printf(vm, "at %s (%s:%d)", f->fn->proto->name->data,
                                                  f->fn->proto->file->data, frame_line(f))));
    }
}

qval exc_raise_value(qvm *vm, qval v)
{
    if (IS_EXCV(v))
        return vm_raise_exc(vm, AS_EXCV(v));
    if (IS_STR(v))
        return vm_raise_exc(vm, exc_new(vm, vm->err_types[E_RUNTIME], AS_STR(v)));
    if (IS_INSTANCE(v)) {
        qtype *t = AS_INSTANCE(v)->type;
        if (!type_implements(t, "Error"))
            return vm_raise(vm, E_TYPE, "Cannot raise %s: its type does not implement Error",
                            t->name->data);
        qval msg = vm_invoke(vm, v, "message", 0, NULL);
        if (IS_EXC(msg))
            return msg;
        qstr *m = vm_to_str(vm, msg);
        if (!m)
            return qv_exc();
        qexc *e = exc_new(vm, t, m);
        e->payload = v;
        return vm_raise_exc(vm, e);
    }
    qstr *m = vm_to_str(vm, v);
    if (!m)
        return qv_exc();
    return vm_raise_exc(vm, exc_new(vm, vm->err_types[E_RUNTIME], m));
}

bool exc_check_catch_type(qvm *vm, qval type)
{
    if (!IS_TYPE(type)) {
        vm_raise(vm, E_TYPE, "catch clause needs an exception type, got %s", vm_cls_name(type));
        return false;
    }
    qtype *ty = AS_TYPE(type);
    if (ty->tkind == QT_USER && !type_implements(ty, "Error")) {
        vm_raise(vm, E_TYPE, "Type %s cannot be caught: it does not implement Error", ty->name->data);
        return false;
    }
    return true;
}

int exc_matches(qvm *vm, qexc *e, qval type)
{
    if (!exc_check_catch_type(vm, type))
        return -1;
    qtype *ty = AS_TYPE(type);
    if (ty == vm->err_types[E_ERR] || str_equal(e->type->name, ty->name))
        return 1;
    /* Built-in types are flat (children of Err); module-defined ones may
     * have a family (HttpErr catches its TimeoutErr). */
    for (qtype *p = e->type->parent; p; p = p->parent)
        if (p == ty)
            return 1;
    return 0;
}

/* ---- methods of exception values ------------------------------------------------------ */

static qexc *self_exc(qval self)
{
    return AS_EXCV(self);
}

static qval e_type(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return qv_obj(self_exc(self)->type);
}

static qval e_message(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return qv_obj(self_exc(self)->message);
}

static qval e_stack(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    qarray *src = self_exc(self)->stack, *copy = arr_new(vm, src->len);
    memcpy(copy->items, src->items, src->len * sizeof(qval));
    copy->len = src->len;
    return qv_obj(copy);
}

static qval e_line(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    qexc *e = self_exc(self);
    return e->line ? qv_int(e->line) : qv_nil();
}

static qval e_file(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    qexc *e = self_exc(self);
    return e->file ? qv_obj(e->file) : qv_nil();
}

static qval e_cause(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return self_exc(self)->cause;
}

static const qmethod_def exc_methods[] = {
    {"type", e_type, 0, 0, false},
    {"message", e_message, 0, 0, false},
    {"stack", e_stack, 0, 0, false},
    {"line", e_line, 0, 0, false},
    {"file", e_file, 0, 0, false},
    {"cause", e_cause, 0, 0, false},
    {NULL, NULL, 0, 0, false},
};

void exc_init_class(qvm *vm, qtype *t)
{
    vm_add_methods(vm, t, exc_methods);
}

void vm_report_exc(qvm *vm, FILE *out)
{
    qexc *e = vm_take_exc(vm);
    if (!e)
        return;
    fprintf(out, "%s: %s\n", e->type->name->data, e->message->data);
    if (e->file && e->line)
        fprintf(out, "  at %s:%d\n", e->file->data, e->line);
    if (e->stack->len) {
        /* The innermost frames tell the story; a runaway recursion has 1000. */
        enum { HEAD = 20, TAIL = 5 };
        uint32_t n = e->stack->len;
        fputs("Stack trace:\n", out);
        for (uint32_t i = 0; i < n; i++) {
            if (n > HEAD + TAIL && i == HEAD) {
                fprintf(out, "  ... %u more frames ...\n", n - HEAD - TAIL);
                i = n - TAIL;
            }
            fprintf(out, "  %s\n", AS_STR(e->stack->items[i])->data);
        }
    }
    fflush(out);
}
