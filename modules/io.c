/* io.c — std/io: whole-file reads and writes, glob patterns, and
 * io.StringIO, an in-memory text buffer with a file-like interface (std/test
 * captures each test's output into one).  The module's other parts are
 * listed in modules/io.h.
 *
 * Paths are used as given (relative to the working directory).  Failures
 * of the operating system raise IOErr with its reason; a file whose bytes
 * are not UTF-8 cannot become a Str and raises ValueErr.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "modules/io.h"

/* ---- whole files ------------------------------------------------------------ */

/* The file named by argument v, read whole; NULL after raising. */
static char *io_slurp_arg(qvm *vm, const char *fname, qval v, size_t *len, qstr **path)
{
    if (!arg_str(vm, fname, v, path))
        return NULL;
    char *data = buf_read_file((*path)->data, SIZE_MAX, len);
    if (!data)
        vm_raise(vm, E_IO, "Failed to read file '%s': %s", (*path)->data, strerror(errno));
    return data;
}

static qval io_read(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    qstr *path;
    size_t len;
    char *data = io_slurp_arg(vm, "io.read", argv[0], &len, &path);
    if (!data)
        return qv_exc();
    qval r = utf8_valid(data, len)
                 ? qv_obj(str_new(vm, data, len))
                 : vm_raise(vm, E_VALUE, "File '%s' is not valid UTF-8", path->data);
    free(data);
    return r;
}

static qval io_read_bytes(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    qstr *path;
    size_t len;
    char *data = io_slurp_arg(vm, "io.read_bytes", argv[0], &len, &path);
    if (!data)
        return qv_exc();
    qval r = qv_obj(bytes_new(vm, data, len));
    free(data);
    return r;
}

/* The lines of a text file without their endings ("\n" or "\r\n"); a
 * final line ending adds no empty line. */
static qval io_read_lines(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    qstr *path;
    size_t len;
    char *data = io_slurp_arg(vm, "io.read_lines", argv[0], &len, &path);
    if (!data)
        return qv_exc();
    if (!utf8_valid(data, len)) {
        free(data);
        return vm_raise(vm, E_VALUE, "File '%s' is not valid UTF-8", path->data);
    }
    qarray *lines = arr_new(vm, 0);
    for (size_t i = 0; i < len;) {
        const char *nl = memchr(data + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - data) : len, n = end - i;
        if (n > 0 && data[end - 1] == '\r' && nl)
            n--;
        arr_push(vm, lines, qv_obj(str_new(vm, data + i, n)));
        i = end + 1;
    }
    free(data);
    return qv_obj(lines);
}

/* Write len bytes to the file at path, truncating ("wb") or appending
 * ("ab"). */
static qval io_put_data(qvm *vm, qstr *path, const void *data, size_t len, const char *mode)
{
    FILE *f = fopen(path->data, mode);
    if (!f)
        return vm_raise(vm, E_IO, "Failed to open file '%s': %s", path->data, strerror(errno));
    bool ok = fwrite(data, 1, len, f) == len;
    ok = (fclose(f) == 0) && ok;
    if (!ok)
        return vm_raise(vm, E_IO, "Failed to write file '%s': %s", path->data, strerror(errno));
    return qv_nil();
}

/* Write a Str or Bytes to the file named by pathv. */
static qval io_put(qvm *vm, const char *fname, qval pathv, qval content, const char *mode)
{
    qstr *path;
    if (!arg_str(vm, fname, pathv, &path))
        return qv_exc();
    if (IS_STR(content))
        return io_put_data(vm, path, AS_STR(content)->data, AS_STR(content)->len, mode);
    if (IS_BYTES(content))
        return io_put_data(vm, path, AS_BYTES(content)->data, AS_BYTES(content)->len, mode);
    return vm_raise(vm, E_TYPE, "%s expects Str or Bytes content, got %s", fname,
                    vm_cls_name(content));
}

static qval io_write(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    return io_put(vm, "io.write", argv[0], argv[1], "wb");
}

static qval io_append(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    return io_put(vm, "io.append", argv[0], argv[1], "ab");
}

