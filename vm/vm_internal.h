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
    uint32_t nhandlers;   /* handlers of this frame start at task->nhandlers - nhandlers */
    bool boundary;        /* a C caller (vm_call) waits for this frame's return */
} qframe;

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
} qstack;

typedef enum { TS_RUNNING, TS_SUSPENDED, TS_DONE, TS_FAILED, TS_CANCELLED } qtask_state;

/* A task: a Quest function running on its own stack (stack != NULL), or a
 * pending native operation completed from C (stack == NULL). */
struct qtask {
    qobj hdr;
    uint8_t state;          /* qtask_state */
    bool cancel_requested;  /* CancelledErr is due at the next suspension point */
    bool cancelled;         /* cancel() was called (sticky) */
    bool detached;
    bool queued;            /* in the ready queue */
    bool spawning;          /* async.spawn is starting a task: it gets no task-locals */
    bool listed;            /* in vm->live and its owner's list (see task_list) */
    int entry_c_depth;      /* vm->c_depth while its own run() is active */
    int64_t id;
    qstr *name;
    qstack *stack;
    qval result;            /* the value, or the exception when failed or cancelled */
    struct qtask *awaiting; /* what this Quest task is suspended on */
    struct qtask *waiter;   /* the first task to wake when this one finishes */
    qarray *waiters;        /* the others (most tasks have one waiter at most) */
    struct qtask *scope;    /* the owner whose end cancels this task (NULL: top level) */
    struct qtask *kids;     /* unfinished tasks owned by this one (when it is a scope) */
    struct qtask *sib_prev, *sib_next; /* in scope->kids or vm->orphans */
    qdict *locals;          /* task-locals, shared along a chain of awaited calls */
    qobj *hold;             /* native tasks: an object kept alive with it */
    qtask_wake_fn wake;
    qtask_cancel_fn on_cancel;
    void *cancel_data;
    void *data;             /* native tasks: their owner's C record */
    struct qtask *next_ready;
    struct qtask *live_prev, *live_next; /* unfinished tasks: GC roots */
};

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
    qstack *spare_stacks[8]; /* task.c: stacks of finished tasks, for reuse */
    int nspare_stacks;
    int loop_running;     /* inside uv_run: blocking is not allowed */
    int64_t budget_left;  /* safe points left in this run (opts.cpu_budget) */
    bool budget_hit;
    int64_t next_task_id;
    qexc *exc;            /* pending exception */
    qdict *kwargs;        /* named args of the running native */
    int c_depth;          /* nested vm_call depth on the C stack */
    qval redirect[3];     /* stdout (1) / stderr (2) sinks; nil = the real stream */
    uint64_t next_id;     /* for _id() */
    struct qmodstate *modstates; /* vm.c: native modules' per-VM state */
};

#define TOMB ((qstr *)(uintptr_t)1)

/* object.c */
void obj_free(qvm *vm, qobj *o);

/* gc.c */
void gc_maybe(qvm *vm);   /* called at safe points */
void gc_mark_roots(qvm *vm);

/* string.c */
void intern_sweep(qvm *vm);
void intern_free(qvm *vm);

/* stack.c */
qstack *stack_new(qvm *vm);
void stack_free(qvm *vm, qstack *s);
void stack_mark(qvm *vm, qstack *s);
void stack_reserve(qstack *s, size_t n);
qframe *stack_push_frame(qstack *s);
qhandler *stack_push_handler(qstack *s);

/* vm.c */
qtype *type_new(qvm *vm, qtype_kind kind, qstr *name);

/* interp.c */
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
void task_mark(qvm *vm, qtask *t);
void task_free(qvm *vm, qtask *t);
void task_init_class(qvm *vm, qtype *t);
/* Resume a suspended Quest task now (delivers what it awaited). */
void task_resume(qvm *vm, qtask *t);

void tasks_cancel_orphans(qvm *vm);
/* Free the spare stacks (at vm_free). */
void task_free_spares(qvm *vm);

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
