/* ast.c — the arena syntax trees live in, and the rendering of syntax errors.
 *
 * The arena is a list of chunks with bump allocation; nothing is freed
 * until the whole tree goes, which is how the compiler uses it.  Every
 * allocation can fail (NULL): the parser turns that into an error instead
 * of aborting the process.
 */
#include <limits.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"

#define ARENA_CHUNK (64 * 1024)
#define ARENA_ALIGN (alignof(max_align_t))

typedef struct ast_chunk {
    struct ast_chunk *next;
    size_t size, used;
} ast_chunk;

struct ast_arena {
    ast_chunk *head;      /* the chunk small allocations are bumped from */
};

static size_t round_up(size_t n)
{
    return (n + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
}

#define CHUNK_HEADER round_up(sizeof(ast_chunk))

static unsigned char *chunk_data(ast_chunk *c)
{
    return (unsigned char *)c + CHUNK_HEADER;
}

ast_arena *ast_arena_new(void)
{
    return calloc(1, sizeof(ast_arena));
}

void ast_arena_free(ast_arena *a)
{
    if (!a)
        return;
    for (ast_chunk *c = a->head, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    free(a);
}

/* A block bigger than a quarter chunk gets a chunk of its own, linked
 * behind the current one so the current one keeps serving small blocks. */
static ast_chunk *arena_grow(ast_arena *a, size_t n)
{
    bool big = n > ARENA_CHUNK / 4;
    size_t size = big ? n : ARENA_CHUNK;
    ast_chunk *c = malloc(CHUNK_HEADER + size);
    if (!c)
        return NULL;
    c->size = size;
    c->used = 0;
    if (big && a->head) {
        c->next = a->head->next;
        a->head->next = c;
    } else {
        c->next = a->head;
        a->head = c;
    }
    return c;
}

void *ast_alloc(ast_arena *a, size_t n)
{
    if (n > SIZE_MAX / 4)
        return NULL;
    n = round_up(n ? n : 1);
    ast_chunk *c = a->head;
    if (!c || c->size - c->used < n)
        c = arena_grow(a, n);
    if (!c)
        return NULL;
    void *p = chunk_data(c) + c->used;
    c->used += n;
    memset(p, 0, n);
    return p;
}

char *ast_strdup(ast_arena *a, const char *s, size_t n)
{
    char *p = ast_alloc(a, n + 1);
    if (p && n)
        memcpy(p, s, n);
    return p;
}

qnode *ast_node(ast_arena *a, qnode_kind kind, int line, int col)
{
    qnode *n = ast_alloc(a, sizeof *n);
    if (n) {
        n->kind = (uint8_t)kind;
        n->line = line;
        n->col = col;
    }
    return n;
}

/* On allocation failure the list is left unchanged (callers compare len). */
void ast_list_push(ast_arena *a, qnode_list *l, qnode *n)
{
    if (l->len == l->cap) {
        if (l->cap > INT_MAX / 2)
            return;
        int cap = l->cap ? l->cap * 2 : 4;
        qnode **items = ast_alloc(a, (size_t)cap * sizeof *items);
        if (!items)
            return;
        if (l->len)
            memcpy(items, l->items, (size_t)l->len * sizeof *items);
        l->items = items;
        l->cap = cap;
    }
    l->items[l->len++] = n;
}

/* ---- syntax error rendering ---------------------------------------------------------- */

typedef struct outbuf {
    char *p;
    size_t cap, len;      /* len < cap always; p[len] == '\0' */
} outbuf;

static void out_bytes(outbuf *o, const char *s, size_t n)
{
    size_t room = o->cap - 1 - o->len;
    if (n > room)
        n = room;
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = '\0';
}

static void out_printf(outbuf *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_printf(outbuf *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->len += (size_t)n < o->cap - o->len ? (size_t)n : o->cap - 1 - o->len;
}

static bool is_cont(char c)
{
    return ((unsigned char)c & 0xC0) == 0x80;
}

/* Start of line `line` (1-based) in the NUL-terminated src, or NULL. */
static const char *find_line(const char *src, int line)
{
    for (int l = 1; l < line; l++) {
        src = strchr(src, '\n');
        if (!src)
            return NULL;
        src++;
    }
    return src;
}

/* Show the source line (a window of it when long) with a caret under the
 * column.  Tabs are repeated in the caret line so the caret lines up. */
static void out_source_line(outbuf *o, const char *line, int col)
{
    enum { WIDTH = 100, BEFORE = 60 };
    const char *end = line + strcspn(line, "\n");
    if (end > line && end[-1] == '\r')
        end--;
    const char *at = line;
    for (int c = 1; c < col && at < end; c++)
        for (at++; at < end && is_cont(*at); at++) {}
    const char *from = line;
    if (at - line > BEFORE) {
        for (from = at - BEFORE; is_cont(*from); from++) {}
    }
    const char *to = end - from > WIDTH ? from + WIDTH : end;
    while (to < end && is_cont(*to))
        to++;
    const char *dots = from > line ? "..." : "";
    out_printf(o, "\n  %s", dots);
    out_bytes(o, from, (size_t)(to - from));
    out_printf(o, "%s\n  %s", to < end ? "..." : "", dots[0] ? "   " : "");
    for (const char *p = from; p < at; p++)
        if (!is_cont(*p))
            out_bytes(o, *p == '\t' ? "\t" : " ", 1);
    out_bytes(o, "^", 1);
}

void syntax_error_format(const qsyntax_error *e, const char *file, const char *src,
                         char *out, size_t n)
{
    if (!out || n == 0)
        return;
    outbuf o = {out, n, 0};
    out[0] = '\0';
    out_printf(&o, "%s:%d:%d: %s", file ? file : "<input>", e->line, e->col, e->message);
    const char *line = src && e->line > 0 ? find_line(src, e->line) : NULL;
    if (line)
        out_source_line(&o, line, e->col);
}
