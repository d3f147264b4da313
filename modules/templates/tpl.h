/* tpl.h — the template engine behind std/html/templates (Tera semantics).
 *
 * A template is compiled once, when it is added, into a tree of nodes and
 * expressions (parser.c) whose names are interned Quest strings; rendering
 * (render.c, eval.c) walks that tree against the context Dict, writing into
 * one growing buffer.  Values are plain qvals: the context is never copied
 * or converted up front; a value is normalised (value.c) only when it is
 * used, the way the reference's JSON conversion would have shaped it.
 *
 * No Quest code ever runs during a compile or a render, so the GC cannot
 * run either: intermediate values live safely in C locals.  What outlives a
 * call — interned names, string literals — is kept in each template's
 * `consts` array, which the engine's mark callback marks.
 *
 * Files, one job each:
 *   lexer.c    source text -> tokens (text runs, tag delimiters, expression tokens)
 *   parser.c   tokens -> nodes and expressions; syntax errors with line/column
 *   value.c    shaping, truthiness, equality, printing, escaping, JSON
 *   eval.c     expressions: lookups, operators, filters/tests/functions calls
 *   render.c   nodes: frames, loops, inheritance, include, errors
 *   filters.c  the built-in filters, tests and functions
 *   engine.c   the set of named templates; loading files and globs
 *   module.c   std/html/templates: the Quest-facing module and HtmlTemplate
 */
#ifndef QUEST_TPL_H
#define QUEST_TPL_H

#include "vm/vm.h"

/* ---- memory ------------------------------------------------------------------ */

/* Bump allocator owning a compiled template's nodes; freed in one go. */
typedef struct tpl_arena tpl_arena;
tpl_arena *tpl_arena_new(void);
void *tpl_arena_alloc(tpl_arena *a, size_t size);
void tpl_arena_free(tpl_arena *a);

/* ---- tokens ------------------------------------------------------------------ */

typedef enum {
    TK_EOF,
    TK_TEXT,        /* literal text between tags */
    TK_VAR_OPEN,    /* {{  (trim: {{-) */
    TK_TAG_OPEN,    /* {%  (trim: {%-) */
    TK_COMMENT,     /* a whole {# ... #}; trim = left, trim2 = right */
    TK_VAR_CLOSE,   /* }}  (trim: -}}) */
    TK_TAG_CLOSE,   /* %}  (trim: -%}) */
    TK_NAME,        /* identifier, maybe dotted: a.b.0 */
    TK_INT,
    TK_FLOAT,
    TK_STR,         /* quoted text, quotes excluded, no escapes (as Tera) */
    TK_OP,          /* punctuation; op holds its code (see lexer.c) */
    TK_ERROR,       /* msg says why */
} tpl_tok_kind;

/* Two-character operators get one-letter codes. */
enum { OP_EQ = 'E', OP_NE = 'N', OP_LE = 'L', OP_GE = 'G', OP_NS = 'C' /* :: */ };

typedef struct tpl_token {
    tpl_tok_kind kind;
    const char *s;      /* text of the token (TK_STR: inside the quotes) */
    uint32_t len;
    uint32_t line, col; /* 1-based; col counts characters */
    bool trim, trim2;   /* whitespace control marks */
    int op;             /* TK_OP */
    int64_t i;          /* TK_INT */
    double f;           /* TK_FLOAT */
    const char *msg;    /* TK_ERROR */
} tpl_token;

typedef struct tpl_lexer {
    const char *src;
    size_t len, pos;
    uint32_t line, col;   /* of pos */
} tpl_lexer;

void tpl_lex_init(tpl_lexer *lx, const char *src, size_t len);
/* Outside tags: a text run, a tag/variable opener or a whole comment. */
void tpl_lex_outer(tpl_lexer *lx, tpl_token *t);
/* Inside {{ }} or {% %}: the next expression token or a closer. */
void tpl_lex_inner(tpl_lexer *lx, tpl_token *t);
/* After {% raw %}: the text up to the matching {% endraw %}, which is
 * consumed too; t->trim/trim2 are the endraw tag's marks. */
