/* interp.c — the bytecode interpreter loop and the call machinery.
 *
 * run() executes frames of the current task's stack until the frame it was
 * entered for returns.  Quest-to-Quest calls push a frame and stay in the
 * same loop; natives that call back into Quest (vm_call) enter run() again,
 * marking their frame as a boundary.  Exceptions unwind to the innermost
 * try handler above that boundary, or return qv_exc() to the C caller.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "compile.h"
#include "opcodes.h"
#include "vm_internal.h"

#define MAX_C_DEPTH 200
#define NATIVE_ARGS 8

/* ---- upvalues ------------------------------------------------------------------ */

static qupval *capture_upval(qvm *vm, qstack *s, size_t index)
{
    qupval **link = &s->open_upvals;
    while (*link && (*link)->stack_index > index)
        link = &(*link)->next_open;
    if (*link && (*link)->stack_index == index)
        return *link;
    qupval *u = vm_alloc_obj(vm, sizeof(qupval), QO_UPVAL);
    u->stack_index = index;
    u->slot = &s->values[index];
    u->closed = qv_nil();
    u->next_open = *link;
    *link = u;
    return u;
}

static void close_upvals(qstack *s, size_t from)
{
    while (s->open_upvals && s->open_upvals->stack_index >= from) {
        qupval *u = s->open_upvals;
        u->closed = *u->slot;
        u->slot = &u->closed;
        s->open_upvals = u->next_open;
    }
}

/* ---- frames ----------------------------------------------------------------------- */

qmodule *interp_current_module(qvm *vm)
{
    qstack *s = vm->stack;
    return s->nframes ? s->frames[s->nframes - 1].fn->module : NULL;
}

qtype *interp_current_owner(qvm *vm)
{
    qstack *s = vm->stack;
    return s->nframes ? s->frames[s->nframes - 1].fn->owner : NULL;
}

const char *interp_current_file(qvm *vm)
{
    qstack *s = vm->stack;
    return s->nframes ? s->frames[s->nframes - 1].fn->proto->file->data : NULL;
}

static qval arg_error(qvm *vm, qproto *p, const char *fmt, const char *detail)
{
    char msg[300];
    snprintf(msg, sizeof msg, fmt, detail);
    return vm_raise(vm, E_ARG, "%s() %s", p->name->data, msg);
}

static int param_index(qproto *p, qstr *name)
{
    for (int i = 0; i < p->nparams; i++)
        if (p->params[i].name == name || str_equal(p->params[i].name, name))
            return i;
    return -1;
}

static bool check_param_type(qvm *vm, qproto *p, int i, qval v)
{
    qstr *t = p->params[i].type;
    if (!t || IS_UNDEF(v) || type_matches(vm, v, t))
        return true;
    vm_raise(vm, E_TYPE, "Parameter '%s' of %s() expects %s, got %s", p->params[i].name->data,
             p->name->data, t->data, vm_cls_name(v));
    return false;
}

/* Named arguments into slots (or the **kwargs dict). */
static bool bind_named(qvm *vm, qproto *p, qval *slots, int argc, qdict *kw, qdict *rest)
{
    for (uint32_t e = 0; e < kw->used; e++) {
        qdict_entry *en = &kw->entries[e];
        if (!en->key)
            continue;
        int i = param_index(p, en->key);
        if (i < 0) {
            if (!rest) {
                arg_error(vm, p, "got an unexpected keyword argument '%s'", en->key->data);
                return false;
            }
            dict_set(vm, rest, en->key, en->val);
        } else if (i < argc) {
            arg_error(vm, p, "got multiple values for argument '%s'", en->key->data);
            return false;
        } else {
            slots[1 + i] = en->val;
        }
    }
    return true;
}

/* Lay out the arguments of a call to p in the frame at slots: parameters,
 * *args, **kwargs; unbound optional parameters stay UNDEF for the prologue. */
static bool bind_args(qvm *vm, qproto *p, qval *slots, int argc, qdict *kw)
{
    int np = p->nparams;
    qarray *extra = NULL;
    if (argc > np) {
        if (p->varargs < 0) {
            char d[64];
            snprintf(d, sizeof d, "%d", np);
            vm_raise(vm, E_ARG, "%s() takes at most %s arguments, got %d", p->name->data, d, argc);
            return false;
        }
        extra = arr_new(vm, (uint32_t)(argc - np));
        for (int i = np; i < argc; i++)
            extra->items[extra->len++] = slots[1 + i];
    }
    for (int i = argc; i < p->nslots - 1; i++)
        slots[1 + i] = qv_nil();
    for (int i = argc < np ? argc : np; i < np; i++)
        slots[1 + i] = qv_undef();
    if (p->varargs >= 0)
        slots[p->varargs] = extra ? qv_obj(extra) : qv_obj(arr_new(vm, 0));
    qdict *rest = NULL;
    if (p->kwargs >= 0) {
        rest = dict_new(vm);
        slots[p->kwargs] = qv_obj(rest);
    }
    if (kw && !bind_named(vm, p, slots, argc, kw, rest))
        return false;
    for (int i = 0; i < np; i++) {
        if (IS_UNDEF(slots[1 + i]) && !p->params[i].has_default) {
            arg_error(vm, p, "missing required argument '%s'", p->params[i].name->data);
            return false;
        }
        if (!check_param_type(vm, p, i, slots[1 + i]))
            return false;
    }
    return true;
}

void vm_reset_budget(qvm *vm)
{
    budget_reset(vm);
}

bool vm_budget_exceeded(qvm *vm)
{
    bool hit = vm->budget_hit;
    vm->budget_hit = false;
    return hit;
}

/* A run passed more safe points than its budget: stop it (the server
 * answers 503) rather than let one request stall the worker. */
static qval budget_exceeded(qvm *vm)
{
    vm->budget_hit = true;
    return vm_raise(vm, E_RUNTIME, "CPU budget exceeded (%lld steps without waiting)",
                    (long long)vm->opts.cpu_budget);
}

/* Push a frame for cl with its arguments at values[base...]: the call
 * itself, without the depth limit. */
static bool push_frame(qvm *vm, qclosure *cl, size_t base, int argc, qdict *kw)
{
    qstack *s = vm->stack;
    qproto *p = cl->proto;
    if (vm->opts.cpu_budget && --vm->budget_left < 0) {
        budget_exceeded(vm);
        return false;
    }
    size_t need = (size_t)p->nslots + p->maxstack + 8;
    if (base + need > s->cap) {
        size_t sp = s->sp;
        s->sp = base;
        stack_reserve(s, need);
        s->sp = sp;
    }
    qval *slots = &s->values[base];
    if (argc == p->nparams && !kw && p->varargs < 0 && p->kwargs < 0 && !p->params_typed) {
        for (int i = 1 + argc; i < p->nslots; i++)
            slots[i] = qv_nil();
    } else if (!bind_args(vm, p, slots, argc, kw)) {
        return false;
    }
    qframe *f = s->nframes < s->capframes ? &s->frames[s->nframes++] : stack_push_frame(s);
    f->fn = cl;
    f->ip = p->code;
    f->base = base;
    f->outer = 0;
    f->boundary = false;
    f->inline_call = false;
    f->spawned = false;
    f->has_self = false;
    s->sp = base + (p->nslots ? p->nslots : 1);
    return true;
}

/* The depth limit counts the frames of one task's stack: those above the
 * innermost inline call, as if that call had a stack of its own. */
bool interp_push_frame(qvm *vm, qclosure *cl, size_t base, int argc, qdict *kw)
{
    qstack *s = vm->stack;
    if ((int)(s->nframes - s->inline_base) >= vm->opts.max_call_depth) {
        vm_raise(vm, E_RUNTIME, "Maximum recursion depth exceeded (%d)", vm->opts.max_call_depth);
        return false;
    }
    return push_frame(vm, cl, base, argc, kw);
}

/* A call of an async f from Quest code runs f on this stack like a plain
 * call (task_inline.c).  Awaited at once (the AWAIT follows the call), its
 * caller resumes after the AWAIT with f's value, and a Task is made only if
 * needed; otherwise the call is spawned: its Task is made now and is the
 * call's value.  Very deep chains take the task path, whose fresh stack
 * starts at depth 0. */
static bool can_inline(qvm *vm)
{
    return (int)vm->stack->nframes < vm->opts.max_call_depth;
}

