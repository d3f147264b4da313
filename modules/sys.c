/* sys.c — std/sys: the program's arguments and platform, exit, running
 * code given at run time (eval, load_module), call-depth introspection, and
 * the standard streams with redirection.
 *
 * Redirection: sys.redirect_stream(sys.stdout or sys.stderr, to) points the
 * stream at a new sink — a file path (appended to), an object with a
 * write(str) method such as io.StringIO, or the other stream (meaning
 * wherever that stream goes right now) — and returns a guard whose
 * restore() (or the end of a `with` block) puts the previous sink back.
 * puts/print, sys.stdout.write and sys.stderr.write all honour it; this is
 * how std/test captures what each test prints.
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "modules/modules.h"

/* The stream singletons are told apart by their class. */
static const qcdata_class sys_stdout_class = {"stdout", NULL, NULL, NULL};
static const qcdata_class sys_stderr_class = {"stderr", NULL, NULL, NULL};
static const qcdata_class sys_stdin_class = {"stdin", NULL, NULL, NULL};

/* A sink writing straight to the process's stdout or stderr, for streams
 * redirected to a stream that is itself not redirected. */
static const qcdata_class sys_console_class = {"Console", NULL, NULL, NULL};

/* A sink appending to a file; data is the malloc'd path. */
static const qcdata_class sys_file_class = {"FileSink", free, NULL, NULL};

/* What the module's redirect_stream needs at hand: the classes of the
 * objects it makes and the two console sinks. */
typedef struct sys_state {
    qtype *guard_t, *file_t;
    qval console[3]; /* [1] stdout, [2] stderr */
} sys_state;

static void sys_state_mark(qvm *vm, void *p)
{
    sys_state *s = p;
    vm_mark_obj(vm, (qobj *)s->guard_t);
    vm_mark_obj(vm, (qobj *)s->file_t);
    vm_mark_value(vm, s->console[1]);
    vm_mark_value(vm, s->console[2]);
}

static const qcdata_class sys_state_class = {"sys", free, sys_state_mark, NULL};

/* 1 for sys.stdout, 2 for sys.stderr, 0 for anything else. */
static int sys_out_stream(qval v)
{
    if (!IS_KIND(v, QO_CDATA))
        return 0;
    const qcdata_class *c = AS_CDATA(v)->cls;
    return c == &sys_stdout_class ? 1 : c == &sys_stderr_class ? 2 : 0;
}

static FILE *sys_file_of(int stream)
{
    return stream == 2 ? stderr : stdout;
}

/* ---- sys.stdout, sys.stderr, sys.stdin -------------------------------------------- */

/* write(text): to wherever the stream points now; returns the byte count. */
static qval sys_stream_write(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    int stream = sys_out_stream(self);
    if (!stream)
        return vm_raise(vm, E_TYPE, "write expects sys.stdout or sys.stderr");
    qstr *s = vm_to_str(vm, argv[0]);
    if (!s)
        return qv_exc();
    vm_write_stream(vm, stream, s->data, s->len);
    return qv_int(s->len);
}

static qval sys_stream_flush(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    int stream = sys_out_stream(self);
    if (!stream)
        return vm_raise(vm, E_TYPE, "flush expects sys.stdout or sys.stderr");
    fflush(sys_file_of(stream));
    return qv_nil();
}

static qval sys_text_or_raise(qvm *vm, char *data, size_t len)
{
    qval r = utf8_valid(data, len) ? qv_obj(str_new(vm, data, len))
                                   : vm_raise(vm, E_VALUE, "stdin: input is not valid UTF-8");
    free(data);
    return r;
}

/* sys.stdin.read(): everything up to end of input. */
static qval sys_stdin_read(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc, (void)argv;
    qbuf b;
    buf_init(&b);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
        buf_append(&b, chunk, n);
    if (ferror(stdin)) {
        clearerr(stdin);
        buf_free(&b);
        return vm_raise(vm, E_IO, "Failed to read from stdin");
    }
    return sys_text_or_raise(vm, b.data ? b.data : calloc(1, 1), b.len);
}

/* sys.stdin.readline(): the next line with its "\n"; "" at end of input. */
static qval sys_stdin_readline(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc, (void)argv;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, stdin);
    if (n < 0) {
        free(line);
        if (ferror(stdin)) {
            clearerr(stdin);
            return vm_raise(vm, E_IO, "Failed to read from stdin");
        }
        return qv_obj(str_new(vm, "", 0));
    }
    return sys_text_or_raise(vm, line, (size_t)n);
}

