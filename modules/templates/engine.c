/* engine.c — the named templates of one HtmlTemplate, and loading them.
 *
 * Templates are found by name for render, include, extends and import;
 * an engine holds at most a few hundred templates, so a linear scan of
 * their names is enough.
 *
 * from_dir(glob): the directory part of the glob (everything before the
 * first component with a wildcard) is walked recursively; every regular
 * file whose path relative to it matches the rest of the glob is loaded
 * under that relative path: with the glob templates/ ** / *.html (no
 * spaces), templates/admin/base.html is loaded as "admin/base.html".  A
 * directory that does not exist gives an empty engine, as the reference
 * does.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "modules/templates/tpl.h"

tpl_template *tpl_engine_get(const tpl_engine *e, const qstr *name)
{
    for (uint32_t i = 0; i < e->n; i++)
        if (str_equal(e->tpls[i]->name, name))
            return e->tpls[i];
    return NULL;
}

bool tpl_engine_put(tpl_engine *e, tpl_template *t)
{
    for (uint32_t i = 0; i < e->n; i++) {
        if (str_equal(e->tpls[i]->name, t->name)) {
            tpl_template_free(e->tpls[i]);
            e->tpls[i] = t;
            return true;
        }
    }
    if (e->n == e->cap) {
        uint32_t cap = e->cap ? e->cap * 2 : 8;
        tpl_template **tpls = realloc(e->tpls, cap * sizeof *tpls);
        if (!tpls)
            return false;
        e->tpls = tpls;
        e->cap = cap;
    }
    e->tpls[e->n++] = t;
    return true;
}

void tpl_engine_free(tpl_engine *e)
{
    for (uint32_t i = 0; i < e->n; i++)
        tpl_template_free(e->tpls[i]);
    free(e->tpls);
    e->tpls = NULL;
    e->n = e->cap = 0;
}

void tpl_engine_mark(qvm *vm, tpl_engine *e)
{
    for (uint32_t i = 0; i < e->n; i++)
        vm_mark_obj(vm, (qobj *)e->tpls[i]->consts);
}

bool tpl_engine_add(qvm *vm, tpl_engine *e, qstr *name, const char *src, size_t len)
{
    tpl_error err;
    tpl_template *t = tpl_parse(vm, name, src, len, &err);
    if (!t) {
        vm_raise(vm, E_RUNTIME, "Template error: Failed to parse '%s' (line %u, column %u): %s",
                 name->data, err.line, err.col, err.msg);
        return false;
    }
    if (!tpl_engine_put(e, t)) {
        tpl_template_free(t);
        vm_raise(vm, E_RUNTIME, "Template error: out of memory");
        return false;
    }
    return true;
}

/* ---- glob matching ----------------------------------------------------------------------------- */

/* Match path against pattern: `*` and `?` within one path component,
 * `**` any number of components, `[a-z]`/`[!a]` sets, `{a,b}` choices. */
static bool eng_match(const char *p, const char *s);

/* {a,b,c}rest: try each choice followed by what follows the braces. */
static bool eng_match_braces(const char *p, const char *s)
{
    const char *close = p + 1;
    for (int depth = 1; *close && depth; close++)
        depth += *close == '{' ? 1 : *close == '}' ? -1 : 0;
    if (close[-1] != '}')
        return *s == '{' && eng_match(p + 1, s + 1); /* unbalanced: literal */
    const char *rest = close;
    for (const char *alt = p + 1; alt < close;) {
        const char *end = alt;
        for (int depth = 0; end < close - 1 && (depth || *end != ','); end++)
            depth += *end == '{' ? 1 : *end == '}' ? -1 : 0;
        size_t n = (size_t)(end - alt), r = strlen(rest);
        char *pat = malloc(n + r + 1);
        if (!pat)
            abort();
        memcpy(pat, alt, n);
        memcpy(pat + n, rest, r + 1);
        bool ok = eng_match(pat, s);
        free(pat);
        if (ok)
            return true;
        alt = end + 1;
    }
    return false;
}

static bool eng_match_set(const char **pp, char c)
{
    const char *p = *pp + 1;
    bool negate = *p == '!' || *p == '^', hit = false;
    p += negate;
    for (bool first = true; *p && (first || *p != ']'); first = false) {
        char lo = *p, hi = lo;
        if (p[1] == '-' && p[2] && p[2] != ']') {
            hi = p[2];
            p += 2;
        }
        hit |= c >= lo && c <= hi;
        p++;
    }
    if (*p != ']')
        return false;
    *pp = p + 1;
    return hit != negate;
}