static bool push_inline(qvm *vm, qclosure *cl, size_t at, int argc, const uint8_t *next)
{
    qstack *s = vm->stack;
    if (!push_frame(vm, cl, at, argc, NULL))
        return false;
    uint32_t k = s->nframes - 1;
    bool awaited = *next == OP_AWAIT;
    if (awaited)
        s->frames[k - 1].ip++; /* past the AWAIT */
    s->frames[k].inline_call = true;
    s->frames[k].spawned = !awaited;
    s->frames[k].outer = s->inline_base;
    s->inline_base = k;
    if (!awaited)
        inline_self(vm, s, k);
    return true;
}

/* Enter a Quest function called from the dispatch loop: a plain one gets a
 * frame, an async one an inline frame while the stack has room.  1: entered,
 * 0: not here (the caller takes the task path), -1: an exception is set. */
static inline __attribute__((always_inline)) int enter_closure(qvm *vm, qclosure *cl, size_t at, int argc,
                                                               const uint8_t *next)
{
    if (!cl->proto->is_async)
        return interp_push_frame(vm, cl, at, argc, NULL) ? 1 : -1;
    if (!can_inline(vm))
        return 0;
    return push_inline(vm, cl, at, argc, next) ? 1 : -1;
}

/* ArgErr for a native given too few or too many arguments (out of line:
 * call_native runs for every native call). */
static __attribute__((noinline, cold)) qval native_arity_error(qvm *vm, const qnative *n, int argc)
{
    if (n->min_args == n->max_args)
        return vm_raise(vm, E_ARG, "%s expects %d argument%s, got %d", n->name, n->min_args,
                        n->min_args == 1 ? "" : "s", argc);
    return vm_raise(vm, E_ARG, "%s expects %d to %d arguments, got %d", n->name, n->min_args,
                    n->max_args, argc);
}

/* awaited: the call is `await x.m(...)` (the AWAIT follows it), so what it
 * returns is awaited at once and seen by nothing else (vm->awaited).
 * Inline in INVOKE, where most native calls come from (a call of its own
 * costs a frame and seven arguments each time); call_native elsewhere. */
static inline __attribute__((always_inline)) qval native_call(qvm *vm, qnative *n, qval self, size_t at,
                                                              int argc, qdict *kw, bool awaited)
{
    qstack *s = vm->stack;
    if ((n->min_args >= 0 && argc < n->min_args) || (n->max_args >= 0 && argc > n->max_args))
        return native_arity_error(vm, n, argc);
    if (kw && kw->count && !n->kwargs)
        return vm_raise(vm, E_ARG, "%s does not take named arguments", n->name);
    /* Copy the arguments: a native that calls back into Quest may grow (and
     * move) the stack they live on.  They stay on the stack as GC roots.
     * (One argument, the common case, is copied without memcpy's call.) */
    qval small[NATIVE_ARGS];
    qval *argv = argc <= NATIVE_ARGS ? small : malloc((size_t)argc * sizeof(qval));
    if (!argv)
        abort();
    if (argc == 1)
        small[0] = s->values[at + 1];
    else if (argc > 1)
        memcpy(argv, &s->values[at + 1], (size_t)argc * sizeof(qval));
    qdict *saved_kw = vm->kwargs;
    bool saved_awaited = vm->awaited;
    vm->kwargs = kw;
    vm->awaited = awaited;
    qval r = n->fn(vm, self, argc, argv);
    vm->kwargs = saved_kw;
    vm->awaited = saved_awaited;
    if (argv != small)
        free(argv);
    return r;
}

static qval call_native(qvm *vm, qnative *n, qval self, size_t at, int argc, qdict *kw, bool awaited)
{
    return native_call(vm, n, self, at, argc, kw, awaited);
}

/* Call the closure at values[at]: push its frame and run it to completion. */
static qval call_closure_now(qvm *vm, qclosure *cl, size_t at, int argc, qdict *kw)
{
    qstack *s = vm->stack;
    uint32_t depth = s->nframes;
    if (cl->proto->is_async) {
        qval t = task_start_call(vm, cl, at, argc, kw);
        s->sp = at;
        return t;
    }
    if (!interp_push_frame(vm, cl, at, argc, kw)) {
        s->sp = at;
        return qv_exc();
    }
    s->frames[s->nframes - 1].boundary = true;
    if (++vm->c_depth > MAX_C_DEPTH) {
        vm->c_depth--;
        s->nframes--;
        s->sp = at;
        return vm_raise(vm, E_RUNTIME, "Maximum recursion depth exceeded (nested native calls)");
    }
    qval r = interp_run(vm, depth, false);
    vm->c_depth--;
    return r;
}

/* The async call from C (vm_call_async_inline) at frames[nframes] returned:
 * its Task, if it was asked for, settles with the value, rooted meanwhile. */
static qval entry_return(qvm *vm, qstack *s, qval result)
{
    s->values[s->sp++] = result;
    qval r = inline_return(vm, s, s->nframes, result);
    s->sp--;
    return r;
}

/* Resolve what calling `callee` means: the closure to run (and the value
 * for slot 0) or a native with its receiver. */
qval interp_call(qvm *vm, size_t at, int argc, qdict *kw)
{
    qstack *s = vm->stack;
    qval callee = s->values[at];
    qval r;
    if (IS_KIND(callee, QO_CLOSURE))
        return call_closure_now(vm, AS_CLOSURE(callee), at, argc, kw);
    if (IS_KIND(callee, QO_NATIVE)) {
        qnative *n = AS_NATIVE(callee);
        if (!n->fn) { /* bound Quest method */
            s->values[at] = n->bound;
            return call_closure_now(vm, AS_CLOSURE(n->target), at, argc, kw);
        }
        r = call_native(vm, n, n->bound, at, argc, kw, false);
    } else if (IS_INSTANCE(callee)) {
        qval m;
        if (member_find_method(vm, callee, vm->names.call, &m) == FOUND_METHOD && IS_KIND(m, QO_CLOSURE))
            return call_closure_now(vm, AS_CLOSURE(m), at, argc, kw);
        r = vm_raise(vm, E_TYPE, "%s object is not callable (no _call method)", vm_cls_name(callee));
    } else {
        r = vm_raise(vm, E_TYPE, "%s is not callable", vm_cls_name(callee));
    }
    s->sp = at;
    return r;
}

/* ---- calling from C -------------------------------------------------------------------- */

/* Push fn and its arguments for a call from C; where fn went. */
static size_t push_call(qstack *s, qval fn, int argc, const qval *argv)
{
    stack_reserve(s, (size_t)argc + 1);
    size_t at = s->sp;
    s->values[s->sp++] = fn;
    for (int i = 0; i < argc; i++)
        s->values[s->sp++] = argv[i];
    return at;
}

qval vm_call_kw(qvm *vm, qval fn, int argc, qval *argv, qdict *kw)
{
    qstack *s = vm->stack;
    size_t at = push_call(s, fn, argc, argv);
    qval r = interp_call(vm, at, argc, kw);
    s->sp = at;
    return r;
}

qval vm_call(qvm *vm, qval fn, int argc, qval *argv)
{
    return vm_call_kw(vm, fn, argc, argv, NULL);
}

/* The call's frame is inline (task_inline.c) with C as its caller: a
 * boundary, and `spawned` so that its errors and suspension stop there and
 * its Task, made only when asked for, stands for the calls it awaits. */
qval vm_call_async_inline(qvm *vm, qval fn, int argc, qval *argv, qtask **pending)
{
    *pending = NULL;
    if (!IS_KIND(fn, QO_CLOSURE) || !AS_CLOSURE(fn)->proto->is_async || !can_inline(vm) ||
        vm->c_depth >= MAX_C_DEPTH)
        return vm_call(vm, fn, argc, argv);
    qstack *s = vm->stack;
    size_t at = push_call(s, fn, argc, argv);
    /* Frame 0 cannot be inline (an inline_base of 0 means none): on an empty
     * stack a frame that never runs goes under it. */
    bool floor = s->nframes == 0;
    if (floor)
        *stack_push_frame(s) = (qframe){.fn = AS_CLOSURE(fn), .ip = AS_CLOSURE(fn)->proto->code,
                                        .base = at, .boundary = true};
    uint32_t k = s->nframes;
    if (!push_frame(vm, AS_CLOSURE(fn), at, argc, NULL)) {
        s->nframes -= floor;
        s->sp = at;
        return qv_exc();
    }
    qframe *f = &s->frames[k];
    f->boundary = true;
    f->inline_call = true;
    f->spawned = true;
    f->outer = s->inline_base;
    s->inline_base = k;
    vm->c_depth++;
    vm->inline_detached = NULL;
    qval r = interp_run(vm, k, false);
    vm->c_depth--;
    s->nframes -= floor;
    *pending = vm->inline_detached;
    vm->inline_detached = NULL;
    s->sp = at;
    return *pending ? qv_nil() : r;
}

