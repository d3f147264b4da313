/* ast.h — the syntax tree the parser builds and the compiler consumes.
 *
 * Nodes live in an arena owned by the parse (ast_arena); the whole tree is
 * freed at once after compilation.  Strings in nodes are arena copies,
 * NUL-terminated, with escapes already processed (except raw triple-quoted
 * strings, which are kept verbatim as the language says).
 */
#ifndef QUEST_AST_H
#define QUEST_AST_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

typedef struct ast_arena ast_arena;
typedef struct qnode qnode;

typedef struct qnode_list {
    qnode **items;
    int len, cap;
} qnode_list;

typedef enum {
    /* ---- expressions ---- */
    N_NIL, N_TRUE, N_FALSE,
    N_INT,        /* ival */
    N_FLOAT,      /* fval */
    N_BIGINT,     /* str: canonical digits with optional sign/prefix, e.g. "0xff", "123" */
    N_STR,        /* str, slen (may contain NUL bytes? no: Quest strings cannot) */
    N_BYTES,      /* str, slen: raw bytes after escape processing */
    N_FSTR,       /* list: parts; N_STR for literal text, N_FSTR_VAR for {name[:spec]} */
    N_FSTR_VAR,   /* name; str = spec or NULL */
    N_TYPE_NAME,  /* name: bare Int/Float/Str/Bool/Array/Dict/Bytes/Uuid/Num/Obj (a Str value) */
    N_MAGIC,      /* name: "__file__" | "__line__" | "__function__" */
    N_IDENT,      /* name */
    N_ARRAY,      /* list: elements */
    N_DICT,       /* list: keys (N_STR), list2: values */
    N_UNARY,      /* op ('-', '+', '~'), a */
    N_NOT,        /* a */
    N_AWAIT,      /* a */
    N_BINARY,     /* op (see qop), a, b */
    N_AND, N_OR, N_ELVIS, /* a, b */
    N_CALL,       /* a: callee, list: args (N_ARG) */
    N_METHOD,     /* a: receiver, name, list: args — `a.name(args)` */
    N_MEMBER,     /* a: object, name — `a.name` without parentheses */
    N_INDEX,      /* a: object, list: indices (more than one is a runtime error) */
    N_FUN,        /* fun: a function (lambda or declaration) */
    N_ARG,        /* argkind, name (for named), a: value */

    /* ---- statements ---- */
    N_BLOCK,      /* list: statements */
    N_EXPR_STMT,  /* a */
    N_LET,        /* list: N_BINDING */
    N_BINDING,    /* name, str = type annotation or NULL, a: value (NULL allowed only for typed lets?) */
    N_CONST,      /* name, a */
    N_ASSIGN,     /* op (QOP_NONE for '=', else the arithmetic op), a: target (IDENT/INDEX/MEMBER), b: value */
    N_DEL,        /* name */
    N_IF,         /* list: conditions, list2: bodies (N_BLOCK), b: else body or NULL */
    N_WHILE,      /* a: cond, b: body */
    N_FOR,        /* name, name2 (or NULL), a: iterable; or, when range: a=from, c=to, d=step (or NULL), flags=FOR_RANGE|FOR_UNTIL; b: body */
    N_MATCH,      /* a: subject, list: N_ARM, b: else body or NULL */
    N_ARM,        /* list: values (value-list pattern) or, when flags&ARM_RANGE, a=lo c=hi d=step; flags ARM_UNTIL; b: body */
    N_TRY,        /* a: body, list: N_CATCH, b: ensure body or NULL */
    N_CATCH,      /* name (variable), str (type name or NULL), a: body */
    N_RAISE,      /* a: value or NULL (re-raise) */
    N_WITH,       /* list: N_WITH_ITEM, b: body */
    N_WITH_ITEM,  /* a: expr, name: alias or NULL */
    N_RETURN,     /* a: value or NULL */
    N_BREAK, N_CONTINUE,
    N_FUN_DECL,   /* fun; flags: DECL_PUB */
    N_TYPE_DECL,  /* tdecl; flags: DECL_PUB */
    N_TRAIT_DECL, /* trait; flags: DECL_PUB */
    N_USE,        /* str: path, name: alias or NULL, list: N_IMPORT_NAME (selective) */
    N_IMPORT_NAME,/* name, name2: alias or NULL */
    N_DOC,        /* documentation statement `% fun ...` — ignored */
    N__COUNT
} qnode_kind;

typedef enum {
    QOP_NONE,
    QOP_ADD, QOP_SUB, QOP_MUL, QOP_DIV, QOP_MOD,
    QOP_CONCAT,                 /* .. */
    QOP_EQ, QOP_NE, QOP_LT, QOP_LE, QOP_GT, QOP_GE,
    QOP_BOR, QOP_BXOR, QOP_BAND, QOP_SHL, QOP_SHR,
} qop;

