/* vm_internal.h — the VM's private state, shared by the files of vm/.
 * Native modules use vm.h only. */
#ifndef QUEST_VM_INTERNAL_H
#define QUEST_VM_INTERNAL_H

#include "vm.h"

/* One activation of a Quest function. */
typedef struct qframe {
    qclosure *fn;
    uint8_t *ip;
    size_t base;          /* index of slot 0 in the task's value stack */
    uint32_t outer;       /* inline frames: the stack's inline_base before this one */
    bool boundary;        /* a C caller (vm_call) waits for this frame's return */
    bool inline_call;     /* an async call run on its caller's stack until it
                           * suspends (task_inline.c) ... */
    bool spawned;         /* ... whose caller gets its Task (not awaited at once) */
    bool has_self;        /* ... whose Task has been made (qstack.selves) */
} qframe;

/* The Task made for an inline frame that needed one before suspending. */
typedef struct qself {
    uint32_t frame;
    struct qtask *task;
} qself;

/* An active try block. */
typedef struct qhandler {
    uint8_t *catch_ip;
    size_t sp;            /* stack top to restore */
    uint32_t frame;       /* index of the owning frame */
} qhandler;

/* The stack of one task: values, frames and try handlers.  Kept out of the
 * C stack so that a task can be suspended at an await and resumed later. */
typedef struct qstack {
    qval *values;
    size_t sp, cap;
    qframe *frames;
    uint32_t nframes, capframes;
    qhandler *handlers;
    uint32_t nhandlers, caphandlers;
    qupval *open_upvals;  /* sorted by stack index, highest first */
    uint32_t inline_base; /* index of the innermost inline frame; 0: none */
    uint16_t values_off, frames_off; /* arrays from a slab: their offsets (0: malloc) */
    qself *selves;        /* by frame index, ascending */
    uint32_t nselves, capselves;
} qstack;

typedef enum { TS_RUNNING, TS_SUSPENDED, TS_DONE, TS_FAILED, TS_CANCELLED } qtask_state;

/* A task: a Quest function running on its own stack, or a pending native
 * operation completed from C.  What it needs only until it finishes is in
 * its `run` record, so a finished Task (most finish at once) is small. */
struct qtask {
    qobj hdr;
    uint8_t state;          /* qtask_state */
    bool cancelled;         /* cancel() was called (sticky) */
    bool native;            /* completed from C: run is a qtask_native inside the object */
    int64_t id;
    qstr *name;
    qval result;            /* the value, or the exception when failed or cancelled */
    struct qtask *scope;    /* the owner whose end cancels this task (NULL: top level) */
    struct qtask *kids;     /* unfinished tasks owned by this one (when it is a scope) */
    struct qtask_run *run;  /* NULL once a Quest task has finished */
};

/* The part of an unfinished task the scheduler uses. */
typedef struct qtask_run {
    bool cancel_requested;  /* CancelledErr is due at the next suspension point */
    bool detached;
    bool queued;            /* in the ready queue */
    bool spawning;          /* async.spawn is starting a task: it gets no task-locals */
    bool listed;            /* in vm->live and its owner's list (see task_list) */
    bool inline_run;        /* running as an inline frame of its caller's stack */
    uint16_t slab_off;      /* a Quest task's record: where it sits in its slab */
    struct qtask *waiter;   /* the first task to wake when this one finishes */
    qarray *waiters;        /* the others (most tasks have one waiter at most) */
    struct qtask *sib_prev, *sib_next;   /* in scope->kids or vm->orphans */
    struct qtask *live_prev, *live_next; /* unfinished tasks: GC roots */
    struct qtask *next_ready;
    qdict *locals;          /* task-locals, shared along a chain of awaited calls */
} qtask_run;

/* A Quest task's record, freed when it finishes. */
typedef struct qtask_quest {
    qtask_run r;
    qstack stack;           /* no arrays (values NULL) until it has a stack of its own */
    struct qtask *awaiting; /* what it is suspended on */
    struct qtask *reusable; /* its last task_new_awaited() task, reused once finished */
    int entry_c_depth;      /* vm->c_depth while its own run() is active */
} qtask_quest;

/* A native task's record, allocated with the object. */
typedef struct qtask_native {
    qtask_run r;
    qobj *hold;
    qtask_wake_fn wake;
    qtask_cancel_fn on_cancel;
    void *cancel_data;
    void *data;
} qtask_native;

/* task_is_done for the VM's own hot paths, without a call. */
static inline bool task_done(const qtask *t)
{
    return t->state >= TS_DONE;
}

static inline qtask_quest *task_quest(const qtask *t)
{
    return (qtask_quest *)t->run;
}