qval vm_invoke(qvm *vm, qval recv, const char *name, int argc, qval *argv)
{
    qval m;
    found_kind k = member_find_method(vm, recv, str_intern_cstr(vm, name), &m);
    if (k == FOUND_NONE)
        return qv_exc();
    qstack *s = vm->stack;
    size_t at = push_call(s, k == FOUND_METHOD ? recv : m, argc, argv);
    qval r;
    if (k == FOUND_METHOD && IS_KIND(m, QO_CLOSURE))
        r = call_closure_now(vm, AS_CLOSURE(m), at, argc, NULL);
    else if (k == FOUND_METHOD)
        r = call_native(vm, AS_NATIVE(m), recv, at, argc, NULL, false);
    else
        r = interp_call(vm, at, argc, NULL);
    s->sp = at;
    return r;
}

bool vm_is_callable(qval v)
{
    return IS_KIND(v, QO_CLOSURE) || IS_KIND(v, QO_NATIVE) || IS_INSTANCE(v);
}

int vm_fn_arity(qval fn)
{
    if (IS_KIND(fn, QO_NATIVE) && AS_NATIVE(fn)->fn == NULL)
        fn = AS_NATIVE(fn)->target;
    if (!IS_KIND(fn, QO_CLOSURE))
        return -1;
    qproto *p = AS_CLOSURE(fn)->proto;
    return p->varargs >= 0 ? -1 : p->nparams;
}

/* ---- the loop ------------------------------------------------------------------------------ */

static qval arith(qvm *vm, qopcode op, qval a, qval b)
{
    static const int qops[] = {
        [OP_ADD] = QOP_ADD, [OP_SUB] = QOP_SUB, [OP_MUL] = QOP_MUL,
        [OP_DIV] = QOP_DIV, [OP_MOD] = QOP_MOD,
    };
    if (IS_FLOAT(a) && IS_FLOAT(b)) {
        switch (op) {
        case OP_ADD: return qv_float(a.as.f + b.as.f);
        case OP_SUB: return qv_float(a.as.f - b.as.f);
        case OP_MUL: return qv_float(a.as.f * b.as.f);
        default: break;
        }
    }
    return num_arith(vm, qops[op], a, b);
}

static qval bitop(qvm *vm, qopcode op, qval a, qval b)
{
    static const int qops[] = {
        [OP_BAND] = QOP_BAND, [OP_BOR] = QOP_BOR, [OP_BXOR] = QOP_BXOR,
        [OP_SHL] = QOP_SHL, [OP_SHR] = QOP_SHR,
    };
    return num_bitop(vm, qops[op], a, b);
}

static qval concat(qvm *vm, qval a, qval b)
{
    qstr *x = vm_to_str(vm, a);
    if (!x)
        return qv_exc();
    qstr *y = vm_to_str(vm, b);
    if (!y)
        return qv_exc();
    return qv_obj(str_cat(vm, x, y));
}

/* `a += b`: strings and arrays join, numbers add. */
static qval inplace_add(qvm *vm, qval a, qval b)
{
    if (IS_STR(a) && IS_STR(b))
        return concat(vm, a, b);
    if (IS_ARRAY(a) && IS_ARRAY(b)) {
        qarray *x = AS_ARRAY(a), *y = AS_ARRAY(b);
        qarray *r = arr_new(vm, x->len + y->len);
        if (x->len)
            memcpy(r->items, x->items, x->len * sizeof(qval));
        if (y->len)
            memcpy(r->items + x->len, y->items, y->len * sizeof(qval));
        r->len = x->len + y->len;
        return qv_obj(r);
    }
    return num_arith(vm, QOP_ADD, a, b);
}

static qval iter_init(qvm *vm, qval coll, qval *state)
{
    state[1] = qv_int(0);
    state[2] = qv_nil();
    if (IS_ARRAY(coll)) {
        qarray *a = AS_ARRAY(coll);
        qarray *snap = arr_new(vm, a->len);
        if (a->len)
            memcpy(snap->items, a->items, a->len * sizeof(qval));
        snap->len = a->len;
        state[0] = qv_obj(snap);
    } else if (IS_DICT(coll)) {
        qdict *d = AS_DICT(coll);
        qarray *keys = arr_new(vm, d->count);
        for (uint32_t i = 0; i < d->used; i++)
            if (d->entries[i].key)
                keys->items[keys->len++] = qv_obj(d->entries[i].key);
        state[0] = qv_obj(keys);
        state[2] = coll;
    } else if (IS_SET(coll)) {
        qset *st = AS_SET(coll);
        qarray *items = arr_new(vm, st->count);
        for (uint32_t i = 0; i < st->used; i++)
            if (!IS_UNDEF(st->items[i]))
                items->items[items->len++] = st->items[i];
        state[0] = qv_obj(items);
    } else if (IS_STR(coll) || IS_BYTES(coll)) {
        state[0] = coll;
    } else {
        return vm_raise(vm, E_TYPE, "Cannot iterate over %s", vm_cls_name(coll));
    }
    return qv_nil();
}

/* Next element into vars[0] (and vars[1]); false when exhausted. */
static bool iter_next(qvm *vm, qval *state, qval *vars, int nvars)
{
    int64_t pos = state[1].as.i;
    qval c = state[0];
    if (IS_ARRAY(c)) {
        qarray *a = AS_ARRAY(c);
        if (pos >= a->len)
            return false;
        if (!IS_NIL(state[2])) { /* dict: key, value */
            vars[0] = a->items[pos];
            if (nvars > 1) {
                qval v = qv_nil();
                dict_get(AS_DICT(state[2]), AS_STR(a->items[pos]), &v);
                vars[1] = v;
            }
        } else {
            vars[0] = a->items[pos];
            if (nvars > 1)
                vars[1] = qv_int(pos);
        }
        state[1].as.i = pos + 1;
        return true;
    }
    if (IS_BYTES(c)) {
        qbytes *b = AS_BYTES(c);
        if (pos >= b->len)
            return false;
        vars[0] = qv_int(b->data[pos]);
        if (nvars > 1)
            vars[1] = qv_int(pos);
        state[1].as.i = pos + 1;
        return true;
    }
    /* Str: pos is a byte offset; the index var counts characters. */
    qstr *str = AS_STR(c);
    if (pos >= str->len)
        return false;
    size_t end = (size_t)pos + 1;
    while (end < str->len && ((uint8_t)str->data[end] & 0xC0) == 0x80)
        end++;
    vars[0] = qv_obj(str_new(vm, str->data + pos, end - (size_t)pos));
    if (nvars > 1) {
        vars[1] = IS_INT(state[2]) ? state[2] : qv_int(0);
        state[2] = qv_int(vars[1].as.i + 1);
    }
    state[1].as.i = (int64_t)end;
    return true;
}

static bool to_range_int(qvm *vm, qval v, int64_t *out)
{
    if (IS_INT(v)) {
        *out = v.as.i;
        return true;
    }
    if (IS_FLOAT(v) && isfinite(v.as.f)) {
        *out = (int64_t)v.as.f;
        return true;
    }
    vm_raise(vm, E_TYPE, "Range bounds must be numbers, got %s", vm_cls_name(v));
    return false;
}

static qval range_init(qvm *vm, qval *vals, int flags, qval *state)
{
    int64_t from, to, step;
    if (!to_range_int(vm, vals[0], &from) || !to_range_int(vm, vals[1], &to))
        return qv_exc();
    if (flags & RANGE_STEP) {
        if (!to_range_int(vm, vals[2], &step))
            return qv_exc();
        if (step == 0)
            return vm_raise(vm, E_VALUE, "Range step cannot be zero");
    } else {
        step = from <= to ? 1 : -1;
    }
    state[0] = qv_int(from);
    state[1] = qv_int(to);
    state[2] = qv_int(step);
    state[3] = qv_bool(flags & RANGE_UNTIL);
    return qv_nil();
}

