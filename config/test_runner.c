/* test_runner.c — `quest test [paths] [options]`.
 *
 * The framework itself is the Quest module std/test: a test file registers
 * and runs its tests while it loads, and std/test keeps the counts.  This
 * file does what needs the file system and the command line: it finds the
 * test files, configures std/test, loads each file as a module, and exits
 * with the status std/test's stats() returns (non-zero when anything
 * failed).  A file that fails to load is reported and counted as a failure;
 * the other files still run.
 *
 * Discovery: a directory is searched recursively for files named test_*.q
 * or *_test.q (names starting with '.' or '_' are helpers, hidden
 * directories are skipped); a file given explicitly must follow the same
 * naming.  Without paths, test/ is used if it exists, else tests/, else the
 * current directory (then minus docs/, examples/ and scripts/, whose .q
 * files are not tests).  Files of one path run in sorted order.
 *
 * Settings come from the command line, else from the [test] table of
 * ./quest.toml (keys colors, condensed, capture, paths, tags, skip_tags, as
 * the reference reads them), else from the defaults: colours on, condensed
 * output, capture "all".  A command-line option replaces the file's value
 * for that key; it does not add to it.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/cli.h"
#include "modules/toml.h"

typedef struct tr_list {
    char **items;
    size_t len, cap;
} tr_list;

static void tr_push(tr_list *l, const char *s)
{
    if (l->len == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 32;
        l->items = realloc(l->items, l->cap * sizeof *l->items);
        if (!l->items) {
            fputs("quest test: out of memory\n", stderr);
            exit(1);
        }
    }
    l->items[l->len] = strdup(s);
    if (!l->items[l->len]) {
        fputs("quest test: out of memory\n", stderr);
        exit(1);
    }
    l->len++;
}

static void tr_free(tr_list *l)
{
    for (size_t i = 0; i < l->len; i++)
        free(l->items[i]);
    free(l->items);
}

static int tr_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* A test file's base name: test_*.q or *_test.q, not a dot file or an
 * underscore helper. */
static bool tr_is_test_name(const char *base)
{
    if (base[0] == '.' || base[0] == '_' || !ends_with(base, ".q"))
        return false;
    return strncmp(base, "test_", 5) == 0 || ends_with(base, "_test.q");
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* dir + "/" + name without doubling a trailing slash. */
static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir);
    bool slash = n > 0 && dir[n - 1] == '/';
    char *p = malloc(n + strlen(name) + 2);
    if (!p) {
        fputs("quest test: out of memory\n", stderr);
        exit(1);
    }
    sprintf(p, "%s%s%s", dir, slash ? "" : "/", name);
    return p;
}

/* Directories of the current one that hold .q files which are not tests. */
static bool tr_excluded_top(const char *name)
{
    return strcmp(name, "docs") == 0 || strcmp(name, "examples") == 0 ||
           strcmp(name, "scripts") == 0;
}

/* Collect the test files under dir.  Symbolic links to directories are not
 * followed, so a link cycle cannot make the walk endless. */
static void tr_walk(const char *dir, bool top_of_cwd, tr_list *out)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char *path = join(dir, e->d_name);
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            if (!(top_of_cwd && tr_excluded_top(e->d_name)))
                tr_walk(path, false, out);
        } else if (tr_is_test_name(e->d_name) && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            tr_push(out, path);
        }
        free(path);
    }
    closedir(d);
}

static bool is_cwd(const char *path)
{
    return strcmp(path, ".") == 0 || strcmp(path, "./") == 0;
}

/* Fill out with the files under the n given paths (none: the default
 * directory).  False when a given path does not exist (reported; the
 * others still run). */
static bool tr_discover(const char *const *paths, int n, tr_list *out)
{
    static const char *const defaults[] = {"test", "tests"};
    const char *implicit = ".";
    bool ok = true;

    if (n == 0) {
        for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
            if (is_dir(defaults[i])) {
                implicit = defaults[i];
                break;
            }
        paths = &implicit;
        n = 1;
    }
    for (int i = 0; i < n; i++) {
        struct stat st;
        size_t first = out->len;
        if (stat(paths[i], &st) != 0) {
            fprintf(stderr, "quest test: no such file or directory: %s\n", paths[i]);
            ok = false;
        } else if (S_ISDIR(st.st_mode)) {
            tr_walk(paths[i], is_cwd(paths[i]), out);
        } else if (tr_is_test_name(base_name(paths[i]))) {
            tr_push(out, paths[i]);
        }
        if (out->len - first > 1)
            qsort(out->items + first, out->len - first, sizeof *out->items, tr_cmp);
    }
    return ok;
}

/* ---- quest.toml ------------------------------------------------------------------ */

/* A list of strings from the command line or from quest.toml. */
typedef struct tr_strs {
    const char **items;
    int n;
    bool owned;   /* items (not the strings) allocated here */
} tr_strs;

