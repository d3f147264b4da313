/* io_file.c — open files: io.open(path, mode) returns a File with read,
 * write, line and position methods that works as a context manager
 * (`with io.open(p, "w") as f ... end` closes it), io.with_file,
 * io.temp_file, the standard streams io.stdin / io.stdout / io.stderr and
 * io.read_line.
 *
 * Text read from a file must be UTF-8 (ValueErr otherwise); a read of n
 * bytes is extended to the end of a character it would cut.  io.stdout and
 * io.stderr write through the VM's streams, so sys.redirect_stream applies
 * to them.  A File that is garbage collected while open is closed then.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "modules/io.h"

typedef enum { IOF_NONE, IOF_READ, IOF_WRITE } iof_op;

typedef struct io_file {
    FILE *fp;         /* NULL once closed */
    int stream;       /* 1, 2: the VM's stdout/stderr (fp unused); 0 otherwise */
    bool std;         /* a standard stream: close() leaves the descriptor open */
    bool readable, writable;
    iof_op last;      /* stdio needs a seek or flush between reads and writes */
    char *path;
    char mode[3];
} io_file;

static void iof_finalize(void *p)
{
    io_file *f = p;
    if (f->fp && !f->std)
        fclose(f->fp);
    free(f->path);
    free(f);
}

static const qcdata_class iof_class = {"File", iof_finalize, NULL, NULL};

static io_file *iof_new(const char *path, const char *mode)
{
    io_file *f = calloc(1, sizeof *f);
    if (!f || !(f->path = strdup(path))) {
        free(f);
        return NULL;
    }
    snprintf(f->mode, sizeof f->mode, "%s", mode);
    f->readable = mode[0] == 'r' || mode[1] == '+';
    f->writable = mode[0] != 'r' || mode[1] == '+';
    return f;
}

/* The open file behind self, ready for a read or a write; NULL after raising. */
static io_file *iof_get(qvm *vm, qval self, iof_op op)
{
    io_file *f = cdata_get(vm, self, &iof_class);
    if (!f)
        return NULL;
    if (!f->fp && !f->stream) {
        vm_raise(vm, E_IO, "File '%s' is closed", f->path);
        return NULL;
    }
    if (op == IOF_READ && !f->readable) {
        vm_raise(vm, E_IO, "File '%s' is not open for reading", f->path);
        return NULL;
    }
    if (op == IOF_WRITE && !f->writable) {
        vm_raise(vm, E_IO, "File '%s' is not open for writing", f->path);
        return NULL;
    }
    if (f->fp && op != IOF_NONE && f->last != IOF_NONE && f->last != op)
        fseek(f->fp, 0, SEEK_CUR); /* switch direction (C11 7.21.5.3) */
    f->last = op;
    return f;
}

static qval iof_io_error(qvm *vm, io_file *f, const char *what)
{
    return vm_raise(vm, E_IO, "Failed to %s '%s': %s", what, f->path, strerror(errno));
}

/* Bytes read from the file as a Str (or ValueErr when not UTF-8). */
static qval iof_text(qvm *vm, io_file *f, qbuf *b)
{
    if (!utf8_valid(b->data ? b->data : "", b->len)) {
        buf_free(b);
        return vm_raise(vm, E_VALUE, "File '%s' is not valid UTF-8", f->path);
    }
    return qv_obj(buf_to_str(vm, b));
}

/* ---- opening ------------------------------------------------------------------- */

static bool iof_valid_mode(const char *m)
{
    static const char *const modes[] = {"r", "w", "a", "r+", "w+", "a+"};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        if (strcmp(m, modes[i]) == 0)
            return true;
    return false;
}

