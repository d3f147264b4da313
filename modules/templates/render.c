/* render.c — rendering template nodes.
 *
 * Scoping follows Tera's call stack.  A render starts with an origin frame;
 * `include` pushes an include frame, a loop a loop frame (its `set`s
 * vanish at each iteration), a macro call a macro frame.  A name is looked
 * up from the innermost frame outwards — through include frames, so an
 * included template sees the caller's loop variables — up to the first
 * origin or macro frame, then in the context Dict.  `set_global` writes to
 * the nearest frame that is not a loop.
 *
 * Inheritance: the rendered template and its parents form `levels` (child
 * first).  The top parent's nodes are rendered; at each {% block %} the
 * most derived definition wins, and super() renders the next one up.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/templates/tpl.h"

typedef enum { F_ORIGIN, F_INCLUDE, F_LOOP, F_MACRO } frame_kind;
typedef enum { LOOP_NEXT, LOOP_BREAK, LOOP_CONTINUE } loop_state;

typedef struct tpl_var {
    const qstr *name;
    qval value;
} tpl_var;

struct tpl_frame {
    uint8_t kind;
    uint8_t state;        /* loop_state of a loop frame */
    tpl_var *vars;        /* `set` in this frame (macro frames: the arguments) */
    uint32_t nvars, capvars;
    const qstr *key_name, *value_name;
    qval key, value;      /* current loop item */
    uint32_t index, len;
};

/* Limits: nested includes and macro calls; bodies being rendered at once
 * (the C stack is the bound); the extends chain. */
enum { TPL_MAX_DEPTH = 64, TPL_MAX_NESTING = 400, TPL_MAX_LEVELS = 32 };

/* ---- errors ------------------------------------------------------------------------------ */

bool tpl_fail(tpl_rs *rs, uint32_t line, uint32_t col, const char *fmt, ...)
{
    if (rs->failed)
        return false;
    rs->failed = true;
    rs->err.len = 0;
    va_list ap;
    va_start(ap, fmt);
    char tmp[512];
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    buf_puts(&rs->err, tmp);
    rs->err_where = rs->where;
    rs->err_line = line;
    rs->err_col = col;
    return false;
}

void tpl_clear_error(tpl_rs *rs)
{
    rs->failed = false;
    rs->err.len = 0;
}

/* ---- frames --------------------------------------------------------------------------------- */

static tpl_frame *r_push(tpl_rs *rs, frame_kind kind)
{
    if (rs->nframes == rs->capframes) {
        uint32_t cap = rs->capframes ? rs->capframes * 2 : 8;
        tpl_frame *f = realloc(rs->frames, cap * sizeof *f);
        if (!f)
            abort();
        rs->frames = f;
        rs->capframes = cap;
    }
    tpl_frame *f = &rs->frames[rs->nframes++];
    memset(f, 0, sizeof *f);
    f->kind = (uint8_t)kind;
    return f;
}

static void r_pop(tpl_rs *rs)
{
    free(rs->frames[--rs->nframes].vars);
}

static void r_assign(tpl_frame *f, const qstr *name, qval v)
{
    for (uint32_t i = 0; i < f->nvars; i++) {
        if (f->vars[i].name == name) {
            f->vars[i].value = v;
            return;
        }
    }
    if (f->nvars == f->capvars) {
        uint32_t cap = f->capvars ? f->capvars * 2 : 4;
        tpl_var *vars = realloc(f->vars, cap * sizeof *vars);
        if (!vars)
            abort();
        f->vars = vars;
        f->capvars = cap;
    }
    f->vars[f->nvars++] = (tpl_var){name, v};
}