static qval sys_console_write(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    void *p = cdata_get(vm, self, &sys_console_class);
    qstr *s;
    if (!p || !arg_str(vm, "write", argv[0], &s))
        return qv_exc();
    fwrite(s->data, 1, s->len, sys_file_of((int)(intptr_t)p));
    return qv_int(s->len);
}

static qval sys_file_write(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    const char *path = cdata_get(vm, self, &sys_file_class);
    qstr *s;
    if (!path || !arg_str(vm, "write", argv[0], &s))
        return qv_exc();
    FILE *f = fopen(path, "ab");
    if (!f)
        return vm_raise(vm, E_IO, "Failed to open '%s' for appending", path);
    bool ok = fwrite(s->data, 1, s->len, f) == s->len;
    if ((fclose(f) != 0) || !ok)
        return vm_raise(vm, E_IO, "Failed to write to '%s'", path);
    return qv_int(s->len);
}

/* ---- redirection guards ------------------------------------------------------------- */

typedef struct sys_guard {
    int stream;
    bool active;
    qval previous;   /* the sink to put back */
} sys_guard;

static void sys_guard_mark(qvm *vm, void *p)
{
    vm_mark_value(vm, ((sys_guard *)p)->previous);
}

static const qcdata_class sys_guard_class = {"RedirectGuard", free, sys_guard_mark, NULL};

/* Put the previous sink back; later calls do nothing. */
static qval sys_guard_restore(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    sys_guard *g = cdata_get(vm, self, &sys_guard_class);
    if (!g)
        return qv_exc();
    if (g->active) {
        vm_set_stream(vm, g->stream, g->previous);
        g->previous = qv_nil();
        g->active = false;
    }
    return qv_nil();
}

static qval sys_guard_is_active(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    sys_guard *g = cdata_get(vm, self, &sys_guard_class);
    return g ? qv_bool(g->active) : qv_exc();
}

static qval sys_guard_enter(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return cdata_get(vm, self, &sys_guard_class) ? self : qv_exc();
}

/* The stream a value stands for as a sink: the sink `stream` has now, or
 * the console when it is not redirected. */
static qval sys_current_sink(qvm *vm, sys_state *st, int stream)
{
    /* vm.h offers only a swap: read the sink by swapping it back in. */
    qval now = vm_set_stream(vm, stream, qv_nil());
    vm_set_stream(vm, stream, now);
    return IS_NIL(now) ? st->console[stream] : now;
}

/* The sink that `to` names; nil after raising. */
static qval sys_sink_for(qvm *vm, sys_state *st, qval to)
{
    int other = sys_out_stream(to);
    if (other)
        return sys_current_sink(vm, st, other);
    if (IS_STR(to)) {
        /* Fail now, not at the first write, when the file cannot be opened. */
        FILE *f = fopen(AS_STR(to)->data, "ab");
        if (!f) {
            vm_raise(vm, E_IO, "sys.redirect_stream: cannot open '%s' for appending",
                     AS_STR(to)->data);
            return qv_nil();
        }
        fclose(f);
        char *path = strdup(AS_STR(to)->data);
        if (!path) {
            vm_raise(vm, E_RUNTIME, "sys.redirect_stream: out of memory");
            return qv_nil();
        }
        return qv_obj(cdata_new(vm, st->file_t, &sys_file_class, path));
    }
    if (IS_KIND(to, QO_CDATA) || IS_INSTANCE(to))
        return to; /* io.StringIO or any object with write(str) */
    vm_raise(vm, E_TYPE,
             "sys.redirect_stream: 'to' must be a file path, a StringIO, sys.stdout or "
             "sys.stderr, got %s", vm_cls_name(to));
    return qv_nil();
}

/* redirect_stream(from, to) -> RedirectGuard.  Bound to the module state. */
static qval sys_redirect_stream(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    sys_state *st = cdata_get(vm, self, &sys_state_class);
    if (!st)
        return qv_exc();
    int from = sys_out_stream(argv[0]);
    if (!from)
        return vm_raise(vm, E_TYPE,
                        "sys.redirect_stream: 'from' must be sys.stdout or sys.stderr, got %s",
                        vm_cls_name(argv[0]));
    qval sink = sys_sink_for(vm, st, argv[1]);
    if (IS_NIL(sink))
        return qv_exc();
    sys_guard *g = malloc(sizeof *g);
    if (!g)
        return vm_raise(vm, E_RUNTIME, "sys.redirect_stream: out of memory");
    g->stream = from;
    g->active = true;
    g->previous = vm_set_stream(vm, from, sink);
    return qv_obj(cdata_new(vm, st->guard_t, &sys_guard_class, g));
}

