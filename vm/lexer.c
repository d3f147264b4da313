/* lexer.c — Quest tokens (see lexer.h).
 *
 * Whitespace (space, tab, CR, LF) and `#` comments separate tokens and mean
 * nothing else: Quest has no statement terminators, so newlines are only
 * counted for positions.  Literal rules follow the reference grammar
 * (quest.pest); where it would silently split a malformed literal into two
 * tokens (`1_`, `0xFG`, `1abc`) we report the literal instead.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lexer.h"
#include "vm.h"

static const char *const lex_texts[TK__COUNT] = {
    [TK_EOF] = "end of input", [TK_ERROR] = "invalid token",
    [TK_NAME] = "identifier", [TK_INT] = "integer literal",
    [TK_FLOAT] = "float literal", [TK_BIGINT] = "BigInt literal",
    [TK_STRING] = "string literal", [TK_FSTRING] = "f-string literal",
    [TK_BYTES] = "bytes literal",
    [TK_AND] = "and", [TK_AS] = "as", [TK_AWAIT] = "await",
    [TK_BREAK] = "break", [TK_CATCH] = "catch", [TK_CONST] = "const",
    [TK_CONTINUE] = "continue", [TK_DEL] = "del", [TK_ELIF] = "elif",
    [TK_ELSE] = "else", [TK_END] = "end", [TK_ENSURE] = "ensure",
    [TK_FALSE] = "false", [TK_FOR] = "for", [TK_FUN] = "fun", [TK_IF] = "if",
    [TK_IMPL] = "impl", [TK_IN] = "in", [TK_LET] = "let", [TK_MATCH] = "match",
    [TK_NIL] = "nil", [TK_NOT] = "not", [TK_OR] = "or", [TK_PUB] = "pub",
    [TK_RAISE] = "raise", [TK_RETURN] = "return", [TK_STEP] = "step",
    [TK_TO] = "to", [TK_TRAIT] = "trait", [TK_TRUE] = "true", [TK_TRY] = "try",
    [TK_TYPE] = "type", [TK_UNTIL] = "until", [TK_USE] = "use",
    [TK_WHILE] = "while", [TK_WITH] = "with",
    [TK_LPAREN] = "(", [TK_RPAREN] = ")", [TK_LBRACKET] = "[", [TK_RBRACKET] = "]",
    [TK_LBRACE] = "{", [TK_RBRACE] = "}", [TK_COMMA] = ",", [TK_COLON] = ":",
    [TK_DOT] = ".", [TK_DOTDOT] = "..", [TK_QUESTION] = "?", [TK_ELVIS] = "?:",
    [TK_AT] = "@", [TK_ARROW] = "->", [TK_PLUS] = "+", [TK_MINUS] = "-",
    [TK_STAR] = "*", [TK_STARSTAR] = "**", [TK_SLASH] = "/", [TK_PERCENT] = "%",
    [TK_TILDE] = "~", [TK_PIPE] = "|", [TK_CARET] = "^", [TK_AMP] = "&",
    [TK_SHL] = "<<", [TK_SHR] = ">>", [TK_EQ] = "==", [TK_NE] = "!=",
    [TK_LT] = "<", [TK_LE] = "<=", [TK_GT] = ">", [TK_GE] = ">=",
    [TK_ASSIGN] = "=", [TK_ADD_ASSIGN] = "+=", [TK_SUB_ASSIGN] = "-=",
    [TK_MUL_ASSIGN] = "*=", [TK_DIV_ASSIGN] = "/=", [TK_MOD_ASSIGN] = "%=",
};

const char *lex_kind_text(int kind)
{
    return kind >= 0 && kind < TK__COUNT ? lex_texts[kind] : "?";
}

void lex_init(lexer *lx, ast_arena *arena, const char *src, size_t len)
{
    memset(lx, 0, sizeof *lx);
    lx->cur = src;
    lx->end = src + len;
    lx->line = 1;
    lx->line_start = lx->colpos = src;
    lx->col = 1;
    lx->arena = arena;
}

void lex_free(lexer *lx)
{
    free(lx->buf);
    lx->buf = NULL;
    lx->bufcap = lx->buflen = 0;
}

/* ---- characters ---------------------------------------------------------------------- */