static bool range_next(qval *state, qval *var)
{
    int64_t cur = state[0].as.i, end = state[1].as.i, step = state[2].as.i;
    bool until = state[3].as.b;
    if (step > 0 ? (until ? cur >= end : cur > end) : (until ? cur <= end : cur < end))
        return false;
    *var = qv_int(cur);
    int64_t next;
    if (__builtin_add_overflow(cur, step, &next)) { /* stop after the last representable value */
        state[1] = qv_int(cur);
        state[3] = qv_bool(true);
        next = cur;
    }
    state[0] = qv_int(next);
    return true;
}

static qval match_range(qvm *vm, qval *v, int flags)
{
    qval subj = v[0], lo = v[1], hi = v[2];
    bool until = flags & RANGE_UNTIL;
    qval args[4] = {subj, lo, hi, (flags & RANGE_STEP) ? v[3] : qv_nil()};
    for (int i = 0; i < 3; i++)
        if (!IS_NUM(args[i]) && !IS_BIGINT(args[i]) && !IS_DECIMAL(args[i]))
            return vm_raise(vm, E_TYPE, "Range pattern needs numbers, got %s", vm_cls_name(args[i]));
    bool big = IS_BIGINT(subj) || IS_BIGINT(lo) || IS_BIGINT(hi);
    if (big && !(IS_BIGINT(subj) && IS_BIGINT(lo) && IS_BIGINT(hi)))
        return vm_raise(vm, E_TYPE, "Cannot mix BigInt with other numbers in a range pattern");
    if (vm_compare(subj, lo) < 0)
        return qv_bool(false);
    int c = vm_compare(subj, hi);
    if (until ? c >= 0 : c > 0)
        return qv_bool(false);
    if (!(flags & RANGE_STEP))
        return qv_bool(true);
    qval step = args[3];
    if (!IS_INT(step) && !IS_BIGINT(step))
        return vm_raise(vm, E_TYPE, "Range step must be an integer, got %s", vm_cls_name(step));
    if ((IS_INT(step) && step.as.i <= 0) || (IS_BIGINT(step) && vm_compare(step, bigint_from_int(vm, 0)) <= 0))
        return vm_raise(vm, E_VALUE, "Range step must be positive");
    qval diff = num_arith(vm, QOP_SUB, subj, lo);
    if (IS_EXC(diff))
        return diff;
    qval rem = num_arith(vm, QOP_MOD, diff, step);
    if (IS_EXC(rem))
        return rem;
    return qv_bool(!vm_truthy(rem));
}

static qval build_str(qvm *vm, qval *v, int n)
{
    qbuf b;
    buf_init(&b);
    for (int i = 0; i < n; i++) {
        qstr *s = vm_to_str(vm, v[i]);
        if (!s) {
            buf_free(&b);
            return qv_exc();
        }
        buf_append(&b, s->data, s->len);
    }
    return qv_obj(buf_to_str(vm, &b));
}

static qval format_value(qvm *vm, qval v, qstr *spec)
{
    qbuf b;
    buf_init(&b);
    if (!fmt_spec(vm, &b, v, spec->data, spec->len)) {
        buf_free(&b);
        return qv_exc();
    }
    return qv_obj(buf_to_str(vm, &b));
}

static qval make_closure(qvm *vm, qproto *p, qframe *f)
{
    qclosure *cl = vm_alloc_obj(vm, sizeof(qclosure) + p->nupvals * sizeof(qupval *), QO_CLOSURE);
    cl->proto = p;
    cl->module = f->fn->module;
    cl->owner = f->fn->owner;
    for (uint32_t i = 0; i < p->nupvals; i++) {
        if (p->upval_is_local[i])
            cl->upvals[i] = capture_upval(vm, vm->stack, f->base + p->upval_index[i]);
        else
            cl->upvals[i] = f->fn->upvals[p->upval_index[i]];
    }
    return qv_obj(cl);
}

/* A proto's inline caches (p->ic, made with the first use): a slot per
 * code byte, which for GET_GLOBAL holds the entry's position and for
 * INVOKE the index (+1) of its method cache. */
typedef struct mcache {
    qtype *cls;            /* the receiver's class ... */
    uint64_t epoch;        /* ... while vm->method_epoch is this */
    qval method;
} mcache;

typedef struct qcaches {
    uint32_t *slot;
    mcache *m;
    uint32_t nm, capm;
} qcaches;

static qcaches *caches_of(qproto *p)
{
    if (!p->ic) {
        qcaches *c = calloc(1, sizeof *c);
        if (!c || !(c->slot = calloc(p->code_len, sizeof(uint32_t))))
            abort();
        p->ic = c;
        p->nic = p->code_len;
    }
    return p->ic;
}

void interp_free_caches(qproto *p)
{
    qcaches *c = p->ic;
    if (!c)
        return;
    free(c->slot);
    free(c->m);
    free(c);
    p->ic = NULL;
}

/* The cache slot of the instruction at pc. */
static uint32_t *global_cache(qproto *p, const uint8_t *pc)
{
    return &caches_of(p)->slot[pc - p->code];
}

static mcache *method_cache(qproto *p, const uint8_t *pc)
{
    qcaches *c = caches_of(p);
    uint32_t *slot = &c->slot[pc - p->code];
    if (!*slot) {
        if (c->nm == c->capm) {
            c->capm = c->capm ? c->capm * 2 : 4;
            c->m = realloc(c->m, c->capm * sizeof(mcache));
            if (!c->m)
                abort();
        }
        c->m[c->nm] = (mcache){NULL, 0, qv_nil()};
        *slot = ++c->nm;
    }
    return &c->m[*slot - 1];
}

/* The method name of the INVOKE at pc (read only when the cache misses). */
static qstr *invoke_name(const qproto *p, const uint8_t *pc)
{
    return AS_STR(p->consts[pc[1] | pc[2] << 8]);
}

/* recv.name(...) at the INVOKE at pc: most call sites see one class, whose
 * method is remembered until a method table changes (vm->method_epoch). */
static found_kind invoke_lookup(qvm *vm, qproto *p, const uint8_t *pc, qval recv, qval *out)
{
    bool instance;
    qtype *cls = member_cache_class(vm, recv, &instance);
    if (!cls)
        return member_find_method(vm, recv, invoke_name(p, pc), out);
    mcache *c = method_cache(p, pc);
    if (c->cls == cls && c->epoch == vm->method_epoch) {
        *out = c->method;
        return FOUND_METHOD;
    }
    qstr *name = invoke_name(p, pc);
    if (member_class_method(vm, cls, instance, name, out)) {
        *c = (mcache){cls, vm->method_epoch, *out};
        return FOUND_METHOD;
    }
    return member_find_method(vm, recv, name, out);
}

/* `==` and conditions, with the common cases (a test against nil, a Bool)
 * answered here rather than by a call. */
static inline bool equal(qval a, qval b)
{
    if (IS_NIL(a) || IS_NIL(b))
        return a.tag == b.tag;
    return vm_equal(a, b);
}

static inline bool truthy(qval v)
{
    return IS_BOOL(v) ? v.as.b : vm_truthy(v);
}

static qval global_get(qvm *vm, qmodule *m, qstr *name)
{
    qval v;
    if (dict_get(m->globals, name, &v) || dict_get(vm->builtins, name, &v))
        return v;
    return vm_raise(vm, E_NAME, "Undefined variable: %s", name->data);
}

static qval global_set(qvm *vm, qmodule *m, qstr *name, qval v)
{
    if (!dict_get(m->globals, name, NULL))
        return vm_raise(vm, E_NAME, "Cannot assign to undeclared variable '%s'", name->data);
    if (m->consts && dict_get(m->consts, name, NULL))
        return vm_raise(vm, E_TYPE, "Cannot reassign constant '%s'", name->data);
    qval type;
    if (m->types && dict_get(m->types, name, &type) && !type_matches(vm, v, AS_STR(type)))
        return vm_raise(vm, E_TYPE, "Cannot assign %s to variable '%s' of type %s", vm_cls_name(v),
                        name->data, AS_STR(type)->data);
    dict_set(vm, m->globals, name, v);
    return qv_nil();
}