/* A File object for path opened with mode, or qv_exc(). */
static qval iof_open(qvm *vm, qtype *t, const char *path, const char *mode)
{
    if (!iof_valid_mode(mode))
        return vm_raise(vm, E_VALUE, "Invalid file mode '%s' (use r, w, a, r+, w+ or a+)", mode);
    io_file *f = iof_new(path, mode);
    if (!f)
        return vm_raise(vm, E_RUNTIME, "io.open: out of memory");
    char how[4];
    snprintf(how, sizeof how, "%se", mode); /* e: close on exec */
    f->fp = fopen(path, how);
    if (!f->fp) {
        qval r = vm_raise(vm, E_IO, "Failed to open file '%s': %s", path, strerror(errno));
        iof_finalize(f);
        return r;
    }
    return qv_obj(cdata_new(vm, t, &iof_class, f));
}

/* io.open(path, mode = "r") */
static qval iof_open_fn(qvm *vm, qval self, int argc, qval *argv)
{
    qstr *path, *mode = NULL;
    if (!arg_str(vm, "io.open", argv[0], &path) ||
        (argc > 1 && !arg_str(vm, "io.open", argv[1], &mode)))
        return qv_exc();
    return iof_open(vm, AS_TYPE(self), path->data, mode ? mode->data : "r");
}

static void iof_close(io_file *f, bool *ok)
{
    if (f->fp && !f->std)
        *ok = fclose(f->fp) == 0;
    else if (f->fp && f->writable)
        *ok = fflush(f->fp) == 0;
    if (!f->std)
        f->fp = NULL;
}

/* io.with_file(path, mode, fn): fn(file) with the file closed afterwards,
 * even when fn raises; returns what fn returns. */
static qval iof_with_file(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qstr *path, *mode;
    if (!arg_str(vm, "io.with_file", argv[0], &path) ||
        !arg_str(vm, "io.with_file", argv[1], &mode))
        return qv_exc();
    if (!vm_is_callable(argv[2]))
        return vm_raise(vm, E_TYPE, "io.with_file expects a function, got %s", vm_cls_name(argv[2]));
    qval file = iof_open(vm, AS_TYPE(self), path->data, mode->data);
    if (IS_EXC(file))
        return file;
    vm_push_root(vm, file);
    qval r = vm_call(vm, argv[2], 1, &file);
    bool ok = true;
    io_file *f = AS_CDATA(file)->data;
    iof_close(f, &ok);
    vm_pop_roots(vm, 1);
    if (!IS_EXC(r) && !ok)
        return vm_raise(vm, E_IO, "Failed to close '%s': %s", f->path, strerror(errno));
    return r;
}

/* io.temp_file(prefix = "quest"): a new file under $TMPDIR (or /tmp),
 * open for reading and writing; f.path() names it.  The caller removes it. */
static qval iof_temp_file(qvm *vm, qval self, int argc, qval *argv)
{
    qstr *prefix = NULL;
    if (argc > 0 && !arg_str(vm, "io.temp_file", argv[0], &prefix))
        return qv_exc();
    if (prefix && strchr(prefix->data, '/'))
        return vm_raise(vm, E_VALUE, "io.temp_file: the prefix must not contain '/'");
    const char *dir = getenv("TMPDIR");
    qstr *tmpl = str_printf(vm, "%s/%sXXXXXX", dir && *dir ? dir : "/tmp",
                            prefix ? prefix->data : "quest");
    io_file *f = iof_new(tmpl->data, "w+");
    if (!f)
        return vm_raise(vm, E_RUNTIME, "io.temp_file: out of memory");
    int fd = mkostemp(f->path, O_CLOEXEC);
    f->fp = fd >= 0 ? fdopen(fd, "w+") : NULL;
    if (!f->fp) {
        qval r = vm_raise(vm, E_IO, "Failed to create a file in '%s': %s",
                          dir && *dir ? dir : "/tmp", strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(f->path);
        }
        iof_finalize(f);
        return r;
    }
    return qv_obj(cdata_new(vm, AS_TYPE(self), &iof_class, f));
}

/* ---- reading ------------------------------------------------------------------------ */

