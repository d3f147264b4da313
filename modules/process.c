/* process.c — std/process: running other programs.
 *
 *   run(cmd, opts?)        run to completion, capturing output -> ProcessResult
 *   check_run(cmd, opts?)  the same, its stdout, or RuntimeErr if it failed
 *   shell(line, opts?)     run(["sh", "-c", line], opts?) — never with user input
 *   pipeline([cmd...], opts?)  cmd1 | cmd2 | ... -> ProcessResult of the last
 *   spawn(cmd, opts?)      start it and talk to it -> Process, whose stdin,
 *                          stdout and stderr are stream objects
 *
 * Commands are arrays [program, args...]: no shell is involved, so
 * arguments need no quoting.  Options: "cwd" (Str), "env" (Dict of Str:
 * the child's whole environment), "stdin" (Str or Bytes fed to the child;
 * without it the child shares our stdin) and "timeout" (seconds: the child
 * is killed and TimeoutErr raised when it runs longer).
 *
 * Nothing blocks on one pipe while the child waits on another: every wait
 * drains both outputs (see process_spawn.c).  A program that cannot be
 * found or started raises IOErr.  Exit codes are the program's, or -N when
 * signal N killed it.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "modules/modules.h"
#include "modules/process_internal.h"

typedef enum { PT_RESULT, PT_PROCESS, PT_WSTREAM, PT_RSTREAM, PT__COUNT } pt_kind;

typedef struct proc_state {
    qtype *types[PT__COUNT];
} proc_state;

static void proc_state_mark(qvm *vm, void *p)
{
    proc_state *st = p;
    for (int k = 0; k < PT__COUNT; k++)
        vm_mark_obj(vm, (qobj *)st->types[k]);
}

static const qcdata_class proc_state_class = {"ProcessModule", free, proc_state_mark, NULL};

/* ---- ProcessResult ------------------------------------------------------------------------------- */

typedef struct proc_result {
    qbuf out, err;
    int code;
} proc_result;

static void result_free(void *p)
{
    proc_result *r = p;
    buf_free(&r->out);
    buf_free(&r->err);
    free(r);
}

static bool result_truthy(void *p)
{
    return ((proc_result *)p)->code == 0;
}

static const qcdata_class result_class = {"ProcessResult", result_free, NULL, result_truthy};

/* Bytes as text, each invalid UTF-8 byte replaced by U+FFFD. */
static qval proc_text(qvm *vm, const char *s, size_t n)
{
    if (n == 0 || utf8_valid(s, n))
        return qv_obj(str_new(vm, n ? s : "", n));
    qbuf b;
    buf_init(&b);
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (len && len <= n - i && utf8_valid(s + i, len)) {
            buf_append(&b, s + i, len);
            i += len;
        } else {
            buf_puts(&b, "\xEF\xBF\xBD");
            i++;
        }
    }
    return qv_obj(buf_to_str(vm, &b));
}

static proc_result *result_self(qvm *vm, qval self)
{
    return cdata_get(vm, self, &result_class);
}

static qval result_stdout(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    proc_result *r = result_self(vm, self);
    return r ? proc_text(vm, r->out.data, r->out.len) : qv_exc();
}

static qval result_stderr(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    proc_result *r = result_self(vm, self);
    return r ? proc_text(vm, r->err.data, r->err.len) : qv_exc();
}

static qval result_stdout_bytes(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    proc_result *r = result_self(vm, self);
    return r ? qv_obj(bytes_new(vm, r->out.data ? r->out.data : "", r->out.len)) : qv_exc();
}

static qval result_stderr_bytes(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    proc_result *r = result_self(vm, self);
    return r ? qv_obj(bytes_new(vm, r->err.data ? r->err.data : "", r->err.len)) : qv_exc();
}

static qval result_code(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    proc_result *r = result_self(vm, self);
    return r ? qv_int(r->code) : qv_exc();
}

static qval result_success(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    proc_result *r = result_self(vm, self);
    return r ? qv_bool(r->code == 0) : qv_exc();
}

static qval result_str(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    proc_result *r = result_self(vm, self);
    return r ? qv_obj(str_printf(vm, "<ProcessResult code=%d>", r->code)) : qv_exc();
}

/* A result holding the child's buffered output (taken over) and code. */
static qval result_new(qvm *vm, proc_state *st, proc_child *c)
{
    proc_result *r = malloc(sizeof *r);
    if (!r)
        return vm_raise(vm, E_RUNTIME, "std/process: out of memory");
    r->out = c->out[0].buf;
    r->err = c->out[1].buf;
    r->code = c->code;
    buf_init(&c->out[0].buf);
    buf_init(&c->out[1].buf);
    return qv_obj(cdata_new(vm, st->types[PT_RESULT], &result_class, r));
}

/* ---- options and commands ------------------------------------------------------------------------ */

typedef struct proc_opts {
    const char *cwd;
    char **envp;           /* malloc'd, NULL: ours */
    const char *input;     /* stdin data, or NULL */
    size_t input_len;
    double timeout;        /* seconds, < 0: none */
} proc_opts;

