/* io_fs.c — std/io's file-system functions: tests on paths, directories,
 * copying and moving, timestamps, and the path-string helpers (basename,
 * join, ...), which never touch the disk.
 *
 * Failures of the operating system raise IOErr with its reason; a missing
 * path is such a failure except for the tests (exists, is_file, is_dir),
 * which answer false.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "modules/io.h"

/* The Str argument i as a C string, or NULL after raising TypeErr. */
static const char *fs_path(qvm *vm, const char *fname, qval v)
{
    qstr *s;
    return arg_str(vm, fname, v, &s) ? s->data : NULL;
}

static qval fs_fail(qvm *vm, const char *what, const char *path)
{
    return vm_raise(vm, E_IO, "Failed to %s '%s': %s", what, path, strerror(errno));
}

/* ---- tests on paths ---------------------------------------------------------- */

/* stat() of a Str argument: 1 found, 0 missing, -1 after raising. */
static int fs_stat(qvm *vm, const char *fname, qval pathv, struct stat *st)
{
    const char *path = fs_path(vm, fname, pathv);
    if (!path)
        return -1;
    return stat(path, st) == 0;
}

static qval fs_exists(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    struct stat st;
    int r = fs_stat(vm, "io.exists", argv[0], &st);
    return r < 0 ? qv_exc() : qv_bool(r);
}

static qval fs_is_file(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    struct stat st;
    int r = fs_stat(vm, "io.is_file", argv[0], &st);
    return r < 0 ? qv_exc() : qv_bool(r && S_ISREG(st.st_mode));
}

static qval fs_is_dir(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    struct stat st;
    int r = fs_stat(vm, "io.is_dir", argv[0], &st);
    return r < 0 ? qv_exc() : qv_bool(r && S_ISDIR(st.st_mode));
}

static qval fs_size(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    struct stat st;
    int r = fs_stat(vm, "io.size", argv[0], &st);
    if (r < 0)
        return qv_exc();
    if (!r)
        return fs_fail(vm, "get metadata for", AS_STR(argv[0])->data);
    return qv_int((int64_t)st.st_size);
}

/* ---- timestamps: whole seconds since the Unix epoch ------------------------------ */

static qval fs_modified_time(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    struct stat st;
    int r = fs_stat(vm, "io.modified_time", argv[0], &st);
    if (r < 0)
        return qv_exc();
    return r ? qv_int((int64_t)st.st_mtime) : fs_fail(vm, "get metadata for", AS_STR(argv[0])->data);
}

static qval fs_accessed_time(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    struct stat st;
    int r = fs_stat(vm, "io.accessed_time", argv[0], &st);
    if (r < 0)
        return qv_exc();
    return r ? qv_int((int64_t)st.st_atime) : fs_fail(vm, "get metadata for", AS_STR(argv[0])->data);
}

/* The birth time, where the file system records one (statx). */
static qval fs_created_time(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    const char *path = fs_path(vm, "io.created_time", argv[0]);
    if (!path)
        return qv_exc();
    struct statx stx;
    if (statx(AT_FDCWD, path, 0, STATX_BTIME, &stx) != 0)
        return fs_fail(vm, "get metadata for", path);
    if (!(stx.stx_mask & STATX_BTIME))
        return vm_raise(vm, E_IO, "Creation time of '%s' is not recorded by its file system", path);
    return qv_int((int64_t)stx.stx_btime.tv_sec);
}

/* ---- removing ------------------------------------------------------------------ */

static int fs_remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