static qval global_def(qvm *vm, qmodule *m, qstr *name, unsigned flags, qval v)
{
    if (!(flags & DEF_REPLACE) && dict_get(m->globals, name, NULL))
        return vm_raise(vm, E_NAME, "Variable '%s' already declared in this scope", name->data);
    dict_set(vm, m->globals, name, v);
    if (flags & DEF_CONST) {
        if (!m->consts)
            m->consts = dict_new(vm);
        dict_set(vm, m->consts, name, qv_bool(true));
    } else if (m->consts) {
        dict_del(m->consts, name);
    }
    if ((flags & DEF_PUB) && m->pub)
        dict_set(vm, m->pub, name, qv_bool(true));
    return qv_nil();
}

/* Build positional args + named args from a CALL_EX spec; leaves the flat
 * positional arguments above `at` and returns their count (or -1). */
static int spread_args(qvm *vm, size_t at, qarray *spec, qdict **kw_out)
{
    qstack *s = vm->stack;
    int n = (int)spec->len;
    qarray *pos = arr_new(vm, (uint32_t)n);
    qdict *kw = NULL;
    vm_push_root(vm, qv_obj(pos));
    for (int i = 0; i < n; i++) {
        qval a = s->values[at + 1 + i], d = spec->items[i];
        if (IS_STR(d)) {
            if (!kw) {
                kw = dict_new(vm);
                vm_push_root(vm, qv_obj(kw));
            }
            if (dict_get(kw, AS_STR(d), NULL) && i > 0 && IS_STR(d)) {
                bool explicit_dup = false;
                for (int j = 0; j < i; j++)
                    if (IS_STR(spec->items[j]) && str_equal(AS_STR(spec->items[j]), AS_STR(d)))
                        explicit_dup = true;
                if (explicit_dup) {
                    vm_pop_roots(vm, 2);
                    vm_raise(vm, E_ARG, "Duplicate keyword argument '%s'", AS_STR(d)->data);
                    return -1;
                }
            }
            dict_set(vm, kw, AS_STR(d), a);
        } else if (d.as.i == 1) {
            if (!IS_ARRAY(a)) {
                vm_pop_roots(vm, kw ? 2 : 1);
                vm_raise(vm, E_TYPE, "Cannot unpack %s with *: expected Array", vm_cls_name(a));
                return -1;
            }
            for (uint32_t j = 0; j < AS_ARRAY(a)->len; j++)
                arr_push(vm, pos, AS_ARRAY(a)->items[j]);
        } else if (d.as.i == 2) {
            if (!IS_DICT(a)) {
                vm_pop_roots(vm, kw ? 2 : 1);
                vm_raise(vm, E_TYPE, "Cannot unpack %s with **: expected Dict", vm_cls_name(a));
                return -1;
            }
            if (!kw) {
                kw = dict_new(vm);
                vm_push_root(vm, qv_obj(kw));
            }
            qdict *src = AS_DICT(a);
            for (uint32_t j = 0; j < src->used; j++)
                if (src->entries[j].key)
                    dict_set(vm, kw, src->entries[j].key, src->entries[j].val);
        } else {
            if (kw) {
                vm_pop_roots(vm, 2);
                vm_raise(vm, E_ARG, "Positional argument follows keyword argument");
                return -1;
            }
            arr_push(vm, pos, a);
        }
    }
    stack_reserve(s, pos->len + 1 > (uint32_t)n ? pos->len + 1 - (uint32_t)n : 0);
    memcpy(&s->values[at + 1], pos->items, pos->len * sizeof(qval));
    s->sp = at + 1 + pos->len;
    *kw_out = kw;
    vm_pop_roots(vm, kw ? 2 : 1);
    if (kw)
        vm_push_root(vm, qv_obj(kw)); /* released by the caller */
    return (int)pos->len;
}

/* Dispatch: computed goto where the compiler has it (each instruction
 * jumps straight to the next one's code), else the switch. */
#if defined(__GNUC__) && !defined(QUEST_NO_COMPUTED_GOTO)
#define QUEST_COMPUTED_GOTO 1
#define CASE(op) case OP_##op: L_##op
#define NEXT goto *dispatch[*ip++]
#else
#define QUEST_COMPUTED_GOTO 0
#define CASE(op) case OP_##op
#define NEXT break
#endif

/* Operands are little endian, read byte by byte: one unaligned load
 * (memcpy into a uint16_t) executes fewer instructions, yet with gcc 12 -O3
 * made loadtest/interp/loop.q 15 % slower (0.36 -> 0.42 s CPU). */
#define READ_U16() (ip += 2, (unsigned)(ip[-2] | (ip[-1] << 8)))
#define READ_I32()                                                                          \
    (ip += 4, (int32_t)((uint32_t)ip[-4] | ((uint32_t)ip[-3] << 8) | ((uint32_t)ip[-2] << 16) | \
                        ((uint32_t)ip[-1] << 24)))
#define PUSH(v) (s->values[s->sp++] = (v))
#define POP() (s->values[--s->sp])
#define TOP() (s->values[s->sp - 1])
#define PEEK(n) (s->values[s->sp - 1 - (n)])
#define SLOT(i) (s->values[f->base + (i)])
#define K(i) (f->fn->proto->consts[i])
#define KSTR(i) AS_STR(K(i))
#define SAVE() (f->ip = ip)
#define LOAD() (f = &s->frames[s->nframes - 1], ip = f->ip)
/* After anything that may have run Quest code: the frame array may have
 * moved (nested calls push frames on this stack), so re-aim f. */
/* CALL and INVOKE: continue in cl when enter_closure can; fall through when
 * it cannot.  A block, not do-while: NEXT may be `break`. */
#define ENTER_CLOSURE(cl)                                          \
    {                                                              \
        int entered_ = enter_closure(vm, (cl), at, (int)argc, ip); \
        if (entered_ < 0) {                                        \
            r = qv_exc();                                          \
            goto on_error;                                         \
        }                                                          \
        if (entered_ > 0) {                                        \
            LOAD();                                                \
            if (vm->gc_pending)                                    \
                vm_gc(vm);                                         \
            NEXT;                                                  \
        }                                                          \
    }
#define CHECK(v)                               \
    do {                                       \
        if (IS_EXC(v))                         \
            goto on_error;                     \
        f = &s->frames[s->nframes - 1];        \
    } while (0)