/* ---- functions ------------------------------------------------------------------------------ */

/* exit(code = 0): flush what was printed, then end the process. */
static qval sys_exit(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self;
    double code = 0;
    if (argc > 0 && !arg_num(vm, "sys.exit", argv[0], &code))
        return qv_exc();
    fflush(stdout);
    fflush(stderr);
    exit((int)code);
}

/* fail(message = "Failure"): raise a RuntimeErr. */
static qval sys_fail(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self;
    if (argc == 0)
        return vm_raise(vm, E_RUNTIME, "Failure");
    qstr *msg = vm_to_str(vm, argv[0]);
    return msg ? vm_raise(vm, E_RUNTIME, "%s", msg->data) : qv_exc();
}

/* eval(code): run code as a fresh module; the value of its last
 * statement (nil for blank code). */
static qval sys_eval(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    qstr *code;
    if (!arg_str(vm, "sys.eval", argv[0], &code))
        return qv_exc();
    if (code->data[strspn(code->data, " \t\r\n")] == '\0')
        return qv_nil();
    return vm_eval(vm, "<eval>", code->data);
}

/* load_module(path): the module, loaded (once) as `use` would. */
static qval sys_load_module(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    qstr *path;
    if (!arg_str(vm, "sys.load_module", argv[0], &path))
        return qv_exc();
    return vm_import(vm, path->data);
}

static qval sys_pid(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)self, (void)argc, (void)argv;
    return qv_int(getpid());
}

static qval sys_get_call_depth(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc, (void)argv;
    return qv_int(vm_call_depth(vm));
}

/* Scopes that exist at run time: the module's, plus one per running
 * function.  Block scopes (loops, if, try) are resolved by the compiler
 * into slots of their function and do not count. */
static qval sys_get_scope_depth(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc, (void)argv;
    return qv_int(vm_scope_depth(vm));
}

/* function_calls is the VM's real limit.  The other two are the figures
 * the reference publishes; here nested sys.eval and nested imports are
 * bounded by the same call-depth limit. */
static qval sys_get_depth_limits(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc, (void)argv;
    qdict *d = dict_new(vm);
    dict_set_cstr(vm, d, "function_calls", qv_int(vm_get_options(vm)->max_call_depth));
    dict_set_cstr(vm, d, "eval_recursion", qv_int(2000));
    dict_set_cstr(vm, d, "module_loading", qv_int(50));
    return qv_obj(d);
}

static const qmethod_def sys_functions[] = {
    {"exit", sys_exit, 0, 1, false},
    {"fail", sys_fail, 0, 1, false},
    {"eval", sys_eval, 1, 1, false},
    {"load_module", sys_load_module, 1, 1, false},
    {"pid", sys_pid, 0, 0, false},
    {"get_call_depth", sys_get_call_depth, 0, 0, false},
    {"get_scope_depth", sys_get_scope_depth, 0, 0, false},
    {"get_depth_limits", sys_get_depth_limits, 0, 0, false},
    {NULL, NULL, 0, 0, false},
};

static const qmethod_def sys_out_methods[] = {
    {"write", sys_stream_write, 1, 1, false},
    {"flush", sys_stream_flush, 0, 0, false},
    {NULL, NULL, 0, 0, false},
};

static const qmethod_def sys_in_methods[] = {
    {"read", sys_stdin_read, 0, 0, false},
    {"readline", sys_stdin_readline, 0, 0, false},
    {NULL, NULL, 0, 0, false},
};

static const qmethod_def sys_console_methods[] = {
    {"write", sys_console_write, 1, 1, false},
    {NULL, NULL, 0, 0, false},
};

static const qmethod_def sys_file_methods[] = {
    {"write", sys_file_write, 1, 1, false},
    {NULL, NULL, 0, 0, false},
};

static const qmethod_def sys_guard_methods[] = {
    {"restore", sys_guard_restore, 0, 0, false},
    {"is_active", sys_guard_is_active, 0, 0, false},
    {"_enter", sys_guard_enter, 0, 0, false},
    {"_exit", sys_guard_restore, 0, 0, false},
    {NULL, NULL, 0, 0, false},
};

/* ---- module values ----------------------------------------------------------------------------- */

static const char *sys_platform(void)
{
#if defined(__APPLE__)
    return "darwin";
#elif defined(__linux__)
    return "linux";
#elif defined(_WIN32)
    return "win32";
#elif defined(__FreeBSD__)
    return "freebsd";
#elif defined(__OpenBSD__)
    return "openbsd";
#else
    return "unknown";
#endif
}