bool tpl_lookup(tpl_rs *rs, const qstr *name, qval *out)
{
    for (uint32_t i = rs->nframes; i-- > 0;) {
        const tpl_frame *f = &rs->frames[i];
        for (uint32_t j = 0; j < f->nvars; j++) {
            if (f->vars[j].name == name) {
                *out = f->vars[j].value;
                return true;
            }
        }
        if (f->kind == F_LOOP) {
            if (f->value_name == name) {
                *out = f->value;
                return true;
            }
            if (f->key_name == name) {
                *out = f->key;
                return true;
            }
        }
        if (f->kind == F_ORIGIN || f->kind == F_MACRO)
            break;
    }
    return dict_get(rs->ctx, name, out);
}

/* The innermost loop frame visible from here, or NULL. */
static tpl_frame *r_loop_frame(tpl_rs *rs)
{
    for (uint32_t i = rs->nframes; i-- > 0;) {
        tpl_frame *f = &rs->frames[i];
        if (f->kind == F_LOOP)
            return f;
        if (f->kind != F_INCLUDE)
            return NULL;
    }
    return NULL;
}

bool tpl_loop_field(tpl_rs *rs, const qstr *seg, qval *out)
{
    const tpl_frame *f = r_loop_frame(rs);
    if (!f)
        return false;
    const struct tpl_names *n = &rs->names;
    if (seg == n->index)
        *out = qv_int(f->index + 1);
    else if (seg == n->index0)
        *out = qv_int(f->index);
    else if (seg == n->first)
        *out = qv_bool(f->index == 0);
    else if (seg == n->last)
        *out = qv_bool(f->index + 1 == f->len);
    else if (seg == n->length)
        *out = qv_int(f->len);
    else
        return false;
    return true;
}

/* ---- nodes ------------------------------------------------------------------------------------ */

static bool r_body(tpl_rs *rs, const tpl_body *b);

/* Is the innermost frame a loop told to break or continue? */
static bool r_interrupted(const tpl_rs *rs)
{
    const tpl_frame *f = &rs->frames[rs->nframes - 1];
    return f->kind == F_LOOP && f->state != LOOP_NEXT;
}

static bool r_output(tpl_rs *rs, const tpl_node *n)
{
    qval v;
    if (!tpl_eval(rs, n->u.expr, &v))
        return false;
    if (IS_STR(v)) {
        if (n->flag && rs->escape)
            tpl_escape(rs->out, AS_STR(v)->data, AS_STR(v)->len);
        else
            buf_append(rs->out, AS_STR(v)->data, AS_STR(v)->len);
    } else {
        tpl_print(rs->vm, rs->out, v);
    }
    return true;
}

static bool r_if(tpl_rs *rs, const tpl_node *n)
{
    for (uint32_t i = 0; i < n->u.cond.n; i++) {
        bool yes;
        if (!tpl_eval_bool(rs, n->u.cond.conds[i], &yes))
            return false;
        if (yes)
            return r_body(rs, &n->u.cond.bodies[i]);
    }
    return r_body(rs, &n->u.cond.bodies[n->u.cond.n]);
}

/* What a loop iterates over: array items, characters or sorted keys. */
typedef struct r_iter {
    qval container;
    qarray *array;
    qstr **keys;        /* objects */
    const char *chars;  /* strings: next character */
    uint32_t len;
} r_iter;

static const char *r_container_name(const tpl_expr *e)
{
    if (e->kind == X_VAR)
        return e->u.var.root->data;
    return e->kind == X_ARRAY ? "an array literal" : "an expression";
}

static bool r_iter_init(tpl_rs *rs, const tpl_node *n, r_iter *it)
{
    const tpl_expr *c = n->u.loop.container;
    memset(it, 0, sizeof *it);
    if (!tpl_eval(rs, c, &it->container))
        return false;
    qval v = it->container;
    bool keyed = n->u.loop.key != NULL;
    if (IS_ARRAY(v) || IS_STR(v)) {
        if (keyed)
            return tpl_fail(rs, n->line, n->col,
                            "Tried to iterate using key value on variable `%s`, but it isn't an object/map",
                            r_container_name(c));
        if (IS_ARRAY(v)) {
            it->array = AS_ARRAY(v);
            it->len = it->array->len;
        } else {
            it->chars = AS_STR(v)->data;
            it->len = AS_STR(v)->nchars;
        }
        return true;
    }
    if (tpl_is_object(v)) {
        if (!keyed)
            return tpl_fail(rs, n->line, n->col,
                            "Tried to iterate using key value on variable `%s`, but it is missing a key",
                            r_container_name(c));
        it->keys = tpl_object_keys(v, &it->len);
        return true;
    }
    return tpl_fail(rs, n->line, n->col,
                    "Tried to iterate on a container (`%s`) that has a unsupported type",
                    r_container_name(c));
}