/* What the run uses: the command line over quest.toml over the defaults. */
typedef struct tr_config {
    bool colors, condensed;
    const char *capture;
    tr_strs paths, tags, skip_tags;
    toml_value *toml; /* the parsed file: owns the strings it gave */
} tr_config;

static void tr_strs_set(tr_strs *l, const char **items, int n)
{
    if (l->owned)
        free(l->items);
    l->items = items;
    l->n = n;
    l->owned = false;
}

static bool tr_config_error(const char *what)
{
    fprintf(stderr, "quest test: quest.toml: [test] %s\n", what);
    return false;
}

/* [test] key = ["...", ...] */
static bool tr_config_list(const toml_value *test, const char *key, tr_strs *out)
{
    const toml_value *v = toml_get(test, key);
    if (!v)
        return true;
    const char *kind = "paths, tags and skip_tags must be arrays of strings";
    if (v->kind != TOML_ARRAY)
        return tr_config_error(kind);
    const char **items = calloc(v->u.arr.len + 1, sizeof *items);
    if (!items)
        return tr_config_error("is too large (out of memory)");
    tr_strs_set(out, items, 0);
    out->owned = true;
    for (size_t i = 0; i < v->u.arr.len; i++) {
        if (v->u.arr.items[i]->kind != TOML_STRING)
            return tr_config_error(kind);
        items[out->n++] = v->u.arr.items[i]->u.str.data;
    }
    return true;
}

static bool tr_config_bool(const toml_value *test, const char *key, bool *out)
{
    const toml_value *v = toml_get(test, key);
    if (v && v->kind != TOML_BOOL)
        return tr_config_error("colors and condensed must be true or false");
    if (v)
        *out = v->u.b;
    return true;
}

static bool tr_config_capture(const toml_value *test, const char **out)
{
    static const char *const modes[] = {"all", "no", "0", "1", "stdout", "stderr"};
    const toml_value *v = toml_get(test, "capture");
    if (!v)
        return true;
    for (size_t i = 0; v->kind == TOML_STRING && i < sizeof modes / sizeof modes[0]; i++)
        if (strcmp(v->u.str.data, modes[i]) == 0) {
            *out = v->u.str.data;
            return true;
        }
    return tr_config_error("capture must be all, no, 0, 1, stdout or stderr");
}

/* Read [test] from ./quest.toml, when there is one.  False after reporting
 * a file that cannot be read or parsed, or a [test] value of the wrong kind. */
static bool tr_config_file(tr_config *c)
{
    struct stat st;
    if (stat("quest.toml", &st) != 0)
        return true;
    size_t len;
    char *src = buf_read_file("quest.toml", SIZE_MAX, &len);
    if (!src) {
        perror("quest test: quest.toml");
        return false;
    }
    toml_error err;
    c->toml = toml_parse(src, len, &err);
    free(src);
    if (!c->toml) {
        fprintf(stderr, "quest test: quest.toml:%d:%d: %s\n", err.line, err.column, err.msg);
        return false;
    }
    const toml_value *test = toml_get(c->toml, "test");
    if (!test)
        return true;
    if (test->kind != TOML_TABLE)
        return tr_config_error("must be a table");
    return tr_config_bool(test, "colors", &c->colors) &&
           tr_config_bool(test, "condensed", &c->condensed) &&
           tr_config_capture(test, &c->capture) &&
           tr_config_list(test, "paths", &c->paths) &&
           tr_config_list(test, "tags", &c->tags) &&
           tr_config_list(test, "skip_tags", &c->skip_tags);
}

static void tr_config_free(tr_config *c)
{
    tr_strs_set(&c->paths, NULL, 0);
    tr_strs_set(&c->tags, NULL, 0);
    tr_strs_set(&c->skip_tags, NULL, 0);
    toml_free(c->toml);
}

/* Defaults, then the file, then the command line.  False after reporting
 * a bad quest.toml (c then needs tr_config_free all the same). */
static bool tr_config_load(tr_config *c, const quest_cli *cli)
{
    memset(c, 0, sizeof *c);
    c->colors = c->condensed = true;
    c->capture = "all";
    if (!tr_config_file(c))
        return false;
    if (cli->no_color)
        c->colors = false;
    if (cli->verbose)
        c->condensed = false;
    if (cli->capture)
        c->capture = cli->capture;
    if (cli->n_test_paths)
        tr_strs_set(&c->paths, cli->test_paths, cli->n_test_paths);
    if (cli->n_tags)
        tr_strs_set(&c->tags, cli->tags, cli->n_tags);
    if (cli->n_skip_tags)
        tr_strs_set(&c->skip_tags, cli->skip_tags, cli->n_skip_tags);
    return true;
}