/* The byte `off` positions ahead, or -1 past the end (the source may hold NULs). */
static int peekc(const lexer *lx, size_t off)
{
    return (size_t)(lx->end - lx->cur) > off ? (unsigned char)lx->cur[off] : -1;
}

static bool is_digit(int c) { return c >= '0' && c <= '9'; }
static bool is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static bool is_alnum(int c) { return is_alpha(c) || is_digit(c); }

/* Value of a digit in bases up to 16; 99 for anything else (including -1). */
static int digit_value(int c)
{
    int v = hex_digit_value(c);
    return v < 0 ? 99 : v;
}

/* Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlongs,
 * surrogates or code points above U+10FFFF), or 0. */
static size_t utf8_seq(const unsigned char *p, size_t avail)
{
    size_t n;
    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xC2 && p[0] <= 0xDF)
        n = 2;
    else if (p[0] >= 0xE0 && p[0] <= 0xEF)
        n = 3;
    else if (p[0] >= 0xF0 && p[0] <= 0xF4)
        n = 4;
    else
        return 0;
    if (avail < n)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    if ((p[0] == 0xE0 && p[1] < 0xA0) || (p[0] == 0xED && p[1] > 0x9F) ||
        (p[0] == 0xF0 && p[1] < 0x90) || (p[0] == 0xF4 && p[1] > 0x8F))
        return 0;
    return n;
}

/* The reserved word spelled s[0..n), or TK_NAME. */
static int keyword_kind(const char *s, size_t n)
{
    for (int k = TK_FIRST_KEYWORD; k <= TK_LAST_KEYWORD; k++)
        if (lex_texts[k][0] == s[0] && strlen(lex_texts[k]) == n && memcmp(lex_texts[k], s, n) == 0)
            return k;
    return TK_NAME;
}

/* ---- positions ----------------------------------------------------------------------- */

/* Column of pos, a point on the current line.  Columns count characters
 * (UTF-8 lead bytes); the cache makes a left-to-right scan linear even on a
 * single huge line. */
static int lex_column(lexer *lx, const char *pos)
{
    if (pos < lx->colpos) {
        lx->colpos = lx->line_start;
        lx->col = 1;
    }
    for (; lx->colpos < pos; lx->colpos++)
        if (((unsigned char)*lx->colpos & 0xC0) != 0x80)
            lx->col++;
    return lx->col;
}

/* Called with cur just past a '\n'. */
static void lex_newline(lexer *lx)
{
    lx->line++;
    lx->line_start = lx->colpos = lx->cur;
    lx->col = 1;
}

/* Turn t into an error token.  pos (on the current line) is where the
 * problem is; NULL keeps the token's own start. */
