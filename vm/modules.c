/* modules.c — `use`: resolving a path, loading a module once, privacy, and
 * running the main program.
 *
 * Lookup (quest-language.md §1.9): a leading `.` is relative to the
 * importing file; other paths are tried in the working directory, then in
 * each directory of QUEST_PATH, then in the library compiled into the
 * binary (native modules, then embedded Quest sources).  A native module
 * may have an embedded Quest overlay of the same name that adds members.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "compile.h"
#include "vm_internal.h"

#define MAX_SOURCE (64u << 20)

qmodule *module_new(qvm *vm, qstr *name, qstr *path, bool private_by_default)
{
    qmodule *m = vm_alloc_obj(vm, sizeof(qmodule), QO_MODULE);
    m->name = name;
    m->path = path;
    m->globals = dict_new(vm);
    m->pub = private_by_default ? dict_new(vm) : NULL;
    return m;
}

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool has_q_suffix(const char *p)
{
    size_t n = strlen(p);
    return n > 2 && strcmp(p + n - 2, ".q") == 0;
}

/* Try dir/path and dir/path.q; on success the canonical path is in out. */
static bool try_dir(const char *dir, const char *path, char *out, size_t n)
{
    char cand[PATH_MAX];
    snprintf(cand, sizeof cand, "%s%s%s%s", dir ? dir : "", dir ? "/" : "", path,
             has_q_suffix(path) ? "" : ".q");
    if (!is_file(cand))
        return false;
    char real[PATH_MAX];
    snprintf(out, n, "%s", realpath(cand, real) ? real : cand);
    return true;
}

static bool search_fs(const char *path, const char *importer, char *out, size_t n)
{
    if (path[0] == '.') {
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", importer ? importer : ".");
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = 0;
        else
            snprintf(dir, sizeof dir, ".");
        const char *rel = path[1] == '/' ? path + 2 : path + 1;
        return try_dir(dir, rel, out, n);
    }
    if (try_dir(NULL, path, out, n))
        return true;
    const char *qp = getenv("QUEST_PATH");
    while (qp && *qp) {
        const char *colon = strchr(qp, ':');
        size_t len = colon ? (size_t)(colon - qp) : strlen(qp);
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%.*s", (int)len, qp);
        if (len && try_dir(dir, path, out, n))
            return true;
        qp = colon ? colon + 1 : NULL;
    }
    return false;
}

static const qnative_module *find_native(qvm *vm, const char *path)
{
    for (const qnative_module *m = vm->opts.native_modules; m && m->path; m++)
        if (strcmp(m->path, path) == 0)
            return m;
    return NULL;
}

static const char *find_embedded(qvm *vm, const char *path)
{
    for (const qembedded_source *e = vm->opts.embedded_sources; e && e->path; e++)
        if (strcmp(e->path, path) == 0)
            return e->source;
    return NULL;
}

static qstr *alias_of(qvm *vm, const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    while (*base == '.')
        base++;
    size_t len = strlen(base);
    if (has_q_suffix(base))
        len -= 2;
    return str_intern(vm, base, len);
}

/* Compile src and run it as the body of module m. */
static qval run_module_source(qvm *vm, qmodule *m, const char *file, const char *src, size_t len)
{
    qproto *p = compile_source(vm, file, src, len, COMPILE_MODULE);
    if (!p)
        return qv_exc();
    if (p->doc && !m->doc)
        m->doc = p->doc;
    return interp_run_main(vm, p, m);
}

static qval load_file_module(qvm *vm, qmodule *m, const char *file)
{
    size_t len;
    char *src = buf_read_file(file, MAX_SOURCE, &len);
    if (!src)
        return vm_raise(vm, E_IMPORT, "Cannot read module '%s'", file);
    qval r = run_module_source(vm, m, file, src, len);
    free(src);
    return r;
}

static qval load_library_module(qvm *vm, qmodule *m, const char *path)
{
    const qnative_module *nat = find_native(vm, path);
    const char *src = find_embedded(vm, path);
    if (nat && !nat->init(vm, m))
        return qv_exc();
    if (!src)
        return qv_nil();
    char file[PATH_MAX];
    snprintf(file, sizeof file, "<embedded>/%s.q", path);
    return run_module_source(vm, m, file, src, strlen(src));
}