/* Item i into the loop frame. */
static void r_iter_item(tpl_rs *rs, r_iter *it, uint32_t i, tpl_frame *f)
{
    if (it->array) {
        f->value = it->array->items[i];
    } else if (it->chars) {
        const char *s = it->chars;
        size_t n = 1;
        while ((s[n] & 0xC0) == 0x80)
            n++;
        f->value = qv_obj(str_new(rs->vm, s, n));
        it->chars += n;
    } else {
        f->key = qv_obj(it->keys[i]);
        tpl_object_get(it->container, it->keys[i], &f->value);
    }
}

static bool r_budget(tpl_rs *rs, const tpl_node *n)
{
    if (rs->budget < 0)
        return true;
    if (rs->budget == 0)
        return tpl_fail(rs, n->line, n->col, "render budget exhausted");
    rs->budget--;
    return true;
}

static bool r_for(tpl_rs *rs, const tpl_node *n)
{
    r_iter it;
    if (!r_iter_init(rs, n, &it))
        return false;
    if (!it.len) {
        free(it.keys);
        return r_body(rs, &n->u.loop.empty);
    }
    tpl_frame *f = r_push(rs, F_LOOP);
    f->key_name = n->u.loop.key;
    f->value_name = n->u.loop.value;
    f->len = it.len;
    uint32_t fi = rs->nframes - 1;
    bool ok = true;
    for (uint32_t i = 0; ok && i < it.len; i++) {
        f = &rs->frames[fi];
        f->index = i;
        f->nvars = 0;
        f->state = LOOP_NEXT;
        r_iter_item(rs, &it, i, f);
        ok = r_budget(rs, n) && r_body(rs, &n->u.loop.body);
        if (rs->frames[fi].state == LOOP_BREAK)
            break;
    }
    r_pop(rs);
    free(it.keys);
    return ok;
}

static bool r_set(tpl_rs *rs, const tpl_node *n)
{
    qval v;
    if (!tpl_eval(rs, n->u.set.value, &v))
        return false;
    uint32_t i = rs->nframes - 1;
    if (n->flag)
        while (rs->frames[i].kind == F_LOOP)
            i--;
    r_assign(&rs->frames[i], n->u.set.name, v);
    return true;
}

/* Render `body` as belonging to template t (for errors, macros, includes). */
static bool r_body_in(tpl_rs *rs, const tpl_template *t, const tpl_body *body)
{
    const tpl_template *saved = rs->where;
    rs->where = t;
    bool ok = r_body(rs, body);
    rs->where = saved;
    return ok;
}

/* The definition of block `name` at `level` or above, rendered. */
static bool r_block_from(tpl_rs *rs, const qstr *name, uint32_t level, bool *found)
{
    for (uint32_t l = level; l < rs->nlevels; l++) {
        const tpl_node *def = tpl_find_block(rs->levels[l], name);
        if (!def)
            continue;
        if (rs->nblocks == rs->capblocks) {
            uint32_t cap = rs->capblocks ? rs->capblocks * 2 : 8;
            struct tpl_blockref *b = realloc(rs->blocks, cap * sizeof *b);
            if (!b)
                abort();
            rs->blocks = b;
            rs->capblocks = cap;
        }
        rs->blocks[rs->nblocks++] = (struct tpl_blockref){name, l};
        bool ok = r_body_in(rs, rs->levels[l], &def->u.block.body);
        rs->nblocks--;
        *found = true;
        return ok;
    }
    *found = false;
    return true;
}