static void lex_fail(lexer *lx, qtoken *t, const char *pos, bool incomplete,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void lex_fail(lexer *lx, qtoken *t, const char *pos, bool incomplete,
                     const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (pos) {
        t->line = lx->line;
        t->col = lex_column(lx, pos);
    }
    t->kind = TK_ERROR;
    t->incomplete = incomplete;
    size_t n = strlen(msg);
    char *s = ast_strdup(lx->arena, msg, n);
    t->u.str.s = s ? s : "out of memory";
    t->u.str.n = s ? n : strlen("out of memory");
}

/* ---- the scratch buffer literal values are built in ------------------------------------ */

static bool lex_put(lexer *lx, qtoken *t, const char *s, size_t n)
{
    if (lx->bufcap - lx->buflen < n) {
        size_t cap = lx->bufcap ? lx->bufcap : 256;
        while (cap - lx->buflen < n && cap < SIZE_MAX / 2)
            cap *= 2;
        char *b = cap - lx->buflen >= n ? realloc(lx->buf, cap) : NULL;
        if (!b) {
            lex_fail(lx, t, NULL, false, "out of memory");
            return false;
        }
        lx->buf = b;
        lx->bufcap = cap;
    }
    memcpy(lx->buf + lx->buflen, s, n);
    lx->buflen += n;
    return true;
}

/* Move the buffer's contents into the arena (NUL-terminated). */
static bool lex_take(lexer *lx, qtoken *t, const char **s, size_t *n)
{
    *s = ast_strdup(lx->arena, lx->buf ? lx->buf : "", lx->buflen);
    *n = lx->buflen;
    lx->buflen = 0;
    if (!*s)
        lex_fail(lx, t, NULL, false, "out of memory");
    return *s != NULL;
}

/* ---- strings ------------------------------------------------------------------------- */

/* Copy one character of a string literal.  Quest strings are UTF-8 text
 * and travel through the compiler as C strings, so invalid UTF-8 and NUL
 * bytes are rejected here. */
static bool lex_copy_char(lexer *lx, qtoken *t)
{
    const char *p = lx->cur;
    size_t n = utf8_seq((const unsigned char *)p, (size_t)(lx->end - p));
    if (n == 0) {
        lex_fail(lx, t, p, false, "invalid UTF-8 in string literal");
        return false;
    }
    if (*p == '\0') {
        lex_fail(lx, t, p, false, "NUL byte in string literal");
        return false;
    }
    if (!lex_put(lx, t, p, n))
        return false;
    lx->cur += n;
    if (*p == '\n')
        lex_newline(lx);
    return true;
}

/* At a backslash that is not the last byte: `\n \t \r \\ \" \'` are escapes,
 * any other pair is kept as written (backslash included). */
static bool lex_escape(lexer *lx, qtoken *t)
{
    const char *rep;
    switch (peekc(lx, 1)) {
    case 'n': rep = "\n"; break;
    case 't': rep = "\t"; break;
    case 'r': rep = "\r"; break;
    case '\\': rep = "\\"; break;
    case '"': rep = "\""; break;
    case '\'': rep = "'"; break;
    default:
        lx->cur++;
        return lex_put(lx, t, "\\", 1) && lex_copy_char(lx, t);
    }
    lx->cur += 2;
    return lex_put(lx, t, rep, 1);
}

/* The body of a single-line literal: one character or escape.  Returns
 * false at an error (t already failed). */
static bool lex_short_char(lexer *lx, qtoken *t)
{
    int c = peekc(lx, 0);
    if (c < 0 || c == '\n' || c == '\r') {
        lex_fail(lx, t, NULL, false, "unterminated string");
        return false;
    }
    if (c != '\\')
        return lex_copy_char(lx, t);
    if (peekc(lx, 1) < 0) {
        /* A backslash may escape a newline, so more input could finish it. */
        lex_fail(lx, t, NULL, true, "unterminated string");
        return false;
    }
    return lex_escape(lx, t);
}

static void lex_short_string(lexer *lx, qtoken *t, int q)
{
    lx->cur++;
    while (peekc(lx, 0) != q)
        if (!lex_short_char(lx, t))
            return;
    lx->cur++;
    if (lex_take(lx, t, &t->u.str.s, &t->u.str.n))
        t->kind = TK_STRING;
}

/* `"""..."""` / `'''...'''`: raw text, no escapes, may span lines. */
static void lex_long_string(lexer *lx, qtoken *t, int q)
{
    lx->cur += 3;
    while (!(peekc(lx, 0) == q && peekc(lx, 1) == q && peekc(lx, 2) == q)) {
        if (peekc(lx, 0) < 0) {
            lex_fail(lx, t, NULL, true, "unterminated triple-quoted string");
            return;
        }
        if (!lex_copy_char(lx, t))
            return;
    }
    lx->cur += 3;
    if (lex_take(lx, t, &t->u.str.s, &t->u.str.n))
        t->kind = TK_STRING;
}

static void lex_string(lexer *lx, qtoken *t, int q)
{
    if (peekc(lx, 1) == q && peekc(lx, 2) == q)
        lex_long_string(lx, t, q);
    else
        lex_short_string(lx, t, q);
}

/* ---- f-strings ----------------------------------------------------------------------- */

/* Append a part holding the buffer's contents; NULL on failure. */
static lex_fpart *lex_add_part(lexer *lx, qtoken *t, lex_fpart ***tail, bool is_var)
{
    lex_fpart *part = ast_alloc(lx->arena, sizeof *part);
    if (!part) {
        lex_fail(lx, t, NULL, false, "out of memory");
        return NULL;
    }
    part->is_var = is_var;
    **tail = part;
    *tail = &part->next;
    return lex_take(lx, t, &part->text, &part->len) ? part : NULL;
}

/* At '{': `{name}` or `{name:spec}` with a plain identifier and a non-empty
 * spec running to the next '}'.  Anything else is an error, as f-strings
 * have no brace escape. */
static bool lex_interpolation(lexer *lx, qtoken *t, lex_fpart ***tail)
{
    static const char bad[] = "invalid f-string interpolation: expected {name} or {name:spec}";
    const char *name = lx->cur + 1, *p = name;
    while (p < lx->end && is_alnum((unsigned char)*p))
        p++;
    bool ok = p > name && !is_digit((unsigned char)*name) &&
              keyword_kind(name, (size_t)(p - name)) == TK_NAME && p < lx->end &&
              (*p == '}' || (*p == ':' && p + 1 < lx->end && p[1] != '}'));
    if (!ok) {
        lex_fail(lx, t, lx->cur, false, "%s", bad);
        return false;
    }
    lex_fpart *var;
    if (!lex_put(lx, t, name, (size_t)(p - name)) || !(var = lex_add_part(lx, t, tail, true)))
        return false;
    lx->cur = p + 1;
    if (*p == '}')
        return true;
    for (int c; (c = peekc(lx, 0)) != '}';) {
        if (c < 0 || c == '{') {
            lex_fail(lx, t, NULL, false, "%s", bad);
            return false;
        }
        if (!lex_copy_char(lx, t))
            return false;
    }
    lx->cur++;
    size_t n;
    return lex_take(lx, t, &var->spec, &n);
}

static bool lex_flush_text(lexer *lx, qtoken *t, lex_fpart ***tail)
{
    return lx->buflen == 0 || lex_add_part(lx, t, tail, false) != NULL;
}

/* f"..." / f'...': single-line, escapes as in plain strings. */
static void lex_fstring(lexer *lx, qtoken *t)
{
    int q = peekc(lx, 1);
    lex_fpart *head = NULL, **tail = &head;
    lx->cur += 2;
    while (peekc(lx, 0) != q) {
        if (peekc(lx, 0) == '{') {
            if (!lex_flush_text(lx, t, &tail) || !lex_interpolation(lx, t, &tail))
                return;
        } else if (!lex_short_char(lx, t)) {
            return;
        }
    }
    lx->cur++;
    if (lex_flush_text(lx, t, &tail)) {
        t->kind = TK_FSTRING;
        t->u.parts = head;
    }
}

/* ---- bytes --------------------------------------------------------------------------- */

/* At a backslash: \xHH \n \r \t \0 \\ and the literal's own quote. */
static bool lex_bytes_escape(lexer *lx, qtoken *t, int q)
{
    int c = peekc(lx, 1);
    char b;
    switch (c) {
    case 'n': b = '\n'; break;
    case 'r': b = '\r'; break;
    case 't': b = '\t'; break;
    case '0': b = '\0'; break;
    case '\\': b = '\\'; break;
    case 'x':
        if (digit_value(peekc(lx, 2)) > 15 || digit_value(peekc(lx, 3)) > 15) {
            lex_fail(lx, t, lx->cur, false, "invalid \\x escape in bytes literal (expected two hex digits)");
            return false;
        }
        b = (char)(digit_value(peekc(lx, 2)) * 16 + digit_value(peekc(lx, 3)));
        lx->cur += 4;
        return lex_put(lx, t, &b, 1);
    default:
        if (c < 0) {
            lex_fail(lx, t, NULL, true, "unterminated bytes literal");
            return false;
        }
        if (c != q) {
            lex_fail(lx, t, lx->cur, false, "invalid escape sequence in bytes literal");
            return false;
        }
        b = (char)q;
    }
    lx->cur += 2;
    return lex_put(lx, t, &b, 1);
}

/* b"..." / b'...' (prefix b or B): ASCII only, may span lines. */
static void lex_bytes(lexer *lx, qtoken *t)
{
    int q = peekc(lx, 1);
    lx->cur += 2;
    for (int c; (c = peekc(lx, 0)) != q;) {
        if (c < 0) {
            lex_fail(lx, t, NULL, true, "unterminated bytes literal");
            return;
        }
        if (c == '\\') {
            if (!lex_bytes_escape(lx, t, q))
                return;
            continue;
        }
        if (c >= 0x80) {
            lex_fail(lx, t, lx->cur, false, "non-ASCII character in bytes literal (use \\xHH)");
            return;
        }
        if (!lex_put(lx, t, lx->cur, 1))
            return;
        lx->cur++;
        if (c == '\n')
            lex_newline(lx);
    }
    lx->cur++;
    if (lex_take(lx, t, &t->u.str.s, &t->u.str.n))
        t->kind = TK_BYTES;
}

/* ---- numbers ------------------------------------------------------------------------- */

/* Digit groups `d+ (_ d+)*`: an underscore only between two digits. */
static void lex_digits(lexer *lx, int base)
{
    for (;;) {
        while (digit_value(peekc(lx, 0)) < base)
            lx->cur++;
        if (peekc(lx, 0) != '_' || digit_value(peekc(lx, 1)) >= base)
            return;
        lx->cur++;
    }
}

/* Copy [s, e) without underscores (lower-cased) into the buffer. */
static bool lex_put_digits(lexer *lx, qtoken *t, const char *s, const char *e)
{
    for (; s < e; s++) {
        char c = (*s >= 'A' && *s <= 'Z') ? (char)(*s - 'A' + 'a') : *s;
        if (c != '_' && !lex_put(lx, t, &c, 1))
            return false;
    }
    return true;
}

/* Int value of the digits [s, e) (underscores skipped); false on overflow. */
static bool lex_int_value(const char *s, const char *e, int base, int64_t *out)
{
    uint64_t v = 0;
    for (; s < e; s++) {
        if (*s == '_')
            continue;
        uint64_t d = (uint64_t)digit_value((unsigned char)*s);
        if (v > ((uint64_t)INT64_MAX - d) / (uint64_t)base)
            return false;
        v = v * (uint64_t)base + d;
    }
    *out = (int64_t)v;
    return true;
}

static void lex_int_or_big(lexer *lx, qtoken *t, const char *digits, const char *dend,
                           int base, bool big)
{
    if (big) {
        if (lex_put_digits(lx, t, t->start, dend) && lex_take(lx, t, &t->u.str.s, &t->u.str.n))
            t->kind = TK_BIGINT;
        return;
    }
    if (!lex_int_value(digits, dend, base, &t->u.ival)) {
        lex_fail(lx, t, NULL, false, "integer literal out of range (a BigInt literal ends in 'n')");
        return;
    }
    t->kind = TK_INT;
}

/* 0x.. 0b.. 0o.. (prefix letter in any case), optionally BigInt. */
static void lex_prefixed(lexer *lx, qtoken *t, int base)
{
    const char *what = base == 16 ? "hexadecimal" : base == 2 ? "binary" : "octal";
    lx->cur += 2;
    const char *digits = lx->cur;
    if (digit_value(peekc(lx, 0)) < base)
        lex_digits(lx, base);
    const char *dend = lx->cur;
    bool big = peekc(lx, 0) == 'n' || peekc(lx, 0) == 'N';
    if (big)
        lx->cur++;
    if (dend == digits || is_alnum(peekc(lx, 0))) {
        lex_fail(lx, t, NULL, false, "invalid %s literal", what);
        return;
    }
    lex_int_or_big(lx, t, digits, dend, base, big);
}

static void lex_float(lexer *lx, qtoken *t, const char *dend)
{
    char nul = '\0';
    if (!lex_put_digits(lx, t, t->start, dend) || !lex_put(lx, t, &nul, 1))
        return;
    t->u.fval = strtod(lx->buf, NULL);
    lx->buflen = 0;
    t->kind = TK_FLOAT;
}

/* Decimal Int, Float (digits on both sides of '.', or an exponent), BigInt. */
static void lex_number(lexer *lx, qtoken *t)
{
    int c1 = peekc(lx, 1);
    if (*lx->cur == '0' && c1 >= 0 && strchr("xXbBoO", c1)) {
        int base = (c1 == 'x' || c1 == 'X') ? 16 : (c1 == 'b' || c1 == 'B') ? 2 : 8;
        lex_prefixed(lx, t, base);
        return;
    }
    bool is_float = false;
    lex_digits(lx, 10);
    if (peekc(lx, 0) == '.' && is_digit(peekc(lx, 1))) {
        lx->cur++;
        lex_digits(lx, 10);
        is_float = true;
    }
    if (peekc(lx, 0) == 'e' || peekc(lx, 0) == 'E') {
        size_t off = (peekc(lx, 1) == '+' || peekc(lx, 1) == '-') ? 2 : 1;
        if (is_digit(peekc(lx, off))) {
            lx->cur += off;
            lex_digits(lx, 10);
            is_float = true;
        }
    }
    const char *dend = lx->cur;
    bool big = !is_float && (peekc(lx, 0) == 'n' || peekc(lx, 0) == 'N');
    if (big)
        lx->cur++;
    if (is_alnum(peekc(lx, 0))) {
        lex_fail(lx, t, NULL, false, "invalid numeric literal");
        return;
    }
    if (is_float)
        lex_float(lx, t, dend);
    else
        lex_int_or_big(lx, t, t->start, dend, 10, big);
}

/* ---- words and punctuation ----------------------------------------------------------- */

static void lex_word(lexer *lx, qtoken *t)
{
    const char *s = lx->cur;
    while (is_alnum(peekc(lx, 0)))
        lx->cur++;
    size_t n = (size_t)(lx->cur - s);
    int q = peekc(lx, 0);
    if (n == 1 && (q == '"' || q == '\'') && (*s == 'b' || *s == 'B' || *s == 'f')) {
        lx->cur = s;
        if (*s == 'f')
            lex_fstring(lx, t);
        else
            lex_bytes(lx, t);
        return;
    }
    t->kind = (uint8_t)keyword_kind(s, n);
}

/* Operator spelled c, or c followed by one of the second characters. */
static int lex_op2(lexer *lx, int k1, const char *seconds, const int *k2)
{
    int d = peekc(lx, 1);
    for (int i = 0; seconds[i]; i++) {
        if (d == seconds[i]) {
            lx->cur += 2;
            return k2[i];
        }
    }
    lx->cur++;
    return k1;
}

static int lex_punct_kind(lexer *lx)
{
    switch (peekc(lx, 0)) {
    case '(': lx->cur++; return TK_LPAREN;
    case ')': lx->cur++; return TK_RPAREN;
    case '[': lx->cur++; return TK_LBRACKET;
    case ']': lx->cur++; return TK_RBRACKET;
    case '{': lx->cur++; return TK_LBRACE;
    case '}': lx->cur++; return TK_RBRACE;
    case ',': lx->cur++; return TK_COMMA;
    case ':': lx->cur++; return TK_COLON;
    case '@': lx->cur++; return TK_AT;
    case '~': lx->cur++; return TK_TILDE;
    case '|': lx->cur++; return TK_PIPE;
    case '^': lx->cur++; return TK_CARET;
    case '&': lx->cur++; return TK_AMP;
    case '.': return lex_op2(lx, TK_DOT, ".", (const int[]){TK_DOTDOT});
    case '?': return lex_op2(lx, TK_QUESTION, ":", (const int[]){TK_ELVIS});
    case '-': return lex_op2(lx, TK_MINUS, ">=", (const int[]){TK_ARROW, TK_SUB_ASSIGN});
    case '+': return lex_op2(lx, TK_PLUS, "=", (const int[]){TK_ADD_ASSIGN});
    case '*': return lex_op2(lx, TK_STAR, "*=", (const int[]){TK_STARSTAR, TK_MUL_ASSIGN});
    case '/': return lex_op2(lx, TK_SLASH, "=", (const int[]){TK_DIV_ASSIGN});
    case '%': return lex_op2(lx, TK_PERCENT, "=", (const int[]){TK_MOD_ASSIGN});
    case '<': return lex_op2(lx, TK_LT, "<=", (const int[]){TK_SHL, TK_LE});
    case '>': return lex_op2(lx, TK_GT, ">=", (const int[]){TK_SHR, TK_GE});
    case '=': return lex_op2(lx, TK_ASSIGN, "=", (const int[]){TK_EQ});
    case '!':
        if (peekc(lx, 1) == '=') {
            lx->cur += 2;
            return TK_NE;
        }
        return TK_ERROR;
    default: return TK_ERROR;
    }
}

static void lex_punct(lexer *lx, qtoken *t)
{
    t->kind = (uint8_t)lex_punct_kind(lx);
    if (t->kind != TK_ERROR)
        return;
    int c = peekc(lx, 0);
    size_t n = utf8_seq((const unsigned char *)lx->cur, (size_t)(lx->end - lx->cur));
    if (c == ';')
        lex_fail(lx, t, NULL, false, "unexpected ';' (Quest has no statement separators)");
    else if (c > ' ' && c < 0x7F)
        lex_fail(lx, t, NULL, false, "unexpected character '%c'", c);
    else if (c >= 0x80 && n > 0)
        lex_fail(lx, t, NULL, false, "unexpected character '%.*s'", (int)n, lx->cur);
    else
        lex_fail(lx, t, NULL, false, "unexpected byte 0x%02X", (unsigned)c);
}

/* ---- tokens -------------------------------------------------------------------------- */

static void lex_skip_space(lexer *lx)
{
    for (;;) {
        int c = peekc(lx, 0);
        if (c == ' ' || c == '\t' || c == '\r') {
            lx->cur++;
        } else if (c == '\n') {
            lx->cur++;
            lex_newline(lx);
        } else if (c == '#') {
            const char *nl = memchr(lx->cur, '\n', (size_t)(lx->end - lx->cur));
            lx->cur = nl ? nl : lx->end;
        } else {
            return;
        }
    }
}

/* The next token.  Call until TK_EOF or TK_ERROR; after an error the
 * lexer's position is unspecified. */
void lex_next(lexer *lx, qtoken *t)
{
    lex_skip_space(lx);
    memset(t, 0, sizeof *t);
    t->start = lx->cur;
    t->line = lx->line;
    t->col = lex_column(lx, lx->cur);
    int c = peekc(lx, 0);
    if (c < 0)
        t->kind = TK_EOF;
    else if (is_alpha(c))
        lex_word(lx, t);
    else if (is_digit(c))
        lex_number(lx, t);
    else if (c == '"' || c == '\'')
        lex_string(lx, t, c);
    else
        lex_punct(lx, t);
    t->len = (size_t)(lx->cur - t->start);
}
