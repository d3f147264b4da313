/* vm.h — the interface between the Quest VM and native code.
 *
 * Everything a built-in type, a standard-library module or the server needs
 * from the VM is declared here.  The rules for native code:
 *
 *  - A native returns a value, or raises: `return vm_raise(vm, E_TYPE, ...)`
 *    records the exception in the VM and returns qv_exc(); callers test
 *    IS_EXC() and pass the sentinel up.  Nothing longjmps.
 *  - The GC runs only at safe points of the interpreter loop (calls and
 *    backward jumps), never inside an allocation.  So a native may hold
 *    objects in C locals freely, EXCEPT across a call that can run Quest code
 *    (vm_call, vm_invoke, vm_to_str of a user value...).  Objects held across
 *    such a call must be rooted with vm_push_root()/vm_pop_roots().  The
 *    receiver and the arguments of a native are already rooted.
 *  - No globals: every piece of state lives in the qvm, so N VMs can run on N
 *    threads in one process.
 */
#ifndef QUEST_VM_H
#define QUEST_VM_H

#include <stdarg.h>
#include <stdio.h>

#include <uv.h>

#include "value.h"

/* ---- creating a VM ---------------------------------------------------------- */

/* A native module: `use "std/math"` finds {"std/math", init}; init fills
 * the module's members (all public) and returns false after raising. */
typedef struct qnative_module {
    const char *path;
    bool (*init)(qvm *vm, qmodule *m);
} qnative_module;

/* A standard-library module written in Quest, embedded in the binary. */
typedef struct qembedded_source {
    const char *path;   /* "std/test" */
    const char *source;
} qembedded_source;

typedef struct qvm_options {
    const qnative_module *native_modules;     /* terminated by {NULL} */
    const qembedded_source *embedded_sources; /* terminated by {NULL} */
    int max_call_depth;     /* Quest frames before RuntimeErr (default 1000) */
    bool gc_stress;         /* collect at every safe point */
    uv_loop_t *loop;        /* the event loop to run tasks on (NULL: the VM makes its own) */
    int64_t cpu_budget;     /* safe points one uninterrupted run may pass (0: unlimited) */
    /* web.run() from a script: serve the app file on host:port until a
     * signal, as `quest serve` would (NULL: not available). */
    int (*serve)(const char *app, const char *host, int port);
    int argc;               /* script arguments (sys.argv) */
    char **argv;
} qvm_options;

qvm *vm_new(const qvm_options *opts);
void vm_free(qvm *vm);
/* The options the VM runs with (std/sys reads argv and the limits). */
const qvm_options *vm_get_options(qvm *vm);

/* ---- running code ---------------------------------------------------------------- */

/* Compile and run a file / a string as a fresh main module.  Returns the
 * value of the last statement or qv_exc() with the error pending. */
qval vm_run_file(qvm *vm, const char *path);
qval vm_run_string(qvm *vm, const char *name, const char *src);
/* Like vm_run_file, but tasks the program leaves running keep running (a
 * server's app may start background tasks at its top level). */
qval vm_run_file_keep(qvm *vm, const char *path);
/* A global of the main program (nil when absent). */
qval vm_main_global(qvm *vm, const char *name);
/* The module loaded from path (e.g. "std/web"), or nil when not loaded. */
qval vm_loaded_module(qvm *vm, const char *path);
/* `use` from C: load (once) and return the module at path, resolved as a
 * `use` in the main program would. */
qval vm_import(qvm *vm, const char *path);
/* Run source text in a fresh, anonymous module (sys.eval); returns the
 * value of its last statement.  Syntax errors raise SyntaxErr. */
qval vm_eval(qvm *vm, const char *name, const char *src);
/* Current Quest call depth (frames), for sys.get_call_depth(). */
int vm_call_depth(qvm *vm);
/* Call depth plus block nesting at the calling instruction (sys.get_scope_depth). */
int vm_scope_depth(qvm *vm);
/* Print the pending exception as the reference does (Type: msg, at, stack)
 * and clear it. */
void vm_report_exc(qvm *vm, FILE *out);

/* Write to the program's stdout (1) or stderr (2), honouring redirection
 * (sys.redirect_stream). */
