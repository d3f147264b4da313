/* parser.c — Quest source text → syntax tree (ast.h).
 *
 * Recursive descent for statements, precedence climbing for operators.
 * The grammar is the reference's (quest.pest); precedence is §1.10 of the
 * language notes.  Quest has no statement terminators: a statement ends
 * where the grammar says it ends, and expressions are greedy across lines
 * exactly as in the reference's PEG parser (`x` NEWLINE `(1)` is a call).
 *
 * The input is tokenized up front so that the few decisions that look past
 * the next token can.  Errors longjmp back to parse_program; everything
 * but the token array lives in the arena, so nothing leaks on error.
 *
 * Nesting is bounded twice: the parser's recursion (enter/leave) so that
 * parsing cannot overflow the C stack, and the finished tree's height
 * (check_height) so that a recursive walk of the tree cannot either.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "lexer.h"

typedef struct parser {
    ast_arena *arena;
    qtoken *toks;         /* ends with TK_EOF or TK_ERROR */
    size_t ntoks, pos;
    int depth;            /* recursion depth, see enter() */
    qsyntax_error *err;
    jmp_buf fail;
} parser;

static qnode *parse_expr(parser *p);
static qnode *parse_subexpr(parser *p, int limit);
static qnode *parse_block(parser *p);
static qast_fun *parse_function(parser *p, bool in_type);

/* ---- errors -------------------------------------------------------------------------- */

static _Noreturn void fail_at(parser *p, const qtoken *t, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static _Noreturn void fail_at(parser *p, const qtoken *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err->message, sizeof p->err->message, fmt, ap);
    va_end(ap);
    p->err->line = t->line;
    p->err->col = t->col;
    p->err->incomplete = t->kind == TK_EOF;
    longjmp(p->fail, 1);
}

static _Noreturn void fail_oom(parser *p)
{
    fail_at(p, &p->toks[p->pos], "out of memory");
}

/* How a token is named in messages: its text, or what kind of literal it is. */
static const char *describe(const qtoken *t, char *buf, size_t n)
{
    switch (t->kind) {
    case TK_EOF: case TK_STRING: case TK_FSTRING: case TK_BYTES:
        return lex_kind_text(t->kind);
    default:
        snprintf(buf, n, "'%.*s'", t->len > 40 ? 40 : (int)t->len, t->start);
        return buf;
    }
}

/* ---- tokens -------------------------------------------------------------------------- */

/* The current token.  A lexical error is reported when the parser reaches
 * it, so it comes out in source order with the grammar errors. */
static const qtoken *tok(parser *p)
{
    const qtoken *t = &p->toks[p->pos];
    if (t->kind == TK_ERROR) {
        snprintf(p->err->message, sizeof p->err->message, "%s", t->u.str.s);
        p->err->line = t->line;
        p->err->col = t->col;
        p->err->incomplete = t->incomplete;
        longjmp(p->fail, 1);
    }
    return t;
}

static int kind(parser *p)
{
    return tok(p)->kind;
}

/* Kind of the token n places ahead, without reporting errors. */
static int peek_kind(parser *p, size_t n)
{
    size_t i = p->pos + n;
    return p->toks[i < p->ntoks ? i : p->ntoks - 1].kind;
}

static const qtoken *advance(parser *p)
{
    const qtoken *t = tok(p);
    if (t->kind != TK_EOF)
        p->pos++;
    return t;
}

static bool accept(parser *p, int k)
{
    if (kind(p) != k)
        return false;
    advance(p);
    return true;
}

static _Noreturn void unexpected(parser *p)
{
    const qtoken *t = tok(p);
    char buf[64];
    const char *d = describe(t, buf, sizeof buf);
    fail_at(p, t, "unexpected %s%s", d == buf ? "token " : "", d);
}

static _Noreturn void fail_expected(parser *p, const char *what)
{
    const qtoken *t = tok(p);
    char buf[64];
    fail_at(p, t, "expected %s but found %s", what, describe(t, buf, sizeof buf));
}

/* Consume a token of kind k; `what` names it in the error. */
static const qtoken *expect_what(parser *p, int k, const char *what)
{
    if (kind(p) != k)
        fail_expected(p, what);
    return advance(p);
}

static const qtoken *expect(parser *p, int k)
{
    if (kind(p) != k) {
        char quoted[32];
        snprintf(quoted, sizeof quoted, "'%s'", lex_kind_text(k));
        fail_expected(p, quoted);
    }
    return advance(p);
}

/* `end` closing the construct opened by the keyword token open. */
static void expect_end(parser *p, const qtoken *open)
{
    const qtoken *t = tok(p);
    if (t->kind == TK_END) {
        advance(p);
        return;
    }
    char buf[64];
    if (t->kind == TK_EOF)
        fail_at(p, t, "expected 'end' to close '%s' opened at line %d",
                lex_kind_text(open->kind), open->line);
    fail_at(p, t, "expected 'end' to close '%s' opened at line %d, found %s",
            lex_kind_text(open->kind), open->line, describe(t, buf, sizeof buf));
}

static bool tok_is(const qtoken *t, const char *word)
{
    return t->kind == TK_NAME && t->len == strlen(word) && memcmp(t->start, word, t->len) == 0;
}

/* Is the token n places ahead the word `async` followed by a token of kind
 * next?  `async` is a keyword only before `fun` and `with`: elsewhere it is
 * a name, because `use "std/async"` binds `async` (`async.spawn(f)`). */
static bool async_before(parser *p, size_t n, int next)
{
    size_t i = p->pos + n;
    return i < p->ntoks && tok_is(&p->toks[i], "async") && peek_kind(p, n + 1) == next;
}

static bool accept_async(parser *p)
{
    if (!async_before(p, 0, TK_FUN) && !async_before(p, 0, TK_WITH))
        return false;
    advance(p);
    return true;
}

/* ---- allocation ---------------------------------------------------------------------- */

static void *alloc(parser *p, size_t n)
{
    void *m = ast_alloc(p->arena, n);
    if (!m)
        fail_oom(p);
    return m;
}

static const char *text(parser *p, const char *s, size_t n)
{
    char *c = ast_strdup(p->arena, s, n);
    if (!c)
        fail_oom(p);
    return c;
}