static inline qtask_native *task_native(const qtask *t)
{
    return (qtask_native *)t->run;
}

/* task_hold and task_set_cancel at once, for a task known to be native
 * (a channel receiver about to wait): no calls, no checks. */
static inline void native_wait_on(qtask *t, qobj *hold, qtask_cancel_fn on_cancel, void *data)
{
    qtask_native *n = task_native(t);
    n->hold = hold;
    n->on_cancel = on_cancel;
    n->cancel_data = data;
}

/* Does t (unfinished) run on a stack of its own? */
static inline bool task_has_stack(const qtask *t)
{
    return !t->native && t->run && task_quest(t)->stack.values;
}

/* Interned names the VM looks up often. */
typedef struct qnames {
    qstr *new_, *self, *enter, *exit, *call, *str, *rep, *doc, *id, *name, *cls,
         *is, *does, *message, *init, *module, *lambda, *decorate, *func,
         *empty;
} qnames;

struct qvm {
    qvm_options opts;

    /* heap */
    qobj *objects;
    size_t nobjects;
    int64_t stress_countdown;
    size_t bytes, next_gc;
    bool gc_pending;
    qobj **gray;
    size_t ngray, capgray;
    qval *roots;
    int nroots, caproots;

    /* interned strings: open addressing, NULL empty, TOMB deleted */
    qstr **interned;
    uint32_t nintern, capintern;

    /* the language's global environment */
    qtype *types[QC__COUNT];
    qtype *err_types[E__COUNT];
    qdict *builtins;      /* puts, print, chr, ord, Set, BigInt, exception types ... */
    qdict *universal;     /* methods every value has: cls, str, _rep, is ... */
    qdict *modules;       /* module cache: resolved path -> module */
    qnames names;

    /* execution */
    qstack *stack;        /* the running stack: base_stack or the current task's */
    qstack *base_stack;   /* code running outside any task */
    qtask *current;       /* the running task, or NULL */
    qtask *live;          /* unfinished tasks (list) */
    qtask *ready_head, *ready_tail;
    qtask *orphans;       /* unfinished tasks started outside any task: cancelled at exit */
    uv_loop_t *loop;
    bool own_loop;
    uv_idle_t *idle;      /* drains the ready queue from inside the loop */
    struct qtimers *timers; /* timer.c: sleeping tasks, grouped by duration */
    qstack spare_stacks[8]; /* task.c: stack arrays of finished tasks, for reuse */
    int nspare_stacks;
    int loop_running;     /* inside uv_run: blocking is not allowed */
    int64_t budget_left;  /* safe points left in this run (opts.cpu_budget) */
    bool budget_hit;
    int64_t next_task_id;
    qexc *exc;            /* pending exception */
    qdict *kwargs;        /* named args of the running native */
    bool awaited;         /* the running native's result is awaited at once (interp.c) */
    int c_depth;          /* nested vm_call depth on the C stack */
    struct qtask *inline_detached; /* vm_call_async_inline: the Task its call became */
    qval redirect[3];     /* stdout (1) / stderr (2) sinks; nil = the real stream */
    uint64_t next_id;     /* for _id() */
    struct qmodstate *modstates; /* vm.c: native modules' per-VM state */
    struct qslabs *slabs; /* slab.c: small objects by size class */
    uint64_t method_epoch; /* bumped when a method table changes (INVOKE caches) */
};

#define TOMB ((qstr *)(uintptr_t)1)

/* vm_reset_budget, inline for the scheduler's every resume. */
static inline void budget_reset(qvm *vm)
{
    vm->budget_left = vm->opts.cpu_budget;
}

/* object.c */
void obj_free(qvm *vm, qobj *o);
/* vm_alloc_obj with only the header set: for objects whose every field
 * the caller sets at once (strings, byte strings), sparing the clearing. */
void *obj_alloc_unzeroed(qvm *vm, size_t size, qobj_kind kind);

/* slab.c: objects of up to SLAB_MAX bytes come from size classes of
 * SLAB_GRAIN bytes (class c holds c * SLAB_GRAIN), except in sanitizer
 * builds (see slab.c). */
#if defined(__SANITIZE_ADDRESS__)
#define QUEST_SLAB_DISABLED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define QUEST_SLAB_DISABLED 1
#endif
#endif
#define SLAB_GRAIN 16
#define SLAB_MAX 1024
#define SLAB_CLASSES (SLAB_MAX / SLAB_GRAIN)
/* A slot of class cls and its offset in grains (for slab_free); NULL:
 * use malloc (sanitizer builds). */