/* A directory and everything in it (symbolic links are removed, not followed). */
static int fs_remove_tree(const char *path)
{
    return nftw(path, fs_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A file, or a directory with everything in it. */
static qval fs_remove(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    struct stat st;
    int r = fs_stat(vm, "io.remove", argv[0], &st);
    if (r < 0)
        return qv_exc();
    const char *path = AS_STR(argv[0])->data;
    if (!r)
        return vm_raise(vm, E_IO, "Path '%s' does not exist", path);
    if ((S_ISDIR(st.st_mode) ? fs_remove_tree(path) : remove(path)) != 0)
        return fs_fail(vm, "remove", path);
    return qv_nil();
}

static qval fs_rmdir(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    const char *path = fs_path(vm, "io.rmdir", argv[0]);
    if (!path)
        return qv_exc();
    return rmdir(path) == 0 ? qv_nil() : fs_fail(vm, "remove directory", path);
}

static qval fs_rmdir_all(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    const char *path = fs_path(vm, "io.rmdir_all", argv[0]);
    if (!path)
        return qv_exc();
    struct stat st;
    if (lstat(path, &st) != 0)
        return fs_fail(vm, "remove directory", path);
    if (!S_ISDIR(st.st_mode))
        return vm_raise(vm, E_IO, "Failed to remove directory '%s': Not a directory", path);
    return fs_remove_tree(path) == 0 ? qv_nil() : fs_fail(vm, "remove directory", path);
}

/* ---- creating directories ------------------------------------------------------------ */

static qval fs_mkdir(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    const char *path = fs_path(vm, "io.mkdir", argv[0]);
    if (!path)
        return qv_exc();
    return mkdir(path, 0777) == 0 ? qv_nil() : fs_fail(vm, "create directory", path);
}

/* mkdir -p: every missing directory on the way; an existing one is fine. */
static qval fs_mkdir_all(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    const char *path = fs_path(vm, "io.mkdir_all", argv[0]);
    if (!path)
        return qv_exc();
    char *p = strdup(path);
    if (!p)
        return vm_raise(vm, E_RUNTIME, "io.mkdir_all: out of memory");
    size_t n = strlen(p);
    bool ok = true;
    for (size_t i = 1; ok && i <= n; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        char c = p[i];
        p[i] = '\0';
        struct stat st;
        ok = mkdir(p, 0777) == 0 || (errno == EEXIST && stat(p, &st) == 0 && S_ISDIR(st.st_mode));
        if (!ok && errno == EEXIST)
            errno = ENOTDIR;
        p[i] = c;
    }
    free(p);
    return ok ? qv_nil() : fs_fail(vm, "create directory", path);
}

/* io.temp_dir(prefix = "quest"): a new, empty, private directory under
 * $TMPDIR (or /tmp); the caller removes it. */
static qval fs_temp_dir(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self;
    const char *prefix = argc > 0 ? fs_path(vm, "io.temp_dir", argv[0]) : "quest";
    if (!prefix)
        return qv_exc();
    if (strchr(prefix, '/'))
        return vm_raise(vm, E_VALUE, "io.temp_dir: the prefix must not contain '/'");
    const char *dir = getenv("TMPDIR");
    qstr *tmpl = str_printf(vm, "%s/%sXXXXXX", dir && *dir ? dir : "/tmp", prefix);
    char *path = strdup(tmpl->data);
    if (!path)
        return vm_raise(vm, E_RUNTIME, "io.temp_dir: out of memory");
    qval r = mkdtemp(path) ? qv_obj(str_cstr(vm, path)) : fs_fail(vm, "create directory", tmpl->data);
    free(path);
    return r;
}

/* ---- listing ------------------------------------------------------------------------ */

static int fs_cmp_str(const void *a, const void *b)
{
    return strcmp(AS_STR(*(const qval *)a)->data, AS_STR(*(const qval *)b)->data);
}

static void fs_sort(qarray *a)
{
    if (a->len > 1)
        qsort(a->items, a->len, sizeof(qval), fs_cmp_str);
}

/* Names in directory path (without "." and ".."), sorted; NULL with errno
 * set on failure. */
static qarray *fs_names(qvm *vm, const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return NULL;
    qarray *names = arr_new(vm, 0);
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            arr_push(vm, names, qv_obj(str_cstr(vm, e->d_name)));
    closedir(d);
    fs_sort(names);
    return names;
}

static qval fs_list_dir(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    const char *path = fs_path(vm, "io.list_dir", argv[0]);
    if (!path)
        return qv_exc();
    qarray *names = fs_names(vm, path);
    return names ? qv_obj(names) : fs_fail(vm, "list directory", path);
}

/* Append the files under dir (depth first, sorted); directories reached
 * through symbolic links are not entered, so a link cycle ends. */
static void fs_walk_into(qvm *vm, const char *dir, qarray *out)
{
    qarray *names = fs_names(vm, dir);
    if (!names)
        return;
    size_t n = strlen(dir);
    bool slash = n > 0 && dir[n - 1] == '/';
    for (uint32_t i = 0; i < names->len; i++) {
        qstr *path = str_printf(vm, "%s%s%s", dir, slash ? "" : "/", AS_STR(names->items[i])->data);
        struct stat st;
        if (lstat(path->data, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode))
            fs_walk_into(vm, path->data, out);
        else
            arr_push(vm, out, qv_obj(path));
    }
}

static qval fs_walk(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    const char *path = fs_path(vm, "io.walk", argv[0]);
    if (!path)
        return qv_exc();
    struct stat st;
    if (stat(path, &st) != 0)
        return fs_fail(vm, "walk", path);
    if (!S_ISDIR(st.st_mode))
        return vm_raise(vm, E_IO, "Failed to walk '%s': Not a directory", path);
    qarray *out = arr_new(vm, 0);
    fs_walk_into(vm, path, out);
    return qv_obj(out);
}

/* ---- copying and moving ------------------------------------------------------------------ */

/* Copy the regular file src to dst (created or truncated, with src's
 * permission bits).  False with errno set. */
static bool fs_copy_file(const char *src, const char *dst)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return false;
    struct stat st;
    int err = fstat(in, &st) != 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : 0;
    int out = err ? -1 : open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, st.st_mode & 07777);
    if (!err && out < 0)
        err = errno;
    char buf[65536];
    while (!err) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n == 0)
            break;
        if (n < 0) {
            err = errno == EINTR ? 0 : errno;
            continue;
        }
        for (ssize_t done = 0; !err && done < n;) {
            ssize_t w = write(out, buf + done, (size_t)(n - done));
            if (w > 0)
                done += w;
            else if (w < 0 && errno != EINTR)
                err = errno;
        }
    }
    close(in);
    if (out >= 0 && close(out) != 0 && !err)
        err = errno;
    errno = err;
    return err == 0;
}