static qnode *new_node(parser *p, qnode_kind k, const qtoken *at)
{
    qnode *n = ast_node(p->arena, k, at->line, at->col);
    if (!n)
        fail_oom(p);
    return n;
}

static void push(parser *p, qnode_list *l, qnode *n)
{
    int len = l->len;
    ast_list_push(p->arena, l, n);
    if (l->len == len)
        fail_oom(p);
}

/* Room for one more element in an arena array of len elements.  The
 * capacity is implicit (4, then powers of two), so no field stores it. */
static void *grow(parser *p, void *items, int len, size_t size)
{
    if (len != 0 && (len < 4 || (len & (len - 1)) != 0))
        return items;
    if (len > (1 << 28))
        fail_oom(p);
    void *n = alloc(p, (size_t)(len ? len * 2 : 4) * size);
    if (len)
        memcpy(n, items, (size_t)len * size);
    return n;
}

static const char *expect_name(parser *p, const char *what)
{
    const qtoken *t = expect_what(p, TK_NAME, what);
    return text(p, t->start, t->len);
}

/* ---- nesting ------------------------------------------------------------------------- */

static void enter(parser *p)
{
    if (++p->depth > AST_MAX_DEPTH)
        fail_at(p, &p->toks[p->pos], "nesting too deep (more than %d levels)", AST_MAX_DEPTH);
}

static void leave(parser *p)
{
    p->depth--;
}

/* ---- what can start what ------------------------------------------------------------- */

static bool is_lambda_start(parser *p)
{
    if (peek_kind(p, 0) == TK_FUN)
        return peek_kind(p, 1) == TK_LPAREN;
    return async_before(p, 0, TK_FUN) && peek_kind(p, 2) == TK_LPAREN;
}

static bool starts_expr(parser *p)
{
    switch (kind(p)) {
    case TK_NAME: case TK_INT: case TK_FLOAT: case TK_BIGINT: case TK_STRING:
    case TK_FSTRING: case TK_BYTES: case TK_TRUE: case TK_FALSE: case TK_NIL:
    case TK_LPAREN: case TK_LBRACKET: case TK_LBRACE: case TK_MINUS: case TK_PLUS:
    case TK_TILDE: case TK_NOT: case TK_AWAIT:
        return true;
    default:
        return is_lambda_start(p);
    }
}

static bool starts_statement(parser *p)
{
    switch (kind(p)) {
    case TK_USE: case TK_PUB: case TK_LET: case TK_CONST: case TK_DEL: case TK_TRY:
    case TK_RAISE: case TK_WITH: case TK_PERCENT: case TK_AT: case TK_FUN: case TK_TYPE: case TK_TRAIT: case TK_IMPL: case TK_IF: case TK_MATCH: case TK_WHILE:
    case TK_FOR: case TK_RETURN: case TK_BREAK: case TK_CONTINUE:
        return true;
    default:
        return starts_expr(p);
    }
}

/* ---- types and parameters ------------------------------------------------------------ */

/* A type annotation, kept as its source text: `Int`, `mod.T`, `Array{Int}`,
 * `arr[3, 3]` (the last two are grammar only; nothing checks them). */
static const char *parse_type(parser *p)
{
    const qtoken *first = expect_what(p, TK_NAME, "type name");
    enter(p);
    if (peek_kind(p, 0) == TK_DOT && peek_kind(p, 1) == TK_NAME) {
        advance(p);
        advance(p);
    }
    /* `T{U}` only when it cannot be a dict literal starting the next statement. */
    if (kind(p) == TK_LBRACE && peek_kind(p, 1) == TK_NAME && peek_kind(p, 2) != TK_COLON) {
        advance(p);
        parse_type(p);
        expect(p, TK_RBRACE);
    } else if (accept(p, TK_LBRACKET)) {
        do
            parse_expr(p);
        while (accept(p, TK_COMMA));
        expect(p, TK_RBRACKET);
    }
    leave(p);
    const qtoken *last = &p->toks[p->pos - 1];
    return text(p, first->start, (size_t)(last->start + last->len - first->start));
}

/* One of: `name[: T][= default]`, `*name[: T]`, `**name[: T]`, in that order. */
static void parse_param(parser *p, qast_fun *f)
{
    const qtoken *t = tok(p);
    if (f->kwargs)
        fail_at(p, t, "no parameter may follow **%s", f->kwargs);
    if (accept(p, TK_STARSTAR)) {
        f->kwargs = expect_name(p, "parameter name");
        if (accept(p, TK_COLON))
            f->kwargs_type = parse_type(p);
        return;
    }
    if (f->varargs && t->kind != TK_STAR)
        fail_at(p, t, "only **kwargs may follow *%s", f->varargs);
    if (accept(p, TK_STAR)) {
        if (f->varargs)
            fail_at(p, t, "only one *args parameter is allowed");
        f->varargs = expect_name(p, "parameter name");
        if (accept(p, TK_COLON))
            f->varargs_type = parse_type(p);
        return;
    }
    f->params = grow(p, f->params, f->nparams, sizeof *f->params);
    qast_param *q = &f->params[f->nparams++];
    q->line = t->line;
    q->col = t->col;
    q->name = expect_name(p, "parameter name");
    if (accept(p, TK_COLON))
        q->type = parse_type(p);
    if (accept(p, TK_ASSIGN))
        q->def = parse_expr(p);
}

static void parse_params(parser *p, qast_fun *f)
{
    expect(p, TK_LPAREN);
    if (kind(p) != TK_RPAREN)
        do
            parse_param(p, f);
        while (accept(p, TK_COMMA));
    expect(p, TK_RPAREN);
}

/* The body up to `end`; a leading string literal is the docstring (and
 * stays in the body, where it is the value of a one-statement function). */
static void parse_fun_body(parser *p, qast_fun *f, const qtoken *open)
{
    f->body = parse_block(p);
    f->end_line = tok(p)->line;
    expect_end(p, open);
    qnode_list *b = &f->body->list;
    if (b->len > 0 && b->items[0]->kind == N_EXPR_STMT && b->items[0]->a->kind == N_STR)
        f->doc = b->items[0]->a->str;
}

/* ---- expressions: primaries ---------------------------------------------------------- */