static qval io_write_bytes(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    if (!IS_BYTES(argv[1]))
        return vm_raise(vm, E_TYPE, "io.write_bytes expects Bytes content, got %s",
                        vm_cls_name(argv[1]));
    return io_put(vm, "io.write_bytes", argv[0], argv[1], "wb");
}

/* Each item of an Array of Str followed by "\n". */
static qval io_write_lines(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    qstr *path;
    qarray *lines;
    if (!arg_str(vm, "io.write_lines", argv[0], &path) ||
        !arg_array(vm, "io.write_lines", argv[1], &lines))
        return qv_exc();
    qbuf b;
    buf_init(&b);
    for (uint32_t i = 0; i < lines->len; i++) {
        qstr *line;
        if (!arg_str(vm, "io.write_lines", lines->items[i], &line)) {
            buf_free(&b);
            return qv_exc();
        }
        buf_append(&b, line->data, line->len);
        buf_putc(&b, '\n');
    }
    qval r = io_put_data(vm, path, b.data ? b.data : "", b.len, "wb");
    buf_free(&b);
    return r;
}

/* ---- glob patterns -------------------------------------------------------------------
 *
 * `*` any run of characters, `?` one character, `[abc]`, `[a-z]`, `[!a]`
 * (or `[^a]`) one character of a set, `**` as a whole path component any
 * number of directories (none included), `{a,b}` either alternative
 * (expanded first, into up to IO_MAX_ALTERNATIVES patterns).  io.glob_match
 * compares a whole path, where `*` may cross `/`, as the reference does;
 * io.glob walks the file system one component at a time.
 */

#define IO_MAX_ALTERNATIVES 256

/* The end of the brace group opening at p when it has a comma at its top
 * level ("{a,b}"), else NULL: "{a}" and an unclosed "{" are plain text. */
static const char *io_brace_group(const char *p)
{
    int depth = 0;
    bool comma = false;
    for (const char *q = p; *q; q++) {
        if (*q == '{')
            depth++;
        else if (*q == '}' && --depth == 0)
            return comma ? q : NULL;
        else if (*q == ',' && depth == 1)
            comma = true;
    }
    return NULL;
}

/* Push to out every pattern that the brace groups of p stand for.  False
 * when there would be more than IO_MAX_ALTERNATIVES. */
static bool io_expand_braces(qvm *vm, const char *p, qarray *out)
{
    const char *open = p, *close = NULL;
    for (; *open && !(*open == '{' && (close = io_brace_group(open))); open++)
        ;
    if (!close) {
        if (out->len >= IO_MAX_ALTERNATIVES)
            return false;
        arr_push(vm, out, qv_obj(str_cstr(vm, p)));
        return true;
    }
    int depth = 0;
    for (const char *alt = open + 1, *q = open + 1; q <= close; q++) {
        if (*q == '{') {
            depth++;
        } else if (*q == '}' && depth > 0) {
            depth--;
        } else if ((*q == ',' && depth == 0) || q == close) {
            qstr *one = str_printf(vm, "%.*s%.*s%s", (int)(open - p), p, (int)(q - alt), alt,
                                   close + 1);
            if (!io_expand_braces(vm, one->data, out))
                return false;
            alt = q + 1;
        }
    }
    return true;
}

/* The patterns a glob stands for, or NULL after raising ValueErr. */
static qarray *io_patterns(qvm *vm, qstr *pattern)
{
    qarray *all = arr_new(vm, 1);
    if (io_expand_braces(vm, pattern->data, all))
        return all;
    vm_raise(vm, E_VALUE, "Invalid glob pattern: %s (more than %d alternatives)", pattern->data,
             IO_MAX_ALTERNATIVES);
    return NULL;
}

