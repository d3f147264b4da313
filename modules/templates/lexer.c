/* lexer.c — template source to tokens.
 *
 * The parser drives the lexer in two modes: outside tags (tpl_lex_outer)
 * the source is literal text cut at `{{`, `{%` and `{#`; inside them
 * (tpl_lex_inner) it is expression tokens up to `}}` or `%}`.  A `-` next to
 * a delimiter ({%- ... -%}) asks for the neighbouring whitespace to be
 * trimmed; the token carries that mark and the parser applies it.
 *
 * Strings have no escape sequences, as in Tera: "...", '...' or `...`.
 * Names may be dotted (`user.profile.name`, `items.0`) and come out as one
 * token; the parser splits them.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "modules/templates/tpl.h"

void tpl_lex_init(tpl_lexer *lx, const char *src, size_t len)
{
    lx->src = src;
    lx->len = len;
    lx->pos = 0;
    lx->line = 1;
    lx->col = 1;
}

/* Move to position `to`, counting the newlines passed. */
static void lex_advance(tpl_lexer *lx, size_t to)
{
    for (size_t i = lx->pos; i < to; i++) {
        unsigned char c = (unsigned char)lx->src[i];
        if (c == '\n') {
            lx->line++;
            lx->col = 1;
        } else if ((c & 0xC0) != 0x80) {
            lx->col++;
        }
    }
    lx->pos = to;
}

/* Start a token at the current position. */
static void lex_start(tpl_lexer *lx, tpl_token *t, tpl_tok_kind kind)
{
    memset(t, 0, sizeof *t);
    t->kind = kind;
    t->s = lx->src + lx->pos;
    t->line = lx->line;
    t->col = lx->col;
}

static bool lex_at(const tpl_lexer *lx, size_t pos, const char *s)
{
    size_t n = strlen(s);
    return pos + n <= lx->len && memcmp(lx->src + pos, s, n) == 0;
}

/* Position of the next `{{`, `{%` or `{#` at or after pos (len if none). */
static size_t lex_find_open(const tpl_lexer *lx, size_t pos)
{
    while (pos < lx->len) {
        const char *p = memchr(lx->src + pos, '{', lx->len - pos);
        if (!p)
            return lx->len;
        size_t i = (size_t)(p - lx->src);
        if (i + 1 < lx->len && (p[1] == '{' || p[1] == '%' || p[1] == '#'))
            return i;
        pos = i + 1;
    }
    return lx->len;
}

static void lex_comment(tpl_lexer *lx, tpl_token *t)
{
    lex_start(lx, t, TK_COMMENT);
    size_t p = lx->pos + 2;
    t->trim = p < lx->len && lx->src[p] == '-';
    for (; p + 1 < lx->len; p++) {
        if (lx->src[p] == '#' && lx->src[p + 1] == '}') {
            t->trim2 = p > lx->pos + 2 + t->trim && lx->src[p - 1] == '-';
            lex_advance(lx, p + 2);
            t->len = (uint32_t)(lx->src + lx->pos - t->s);
            return;
        }
    }
    t->kind = TK_ERROR;
    t->msg = "unclosed comment: expected `#}`";
}

void tpl_lex_outer(tpl_lexer *lx, tpl_token *t)
{
    if (lx->pos >= lx->len) {
        lex_start(lx, t, TK_EOF);
        return;
    }
    size_t open = lex_find_open(lx, lx->pos);
    if (open > lx->pos) {
        lex_start(lx, t, TK_TEXT);
        t->len = (uint32_t)(open - lx->pos);
        lex_advance(lx, open);
        return;
    }
    char c = lx->src[lx->pos + 1];
    if (c == '#') {
        lex_comment(lx, t);
        return;
    }
    lex_start(lx, t, c == '{' ? TK_VAR_OPEN : TK_TAG_OPEN);
    size_t end = lx->pos + 2;
    if (end < lx->len && lx->src[end] == '-') {
        t->trim = true;
        end++;
    }
    t->len = (uint32_t)(end - lx->pos);
    lex_advance(lx, end);
}

static bool lex_name_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* A name with its dotted tail: ident ("." [A-Za-z0-9_]+)*. */
static void lex_name(tpl_lexer *lx, tpl_token *t)
{
    size_t p = lx->pos;
    while (p < lx->len && lex_name_char(lx->src[p]))
        p++;
    while (p + 1 < lx->len && lx->src[p] == '.' && lex_name_char(lx->src[p + 1])) {
        p++;
        while (p < lx->len && lex_name_char(lx->src[p]))
            p++;
    }
    t->len = (uint32_t)(p - lx->pos);
    lex_advance(lx, p);
}