static bool is_type_word(const qtoken *t)
{
    static const char *const words[] = {
        "Int", "Float", "Str", "Bool", "Array", "Dict", "Bytes", "Uuid", "Num", "Obj",
    };
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (tok_is(t, words[i]))
            return true;
    return false;
}

/* An identifier, a magic variable, or a type-name literal.  `Array.new(3)`
 * and `Int(x)` need the real type/variable, so a type word directly
 * followed by `.` or `(` stays an identifier. */
static qnode *parse_name(parser *p)
{
    const qtoken *t = advance(p);
    int next = peek_kind(p, 0);
    qnode_kind k = N_IDENT;
    if (tok_is(t, "__file__") || tok_is(t, "__line__") || tok_is(t, "__function__"))
        k = N_MAGIC;
    else if (is_type_word(t) && next != TK_DOT && next != TK_LPAREN)
        k = N_TYPE_NAME;
    qnode *n = new_node(p, k, t);
    n->name = text(p, t->start, t->len);
    return n;
}

static qnode *parse_fstring(parser *p)
{
    const qtoken *t = advance(p);
    qnode *n = new_node(p, N_FSTR, t);
    for (const lex_fpart *part = t->u.parts; part; part = part->next) {
        qnode *pn = new_node(p, part->is_var ? N_FSTR_VAR : N_STR, t);
        if (part->is_var) {
            pn->name = part->text;
            pn->str = part->spec;
        } else {
            pn->str = part->text;
            pn->slen = part->len;
        }
        push(p, &n->list, pn);
    }
    return n;
}

static qnode *parse_array(parser *p)
{
    const qtoken *t = advance(p);
    qnode *n = new_node(p, N_ARRAY, t);
    if (kind(p) != TK_RBRACKET)
        do
            push(p, &n->list, parse_expr(p));
        while (accept(p, TK_COMMA));
    expect(p, TK_RBRACKET);
    return n;
}

/* `{name: v, "key": v}`: keys are identifiers (taken as strings) or strings. */
static qnode *parse_dict(parser *p)
{
    const qtoken *t = advance(p);
    qnode *n = new_node(p, N_DICT, t);
    if (kind(p) != TK_RBRACE) {
        do {
            const qtoken *k = tok(p);
            if (k->kind != TK_NAME && k->kind != TK_STRING)
                unexpected(p);
            advance(p);
            qnode *key = new_node(p, N_STR, k);
            key->str = k->kind == TK_NAME ? text(p, k->start, k->len) : k->u.str.s;
            key->slen = k->kind == TK_NAME ? k->len : k->u.str.n;
            expect(p, TK_COLON);
            push(p, &n->list, key);
            push(p, &n->list2, parse_expr(p));
        } while (accept(p, TK_COMMA));
    }
    expect(p, TK_RBRACE);
    return n;
}

static qnode *parse_literal(parser *p, qnode_kind k)
{
    const qtoken *t = advance(p);
    qnode *n = new_node(p, k, t);
    if (k == N_INT)
        n->ival = t->u.ival;
    else if (k == N_FLOAT)
        n->fval = t->u.fval;
    else if (k == N_STR || k == N_BYTES || k == N_BIGINT) {
        n->str = t->u.str.s;
        n->slen = t->u.str.n;
    }
    return n;
}

static qnode *parse_primary(parser *p)
{
    switch (kind(p)) {
    case TK_INT: return parse_literal(p, N_INT);
    case TK_FLOAT: return parse_literal(p, N_FLOAT);
    case TK_BIGINT: return parse_literal(p, N_BIGINT);
    case TK_STRING: return parse_literal(p, N_STR);
    case TK_BYTES: return parse_literal(p, N_BYTES);
    case TK_TRUE: return parse_literal(p, N_TRUE);
    case TK_FALSE: return parse_literal(p, N_FALSE);
    case TK_NIL: return parse_literal(p, N_NIL);
    case TK_FSTRING: return parse_fstring(p);
    case TK_NAME: return parse_name(p);
    case TK_LBRACKET: return parse_array(p);
    case TK_LBRACE: return parse_dict(p);
    case TK_LPAREN: {
        advance(p);
        qnode *e = parse_expr(p);
        expect(p, TK_RPAREN);
        return e;
    }
    default:
        unexpected(p);
    }
}

/* ---- expressions: postfix and prefix ------------------------------------------------- */

/* `name: v`, `*v`, `**v` or a positional value. */
static qnode *parse_arg(parser *p)
{
    const qtoken *t = tok(p);
    qnode *n = new_node(p, N_ARG, t);
    if (accept(p, TK_STARSTAR)) {
        n->argkind = ARG_KWSPREAD;
    } else if (accept(p, TK_STAR)) {
        n->argkind = ARG_SPREAD;
    } else if (t->kind == TK_NAME && peek_kind(p, 1) == TK_COLON) {
        n->argkind = ARG_NAMED;
        n->name = text(p, t->start, t->len);
        advance(p);
        advance(p);
    }
    n->a = parse_expr(p);
    return n;
}

static void parse_args(parser *p, qnode_list *args)
{
    expect(p, TK_LPAREN);
    if (kind(p) != TK_RPAREN)
        do
            push(p, args, parse_arg(p));
        while (accept(p, TK_COMMA));
    expect(p, TK_RPAREN);
}

/* After '.', any word is a member name, keywords included (`e.type()`, `x.end`). */
static qnode *parse_member(parser *p, qnode *obj)
{
    const qtoken *dot = advance(p);
    const qtoken *t = tok(p);
    if (t->kind != TK_NAME && (t->kind < TK_FIRST_KEYWORD || t->kind > TK_LAST_KEYWORD)) {
        char buf[64];
        fail_at(p, t, "expected member name after '.' but found %s", describe(t, buf, sizeof buf));
    }
    advance(p);
    qnode *n = new_node(p, kind(p) == TK_LPAREN ? N_METHOD : N_MEMBER, dot);
    n->a = obj;
    n->name = text(p, t->start, t->len);
    if (n->kind == N_METHOD)
        parse_args(p, &n->list);
    return n;
}