/* Run frames until the frame count drops to `stop`. */
qval interp_run(qvm *vm, uint32_t stop, bool raising)
{
    qstack *s = vm->stack;
    qframe *f;
    uint8_t *ip;
    qval r;
#if QUEST_COMPUTED_GOTO
    /* The compiler emits only valid opcodes: one label per opcode, in order. */
    static const void *const dispatch[OP__COUNT] = {
#define OP_LABEL(name, n, effect) &&L_##name,
        OPCODES(OP_LABEL)
#undef OP_LABEL
    };
#endif
    LOAD();
    if (raising) {
        r = qv_exc();
        goto on_error;
    }
    for (;;) {
        switch ((qopcode)*ip++) {
        CASE(CONST): PUSH(K(READ_U16())); NEXT;
        CASE(NIL): PUSH(qv_nil()); NEXT;
        CASE(TRUE): PUSH(qv_bool(true)); NEXT;
        CASE(FALSE): PUSH(qv_bool(false)); NEXT;
        CASE(POP): s->sp--; NEXT;
        CASE(DUP): {
            qval t = TOP();
            PUSH(t);
            NEXT;
        }
        CASE(DUP2): {
            qval a = PEEK(1), b = PEEK(0);
            PUSH(a);
            PUSH(b);
            NEXT;
        }
        CASE(GET_LOCAL): PUSH(SLOT(READ_U16())); NEXT;
        CASE(GET_LOCAL_CHK): {
            unsigned slot = READ_U16(), k = READ_U16();
            if (IS_UNDEF(SLOT(slot))) {
                SAVE();
                r = vm_raise(vm, E_NAME, "Undefined variable: %s", KSTR(k)->data);
                goto on_error;
            }
            PUSH(SLOT(slot));
            NEXT;
        }
        CASE(SET_LOCAL): SLOT(READ_U16()) = POP(); NEXT;
        CASE(DEL_LOCAL): SLOT(READ_U16()) = qv_undef(); NEXT;
        CASE(GET_UPVAL): {
            unsigned i = READ_U16(), k = READ_U16();
            qval v = *f->fn->upvals[i]->slot;
            if (IS_UNDEF(v)) {
                SAVE();
                r = vm_raise(vm, E_NAME, "Undefined variable: %s", KSTR(k)->data);
                goto on_error;
            }
            PUSH(v);
            NEXT;
        }
        CASE(SET_UPVAL): *f->fn->upvals[READ_U16()]->slot = POP(); NEXT;
        CASE(GET_GLOBAL): {
            /* Inline cache: the entry's position in the globals dict, checked
             * by key identity (names are interned), so it survives growth. */
            uint32_t *ic = global_cache(f->fn->proto, ip - 1);
            qstr *name = KSTR(READ_U16());
            qdict *g = f->fn->module->globals;
            qval v;
            if (*ic && *ic <= g->used && g->entries[*ic - 1].key == name) {
                PUSH(g->entries[*ic - 1].val);
                NEXT;
            }
            int64_t e = dict_index(g, name);
            if (e >= 0) {
                *ic = (uint32_t)e + 1;
                PUSH(g->entries[e].val);
                NEXT;
            }
            if (dict_get(vm->builtins, name, &v)) {
                PUSH(v);
                NEXT;
            }
            SAVE();
            r = global_get(vm, f->fn->module, name);
            goto on_error;
        }
        CASE(SET_GLOBAL): {
            qstr *name = KSTR(READ_U16());
            SAVE();
            r = global_set(vm, f->fn->module, name, POP());
            CHECK(r);
            NEXT;
        }
        CASE(DEF_GLOBAL): {
            qstr *name = KSTR(READ_U16());
            unsigned flags = READ_U16();
            SAVE();
            r = global_def(vm, f->fn->module, name, flags, POP());
            CHECK(r);
            NEXT;
        }
        CASE(GLOBAL_TYPE): {
            qstr *name = KSTR(READ_U16()), *type = KSTR(READ_U16());
            qmodule *m = f->fn->module;
            if (!m->types)
                m->types = dict_new(vm);
            dict_set(vm, m->types, name, qv_obj(type));
            NEXT;
        }
        CASE(GET_TRAIT): {
            qstr *name = KSTR(READ_U16());
            qval v;
            if (dict_get(f->fn->module->globals, name, &v) || dict_get(vm->builtins, name, &v)) {
                PUSH(v);
                NEXT;
            }
            SAVE();
            r = vm_raise(vm, E_ATTR, "Trait %s not found", name->data);
            goto on_error;
        }
        CASE(DEL_GLOBAL): {
            qstr *name = KSTR(READ_U16());
            if (!dict_del(f->fn->module->globals, name)) {
                SAVE();
                r = vm_raise(vm, E_NAME, "Undefined variable: %s", name->data);
                goto on_error;
            }
            NEXT;
        }
        CASE(CHECK_TYPE): {
            qstr *type = KSTR(READ_U16()), *name = KSTR(READ_U16());
            if (!type_matches(vm, TOP(), type)) {
                SAVE();
                r = vm_raise(vm, E_TYPE, "Cannot assign %s to variable '%s' of type %s",
                             vm_cls_name(TOP()), name->data, type->data);
                goto on_error;
            }
            NEXT;
        }
        CASE(ADD): {
            qval b = PEEK(0), a = PEEK(1);
            int64_t x;
            if (IS_INT(a) && IS_INT(b) && !__builtin_add_overflow(a.as.i, b.as.i, &x)) {
                s->sp--;
                TOP() = qv_int(x);
                NEXT;
            }
            SAVE();
            r = arith(vm, OP_ADD, a, b);
            CHECK(r);
            s->sp--;
            TOP() = r;
            NEXT;
        }
        CASE(SUB): {
            qval b = PEEK(0), a = PEEK(1);
            int64_t x;
            if (IS_INT(a) && IS_INT(b) && !__builtin_sub_overflow(a.as.i, b.as.i, &x)) {
                s->sp--;
                TOP() = qv_int(x);
                NEXT;
            }
            SAVE();
            r = arith(vm, OP_SUB, a, b);
            CHECK(r);
            s->sp--;
            TOP() = r;
            NEXT;
        }
        CASE(MUL): {
            qval b = PEEK(0), a = PEEK(1);
            int64_t x;
            if (IS_INT(a) && IS_INT(b) && !__builtin_mul_overflow(a.as.i, b.as.i, &x)) {
                s->sp--;
                TOP() = qv_int(x);
                NEXT;
            }
            SAVE();
            r = arith(vm, OP_MUL, a, b);
            CHECK(r);
            s->sp--;
            TOP() = r;
            NEXT;
        }
        CASE(DIV): CASE(MOD): {
            qopcode op = (qopcode)ip[-1];
            SAVE();
            r = arith(vm, op, PEEK(1), PEEK(0));
            CHECK(r);
            s->sp--;
            TOP() = r;
            NEXT;
        }
        CASE(BAND): CASE(BOR): CASE(BXOR): CASE(SHL): CASE(SHR): {
            qopcode op = (qopcode)ip[-1];
            SAVE();
            r = bitop(vm, op, PEEK(1), PEEK(0));
            CHECK(r);
            s->sp--;
            TOP() = r;
            NEXT;
        }
        CASE(CONCAT): {
            SAVE();
            r = concat(vm, PEEK(1), PEEK(0));
            CHECK(r);
            s->sp--;
            TOP() = r;
            NEXT;
        }
        CASE(IADD): {
            qval b = PEEK(0), a = PEEK(1);
            int64_t x;
            if (IS_INT(a) && IS_INT(b) && !__builtin_add_overflow(a.as.i, b.as.i, &x)) {
                s->sp--;
                TOP() = qv_int(x);
                NEXT;
            }
            SAVE();
            r = inplace_add(vm, a, b);
            CHECK(r);
            s->sp--;
            TOP() = r;
            NEXT;
        }
        CASE(EQ): {
            qval b = POP();
            TOP() = qv_bool(equal(TOP(), b));
            NEXT;
        }
        CASE(NE): {
            qval b = POP();
            TOP() = qv_bool(!equal(TOP(), b));
            NEXT;
        }
        CASE(LT): CASE(LE): CASE(GT): CASE(GE): {
            qopcode op = (qopcode)ip[-1];
            qval b = POP(), a = TOP();
            int c;
            if (IS_INT(a) && IS_INT(b))
                c = (a.as.i > b.as.i) - (a.as.i < b.as.i);
            else
                c = vm_compare(a, b);
            bool res = op == OP_LT ? c < 0 : op == OP_LE ? c <= 0 : op == OP_GT ? c > 0 : c >= 0;
            TOP() = qv_bool(res);
            NEXT;
        }
        CASE(NEG):
            if (IS_INT(TOP()) && TOP().as.i != INT64_MIN) {
                TOP().as.i = -TOP().as.i;
                NEXT;
            }
            goto unary;
        CASE(POS): CASE(BNOT):
        unary: {
            qopcode op = (qopcode)ip[-1];
            SAVE();
            r = num_unary(vm, op == OP_NEG ? '-' : op == OP_POS ? '+' : '~', TOP());
            CHECK(r);
            TOP() = r;
            NEXT;
        }
        CASE(NOT): TOP() = qv_bool(!truthy(TOP())); NEXT;
        CASE(OR_BOOL): {
            qval b = POP();
            TOP() = qv_bool(truthy(TOP()) || truthy(b));
            NEXT;
        }
        CASE(JUMP): {
            int32_t off = READ_I32();
            ip += off;
            NEXT;
        }
        CASE(LOOP): {
            int32_t off = READ_I32();
            ip += off;
            if (vm->opts.cpu_budget && --vm->budget_left < 0) {
                SAVE();
                r = budget_exceeded(vm);
                goto on_error;
            }
            if (vm->gc_pending) {
                SAVE();
                vm_gc(vm);
            }
            NEXT;
        }
        CASE(JUMP_IF_FALSE): {
            int32_t off = READ_I32();
            if (!truthy(POP()))
                ip += off;
            NEXT;
        }
        CASE(JUMP_IF_TRUE): {
            int32_t off = READ_I32();
            if (truthy(POP()))
                ip += off;
            NEXT;
        }
        CASE(AND): {
            int32_t off = READ_I32();
            if (!truthy(TOP()))
                ip += off;
            else
                s->sp--;
            NEXT;
        }
        CASE(OR): {
            int32_t off = READ_I32();
            if (truthy(TOP()))
                ip += off;
            else
                s->sp--;
            NEXT;
        }
        CASE(ELVIS): {
            int32_t off = READ_I32();
            if (!IS_NIL(TOP()))
                ip += off;
            else
                s->sp--;
            NEXT;
        }
        CASE(ARRAY): {
            unsigned n = READ_U16();
            qarray *a = arr_new(vm, n);
            if (n)
                memcpy(a->items, &s->values[s->sp - n], n * sizeof(qval));
            a->len = n;
            s->sp -= n;
            PUSH(qv_obj(a));
            NEXT;
        }
        CASE(DICT): {
            unsigned n = READ_U16();
            qdict *d = dict_new_sized(vm, n);
            qval *kv = &s->values[s->sp - 2 * n];
            for (unsigned i = 0; i < n; i++)
                dict_set(vm, d, AS_STR(kv[2 * i]), kv[2 * i + 1]);
            s->sp -= 2 * n;
            PUSH(qv_obj(d));
            NEXT;
        }
        CASE(DICT_LIT): {
            const qdict *shape = AS_DICT(K(READ_U16()));
            unsigned n = shape->used;
            qdict *d = dict_shallow_copy(vm, shape);
            qval *v = &s->values[s->sp - n];
            for (unsigned i = 0; i < n; i++)
                d->entries[i].val = v[i];
            s->sp -= n;
            PUSH(qv_obj(d));
            NEXT;
        }
        CASE(INDEX): {
            qval idx = PEEK(0), obj = PEEK(1);
            if (IS_ARRAY(obj) && IS_INT(idx)) {
                qarray *a = AS_ARRAY(obj);
                int64_t i = idx.as.i < 0 ? idx.as.i + a->len : idx.as.i;
                if (i >= 0 && i < a->len) {
                    s->sp--;
                    TOP() = a->items[i];
                    NEXT;
                }
            }
            SAVE();
            r = index_get(vm, obj, idx);
            CHECK(r);
            s->sp--;
            TOP() = r;
            NEXT;
        }
        CASE(SET_INDEX): {
            SAVE();
            r = index_set(vm, PEEK(2), PEEK(1), PEEK(0));
            CHECK(r);
            s->sp -= 3;
            NEXT;
        }
        CASE(GET_FIELD): {
            qstr *name = KSTR(READ_U16());
            SAVE();
            r = member_get(vm, TOP(), name);
            CHECK(r);
            TOP() = r;
            NEXT;
        }
        CASE(SET_FIELD): {
            qstr *name = KSTR(READ_U16());
            SAVE();
            r = member_set(vm, PEEK(1), name, PEEK(0));
            CHECK(r);
            s->sp -= 2;
            NEXT;
        }
        CASE(CALL): {
            unsigned argc = READ_U16();
            size_t at = s->sp - argc - 1;
            qval callee = s->values[at];
            SAVE();
            if (IS_KIND(callee, QO_NATIVE) && !AS_NATIVE(callee)->fn) { /* bound Quest method */
                s->values[at] = AS_NATIVE(callee)->bound;
                callee = AS_NATIVE(callee)->target;
            }
            if (IS_KIND(callee, QO_CLOSURE))
                ENTER_CLOSURE(AS_CLOSURE(callee))
            r = interp_call(vm, at, (int)argc, NULL);
            CHECK(r);
            PUSH(r);
            NEXT;
        }
        CASE(INVOKE): {
            const uint8_t *pc = ip - 1;
            ip += 2; /* the name: invoke_lookup reads it when it needs it */
            unsigned argc = READ_U16();
            size_t at = s->sp - argc - 1;
            qval recv = s->values[at], m;
            SAVE();
            found_kind k = invoke_lookup(vm, f->fn->proto, pc, recv, &m);
            if (k == FOUND_NONE) {
                r = qv_exc();
                goto on_error;
            }
            if (k == FOUND_VALUE) /* a function stored in a field or module */
                s->values[at] = m;
            if (IS_KIND(m, QO_CLOSURE))
                ENTER_CLOSURE(AS_CLOSURE(m))
            if (IS_KIND(m, QO_CLOSURE)) { /* async method, stack too deep to inline */
                r = call_closure_now(vm, AS_CLOSURE(m), at, (int)argc, NULL);
            } else if (k == FOUND_METHOD) {
                r = native_call(vm, AS_NATIVE(m), recv, at, (int)argc, NULL, *ip == OP_AWAIT);
                s->sp = at;
            } else {
                r = interp_call(vm, at, (int)argc, NULL);
            }
            CHECK(r);
            PUSH(r);
            NEXT;
        }
        CASE(CALL_EX): CASE(INVOKE_EX): {
            bool invoke = ip[-1] == OP_INVOKE_EX;
            qstr *name = invoke ? KSTR(READ_U16()) : NULL;
            qarray *spec = AS_ARRAY(K(READ_U16()));
            size_t at = s->sp - spec->len - 1;
            qdict *kw = NULL;
            SAVE();
            int argc = spread_args(vm, at, spec, &kw);
            if (argc < 0) {
                r = qv_exc();
                goto on_error;
            }
            if (invoke) {
                qval recv = s->values[at], m;
                found_kind k = member_find_method(vm, recv, name, &m);
                if (k == FOUND_NONE) {
                    if (kw)
                        vm_pop_roots(vm, 1);
                    r = qv_exc();
                    goto on_error;
                }
                if (k == FOUND_METHOD && IS_KIND(m, QO_CLOSURE)) {
                    r = call_closure_now(vm, AS_CLOSURE(m), at, argc, kw);
                } else if (k == FOUND_METHOD) {
                    r = call_native(vm, AS_NATIVE(m), recv, at, argc, kw, false);
                } else {
                    s->values[at] = m;
                    r = interp_call(vm, at, argc, kw);
                }
            } else {
                r = interp_call(vm, at, argc, kw);
            }
            s->sp = at;
            if (kw)
                vm_pop_roots(vm, 1);
            CHECK(r);
            PUSH(r);
            NEXT;
        }
        CASE(CLOSURE): {
            qproto *p = (qproto *)AS_OBJ(K(READ_U16()));
            PUSH(make_closure(vm, p, f));
            NEXT;
        }
        CASE(CLOSE_UPVALS): close_upvals(s, f->base + READ_U16()); NEXT;
        CASE(RETURN): {
            qval result = POP();
            close_upvals(s, f->base);
            while (s->nhandlers && s->handlers[s->nhandlers - 1].frame >= s->nframes - 1)
                s->nhandlers--;
            bool boundary = f->boundary;
            s->sp = f->base;
            s->nframes--;
            if (s->nframes <= stop || boundary)
                return f->inline_call ? entry_return(vm, s, result) : result;
            if (f->inline_call) {
                if (!f->has_self) { /* awaited, and nobody asked for its Task */
                    s->inline_base = f->outer;
                    LOAD();
                    PUSH(result);
                    NEXT;
                }
                LOAD();
                PUSH(result); /* rooted while its Task settles */
                SAVE();
                r = inline_return(vm, s, s->nframes, result); /* may run Quest code */
                f = &s->frames[s->nframes - 1];
                TOP() = r;
                NEXT;
            }
            LOAD();
            PUSH(result);
            NEXT;
        }
        CASE(ARG_DEFAULT): {
            unsigned slot = READ_U16();
            int32_t off = READ_I32();
            if (!IS_UNDEF(SLOT(slot)))
                ip += off;
            NEXT;
        }
        CASE(ITER_INIT): {
            unsigned slot = READ_U16();
            SAVE();
            r = iter_init(vm, POP(), &SLOT(slot));
            CHECK(r);
            NEXT;
        }
        CASE(ITER_NEXT): {
            unsigned slot = READ_U16(), nvars = READ_U16();
            int32_t off = READ_I32();
            if (!iter_next(vm, &SLOT(slot), &SLOT(slot + 3), (int)nvars))
                ip += off;
            NEXT;
        }
        CASE(RANGE_INIT): {
            unsigned slot = READ_U16(), flags = READ_U16();
            unsigned n = (flags & RANGE_STEP) ? 3 : 2;
            SAVE();
            r = range_init(vm, &s->values[s->sp - n], (int)flags, &SLOT(slot));
            CHECK(r);
            s->sp -= n;
            NEXT;
        }
        CASE(RANGE_NEXT): {
            unsigned slot = READ_U16();
            int32_t off = READ_I32();
            if (!range_next(&SLOT(slot), &SLOT(slot + 4)))
                ip += off;
            NEXT;
        }
        CASE(TRY): {
            int32_t off = READ_I32();
            qhandler *h = stack_push_handler(s);
            h->catch_ip = ip + off;
            h->sp = s->sp;
            h->frame = s->nframes - 1;
            NEXT;
        }
        CASE(END_TRY): s->nhandlers--; NEXT;
        CASE(CATCH_IS): {
            int32_t off = READ_I32();
            qval type = POP(), e = POP();
            SAVE();
            int m = exc_matches(vm, AS_EXCV(e), type);
            if (m < 0) {
                r = qv_exc();
                goto on_error;
            }
            if (!m)
                ip += off;
            NEXT;
        }
        CASE(CATCH_CHECK): {
            SAVE();
            if (!exc_check_catch_type(vm, POP())) {
                r = qv_exc();
                goto on_error;
            }
            NEXT;
        }
        CASE(CATCH_VALUE): {
            qexc *e = AS_EXCV(TOP());
            if (!IS_NIL(e->payload))
                TOP() = e->payload;
            NEXT;
        }
        CASE(RAISE): {
            SAVE();
            r = exc_raise_value(vm, POP());
            goto on_error;
        }
        CASE(RAISE_ERR): {
            unsigned kind = READ_U16();
            qstr *msg = KSTR(READ_U16());
            SAVE();
            r = vm_raise(vm, (qerr_kind)kind, "%s", msg->data);
            goto on_error;
        }
        CASE(BUILD_STR): {
            unsigned n = READ_U16();
            SAVE();
            r = build_str(vm, &s->values[s->sp - n], (int)n);
            CHECK(r);
            s->sp -= n;
            PUSH(r);
            NEXT;
        }
        CASE(FORMAT): {
            qstr *spec = KSTR(READ_U16());
            SAVE();
            r = format_value(vm, TOP(), spec);
            CHECK(r);
            TOP() = r;
            NEXT;
        }
        CASE(MATCH_RANGE): {
            unsigned flags = READ_U16();
            unsigned n = (flags & RANGE_STEP) ? 4 : 3;
            SAVE();
            r = match_range(vm, &s->values[s->sp - n], (int)flags);
            CHECK(r);
            s->sp -= n;
            PUSH(r);
            NEXT;
        }
        CASE(USE): {
            qstr *path = KSTR(READ_U16()), *alias = KSTR(READ_U16());
            SAVE();
            r = module_use(vm, path, f->fn->proto->file->data);
            CHECK(r);
            AS_MODULE(r)->name = alias; /* modules print as the name they were last imported by */
            PUSH(r);
            NEXT;
        }
        CASE(IMPORT_NAME): {
            qstr *name = KSTR(READ_U16());
            SAVE();
            r = module_import_name(vm, TOP(), name);
            CHECK(r);
            TOP() = r;
            NEXT;
        }
        CASE(TYPE_DEF): {
            qtype *tmpl = AS_TYPE(K(READ_U16()));
            unsigned nmethods = READ_U16();
            unsigned ndef = 0, ntraits = tmpl->traits->len;
            for (uint32_t i = 0; i < tmpl->nfields; i++)
                ndef += tmpl->fields[i].has_default;
            size_t first = s->sp - nmethods - ndef - ntraits;
            SAVE();
            r = type_define(vm, tmpl, &s->values[first], &s->values[first + ndef],
                            &s->values[first + ndef + nmethods]);
            CHECK(r);
            s->sp = first;
            PUSH(r);
            NEXT;
        }
        CASE(TRAIT_DEF): PUSH(K(READ_U16())); NEXT;
        CASE(DECORATE): {
            qarray *spec = AS_ARRAY(K(READ_U16()));
            size_t first = s->sp - spec->len - 2;
            SAVE();
            r = type_decorate(vm, s->values[first], s->values[first + 1], (int)spec->len,
                              &s->values[first + 2], spec);
            CHECK(r);
            s->sp = first;
            PUSH(r);
            NEXT;
        }
        CASE(CHECK_RET): {
            qstr *type = KSTR(READ_U16());
            if (!type_matches(vm, TOP(), type)) {
                SAVE();
                r = vm_raise(vm, E_TYPE, "%s() must return %s, got %s", f->fn->proto->name->data,
                             type->data, vm_cls_name(TOP()));
                goto on_error;
            }
            NEXT;
        }
        CASE(AWAIT): {
            if (!IS_KIND(TOP(), QO_TASK)) /* awaiting a plain value yields the value */
                NEXT;
            qtask *t = (qtask *)AS_OBJ(TOP());
            SAVE();
            if (task_done(t)) {
                r = task_result(vm, t);
                CHECK(r);
                TOP() = r;
                NEXT;
            }
            s->sp--;
            if (s->inline_base) {
                r = inline_await(vm, stop, t);
                if (r.tag == QV_SUSPEND)
                    return r;
                if (s->nframes <= stop) { /* a call from C became a Task */
                    vm->inline_detached = task_of(r);
                    return r;
                }
                LOAD(); /* the inline frames have left: their caller's turn */
                CHECK(r);
                PUSH(r);
                NEXT;
            }
            r = task_await(vm, t);
            if (r.tag == QV_SUSPEND)
                return r;
            CHECK(r);
            PUSH(r);
            NEXT;
        }
        default:
            SAVE();
            r = vm_raise(vm, E_RUNTIME, "bad opcode %d", ip[-1]);
            goto on_error;
        }
        continue;

    on_error:
        (void)r;
        exc_capture(vm, vm->exc);
        /* The innermost handler above our boundary takes it. */
        if (s->nhandlers && s->handlers[s->nhandlers - 1].frame >= stop &&
            s->handlers[s->nhandlers - 1].frame < s->nframes) {
            bool crosses = false;
            qhandler h = s->handlers[--s->nhandlers];
            for (uint32_t i = h.frame + 1; i < s->nframes; i++) /* a spawned call keeps its errors */
                crosses |= s->frames[i].boundary || s->frames[i].spawned;
            if (!crosses) {
                close_upvals(s, h.sp);
                if (s->inline_base > h.frame)
                    inline_unwind(vm, s, h.frame + 1);
                s->nframes = h.frame + 1;
                s->sp = h.sp;
                f = &s->frames[h.frame];
                ip = h.catch_ip;
                PUSH(qv_obj(vm_take_exc(vm)));
                continue;
            }
            s->nhandlers++;
        }
        /* Unwind to our boundary and hand the exception to the C caller. */
        for (;;) {
            qframe *top = &s->frames[s->nframes - 1];
            bool boundary = top->boundary, spawned = top->spawned, inl = top->inline_call;
            uint32_t k = s->nframes - 1;
            close_upvals(s, top->base);
            while (s->nhandlers && s->handlers[s->nhandlers - 1].frame >= k)
                s->nhandlers--;
            qtask *caught = spawned && !boundary ? inline_self(vm, s, k) : NULL;
            if (inl)
                inline_unwind(vm, s, k);
            s->sp = s->frames[k].base;
            s->nframes--;
            if (caught) { /* the error fails the spawned call's Task, its value */
                vm->exc = NULL;
                LOAD();
                PUSH(qv_obj(caught));
                break;
            }
            if (s->nframes <= stop || boundary)
                return qv_exc();
        }
    }
}

qval interp_run_main(qvm *vm, qproto *p, qmodule *m)
{
    qclosure *cl = vm_alloc_obj(vm, sizeof(qclosure), QO_CLOSURE);
    cl->proto = p;
    cl->module = m;
    return vm_call(vm, qv_obj(cl), 0, NULL);
}

/* Frames plus the block nesting where the innermost Quest frame stands. */
int vm_scope_depth(qvm *vm)
{
    qstack *s = vm->stack;
    if (!s->nframes)
        return 1;
    const qframe *f = &s->frames[s->nframes - 1];
    size_t off = (size_t)(f->ip - f->fn->proto->code);
    int block = off > 0 && off <= f->fn->proto->code_len ? f->fn->proto->depths[off - 1] : 0;
    return vm_call_depth(vm) + block;
}

/* Counted as a task's own stack would: from the innermost inline call. */
int vm_call_depth(qvm *vm)
{
    return (int)(vm->stack->nframes - vm->stack->inline_base);
}