static void proc_opts_free(proc_opts *o)
{
    if (o->envp) {
        for (char **e = o->envp; *e; e++)
            free(*e);
        free(o->envp);
    }
}

/* A Str with no NUL inside, usable as a C string. */
static bool proc_cstr(qvm *vm, const char *fname, const char *what, qval v, const char **out)
{
    if (!IS_STR(v)) {
        vm_raise(vm, E_TYPE, "%s %s must be Str, got %s", fname, what, vm_cls_name(v));
        return false;
    }
    if (strlen(AS_STR(v)->data) != AS_STR(v)->len) {
        vm_raise(vm, E_VALUE, "%s %s must not contain NUL characters", fname, what);
        return false;
    }
    *out = AS_STR(v)->data;
    return true;
}

static bool proc_env(qvm *vm, const char *fname, qval v, proc_opts *o)
{
    if (!IS_DICT(v)) {
        vm_raise(vm, E_TYPE, "%s env option must be dict, got %s", fname, vm_cls_name(v));
        return false;
    }
    qdict *d = AS_DICT(v);
    o->envp = calloc(d->count + 1, sizeof *o->envp);
    if (!o->envp) {
        vm_raise(vm, E_RUNTIME, "std/process: out of memory");
        return false;
    }
    size_t n = 0;
    for (uint32_t i = 0; i < d->used; i++) {
        const char *val;
        qstr *key = d->entries[i].key;
        if (!key)
            continue;
        if (!proc_cstr(vm, fname, "env values", d->entries[i].val, &val))
            return false;
        if (key->len == 0 || strchr(key->data, '=') || strlen(key->data) != key->len) {
            vm_raise(vm, E_VALUE, "%s env: invalid variable name '%s'", fname, key->data);
            return false;
        }
        size_t len = key->len + strlen(val) + 2;
        if (!(o->envp[n] = malloc(len))) {
            vm_raise(vm, E_RUNTIME, "std/process: out of memory");
            return false;
        }
        snprintf(o->envp[n++], len, "%s=%s", key->data, val);
    }
    return true;
}

static bool proc_timeout(qvm *vm, const char *fname, qval v, double *out)
{
    if (!IS_NUM(v)) {
        vm_raise(vm, E_TYPE, "%s timeout option must be int or float (seconds), got %s", fname, vm_cls_name(v));
        return false;
    }
    *out = IS_INT(v) ? (double)v.as.i : v.as.f;
    if (!(*out > 0) || *out > 1e9) {
        vm_raise(vm, E_VALUE, "timeout must be positive number of seconds");
        return false;
    }
    return true;
}

/* Read the options dict (argv[at], if given).  Unknown keys are ignored. */
static bool proc_options(qvm *vm, const char *fname, int argc, qval *argv, int at, proc_opts *o)
{
    memset(o, 0, sizeof *o);
    o->timeout = -1;
    if (argc <= at || IS_NIL(argv[at]))
        return true;
    if (!IS_DICT(argv[at])) {
        vm_raise(vm, E_TYPE, "%s options must be dict, got %s", fname, vm_cls_name(argv[at]));
        return false;
    }
    qdict *d = AS_DICT(argv[at]);
    qval v;
    if (dict_get_cstr(d, "cwd", &v)) {
        struct stat st;
        if (!proc_cstr(vm, fname, "cwd option", v, &o->cwd))
            return false;
        if (stat(o->cwd, &st) != 0 || !S_ISDIR(st.st_mode)) {
            vm_raise(vm, E_IO, "%s: cwd '%s' is not a directory", fname, o->cwd);
            return false;
        }
    }
    if (dict_get_cstr(d, "env", &v) && !proc_env(vm, fname, v, o))
        return false;
    if (dict_get_cstr(d, "stdin", &v) && !IS_NIL(v)) {
        if (IS_STR(v)) {
            o->input = AS_STR(v)->data;
            o->input_len = AS_STR(v)->len;
        } else if (IS_BYTES(v)) {
            o->input = (const char *)AS_BYTES(v)->data;
            o->input_len = AS_BYTES(v)->len;
        } else {
            vm_raise(vm, E_TYPE, "%s stdin option must be string or bytes, got %s", fname, vm_cls_name(v));
            return false;
        }
    }
    if (dict_get_cstr(d, "timeout", &v) && !IS_NIL(v) && !proc_timeout(vm, fname, v, &o->timeout))
        return false;
    return true;
}

/* A command array as a NULL-terminated argv (pointing into the Strs). */
static char **proc_argv(qvm *vm, const char *fname, qval cmd)
{
    if (!IS_ARRAY(cmd)) {
        vm_raise(vm, E_TYPE, "%s expects array as first argument, got %s", fname, vm_cls_name(cmd));
        return NULL;
    }
    qarray *a = AS_ARRAY(cmd);
    if (a->len == 0) {
        vm_raise(vm, E_VALUE, "%s command array cannot be empty", fname);
        return NULL;
    }
    char **argv = calloc(a->len + 1, sizeof *argv);
    if (!argv) {
        vm_raise(vm, E_RUNTIME, "std/process: out of memory");
        return NULL;
    }
    for (uint32_t i = 0; i < a->len; i++) {
        if (!IS_STR(a->items[i])) {
            free(argv);
            vm_raise(vm, E_TYPE, "%s command must be array of strings, got %s at index %u", fname,
                     vm_cls_name(a->items[i]), i);
            return NULL;
        }
        if (!proc_cstr(vm, fname, "command arguments", a->items[i], (const char **)&argv[i])) {
            free(argv);
            return NULL;
        }
    }
    return argv;
}