static qnode *parse_postfix(parser *p)
{
    qnode *e = parse_primary(p);
    for (;;) {
        const qtoken *t = tok(p);
        if (t->kind == TK_DOT) {
            e = parse_member(p, e);
        } else if (t->kind == TK_LPAREN) {
            qnode *n = new_node(p, N_CALL, t);
            n->a = e;
            parse_args(p, &n->list);
            e = n;
        } else if (t->kind == TK_LBRACKET) {
            advance(p);
            qnode *n = new_node(p, N_INDEX, t);
            n->a = e;
            do
                push(p, &n->list, parse_expr(p));
            while (accept(p, TK_COMMA));
            expect(p, TK_RBRACKET);
            e = n;
        } else {
            return e;
        }
    }
}

/* Prefix - + ~ and await bind looser than the postfix chain: `-2.abs()`
 * is -(2.abs()), `await a.b(c)` awaits the call. */
static qnode *parse_unary(parser *p)
{
    int k = kind(p);
    if (k != TK_MINUS && k != TK_PLUS && k != TK_TILDE && k != TK_AWAIT)
        return parse_postfix(p);
    const qtoken *t = advance(p);
    enter(p);
    qnode *n = new_node(p, k == TK_AWAIT ? N_AWAIT : N_UNARY, t);
    if (k != TK_AWAIT)
        n->op = (uint8_t)(k == TK_MINUS ? '-' : k == TK_PLUS ? '+' : '~');
    n->a = parse_unary(p);
    leave(p);
    return n;
}

/* ---- expressions: operators ---------------------------------------------------------- */

enum {
    PREC_NONE, PREC_ELVIS, PREC_OR, PREC_AND,
    PREC_NOT,             /* prefix `not`: looser than comparisons, tighter than and */
    PREC_BOR, PREC_BXOR, PREC_BAND, PREC_SHIFT, PREC_CMP, PREC_CONCAT, PREC_ADD, PREC_MUL,
};

typedef struct binop {
    uint8_t prec, kind, op;
} binop;

static binop binop_of(int tk)
{
    switch (tk) {
    case TK_ELVIS: return (binop){PREC_ELVIS, N_ELVIS, QOP_NONE};
    case TK_OR: return (binop){PREC_OR, N_OR, QOP_NONE};
    case TK_AND: return (binop){PREC_AND, N_AND, QOP_NONE};
    case TK_PIPE: return (binop){PREC_BOR, N_BINARY, QOP_BOR};
    case TK_CARET: return (binop){PREC_BXOR, N_BINARY, QOP_BXOR};
    case TK_AMP: return (binop){PREC_BAND, N_BINARY, QOP_BAND};
    case TK_SHL: return (binop){PREC_SHIFT, N_BINARY, QOP_SHL};
    case TK_SHR: return (binop){PREC_SHIFT, N_BINARY, QOP_SHR};
    case TK_EQ: return (binop){PREC_CMP, N_BINARY, QOP_EQ};
    case TK_NE: return (binop){PREC_CMP, N_BINARY, QOP_NE};
    case TK_LT: return (binop){PREC_CMP, N_BINARY, QOP_LT};
    case TK_LE: return (binop){PREC_CMP, N_BINARY, QOP_LE};
    case TK_GT: return (binop){PREC_CMP, N_BINARY, QOP_GT};
    case TK_GE: return (binop){PREC_CMP, N_BINARY, QOP_GE};
    case TK_DOTDOT: return (binop){PREC_CONCAT, N_BINARY, QOP_CONCAT};
    case TK_PLUS: return (binop){PREC_ADD, N_BINARY, QOP_ADD};
    case TK_MINUS: return (binop){PREC_ADD, N_BINARY, QOP_SUB};
    case TK_STAR: return (binop){PREC_MUL, N_BINARY, QOP_MUL};
    case TK_SLASH: return (binop){PREC_MUL, N_BINARY, QOP_DIV};
    case TK_PERCENT: return (binop){PREC_MUL, N_BINARY, QOP_MOD};
    default: return (binop){PREC_NONE, 0, 0};
    }
}

/* `% fun f(a) "doc"` after an expression statement: the reference's PEG
 * gives the `%` back when no operand follows it, so the doc statement wins. */
static bool doc_follows(parser *p)
{
    int next = peek_kind(p, 1);
    return peek_kind(p, 0) == TK_PERCENT &&
           (next == TK_FUN || next == TK_CONST || next == TK_TYPE || next == TK_TRAIT);
}

/* `not` applies to everything down to the bitwise operators: `not a == b`
 * is not (a == b), and `not` may repeat. */
static qnode *parse_not(parser *p)
{
    const qtoken *t = advance(p);
    enter(p);
    qnode *n = new_node(p, N_NOT, t);
    n->a = parse_subexpr(p, PREC_AND);
    leave(p);
    return n;
}

/* Operators binding tighter than limit, all left-associative.  `not` is
 * only allowed where the grammar's logical_not level is (so `a | not b` is
 * an error, as in the reference). */
static qnode *parse_subexpr(parser *p, int limit)
{
    qnode *left = (limit < PREC_NOT && kind(p) == TK_NOT) ? parse_not(p) : parse_unary(p);
    for (;;) {
        binop op = binop_of(kind(p));
        if (op.prec <= limit || doc_follows(p))
            return left;
        const qtoken *t = advance(p);
        enter(p);
        qnode *right = parse_subexpr(p, op.prec);
        leave(p);
        qnode *n = new_node(p, op.kind, t);
        n->op = op.op;
        n->a = left;
        n->b = right;
        left = n;
    }
}

static qnode *parse_lambda(parser *p)
{
    const qtoken *t = tok(p);
    qast_fun *f = alloc(p, sizeof *f);
    f->is_async = accept_async(p);
    const qtoken *kw = expect(p, TK_FUN);
    f->line = kw->line;
    f->col = kw->col;
    parse_params(p, f);
    parse_fun_body(p, f, kw);
    qnode *n = new_node(p, N_FUN, t);
    n->u.fun = f;
    return n;
}

/* A lambda is the loosest expression: it may stand wherever an expression
 * may, but is never an operand (`fun () 1 end + 1` is two statements). */
static qnode *parse_expr(parser *p)
{
    enter(p);
    qnode *e = is_lambda_start(p) ? parse_lambda(p) : parse_subexpr(p, PREC_NONE);
    leave(p);
    return e;
}

/* ---- simple statements --------------------------------------------------------------- */