static bool eng_match(const char *p, const char *s)
{
    for (;;) {
        switch (*p) {
        case '\0':
            return !*s;
        case '{':
            return eng_match_braces(p, s);
        case '*':
            if (p[1] == '*' && (p[2] == '/' || !p[2])) {
                const char *rest = p[2] ? p + 3 : p + 2;
                for (const char *t = s;; t++) { /* any number of components */
                    if ((t == s || t[-1] == '/') && eng_match(rest, t))
                        return true;
                    if (!*t)
                        return !*rest;
                }
            }
            for (const char *t = s;; t++) {
                if (eng_match(p + 1, t))
                    return true;
                if (!*t || *t == '/')
                    return false;
            }
        case '?':
            if (!*s || *s == '/')
                return false;
            p++;
            s++;
            break;
        case '[': {
            const char *q = p;
            if (!*s || *s == '/' || !eng_match_set(&q, *s))
                return false;
            p = q;
            s++;
            break;
        }
        default:
            if (*p != *s)
                return false;
            p++;
            s++;
        }
    }
}

typedef struct eng_loader {
    qvm *vm;
    tpl_engine *e;
    const char *pattern;  /* the part after the base directory */
    qbuf error;           /* first failure */
    char **found;
    size_t nfound, capfound;
} eng_loader;

static void eng_found(eng_loader *l, const char *rel)
{
    if (l->nfound == l->capfound) {
        size_t cap = l->capfound ? l->capfound * 2 : 16;
        char **f = realloc(l->found, cap * sizeof *f);
        if (!f)
            abort();
        l->found = f;
        l->capfound = cap;
    }
    l->found[l->nfound] = strdup(rel);
    if (!l->found[l->nfound])
        abort();
    l->nfound++;
}

/* a + "/" + b, leaving out the slash next to an empty part. */
static char *eng_join(const char *a, const char *b)
{
    char *p;
    if (asprintf(&p, "%s%s%s", a, *a && *b ? "/" : "", b) < 0)
        abort();
    return p;
}

/* Walk dir (base/rel), collecting files that match. */
static void eng_walk(eng_loader *l, const char *base, const char *rel, int depth)
{
    char *dirpath = eng_join(base, rel);
    DIR *d = depth > 32 ? NULL : opendir(*dirpath ? dirpath : ".");
    free(dirpath);
    if (!d)
        return;
    struct dirent *ent;
    while ((ent = readdir(d))) {
        if (ent->d_name[0] == '.' && (!ent->d_name[1] || (ent->d_name[1] == '.' && !ent->d_name[2])))
            continue;
        char *child = eng_join(rel, ent->d_name), *full = eng_join(base, child);
        struct stat st;
        if (stat(full, &st) == 0) {
            if (S_ISDIR(st.st_mode))
                eng_walk(l, base, child, depth + 1);
            else if (S_ISREG(st.st_mode) && eng_match(l->pattern, child))
                eng_found(l, child);
        }
        free(child);
        free(full);
    }
    closedir(d);
}

static int eng_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool eng_load_file(eng_loader *l, const char *base, const char *rel)
{
    char *full = eng_join(base, rel);
    size_t len;
    char *src = buf_read_file(full, SIZE_MAX, &len);
    if (!src)
        buf_printf(&l->error, "Failed to read '%s': %s", full, strerror(errno));
    free(full);
    if (!src)
        return false;
    bool ok = tpl_engine_add(l->vm, l->e, str_intern_cstr(l->vm, rel), src, len);
    free(src);
    if (!ok) {
        qexc *exc = vm_take_exc(l->vm);
        buf_printf(&l->error, "%s", exc && exc->message ? exc->message->data : "parse error");
    }
    return ok;
}

bool tpl_engine_load_glob(qvm *vm, tpl_engine *e, const char *pattern)
{
    /* The base directory: up to the last '/' before the first wildcard. */
    size_t magic = strcspn(pattern, "*?[{");
    size_t cut = magic;
    while (cut > 0 && pattern[cut - 1] != '/')
        cut--;
    char base[4096];
    size_t blen = cut ? cut - 1 : 0;
    if (blen >= sizeof base)
        blen = sizeof base - 1;
    memcpy(base, pattern, blen);
    base[blen] = '\0';
    if (cut == 1) /* "/x*": the root directory */
        strcpy(base, "/");
    eng_loader l = {vm, e, pattern + cut, {0}, NULL, 0, 0};
    buf_init(&l.error);
    if (!pattern[magic]) { /* no wildcard: one file */
        struct stat st;
        if (stat(pattern, &st) == 0 && S_ISREG(st.st_mode))
            eng_found(&l, pattern + cut);
    } else {
        eng_walk(&l, base, "", 0);
    }
    if (l.nfound > 1)
        qsort(l.found, l.nfound, sizeof *l.found, eng_cmp);
    bool ok = true;
    for (size_t i = 0; i < l.nfound; i++) {
        ok = ok && eng_load_file(&l, base, l.found[i]);
        free(l.found[i]);
    }
    free(l.found);
    if (!ok) {
        buf_putc(&l.error, '\0');
        vm_raise(vm, E_RUNTIME, "Failed to create Tera from pattern '%s': %s", pattern, l.error.data);
    }
    buf_free(&l.error);
    return ok;
}