static qval proc_spawn_failed(qvm *vm, const char *name, int err)
{
    return vm_raise(vm, E_IO, "Failed to spawn process '%s': %s", name, strerror(err));
}

static qval proc_timed_out(qvm *vm, double timeout)
{
    return vm_raise(vm, E_TIMEOUT, "Process exceeded timeout of %g seconds (it was killed)", timeout);
}

static int64_t proc_deadline(double timeout)
{
    return timeout < 0 ? -1 : proc_now_ms() + (int64_t)ceil(timeout * 1000);
}

/* Feed the input, collect both outputs, wait for the exit: 1 done, 0 out
 * of time, -1 failed. */
static int proc_complete(proc_child *c, const proc_opts *o, int64_t deadline)
{
    const char *data = o->input;
    size_t len = o->input_len;
    int rc = proc_pump(c, PUMP_WRITTEN, 0, &data, &len, deadline);
    if (rc == 1) {
        proc_close_stdin(c);
        rc = proc_pump(c, PUMP_OUTPUTS, 0, NULL, NULL, deadline);
    }
    return rc == 1 ? proc_pump(c, PUMP_EXIT, 0, NULL, NULL, deadline) : rc;
}

/* Run argv to completion under the options: a ProcessResult. */
static qval proc_execute(qvm *vm, proc_state *st, char **argv, const proc_opts *o)
{
    proc_spec spec = {argv, o->envp, o->cwd, o->input ? PROC_PIPE : PROC_INHERIT, PROC_PIPE, PROC_PIPE};
    proc_child *c;
    int err = proc_start(&spec, &c);
    if (err)
        return proc_spawn_failed(vm, argv[0], err);
    int rc = proc_complete(c, o, proc_deadline(o->timeout));
    qval r = rc == 1 ? result_new(vm, st, c)
           : rc == 0 ? proc_timed_out(vm, o->timeout)
                     : vm_raise(vm, E_IO, "Failed to wait for process '%s': %s", argv[0], strerror(errno));
    proc_release(c); /* kills it if it still runs (timeout) */
    return r;
}

static qval proc_run_named(qvm *vm, qval self, int argc, qval *argv, const char *fname)
{
    proc_opts o;
    char **args = proc_argv(vm, fname, argv[0]);
    if (!args)
        return qv_exc();
    qval r = proc_options(vm, fname, argc, argv, 1, &o) ? proc_execute(vm, AS_CDATA(self)->data, args, &o)
                                                       : qv_exc();
    proc_opts_free(&o);
    free(args);
    return r;
}

/* ---- module functions ------------------------------------------------------------------------------ */

static qval process_run(qvm *vm, qval self, int argc, qval *argv)
{
    return proc_run_named(vm, self, argc, argv, "process.run");
}

static qval process_check_run(qvm *vm, qval self, int argc, qval *argv)
{
    qval r = proc_run_named(vm, self, argc, argv, "process.check_run");
    if (IS_EXC(r))
        return r;
    proc_result *res = AS_CDATA(r)->data;
    if (res->code == 0)
        return proc_text(vm, res->out.data, res->out.len);
    qstr *out = AS_STR(proc_text(vm, res->out.data, res->out.len < 100 ? res->out.len : 100));
    qstr *err = AS_STR(proc_text(vm, res->err.data, res->err.len < 100 ? res->err.len : 100));
    return vm_raise(vm, E_RUNTIME, "Command failed with exit code %d. stdout=%s%s, stderr=%s%s", res->code,
                    out->data, res->out.len > 100 ? "..." : "", err->data, res->err.len > 100 ? "..." : "");
}

static qval process_shell(qvm *vm, qval self, int argc, qval *argv)
{
    const char *line;
    if (!proc_cstr(vm, "process.shell", "command", argv[0], &line))
        return qv_exc();
    proc_opts o;
    char *args[] = {"sh", "-c", (char *)line, NULL};
    qval r = proc_options(vm, "process.shell", argc, argv, 1, &o)
                 ? proc_execute(vm, AS_CDATA(self)->data, args, &o)
                 : qv_exc();
    proc_opts_free(&o);
    return r;
}

/* The stages of a pipeline, started left to right: each one's stdout is
 * the next one's stdin; all share one stderr pipe, which (like the last
 * stdout, and the first stdin when input is given) belongs to the last
 * stage's proc_child, so one pump serves the whole pipeline. */
typedef struct proc_line {
    proc_child **kids;
    uint32_t n;
} proc_line;