static bool is_assign_target(const qnode *n)
{
    while (n->kind == N_INDEX || n->kind == N_MEMBER)
        n = n->a;
    return n->kind == N_IDENT;
}

static int assign_op(int tk)
{
    switch (tk) {
    case TK_ASSIGN: return QOP_NONE;
    case TK_ADD_ASSIGN: return QOP_ADD;
    case TK_SUB_ASSIGN: return QOP_SUB;
    case TK_MUL_ASSIGN: return QOP_MUL;
    case TK_DIV_ASSIGN: return QOP_DIV;
    case TK_MOD_ASSIGN: return QOP_MOD;
    default: return -1;
    }
}

/* An expression, or an assignment to `name ([i] | .field)*`. */
static qnode *parse_expr_statement(parser *p)
{
    const qtoken *t = tok(p);
    qnode *e = parse_expr(p);
    int op = assign_op(kind(p));
    if (op < 0) {
        qnode *n = new_node(p, N_EXPR_STMT, t);
        n->a = e;
        return n;
    }
    const qtoken *eq = tok(p);
    if (!is_assign_target(e))
        fail_at(p, eq, "cannot assign to this expression (targets are name, name[i], name.field)");
    advance(p);
    qnode *n = new_node(p, N_ASSIGN, t);
    n->op = (uint8_t)op;
    n->a = e;
    n->b = parse_expr(p);
    return n;
}

static qnode *parse_binding(parser *p, bool need_value)
{
    const qtoken *t = tok(p);
    qnode *b = new_node(p, N_BINDING, t);
    b->name = expect_name(p, "variable name");
    if (accept(p, TK_COLON))
        b->str = parse_type(p);
    if (need_value)
        expect(p, TK_ASSIGN);
    if (need_value || accept(p, TK_ASSIGN))
        b->a = parse_expr(p);
    return b;
}

/* let a = 1, b: Int = 2 */
static qnode *parse_let(parser *p)
{
    qnode *n = new_node(p, N_LET, advance(p));
    do
        push(p, &n->list, parse_binding(p, true));
    while (accept(p, TK_COMMA));
    return n;
}

/* `name: Type [= v]` without let: parsed, and an error when run (LET_UNDECLARED). */
static qnode *parse_typed_decl(parser *p)
{
    qnode *n = new_node(p, N_LET, tok(p));
    n->flags = LET_UNDECLARED;
    push(p, &n->list, parse_binding(p, false));
    return n;
}

static qnode *parse_const(parser *p)
{
    qnode *n = new_node(p, N_CONST, advance(p));
    n->name = expect_name(p, "constant name");
    expect(p, TK_ASSIGN);
    n->a = parse_expr(p);
    return n;
}

static qnode *parse_del(parser *p)
{
    qnode *n = new_node(p, N_DEL, advance(p));
    n->name = expect_name(p, "variable name");
    return n;
}

/* {a, b as c} after `use "path" [as m]`; a trailing comma is allowed. */
static void parse_import_list(parser *p, qnode *use)
{
    expect(p, TK_LBRACE);
    do {
        if (kind(p) == TK_RBRACE)
            break;
        qnode *item = new_node(p, N_IMPORT_NAME, tok(p));
        item->name = expect_name(p, "name to import");
        if (accept(p, TK_AS))
            item->name2 = expect_name(p, "alias");
        push(p, &use->list, item);
    } while (accept(p, TK_COMMA));
    expect(p, TK_RBRACE);
}

/* use "path" [as alias] [{names}] — `{` starts the import list only if it
 * cannot be a dict literal (the reference backtracks the same way). */
static qnode *parse_use(parser *p)
{
    qnode *n = new_node(p, N_USE, advance(p));
    const qtoken *path = expect_what(p, TK_STRING, "module path string");
    n->str = path->u.str.s;
    n->slen = path->u.str.n;
    if (accept(p, TK_AS))
        n->name = expect_name(p, "module alias");
    int after = peek_kind(p, 2);
    if (kind(p) == TK_LBRACE && peek_kind(p, 1) == TK_NAME &&
        (after == TK_COMMA || after == TK_RBRACE || after == TK_AS))
        parse_import_list(p, n);
    return n;
}

static qnode *parse_raise(parser *p)
{
    qnode *n = new_node(p, N_RAISE, advance(p));
    if (starts_expr(p))
        n->a = parse_expr(p);
    return n;
}

/* The value must start on the line of `return`: an expression on a later
 * line is the next statement, and the return is bare. */
static qnode *parse_return(parser *p)
{
    const qtoken *t = advance(p);
    qnode *n = new_node(p, N_RETURN, t);
    if (tok(p)->line == t->line && starts_expr(p))
        n->a = parse_expr(p);
    return n;
}

/* `% fun f(a) "doc"`, `% const C "doc"`, `% type T "doc"`, `% trait T "doc"`:
 * documentation for natively implemented members; ignored. */
static qnode *parse_doc(parser *p)
{
    qnode *n = new_node(p, N_DOC, advance(p));
    int k = kind(p);
    if (k != TK_FUN && k != TK_CONST && k != TK_TYPE && k != TK_TRAIT)
        fail_expected(p, "fun, const, type or trait after '%'");
    advance(p);
    expect_what(p, TK_NAME, "name");
    if (k == TK_FUN) {
        qast_fun sig = {0};
        parse_params(p, &sig);
    }
    if (kind(p) != TK_STRING && kind(p) != TK_FSTRING)
        fail_expected(p, "a documentation string");
    advance(p);
    return n;
}

/* ---- compound statements ------------------------------------------------------------- */

static qnode *parse_if(parser *p)
{
    const qtoken *t = advance(p);
    qnode *n = new_node(p, N_IF, t);
    do {
        push(p, &n->list, parse_expr(p));
        push(p, &n->list2, parse_block(p));
    } while (accept(p, TK_ELIF));
    if (accept(p, TK_ELSE))
        n->b = parse_block(p);
    expect_end(p, t);
    return n;
}

static qnode *parse_while(parser *p)
{
    const qtoken *t = advance(p);
    qnode *n = new_node(p, N_WHILE, t);
    n->a = parse_expr(p);
    n->b = parse_block(p);
    expect_end(p, t);
    return n;
}

