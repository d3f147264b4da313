/* parser.c — template tokens to a tree of nodes and expressions.
 *
 * Recursive descent over the lexer's tokens.  Expressions follow Tera's
 * grammar, including its one surprise: a filter applies to the whole
 * arithmetic to its left, so `{{ price * qty | round }}` rounds the product,
 * while `{{ items | length + 1 }}` adds to the filtered value.  Precedence,
 * loosest first: or; and; not; comparisons and `in`; + -; * / %; filters;
 * `~` concatenation; atoms (literals, paths, calls, `is` tests).
 *
 * Names of filters, tests and functions and their argument names are
 * checked here, so a misspelt one is a syntax error with its position
 * rather than a failure at render time.  Whitespace control (`{%-`, `-%}`)
 * trims the neighbouring text nodes as the tree is built.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/templates/tpl.h"

/* ---- arena ----------------------------------------------------------------- */

struct tpl_arena {
    struct tpl_chunk *head;
};

typedef struct tpl_chunk {
    struct tpl_chunk *next;
    size_t used, size;
    _Alignas(16) unsigned char data[];
} tpl_chunk;

enum { ARENA_CHUNK = 16384 };

tpl_arena *tpl_arena_new(void)
{
    tpl_arena *a = calloc(1, sizeof *a);
    if (!a)
        abort();
    return a;
}

void *tpl_arena_alloc(tpl_arena *a, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    tpl_chunk *c = a->head;
    if (!c || c->size - c->used < size) {
        size_t n = size > ARENA_CHUNK ? size : ARENA_CHUNK;
        c = malloc(sizeof *c + n);
        if (!c)
            abort();
        c->used = 0;
        c->size = n;
        c->next = a->head;
        a->head = c;
    }
    void *p = c->data + c->used;
    c->used += size;
    memset(p, 0, size);
    return p;
}