static void proc_line_free(proc_line *l)
{
    for (uint32_t i = 0; i < l->n; i++)
        if (l->kids[i])
            proc_release(l->kids[i]);
    free(l->kids);
}

static int proc_line_start(proc_line *l, char ***argvs, const proc_opts *o, uint32_t *failed)
{
    int errp[2], prev = -1, err = 0;
    if (pipe2(errp, O_CLOEXEC) != 0)
        return errno;
    for (uint32_t i = 0; i < l->n && !err; i++) {
        int link[2] = {-1, -1};
        bool last = i + 1 == l->n;
        if (!last && pipe2(link, O_CLOEXEC) != 0) {
            err = errno;
            break;
        }
        int in = i > 0 ? prev : o->input ? PROC_PIPE : PROC_INHERIT;
        proc_spec spec = {argvs[i], o->envp, o->cwd, in, last ? PROC_PIPE : link[1], errp[1]};
        err = proc_start(&spec, &l->kids[i]);
        *failed = i;
        if (prev >= 0)
            close(prev);
        if (link[1] >= 0)
            close(link[1]);
        prev = link[0];
    }
    if (prev >= 0 && err)
        close(prev);
    close(errp[1]);
    if (err) {
        close(errp[0]);
        return err;
    }
    proc_child *tail = l->kids[l->n - 1];
    tail->out[1].fd = errp[0];
    tail->out[1].eof = false;
    fcntl(errp[0], F_SETFL, fcntl(errp[0], F_GETFL) | O_NONBLOCK);
    if (l->n > 1) { /* the first stage's stdin moves to the tail */
        tail->in_fd = l->kids[0]->in_fd;
        l->kids[0]->in_fd = -1;
    }
    return 0;
}

/* pipeline([cmd1, cmd2, ...], options?) */
static qval process_pipeline(qvm *vm, qval self, int argc, qval *argv)
{
    qarray *cmds;
    if (!arg_array(vm, "process.pipeline", argv[0], &cmds))
        return qv_exc();
    if (cmds->len == 0)
        return vm_raise(vm, E_VALUE, "pipeline must have at least one command");
    proc_opts o;
    proc_line l = {calloc(cmds->len, sizeof(proc_child *)), cmds->len};
    char ***argvs = calloc(cmds->len, sizeof *argvs);
    qval r = qv_exc();
    uint32_t failed = 0, i = 0;
    if (!l.kids || !argvs) {
        r = vm_raise(vm, E_RUNTIME, "std/process: out of memory");
        goto done;
    }
    for (; i < cmds->len; i++)
        if (!(argvs[i] = proc_argv(vm, "process.pipeline", cmds->items[i])))
            goto done;
    if (!proc_options(vm, "process.pipeline", argc, argv, 1, &o))
        goto done_opts;
    int err = proc_line_start(&l, argvs, &o, &failed);
    if (err) {
        r = vm_raise(vm, E_IO, "Failed to spawn command %u ('%s'): %s", failed, argvs[failed][0], strerror(err));
        goto done_opts;
    }
    int64_t deadline = proc_deadline(o.timeout);
    proc_child *tail = l.kids[l.n - 1];
    int rc = proc_complete(tail, &o, deadline);
    for (uint32_t k = 0; rc == 1 && k + 1 < l.n; k++)
        rc = proc_pump(l.kids[k], PUMP_EXIT, 0, NULL, NULL, deadline);
    r = rc == 1 ? result_new(vm, AS_CDATA(self)->data, tail)
      : rc == 0 ? proc_timed_out(vm, o.timeout)
                : vm_raise(vm, E_IO, "Failed to wait for the pipeline: %s", strerror(errno));
done_opts:
    proc_opts_free(&o);
done:
    for (uint32_t k = 0; argvs && k < cmds->len; k++)
        free(argvs[k]);
    free(argvs);
    if (l.kids)
        proc_line_free(&l);
    return r;
}

/* ---- Process and its streams ---------------------------------------------------------------------- */

typedef struct proc_obj {
    proc_child *c;
    qval streams[3]; /* stdin, stdout, stderr */
} proc_obj;

typedef struct proc_stream {
    proc_child *c;
    int which; /* output streams: 0 stdout, 1 stderr */
} proc_stream;

static void proc_obj_free(void *p)
{
    proc_release(((proc_obj *)p)->c);
    free(p);
}

static void proc_obj_mark(qvm *vm, void *p)
{
    for (int i = 0; i < 3; i++)
        vm_mark_value(vm, ((proc_obj *)p)->streams[i]);
}

static void proc_stream_free(void *p)
{
    proc_release(((proc_stream *)p)->c);
    free(p);
}

static const qcdata_class process_class = {"Process", proc_obj_free, proc_obj_mark, NULL};
static const qcdata_class wstream_class = {"WritableStream", proc_stream_free, NULL, NULL};
static const qcdata_class rstream_class = {"ReadableStream", proc_stream_free, NULL, NULL};