/* Bytes still needed to complete the UTF-8 character that ends b. */
static size_t iof_missing(const qbuf *b)
{
    size_t i = b->len, back = 0;
    while (i > 0 && back < 4 && ((unsigned char)b->data[i - 1] & 0xC0) == 0x80)
        i--, back++;
    if (i == 0)
        return 0;
    unsigned char c = (unsigned char)b->data[i - 1];
    size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    return need > back + 1 ? need - back - 1 : 0;
}

/* read() the rest of the file; read(n) about n bytes (never half a character). */
static qval iof_read(qvm *vm, qval self, int argc, qval *argv)
{
    io_file *f = iof_get(vm, self, IOF_READ);
    int64_t n = -1;
    if (!f || (argc > 0 && !arg_int(vm, "File.read", argv[0], &n)))
        return qv_exc();
    if (argc > 0 && n < 0)
        return vm_raise(vm, E_VALUE, "File.read size must not be negative, got %lld", (long long)n);
    qbuf b;
    buf_init(&b);
    char chunk[65536];
    for (uint64_t left = argc > 0 ? (uint64_t)n : UINT64_MAX; left > 0;) {
        size_t want = left < sizeof chunk ? (size_t)left : sizeof chunk;
        size_t got = fread(chunk, 1, want, f->fp);
        buf_append(&b, chunk, got);
        if (argc > 0)
            left -= got;
        if (got < want)
            break;
    }
    for (size_t more = iof_missing(&b); more > 0; more--) {
        int c = getc(f->fp);
        if (c == EOF)
            break;
        buf_putc(&b, (char)c);
    }
    if (ferror(f->fp)) {
        buf_free(&b);
        clearerr(f->fp);
        return iof_io_error(vm, f, "read");
    }
    return iof_text(vm, f, &b);
}

/* The next line into b, "\n" included; false at the end of the file. */
static bool iof_getline(io_file *f, qbuf *b)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, f->fp);
    if (n > 0)
        buf_append(b, line, (size_t)n);
    free(line);
    return n > 0;
}

static size_t iof_strip_newline(const qbuf *b)
{
    size_t n = b->len;
    if (n > 0 && b->data[n - 1] == '\n')
        n--;
    if (n > 0 && b->data[n - 1] == '\r')
        n--;
    return n;
}

/* read_line(): the next line without its line ending; nil at the end. */
static qval iof_read_line(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    io_file *f = iof_get(vm, self, IOF_READ);
    if (!f)
        return qv_exc();
    qbuf b;
    buf_init(&b);
    if (!iof_getline(f, &b))
        return ferror(f->fp) ? iof_io_error(vm, f, "read") : qv_nil();
    b.len = iof_strip_newline(&b);
    return iof_text(vm, f, &b);
}

/* readline(): the next line with its "\n" (the last may lack it); "" at
 * the end, as StringIO.readline. */
static qval iof_readline(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    io_file *f = iof_get(vm, self, IOF_READ);
    if (!f)
        return qv_exc();
    qbuf b;
    buf_init(&b);
    if (!iof_getline(f, &b) && ferror(f->fp))
        return iof_io_error(vm, f, "read");
    return iof_text(vm, f, &b);
}

/* The remaining lines, with (readlines) or without (lines) their endings. */
static qval iof_all_lines(qvm *vm, qval self, bool keep_ends)
{
    io_file *f = iof_get(vm, self, IOF_READ);
    if (!f)
        return qv_exc();
    qarray *lines = arr_new(vm, 0);
    qbuf b;
    buf_init(&b);
    while (iof_getline(f, &b)) {
        if (!keep_ends)
            b.len = iof_strip_newline(&b);
        qval s = iof_text(vm, f, &b);
        if (IS_EXC(s))
            return s;
        arr_push(vm, lines, s);
        buf_init(&b);
    }
    buf_free(&b);
    return ferror(f->fp) ? iof_io_error(vm, f, "read") : qv_obj(lines);
}