void tpl_arena_free(tpl_arena *a)
{
    if (!a)
        return;
    for (tpl_chunk *c = a->head, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    free(a);
}

/* ---- parser state ---------------------------------------------------------------- */

/* A growable array of fixed-size items, copied into the arena when done. */
typedef struct pvec {
    char *items;
    uint32_t n, cap;
} pvec;

static void *pvec_push(pvec *v, size_t size)
{
    if (v->n == v->cap) {
        uint32_t cap = v->cap ? v->cap * 2 : 8;
        char *items = realloc(v->items, (size_t)cap * size);
        if (!items)
            abort();
        v->items = items;
        v->cap = cap;
    }
    void *p = v->items + (size_t)v->n++ * size;
    memset(p, 0, size);
    return p;
}

typedef struct tpl_parser {
    qvm *vm;
    tpl_lexer lx;
    tpl_token tok;
    tpl_template *t;
    tpl_arena *a;
    tpl_error *err;
    bool failed;
    bool trim_next;      /* the last tag ended with `-%}`: trim the next text */
    bool seen_content;   /* something other than whitespace/comments at top level */
    int loop_depth, block_depth;
    int nesting;         /* expressions and bodies being parsed, to bound recursion */
    bool in_macro;
    size_t prev_end;     /* where the token before the current one ended */
    pvec blocks, macros, imports;
} tpl_parser;

static bool p_fail(tpl_parser *p, uint32_t line, uint32_t col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static bool p_fail(tpl_parser *p, uint32_t line, uint32_t col, const char *fmt, ...)
{
    if (p->failed)
        return false;
    p->failed = true;
    p->err->line = line;
    p->err->col = col;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err->msg, sizeof p->err->msg, fmt, ap);
    va_end(ap);
    return false;
}

static void *p_new(tpl_parser *p, size_t size)
{
    return tpl_arena_alloc(p->a, size);
}

/* Keep a string alive as long as the template. */
static qstr *p_keep(tpl_parser *p, qstr *s)
{
    arr_push(p->vm, p->t->consts, qv_obj(s));
    return s;
}

static qstr *p_intern(tpl_parser *p, const char *s, size_t len)
{
    return p_keep(p, str_intern(p->vm, s, len));
}

/* Next token inside a tag; a lexer error fails the parse. */
static bool p_next(tpl_parser *p)
{
    p->prev_end = p->lx.pos;
    tpl_lex_inner(&p->lx, &p->tok);
    if (p->tok.kind == TK_ERROR)
        return p_fail(p, p->tok.line, p->tok.col, "%s", p->tok.msg);
    return true;
}

static bool tok_is_name(const tpl_token *t, const char *name)
{
    return t->kind == TK_NAME && t->len == strlen(name) && memcmp(t->s, name, t->len) == 0;
}

static bool tok_is_op(const tpl_token *t, int op)
{
    return t->kind == TK_OP && t->op == op;
}

/* Describe the current token for "expected X, found Y" messages. */
static const char *p_found(tpl_parser *p, char *buf, size_t n)
{
    switch (p->tok.kind) {
    case TK_EOF: return "the end of the template";
    case TK_VAR_CLOSE: return "`}}`";
    case TK_TAG_CLOSE: return "`%}`";
    case TK_STR: return "a string";
    default:
        snprintf(buf, n, "`%.*s`", (int)(p->tok.len > 40 ? 40 : p->tok.len), p->tok.s);
        return buf;
    }
}

static bool p_expected(tpl_parser *p, const char *what)
{
    char buf[64];
    return p_fail(p, p->tok.line, p->tok.col, "expected %s, found %s", what,
                  p_found(p, buf, sizeof buf));
}

static bool p_expect_op(tpl_parser *p, int op, const char *what)
{
    if (!tok_is_op(&p->tok, op))
        return p_expected(p, what);
    return p_next(p);
}

/* A plain identifier (no dots) as an interned string. */
static qstr *p_ident(tpl_parser *p, const char *what)
{
    if (p->tok.kind != TK_NAME || memchr(p->tok.s, '.', p->tok.len)) {
        p_expected(p, what);
        return NULL;
    }
    qstr *s = p_intern(p, p->tok.s, p->tok.len);
    return p_next(p) ? s : NULL;
}

/* ---- expressions -------------------------------------------------------------------- */

static tpl_expr *p_expr(tpl_parser *p);

enum { MAX_NESTING = 100 };

/* Enter one more level of recursion; false (failing) past MAX_NESTING. */
static bool p_enter(tpl_parser *p)
{
    if (++p->nesting <= MAX_NESTING)
        return true;
    return p_fail(p, p->tok.line, p->tok.col, "template nested more than %d levels deep",
                  MAX_NESTING);
}

static tpl_expr *x_new(tpl_parser *p, tpl_expr_kind kind, uint32_t line, uint32_t col)
{
    tpl_expr *e = p_new(p, sizeof *e);
    e->kind = (uint8_t)kind;
    e->line = line;
    e->col = col;
    return e;
}

static tpl_expr *x_bin(tpl_parser *p, tpl_expr_kind kind, int op, tpl_expr *a, tpl_expr *b)
{
    tpl_expr *e = x_new(p, kind, a->line, a->col);
    e->op = (uint8_t)op;
    e->u.bin.a = a;
    e->u.bin.b = b;
    return e;
}

static void *p_copy(tpl_parser *p, const pvec *v, size_t size)
{
    if (!v->n)
        return NULL;
    void *dst = p_new(p, (size_t)v->n * size);
    memcpy(dst, v->items, (size_t)v->n * size);
    return dst;
}

/* Arguments `(name=expr, ...)` of a filter or function, placed in the
 * builtin's parameter slots; b NULL keeps them by name (macro calls). */
static bool p_kwargs(tpl_parser *p, const tpl_builtin *b, const char *what, tpl_expr *call)
{
    pvec args = {0};
    uint32_t nslots = 0;
    if (b) {
        while (b->params[nslots])
            nslots++;
        for (uint32_t i = 0; i < nslots; i++)
            pvec_push(&args, sizeof(tpl_arg));
    }
    bool ok = p_next(p); /* ( */
    while (ok && !tok_is_op(&p->tok, ')')) {
        tpl_token name = p->tok;
        qstr *key = p_ident(p, "an argument name");
        ok = key && p_expect_op(p, '=', "`=`");
        tpl_expr *value = ok ? p_expr(p) : NULL;
        ok = value != NULL;
        if (!ok)
            break;
        if (b) {
            int slot = tpl_builtin_param(b, key->data, key->len);
            if (slot < 0) {
                ok = p_fail(p, name.line, name.col, "%s `%s` has no argument `%s`", what, b->name,
                            key->data);
                break;
            }
            tpl_arg *a = (tpl_arg *)args.items + slot;
            if (a->value) {
                ok = p_fail(p, name.line, name.col, "argument `%s` given twice", key->data);
                break;
            }
            a->name = key;
            a->value = value;
        } else {
            tpl_arg *a = pvec_push(&args, sizeof(tpl_arg));
            a->name = key;
            a->value = value;
        }
        if (!tok_is_op(&p->tok, ','))
            break;
        ok = p_next(p);
    }
    ok = ok && p_expect_op(p, ')', "`)` or `,`");
    if (ok) {
        call->u.call.args = p_copy(p, &args, sizeof(tpl_arg));
        call->u.call.nargs = args.n;
    }
    free(args.items);
    return ok;
}

/* One segment of a dotted name: "title" or "0". */
static void p_static_seg(tpl_parser *p, tpl_seg *s, const char *text, size_t len)
{
    s->key = p_intern(p, text, len);
    s->index = -1;
    if (len > 0 && len <= 18 && (text[0] != '0' || len == 1)) {
        int64_t v = 0;
        size_t i = 0;
        while (i < len && text[i] >= '0' && text[i] <= '9')
            v = v * 10 + (text[i++] - '0');
        if (i == len)
            s->index = v;
    }
}

/* `[ "key" | 0 | expr ]` after a name. */
static bool p_bracket_seg(tpl_parser *p, tpl_seg *s)
{
    if (!p_next(p)) /* [ */
        return false;
    if (p->tok.kind == TK_STR || p->tok.kind == TK_INT) {
        tpl_token k = p->tok;
        tpl_lexer save = p->lx;
        if (!p_next(p))
            return false;
        if (tok_is_op(&p->tok, ']')) {
            if (k.kind == TK_STR) {
                s->key = p_intern(p, k.s, k.len);
                s->index = -1;
            } else {
                p_static_seg(p, s, k.s, k.len);
            }
            return p_next(p);
        }
        p->lx = save; /* not a lone literal: parse it as an expression */
        p->tok = k;
    }
    s->dyn = p_expr(p);
    return s->dyn && p_expect_op(p, ']', "`]`");
}

/* A variable path starting at the current TK_NAME token. */
static tpl_expr *p_path(tpl_parser *p)
{
    tpl_token first = p->tok;
    tpl_expr *e = x_new(p, X_VAR, first.line, first.col);
    pvec segs = {0};
    const char *dot = memchr(first.s, '.', first.len);
    size_t rootlen = dot ? (size_t)(dot - first.s) : first.len;
    e->u.var.root = p_intern(p, first.s, rootlen);
    for (const char *s = dot; s;) {
        const char *start = s + 1, *end = first.s + first.len;
        const char *next = memchr(start, '.', (size_t)(end - start));
        p_static_seg(p, pvec_push(&segs, sizeof(tpl_seg)), start,
                     (size_t)((next ? next : end) - start));
        s = next;
    }
    bool ok = p_next(p);
    while (ok && (tok_is_op(&p->tok, '[') || tok_is_op(&p->tok, '.'))) {
        if (tok_is_op(&p->tok, '[')) {
            ok = p_bracket_seg(p, pvec_push(&segs, sizeof(tpl_seg)));
        } else {
            ok = p_next(p);
            if (ok && p->tok.kind != TK_NAME && p->tok.kind != TK_INT)
                ok = p_expected(p, "a name after `.`");
            if (ok) {
                p_static_seg(p, pvec_push(&segs, sizeof(tpl_seg)), p->tok.s, p->tok.len);
                ok = p_next(p);
            }
        }
    }
    if (ok) {
        e->u.var.segs = p_copy(p, &segs, sizeof(tpl_seg));
        e->u.var.nsegs = segs.n;
        e->u.var.text = first.s;
        e->u.var.text_len = (uint32_t)(p->lx.src + p->prev_end - first.s);
    }
    free(segs.items);
    return ok ? e : NULL;
}

/* `x is [not] name[(args)]` */
static tpl_expr *p_test(tpl_parser *p, tpl_expr *target)
{
    tpl_expr *e = x_new(p, X_TEST, target->line, target->col);
    e->u.call.target = target;
    if (!p_next(p)) /* is */
        return NULL;
    if (tok_is_name(&p->tok, "not")) {
        e->negated = true;
        if (!p_next(p))
            return NULL;
    }
    tpl_token name = p->tok;
    if (name.kind != TK_NAME) {
        p_expected(p, "a test name");
        return NULL;
    }
    int id = tpl_builtin_find(tpl_tests, name.s, name.len);
    if (id < 0) {
        p_fail(p, name.line, name.col, "unknown test `%.*s`", (int)name.len, name.s);
        return NULL;
    }
    e->op = (uint8_t)id;
    if (!p_next(p))
        return NULL;
    if (!tok_is_op(&p->tok, '('))
        return e;
    pvec args = {0};
    bool ok = p_next(p);
    while (ok && !tok_is_op(&p->tok, ')')) {
        tpl_expr *v = p_expr(p);
        ok = v != NULL;
        if (ok)
            ((tpl_arg *)pvec_push(&args, sizeof(tpl_arg)))->value = v;
        if (!ok || !tok_is_op(&p->tok, ','))
            break;
        ok = p_next(p);
    }
    ok = ok && p_expect_op(p, ')', "`)` or `,`");
    if (ok && (int)args.n > tpl_tests[id].max_args)
        ok = p_fail(p, name.line, name.col, "test `%s` takes at most %d argument(s)",
                    tpl_tests[id].name, tpl_tests[id].max_args);
    if (ok) {
        e->u.call.args = p_copy(p, &args, sizeof(tpl_arg));
        e->u.call.nargs = args.n;
    }
    free(args.items);
    return ok ? e : NULL;
}

/* name(args): a built-in function, or ns::name(args): a macro. */
static tpl_expr *p_call(tpl_parser *p, tpl_token name)
{
    if (tok_is_op(&p->tok, OP_NS)) {
        tpl_expr *e = x_new(p, X_MACRO, name.line, name.col);
        e->u.call.ns = p_intern(p, name.s, name.len);
        if (!p_next(p))
            return NULL;
        e->u.call.name = p_ident(p, "a macro name");
        if (!e->u.call.name)
            return NULL;
        if (!tok_is_op(&p->tok, '(')) {
            p_expected(p, "`(`");
            return NULL;
        }
        return p_kwargs(p, NULL, "macro", e) ? e : NULL;
    }
    int id = tpl_builtin_find(tpl_functions, name.s, name.len);
    if (id < 0) {
        if (name.len == 5 && memcmp(name.s, "super", 5) == 0)
            p_fail(p, name.line, name.col, "`super()` must be alone in `{{ }}` inside a block");
        else
            p_fail(p, name.line, name.col, "unknown function `%.*s`", (int)name.len, name.s);
        return NULL;
    }
    tpl_expr *e = x_new(p, X_CALL, name.line, name.col);
    e->op = (uint8_t)id;
    return p_kwargs(p, &tpl_functions[id], "function", e) ? e : NULL;
}

static tpl_expr *p_array(tpl_parser *p)
{
    tpl_expr *e = x_new(p, X_ARRAY, p->tok.line, p->tok.col);
    pvec items = {0};
    bool ok = p_next(p);
    while (ok && !tok_is_op(&p->tok, ']')) {
        tpl_expr *v = p_expr(p);
        ok = v != NULL;
        if (ok)
            *(tpl_expr **)pvec_push(&items, sizeof v) = v;
        if (!ok || !tok_is_op(&p->tok, ','))
            break;
        ok = p_next(p);
    }
    ok = ok && p_expect_op(p, ']', "`]` or `,`");
    if (ok) {
        e->u.list.items = p_copy(p, &items, sizeof(tpl_expr *));
        e->u.list.n = items.n;
    }
    free(items.items);
    return ok ? e : NULL;
}

static tpl_expr *p_const(tpl_parser *p, qval k)
{
    tpl_expr *e = x_new(p, X_CONST, p->tok.line, p->tok.col);
    e->u.k = k;
    return p_next(p) ? e : NULL;
}

/* Literals, paths, calls, tests, ( expr ), [ array ], -x. */
static tpl_expr *p_atom(tpl_parser *p)
{
    tpl_token t = p->tok;
    switch (t.kind) {
    case TK_INT: return p_const(p, qv_int(t.i));
    case TK_FLOAT: return p_const(p, qv_float(t.f));
    case TK_STR: return p_const(p, qv_obj(p_keep(p, str_new(p->vm, t.s, t.len))));
    case TK_OP:
        if (t.op == '(') {
            if (!p_next(p))
                return NULL;
            tpl_expr *e = p_expr(p);
            return e && p_expect_op(p, ')', "`)`") ? e : NULL;
        }
        if (t.op == '[')
            return p_array(p);
        if (t.op == '-') {
            if (!p_next(p))
                return NULL;
            if (p->tok.kind == TK_INT && p->tok.i != INT64_MIN)
                return p_const(p, qv_int(-p->tok.i));
            if (p->tok.kind == TK_FLOAT)
                return p_const(p, qv_float(-p->tok.f));
            tpl_expr *a = p_enter(p) ? p_atom(p) : NULL;
            p->nesting--;
            if (!a)
                return NULL;
            tpl_expr *e = x_new(p, X_NEG, t.line, t.col);
            e->u.bin.a = a;
            return e;
        }
        break;
    case TK_NAME:
        if (tok_is_name(&t, "true") || tok_is_name(&t, "True"))
            return p_const(p, qv_bool(true));
        if (tok_is_name(&t, "false") || tok_is_name(&t, "False"))
            return p_const(p, qv_bool(false));
        if (!memchr(t.s, '.', t.len)) {
            tpl_lexer save = p->lx;
            if (!p_next(p))
                return NULL;
            if (tok_is_op(&p->tok, '(') || tok_is_op(&p->tok, OP_NS))
                return p_call(p, t);
            p->lx = save;
            p->tok = t;
        }
        {
            tpl_expr *e = p_path(p);
            if (e && tok_is_name(&p->tok, "is"))
                return p_test(p, e);
            return e;
        }
    default:
        break;
    }
    p_expected(p, "an expression");
    return NULL;
}

/* atom ( ~ atom )* */
static tpl_expr *p_concat(tpl_parser *p)
{
    tpl_expr *first = p_atom(p);
    if (!first || !tok_is_op(&p->tok, '~'))
        return first;
    tpl_expr *e = x_new(p, X_CONCAT, first->line, first->col);
    pvec items = {0};
    *(tpl_expr **)pvec_push(&items, sizeof first) = first;
    bool ok = true;
    while (ok && tok_is_op(&p->tok, '~')) {
        tpl_expr *v = p_next(p) ? p_atom(p) : NULL;
        ok = v != NULL;
        if (ok)
            *(tpl_expr **)pvec_push(&items, sizeof v) = v;
    }
    if (ok) {
        e->u.list.items = p_copy(p, &items, sizeof(tpl_expr *));
        e->u.list.n = items.n;
    }
    free(items.items);
    return ok ? e : NULL;
}

static int math_prec(const tpl_token *t)
{
    if (t->kind != TK_OP)
        return 0;
    switch (t->op) {
    case '+': case '-': return 1;
    case '*': case '/': case '%': return 2;
    default: return 0;
    }
}

/* Precedence climbing over + - * / % with `unit` as the operand parser. */
static tpl_expr *p_math(tpl_parser *p, tpl_expr *(*unit)(tpl_parser *), int min_prec)
{
    tpl_expr *lhs = unit(p);
    int prec;
    while (lhs && (prec = math_prec(&p->tok)) >= min_prec && prec > 0) {
        int op = p->tok.op;
        if (!p_next(p))
            return NULL;
        tpl_expr *rhs = p_math(p, unit, prec + 1);
        if (!rhs)
            return NULL;
        lhs = x_bin(p, X_MATH, op, lhs, rhs);
    }
    return lhs;
}

/* `name(args)` applied to e, the current token being the name. */
static tpl_expr *p_filter_named(tpl_parser *p, tpl_expr *e, bool first)
{
    tpl_token name = p->tok;
    if (name.kind != TK_NAME || memchr(name.s, '.', name.len)) {
        p_expected(p, "a filter name");
        return NULL;
    }
    int id = tpl_builtin_find(tpl_filters, name.s, name.len);
    if (id < 0) {
        p_fail(p, name.line, name.col, "unknown filter `%.*s`", (int)name.len, name.s);
        return NULL;
    }
    tpl_expr *f = x_new(p, X_FILTER, name.line, name.col);
    f->op = (uint8_t)id;
    f->u.call.target = e;
    if (!p_next(p))
        return NULL;
    if (tok_is_op(&p->tok, '(') && !p_kwargs(p, &tpl_filters[id], "filter", f))
        return NULL;
    if (id != tpl_filter_default)
        return f;
    /* `default` acts only as the first filter on a name, as in Tera;
     * elsewhere it does nothing. */
    if (!f->u.call.nargs || !f->u.call.args[0].value) {
        p_fail(p, name.line, name.col, "the `default` filter requires a `value` argument");
        return NULL;
    }
    if (first && e->kind == X_VAR)
        e->u.var.dflt = f->u.call.args[0].value;
    return e;
}

/* `| name(args)` applied to e. */
static tpl_expr *p_filter(tpl_parser *p, tpl_expr *e, bool first)
{
    return p_next(p) ? p_filter_named(p, e, first) : NULL;
}

/* The arithmetic of atoms, then its filters. */
static tpl_expr *p_filtered(tpl_parser *p)
{
    tpl_expr *e = p_math(p, p_concat, 1);
    for (bool first = true; e && tok_is_op(&p->tok, '|'); first = false)
        e = p_filter(p, e, first);
    return e;
}

/* Arithmetic over filtered operands (Tera's comparison_val). */
static tpl_expr *p_sum(tpl_parser *p)
{
    return p_math(p, p_filtered, 1);
}

static int cmp_op(const tpl_token *t)
{
    if (t->kind != TK_OP)
        return 0;
    switch (t->op) {
    case OP_EQ: case OP_NE: case OP_LE: case OP_GE: case '<': case '>': return t->op;
    default: return 0;
    }
}

static tpl_expr *p_compare(tpl_parser *p)
{
    tpl_expr *lhs = p_sum(p);
    if (!lhs)
        return NULL;
    int op = cmp_op(&p->tok);
    if (op) {
        if (!p_next(p))
            return NULL;
        tpl_expr *rhs = p_sum(p);
        return rhs ? x_bin(p, X_CMP, op, lhs, rhs) : NULL;
    }
    bool negated = tok_is_name(&p->tok, "not");
    if (negated) {
        if (!p_next(p))
            return NULL;
        if (!tok_is_name(&p->tok, "in")) {
            p_expected(p, "`in` after `not`");
            return NULL;
        }
    }
    if (!tok_is_name(&p->tok, "in"))
        return lhs;
    if (!p_next(p))
        return NULL;
    tpl_expr *rhs = p_sum(p);
    if (!rhs)
        return NULL;
    tpl_expr *e = x_bin(p, X_IN, 0, lhs, rhs);
    e->negated = negated;
    return e;
}

static tpl_expr *p_not(tpl_parser *p)
{
    if (!tok_is_name(&p->tok, "not"))
        return p_compare(p);
    tpl_token t = p->tok;
    if (!p_next(p))
        return NULL;
    tpl_expr *a = p_enter(p) ? p_not(p) : NULL;
    p->nesting--;
    if (!a)
        return NULL;
    tpl_expr *e = x_new(p, X_NOT, t.line, t.col);
    e->u.bin.a = a;
    return e;
}

static tpl_expr *p_logic(tpl_parser *p, const char *word, tpl_expr_kind kind,
                         tpl_expr *(*operand)(tpl_parser *))
{
    tpl_expr *lhs = operand(p);
    while (lhs && tok_is_name(&p->tok, word)) {
        if (!p_next(p))
            return NULL;
        tpl_expr *rhs = operand(p);
        if (!rhs)
            return NULL;
        lhs = x_bin(p, kind, 0, lhs, rhs);
    }
    return lhs;
}

static tpl_expr *p_and(tpl_parser *p)
{
    return p_logic(p, "and", X_AND, p_not);
}

static tpl_expr *p_expr(tpl_parser *p)
{
    tpl_expr *e = p_enter(p) ? p_logic(p, "or", X_OR, p_and) : NULL;
    p->nesting--;
    return e;
}

/* ---- bodies ------------------------------------------------------------------------------- */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* `{%-` and friends: trim the end of the text node just before, if any. */
static void p_trim_prev(pvec *body)
{
    if (!body->n)
        return;
    tpl_node *last = (tpl_node *)body->items + body->n - 1;
    if (last->kind != N_TEXT)
        return;
    while (last->u.text.len && is_space(last->u.text.s[last->u.text.len - 1]))
        last->u.text.len--;
    if (!last->u.text.len)
        body->n--;
}

static tpl_node *p_node(pvec *body, tpl_node_kind kind, const tpl_token *at)
{
    tpl_node *n = pvec_push(body, sizeof(tpl_node));
    n->kind = (uint8_t)kind;
    n->line = at->line;
    n->col = at->col;
    return n;
}

static void p_text(tpl_parser *p, pvec *body, const tpl_token *t, const char *s, size_t len)
{
    if (p->trim_next) {
        p->trim_next = false;
        while (len && is_space(*s)) {
            s++;
            len--;
        }
    }
    if (!len)
        return;
    tpl_node *n = p_node(body, N_TEXT, t);
    n->u.text.s = s;
    n->u.text.len = (uint32_t)len;
}

/* The closer of the current tag; `-%}` trims the next text. */
static bool p_close(tpl_parser *p, tpl_tok_kind kind)
{
    if (p->tok.kind != kind)
        return p_expected(p, kind == TK_TAG_CLOSE ? "`%}`" : "`}}`");
    p->trim_next = p->tok.trim;
    return true;
}

static bool p_finish(tpl_parser *p, tpl_body *out, pvec *v)
{
    out->nodes = p_copy(p, v, sizeof(tpl_node));
    out->n = v->n;
    free(v->items);
    /* Register the blocks now that their nodes have their final address. */
    for (uint32_t i = 0; i < out->n; i++) {
        tpl_node *n = &out->nodes[i];
        if (n->kind != N_BLOCK)
            continue;
        tpl_node **seen = (tpl_node **)p->blocks.items;
        for (uint32_t j = 0; j < p->blocks.n; j++)
            if (seen[j]->u.block.name == n->u.block.name)
                return p_fail(p, n->line, n->col, "block `%s` is defined twice",
                              n->u.block.name->data);
        *(tpl_node **)pvec_push(&p->blocks, sizeof n) = n;
    }
    return !p->failed;
}

/* The keywords that can end the body being parsed, NULL-terminated. */
typedef const char *const *stops;

static int p_body(tpl_parser *p, pvec *body, stops end);

/* Parse a body up to one of `end`; the opener at `open` is named in the
 * error for a missing end tag.  Returns the index of the end keyword
 * found (the lexer stands after it) or -1 after failing. */
static int p_sub_body(tpl_parser *p, tpl_body *out, stops end, const tpl_token *open,
                      const char *what)
{
    pvec v = {0};
    int r = p_enter(p) ? p_body(p, &v, end) : -2;
    p->nesting--;
    if (r == -1)
        p_fail(p, open->line, open->col, "unclosed `{%% %s %%}`: expected `{%% %s %%}`", what,
               end[0]);
    if (r < 0) {
        free(v.items);
        return -1;
    }
    return p_finish(p, out, &v) ? r : -1;
}

/* After the end keyword: an optional name that must match, then `%}`. */
static bool p_end_tag(tpl_parser *p, const qstr *name)
{
    if (!p_next(p))
        return false;
    if (name && p->tok.kind == TK_NAME) {
        if (p->tok.len != name->len || memcmp(p->tok.s, name->data, name->len) != 0)
            return p_fail(p, p->tok.line, p->tok.col, "expected `%s` after the end tag, found `%.*s`",
                          name->data, (int)p->tok.len, p->tok.s);
        if (!p_next(p))
            return false;
    }
    return p_close(p, TK_TAG_CLOSE);
}

static bool p_if(tpl_parser *p, tpl_node *n, const tpl_token *open)
{
    static const char *const end[] = {"endif", "elif", "else", NULL};
    pvec conds = {0}, bodies = {0};
    bool ok = true, has_else = false;
    for (int r = 1; ok && r == 1;) { /* r: 1 elif, 2 else, 0 endif */
        tpl_expr *c = p_next(p) ? p_expr(p) : NULL;
        ok = c && p_close(p, TK_TAG_CLOSE);
        if (!ok)
            break;
        *(tpl_expr **)pvec_push(&conds, sizeof c) = c;
        r = p_sub_body(p, pvec_push(&bodies, sizeof(tpl_body)), end, open, "if");
        ok = r >= 0;
        if (ok && r == 2) {
            static const char *const end_else[] = {"endif", NULL};
            ok = p_next(p) && p_close(p, TK_TAG_CLOSE) &&
                 p_sub_body(p, pvec_push(&bodies, sizeof(tpl_body)), end_else, open, "if") >= 0;
            has_else = true;
            r = 0;
        }
        if (ok && r == 0)
            ok = p_end_tag(p, NULL);
    }
    if (ok && !has_else)
        pvec_push(&bodies, sizeof(tpl_body));
    if (ok) {
        n->u.cond.conds = p_copy(p, &conds, sizeof(tpl_expr *));
        n->u.cond.bodies = p_copy(p, &bodies, sizeof(tpl_body));
        n->u.cond.n = conds.n;
    }
    free(conds.items);
    free(bodies.items);
    return ok;
}

static bool p_for(tpl_parser *p, tpl_node *n, const tpl_token *open)
{
    static const char *const end[] = {"endfor", "else", NULL};
    if (!p_next(p))
        return false;
    qstr *a = p_ident(p, "a loop variable name");
    if (!a)
        return false;
    n->u.loop.value = a;
    if (tok_is_op(&p->tok, ',')) {
        if (!p_next(p))
            return false;
        n->u.loop.key = a;
        n->u.loop.value = p_ident(p, "a loop variable name");
        if (!n->u.loop.value)
            return false;
    }
    if (!tok_is_name(&p->tok, "in"))
        return p_expected(p, "`in`");
    n->u.loop.container = p_next(p) ? p_expr(p) : NULL;
    if (!n->u.loop.container || !p_close(p, TK_TAG_CLOSE))
        return false;
    p->loop_depth++;
    int r = p_sub_body(p, &n->u.loop.body, end, open, "for");
    p->loop_depth--;
    if (r == 1) {
        static const char *const end_else[] = {"endfor", NULL};
        r = p_next(p) && p_close(p, TK_TAG_CLOSE)
                ? p_sub_body(p, &n->u.loop.empty, end_else, open, "for")
                : -1;
    }
    return r >= 0 && p_end_tag(p, NULL);
}

static bool p_set(tpl_parser *p, tpl_node *n)
{
    if (!p_next(p))
        return false;
    n->u.set.name = p_ident(p, "a variable name");
    if (!n->u.set.name || !p_expect_op(p, '=', "`=`"))
        return false;
    n->u.set.value = p_expr(p);
    return n->u.set.value && p_close(p, TK_TAG_CLOSE);
}

static bool p_block(tpl_parser *p, tpl_node *n, const tpl_token *open)
{
    static const char *const end[] = {"endblock", NULL};
    if (p->in_macro)
        return p_fail(p, open->line, open->col, "blocks cannot be defined inside a macro");
    if (!p_next(p))
        return false;
    n->u.block.name = p_ident(p, "a block name");
    if (!n->u.block.name || !p_close(p, TK_TAG_CLOSE))
        return false;
    p->block_depth++;
    int r = p_sub_body(p, &n->u.block.body, end, open, "block");
    p->block_depth--;
    return r >= 0 && p_end_tag(p, n->u.block.name);
}

static bool p_include(tpl_parser *p, tpl_node *n)
{
    pvec names = {0};
    bool ok = p_next(p);
    if (ok && p->tok.kind == TK_STR) {
        *(qstr **)pvec_push(&names, sizeof(qstr *)) = p_intern(p, p->tok.s, p->tok.len);
        ok = p_next(p);
    } else if (ok && tok_is_op(&p->tok, '[')) {
        ok = p_next(p);
        while (ok && p->tok.kind == TK_STR) {
            *(qstr **)pvec_push(&names, sizeof(qstr *)) = p_intern(p, p->tok.s, p->tok.len);
            ok = p_next(p);
            if (!ok || !tok_is_op(&p->tok, ','))
                break;
            ok = p_next(p);
        }
        ok = ok && p_expect_op(p, ']', "a template name or `]`");
    } else if (ok) {
        ok = p_expected(p, "a template name (a string literal)");
    }
    if (ok && tok_is_name(&p->tok, "ignore")) {
        ok = p_next(p);
        if (ok && !tok_is_name(&p->tok, "missing"))
            ok = p_expected(p, "`missing`");
        n->flag = true;
        ok = ok && p_next(p);
    }
    ok = ok && p_close(p, TK_TAG_CLOSE);
    if (ok) {
        n->u.include.names = p_copy(p, &names, sizeof(qstr *));
        n->u.include.n = names.n;
    }
    free(names.items);
    return ok;
}

static bool p_raw(tpl_parser *p, pvec *body, const tpl_token *open)
{
    if (!p_next(p) || !p_close(p, TK_TAG_CLOSE))
        return false;
    bool trim_start = p->trim_next;
    p->trim_next = false;
    tpl_token t;
    if (!tpl_lex_raw(&p->lx, &t))
        return p_fail(p, open->line, open->col,
                      "unclosed `{%% raw %%}`: expected `{%% endraw %%}`");
    const char *s = t.s;
    size_t len = t.len;
    while (trim_start && len && is_space(*s)) {
        s++;
        len--;
    }
    while (t.trim && len && is_space(s[len - 1]))
        len--;
    if (len) {
        tpl_node *n = p_node(body, N_TEXT, &t);
        n->u.text.s = s;
        n->u.text.len = (uint32_t)len;
    }
    p->trim_next = t.trim2;
    return true;
}

static bool p_filter_section(tpl_parser *p, tpl_node *n, const tpl_token *open)
{
    static const char *const end[] = {"endfilter", NULL};
    if (!p_next(p))
        return false;
    tpl_token name = p->tok;
    tpl_expr *target = x_new(p, X_CONST, name.line, name.col);
    tpl_expr *f = p_filter_named(p, target, false);
    if (!f || !p_close(p, TK_TAG_CLOSE))
        return false;
    if (f->kind != X_FILTER)
        return p_fail(p, name.line, name.col, "`default` cannot be used as a filter section");
    f->u.call.target = NULL;
    n->u.filter.filter = f;
    return p_sub_body(p, &n->u.filter.body, end, open, "filter") >= 0 && p_end_tag(p, NULL);
}

static bool p_macro(tpl_parser *p, const tpl_token *open)
{
    static const char *const end[] = {"endmacro", NULL};
    if (p->in_macro || p->loop_depth || p->block_depth)
        return p_fail(p, open->line, open->col, "macros must be defined at the top level");
    if (!p_next(p))
        return false;
    tpl_macro *m = pvec_push(&p->macros, sizeof(tpl_macro));
    uint32_t index = p->macros.n - 1;
    m->name = p_ident(p, "a macro name");
    if (!m->name || !p_expect_op(p, '(', "`(`"))
        return false;
    pvec params = {0}, defaults = {0};
    bool ok = true;
    while (ok && !tok_is_op(&p->tok, ')')) {
        qstr *name = p_ident(p, "a parameter name");
        tpl_expr *dflt = NULL;
        ok = name != NULL;
        if (ok && tok_is_op(&p->tok, '=')) {
            ok = p_next(p);
            dflt = ok ? p_atom(p) : NULL;
            ok = dflt != NULL;
            if (ok && dflt->kind != X_CONST)
                ok = p_fail(p, dflt->line, dflt->col, "a macro default must be a literal");
        }
        if (!ok)
            break;
        *(qstr **)pvec_push(&params, sizeof name) = name;
        *(tpl_expr **)pvec_push(&defaults, sizeof dflt) = dflt;
        if (!tok_is_op(&p->tok, ','))
            break;
        ok = p_next(p);
    }
    ok = ok && p_expect_op(p, ')', "`)` or `,`") && p_close(p, TK_TAG_CLOSE);
    if (ok) {
        tpl_body body;
        p->in_macro = true;
        ok = p_sub_body(p, &body, end, open, "macro") >= 0;
        p->in_macro = false;
        m = (tpl_macro *)p->macros.items + index; /* the vector may have moved */
        ok = ok && p_end_tag(p, m->name);
        m->body = body;
        m->params = p_copy(p, &params, sizeof(qstr *));
        m->defaults = p_copy(p, &defaults, sizeof(tpl_expr *));
        m->nparams = params.n;
    }
    free(params.items);
    free(defaults.items);
    return ok;
}

static bool p_import(tpl_parser *p)
{
    if (!p_next(p))
        return false;
    if (p->tok.kind != TK_STR)
        return p_expected(p, "a template name (a string literal)");
    tpl_import *im = pvec_push(&p->imports, sizeof(tpl_import));
    im->file = p_intern(p, p->tok.s, p->tok.len);
    if (!p_next(p))
        return false;
    if (!tok_is_name(&p->tok, "as"))
        return p_expected(p, "`as`");
    if (!p_next(p))
        return false;
    im->ns = p_ident(p, "a namespace name");
    return im->ns && p_close(p, TK_TAG_CLOSE);
}

static bool p_extends(tpl_parser *p, const tpl_token *open)
{
    if (p->t->parent)
        return p_fail(p, open->line, open->col, "a template can extend only one other template");
    if (p->seen_content || p->loop_depth || p->block_depth || p->in_macro)
        return p_fail(p, open->line, open->col,
                      "`{%% extends %%}` must be the first tag of the template");
    if (!p_next(p))
        return false;
    if (p->tok.kind != TK_STR)
        return p_expected(p, "a template name (a string literal)");
    p->t->parent = p_intern(p, p->tok.s, p->tok.len);
    return p_next(p) && p_close(p, TK_TAG_CLOSE);
}

/* {{ expr }} or {{ super() }} */
static bool p_output(tpl_parser *p, pvec *body, const tpl_token *open)
{
    if (!p_next(p))
        return false;
    if (tok_is_name(&p->tok, "super")) {
        tpl_lexer save = p->lx;
        tpl_token name = p->tok;
        if (p_next(p) && tok_is_op(&p->tok, '(') && p_next(p) && tok_is_op(&p->tok, ')')) {
            if (!p->block_depth)
                return p_fail(p, name.line, name.col, "`super()` can only be used inside a block");
            if (!p_next(p) || !p_close(p, TK_VAR_CLOSE))
                return false;
            p_node(body, N_SUPER, open);
            return true;
        }
        if (p->failed)
            return false;
        p->lx = save;
        p->tok = name;
    }
    tpl_expr *e = p_expr(p);
    if (!e || !p_close(p, TK_VAR_CLOSE))
        return false;
    tpl_node *n = p_node(body, N_OUT, open);
    n->u.expr = e;
    /* Escaping, decided as Tera does: never after a final `safe`, nor for
     * a `~` concatenation or a macro call with no filter after it. */
    bool last_safe = e->kind == X_FILTER && e->op == tpl_filter_safe;
    n->flag = !last_safe && e->kind != X_CONCAT && e->kind != X_MACRO;
    return true;
}

/* One tag: dispatch on its keyword.  Returns 1 when the keyword is one of
 * `end` (*which set), 0 after parsing the tag, -1 on failure. */
static int p_tag(tpl_parser *p, pvec *body, stops end, int *which)
{
    tpl_token open = p->tok;
    if (!p_next(p))
        return -1;
    tpl_token kw = p->tok;
    if (kw.kind != TK_NAME) {
        p_expected(p, "a tag name");
        return -1;
    }
    for (int i = 0; end && end[i]; i++) {
        if (tok_is_name(&kw, end[i])) {
            *which = i;
            return 1;
        }
    }
    bool top = !p->loop_depth && !p->block_depth && !p->in_macro && !end;
    bool ok;
    /* extends and import swallow the whitespace around them (Tera). */
    if (tok_is_name(&kw, "extends") || tok_is_name(&kw, "import")) {
        if (!top)
            ok = p_fail(p, open.line, open.col, "`{%% %.*s %%}` must be at the top level",
                        (int)kw.len, kw.s);
        else
            ok = kw.s[0] == 'e' ? p_extends(p, &open) : p_import(p);
        p_trim_prev(body);
        p->trim_next = true;
        return ok ? 0 : -1;
    }
    if (tok_is_name(&kw, "macro")) {
        ok = top ? p_macro(p, &open) : p_fail(p, open.line, open.col,
                                              "macros must be defined at the top level");
        return ok ? 0 : -1;
    }
    p->seen_content = true;
    if (tok_is_name(&kw, "raw"))
        return p_raw(p, body, &open) ? 0 : -1;
    if (tok_is_name(&kw, "break") || tok_is_name(&kw, "continue")) {
        if (!p->loop_depth) {
            p_fail(p, kw.line, kw.col, "`%.*s` outside of a for loop", (int)kw.len, kw.s);
            return -1;
        }
        p_node(body, kw.s[0] == 'b' ? N_BREAK : N_CONTINUE, &open);
        return p_next(p) && p_close(p, TK_TAG_CLOSE) ? 0 : -1;
    }
    static const struct {
        const char *kw;
        tpl_node_kind kind;
    } kinds[] = {{"if", N_IF}, {"for", N_FOR}, {"set", N_SET}, {"set_global", N_SET},
                 {"block", N_BLOCK}, {"include", N_INCLUDE}, {"filter", N_FILTER}};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (!tok_is_name(&kw, kinds[i].kw))
            continue;
        /* Parse into a detached node: sub-bodies may not be added to `body`
         * while it is being appended to. */
        tpl_node n = {0};
        n.kind = (uint8_t)kinds[i].kind;
        n.line = open.line;
        n.col = open.col;
        switch (kinds[i].kind) {
        case N_IF: ok = p_if(p, &n, &open); break;
        case N_FOR: ok = p_for(p, &n, &open); break;
        case N_SET: n.flag = kw.len == 10; ok = p_set(p, &n); break;
        case N_BLOCK: ok = p_block(p, &n, &open); break;
        case N_INCLUDE: ok = p_include(p, &n); break;
        default: ok = p_filter_section(p, &n, &open); break;
        }
        if (!ok)
            return -1;
        *(tpl_node *)pvec_push(body, sizeof(tpl_node)) = n;
        return 0;
    }
    if (tok_is_name(&kw, "endif") || tok_is_name(&kw, "endfor") || tok_is_name(&kw, "endblock") ||
        tok_is_name(&kw, "endmacro") || tok_is_name(&kw, "endfilter") ||
        tok_is_name(&kw, "else") || tok_is_name(&kw, "elif") || tok_is_name(&kw, "endraw"))
        p_fail(p, open.line, open.col, "unexpected `{%% %.*s %%}`", (int)kw.len, kw.s);
    else
        p_fail(p, kw.line, kw.col, "unknown tag `%.*s`", (int)kw.len, kw.s);
    return -1;
}