static qval proc_stream_new(qvm *vm, qtype *t, const qcdata_class *cls, proc_child *c, int which)
{
    proc_stream *s = malloc(sizeof *s);
    if (!s)
        return vm_raise(vm, E_RUNTIME, "std/process: out of memory");
    *s = (proc_stream){c, which};
    c->refs++;
    return qv_obj(cdata_new(vm, t, cls, s));
}

/* spawn(cmd, options?): all three streams piped. */
static qval process_spawn(qvm *vm, qval self, int argc, qval *argv)
{
    proc_state *st = AS_CDATA(self)->data;
    proc_opts o;
    char **args = proc_argv(vm, "process.spawn", argv[0]);
    if (!args)
        return qv_exc();
    if (!proc_options(vm, "process.spawn", argc, argv, 1, &o)) {
        free(args);
        proc_opts_free(&o);
        return qv_exc();
    }
    proc_spec spec = {args, o.envp, o.cwd, PROC_PIPE, PROC_PIPE, PROC_PIPE};
    proc_child *c;
    int err = proc_start(&spec, &c);
    proc_opts_free(&o);
    if (err) {
        qval r = proc_spawn_failed(vm, args[0], err);
        free(args);
        return r;
    }
    free(args);
    proc_obj *p = malloc(sizeof *p);
    if (!p) {
        proc_release(c);
        return vm_raise(vm, E_RUNTIME, "std/process: out of memory");
    }
    p->c = c;
    p->streams[0] = p->streams[1] = p->streams[2] = qv_nil();
    qcdata *obj = cdata_new(vm, st->types[PT_PROCESS], &process_class, p);
    p->streams[0] = proc_stream_new(vm, st->types[PT_WSTREAM], &wstream_class, c, 0);
    p->streams[1] = proc_stream_new(vm, st->types[PT_RSTREAM], &rstream_class, c, 0);
    p->streams[2] = proc_stream_new(vm, st->types[PT_RSTREAM], &rstream_class, c, 1);
    for (int i = 0; i < 3; i++)
        if (IS_EXC(p->streams[i]))
            return qv_exc();
    return qv_obj(obj);
}

static proc_obj *proc_self(qvm *vm, qval self)
{
    return cdata_get(vm, self, &process_class);
}

/* proc.stdin, proc.stdout, proc.stderr (properties). */
static qval proc_get_stdin(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    proc_obj *p = proc_self(vm, self);
    return p ? p->streams[0] : qv_exc();
}

static qval proc_get_stdout(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    proc_obj *p = proc_self(vm, self);
    return p ? p->streams[1] : qv_exc();
}

static qval proc_get_stderr(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    proc_obj *p = proc_self(vm, self);
    return p ? p->streams[2] : qv_exc();
}

static qval proc_wait_failed(qvm *vm)
{
    return vm_raise(vm, E_IO, "Failed to wait for process: %s", strerror(errno));
}

/* wait(): block until it exits (draining its output meanwhile); its code. */
static qval proc_wait(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    proc_obj *p = proc_self(vm, self);
    if (!p)
        return qv_exc();
    return proc_pump(p->c, PUMP_EXIT, 0, NULL, NULL, -1) == 1 ? qv_int(p->c->code) : proc_wait_failed(vm);
}

/* wait_with_timeout(seconds): its code, or nil if still running then. */
static qval proc_wait_with_timeout(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    proc_obj *p = proc_self(vm, self);
    double secs;
    if (!p || !proc_timeout(vm, "wait_with_timeout", argv[0], &secs))
        return qv_exc();
    int rc = proc_pump(p->c, PUMP_EXIT, 0, NULL, NULL, proc_deadline(secs));
    return rc == 1 ? qv_int(p->c->code) : rc == 0 ? qv_nil() : proc_wait_failed(vm);
}

/* poll(): its code if it has exited, else nil; never blocks. */
static qval proc_poll(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    proc_obj *p = proc_self(vm, self);
    if (!p)
        return qv_exc();
    return proc_check_exit(p->c) ? qv_int(p->c->code) : qv_nil();
}

static qval proc_pid(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    proc_obj *p = proc_self(vm, self);
    return p ? qv_int(p->c->pid) : qv_exc();
}

/* Send sig unless it has been reaped (its pid may then be someone else's). */
static qval proc_signal(qvm *vm, qval self, int sig, bool must_run)
{
    proc_obj *p = proc_self(vm, self);
    if (!p)
        return qv_exc();
    if (proc_check_exit(p->c)) {
        if (must_run)
            return vm_raise(vm, E_RUNTIME, "Process already exited");
        return qv_nil();
    }
    if (kill(p->c->pid, sig) != 0)
        return vm_raise(vm, E_RUNTIME, "Failed to signal process: %s", strerror(errno));
    return qv_nil();
}

static qval proc_kill(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return proc_signal(vm, self, SIGKILL, false);
}

static qval proc_terminate(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return proc_signal(vm, self, SIGTERM, false);
}