/* After `from`: `to|until hi [step s]` (for loops and match arms). */
static bool parse_range(parser *p, qnode *n, qnode *from, int range_flag, int until_flag)
{
    int k = kind(p);
    if (k != TK_TO && k != TK_UNTIL)
        return false;
    advance(p);
    n->flags |= (uint8_t)(range_flag | (k == TK_UNTIL ? until_flag : 0));
    n->a = from;
    n->c = parse_expr(p);
    if (accept(p, TK_STEP))
        n->d = parse_expr(p);
    return true;
}

/* for x in e | for k, v in e | for i in a to|until b [step s] */
static qnode *parse_for(parser *p)
{
    const qtoken *t = advance(p);
    qnode *n = new_node(p, N_FOR, t);
    n->name = expect_name(p, "loop variable name");
    if (accept(p, TK_COMMA))
        n->name2 = expect_name(p, "loop variable name");
    expect(p, TK_IN);
    qnode *e = parse_expr(p);
    if (!parse_range(p, n, e, FOR_RANGE, FOR_UNTIL))
        n->a = e;
    n->b = parse_block(p);
    expect_end(p, t);
    return n;
}

/* in v1, v2 ... | in lo to|until hi [step s] — then at least one statement. */
static qnode *parse_arm(parser *p)
{
    qnode *arm = new_node(p, N_ARM, advance(p));
    qnode *e = parse_expr(p);
    if (!parse_range(p, arm, e, ARM_RANGE, ARM_UNTIL)) {
        push(p, &arm->list, e);
        while (accept(p, TK_COMMA))
            push(p, &arm->list, parse_expr(p));
    }
    if (!starts_statement(p))
        fail_expected(p, "a statement after the match pattern");
    arm->b = parse_block(p);
    return arm;
}

static qnode *parse_match(parser *p)
{
    const qtoken *t = advance(p);
    qnode *n = new_node(p, N_MATCH, t);
    n->a = parse_expr(p);
    if (kind(p) != TK_IN)
        fail_expected(p, "'in' (a match arm)");
    while (kind(p) == TK_IN)
        push(p, &n->list, parse_arm(p));
    if (accept(p, TK_ELSE))
        n->b = parse_block(p);
    expect_end(p, t);
    return n;
}

static qnode *parse_try(parser *p)
{
    const qtoken *t = advance(p);
    qnode *n = new_node(p, N_TRY, t);
    n->a = parse_block(p);
    while (kind(p) == TK_CATCH) {
        qnode *c = new_node(p, N_CATCH, advance(p));
        c->name = expect_name(p, "exception variable name");
        if (accept(p, TK_COLON))
            c->str = parse_type(p);
        c->a = parse_block(p);
        push(p, &n->list, c);
    }
    if (accept(p, TK_ENSURE))
        n->b = parse_block(p);
    if (n->list.len == 0 && !n->b)
        fail_expected(p, "'catch' or 'ensure'");
    expect_end(p, t);
    return n;
}

/* [async] with e [as x], e2 [as y] ... end */
static qnode *parse_with(parser *p, int flags)
{
    const qtoken *start = tok(p);
    accept_async(p);
    const qtoken *t = expect(p, TK_WITH);
    qnode *n = new_node(p, N_WITH, start);
    n->flags = (uint8_t)flags;
    do {
        qnode *item = new_node(p, N_WITH_ITEM, tok(p));
        item->a = parse_expr(p);
        if (accept(p, TK_AS))
            item->name = expect_name(p, "variable name");
        push(p, &n->list, item);
    } while (accept(p, TK_COMMA));
    n->b = parse_block(p);
    expect_end(p, t);
    return n;
}

/* ---- declarations -------------------------------------------------------------------- */

/* `a.b.c` as one string. */
static const char *parse_dotted_name(parser *p)
{
    size_t first = p->pos, n = 0;
    expect_what(p, TK_NAME, "decorator name");
    while (accept(p, TK_DOT))
        expect_what(p, TK_NAME, "name after '.'");
    for (size_t i = first; i < p->pos; i++)
        n += p->toks[i].len;
    char *s = alloc(p, n + 1);
    n = 0;
    for (size_t i = first; i < p->pos; i++) {
        memcpy(s + n, p->toks[i].start, p->toks[i].len);
        n += p->toks[i].len;
    }
    return s;
}

/* @Name, @Name(args), @mod.Name(args) — several may stack. */
static void parse_decorators(parser *p, qast_fun *f)
{
    while (kind(p) == TK_AT) {
        const qtoken *at = advance(p);
        f->decorators = grow(p, f->decorators, f->ndecorators, sizeof *f->decorators);
        qast_decorator *d = &f->decorators[f->ndecorators++];
        d->line = at->line;
        d->col = at->col;
        d->name = parse_dotted_name(p);
        if (kind(p) == TK_LPAREN) {
            d->has_args = true;
            parse_args(p, &d->args);
        }
    }
}

/* In a type, `static [async] fun m()` is our synonym for `[async] fun self.m()`
 * (QEP-027 spells static async methods that way). */
static bool is_static_fun(parser *p)
{
    return tok_is(tok(p), "static") && (peek_kind(p, 1) == TK_FUN || async_before(p, 1, TK_FUN));
}

/* [@decorators] [static] [async] fun [self.]name[(params)] [-> T] body end */
static qast_fun *parse_function(parser *p, bool in_type)
{
    qast_fun *f = alloc(p, sizeof *f);
    parse_decorators(p, f);
    if (in_type && is_static_fun(p)) {
        advance(p);
        f->is_static = true;
    }
    f->is_async = accept_async(p);
    const qtoken *kw = expect(p, TK_FUN);
    f->line = kw->line;
    f->col = kw->col;
    if (tok_is(tok(p), "self") && peek_kind(p, 1) == TK_DOT) {
        advance(p);
        advance(p);
        f->is_static = true;
    }
    f->name = expect_name(p, "function name");
    if (kind(p) == TK_LPAREN)
        parse_params(p, f);
    if (accept(p, TK_ARROW))
        f->ret_type = parse_type(p);
    parse_fun_body(p, f, kw);
    return f;
}

static qnode *parse_fun_decl(parser *p)
{
    qnode *n = new_node(p, N_FUN_DECL, tok(p));
    n->u.fun = parse_function(p, false);
    return n;
}