bool tpl_lex_raw(tpl_lexer *lx, tpl_token *t);

/* ---- expressions ---------------------------------------------------------------- */

typedef enum {
    X_CONST,    /* literal: k */
    X_VAR,      /* variable path: var */
    X_ARRAY,    /* [a, b]: list */
    X_CONCAT,   /* a ~ b ~ c: list */
    X_MATH,     /* a op b, op one of + - * / %: bin */
    X_NEG,      /* -a: bin.a */
    X_CMP,      /* a op b, op one of == != < <= > >=: bin */
    X_AND,
    X_OR,
    X_NOT,      /* bin.a */
    X_IN,       /* a in b (negated: a not in b): bin */
    X_FILTER,   /* call.target | name(args) */
    X_TEST,     /* call.target is [not] name(args) */
    X_CALL,     /* name(args): a built-in function */
    X_MACRO,    /* ns::name(args) */
} tpl_expr_kind;

typedef struct tpl_expr tpl_expr;

/* One step of a path: .name, .0, ["name"], [0] (static) or [expr]. */
typedef struct tpl_seg {
    qstr *key;      /* static key (also the text of a numeric one) */
    int64_t index;  /* numeric key, or -1 */
    tpl_expr *dyn;  /* [expr] evaluated at render time, or NULL */
} tpl_seg;

typedef struct tpl_arg {
    qstr *name;     /* NULL for tests' positional arguments */
    tpl_expr *value;
} tpl_arg;

struct tpl_expr {
    uint8_t kind;
    uint8_t op;        /* X_MATH/X_CMP operator; X_FILTER/X_TEST/X_CALL: table index */
    bool negated;      /* X_IN, X_TEST */
    uint32_t line, col;
    union {
        qval k;
        struct {
            qstr *root;
            tpl_seg *segs;
            uint32_t nsegs;
            const char *text;  /* the path as written, for messages */
            uint32_t text_len;
            tpl_expr *dflt;    /* `| default(value=...)` as first filter */
        } var;
        struct {
            tpl_expr **items;
            uint32_t n;
        } list;
        struct {
            tpl_expr *a, *b;
        } bin;
        struct {
            tpl_expr *target;  /* X_FILTER/X_TEST operand */
            tpl_arg *args;     /* filters/functions: by parameter slot (NULL value: absent) */
            uint32_t nargs;
            qstr *ns, *name;   /* X_MACRO */
        } call;
    } u;
};

/* ---- nodes -------------------------------------------------------------------------- */

typedef enum {
    N_TEXT, N_OUT, N_IF, N_FOR, N_SET, N_BLOCK, N_INCLUDE, N_SUPER,
    N_BREAK, N_CONTINUE, N_FILTER,
} tpl_node_kind;

typedef struct tpl_node tpl_node;

typedef struct tpl_body {
    tpl_node *nodes;
    uint32_t n;
} tpl_body;

struct tpl_node {
    uint8_t kind;
    bool flag;          /* N_OUT: escape; N_SET: global; N_INCLUDE: ignore missing */
    uint32_t line, col;
    union {
        struct {
            const char *s;
            uint32_t len;
        } text;
        tpl_expr *expr;                  /* N_OUT */
        struct {
            tpl_expr **conds;            /* n conditions; bodies[n] is the else body */
            tpl_body *bodies;
            uint32_t n;
        } cond;
        struct {
            qstr *key, *value;           /* key NULL unless `for k, v in ...` */
            tpl_expr *container;
            tpl_body body, empty;
        } loop;
        struct {
            qstr *name;
            tpl_expr *value;
        } set;
        struct {
            qstr *name;
            tpl_body body;
        } block;
        struct {
            qstr **names;
            uint32_t n;
        } include;
        struct {
            tpl_expr *filter;            /* X_FILTER whose target is NULL (the body) */
            tpl_body body;
        } filter;
    } u;
};

/* ---- templates ----------------------------------------------------------------------- */

typedef struct tpl_macro {
    qstr *name;
    qstr **params;
    tpl_expr **defaults;  /* NULL where the parameter has none */
    uint32_t nparams;
    tpl_body body;
} tpl_macro;