/* The cache entry of path, loading it first if needed. */
static qval load_module(qvm *vm, qstr *key, const char *file, bool library)
{
    qval cached;
    if (dict_get(vm->modules, key, &cached)) {
        if (AS_MODULE(cached)->loading)
            return vm_raise(vm, E_IMPORT, "Circular import detected: %s", key->data);
        return cached;
    }
    /* A native module exports everything; a Quest file (or a native module's
     * Quest overlay) keeps non-`pub` names private — module_export() puts
     * the natives among the public names. */
    bool all_public = library && find_native(vm, key->data) && !find_embedded(vm, key->data);
    qmodule *m = module_new(vm, alias_of(vm, key->data), key, !all_public);
    dict_set(vm, vm->modules, key, qv_obj(m));
    m->loading = true;
    qval r = library ? load_library_module(vm, m, key->data) : load_file_module(vm, m, file);
    m->loading = false;
    if (IS_EXC(r)) {
        dict_del(vm->modules, key);
        return r;
    }
    return qv_obj(m);
}

qval module_use(qvm *vm, qstr *path, const char *importer_file)
{
    char found[PATH_MAX];
    const char *p = path->data;
    if (search_fs(p, importer_file, found, sizeof found))
        return load_module(vm, str_cstr(vm, found), found, false);
    if (p[0] != '.' && (find_native(vm, p) || find_embedded(vm, p)))
        return load_module(vm, path, NULL, true);
    return vm_raise(vm, E_IMPORT, "Module not found: %s", p);
}

qval module_import_name(qvm *vm, qval mv, qstr *name)
{
    qmodule *m = AS_MODULE(mv);
    qval v;
    if (!dict_get(m->globals, name, &v))
        return vm_raise(vm, E_IMPORT, "Module '%s' has no member '%s'", m->name->data, name->data);
    if (m->pub && !dict_get(m->pub, name, NULL))
        return vm_raise(vm, E_IMPORT, "'%s' is private to module '%s'", name->data, m->name->data);
    return v;
}

/* ---- the main program ------------------------------------------------------------------ */

static qmodule *main_module(qvm *vm, const char *file)
{
    qstr *key = str_intern_cstr(vm, "__main__");
    qval m;
    if (dict_get(vm->modules, key, &m))
        return AS_MODULE(m);
    qmodule *mod = module_new(vm, key, str_cstr(vm, file), true);
    dict_set(vm, vm->modules, key, qv_obj(mod));
    return mod;
}

static qval run_file(qvm *vm, const char *path, bool cancel_leftovers);

qval vm_run_file(qvm *vm, const char *path)
{
    return run_file(vm, path, true);
}

qval vm_run_file_keep(qvm *vm, const char *path)
{
    return run_file(vm, path, false);
}

qval vm_main_global(qvm *vm, const char *name)
{
    qval m, v = qv_nil();
    if (dict_get_cstr(vm->modules, "__main__", &m))
        dict_get_cstr(AS_MODULE(m)->globals, name, &v);
    return v;
}

qval vm_loaded_module(qvm *vm, const char *path)
{
    qval m;
    return dict_get_cstr(vm->modules, path, &m) ? m : qv_nil();
}

static qval run_file(qvm *vm, const char *path, bool cancel_leftovers)
{
    size_t len;
    char *src = buf_read_file(path, MAX_SOURCE, &len);
    if (!src)
        return vm_raise(vm, E_IO, "Cannot open '%s'", path);
    char real[PATH_MAX];
    const char *file = realpath(path, real) ? real : path;
    qmodule *m = main_module(vm, file);
    qval r = run_module_source(vm, m, file, src, len);
    free(src);
    if (!IS_EXC(r) && cancel_leftovers) /* the program is over: what it left running is cancelled */
        tasks_cancel_orphans(vm);
    return r;
}

qval vm_run_string(qvm *vm, const char *name, const char *src)
{
    qmodule *m = main_module(vm, name);
    qproto *p = compile_source(vm, name, src, strlen(src), COMPILE_REPL);
    if (!p)
        return qv_exc();
    return interp_run_main(vm, p, m);
}

qval vm_import(qvm *vm, const char *path)
{
    return module_use(vm, str_cstr(vm, path), NULL);
}

qval vm_eval(qvm *vm, const char *name, const char *src)
{
    qmodule *m = module_new(vm, str_intern_cstr(vm, "<eval>"), str_cstr(vm, name), true);
    vm_push_root(vm, qv_obj(m));
    qproto *p = compile_source(vm, name, src, strlen(src), COMPILE_MODULE);
    qval r = p ? interp_run_main(vm, p, m) : qv_exc();
    vm_pop_roots(vm, 1);
    return r;
}