/* send_signal("SIGINT" / "INT" / number) */
static qval proc_send_signal(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    static const struct { const char *name; int sig; } signals[] = {
        {"INT", SIGINT}, {"TERM", SIGTERM}, {"KILL", SIGKILL}, {"HUP", SIGHUP}, {"QUIT", SIGQUIT},
        {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"STOP", SIGSTOP}, {"CONT", SIGCONT},
    };
    if (IS_INT(argv[0])) {
        if (argv[0].as.i < 0 || argv[0].as.i > 64)
            return vm_raise(vm, E_VALUE, "Unknown signal: %lld", (long long)argv[0].as.i);
        return proc_signal(vm, self, (int)argv[0].as.i, true);
    }
    if (!IS_STR(argv[0]))
        return vm_raise(vm, E_TYPE, "send_signal expects string or int argument, got %s", vm_cls_name(argv[0]));
    const char *name = AS_STR(argv[0])->data;
    const char *bare = strncasecmp(name, "SIG", 3) == 0 ? name + 3 : name;
    for (size_t i = 0; i < sizeof signals / sizeof *signals; i++)
        if (strcasecmp(bare, signals[i].name) == 0)
            return proc_signal(vm, self, signals[i].sig, true);
    return vm_raise(vm, E_VALUE, "Unknown signal: %s", name);
}

/* The text or bytes of a Str/Bytes argument. */
static bool proc_data(qvm *vm, const char *fname, qval v, const char **data, size_t *len)
{
    if (IS_STR(v)) {
        *data = AS_STR(v)->data;
        *len = AS_STR(v)->len;
    } else if (IS_BYTES(v)) {
        *data = (const char *)AS_BYTES(v)->data;
        *len = AS_BYTES(v)->len;
    } else {
        vm_raise(vm, E_TYPE, "%s expects string or bytes, got %s", fname, vm_cls_name(v));
        return false;
    }
    return true;
}

/* communicate(input, timeout?): feed input, close stdin, read everything,
 * wait: {"stdout": Str, "stderr": Str, "code": Int}. */
static qval proc_communicate(qvm *vm, qval self, int argc, qval *argv)
{
    proc_obj *p = proc_self(vm, self);
    proc_opts o;
    memset(&o, 0, sizeof o);
    o.timeout = -1;
    if (!p || !proc_data(vm, "communicate", argv[0], &o.input, &o.input_len) ||
        (argc > 1 && !IS_NIL(argv[1]) && !proc_timeout(vm, "communicate", argv[1], &o.timeout)))
        return qv_exc();
    int rc = proc_complete(p->c, &o, proc_deadline(o.timeout));
    if (rc == 0) {
        kill(p->c->pid, SIGKILL);
        proc_pump(p->c, PUMP_EXIT, 0, NULL, NULL, -1);
        return proc_timed_out(vm, o.timeout);
    }
    if (rc < 0)
        return proc_wait_failed(vm);
    qdict *d = dict_new(vm);
    for (int k = 0; k < 2; k++) {
        qbuf *b = &p->c->out[k].buf;
        dict_set_cstr(vm, d, k ? "stderr" : "stdout", proc_text(vm, b->data, b->len));
        b->len = 0;
    }
    dict_set_cstr(vm, d, "code", qv_int(p->c->code));
    return qv_obj(d);
}

static qval proc_enter(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return proc_self(vm, self) ? self : qv_exc();
}

/* The end of a `with` block: close its stdin and wait for it. */
static qval proc_exit(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    proc_obj *p = proc_self(vm, self);
    if (!p)
        return qv_exc();
    proc_close_stdin(p->c);
    return proc_pump(p->c, PUMP_EXIT, 0, NULL, NULL, -1) == 1 ? qv_nil() : proc_wait_failed(vm);
}

static qval proc_str(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    proc_obj *p = proc_self(vm, self);
    return p ? qv_obj(str_printf(vm, "<Process pid=%d>", (int)p->c->pid)) : qv_exc();
}

/* ---- WritableStream (stdin) -------------------------------------------------------------------------- */

static proc_child *wstream_open(qvm *vm, qval self)
{
    proc_stream *s = cdata_get(vm, self, &wstream_class);
    if (s && s->c->in_fd < 0) {
        vm_raise(vm, E_RUNTIME, "stdin is closed");
        return NULL;
    }
    return s ? s->c : NULL;
}

/* Write all of data (draining the child's output meanwhile). */
static bool wstream_put(qvm *vm, proc_child *c, const char *data, size_t len)
{
    if (proc_pump(c, PUMP_WRITTEN, 0, &data, &len, -1) < 0) {
        vm_raise(vm, E_IO, "Failed to write to stdin: %s", strerror(errno));
        return false;
    }
    if (c->in_fd < 0) {
        vm_raise(vm, E_IO, "Failed to write to stdin: %s", strerror(EPIPE));
        return false;
    }
    return true;
}

static qval wstream_write(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    proc_child *c = wstream_open(vm, self);
    const char *data;
    size_t len;
    if (!c || !proc_data(vm, "write", argv[0], &data, &len) || !wstream_put(vm, c, data, len))
        return qv_exc();
    return qv_int((int64_t)len);
}