static qval fs_copy(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    const char *src = fs_path(vm, "io.copy", argv[0]);
    const char *dst = src ? fs_path(vm, "io.copy", argv[1]) : NULL;
    if (!dst)
        return qv_exc();
    if (!fs_copy_file(src, dst))
        return vm_raise(vm, E_IO, "Failed to copy '%s' to '%s': %s", src, dst, strerror(errno));
    return qv_nil();
}

/* rename(), or copy and delete when src and dst are on different file
 * systems (regular files only). */
static qval fs_move(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    const char *src = fs_path(vm, "io.move", argv[0]);
    const char *dst = src ? fs_path(vm, "io.move", argv[1]) : NULL;
    if (!dst)
        return qv_exc();
    bool ok = rename(src, dst) == 0;
    struct stat st;
    if (!ok && errno == EXDEV && stat(src, &st) == 0 && S_ISREG(st.st_mode))
        ok = fs_copy_file(src, dst) && unlink(src) == 0;
    if (!ok)
        return vm_raise(vm, E_IO, "Failed to move '%s' to '%s': %s", src, dst, strerror(errno));
    return qv_nil();
}

/* ---- path strings ---------------------------------------------------------------------------- */

/* Length of path without its trailing slashes ("/" stays "/"). */
static size_t fs_trim_slashes(const char *p, size_t n)
{
    while (n > 1 && p[n - 1] == '/')
        n--;
    return n;
}

/* Start of the last component of p[0..n). */
static size_t fs_last_start(const char *p, size_t n)
{
    size_t i = n;
    while (i > 0 && p[i - 1] != '/')
        i--;
    return i;
}

static qval fs_basename(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    qstr *s;
    if (!arg_str(vm, "io.basename", argv[0], &s))
        return qv_exc();
    size_t n = fs_trim_slashes(s->data, s->len);
    if (n == 1 && s->data[0] == '/')
        return qv_obj(str_new(vm, "", 0));
    size_t start = fs_last_start(s->data, n);
    return qv_obj(str_new(vm, s->data + start, n - start));
}

/* Everything before the last component, without trailing slashes: "" when
 * there is no directory part, "/" for a file at the root. */
static qval fs_dirname(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    qstr *s;
    if (!arg_str(vm, "io.dirname", argv[0], &s))
        return qv_exc();
    size_t n = fs_trim_slashes(s->data, s->len);
    if (n == 1 && s->data[0] == '/')
        return qv_obj(str_new(vm, "/", 1));
    size_t end = fs_last_start(s->data, n);
    if (end == 0)
        return qv_obj(str_new(vm, "", 0));
    return qv_obj(str_new(vm, s->data, fs_trim_slashes(s->data, end)));
}