static bool p_is_blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!is_space(s[i]))
            return false;
    return true;
}

static int p_body(tpl_parser *p, pvec *body, stops end)
{
    for (;;) {
        tpl_token t;
        tpl_lex_outer(&p->lx, &t);
        switch (t.kind) {
        case TK_EOF:
            return -1;
        case TK_ERROR:
            p_fail(p, t.line, t.col, "%s", t.msg);
            return -2;
        case TK_TEXT:
            if (!end && !p_is_blank(t.s, t.len))
                p->seen_content = true;
            p_text(p, body, &t, t.s, t.len);
            break;
        case TK_COMMENT:
            p->trim_next = false;
            if (t.trim)
                p_trim_prev(body);
            p->trim_next = t.trim2;
            break;
        case TK_VAR_OPEN:
            p->seen_content = true;
            p->trim_next = false;
            if (t.trim)
                p_trim_prev(body);
            p->tok = t;
            if (!p_output(p, body, &t))
                return -2;
            break;
        default: { /* TK_TAG_OPEN */
            p->trim_next = false;
            if (t.trim)
                p_trim_prev(body);
            p->tok = t;
            int which = 0;
            int r = p_tag(p, body, end, &which);
            if (r < 0)
                return -2;
            if (r == 1)
                return which;
        }
        }
        if (p->failed)
            return -2;
    }
}