/* Length of the UTF-8 sequence starting with byte c. */
static size_t io_utf8_len(unsigned char c)
{
    return c < 0xC0 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

/* Match the set at p ("[...]") against character c; *end is set past it.
 * Returns -1 when the set is not closed. */
static int io_match_set(const char *p, unsigned char c, const char **end)
{
    const char *q = p + 1;
    bool negate = *q == '!' || *q == '^';
    bool hit = false;
    if (negate)
        q++;
    for (bool first = true; *q && (first || *q != ']'); first = false) {
        unsigned char lo = (unsigned char)*q, hi = lo;
        if (q[1] == '-' && q[2] && q[2] != ']') {
            hi = (unsigned char)q[2];
            q += 2;
        }
        hit |= c >= lo && c <= hi;
        q++;
    }
    if (*q != ']')
        return -1;
    *end = q + 1;
    return hit != negate;
}

/* 1 match, 0 no match, -1 malformed pattern. */
static int io_match(const char *p, const char *s)
{
    for (; *p; p++) {
        if (p[0] == '*' && p[1] == '*' && p[2] == '/' && io_match(p + 3, s) == 1)
            return 1; /* "**" + "/" standing for no directory at all */
        switch (*p) {
        case '*':
            while (p[1] == '*')
                p++;
            for (const char *t = s;; t++) {
                int r = io_match(p + 1, t);
                if (r != 0)
                    return r;
                if (!*t)
                    return 0;
            }
        case '?':
            if (!*s)
                return 0;
            s += io_utf8_len((unsigned char)*s);
            break;
        case '[': {
            const char *end;
            int r = io_match_set(p, (unsigned char)*s, &end);
            if (r < 0)
                return -1;
            if (!*s || !r)
                return 0;
            s += io_utf8_len((unsigned char)*s);
            p = end - 1;
            break;
        }
        default:
            if (*p != *s)
                return 0;
            s++;
        }
    }
    return *s == '\0';
}

static qval io_glob_match(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    qstr *path, *pattern;
    if (!arg_str(vm, "io.glob_match", argv[0], &path) ||
        !arg_str(vm, "io.glob_match", argv[1], &pattern))
        return qv_exc();
    qarray *all = io_patterns(vm, pattern);
    if (!all)
        return qv_exc();
    bool hit = false;
    for (uint32_t i = 0; i < all->len; i++) {
        int r = io_match(AS_STR(all->items[i])->data, path->data);
        if (r < 0)
            return vm_raise(vm, E_VALUE, "Invalid glob pattern: %s", pattern->data);
        hit |= r == 1;
    }
    return qv_bool(hit);
}

typedef struct io_globber {
    qvm *vm;
    qarray *out;
    char **parts;    /* pattern components */
    int nparts;
    bool bad;        /* malformed pattern seen */
} io_globber;

static bool io_has_magic(const char *s)
{
    return strpbrk(s, "*?[") != NULL;
}

/* prefix + "/" + name; "" is the working directory, "/" the root. */
static char *io_join(const char *prefix, const char *name)
{
    size_t n = strlen(prefix);
    char *p = malloc(n + strlen(name) + 2);
    if (p)
        sprintf(p, "%s%s%s", prefix, n && prefix[n - 1] != '/' ? "/" : "", name);
    return p;
}

static bool io_isdir_nofollow(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void io_glob_walk(io_globber *g, const char *prefix, int i);

/* Continue with component i at path (an entry that matched i - 1). */
static void io_glob_next(io_globber *g, const char *path, int i)
{
    if (i == g->nparts)
        arr_push(g->vm, g->out, qv_obj(str_cstr(g->vm, path)));
    else
        io_glob_walk(g, path, i);
}

static void io_glob_walk(io_globber *g, const char *prefix, int i)
{
    const char *part = g->parts[i];
    if (!io_has_magic(part)) {
        char *path = io_join(prefix, part);
        struct stat st;
        if (path && stat(path, &st) == 0 && (i + 1 == g->nparts || S_ISDIR(st.st_mode)))
            io_glob_next(g, path, i + 1);
        free(path);
        return;
    }
    bool recursive = strcmp(part, "**") == 0;
    if (recursive)
        io_glob_next(g, prefix, i + 1); /* no directory at all */
    DIR *d = opendir(*prefix ? prefix : ".");
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *path = io_join(prefix, e->d_name);
        if (!path)
            break;
        if (recursive) {
            if (io_isdir_nofollow(path))
                io_glob_walk(g, path, i);
        } else {
            int m = io_match(part, e->d_name);
            g->bad |= m < 0;
            struct stat st;
            if (m == 1 && (i + 1 == g->nparts || (stat(path, &st) == 0 && S_ISDIR(st.st_mode))))
                io_glob_next(g, path, i + 1);
        }
        free(path);
    }
    closedir(d);
}

static int io_cmp_str(const void *a, const void *b)
{
    return strcmp(AS_STR(*(const qval *)a)->data, AS_STR(*(const qval *)b)->data);
}

/* Sorted, without the duplicates that several `**` can produce. */
static void io_sort_unique(qarray *a)
{
    if (a->len < 2)
        return;
    qsort(a->items, a->len, sizeof(qval), io_cmp_str);
    uint32_t n = 0;
    for (uint32_t i = 0; i < a->len; i++)
        if (n == 0 || !str_equal(AS_STR(a->items[n - 1]), AS_STR(a->items[i])))
            a->items[n++] = a->items[i];
    a->len = n;
}

/* Add the paths matching one brace-free pattern to g->out. */
static bool io_glob_one(io_globber *g, qstr *pattern)
{
    char *copy = strdup(pattern->data);
    char **parts = calloc(pattern->len + 1, sizeof *parts);
    if (!copy || !parts) {
        free(copy);
        free(parts);
        return false;
    }
    g->parts = parts;
    g->nparts = 0;
    for (char *tok = strtok(copy, "/"); tok; tok = strtok(NULL, "/"))
        parts[g->nparts++] = tok;
    if (g->nparts > 0)
        io_glob_walk(g, pattern->data[0] == '/' ? "/" : "", 0);
    free(copy);
    free(parts);
    return true;
}

static qval io_glob(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    qstr *pattern;
    if (!arg_str(vm, "io.glob", argv[0], &pattern))
        return qv_exc();
    qarray *all = io_patterns(vm, pattern);
    if (!all)
        return qv_exc();
    io_globber g = {vm, arr_new(vm, 0), NULL, 0, false};
    for (uint32_t i = 0; i < all->len; i++)
        if (!io_glob_one(&g, AS_STR(all->items[i])))
            return vm_raise(vm, E_RUNTIME, "io.glob: out of memory");
    if (g.bad)
        return vm_raise(vm, E_VALUE, "Invalid glob pattern: %s", pattern->data);
    io_sort_unique(g.out);
    return qv_obj(g.out);
}

/* ---- io.StringIO ------------------------------------------------------------------------
 *
 * A growable UTF-8 text with a read position.  Writes always append (and
 * move the position to the end); reads, seek and tell count bytes, but a
 * read never splits a character: positions inside one move to its end.
 */

typedef struct io_sbuf {
    char *data;
    size_t len, cap, pos;
} io_sbuf;

static void sio_finalize(void *p)
{
    io_sbuf *b = p;
    free(b->data);
    free(b);
}

static bool sio_truthy(void *p)
{
    return ((io_sbuf *)p)->len != 0;
}

static const qcdata_class sio_class = {"StringIO", sio_finalize, NULL, sio_truthy};

static io_sbuf *sio_get(qvm *vm, qval self)
{
    return cdata_get(vm, self, &sio_class);
}

static bool sio_append(io_sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *data = realloc(b->data, cap);
        if (!data)
            return false;
        b->data = data;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return true;
}

static qval sio_write_text(qvm *vm, io_sbuf *b, qstr *s)
{
    if (!sio_append(b, s->data, s->len))
        return vm_raise(vm, E_RUNTIME, "StringIO: out of memory");
    b->pos = b->len;
    return qv_int(s->len);
}

/* Move i forward to the start of a character. */
static size_t sio_boundary(const io_sbuf *b, size_t i)
{
    while (i < b->len && ((unsigned char)b->data[i] & 0xC0) == 0x80)
        i++;
    return i;
}

/* The text from the position to end (clamped), advancing the position. */
static qval sio_take(qvm *vm, io_sbuf *b, size_t end)
{
    size_t start = sio_boundary(b, b->pos);
    end = sio_boundary(b, end < start ? start : end > b->len ? b->len : end);
    b->pos = end;
    return qv_obj(str_new(vm, b->data ? b->data + start : "", end - start));
}

static qval sio_new(qvm *vm, qval self, int argc, qval *argv)
{
    qstr *init = NULL;
    if (argc > 0 && !arg_str(vm, "StringIO.new", argv[0], &init))
        return qv_exc();
    io_sbuf *b = calloc(1, sizeof *b);
    if (!b || (init && !sio_append(b, init->data, init->len))) {
        if (b)
            sio_finalize(b);
        return vm_raise(vm, E_RUNTIME, "StringIO: out of memory");
    }
    return qv_obj(cdata_new(vm, AS_TYPE(self), &sio_class, b));
}

static qval sio_write(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    io_sbuf *b = sio_get(vm, self);
    qstr *s;
    if (!b || !arg_str(vm, "StringIO.write", argv[0], &s))
        return qv_exc();
    return sio_write_text(vm, b, s);
}

static qval sio_writelines(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    io_sbuf *b = sio_get(vm, self);
    qarray *lines;
    if (!b || !arg_array(vm, "StringIO.writelines", argv[0], &lines))
        return qv_exc();
    for (uint32_t i = 0; i < lines->len; i++) {
        qstr *s;
        if (!arg_str(vm, "StringIO.writelines", lines->items[i], &s) ||
            IS_EXC(sio_write_text(vm, b, s)))
            return qv_exc();
    }
    return qv_nil();
}

static qval sio_read(qvm *vm, qval self, int argc, qval *argv)
{
    io_sbuf *b = sio_get(vm, self);
    int64_t n = -1;
    if (!b || (argc > 0 && !arg_int(vm, "StringIO.read", argv[0], &n)))
        return qv_exc();
    if (argc > 0 && n < 0)
        return vm_raise(vm, E_VALUE, "StringIO.read size must not be negative, got %lld",
                        (long long)n);
    size_t avail = b->len - b->pos;
    return sio_take(vm, b, argc > 0 && (uint64_t)n < avail ? b->pos + (size_t)n : b->len);
}

/* The next line with its "\n" (the last one may lack it); "" at the end. */
static qval sio_next_line(qvm *vm, io_sbuf *b)
{
    const char *nl = b->pos < b->len ? memchr(b->data + b->pos, '\n', b->len - b->pos) : NULL;
    return sio_take(vm, b, nl ? (size_t)(nl - b->data) + 1 : b->len);
}

static qval sio_readline(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    io_sbuf *b = sio_get(vm, self);
    return b ? sio_next_line(vm, b) : qv_exc();
}

static qval sio_readlines(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    io_sbuf *b = sio_get(vm, self);
    if (!b)
        return qv_exc();
    qarray *lines = arr_new(vm, 0);
    while (b->pos < b->len)
        arr_push(vm, lines, sio_next_line(vm, b));
    return qv_obj(lines);
}

static qval sio_get_value(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    io_sbuf *b = sio_get(vm, self);
    return b ? qv_obj(str_new(vm, b->data ? b->data : "", b->len)) : qv_exc();
}

static qval sio_tell(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    io_sbuf *b = sio_get(vm, self);
    return b ? qv_int((int64_t)b->pos) : qv_exc();
}

/* seek(offset, whence = 0): from the start (0), the position (1) or the
 * end (2); the result is clamped to the text.  Returns the new position. */
static qval sio_seek(qvm *vm, qval self, int argc, qval *argv)
{
    io_sbuf *b = sio_get(vm, self);
    int64_t offset, whence = 0;
    if (!b || !arg_int(vm, "StringIO.seek", argv[0], &offset) ||
        (argc > 1 && !arg_int(vm, "StringIO.seek", argv[1], &whence)))
        return qv_exc();
    if (whence < 0 || whence > 2)
        return vm_raise(vm, E_VALUE, "StringIO.seek whence must be 0, 1 or 2, got %lld",
                        (long long)whence);
    int64_t base = whence == 0 ? 0 : whence == 1 ? (int64_t)b->pos : (int64_t)b->len;
    int64_t pos = offset > INT64_MAX - base ? INT64_MAX : base + offset;
    b->pos = pos < 0 ? 0 : (uint64_t)pos > b->len ? b->len : (size_t)pos;
    return qv_int((int64_t)b->pos);
}

static qval sio_clear(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    io_sbuf *b = sio_get(vm, self);
    if (!b)
        return qv_exc();
    b->len = b->pos = 0;
    if (b->data)
        b->data[0] = '\0';
    return qv_nil();
}

/* truncate(size = position): cut the text there; returns the new length. */
static qval sio_truncate(qvm *vm, qval self, int argc, qval *argv)
{
    io_sbuf *b = sio_get(vm, self);
    int64_t size = 0;
    if (!b || (argc > 0 && !arg_int(vm, "StringIO.truncate", argv[0], &size)))
        return qv_exc();
    if (argc > 0 && size < 0)
        return vm_raise(vm, E_VALUE, "StringIO.truncate size must not be negative");
    size_t at = argc > 0 ? ((uint64_t)size < b->len ? (size_t)size : b->len) : b->pos;
    at = sio_boundary(b, at);
    b->len = at;
    if (b->data)
        b->data[at] = '\0';
    if (b->pos > at)
        b->pos = at;
    return qv_int((int64_t)b->len);
}

static qval sio_len(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    io_sbuf *b = sio_get(vm, self);
    return b ? qv_int((int64_t)b->len) : qv_exc();
}

static qval sio_char_len(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    io_sbuf *b = sio_get(vm, self);
    return b ? qv_int(b->len ? utf8_count(b->data, b->len) : 0) : qv_exc();
}

static qval sio_empty(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    io_sbuf *b = sio_get(vm, self);
    return b ? qv_bool(b->len == 0) : qv_exc();
}

/* flush() and close() do nothing: the text stays readable and writable. */
static qval sio_nothing(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return sio_get(vm, self) ? qv_nil() : qv_exc();
}

static qval sio_closed(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return sio_get(vm, self) ? qv_bool(false) : qv_exc();
}

/* `with io.StringIO.new() as buf`: the buffer itself. */
static qval sio_enter(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return sio_get(vm, self) ? self : qv_exc();
}

static const qmethod_def sio_methods[] = {
    {"write", sio_write, 1, 1, false},
    {"writelines", sio_writelines, 1, 1, false},
    {"read", sio_read, 0, 1, false},
    {"readline", sio_readline, 0, 0, false},
    {"readlines", sio_readlines, 0, 0, false},
    {"get_value", sio_get_value, 0, 0, false},
    {"getvalue", sio_get_value, 0, 0, false},
    {"tell", sio_tell, 0, 0, false},
    {"seek", sio_seek, 1, 2, false},
    {"clear", sio_clear, 0, 0, false},
    {"truncate", sio_truncate, 0, 1, false},
    {"len", sio_len, 0, 0, false},
    {"char_len", sio_char_len, 0, 0, false},
    {"empty", sio_empty, 0, 0, false},
    {"flush", sio_nothing, 0, 0, false},
    {"close", sio_nothing, 0, 0, false},
    {"closed", sio_closed, 0, 0, false},
    {"_enter", sio_enter, 0, 0, false},
    {"_exit", sio_nothing, 0, 0, false},
    {NULL, NULL, 0, 0, false},
};

static const qmethod_def sio_statics[] = {
    {"new", sio_new, 0, 1, false},
    {NULL, NULL, 0, 0, false},
};

/* ---- the module ------------------------------------------------------------------------------ */

static const qmethod_def io_functions[] = {
    {"read", io_read, 1, 1, false},
    {"write", io_write, 2, 2, false},
    {"append", io_append, 2, 2, false},
    {"read_bytes", io_read_bytes, 1, 1, false},
    {"read_lines", io_read_lines, 1, 1, false},
    {"write_bytes", io_write_bytes, 2, 2, false},
    {"write_lines", io_write_lines, 2, 2, false},
    {"glob", io_glob, 1, 1, false},
    {"glob_match", io_glob_match, 2, 2, false},
    {NULL, NULL, 0, 0, false},
};

bool io_module_init(qvm *vm, qmodule *m)
{
    module_export_fns(vm, m, io_functions);
    io_fs_init(vm, m);
    io_file_init(vm, m);
    qtype *sio = vm_new_cdata_type(vm, "StringIO", sio_methods);
    vm_add_statics(vm, sio, sio_statics);
    module_export(vm, m, "StringIO", qv_obj(sio));
    return true;
}