typedef struct tpl_import {
    qstr *file, *ns;
} tpl_import;

typedef struct tpl_template {
    qstr *name;
    bool autoescape;       /* name ends with .html, .htm or .xml */
    tpl_arena *arena;
    qarray *consts;        /* every qstr the tree points to (GC roots) */
    tpl_body body;
    qstr *parent;          /* {% extends %} or NULL */
    tpl_node **blocks;     /* every {% block %} of this file, nested ones too */
    uint32_t nblocks;
    tpl_macro *macros;
    uint32_t nmacros;
    tpl_import *imports;
    uint32_t nimports;
    size_t size_hint;      /* length of its last rendering */
} tpl_template;

typedef struct tpl_error {
    char msg[320];
    uint32_t line, col;
} tpl_error;

/* Compile src as template `name`.  NULL with *err filled on a syntax error. */
tpl_template *tpl_parse(qvm *vm, qstr *name, const char *src, size_t len, tpl_error *err);
void tpl_template_free(tpl_template *t);
tpl_node *tpl_find_block(const tpl_template *t, const qstr *name);
tpl_macro *tpl_find_macro(const tpl_template *t, const qstr *name);

/* ---- the engine ------------------------------------------------------------------------ */

typedef struct tpl_engine {
    tpl_template **tpls;   /* by registration order; replaced in place */
    uint32_t n, cap;
} tpl_engine;

tpl_template *tpl_engine_get(const tpl_engine *e, const qstr *name);
/* Add or replace (by name).  False only when out of memory. */
bool tpl_engine_put(tpl_engine *e, tpl_template *t);
void tpl_engine_free(tpl_engine *e);
void tpl_engine_mark(qvm *vm, tpl_engine *e);
/* Compile and add; false after raising RuntimeErr "Template error: ...". */
bool tpl_engine_add(qvm *vm, tpl_engine *e, qstr *name, const char *src, size_t len);
/* Load every file matching a glob (`**`, `*`, `?`, `[...]`, `{a,b}`),
 * named by its path relative to the glob's directory part.  False after
 * raising. */
bool tpl_engine_load_glob(qvm *vm, tpl_engine *e, const char *pattern);
/* Read a whole file (NUL-terminated, caller frees); NULL with errno set. */

/* ---- rendering --------------------------------------------------------------------------- */

/* Render template t (registered in e or not) with context ctx.  Returns the
 * text or qv_exc() after raising RuntimeErr "Template error: ...".
 * budget > 0 caps the work done (loop iterations and nodes; the fuzz target
 * uses it), 0 means no limit. */
qval tpl_render(qvm *vm, tpl_engine *e, tpl_template *t, qdict *ctx, int64_t budget);

/* The render state shared by render.c, eval.c and filters.c. */
typedef struct tpl_rs tpl_rs;

typedef struct tpl_frame tpl_frame;

struct tpl_rs {
    qvm *vm;
    tpl_engine *eng;
    qdict *ctx;
    qbuf *out;
    bool escape;             /* decided once, by the rendered template's name */
    tpl_frame *frames;
    uint32_t nframes, capframes;
    const tpl_template *tpl;         /* the template rendered */
    const tpl_template **levels;     /* tpl and its parents, child first */
    uint32_t nlevels;
    struct tpl_blockref {
        const qstr *name;
        uint32_t level;
    } *blocks;                       /* blocks being rendered, for super() */
    uint32_t nblocks, capblocks;
    const tpl_template *where;       /* template whose nodes are being rendered */
    int depth;                       /* nested includes and macro calls */
    int nesting;                     /* bodies being rendered */
    int eval_depth;                  /* expressions being evaluated */
    int64_t budget;
    bool failed;
    qbuf err;                        /* first error's message */
    const tpl_template *err_where;
    uint32_t err_line, err_col;
    struct tpl_names {               /* interned names compared by pointer */
        qstr *loop, *index, *index0, *first, *last, *length, *self;
    } names;
};