void vm_write_stream(qvm *vm, int stream, const char *data, size_t len);
/* Redirect stream 1 or 2 to a value with write(str), or nil to restore;
 * returns the previous sink. */
qval vm_set_stream(qvm *vm, int stream, qval sink);

/* ---- errors ---------------------------------------------------------------------------- */

typedef enum {
    E_ERR, E_INDEX, E_TYPE, E_VALUE, E_ARG, E_ATTR, E_NAME, E_RUNTIME,
    E_IO, E_IMPORT, E_KEY, E_SYNTAX, E_CONFIG, E_TIMEOUT, E_CANCELLED,
    E__COUNT
} qerr_kind;

/* Raise an exception of the built-in type `kind` with a printf message.
 * Always returns qv_exc(). */
qval vm_raise(qvm *vm, qerr_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Raise an existing exception value. */
qval vm_raise_exc(qvm *vm, qexc *e);
/* The pending exception (NULL if none); vm_take_exc also clears it. */
qexc *vm_pending_exc(qvm *vm);
qexc *vm_take_exc(qvm *vm);
qtype *vm_err_type(qvm *vm, qerr_kind kind);
/* A new (not raised) exception of type t. */
qexc *exc_new(qvm *vm, qtype *t, qstr *message);

/* ---- calling Quest from C ------------------------------------------------------------------ */

qval vm_call(qvm *vm, qval fn, int argc, qval *argv);
qval vm_call_kw(qvm *vm, qval fn, int argc, qval *argv, qdict *kwargs);
/* recv.name(args) with the language's method lookup. */
qval vm_invoke(qvm *vm, qval recv, const char *name, int argc, qval *argv);
/* Named arguments passed to the running native (NULL when none).  Only
 * natives declared with kwargs=true ever see them; others get ArgErr. */
qdict *vm_kwargs(qvm *vm);
bool vm_is_callable(qval v);
/* Number of named parameters a callable declares (required + optional), or
 * -1 when unknown (natives, *args functions).  Array.map and friends use it
 * to decide between f(elem) and f(elem, index). */
int vm_fn_arity(qval fn);

/* ---- values ------------------------------------------------------------------------------------- */

bool vm_truthy(qval v);
/* `==` of the language (reference rules, see quest-language.md §1.10). */
bool vm_equal(qval a, qval b);
/* Ordering of `<` and sort(): <0, 0, >0; unsupported pairs compare equal. */
int vm_compare(qval a, qval b);
/* str() form, as puts prints it.  NULL after raising. */
qstr *vm_to_str(qvm *vm, qval v);
/* _rep() form (strings quoted).  NULL after raising. */
qstr *vm_to_rep(qvm *vm, qval v);
/* cls() name: "Int", "Str", user type name ... */
const char *vm_cls_name(qval v);
/* Deep copy of Array/Dict (used for field defaults). */
qval vm_deep_copy(qvm *vm, qval v);

/* ---- memory and GC ------------------------------------------------------------------------------ */

void *vm_alloc_obj(qvm *vm, size_t size, qobj_kind kind);
/* Tracked malloc/realloc/free for memory owned by objects (counts toward
 * the GC trigger).  vm_realloc(vm, p, old, 0) frees.  Aborts on OOM only
 * when the C library cannot allocate at all. */
void *vm_realloc(qvm *vm, void *p, size_t old_size, size_t new_size);
void vm_push_root(qvm *vm, qval v);
void vm_pop_roots(qvm *vm, int n);
void vm_mark_value(qvm *vm, qval v);
void vm_mark_obj(qvm *vm, qobj *o);
void vm_gc(qvm *vm);
/* Collect if allocation since the last collection made one due.  For
 * embedders between runs (a server after each request): Quest code that
 * makes no call and no loop never reaches a safe point of its own. */
void vm_collect_if_due(qvm *vm);

/* ---- strings -------------------------------------------------------------------------------- */

qstr *str_new(qvm *vm, const char *s, size_t len);
/* The same for bytes known to be ASCII (a WebSocket frame is checked as it
 * is unmasked), which spares counting their code points. */
qstr *str_new_ascii(qvm *vm, const char *s, size_t len);
qstr *str_cstr(qvm *vm, const char *s);
qstr *str_cat(qvm *vm, const qstr *a, const qstr *b);
qstr *str_from_int(qvm *vm, int64_t v);
qstr *str_printf(qvm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Interned strings are unique per VM: compare them by pointer. */
qstr *str_intern(qvm *vm, const char *s, size_t len);
qstr *str_intern_cstr(qvm *vm, const char *s);
uint32_t str_hash_bytes(const char *s, size_t len);
/* The string's hash, computed on first use (0 means "not yet"). */
uint32_t str_hashcode(const qstr *s);
bool str_equal(const qstr *a, const qstr *b);
/* Number of code points in valid UTF-8. */
uint32_t utf8_count(const char *s, size_t len);
/* Byte offset of code point `ci` (0 <= ci <= nchars). */
size_t str_char_offset(const qstr *s, uint32_t ci);

/* A growable byte buffer for building strings. */
typedef struct qbuf {
    char *data;
    size_t len, cap;
} qbuf;
void buf_init(qbuf *b);
void buf_free(qbuf *b);
void buf_append(qbuf *b, const char *s, size_t n);
void buf_puts(qbuf *b, const char *s);
void buf_putc(qbuf *b, char c);
void buf_printf(qbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
qstr *buf_to_str(qvm *vm, qbuf *b); /* frees the buffer */
/* The value of the hexadecimal digit c, or -1 when c is not one. */
static inline int hex_digit_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}
/* A whole file, NUL-terminated (*len excludes the NUL); NULL with errno set on
 * failure, EFBIG when it is larger than max bytes.  The caller frees. */
char *buf_read_file(const char *path, size_t max, size_t *len);

/* ---- containers ----------------------------------------------------------------------------------- */

qbytes *bytes_new(qvm *vm, const void *data, size_t len);

qarray *arr_new(qvm *vm, uint32_t cap);
void arr_push(qvm *vm, qarray *a, qval v);
/* Stable sort of n values in place by vm_compare (sort(), sorted(), Set.to_array). */
void arr_sort_values(qvm *vm, qval *items, uint32_t n);

qdict *dict_new(qvm *vm);
qdict *dict_new_sized(qvm *vm, uint32_t n); /* room for n entries without growing */
bool dict_get(const qdict *d, const qstr *key, qval *out);
bool dict_get_cstr(const qdict *d, const char *key, qval *out);
/* Position of key in d->entries, or -1 (for caches: valid while
 * entries[i].key is still that key). */
int64_t dict_index(const qdict *d, const qstr *key);
void dict_set(qvm *vm, qdict *d, qstr *key, qval v);
void dict_set_cstr(qvm *vm, qdict *d, const char *key, qval v);
/* A shallow copy with d's layout: entries[i] of the copy holds what
 * entries[i] of d holds (the server fills a per-worker template this way). */
qdict *dict_shallow_copy(qvm *vm, const qdict *d);
bool dict_del(qdict *d, const qstr *key);
/* Iterate: for (uint32_t i = 0; i < d->used; i++) if (d->entries[i].key) ... */

qset *set_new(qvm *vm);
bool set_add(qvm *vm, qset *s, qval v);   /* false if already there */
bool set_has(const qset *s, qval v);
bool set_del(qset *s, qval v);

/* ---- types, methods, natives ------------------------------------------------------------------ */

/* Built-in classes, in the order of vm_builtin_type(). */
typedef enum {
    QC_NIL, QC_BOOL, QC_INT, QC_FLOAT, QC_STR, QC_BYTES, QC_ARRAY, QC_DICT,
    QC_SET, QC_BIGINT, QC_DECIMAL, QC_UUID, QC_FUNCTION, QC_TYPE, QC_TRAIT,
    QC_MODULE, QC_EXCEPTION, QC_TASK, QC_CHANNEL,
    QC__COUNT
} qclass_id;

typedef struct qmethod_def {
    const char *name;
    qnative_fn fn;
    int16_t min_args, max_args; /* max -1: variadic */
    bool kwargs;
} qmethod_def;

qtype *vm_builtin_type(qvm *vm, qclass_id c);
/* Add natives to a type's instance (or static) method table; defs end with {0}. */
void vm_add_methods(qvm *vm, qtype *t, const qmethod_def *defs);
void vm_add_statics(qvm *vm, qtype *t, const qmethod_def *defs);
qnative *native_new(qvm *vm, const char *name, qnative_fn fn, int min_args, int max_args);

/* Module-owned native objects. */
qtype *vm_new_cdata_type(qvm *vm, const char *name, const qmethod_def *methods);
qcdata *cdata_new(qvm *vm, qtype *t, const qcdata_class *cls, void *data);
/* Checked access: NULL (and TypeErr raised) unless v is a cdata of class cls. */
void *cdata_get(qvm *vm, qval v, const qcdata_class *cls);

/* A new exception type (catchable by name, and by `catch e: P` for its
 * ancestors P); not registered as a global.  Keep it reachable, e.g. by
 * exporting it from the module. */
qtype *vm_new_exc_type(qvm *vm, const char *name, qtype *parent);

/* Per-VM state of a native module, found by key (its path): NULL until
 * set.  free_fn runs at vm_free before the event loop is torn down, so it
 * may still uv_close handles on vm_loop(). */
void *vm_module_state(qvm *vm, const char *key);
void vm_set_module_state(qvm *vm, const char *key, void *state,
                         void (*free_fn)(qvm *vm, void *state));
/* Is the innermost running Quest function an `async fun`?  A native with
 * an async form returns a pending Task to such a caller (it will await it)
 * and blocks on the Task for any other caller. */
bool vm_caller_is_async(qvm *vm);

void module_export(qvm *vm, qmodule *m, const char *name, qval v);
void module_export_fns(qvm *vm, qmodule *m, const qmethod_def *defs);

/* ---- argument checking for natives --------------------------------------------------------------- */

/* Each returns false after raising TypeErr "<fname> expects <what> ...". */
bool arg_int(qvm *vm, const char *fname, qval v, int64_t *out);
bool arg_num(qvm *vm, const char *fname, qval v, double *out);  /* Int or Float */
bool arg_str(qvm *vm, const char *fname, qval v, qstr **out);
bool arg_array(qvm *vm, const char *fname, qval v, qarray **out);
bool arg_dict(qvm *vm, const char *fname, qval v, qdict **out);

/* ---- per-type initialisers (vm/<type>.c): register methods on the class ---------------- */

void str_init_class(qvm *vm, qtype *t);
void bytes_init_class(qvm *vm, qtype *t);
void arr_init_class(qvm *vm, qtype *t);
void dict_init_class(qvm *vm, qtype *t);
void set_init_class(qvm *vm, qtype *t);
void num_init_classes(qvm *vm, qtype *int_t, qtype *float_t, qtype *bool_t);
void bigint_init_class(qvm *vm, qtype *t);
void decimal_init_class(qvm *vm, qtype *t);
void uuid_init_class(qvm *vm, qtype *t);

/* ---- number formatting (vm/format.c) ------------------------------------------------------------- */

/* Float in str() form: whole numbers below 1e10 without ".0", else the
 * shortest round-trip representation ("NaN", "inf", "-inf"), written out
 * positionally as Rust does (1e300 is 301 digits): a buffer of
 * FMT_FLOAT_MAX bytes always holds it; a smaller one truncates. */
#define FMT_FLOAT_MAX 400
void fmt_float(char *out, size_t n, double f);
/* Apply a format spec ("[fill][align][sign][#][0][width][.prec][type]") to
 * a value, appending to b.  False after raising ValueErr on a bad spec. */
bool fmt_spec(qvm *vm, qbuf *b, qval v, const char *spec, size_t spec_len);

/* ---- tasks: the native side of async/await ---------------------------------------------
 *
 * A native async operation (a timer, a query, an HTTP transfer) returns a
 * pending task made with task_new_pending(), starts its I/O on vm_loop(),
 * and completes the task from the libuv callback with task_resolve() or
 * task_reject().  Tasks awaiting it resume on the scheduler, after the
 * callback returns.  task_set_cancel() registers how to abort the I/O when
 * the task is cancelled (the callback must then not touch the task again).
 * A pending task is a GC root until it is resolved, rejected or cancelled.
 */
typedef struct qtask qtask;
typedef void (*qtask_cancel_fn)(qvm *vm, qtask *t, void *data);
/* Call fn as `await fn(args)` would: an async closure runs on this stack and
 * its value (or error) is returned with no Task made; if it suspends, it
 * becomes a Task, *pending, and nil is returned.  Anything else: vm_call. */
qval vm_call_async_inline(qvm *vm, qval fn, int argc, qval *argv, qtask **pending);
/* Called when `source`, which the native task `waiter` watches, finishes. */
typedef void (*qtask_wake_fn)(qvm *vm, qtask *waiter, qtask *source);

uv_loop_t *vm_loop(qvm *vm);
qtask *task_new_pending(qvm *vm, const char *name);
/* The same named by a Str the caller keeps (no interning per call). */
qtask *task_new_pending_str(qvm *vm, qstr *name);
void task_resolve(qvm *vm, qtask *t, qval v);
void task_reject(qvm *vm, qtask *t, qexc *e);
void task_set_cancel(qtask *t, qtask_cancel_fn fn, void *data);
void task_set_wake(qtask *t, qtask_wake_fn fn);
/* Keep v alive as long as the pending task t (e.g. the tasks it watches;
 * one object: an Array for several). */
void task_hold(qtask *t, qval v);
void task_watch(qvm *vm, qtask *waiter, qtask *source);
void task_unwatch(qtask *waiter, qtask *source);
void task_cancel(qvm *vm, qtask *t);
bool task_is_done(const qtask *t);
bool task_failed(const qtask *t);
/* The value of a finished task, or its exception raised (qv_exc()). */
qval task_result(qvm *vm, qtask *t);
qtask *task_of(qval v);               /* NULL unless v is a Task */
qval task_value(qtask *t);
qtask *vm_current_task(qvm *vm);
/* Make t the running task (e.g. a request's scope while its handler is
 * called); returns the previous one.  Call it from C between runs of Quest
 * code (a libuv callback): async calls still running inline on the current
 * stack keep the task they were started in. */
qtask *vm_swap_current(qvm *vm, qtask *t);
/* Make t the owner of the tasks started while it is current (a request, a
 * connection): when t finishes, those still running are cancelled. */
void task_make_scope(qvm *vm, qtask *t);
/* C data carried by a native task (for wake/cancel callbacks). */
void task_set_data(qtask *t, void *data);
void *task_data(qtask *t);
/* Are tasks still pending (started and not finished)? */
bool vm_has_pending_tasks(qvm *vm);
/* Resume every ready task now (servers call it at the end of a callback). */
void vm_run_ready(qvm *vm);
/* The server runs the loop itself: blocking waits become errors. */
void vm_set_serving(qvm *vm, bool serving);
/* CPU budget: a fresh allowance for the next uninterrupted run; whether the
 * last error was the budget running out. */
void vm_reset_budget(qvm *vm);
bool vm_budget_exceeded(qvm *vm);
void vm_task_set_name(qtask *t, qstr *name);
bool vm_task_cancelled(const qtask *t);   /* cancel() was called on it */
/* Start an async call the way `f(args)` does: a Task running fn. */
qval task_spawn(qvm *vm, qval fn, int argc, qval *argv, bool fresh_locals);
/* Call fn() with the task-locals extended by `extra` (async.with_context). */
qval task_with_locals(qvm *vm, qval fn, qdict *extra);
/* A pending task resolved with nil after secs seconds (vm/timer.c);
 * cancelling it stops the timer. */
qtask *task_sleep(qvm *vm, double secs);
/* Run work(data) on the libuv thread pool, then done(vm, t, data) on the
 * loop thread, which must resolve or reject t from what work produced.
 * work must not touch the VM.  When the task is cancelled first, done gets
 * t == NULL (work may or may not have run) and only frees data. */
qtask *vm_run_blocking(qvm *vm, void (*work)(void *data),
                       void (*done)(qvm *vm, qtask *t, void *data), void *data);
/* Channels (vm/channel.c).  capacity -1: unbounded. */
typedef struct qchannel qchannel;
qchannel *channel_new(qvm *vm, int64_t capacity);
/* Deliver v without waiting (from C, e.g. a WebSocket frame): false when
 * the channel is full or closed. */
bool channel_offer(qvm *vm, qchannel *c, qval v);
void channel_close(qvm *vm, qchannel *c);
/* recv() from C (a WebSocket's recv): a Task for the next value, nil once
 * the channel is closed and drained.  In a native method called as
 * `await x.m()` a ready value comes back as itself, without a Task. */
qval channel_recv(qvm *vm, qchannel *c);
/* async.select: a Task resolving to {index, value, channel} for the first
 * ready source (channels: a received value; tasks: their result). */
qval channel_select(qvm *vm, qarray *sources);

/* Run the event loop until v (a Task, or a plain value) is finished; its
 * value or its exception.  RuntimeErr inside a running loop callback. */
qval vm_block_on(qvm *vm, qval v);
/* The running task's task-locals (created on first use; NULL outside tasks). */
qdict *task_locals(qvm *vm);

/* ---- entry points of the built-in types used by the interpreter ------------------------- */

/* Arithmetic on any numeric pair (Int, Float, BigInt, Decimal) for the
 * operators + - * / % with the language's promotion and error rules
 * (Int overflow and division by zero raise RuntimeErr; BigInt mixes only
 * with BigInt).  op is a qop from ast.h.  Non-numeric operands: TypeErr. */
qval num_arith(qvm *vm, int op, qval a, qval b);
/* The bitwise operators | ^ & << >> (op a qop) on Int pairs, BigInt pairs
 * and BigInt << Int; shifts of an Int by less than 0 or 64 or more raise
 * RuntimeErr.  Other operands: TypeErr. */
qval num_bitop(qvm *vm, int op, qval a, qval b);
/* Prefix - + ~ (op is the character, as in N_UNARY) on numbers; -INT64_MIN
 * raises RuntimeErr, other kinds TypeErr. */
qval num_unary(qvm *vm, int op, qval v);
qval bigint_from_cstr(qvm *vm, const char *digits);   /* "123", "0xff", "-5" */
qval bigint_from_int(qvm *vm, int64_t i);
qstr *bigint_to_str(qvm *vm, const qbigint *b);
bool bigint_is_zero(const qbigint *b);
int bigint_cmp(const qbigint *a, const qbigint *b);
qval decimal_from_cstr(qvm *vm, const char *text);   /* raises ValueErr */
qstr *decimal_to_str(qvm *vm, const qdecimal *d);
int decimal_cmp_num(const qdecimal *d, double f);      /* for match ranges */
int decimal_cmp(const qdecimal *a, const qdecimal *b);  /* exact, across scales */
double decimal_to_double(const qdecimal *d);
/* A Uuid from its 16 bytes in network order (vm/uuid_methods.c). */
qval uuid_new(qvm *vm, const uint8_t bytes[16]);
/* Globals: BigInt and ZERO ONE TWO TEN; Decimal. */
void bigint_register_builtins(qvm *vm, qdict *builtins);
void decimal_register_builtins(qvm *vm, qdict *builtins);

/* s[i] and b[i] (character / byte indexing, negative from the end). */
qval str_index(qvm *vm, qstr *s, qval index);
qval bytes_index(qvm *vm, qbytes *b, qval index);
/* Resolve such an index (Int, or a BigInt that fits; negative from the end)
 * against n items: the position, or -1 after raising TypeErr / IndexErr.
 * `what` names the type in messages ("String", "Bytes"). */
int64_t index_check(qvm *vm, const char *what, qval index, int64_t n);
/* a[i] (RuntimeErr out of range, as the reference) and a[i] = v (IndexErr);
 * negative indexes count from the end.  arr_set_index returns nil or qv_exc(). */
qval arr_get_index(qvm *vm, qarray *a, qval index);
qval arr_set_index(qvm *vm, qarray *a, qval index, qval v);
/* Str.fmt: "{}", "{0}", "{:spec}", "{{" -> "{". */
qval str_format(qvm *vm, qstr *fmt, int argc, qval *argv);
/* Strict UTF-8 check (no overlongs, surrogates or code points > 0x10FFFF). */
bool utf8_valid(const char *s, size_t len);
/* The global builtins chr(codepoint) and ord(str) (vm/str_methods.c). */
void str_register_builtins(qvm *vm, qdict *builtins);

#endif