/* [pub] name[: Type][?][= default] */
static void parse_field(parser *p, qast_type *ty)
{
    const qtoken *t = tok(p);
    ty->fields = grow(p, ty->fields, ty->nfields, sizeof *ty->fields);
    qast_field *fl = &ty->fields[ty->nfields++];
    fl->line = t->line;
    fl->col = t->col;
    fl->pub = accept(p, TK_PUB);
    fl->name = expect_name(p, "field name");
    if (accept(p, TK_COLON)) {
        fl->type = parse_type(p);
        fl->optional = accept(p, TK_QUESTION);
    }
    if (accept(p, TK_ASSIGN))
        fl->def = parse_expr(p);
}

static bool starts_method(parser *p)
{
    int k = kind(p);
    return k == TK_FUN || k == TK_AT || async_before(p, 0, TK_FUN) || is_static_fun(p);
}

static void add_method(parser *p, qast_fun ***methods, int *n, qast_fun *m)
{
    *methods = grow(p, *methods, *n, sizeof **methods);
    (*methods)[(*n)++] = m;
}

/* impl Trait  fun ...  end  (inside a type) */
static void parse_impl_block(parser *p, qast_type *ty)
{
    const qtoken *t = advance(p);
    qast_impl im = {.line = t->line, .col = t->col};
    im.trait = expect_name(p, "trait name");
    do
        add_method(p, &im.methods, &im.nmethods, parse_function(p, true));
    while (starts_method(p));
    expect_end(p, t);
    ty->impls = grow(p, ty->impls, ty->nimpls, sizeof *ty->impls);
    ty->impls[ty->nimpls++] = im;
}

/* type Name ["doc"] members end */
static qnode *parse_type_decl(parser *p)
{
    const qtoken *t = advance(p);
    qnode *n = new_node(p, N_TYPE_DECL, t);
    qast_type *ty = n->u.tdecl = alloc(p, sizeof *ty);
    ty->name = expect_name(p, "type name");
    if (kind(p) == TK_STRING)
        ty->doc = advance(p)->u.str.s;
    for (;;) {
        if (kind(p) == TK_IMPL)
            parse_impl_block(p, ty);
        else if (starts_method(p))
            add_method(p, &ty->methods, &ty->nmethods, parse_function(p, true));
        else if (kind(p) == TK_PUB || kind(p) == TK_NAME)
            parse_field(p, ty);
        else
            break;
    }
    expect_end(p, t);
    return n;
}

/* fun name(params) [-> T] — a signature; *args and **kwargs count as parameters. */
static void parse_trait_method(parser *p, qast_trait *tr)
{
    accept_async(p);
    const qtoken *kw = expect(p, TK_FUN);
    qast_fun sig = {0};
    const char *name = expect_name(p, "method name");
    parse_params(p, &sig);
    tr->methods = grow(p, tr->methods, tr->nmethods, sizeof *tr->methods);
    qast_trait_method *m = &tr->methods[tr->nmethods++];
    m->name = name;
    m->line = kw->line;
    m->col = kw->col;
    if (accept(p, TK_ARROW))
        m->ret_type = parse_type(p);
    m->nparams = sig.nparams + (sig.varargs != NULL) + (sig.kwargs != NULL);
    m->params = alloc(p, (size_t)(m->nparams ? m->nparams : 1) * sizeof *m->params);
    if (sig.nparams)
        memcpy(m->params, sig.params, (size_t)sig.nparams * sizeof *m->params);
    if (sig.varargs)
        m->params[sig.nparams] = (qast_param){.name = sig.varargs, .type = sig.varargs_type};
    if (sig.kwargs)
        m->params[m->nparams - 1] = (qast_param){.name = sig.kwargs, .type = sig.kwargs_type};
}

/* trait Name ["doc"] signatures end */
static qnode *parse_trait_decl(parser *p)
{
    const qtoken *t = advance(p);
    qnode *n = new_node(p, N_TRAIT_DECL, t);
    qast_trait *tr = n->u.trait = alloc(p, sizeof *tr);
    tr->name = expect_name(p, "trait name");
    if (kind(p) == TK_STRING)
        tr->doc = advance(p)->u.str.s;
    while (kind(p) == TK_FUN || async_before(p, 0, TK_FUN))
        parse_trait_method(p, tr);
    expect_end(p, t);
    return n;
}

/* `impl T with A, B { fun ... }` at statement level: parsed, unused (as in
 * the reference), so it becomes N_DOC. */
static qnode *parse_impl_decl(parser *p)
{
    qnode *n = new_node(p, N_DOC, advance(p));
    expect_what(p, TK_NAME, "type name");
    if (accept(p, TK_WITH))
        do
            expect_what(p, TK_NAME, "trait name");
        while (accept(p, TK_COMMA));
    expect(p, TK_LBRACE);
    while (!accept(p, TK_RBRACE))
        parse_function(p, false);
    return n;
}

/* pub let|const|fun|type|trait */
static qnode *parse_pub(parser *p)
{
    advance(p);
    qnode *n;
    switch (kind(p)) {
    case TK_LET: n = parse_let(p); break;
    case TK_CONST: n = parse_const(p); break;
    case TK_TYPE: n = parse_type_decl(p); break;
    case TK_TRAIT: n = parse_trait_decl(p); break;
    case TK_FUN: case TK_AT: n = parse_fun_decl(p); break;
    default:
        if (!async_before(p, 0, TK_FUN))
            fail_expected(p, "let, const, fun, type or trait after 'pub'");
        n = parse_fun_decl(p);
    }
    n->flags |= DECL_PUB;
    return n;
}

/* ---- statements ---------------------------------------------------------------------- */