void *slab_alloc(qvm *vm, unsigned cls, uint16_t *off);
void slab_free(qvm *vm, void *p, uint16_t off);
void slab_release(void *p, uint16_t off); /* slab_free without the VM at hand */
void slab_destroy(qvm *vm);
/* Memory of up to SLAB_MAX bytes that is not an object, counted toward
 * the next collection; *off is what vm_small_free needs back. */
void *vm_small_alloc(qvm *vm, size_t size, uint16_t *off);
void vm_small_free(qvm *vm, void *p, size_t size, uint16_t off);

/* gc.c */
void gc_maybe(qvm *vm);   /* called at safe points */
void gc_mark_roots(qvm *vm);

/* string.c */
void intern_sweep(qvm *vm);
void intern_free(qvm *vm);

/* stack.c */
qstack *stack_new(qvm *vm);
void stack_free(qvm *vm, qstack *s);
/* Free s's arrays (not s itself) and empty it. */
void stack_clear(qstack *s);
/* Give the empty s new arrays for nvalues values and nframes frames. */
void stack_alloc(qvm *vm, qstack *s, size_t nvalues, uint32_t nframes);
/* Make room for n frames in all. */
void stack_reserve_frames(qstack *s, uint32_t n);
void stack_mark(qvm *vm, qstack *s);
void stack_reserve(qstack *s, size_t n);
qframe *stack_push_frame(qstack *s);
qhandler *stack_push_handler(qstack *s);

/* vm.c */
qtype *type_new(qvm *vm, qtype_kind kind, qstr *name);

/* interp.c */
/* Free the interpreter's caches of a proto (its `ic`). */
void interp_free_caches(qproto *p);
/* Call the value at values[at] with the argc values above it as arguments
 * (and named arguments kw).  Pops them all; returns the result or qv_exc(). */
qval interp_call(qvm *vm, size_t at, int argc, qdict *kw);
/* Run a module's main function. */
qval interp_run_main(qvm *vm, qproto *p, qmodule *m);
/* Name of the innermost running Quest function's module (for privacy). */
qmodule *interp_current_module(qvm *vm);
qtype *interp_current_owner(qvm *vm);
const char *interp_current_file(qvm *vm);

/* members.c: method lookup, fields, indexing, universal methods */
/* The type whose method table serves v. */
qtype *class_of(qvm *vm, qval v);
/* The class whose method table alone decides what recv.name(...) means
 * (NULL when it does not: types, modules, nil); *instance tells whether
 * recv is an instance, whose fields come before the universal methods. */
static inline qtype *member_cache_class(qvm *vm, qval recv, bool *instance)
{
    *instance = false;
    if (!IS_OBJ(recv))
        return IS_NIL(recv) ? NULL : class_of(vm, recv);
    switch ((qobj_kind)recv.as.o->kind) {
    case QO_INSTANCE:
        *instance = true;
        return AS_INSTANCE(recv)->type;
    case QO_CDATA: return AS_CDATA(recv)->type; /* (native objects: a WebSocket) */
    case QO_TYPE: case QO_MODULE: return NULL;
    default: return class_of(vm, recv);
    }
}
/* That lookup: true with the method in *out when the class table (or,
 * for non-instances, the universal methods) has name. */
bool member_class_method(qvm *vm, qtype *cls, bool instance, qstr *name, qval *out);
typedef enum { FOUND_NONE, FOUND_METHOD, FOUND_VALUE } found_kind;
/* How recv.name(...) resolves: FOUND_METHOD means call *out with recv as
 * self; FOUND_VALUE means call *out as a plain function.  FOUND_NONE after
 * raising AttrErr. */
found_kind member_find_method(qvm *vm, qval recv, qstr *name, qval *out);
qval member_get(qvm *vm, qval obj, qstr *name);
qval member_set(qvm *vm, qval obj, qstr *name, qval v);
qval index_get(qvm *vm, qval obj, qval idx);
qval index_set(qvm *vm, qval obj, qval idx, qval v);
void members_init(qvm *vm);

/* types.c */
qval type_define(qvm *vm, qtype *tmpl, qval *defaults, qval *methods, qval *traits);
qval type_construct(qvm *vm, qtype *t, int argc, qval *argv, qdict *kw);
qval type_decorate(qvm *vm, qval fn, qval deco, int argc, qval *argv, qarray *spec);
/* Does v satisfy the annotation (Int, Num, Str?, user type name ...)? */
bool type_matches(qvm *vm, qval v, qstr *type);
bool type_implements(qtype *t, const char *trait);

/* modules.c */
qval module_use(qvm *vm, qstr *path, const char *importer_file);
qval module_import_name(qvm *vm, qval m, qstr *name);
qmodule *module_new(qvm *vm, qstr *name, qstr *path, bool private_by_default);

