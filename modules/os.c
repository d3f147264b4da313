/* os.c — std/os: the process environment, the working directory, and
 * directory and file operations by path.
 *
 * The environment and the working directory belong to the whole process:
 * when several VMs run in one process (the app server's workers), a change
 * made by one is seen by all.  Failures of the operating system raise IOErr
 * with its reason.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "modules/modules.h"

extern char **environ;

static qval os_fail(qvm *vm, const char *what, const char *path)
{
    return vm_raise(vm, E_IO, "Failed to %s '%s': %s", what, path, strerror(errno));
}

/* A C string from the system as a Str; ValueErr when it is not UTF-8. */
static qval os_text(qvm *vm, const char *what, const char *s)
{
    if (!utf8_valid(s, strlen(s)))
        return vm_raise(vm, E_VALUE, "%s is not valid UTF-8", what);
    return qv_obj(str_cstr(vm, s));
}

/* ---- environment ---------------------------------------------------------------------- */

/* Environment names may not be empty or contain '=' (nor NUL, which a Str
 * cannot carry into C). */
static bool os_env_name(qvm *vm, const char *fname, qval v, qstr **out)
{
    if (!arg_str(vm, fname, v, out))
        return false;
    if ((*out)->len == 0 || strchr((*out)->data, '=') || strlen((*out)->data) != (*out)->len) {
        vm_raise(vm, E_VALUE, "%s: invalid environment variable name '%s'", fname, (*out)->data);
        return false;
    }
    return true;
}

/* getenv(name, default = nil) */
static qval os_getenv(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self;
    qstr *name;
    if (!arg_str(vm, "getenv", argv[0], &name))
        return qv_exc();
    const char *v = getenv(name->data);
    if (!v)
        return argc > 1 ? argv[1] : qv_nil();
    return os_text(vm, "the environment variable's value", v);
}

/* setenv(name, value): value is converted with str(); nil unsets. */
static qval os_setenv(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    qstr *name;
    if (!os_env_name(vm, "setenv", argv[0], &name))
        return qv_exc();
    if (IS_NIL(argv[1])) {
        unsetenv(name->data);
        return qv_nil();
    }
    qstr *value = vm_to_str(vm, argv[1]);
    if (!value)
        return qv_exc();
    if (setenv(name->data, value->data, 1) != 0)
        return os_fail(vm, "set environment variable", name->data);
    return qv_nil();
}

static qval os_unsetenv(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    qstr *name;
    if (!os_env_name(vm, "unsetenv", argv[0], &name))
        return qv_exc();
    unsetenv(name->data);
    return qv_nil();
}

static qval os_environ(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc, (void)argv;
    qdict *d = dict_new(vm);
    for (char **e = environ; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        size_t len = strlen(*e);
        if (!eq || !utf8_valid(*e, len))
            continue;
        dict_set(vm, d, str_new(vm, *e, (size_t)(eq - *e)), qv_obj(str_cstr(vm, eq + 1)));
    }
    return qv_obj(d);
}

/* ---- working directory ------------------------------------------------------------------ */

static qval os_getcwd(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc, (void)argv;
    char *cwd = getcwd(NULL, 0);
    if (!cwd)
        return vm_raise(vm, E_IO, "Failed to get current directory: %s", strerror(errno));
    qval r = os_text(vm, "the current directory's path", cwd);
    free(cwd);
    return r;
}

static qval os_chdir(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    qstr *path;
    if (!arg_str(vm, "chdir", argv[0], &path))
        return qv_exc();
    return chdir(path->data) == 0 ? qv_nil() : os_fail(vm, "change directory to", path->data);
}

/* ---- directories and files ---------------------------------------------------------------- */

static int os_cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* listdir(path = "."): the names in a directory, sorted, without . and .. */
static qval os_listdir(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self;
    qstr *path = NULL;
    if (argc > 0 && !arg_str(vm, "listdir", argv[0], &path))
        return qv_exc();
    const char *dir = path ? path->data : ".";
    DIR *d = opendir(dir);
    if (!d)
        return os_fail(vm, "read directory", dir);
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            char **grown = realloc(names, cap * sizeof *names);
            if (!grown)
                break;
            names = grown;
        }
        if (!(names[n] = strdup(e->d_name)))
            break;
        n++;
    }
    closedir(d);
    if (n > 1)
        qsort(names, n, sizeof *names, os_cmp_names);
    qarray *out = arr_new(vm, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        /* Names that are not UTF-8 cannot be Strs; they are left out. */
        if (utf8_valid(names[i], strlen(names[i])))
            arr_push(vm, out, qv_obj(str_cstr(vm, names[i])));
        free(names[i]);
    }
    free(names);
    return qv_obj(out);
}

