/* vm.c — creating and destroying a VM, built-in types, raising errors,
 * and the helpers natives use to register methods and check arguments. */
#include <stdlib.h>
#include <string.h>

#include "vm_internal.h"

static const char *const class_names[QC__COUNT] = {
    "Nil", "Bool", "Int", "Float", "Str", "Bytes", "Array", "Dict", "Set",
    "BigInt", "Decimal", "Uuid", "Function", "Type", "Trait", "Module", "Exception",
    "Task", "Channel",
};

static const char *const err_names[E__COUNT] = {
    "Err", "IndexErr", "TypeErr", "ValueErr", "ArgErr", "AttrErr", "NameErr",
    "RuntimeErr", "IOErr", "ImportErr", "KeyErr", "SyntaxErr", "ConfigurationErr",
    "TimeoutErr", "CancelledErr",
};

qtype *type_new(qvm *vm, qtype_kind kind, qstr *name)
{
    qtype *t = vm_alloc_obj(vm, sizeof(qtype), QO_TYPE);
    t->tkind = kind;
    t->name = name;
    t->methods = dict_new(vm);
    t->statics = dict_new(vm);
    vm->method_epoch++; /* a new type may reuse a freed one's address */
    return t;
}

static void init_names(qvm *vm)
{
    qnames *n = &vm->names;
    n->new_ = str_intern_cstr(vm, "new");
    n->self = str_intern_cstr(vm, "self");
    n->enter = str_intern_cstr(vm, "_enter");
    n->exit = str_intern_cstr(vm, "_exit");
    n->call = str_intern_cstr(vm, "_call");
    n->str = str_intern_cstr(vm, "str");
    n->rep = str_intern_cstr(vm, "_rep");
    n->doc = str_intern_cstr(vm, "_doc");
    n->id = str_intern_cstr(vm, "_id");
    n->name = str_intern_cstr(vm, "_name");
    n->cls = str_intern_cstr(vm, "cls");
    n->is = str_intern_cstr(vm, "is");
    n->does = str_intern_cstr(vm, "does");
    n->message = str_intern_cstr(vm, "message");
    n->init = str_intern_cstr(vm, "init");
    n->module = str_intern_cstr(vm, "<module>");
    n->lambda = str_intern_cstr(vm, "<anonymous>");
    n->decorate = str_intern_cstr(vm, "_decorate");
    n->func = str_intern_cstr(vm, "func");
    n->empty = str_intern_cstr(vm, "");
}

static void init_types(qvm *vm)
{
    for (int i = 0; i < QC__COUNT; i++) {
        vm->types[i] = type_new(vm, QT_BUILTIN, str_intern_cstr(vm, class_names[i]));
        dict_set(vm, vm->builtins, vm->types[i]->name, qv_obj(vm->types[i]));
    }
    for (int i = 0; i < E__COUNT; i++) {
        qtype *t = type_new(vm, QT_EXC, str_intern_cstr(vm, err_names[i]));
        t->parent = i ? vm->err_types[E_ERR] : NULL;
        vm->err_types[i] = t;
        dict_set(vm, vm->builtins, t->name, qv_obj(t));
    }
    str_init_class(vm, vm->types[QC_STR]);
    bytes_init_class(vm, vm->types[QC_BYTES]);
    arr_init_class(vm, vm->types[QC_ARRAY]);
    dict_init_class(vm, vm->types[QC_DICT]);
    set_init_class(vm, vm->types[QC_SET]);
    num_init_classes(vm, vm->types[QC_INT], vm->types[QC_FLOAT], vm->types[QC_BOOL]);
    bigint_init_class(vm, vm->types[QC_BIGINT]);
    decimal_init_class(vm, vm->types[QC_DECIMAL]);
    uuid_init_class(vm, vm->types[QC_UUID]);
}

qvm *vm_new(const qvm_options *opts)
{
    qvm *vm = calloc(1, sizeof(qvm));
    if (!vm)
        return NULL;
    if (opts)
        vm->opts = *opts;
    if (vm->opts.max_call_depth <= 0)
        vm->opts.max_call_depth = 1000; /* as the reference (and CPython) */
    vm->next_gc = 1u << 20;
    vm->budget_left = vm->opts.cpu_budget;
    vm->next_id = 1000;
    init_names(vm);
    vm->builtins = dict_new(vm);
    vm->modules = dict_new(vm);
    init_types(vm);
    members_init(vm);
    exc_init_class(vm, vm->types[QC_EXCEPTION]);
    task_init_class(vm, vm->types[QC_TASK]);
    channel_init_class(vm, vm->types[QC_CHANNEL]);
    builtins_register(vm, vm->builtins);
    vm->base_stack = vm->stack = stack_new(vm);
    return vm;
}

const qvm_options *vm_get_options(qvm *vm)
{
    return &vm->opts;
}

/* ---- per-VM state of native modules ---------------------------------------------- */

typedef struct qmodstate {
    struct qmodstate *next;
    const char *key;
    void *state;
    void (*free_fn)(qvm *vm, void *state);
} qmodstate;

void *vm_module_state(qvm *vm, const char *key)
{
    for (qmodstate *s = vm->modstates; s; s = s->next)
        if (strcmp(s->key, key) == 0)
            return s->state;
    return NULL;
}

void vm_set_module_state(qvm *vm, const char *key, void *state,
                         void (*free_fn)(qvm *vm, void *state))
{
    qmodstate *s = malloc(sizeof *s);
    if (!s)
        abort();
    *s = (qmodstate){vm->modstates, key, state, free_fn};
    vm->modstates = s;
}

/* Before the loop goes: modules may still close their handles on it. */
static void modstates_free(qvm *vm)
{
    while (vm->modstates) {
        qmodstate *s = vm->modstates;
        vm->modstates = s->next;
        if (s->free_fn)
            s->free_fn(vm, s->state);
        free(s);
    }
}