/* ".gz" for "archive.tar.gz"; "" when the last component has no dot
 * after its first character (".bashrc" has no extension). */
static qval fs_extension(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    qstr *s;
    if (!arg_str(vm, "io.extension", argv[0], &s))
        return qv_exc();
    size_t n = fs_trim_slashes(s->data, s->len);
    size_t start = fs_last_start(s->data, n);
    for (size_t i = n; i > start + 1; i--)
        if (s->data[i - 1] == '.')
            return qv_obj(str_new(vm, s->data + i - 1, n - i + 1));
    return qv_obj(str_new(vm, "", 0));
}

/* join("a", "b", "c.txt") -> "a/b/c.txt"; an absolute part starts over. */
static qval fs_join(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self;
    qbuf b;
    buf_init(&b);
    for (int i = 0; i < argc; i++) {
        qstr *part;
        if (!arg_str(vm, "io.join", argv[i], &part)) {
            buf_free(&b);
            return qv_exc();
        }
        if (part->data[0] == '/')
            b.len = 0;
        else if (b.len > 0 && b.data[b.len - 1] != '/')
            buf_putc(&b, '/');
        buf_append(&b, part->data, part->len);
    }
    return qv_obj(buf_to_str(vm, &b));
}

/* Append the components of p to b ("/a/b" form), resolving "." and ".."
 * by text alone. */
static void fs_normalize_into(qbuf *b, const char *p)
{
    while (*p) {
        while (*p == '/')
            p++;
        const char *end = p;
        while (*end && *end != '/')
            end++;
        size_t n = (size_t)(end - p);
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            while (b->len > 0 && b->data[b->len - 1] != '/')
                b->len--;
            if (b->len > 0)
                b->len--; /* the slash before the dropped component */
        } else if (n > 0 && !(n == 1 && p[0] == '.')) {
            buf_putc(b, '/');
            buf_append(b, p, n);
        }
        p = end;
    }
}

/* The absolute form of a path, "." and ".." resolved textually (symbolic
 * links are not followed; the path need not exist). */
static qval fs_absolute(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    qstr *s;
    if (!arg_str(vm, "io.absolute", argv[0], &s))
        return qv_exc();
    qbuf b;
    buf_init(&b);
    if (s->data[0] != '/') {
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof cwd))
            return vm_raise(vm, E_IO, "Failed to get the working directory: %s", strerror(errno));
        fs_normalize_into(&b, cwd);
    }
    fs_normalize_into(&b, s->data);
    if (b.len == 0)
        buf_putc(&b, '/');
    return qv_obj(buf_to_str(vm, &b));
}

/* ---- registration -------------------------------------------------------------------------- */

static const qmethod_def fs_functions[] = {
    {"exists", fs_exists, 1, 1, false},
    {"is_file", fs_is_file, 1, 1, false},
    {"is_dir", fs_is_dir, 1, 1, false},
    {"size", fs_size, 1, 1, false},
    {"modified_time", fs_modified_time, 1, 1, false},
    {"accessed_time", fs_accessed_time, 1, 1, false},
    {"created_time", fs_created_time, 1, 1, false},
    {"remove", fs_remove, 1, 1, false},
    {"rmdir", fs_rmdir, 1, 1, false},
    {"rmdir_all", fs_rmdir_all, 1, 1, false},
    {"mkdir", fs_mkdir, 1, 1, false},
    {"mkdir_all", fs_mkdir_all, 1, 1, false},
    {"temp_dir", fs_temp_dir, 0, 1, false},
    {"list_dir", fs_list_dir, 1, 1, false},
    {"walk", fs_walk, 1, 1, false},
    {"copy", fs_copy, 2, 2, false},
    {"move", fs_move, 2, 2, false},
    {"basename", fs_basename, 1, 1, false},
    {"dirname", fs_dirname, 1, 1, false},
    {"extension", fs_extension, 1, 1, false},
    {"join", fs_join, 0, -1, false},
    {"absolute", fs_absolute, 1, 1, false},
    {NULL, NULL, 0, 0, false},
};

void io_fs_init(qvm *vm, qmodule *m)
{
    module_export_fns(vm, m, fs_functions);
}