static qval sys_executable(qvm *vm)
{
    char path[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    if (n <= 0)
        return qv_obj(str_cstr(vm, "quest"));
    return qv_obj(str_new(vm, path, (size_t)n));
}

/* The running script's absolute path, nil when there is no script file
 * (REPL, -e, the test runner). */
static qval sys_script_path(qvm *vm, const qvm_options *o)
{
    char *real = o->argc > 0 ? realpath(o->argv[0], NULL) : NULL;
    if (!real)
        return qv_nil();
    qval v = qv_obj(str_cstr(vm, real));
    free(real);
    return v;
}

static qval sys_argv(qvm *vm, const qvm_options *o)
{
    qarray *a = arr_new(vm, (uint32_t)o->argc);
    for (int i = 0; i < o->argc; i++)
        arr_push(vm, a, qv_obj(str_cstr(vm, o->argv[i])));
    return qv_obj(a);
}

/* Add the last segment of a library path ("std/encoding/json" -> "json")
 * unless it is there already. */
static void sys_add_module_name(qvm *vm, qarray *names, const char *path)
{
    const char *slash = strrchr(path, '/');
    qval name = qv_obj(str_cstr(vm, slash ? slash + 1 : path));
    for (uint32_t i = 0; i < names->len; i++)
        if (vm_equal(names->items[i], name))
            return;
    arr_push(vm, names, name);
}

/* The library compiled into this binary, native and Quest-written. */
static qval sys_builtin_module_names(qvm *vm)
{
    qarray *names = arr_new(vm, 0);
    for (const qnative_module *m = quest_native_modules; m->path; m++)
        sys_add_module_name(vm, names, m->path);
    for (const qembedded_source *e = quest_embedded_sources; e->path; e++)
        sys_add_module_name(vm, names, e->path);
    return qv_obj(names);
}

static qval sys_stream_object(qvm *vm, qtype *t, const qcdata_class *cls)
{
    return qv_obj(cdata_new(vm, t, cls, NULL));
}

/* redirect_stream, bound to a state object holding what it needs. */
static bool sys_export_redirect(qvm *vm, qmodule *m)
{
    sys_state *st = calloc(1, sizeof *st);
    if (!st) {
        vm_raise(vm, E_RUNTIME, "std/sys: out of memory");
        return false;
    }
    st->guard_t = vm_new_cdata_type(vm, "RedirectGuard", sys_guard_methods);
    st->file_t = vm_new_cdata_type(vm, "FileSink", sys_file_methods);
    qtype *console_t = vm_new_cdata_type(vm, "Console", sys_console_methods);
    st->console[1] = qv_obj(cdata_new(vm, console_t, &sys_console_class, (void *)(intptr_t)1));
    st->console[2] = qv_obj(cdata_new(vm, console_t, &sys_console_class, (void *)(intptr_t)2));
    qcdata *state = cdata_new(vm, vm_new_cdata_type(vm, "sys", NULL), &sys_state_class, st);
    qnative *fn = native_new(vm, "redirect_stream", sys_redirect_stream, 2, 2);
    fn->bound = qv_obj(state);
    module_export(vm, m, "redirect_stream", qv_obj(fn));
    return true;
}

bool sys_module_init(qvm *vm, qmodule *m)
{
    const qvm_options *o = vm_get_options(vm);
    module_export(vm, m, "argv", sys_argv(vm, o));
    module_export(vm, m, "argc", qv_int(o->argc));
    module_export(vm, m, "version", qv_obj(str_cstr(vm, QUEST_VERSION)));
    module_export(vm, m, "platform", qv_obj(str_cstr(vm, sys_platform())));
    module_export(vm, m, "executable", sys_executable(vm));
    module_export(vm, m, "script_path", sys_script_path(vm, o));
    module_export(vm, m, "builtin_module_names", sys_builtin_module_names(vm));
    module_export(vm, m, "INT_MIN", qv_int(INT64_MIN));
    module_export(vm, m, "INT_MAX", qv_int(INT64_MAX));
    module_export_fns(vm, m, sys_functions);

    qtype *out_t = vm_new_cdata_type(vm, "SystemStream", sys_out_methods);
    qtype *in_t = vm_new_cdata_type(vm, "SystemStream", sys_in_methods);
    module_export(vm, m, "stdout", sys_stream_object(vm, out_t, &sys_stdout_class));
    module_export(vm, m, "stderr", sys_stream_object(vm, out_t, &sys_stderr_class));
    module_export(vm, m, "stdin", sys_stream_object(vm, in_t, &sys_stdin_class));
    return sys_export_redirect(vm, m);
}