/* ---- driving std/test ---------------------------------------------------------- */

/* test.<fn>(args); false after reporting an error (std/test itself broke). */
static bool tr_call(qvm *vm, qval test, const char *fn, int argc, qval *argv, qval *result)
{
    qval r = vm_invoke(vm, test, fn, argc, argv);
    if (IS_EXC(r)) {
        fprintf(stderr, "quest test: std/test %s() failed:\n", fn);
        vm_report_exc(vm, stderr);
        return false;
    }
    if (result)
        *result = r;
    return true;
}

static qval tr_str_array(qvm *vm, const char *const *items, int n)
{
    qarray *a = arr_new(vm, (uint32_t)n);
    for (int i = 0; i < n; i++)
        arr_push(vm, a, qv_obj(str_cstr(vm, items[i])));
    return qv_obj(a);
}

static bool tr_configure(qvm *vm, qval test, const tr_config *c)
{
    qval v = qv_bool(c->colors);
    if (!tr_call(vm, test, "set_colors", 1, &v, NULL))
        return false;
    v = qv_bool(c->condensed);
    if (!tr_call(vm, test, "set_condensed", 1, &v, NULL))
        return false;
    v = qv_obj(str_cstr(vm, c->capture));
    if (!tr_call(vm, test, "set_capture", 1, &v, NULL))
        return false;
    v = tr_str_array(vm, c->tags.items, c->tags.n);
    if (!tr_call(vm, test, "set_filter_tags", 1, &v, NULL))
        return false;
    v = tr_str_array(vm, c->skip_tags.items, c->skip_tags.n);
    return tr_call(vm, test, "set_skip_tags", 1, &v, NULL);
}

/* Load one test file: its top level runs its tests.  The file is imported
 * by absolute path, so relative spellings ("../x_test.q") resolve as the
 * user meant and the module cache sees one name per file. */
static bool tr_run_file(qvm *vm, qval test, const char *path)
{
    qval name = qv_obj(str_cstr(vm, path));
    vm_push_root(vm, name);
    bool ok = tr_call(vm, test, "begin_file", 1, &name, NULL);
    if (ok) {
        char *real = realpath(path, NULL);
        qval r = vm_import(vm, real ? real : path);
        free(real);
        if (IS_EXC(r)) {
            qval args[2] = {name, qv_obj(vm_take_exc(vm))};
            vm_push_root(vm, args[1]);
            ok = tr_call(vm, test, "report_load_error", 2, args, NULL);
            vm_pop_roots(vm, 1);
        }
    }
    vm_pop_roots(vm, 1);
    return ok;
}

/* sys.argv of the test files: the reference passes ["quest test", args...]. */
static char **tr_argv(const quest_cli *cli, int *argc)
{
    char **argv = calloc((size_t)cli->n_test_paths + 2, sizeof *argv);
    if (!argv)
        return NULL;
    argv[0] = "quest test";
    for (int i = 0; i < cli->n_test_paths; i++)
        argv[i + 1] = (char *)cli->test_paths[i];
    *argc = cli->n_test_paths + 1;
    return argv;
}

/* Run every file, then print the summary: the exit status. */
static int tr_run(qvm *vm, qval test, const tr_list *files)
{
    qval r;
    for (size_t i = 0; i < files->len; i++)
        if (!tr_run_file(vm, test, files->items[i]))
            return 1;
    if (!tr_call(vm, test, "stats", 0, NULL, &r))
        return 1;
    return IS_INT(r) ? (int)r.as.i : 1;
}

int quest_test_main(const quest_cli *cli)
{
    tr_config config;
    if (!tr_config_load(&config, cli)) {
        tr_config_free(&config);
        return 1;
    }
    tr_list files = {0};
    bool paths_ok = tr_discover(config.paths.items, config.paths.n, &files);

    qvm_options opts;
    quest_vm_options(cli, &opts);
    opts.argv = tr_argv(cli, &opts.argc);
    qvm *vm = opts.argv ? vm_new(&opts) : NULL;
    if (!vm) {
        fputs("quest test: cannot create the VM (out of memory)\n", stderr);
        free(opts.argv);
        tr_free(&files);
        tr_config_free(&config);
        return 1;
    }

    int status = 1;
    qval test = vm_import(vm, "std/test");
    if (IS_EXC(test)) {
        fputs("quest test: cannot load std/test:\n", stderr);
        vm_report_exc(vm, stderr);
    } else {
        vm_push_root(vm, test);
        if (tr_configure(vm, test, &config))
            status = tr_run(vm, test, &files);
        vm_pop_roots(vm, 1);
    }
    fflush(stdout);
    vm_free(vm);
    free(opts.argv);
    tr_free(&files);
    tr_config_free(&config);
    if (status == 0 && !paths_ok)
        status = 1;
    return status;
}