/* mkdir(path, mode = 0o777): one directory; its parent must exist. */
static qval os_mkdir(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self;
    qstr *path;
    int64_t mode = 0777;
    if (!arg_str(vm, "mkdir", argv[0], &path) || (argc > 1 && !arg_int(vm, "mkdir", argv[1], &mode)))
        return qv_exc();
    return mkdir(path->data, (mode_t)mode) == 0 ? qv_nil() : os_fail(vm, "create directory", path->data);
}

/* makedirs(path): the directory and any missing parents; no error if it
 * exists already. */
static qval os_makedirs(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    qstr *path;
    if (!arg_str(vm, "makedirs", argv[0], &path))
        return qv_exc();
    char *p = strdup(path->data);
    if (!p)
        return vm_raise(vm, E_RUNTIME, "os.makedirs: out of memory");
    for (char *s = p + 1;; s++) {
        bool last = *s == '\0';
        if (*s == '/' || last) {
            *s = '\0';
            struct stat st;
            if (mkdir(p, 0777) != 0 && (errno != EEXIST || stat(p, &st) != 0 || !S_ISDIR(st.st_mode))) {
                if (errno == EEXIST)
                    errno = ENOTDIR;
                qval r = os_fail(vm, "create directory", p);
                free(p);
                return r;
            }
            if (last)
                break;
            *s = '/';
        }
    }
    free(p);
    return qv_nil();
}

static qval os_rmdir(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    qstr *path;
    if (!arg_str(vm, "rmdir", argv[0], &path))
        return qv_exc();
    return rmdir(path->data) == 0 ? qv_nil() : os_fail(vm, "remove directory", path->data);
}

/* remove(path): a file (not a directory: see rmdir). */
static qval os_remove(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    qstr *path;
    if (!arg_str(vm, "remove", argv[0], &path))
        return qv_exc();
    return unlink(path->data) == 0 ? qv_nil() : os_fail(vm, "remove", path->data);
}

static qval os_rename(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    qstr *src, *dst;
    if (!arg_str(vm, "rename", argv[0], &src) || !arg_str(vm, "rename", argv[1], &dst))
        return qv_exc();
    if (rename(src->data, dst->data) == 0)
        return qv_nil();
    return vm_raise(vm, E_IO, "Failed to rename '%s' to '%s': %s", src->data, dst->data, strerror(errno));
}

/* ---- module values -------------------------------------------------------------------------- */

/* Where `use` looks for modules besides the built-in library: lib/ when
 * it exists, then the directories in $QUEST_INCLUDE. */
static qval os_search_path(qvm *vm)
{
    qarray *a = arr_new(vm, 0);
    struct stat st;
    if (stat("lib", &st) == 0 && S_ISDIR(st.st_mode))
        arr_push(vm, a, qv_obj(str_cstr(vm, "lib/")));
    const char *inc = getenv("QUEST_INCLUDE");
    while (inc && *inc) {
        const char *colon = strchr(inc, ':');
        size_t n = colon ? (size_t)(colon - inc) : strlen(inc);
        if (n > 0 && utf8_valid(inc, n))
            arr_push(vm, a, qv_obj(str_new(vm, inc, n)));
        inc = colon ? colon + 1 : NULL;
    }
    return qv_obj(a);
}

static const char *os_platform(void)
{
#if defined(__APPLE__)
    return "darwin";
#elif defined(__linux__)
    return "linux";
#elif defined(__FreeBSD__)
    return "freebsd";
#else
    return "unix";
#endif
}

static const qmethod_def os_functions[] = {
    {"getenv", os_getenv, 1, 2, false},
    {"setenv", os_setenv, 2, 2, false},
    {"unsetenv", os_unsetenv, 1, 1, false},
    {"environ", os_environ, 0, 0, false},
    {"getcwd", os_getcwd, 0, 0, false},
    {"chdir", os_chdir, 1, 1, false},
    {"listdir", os_listdir, 0, 1, false},
    {"mkdir", os_mkdir, 1, 2, false},
    {"makedirs", os_makedirs, 1, 1, false},
    {"rmdir", os_rmdir, 1, 1, false},
    {"remove", os_remove, 1, 1, false},
    {"rename", os_rename, 2, 2, false},
    {NULL, NULL, 0, 0, false},
};

bool os_module_init(qvm *vm, qmodule *m)
{
    module_export_fns(vm, m, os_functions);
    module_export(vm, m, "search_path", os_search_path(vm));
    module_export(vm, m, "platform", qv_obj(str_cstr(vm, os_platform())));
    module_export(vm, m, "sep", qv_obj(str_cstr(vm, "/")));
    return true;
}