static qnode *parse_statement(parser *p)
{
    switch (kind(p)) {
    case TK_USE: return parse_use(p);
    case TK_PUB: return parse_pub(p);
    case TK_LET: return parse_let(p);
    case TK_CONST: return parse_const(p);
    case TK_DEL: return parse_del(p);
    case TK_TRY: return parse_try(p);
    case TK_RAISE: return parse_raise(p);
    case TK_WITH: return parse_with(p, 0);
    case TK_PERCENT: return parse_doc(p);
    case TK_AT: return parse_fun_decl(p);
    case TK_TYPE: return parse_type_decl(p);
    case TK_TRAIT: return parse_trait_decl(p);
    case TK_IMPL: return parse_impl_decl(p);
    case TK_IF: return parse_if(p);
    case TK_MATCH: return parse_match(p);
    case TK_WHILE: return parse_while(p);
    case TK_FOR: return parse_for(p);
    case TK_RETURN: return parse_return(p);
    case TK_BREAK: return new_node(p, N_BREAK, advance(p));
    case TK_CONTINUE: return new_node(p, N_CONTINUE, advance(p));
    case TK_FUN:
        if (!is_lambda_start(p))
            return parse_fun_decl(p);
        break;
    case TK_NAME:
        if (async_before(p, 0, TK_WITH))
            return parse_with(p, WITH_ASYNC);
        if (async_before(p, 0, TK_FUN) && !is_lambda_start(p))
            return parse_fun_decl(p);
        if (peek_kind(p, 1) == TK_COLON)
            return parse_typed_decl(p);
        break;
    default:
        break;
    }
    return parse_expr_statement(p);
}

/* Statements up to the first token that cannot start one (`end`, `elif`,
 * `catch`, `in` ...); the caller checks which token that is. */
static qnode *parse_block(parser *p)
{
    qnode *b = new_node(p, N_BLOCK, tok(p));
    enter(p);
    while (starts_statement(p))
        push(p, &b->list, parse_statement(p));
    leave(p);
    return b;
}

/* ---- tree height --------------------------------------------------------------------- */

typedef struct hitem {
    const qnode *n;
    int depth;
} hitem;

typedef struct hstack {
    hitem *items;
    size_t len, cap;
    bool oom;
} hstack;

static void hpush(hstack *s, const qnode *n, int depth)
{
    if (!n || s->oom)
        return;
    if (s->len == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        hitem *items = realloc(s->items, cap * sizeof *items);
        if (!items) {
            s->oom = true;
            return;
        }
        s->items = items;
        s->cap = cap;
    }
    s->items[s->len++] = (hitem){n, depth};
}

static void hpush_list(hstack *s, const qnode_list *l, int depth)
{
    for (int i = 0; i < l->len; i++)
        hpush(s, l->items[i], depth);
}

static void hpush_fun(hstack *s, const qast_fun *f, int depth)
{
    for (int i = 0; i < f->nparams; i++)
        hpush(s, f->params[i].def, depth);
    for (int i = 0; i < f->ndecorators; i++)
        hpush_list(s, &f->decorators[i].args, depth);
    hpush(s, f->body, depth);
}

static void hpush_children(hstack *s, const qnode *n, int depth)
{
    hpush(s, n->a, depth);
    hpush(s, n->b, depth);
    hpush(s, n->c, depth);
    hpush(s, n->d, depth);
    hpush_list(s, &n->list, depth);
    hpush_list(s, &n->list2, depth);
    if (n->kind == N_FUN || n->kind == N_FUN_DECL) {
        hpush_fun(s, n->u.fun, depth);
    } else if (n->kind == N_TYPE_DECL) {
        const qast_type *ty = n->u.tdecl;
        for (int i = 0; i < ty->nfields; i++)
            hpush(s, ty->fields[i].def, depth);
        for (int i = 0; i < ty->nmethods; i++)
            hpush_fun(s, ty->methods[i], depth);
        for (int i = 0; i < ty->nimpls; i++)
            for (int j = 0; j < ty->impls[i].nmethods; j++)
                hpush_fun(s, ty->impls[i].methods[j], depth);
    }
}

/* Loops build left-leaning chains (`a + b + c ...`, `x.f().g() ...`) without
 * recursing, so the tree can be taller than the parser ever went deep;
 * measure it without recursion. */
static void check_height(parser *p, const qnode *root)
{
    hstack s = {0};
    const qnode *deep = NULL;
    hpush(&s, root, 1);
    while (s.len > 0 && !deep && !s.oom) {
        hitem it = s.items[--s.len];
        if (it.depth > AST_MAX_DEPTH)
            deep = it.n;
        else
            hpush_children(&s, it.n, it.depth + 1);
    }
    bool oom = s.oom;
    free(s.items);
    if (oom)
        fail_oom(p);
    if (deep) {
        qtoken at = {.line = deep->line, .col = deep->col, .kind = TK_NAME};
        fail_at(p, &at, "nesting too deep (more than %d levels)", AST_MAX_DEPTH);
    }
}

/* ---- entry point --------------------------------------------------------------------- */

/* All tokens up to TK_EOF or the first TK_ERROR, in a malloc'd array. */
static bool tokenize(parser *p, const char *src, size_t len)
{
    lexer lx;
    size_t cap = 0;
    lex_init(&lx, p->arena, src, len);
    for (;;) {
        if (p->ntoks == cap) {
            cap = cap ? cap * 2 : len / 4 + 16;     /* about one token per 4 bytes */
            qtoken *toks = cap < SIZE_MAX / sizeof *toks ? realloc(p->toks, cap * sizeof *toks) : NULL;
            if (!toks) {
                lex_free(&lx);
                snprintf(p->err->message, sizeof p->err->message, "out of memory");
                return false;
            }
            p->toks = toks;
        }
        qtoken *t = &p->toks[p->ntoks++];
        lex_next(&lx, t);
        if (t->kind == TK_EOF || t->kind == TK_ERROR)
            break;
    }
    lex_free(&lx);
    return true;
}

static qnode *parse_chunk(parser *p)
{
    qnode *root = parse_block(p);
    if (kind(p) != TK_EOF)
        unexpected(p);
    check_height(p, root);
    return root;
}

qnode *parse_program(ast_arena *a, const char *src, size_t len, qsyntax_error *err)
{
    qsyntax_error ignored;
    parser p = {.arena = a, .err = err ? err : &ignored};
    memset(p.err, 0, sizeof *p.err);
    if (!tokenize(&p, src ? src : "", src ? len : 0)) {
        free(p.toks);
        return NULL;
    }
    qtoken *toks = p.toks;    /* not changed after setjmp, so usable after longjmp */
    qnode *root = NULL;
    if (setjmp(p.fail) == 0)
        root = parse_chunk(&p);
    free(toks);
    return root;
}