static qval wstream_writelines(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    proc_child *c = wstream_open(vm, self);
    qarray *lines;
    if (!c || !arg_array(vm, "writelines", argv[0], &lines))
        return qv_exc();
    for (uint32_t i = 0; i < lines->len; i++) {
        if (!IS_STR(lines->items[i]))
            return vm_raise(vm, E_TYPE, "writelines array must contain strings, got %s",
                            vm_cls_name(lines->items[i]));
        if (!wstream_put(vm, c, AS_STR(lines->items[i])->data, AS_STR(lines->items[i])->len))
            return qv_exc();
    }
    return qv_nil();
}

static qval wstream_close(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    proc_stream *s = cdata_get(vm, self, &wstream_class);
    if (!s)
        return qv_exc();
    proc_close_stdin(s->c);
    return qv_nil();
}

/* Writes are unbuffered: flush has nothing to do. */
static qval wstream_flush(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return cdata_get(vm, self, &wstream_class) ? qv_nil() : qv_exc();
}

/* ---- ReadableStream (stdout, stderr) ------------------------------------------------------------------ */

static proc_stream *rstream_self(qvm *vm, qval self)
{
    return cdata_get(vm, self, &rstream_class);
}

/* Remove and return the first n buffered bytes, as text or Bytes. */
static qval rstream_take(qvm *vm, proc_pipe *p, size_t n, bool bytes)
{
    if (n > p->buf.len)
        n = p->buf.len;
    const char *data = n ? p->buf.data : "";
    qval r = bytes ? qv_obj(bytes_new(vm, data, n)) : proc_text(vm, data, n);
    if (n) {
        memmove(p->buf.data, p->buf.data + n, p->buf.len - n);
        p->buf.len -= n;
    }
    return r;
}

/* read() / read_bytes(): everything to the end; with n, up to n bytes
 * (waiting only until some are there). */
static qval rstream_read_any(qvm *vm, qval self, int argc, qval *argv, bool bytes, const char *fname)
{
    proc_stream *s = rstream_self(vm, self);
    int64_t n = -1;
    if (!s || (argc > 0 && !arg_int(vm, fname, argv[0], &n)))
        return qv_exc();
    if (argc > 0 && n < 0)
        return vm_raise(vm, E_VALUE, "%s size must not be negative", fname);
    if (proc_pump(s->c, n < 0 ? PUMP_EOF : PUMP_SOME, s->which, NULL, NULL, -1) < 0)
        return vm_raise(vm, E_IO, "Failed to read from stream: %s", strerror(errno));
    proc_pipe *p = &s->c->out[s->which];
    return rstream_take(vm, p, n < 0 ? p->buf.len : (size_t)n, bytes);
}

static qval rstream_read(qvm *vm, qval self, int argc, qval *argv)
{
    return rstream_read_any(vm, self, argc, argv, false, "read");
}

static qval rstream_read_bytes(qvm *vm, qval self, int argc, qval *argv)
{
    return rstream_read_any(vm, self, argc, argv, true, "read_bytes");
}

/* The next line with its "\n" ("" at the end); false after raising. */
static bool rstream_line(qvm *vm, proc_stream *s, qval *out)
{
    if (proc_pump(s->c, PUMP_LINE, s->which, NULL, NULL, -1) < 0) {
        vm_raise(vm, E_IO, "Failed to read line: %s", strerror(errno));
        return false;
    }
    proc_pipe *p = &s->c->out[s->which];
    const char *nl = p->buf.len ? memchr(p->buf.data, '\n', p->buf.len) : NULL;
    *out = rstream_take(vm, p, nl ? (size_t)(nl - p->buf.data) + 1 : p->buf.len, false);
    return true;
}

static qval rstream_readline(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    proc_stream *s = rstream_self(vm, self);
    qval line;
    return s && rstream_line(vm, s, &line) ? line : qv_exc();
}

static qval rstream_readlines(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    proc_stream *s = rstream_self(vm, self);
    if (!s)
        return qv_exc();
    qarray *lines = arr_new(vm, 0);
    qval line;
    for (;;) {
        if (!rstream_line(vm, s, &line))
            return qv_exc();
        if (AS_STR(line)->len == 0)
            break;
        arr_push(vm, lines, line);
    }
    return qv_obj(lines);
}

/* read_nonblocking(size = 1024, timeout = 0): what arrives within timeout
 * seconds, up to size bytes; "" if nothing did. */
static qval rstream_read_nonblocking(qvm *vm, qval self, int argc, qval *argv)
{
    proc_stream *s = rstream_self(vm, self);
    int64_t size = 1024;
    double timeout = 0;
    if (!s || (argc > 0 && !arg_int(vm, "read_nonblocking", argv[0], &size)) ||
        (argc > 1 && !arg_num(vm, "read_nonblocking", argv[1], &timeout)))
        return qv_exc();
    if (size < 0 || !(timeout >= 0) || timeout > 1e9)
        return vm_raise(vm, E_VALUE, "read_nonblocking expects a size >= 0 and a timeout >= 0");
    if (proc_pump(s->c, PUMP_SOME, s->which, NULL, NULL, proc_deadline(timeout)) < 0)
        return vm_raise(vm, E_IO, "Read error: %s", strerror(errno));
    return rstream_take(vm, &s->c->out[s->which], (size_t)size, false);
}