/* ---- entry points ------------------------------------------------------------------------------ */

static bool tpl_name_autoescapes(const qstr *name)
{
    static const char *const exts[] = {".html", ".htm", ".xml"};
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(exts[i]);
        if (name->len >= n && memcmp(name->data + name->len - n, exts[i], n) == 0)
            return true;
    }
    return false;
}

tpl_template *tpl_parse(qvm *vm, qstr *name, const char *src, size_t len, tpl_error *err)
{
    tpl_template *t = calloc(1, sizeof *t);
    if (!t)
        abort();
    t->arena = tpl_arena_new();
    t->consts = arr_new(vm, 16);
    t->name = name;
    arr_push(vm, t->consts, qv_obj(name));
    t->autoescape = tpl_name_autoescapes(name);
    char *copy = tpl_arena_alloc(t->arena, len + 1);
    memcpy(copy, src, len);

    tpl_parser p = {0};
    p.vm = vm;
    p.t = t;
    p.a = t->arena;
    p.err = err;
    tpl_lex_init(&p.lx, copy, len);
    pvec top = {0};
    if (p_body(&p, &top, NULL) == -1 && !p.failed) {
        p_finish(&p, &t->body, &top);
    } else {
        free(top.items);
    }
    if (!p.failed) {
        t->blocks = p_copy(&p, &p.blocks, sizeof(tpl_node *));
        t->nblocks = p.blocks.n;
        t->macros = p_copy(&p, &p.macros, sizeof(tpl_macro));
        t->nmacros = p.macros.n;
        t->imports = p_copy(&p, &p.imports, sizeof(tpl_import));
        t->nimports = p.imports.n;
    }
    free(p.blocks.items);
    free(p.macros.items);
    free(p.imports.items);
    if (p.failed) {
        tpl_template_free(t);
        return NULL;
    }
    return t;
}

void tpl_template_free(tpl_template *t)
{
    if (!t)
        return;
    tpl_arena_free(t->arena);
    free(t);
}

tpl_node *tpl_find_block(const tpl_template *t, const qstr *name)
{
    for (uint32_t i = 0; i < t->nblocks; i++)
        if (t->blocks[i]->u.block.name == name)
            return t->blocks[i];
    return NULL;
}

tpl_macro *tpl_find_macro(const tpl_template *t, const qstr *name)
{
    for (uint32_t i = 0; i < t->nmacros; i++)
        if (t->macros[i].name == name)
            return &t->macros[i];
    return NULL;
}