static void lex_number(tpl_lexer *lx, tpl_token *t)
{
    size_t p = lx->pos;
    while (p < lx->len && isdigit((unsigned char)lx->src[p]))
        p++;
    bool is_float = p + 1 < lx->len && lx->src[p] == '.' && isdigit((unsigned char)lx->src[p + 1]);
    if (is_float) {
        p++;
        while (p < lx->len && isdigit((unsigned char)lx->src[p]))
            p++;
    }
    char buf[64];
    size_t n = p - lx->pos;
    if (n >= sizeof buf) {
        t->kind = TK_ERROR;
        t->msg = "number literal too long";
        return;
    }
    memcpy(buf, lx->src + lx->pos, n);
    buf[n] = '\0';
    errno = 0;
    if (is_float) {
        t->kind = TK_FLOAT;
        t->f = strtod(buf, NULL);
    } else {
        t->kind = TK_INT;
        t->i = strtoll(buf, NULL, 10);
        if (errno == ERANGE) {
            t->kind = TK_ERROR;
            t->msg = "integer literal out of range";
            return;
        }
    }
    t->len = (uint32_t)n;
    lex_advance(lx, p);
}

static void lex_string(tpl_lexer *lx, tpl_token *t)
{
    char q = lx->src[lx->pos];
    const char *end = memchr(lx->src + lx->pos + 1, q, lx->len - lx->pos - 1);
    if (!end) {
        t->kind = TK_ERROR;
        t->msg = "unterminated string literal";
        return;
    }
    t->kind = TK_STR;
    t->s = lx->src + lx->pos + 1;
    t->len = (uint32_t)(end - t->s);
    lex_advance(lx, (size_t)(end - lx->src) + 1);
}

/* Operators: two-character ones first. */
static bool lex_op(tpl_lexer *lx, tpl_token *t)
{
    static const struct {
        const char *s;
        int op;
    } two[] = {{"==", OP_EQ}, {"!=", OP_NE}, {"<=", OP_LE}, {">=", OP_GE}, {"::", OP_NS}};
    for (size_t i = 0; i < sizeof two / sizeof two[0]; i++) {
        if (lex_at(lx, lx->pos, two[i].s)) {
            t->op = two[i].op;
            t->len = 2;
            lex_advance(lx, lx->pos + 2);
            return true;
        }
    }
    char c = lx->src[lx->pos];
    if (!strchr("+-*/%~|<>=()[],.", c))
        return false;
    t->op = c;
    t->len = 1;
    lex_advance(lx, lx->pos + 1);
    return true;
}

void tpl_lex_inner(tpl_lexer *lx, tpl_token *t)
{
    size_t p = lx->pos;
    while (p < lx->len && strchr(" \t\r\n", lx->src[p]))
        p++;
    lex_advance(lx, p);
    lex_start(lx, t, TK_EOF);
    if (p >= lx->len)
        return;
    bool trim = lx->src[p] == '-' && (lex_at(lx, p + 1, "}}") || lex_at(lx, p + 1, "%}"));
    size_t at = p + trim;
    if (lex_at(lx, at, "}}") || lex_at(lx, at, "%}")) {
        t->kind = lx->src[at] == '}' ? TK_VAR_CLOSE : TK_TAG_CLOSE;
        t->trim = trim;
        t->len = (uint32_t)(at + 2 - p);
        lex_advance(lx, at + 2);
        return;
    }
    char c = lx->src[p];
    if (isalpha((unsigned char)c) || c == '_') {
        t->kind = TK_NAME;
        lex_name(lx, t);
    } else if (isdigit((unsigned char)c)) {
        lex_number(lx, t);
    } else if (c == '"' || c == '\'' || c == '`') {
        lex_string(lx, t);
    } else if (lex_op(lx, t)) {
        t->kind = TK_OP;
    } else {
        t->kind = TK_ERROR;
        t->msg = "unexpected character";
    }
}

/* Does an `{% endraw %}` tag (any spacing, trim marks) start at p?  Its end
 * goes to *end. */
static bool lex_endraw_at(const tpl_lexer *lx, size_t p, bool *ltrim, bool *rtrim, size_t *end)
{
    if (!lex_at(lx, p, "{%"))
        return false;
    p += 2;
    *ltrim = p < lx->len && lx->src[p] == '-';
    p += *ltrim;
    while (p < lx->len && strchr(" \t\r\n", lx->src[p]))
        p++;
    if (!lex_at(lx, p, "endraw"))
        return false;
    p += 6;
    while (p < lx->len && strchr(" \t\r\n", lx->src[p]))
        p++;
    *rtrim = p < lx->len && lx->src[p] == '-';
    p += *rtrim;
    if (!lex_at(lx, p, "%}"))
        return false;
    *end = p + 2;
    return true;
}

bool tpl_lex_raw(tpl_lexer *lx, tpl_token *t)
{
    lex_start(lx, t, TK_TEXT);
    for (size_t p = lx->pos; p < lx->len; p++) {
        size_t end;
        bool l, r;
        if (lx->src[p] == '{' && lex_endraw_at(lx, p, &l, &r, &end)) {
            t->len = (uint32_t)(p - lx->pos);
            t->trim = l;
            t->trim2 = r;
            lex_advance(lx, end);
            return true;
        }
    }
    return false;
}