typedef enum { ARG_POS, ARG_NAMED, ARG_SPREAD, ARG_KWSPREAD } qarg_kind;

enum {
    FOR_RANGE = 1, FOR_UNTIL = 2,
    ARM_RANGE = 1, ARM_UNTIL = 2,
    DECL_PUB = 1,         /* also on N_LET and N_CONST (`pub let`, `pub const`) */
    LET_CONST = 4,
    WITH_ASYNC = 8,       /* N_WITH: `async with ... end` */
    LET_UNDECLARED = 16,  /* N_LET: `name: Type [= v]` without `let`; the reference parses it and
                             raises RuntimeErr "Typed variable declarations not yet implemented"
                             when it runs.  Its single N_BINDING may have a == NULL. */
};

/* parse_program rejects input whose tree is taller than this (or whose
 * nesting would take the parser deeper), so a recursive walk of the tree
 * needs at most this many levels.  The reference's QEP-049 test nests
 * 1000 parentheses through sys.eval. */
#define AST_MAX_DEPTH 1500

typedef struct qast_param {
    const char *name;
    const char *type;     /* annotation or NULL */
    qnode *def;           /* default expression or NULL */
    int line, col;
} qast_param;

typedef struct qast_decorator {
    const char *name;     /* possibly dotted, e.g. "mod.Deco" */
    qnode_list args;      /* N_ARG */
    bool has_args;        /* `@D()` vs `@D` */
    int line, col;
} qast_decorator;

typedef struct qast_fun {
    const char *name;     /* NULL for lambdas */
    bool is_static;       /* `fun self.m()` inside a type */
    bool is_async;
    const char *doc;      /* leading string literal of the body, or NULL */
    const char *ret_type; /* `-> T` or NULL */
    qast_param *params;
    int nparams;          /* required + optional */
    const char *varargs, *varargs_type;  /* `*name` or NULL */
    const char *kwargs, *kwargs_type;    /* `**name` or NULL */
    qast_decorator *decorators;
    int ndecorators;
    qnode *body;          /* N_BLOCK */
    int line, col, end_line;
} qast_fun;

typedef struct qast_field {
    const char *name;
    const char *type;     /* NULL if untyped; may be qualified "mod.T" */
    bool pub, optional;
    qnode *def;           /* default or NULL */
    int line, col;
} qast_field;

typedef struct qast_impl {
    const char *trait;    /* trait name */
    qast_fun **methods;
    int nmethods;
    int line, col;
} qast_impl;

typedef struct qast_type {
    const char *name;
    const char *doc;
    qast_field *fields;
    int nfields;
    qast_fun **methods;   /* instance and static (is_static) methods */
    int nmethods;
    qast_impl *impls;
    int nimpls;
} qast_type;

typedef struct qast_trait_method {
    const char *name;
    int nparams;
    qast_param *params;   /* nparams entries; varargs and kwargs included by bare name
                             (for `Trait._doc()`: "fun compare(other)") */
    const char *ret_type; /* `-> T` or NULL */
    int line, col;
} qast_trait_method;

typedef struct qast_trait {
    const char *name;
    const char *doc;
    qast_trait_method *methods;
    int nmethods;
} qast_trait;

struct qnode {
    uint8_t kind;      /* qnode_kind */
    uint8_t op;        /* qop, or unary char */
    uint8_t argkind;   /* qarg_kind */
    uint8_t flags;
    int line, col;
    const char *name, *name2;
    const char *str;
    size_t slen;
    int64_t ival;
    double fval;
    qnode *a, *b, *c, *d;
    qnode_list list, list2;
    union {
        qast_fun *fun;
        qast_type *tdecl;
        qast_trait *trait;
    } u;
};

/* ---- arena ---- */
ast_arena *ast_arena_new(void);
void ast_arena_free(ast_arena *a);
void *ast_alloc(ast_arena *a, size_t n);          /* zeroed */
char *ast_strdup(ast_arena *a, const char *s, size_t n);
qnode *ast_node(ast_arena *a, qnode_kind kind, int line, int col);
void ast_list_push(ast_arena *a, qnode_list *l, qnode *n);

/* ---- parsing (vm/parser.c) ---- */

typedef struct qsyntax_error {
    char message[256];
    int line, col;        /* 1-based */
    bool incomplete;      /* the input ended inside a construct (REPL reads more) */
} qsyntax_error;

/* Parse a whole file.  Returns an N_BLOCK, or NULL with *err filled in.
 * Never crashes on any input; nesting deeper than a fixed limit is an error. */
qnode *parse_program(ast_arena *a, const char *src, size_t len, qsyntax_error *err);

/* Render "file:line:col: message" followed by the source line and a caret,
 * into out (at most n bytes). */
void syntax_error_format(const qsyntax_error *e, const char *file, const char *src,
                         char *out, size_t n);

#endif
