/* lexer.h — splits Quest source text into tokens for the parser.
 *
 * The lexer turns literals into values as it goes (escapes processed,
 * numbers converted, f-strings split into parts), copying them into the
 * parse's arena.  It never reads outside [src, src + len) and accepts any
 * bytes: a malformed token becomes a TK_ERROR token carrying the message,
 * after which the lexer only returns that error again.
 */
#ifndef QUEST_LEXER_H
#define QUEST_LEXER_H

#include "ast.h"

typedef enum {
    TK_EOF, TK_ERROR,
    TK_NAME, TK_INT, TK_FLOAT, TK_BIGINT, TK_STRING, TK_FSTRING, TK_BYTES,

    /* reserved words (§1.1 plus await; `async` is a name the parser
     * recognizes before `fun` and `with`) */
    TK_AND, TK_AS, TK_AWAIT, TK_BREAK, TK_CATCH, TK_CONST, TK_CONTINUE,
    TK_DEL, TK_ELIF, TK_ELSE, TK_END, TK_ENSURE, TK_FALSE, TK_FOR, TK_FUN, TK_IF,
    TK_IMPL, TK_IN, TK_LET, TK_MATCH, TK_NIL, TK_NOT, TK_OR, TK_PUB, TK_RAISE,
    TK_RETURN, TK_STEP, TK_TO, TK_TRAIT, TK_TRUE, TK_TRY, TK_TYPE, TK_UNTIL,
    TK_USE, TK_WHILE, TK_WITH,

    /* punctuation and operators */
    TK_LPAREN, TK_RPAREN, TK_LBRACKET, TK_RBRACKET, TK_LBRACE, TK_RBRACE,
    TK_COMMA, TK_COLON, TK_DOT, TK_DOTDOT, TK_QUESTION, TK_ELVIS, TK_AT, TK_ARROW,
    TK_PLUS, TK_MINUS, TK_STAR, TK_STARSTAR, TK_SLASH, TK_PERCENT, TK_TILDE,
    TK_PIPE, TK_CARET, TK_AMP, TK_SHL, TK_SHR,
    TK_EQ, TK_NE, TK_LT, TK_LE, TK_GT, TK_GE,
    TK_ASSIGN, TK_ADD_ASSIGN, TK_SUB_ASSIGN, TK_MUL_ASSIGN, TK_DIV_ASSIGN,
    TK_MOD_ASSIGN,
    TK__COUNT
} qtoken_kind;

#define TK_FIRST_KEYWORD TK_AND
#define TK_LAST_KEYWORD TK_WITH

/* One piece of an f-string: literal text (escapes processed) or a variable
 * reference `{name}` / `{name:spec}`. */
typedef struct lex_fpart {
    struct lex_fpart *next;
    const char *text;     /* the text, or the variable name */
    size_t len;
    const char *spec;     /* format spec of a variable, or NULL */
    bool is_var;
} lex_fpart;

typedef struct qtoken {
    uint8_t kind;         /* qtoken_kind */
    bool incomplete;      /* TK_ERROR: the input ended inside the token */
    int line, col;        /* 1-based; col counts characters, not bytes */
    const char *start;    /* the token's source text */
    size_t len;
    union {
        struct { const char *s; size_t n; } str;  /* STRING, BYTES, BIGINT digits, ERROR message */
        int64_t ival;                            /* INT */
        double fval;                             /* FLOAT */
        lex_fpart *parts;                        /* FSTRING */
    } u;
} qtoken;

typedef struct lexer {
    const char *cur, *end;
    int line;
    const char *line_start;
    const char *colpos;   /* column cache: colpos is at column col of the current line */
    int col;
    ast_arena *arena;
    char *buf;            /* scratch for building literal values */
    size_t buflen, bufcap;
    bool failed;          /* an error token was returned: keep returning it */
    qtoken error;
} lexer;

void lex_init(lexer *lx, ast_arena *arena, const char *src, size_t len);
void lex_free(lexer *lx);
void lex_next(lexer *lx, qtoken *t);

/* The fixed spelling of a keyword or punctuation kind ("end", "->"), or a
 * description of a literal kind ("string literal"). */
const char *lex_kind_text(int kind);

#endif