/* exc.c */
qval exc_raise_value(qvm *vm, qval v);
/* Attach line, file and the call stack (once: re-raises keep the original). */
void exc_capture(qvm *vm, qexc *e);
/* Is type usable in a catch clause?  False after raising TypeErr. */
bool exc_check_catch_type(qvm *vm, qval type);
/* Does `catch e: type` take e?  1 yes, 0 no, -1 after raising (not a type). */
int exc_matches(qvm *vm, qexc *e, qval type);
void exc_init_class(qvm *vm, qtype *t);

/* task.c */
/* An async closure was called (values[at] = fn, args above): start its task. */
qval task_start_call(qvm *vm, qclosure *cl, size_t at, int argc, qdict *kw);
/* A new running task named `name` started from the context task ctx: its
 * scope, and its task-locals shared unless ctx is spawning. */
qtask *task_make(qvm *vm, qstr *name, qtask *ctx);
/* The task whose task-locals, scope and spawn flag the running code uses:
 * the running task, or at the top level the outermost inline call's. */
qtask *task_ctx(qvm *vm);
/* Put a suspended task on the live and owner lists. */
void task_list(qvm *vm, qtask *t);
/* A pending native task for a native method whose result the running code
 * awaits at once (vm->awaited): a running Quest task's previous one when it
 * has finished, else task_new_pending(vm, NULL). */
qtask *task_new_awaited(qvm *vm);
/* Give the empty stack s room for nvalues values and nframes frames. */
void task_stack_init(qvm *vm, qstack *s, size_t nvalues, uint32_t nframes);
/* Suspend the running task at an await of t, or (outside any task) block
 * until t finishes.  Returns qv_suspend(), the awaited value or qv_exc(). */
qval task_await(qvm *vm, qtask *t);
/* RuntimeErr for an await that cannot suspend (inside a nested C call). */
qval task_raise_sync_await(qvm *vm);
void task_mark(qvm *vm, qtask *t);
void task_free(qvm *vm, qtask *t);
void task_init_class(qvm *vm, qtype *t);
/* Resume a suspended Quest task now (delivers what it awaited). */
void task_resume(qvm *vm, qtask *t);

void tasks_cancel_orphans(qvm *vm);
/* Free the spare stacks (at vm_free). */
void task_free_spares(qvm *vm);

/* task_inline.c: async calls run on their caller's stack (qframe.inline_call). */
/* The Task of inline frame k, made on first need. */
qtask *inline_self(qvm *vm, qstack *s, uint32_t k);
/* Await the unfinished t from inside inline frames: the innermost inline
 * calls become tasks, each awaited by its caller, up to a spawned call
 * (whose caller then goes on with its Task: the value returned) or the
 * running task, which awaits (interp_run's `stop` tells which frames are
 * this run's).  Returns as task_await does, or that Task. */
qval inline_await(qvm *vm, uint32_t stop, qtask *t);
/* Frames from `keep` up are being dropped by an exception: restore the
 * inline base and fail the Tasks made for inline frames among them. */
void inline_unwind(qvm *vm, qstack *s, uint32_t keep);
/* Inline frame k returned v: restore the inline base and settle its Task
 * if it has one; the value for its caller (a spawned call's Task). */
qval inline_return(qvm *vm, qstack *s, uint32_t k, qval v);

/* channel.c */
struct qchannel {
    qobj hdr;
    qval *ring;
    uint32_t ring_cap, head, count;
    int64_t capacity;       /* max buffered values; -1: unbounded */
    bool closed;
    qarray *receivers;      /* pairs (task, select index or nil) */
    qarray *senders;        /* pairs (task, value) */
    qtask *sent;            /* the finished Task every send that did not wait returns */
};
void channel_mark(qvm *vm, qchannel *c);
void channel_free(qvm *vm, qchannel *c);
void channel_init_class(qvm *vm, qtype *t);

/* sched.c */
void sched_ready(qvm *vm, qtask *t);
void sched_drain(qvm *vm);
void sched_free(qvm *vm);

/* timer.c: close the VM's timers (at vm_free, before the loop closes). */
void timers_free(qvm *vm);

/* interp.c: run the current stack's frames from `stop`; with `raising`, the
 * pending exception is raised at the current instruction first. */
qval interp_run(qvm *vm, uint32_t stop, bool raising);
bool interp_push_frame(qvm *vm, qclosure *cl, size_t base, int argc, qdict *kw);

/* builtins.c */
void builtins_register(qvm *vm, qdict *builtins);

#endif