static qval iof_lines(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return iof_all_lines(vm, self, false);
}

static qval iof_readlines(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return iof_all_lines(vm, self, true);
}

/* ---- writing ---------------------------------------------------------------------------- */

static qval iof_put(qvm *vm, io_file *f, const char *fname, qval v)
{
    const void *data;
    size_t len;
    if (IS_STR(v)) {
        data = AS_STR(v)->data;
        len = AS_STR(v)->len;
    } else if (IS_BYTES(v)) {
        data = AS_BYTES(v)->data;
        len = AS_BYTES(v)->len;
    } else {
        return vm_raise(vm, E_TYPE, "%s expects Str or Bytes, got %s", fname, vm_cls_name(v));
    }
    if (f->stream) {
        vm_write_stream(vm, f->stream, data, len);
        return qv_int((int64_t)len);
    }
    if (fwrite(data, 1, len, f->fp) != len)
        return iof_io_error(vm, f, "write to");
    return qv_int((int64_t)len);
}

/* write(text or bytes): the number of bytes written. */
static qval iof_write(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    io_file *f = iof_get(vm, self, IOF_WRITE);
    return f ? iof_put(vm, f, "File.write", argv[0]) : qv_exc();
}

/* writelines(array): each item written as it is (no newlines added). */
static qval iof_writelines(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    io_file *f = iof_get(vm, self, IOF_WRITE);
    qarray *items;
    if (!f || !arg_array(vm, "File.writelines", argv[0], &items))
        return qv_exc();
    for (uint32_t i = 0; i < items->len; i++)
        if (IS_EXC(iof_put(vm, f, "File.writelines", items->items[i])))
            return qv_exc();
    return qv_nil();
}

static qval iof_flush(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    io_file *f = iof_get(vm, self, IOF_NONE);
    if (!f)
        return qv_exc();
    if (f->fp && f->writable && fflush(f->fp) != 0)
        return iof_io_error(vm, f, "flush");
    return qv_nil();
}

/* ---- position, state, closing ------------------------------------------------------------- */

/* seek(offset, whence = 0): from the start (0), the position (1) or the
 * end (2).  Returns the new position. */
static qval iof_seek(qvm *vm, qval self, int argc, qval *argv)
{
    io_file *f = iof_get(vm, self, IOF_NONE);
    int64_t offset, whence = 0;
    if (!f || !arg_int(vm, "File.seek", argv[0], &offset) ||
        (argc > 1 && !arg_int(vm, "File.seek", argv[1], &whence)))
        return qv_exc();
    if (whence < 0 || whence > 2)
        return vm_raise(vm, E_VALUE, "File.seek whence must be 0, 1 or 2, got %lld", (long long)whence);
    static const int how[] = {SEEK_SET, SEEK_CUR, SEEK_END};
    if (f->stream || fseeko(f->fp, (off_t)offset, how[whence]) != 0)
        return f->stream ? vm_raise(vm, E_IO, "Cannot seek in '%s'", f->path)
                         : iof_io_error(vm, f, "seek in");
    f->last = IOF_NONE;
    return qv_int((int64_t)ftello(f->fp));
}

static qval iof_tell(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    io_file *f = iof_get(vm, self, IOF_NONE);
    if (!f)
        return qv_exc();
    off_t pos = f->stream ? -1 : ftello(f->fp);
    return pos < 0 ? vm_raise(vm, E_IO, "Cannot tell the position in '%s'", f->path) : qv_int(pos);
}

/* close(): flushes and releases the file; closing twice is harmless.  The
 * standard streams are flushed but stay usable. */
static qval iof_close_fn(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    io_file *f = cdata_get(vm, self, &iof_class);
    if (!f)
        return qv_exc();
    bool ok = true;
    iof_close(f, &ok);
    return ok ? qv_nil() : vm_raise(vm, E_IO, "Failed to close '%s': %s", f->path, strerror(errno));
}