static bool r_block(tpl_rs *rs, const tpl_node *n)
{
    bool found;
    if (!r_block_from(rs, n->u.block.name, 0, &found))
        return false;
    return found || r_body(rs, &n->u.block.body);
}

static bool r_super(tpl_rs *rs, const tpl_node *n)
{
    bool found = false;
    if (rs->nblocks) {
        struct tpl_blockref top = rs->blocks[rs->nblocks - 1];
        if (!r_block_from(rs, top.name, top.level + 1, &found))
            return false;
    }
    return found || tpl_fail(rs, n->line, n->col, "Tried to use super() in the top level block");
}

static bool r_include(tpl_rs *rs, const tpl_node *n)
{
    const tpl_template *t = NULL;
    for (uint32_t i = 0; i < n->u.include.n && !t; i++)
        t = tpl_engine_get(rs->eng, n->u.include.names[i]);
    if (!t) {
        if (n->flag)
            return true;
        qbuf names;
        buf_init(&names);
        for (uint32_t i = 0; i < n->u.include.n; i++)
            buf_printf(&names, "%s%s", i ? ", " : "", n->u.include.names[i]->data);
        buf_putc(&names, '\0');
        tpl_fail(rs, n->line, n->col, "Template '[%s]' not found", names.data);
        buf_free(&names);
        return false;
    }
    if (t->parent)
        return tpl_fail(rs, n->line, n->col,
                        "Inheritance in included templates is currently not supported: extended `%s`",
                        t->parent->data);
    if (rs->depth >= TPL_MAX_DEPTH)
        return tpl_fail(rs, n->line, n->col, "include nesting deeper than %d (a circular include?)",
                        TPL_MAX_DEPTH);
    const tpl_template **levels = rs->levels, *one = t;
    uint32_t nlevels = rs->nlevels;
    rs->levels = &one;
    rs->nlevels = 1;
    rs->depth++;
    r_push(rs, F_INCLUDE);
    bool ok = r_body_in(rs, t, &t->body);
    r_pop(rs);
    rs->depth--;
    rs->levels = levels;
    rs->nlevels = nlevels;
    return ok;
}

/* {% filter name %}: the body rendered, then filtered (never escaped). */
static bool r_filter_section(tpl_rs *rs, const tpl_node *n)
{
    qbuf body, *saved = rs->out;
    buf_init(&body);
    rs->out = &body;
    bool ok = r_body(rs, &n->u.filter.body);
    rs->out = saved;
    if (!ok) {
        buf_free(&body);
        return false;
    }
    const tpl_expr *f = n->u.filter.filter;
    qval text = qv_obj(buf_to_str(rs->vm, &body)), args[TPL_MAX_PARAMS], out;
    if (f->op == tpl_filter_safe) {
        tpl_print(rs->vm, rs->out, text);
        return true;
    }
    for (uint32_t i = 0; i < TPL_MAX_PARAMS; i++)
        args[i] = qv_undef();
    for (uint32_t i = 0; i < f->u.call.nargs; i++)
        if (f->u.call.args[i].value && !tpl_eval(rs, f->u.call.args[i].value, &args[i]))
            return false;
    if (!tpl_filters[f->op].filter(rs, f, text, args, &out))
        return false;
    tpl_print(rs->vm, rs->out, out);
    return true;
}

static bool r_jump(tpl_rs *rs, const tpl_node *n)
{
    tpl_frame *f = r_loop_frame(rs);
    if (f)
        f->state = n->kind == N_BREAK ? LOOP_BREAK : LOOP_CONTINUE;
    return true;
}