/* Record a render error at (line, col) of rs->where; always returns false. */
bool tpl_fail(tpl_rs *rs, uint32_t line, uint32_t col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Forget a recorded error (an undefined name in a condition is false). */
void tpl_clear_error(tpl_rs *rs);

/* Variable lookup through the frames, then the context (render.c).
 * False when the root name is not bound anywhere. */
bool tpl_lookup(tpl_rs *rs, const qstr *name, qval *out);
/* `loop.x` of the innermost loop frame: true with *out set when seg names
 * one of index, index0, first, last, length (render.c). */
bool tpl_loop_field(tpl_rs *rs, const qstr *seg, qval *out);
/* Render a macro call's body into rs->out (render.c). */
bool tpl_call_macro(tpl_rs *rs, const tpl_expr *e, qval *out);

/* ---- expressions (eval.c) ------------------------------------------------------------------ */

bool tpl_eval(tpl_rs *rs, const tpl_expr *e, qval *out);
/* As a condition: a name that is undefined (or fails) there is false. */
bool tpl_eval_bool(tpl_rs *rs, const tpl_expr *e, bool *out);
/* tpl_shape, failing the render for values a template cannot use. */
bool tpl_norm(tpl_rs *rs, uint32_t line, uint32_t col, qval v, qval *out);

/* ---- values (value.c) ------------------------------------------------------------------------ */

/* Shape a Quest value as the reference's JSON conversion would: Decimal ->
 * Float, BigInt/Uuid -> Str, Bytes -> base64 Str, Set -> Array, module
 * objects -> their str().  False for functions, types and modules. */
bool tpl_shape(qvm *vm, qval v, qval *out);
bool tpl_truthy(qval v);
bool tpl_equal(qval a, qval b);
/* Tera's output form: nil "", floats as Rust prints them, arrays "[a, b]",
 * objects "[object]". */
void tpl_print(qvm *vm, qbuf *b, qval v);
/* & < > " ' / -> entities. */
void tpl_escape(qbuf *b, const char *s, size_t len);
/* Compact (indent < 0) or pretty JSON with sorted keys, as serde_json. */
void tpl_json(qvm *vm, qbuf *b, qval v, int indent);
/* The value as a Str (printing it unless it is one). */
qstr *tpl_to_str(qvm *vm, qval v);
/* Short JSON form of v for error messages. */
const char *tpl_describe(qvm *vm, qbuf *scratch, qval v);
bool tpl_is_object(qval v);
/* Attribute or index of an object/array; false when absent. */
bool tpl_get_attr(qval obj, const tpl_seg *seg, qval *out);
/* Keys of a Dict or fields of an instance, sorted (serde_json's order);
 * caller frees.  Values via tpl_object_get. */
qstr **tpl_object_keys(qval obj, uint32_t *n);
bool tpl_object_get(qval obj, const qstr *key, qval *out);
uint32_t tpl_object_len(qval obj);

/* ---- built-ins (filters.c) ---------------------------------------------------------------------- */

#define TPL_MAX_PARAMS 4

typedef bool (*tpl_filter_fn)(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, qval *out);
typedef bool (*tpl_test_fn)(tpl_rs *rs, const tpl_expr *at, qval v, const qval *args, uint32_t n,
                            bool *out);
typedef bool (*tpl_func_fn)(tpl_rs *rs, const tpl_expr *at, const qval *args, qval *out);

typedef struct tpl_builtin {
    const char *name;
    const char *params[TPL_MAX_PARAMS + 1]; /* filters/functions: named args; tests: NULL */
    int max_args;                           /* tests: positional arguments allowed */
    tpl_filter_fn filter;                   /* the one that applies is set */
    tpl_test_fn test;
    tpl_func_fn func;
} tpl_builtin;

extern const tpl_builtin tpl_filters[];
extern const tpl_builtin tpl_tests[];
extern const tpl_builtin tpl_functions[];
/* Index in the table (ending with a NULL name) or -1. */
int tpl_builtin_find(const tpl_builtin *table, const char *name, size_t len);
/* Slot of parameter `name` of builtin b, or -1. */
int tpl_builtin_param(const tpl_builtin *b, const char *name, size_t len);
/* Filters the evaluator treats specially. */
extern const int tpl_filter_safe, tpl_filter_default;

#endif