void vm_free(qvm *vm)
{
    if (!vm)
        return;
    modstates_free(vm);
    sched_free(vm);
    vm->live = NULL;
    stack_free(vm, vm->base_stack);
    while (vm->objects) {
        qobj *o = vm->objects;
        vm->objects = o->next;
        obj_free(vm, o);
    }
    intern_free(vm);
    slab_destroy(vm);
    free(vm->gray);
    free(vm->roots);
    free(vm);
}

/* ---- errors ------------------------------------------------------------------- */

qtype *vm_err_type(qvm *vm, qerr_kind kind)
{
    return vm->err_types[kind];
}

qexc *exc_new(qvm *vm, qtype *t, qstr *message)
{
    qexc *e = vm_alloc_obj(vm, sizeof(qexc), QO_EXC);
    e->type = t;
    e->message = message ? message : vm->names.empty;
    e->stack = arr_new(vm, 0);
    e->payload = qv_nil();
    e->cause = qv_nil();
    return e;
}

qval vm_raise_exc(qvm *vm, qexc *e)
{
    vm->exc = e;
    return qv_exc();
}

qval vm_raise(qvm *vm, qerr_kind kind, const char *fmt, ...)
{
    qbuf b;
    buf_init(&b);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n > 0) {
        char *msg = malloc((size_t)n + 1);
        if (!msg)
            abort();
        va_start(ap, fmt);
        vsnprintf(msg, (size_t)n + 1, fmt, ap);
        va_end(ap);
        buf_append(&b, msg, (size_t)n);
        free(msg);
    }
    return vm_raise_exc(vm, exc_new(vm, vm->err_types[kind], buf_to_str(vm, &b)));
}

qexc *vm_pending_exc(qvm *vm)
{
    return vm->exc;
}

qexc *vm_take_exc(qvm *vm)
{
    qexc *e = vm->exc;
    vm->exc = NULL;
    return e;
}

/* ---- registering natives ---------------------------------------------------------- */

static void add_defs(qvm *vm, qdict *table, const qmethod_def *defs)
{
    for (; defs->name; defs++) {
        qnative *n = native_new(vm, defs->name, defs->fn, defs->min_args, defs->max_args);
        n->kwargs = defs->kwargs;
        dict_set(vm, table, str_intern_cstr(vm, defs->name), qv_obj(n));
    }
}

void vm_add_methods(qvm *vm, qtype *t, const qmethod_def *defs)
{
    add_defs(vm, t->methods, defs);
    vm->method_epoch++;
}

void vm_add_statics(qvm *vm, qtype *t, const qmethod_def *defs)
{
    add_defs(vm, t->statics, defs);
}

qtype *vm_builtin_type(qvm *vm, qclass_id c)
{
    return vm->types[c];
}

qtype *vm_new_exc_type(qvm *vm, const char *name, qtype *parent)
{
    qtype *t = type_new(vm, QT_EXC, str_intern_cstr(vm, name));
    t->parent = parent ? parent : vm->err_types[E_ERR];
    return t;
}

bool vm_caller_is_async(qvm *vm)
{
    qstack *s = vm->stack;
    return s->nframes > 0 && s->frames[s->nframes - 1].fn->proto->is_async;
}

qtype *vm_new_cdata_type(qvm *vm, const char *name, const qmethod_def *methods)
{
    qtype *t = type_new(vm, QT_CDATA, str_intern_cstr(vm, name));
    if (methods)
        vm_add_methods(vm, t, methods);
    return t;
}

void module_export(qvm *vm, qmodule *m, const char *name, qval v)
{
    qstr *k = str_intern_cstr(vm, name);
    dict_set(vm, m->globals, k, v);
    if (m->pub)
        dict_set(vm, m->pub, k, qv_bool(true));
}

void module_export_fns(qvm *vm, qmodule *m, const qmethod_def *defs)
{
    for (; defs->name; defs++) {
        qnative *n = native_new(vm, defs->name, defs->fn, defs->min_args, defs->max_args);
        n->kwargs = defs->kwargs;
        module_export(vm, m, defs->name, qv_obj(n));
    }
}

qdict *vm_kwargs(qvm *vm)
{
    return vm->kwargs;
}

/* ---- argument checks ---------------------------------------------------------------- */

static bool arg_fail(qvm *vm, const char *fname, const char *what, qval v)
{
    vm_raise(vm, E_TYPE, "%s expects %s, got %s", fname, what, vm_cls_name(v));
    return false;
}

bool arg_int(qvm *vm, const char *fname, qval v, int64_t *out)
{
    if (!IS_INT(v))
        return arg_fail(vm, fname, "Int", v);
    *out = v.as.i;
    return true;
}

bool arg_num(qvm *vm, const char *fname, qval v, double *out)
{
    if (IS_INT(v))
        *out = (double)v.as.i;
    else if (IS_FLOAT(v))
        *out = v.as.f;
    else
        return arg_fail(vm, fname, "a number", v);
    return true;
}

bool arg_str(qvm *vm, const char *fname, qval v, qstr **out)
{
    if (!IS_STR(v))
        return arg_fail(vm, fname, "Str", v);
    *out = AS_STR(v);
    return true;
}

bool arg_array(qvm *vm, const char *fname, qval v, qarray **out)
{
    if (!IS_ARRAY(v))
        return arg_fail(vm, fname, "Array", v);
    *out = AS_ARRAY(v);
    return true;
}

bool arg_dict(qvm *vm, const char *fname, qval v, qdict **out)
{
    if (!IS_DICT(v))
        return arg_fail(vm, fname, "Dict", v);
    *out = AS_DICT(v);
    return true;
}