static bool r_node(tpl_rs *rs, const tpl_node *n)
{
    switch ((tpl_node_kind)n->kind) {
    case N_TEXT:
        buf_append(rs->out, n->u.text.s, n->u.text.len);
        return true;
    case N_OUT: return r_output(rs, n);
    case N_IF: return r_if(rs, n);
    case N_FOR: return r_for(rs, n);
    case N_SET: return r_set(rs, n);
    case N_BLOCK: return r_block(rs, n);
    case N_SUPER: return r_super(rs, n);
    case N_INCLUDE: return r_include(rs, n);
    case N_FILTER: return r_filter_section(rs, n);
    default: return r_jump(rs, n);
    }
}

static bool r_body(tpl_rs *rs, const tpl_body *b)
{
    if (!b->n)
        return true;
    if (rs->nesting >= TPL_MAX_NESTING)
        return tpl_fail(rs, b->nodes[0].line, b->nodes[0].col,
                        "rendering nested more than %d levels deep", TPL_MAX_NESTING);
    rs->nesting++;
    bool ok = true;
    for (uint32_t i = 0; ok && i < b->n; i++) {
        ok = r_budget(rs, &b->nodes[i]) && r_node(rs, &b->nodes[i]);
        if (r_interrupted(rs))
            break;
    }
    rs->nesting--;
    return ok;
}

/* ---- macros ---------------------------------------------------------------------------------------- */

/* The macro `ns::name` as seen from the template being rendered. */
static bool r_find_macro(tpl_rs *rs, const tpl_expr *e, const tpl_template **owner,
                         const tpl_macro **m)
{
    const tpl_template *t = rs->where;
    if (e->u.call.ns != rs->names.self) {
        const tpl_import *im = NULL;
        for (uint32_t i = 0; i < t->nimports && !im; i++)
            if (t->imports[i].ns == e->u.call.ns)
                im = &t->imports[i];
        if (!im)
            return tpl_fail(rs, e->line, e->col, "Macro namespace `%s` was not imported in '%s'",
                            e->u.call.ns->data, t->name->data);
        t = tpl_engine_get(rs->eng, im->file);
        if (!t)
            return tpl_fail(rs, e->line, e->col, "Template '%s' not found", im->file->data);
    }
    *owner = t;
    *m = tpl_find_macro(t, e->u.call.name);
    if (!*m)
        return tpl_fail(rs, e->line, e->col, "Macro `%s::%s` not found in template '%s'",
                        e->u.call.ns->data, e->u.call.name->data, t->name->data);
    return true;
}

bool tpl_call_macro(tpl_rs *rs, const tpl_expr *e, qval *out)
{
    const tpl_template *owner = NULL;
    const tpl_macro *m = NULL;
    if (!r_find_macro(rs, e, &owner, &m))
        return false;
    if (rs->depth >= TPL_MAX_DEPTH)
        return tpl_fail(rs, e->line, e->col, "macro calls nested deeper than %d", TPL_MAX_DEPTH);
    /* Arguments are evaluated in the caller's scope, before the frame. */
    tpl_frame args = {0};
    for (uint32_t i = 0; i < m->nparams; i++) {
        const tpl_expr *value = m->defaults[i];
        for (uint32_t j = 0; j < e->u.call.nargs; j++)
            if (e->u.call.args[j].name == m->params[i])
                value = e->u.call.args[j].value;
        qval v;
        if (!value) {
            free(args.vars);
            return tpl_fail(rs, e->line, e->col, "Macro `%s` is missing the argument `%s`",
                            m->name->data, m->params[i]->data);
        }
        if (!tpl_eval(rs, value, &v)) {
            free(args.vars);
            return false;
        }
        r_assign(&args, m->params[i], v);
    }
    tpl_frame *f = r_push(rs, F_MACRO);
    f->vars = args.vars;
    f->nvars = args.nvars;
    f->capvars = args.capvars;
    qbuf body, *saved = rs->out;
    buf_init(&body);
    rs->out = &body;
    rs->depth++;
    bool ok = r_body_in(rs, owner, &m->body);
    rs->depth--;
    rs->out = saved;
    r_pop(rs);
    if (!ok) {
        buf_free(&body);
        return false;
    }
    *out = qv_obj(buf_to_str(rs->vm, &body));
    return true;
}