static qval rstream_str(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return rstream_self(vm, self) ? qv_obj(str_cstr(vm, "<ReadableStream>")) : qv_exc();
}

static qval wstream_str(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return cdata_get(vm, self, &wstream_class) ? qv_obj(str_cstr(vm, "<WritableStream>")) : qv_exc();
}

/* ---- tables ---------------------------------------------------------------------------------------------- */

#define PROC_END {NULL, NULL, 0, 0, false}

static const qmethod_def result_methods[] = {
    {"stdout", result_stdout, 0, 0, false},
    {"stderr", result_stderr, 0, 0, false},
    {"stdout_bytes", result_stdout_bytes, 0, 0, false},
    {"stderr_bytes", result_stderr_bytes, 0, 0, false},
    {"code", result_code, 0, 0, false},
    {"success", result_success, 0, 0, false},
    {"str", result_str, 0, 0, false},
    {"_str", result_str, 0, 0, false},
    {"_rep", result_str, 0, 0, false},
    PROC_END,
};

static const qmethod_def process_methods[] = {
    {"wait", proc_wait, 0, 0, false},
    {"wait_with_timeout", proc_wait_with_timeout, 1, 1, false},
    {"poll", proc_poll, 0, 0, false},
    {"pid", proc_pid, 0, 0, false},
    {"kill", proc_kill, 0, 0, false},
    {"terminate", proc_terminate, 0, 0, false},
    {"send_signal", proc_send_signal, 1, 1, false},
    {"communicate", proc_communicate, 1, 2, false},
    {"_enter", proc_enter, 0, 0, false},
    {"_exit", proc_exit, 0, 0, false},
    {"str", proc_str, 0, 0, false},
    {"_str", proc_str, 0, 0, false},
    {"_rep", proc_str, 0, 0, false},
    PROC_END,
};

/* Properties: natives in the statics table act as getters. */
static const qmethod_def process_properties[] = {
    {"stdin", proc_get_stdin, 0, 0, false},
    {"stdout", proc_get_stdout, 0, 0, false},
    {"stderr", proc_get_stderr, 0, 0, false},
    PROC_END,
};

static const qmethod_def wstream_methods[] = {
    {"write", wstream_write, 1, 1, false},
    {"writelines", wstream_writelines, 1, 1, false},
    {"close", wstream_close, 0, 0, false},
    {"flush", wstream_flush, 0, 0, false},
    {"str", wstream_str, 0, 0, false},
    {"_str", wstream_str, 0, 0, false},
    {"_rep", wstream_str, 0, 0, false},
    PROC_END,
};

static const qmethod_def rstream_methods[] = {
    {"read", rstream_read, 0, 1, false},
    {"read_bytes", rstream_read_bytes, 0, 1, false},
    {"readline", rstream_readline, 0, 0, false},
    {"readlines", rstream_readlines, 0, 0, false},
    {"read_nonblocking", rstream_read_nonblocking, 0, 2, false},
    {"str", rstream_str, 0, 0, false},
    {"_str", rstream_str, 0, 0, false},
    {"_rep", rstream_str, 0, 0, false},
    PROC_END,
};

static const qmethod_def process_functions[] = {
    {"run", process_run, 1, 2, false},
    {"check_run", process_check_run, 1, 2, false},
    {"shell", process_shell, 1, 2, false},
    {"pipeline", process_pipeline, 1, 2, false},
    {"spawn", process_spawn, 1, 2, false},
    PROC_END,
};

bool process_module_init(qvm *vm, qmodule *m)
{
    proc_state *st = calloc(1, sizeof *st);
    if (!st) {
        vm_raise(vm, E_RUNTIME, "std/process: out of memory");
        return false;
    }
    st->types[PT_RESULT] = vm_new_cdata_type(vm, "ProcessResult", result_methods);
    st->types[PT_PROCESS] = vm_new_cdata_type(vm, "Process", process_methods);
    vm_add_statics(vm, st->types[PT_PROCESS], process_properties);
    st->types[PT_WSTREAM] = vm_new_cdata_type(vm, "WritableStream", wstream_methods);
    st->types[PT_RSTREAM] = vm_new_cdata_type(vm, "ReadableStream", rstream_methods);
    qcdata *state = cdata_new(vm, vm_new_cdata_type(vm, "ProcessModule", NULL), &proc_state_class, st);
    for (const qmethod_def *d = process_functions; d->name; d++) {
        qnative *fn = native_new(vm, d->name, d->fn, d->min_args, d->max_args);
        fn->bound = qv_obj(state);
        module_export(vm, m, d->name, qv_obj(fn));
    }
    module_export(vm, m, "Process", qv_obj(st->types[PT_PROCESS]));
    module_export(vm, m, "ProcessResult", qv_obj(st->types[PT_RESULT]));
    return true;
}