static qval iof_closed(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    io_file *f = cdata_get(vm, self, &iof_class);
    return f ? qv_bool(!f->fp && !f->stream) : qv_exc();
}

static qval iof_path(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    io_file *f = cdata_get(vm, self, &iof_class);
    return f ? qv_obj(str_cstr(vm, f->path)) : qv_exc();
}

static qval iof_mode(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    io_file *f = cdata_get(vm, self, &iof_class);
    return f ? qv_obj(str_cstr(vm, f->mode)) : qv_exc();
}

/* `with io.open(...) as f`: the file itself, closed at the end. */
static qval iof_enter(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return iof_get(vm, self, IOF_NONE) ? self : qv_exc();
}

static qval iof_exit(qvm *vm, qval self, int argc, qval *argv)
{
    qval r = iof_close_fn(vm, self, argc, argv);
    return IS_EXC(r) ? r : qv_nil();
}

/* ---- the standard streams ------------------------------------------------------------------- */

/* io.read_line(): a line of standard input without its ending; nil at the end. */
static qval iof_stdin_line(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    fflush(stdout); /* a prompt printed just before should show */
    return iof_read_line(vm, self, 0, NULL);
}

static qval iof_std_stream(qvm *vm, qtype *t, const char *name, FILE *fp, int stream)
{
    io_file *f = iof_new(name, fp == stdin ? "r" : "a");
    if (!f)
        return vm_raise(vm, E_RUNTIME, "std/io: out of memory");
    f->fp = fp;
    f->stream = stream;
    f->std = true;
    return qv_obj(cdata_new(vm, t, &iof_class, f));
}

static const qmethod_def iof_methods[] = {
    {"read", iof_read, 0, 1, false},
    {"read_line", iof_read_line, 0, 0, false},
    {"readline", iof_readline, 0, 0, false},
    {"lines", iof_lines, 0, 0, false},
    {"readlines", iof_readlines, 0, 0, false},
    {"write", iof_write, 1, 1, false},
    {"writelines", iof_writelines, 1, 1, false},
    {"flush", iof_flush, 0, 0, false},
    {"seek", iof_seek, 1, 2, false},
    {"tell", iof_tell, 0, 0, false},
    {"close", iof_close_fn, 0, 0, false},
    {"closed", iof_closed, 0, 0, false},
    {"path", iof_path, 0, 0, false},
    {"mode", iof_mode, 0, 0, false},
    {"_enter", iof_enter, 0, 0, false},
    {"_exit", iof_exit, 0, 0, false},
    {NULL, NULL, 0, 0, false},
};

/* A module function called with `bound` as self: the File type for the
 * functions that create Files, io.stdin for io.read_line. */
static void iof_export(qvm *vm, qmodule *m, qval bound, const char *name, qnative_fn fn, int min,
                       int max)
{
    qnative *n = native_new(vm, name, fn, min, max);
    n->bound = bound;
    module_export(vm, m, name, qv_obj(n));
}

void io_file_init(qvm *vm, qmodule *m)
{
    qtype *t = vm_new_cdata_type(vm, "File", iof_methods);
    module_export(vm, m, "File", qv_obj(t));
    iof_export(vm, m, qv_obj(t), "open", iof_open_fn, 1, 2);
    iof_export(vm, m, qv_obj(t), "with_file", iof_with_file, 3, 3);
    iof_export(vm, m, qv_obj(t), "temp_file", iof_temp_file, 0, 1);
    qval in = iof_std_stream(vm, t, "<stdin>", stdin, 0);
    module_export(vm, m, "stdin", in);
    module_export(vm, m, "stdout", iof_std_stream(vm, t, "<stdout>", stdout, 1));
    module_export(vm, m, "stderr", iof_std_stream(vm, t, "<stderr>", stderr, 2));
    iof_export(vm, m, in, "read_line", iof_stdin_line, 0, 0);
}