/* ---- entry point -------------------------------------------------------------------------------------- */

/* t and its parents, child first; false after failing. */
static bool r_levels(tpl_rs *rs, const tpl_template *t, const tpl_template **levels, uint32_t *n)
{
    *n = 0;
    for (const tpl_template *cur = t; cur;) {
        for (uint32_t i = 0; i < *n; i++) {
            if (levels[i] == cur)
                return tpl_fail(rs, 1, 1, "Circular extend detected for template '%s'",
                                t->name->data);
        }
        if (*n == TPL_MAX_LEVELS)
            return tpl_fail(rs, 1, 1, "template '%s' extends more than %d levels deep",
                            t->name->data, TPL_MAX_LEVELS);
        levels[(*n)++] = cur;
        if (!cur->parent)
            break;
        const tpl_template *parent = tpl_engine_get(rs->eng, cur->parent);
        if (!parent)
            return tpl_fail(rs, 1, 1,
                            "Template '%s' is inheriting from '%s', which doesn't exist or isn't loaded.",
                            cur->name->data, cur->parent->data);
        cur = parent;
    }
    return true;
}

static void r_names(tpl_rs *rs)
{
    struct tpl_names *n = &rs->names;
    n->loop = str_intern_cstr(rs->vm, "loop");
    n->index = str_intern_cstr(rs->vm, "index");
    n->index0 = str_intern_cstr(rs->vm, "index0");
    n->first = str_intern_cstr(rs->vm, "first");
    n->last = str_intern_cstr(rs->vm, "last");
    n->length = str_intern_cstr(rs->vm, "length");
    n->self = str_intern_cstr(rs->vm, "self");
}

/* The error as the reference words it, plus where it happened. */
static qval r_raise(tpl_rs *rs)
{
    const tpl_template *at = rs->err_where ? rs->err_where : rs->tpl;
    buf_putc(&rs->err, '\0');
    qval r;
    if (at == rs->tpl)
        r = vm_raise(rs->vm, E_RUNTIME, "Template error: Failed to render '%s' (line %u, column %u): %s",
                     rs->tpl->name->data, rs->err_line, rs->err_col, rs->err.data);
    else
        r = vm_raise(rs->vm, E_RUNTIME,
                     "Template error: Failed to render '%s' (in '%s', line %u, column %u): %s",
                     rs->tpl->name->data, at->name->data, rs->err_line, rs->err_col, rs->err.data);
    return r;
}

qval tpl_render(qvm *vm, tpl_engine *e, tpl_template *t, qdict *ctx, int64_t budget)
{
    const tpl_template *levels[TPL_MAX_LEVELS];
    qbuf out;
    buf_init(&out);
    if (t->size_hint) { /* the last render's size: grow the buffer once, not log(n) times */
        out.data = malloc(t->size_hint + 1);
        out.cap = out.data ? t->size_hint + 1 : 0;
    }
    tpl_rs rs = {0};
    rs.vm = vm;
    rs.eng = e;
    rs.ctx = ctx;
    rs.out = &out;
    rs.escape = t->autoescape;
    rs.tpl = t;
    rs.where = t;
    rs.budget = budget > 0 ? budget : -1;
    buf_init(&rs.err);
    r_names(&rs);
    bool ok = r_levels(&rs, t, levels, &rs.nlevels);
    if (ok) {
        rs.levels = levels;
        r_push(&rs, F_ORIGIN);
        const tpl_template *root = levels[rs.nlevels - 1];
        ok = r_body_in(&rs, root, &root->body);
        r_pop(&rs);
    }
    if (ok)
        t->size_hint = out.len;
    qval result = ok ? qv_obj(buf_to_str(vm, &out)) : r_raise(&rs);
    if (!ok)
        buf_free(&out);
    free(rs.frames);
    free(rs.blocks);
    buf_free(&rs.err);
    return result;
}
