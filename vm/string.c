/* string.c — string objects, the per-VM intern table and byte buffers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm_internal.h"

/* FNV-1a: cheap, good enough for short keys. */
uint32_t str_hash_bytes(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= (uint8_t)s[i];
        h *= 16777619u;
    }
    return h ? h : 1;
}

uint32_t str_hashcode(const qstr *s)
{
    if (!s->hash) {
        uint32_t h = str_hash_bytes(s->data, s->len);
        ((qstr *)s)->hash = h ? h : 1; /* a cache, not a visible mutation */
    }
    return s->hash;
}

/* Code points: the bytes that are not continuation bytes (10xxxxxx),
 * counted eight at a time (every string made pays for this). */
uint32_t utf8_count(const char *s, size_t len)
{
    size_t cont = 0, i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t v;
        memcpy(&v, s + i, 8);
        if (!(v & 0x8080808080808080u))
            continue; /* ASCII */
        uint64_t c = (v & ~(v << 1) & 0x8080808080808080u) >> 7; /* 1 per continuation byte */
        cont += (size_t)((c * 0x0101010101010101u) >> 56);        /* their sum, in the top byte */
    }
    for (; i < len; i++)
        cont += ((uint8_t)s[i] & 0xC0) == 0x80;
    return (uint32_t)(len - cont);
}

size_t str_char_offset(const qstr *s, uint32_t ci)
{
    if (s->nchars == s->len)
        return ci;
    size_t i = 0;
    for (uint32_t c = 0; i < s->len; i++) {
        if (((uint8_t)s->data[i] & 0xC0) != 0x80) {
            if (c == ci)
                return i;
            c++;
        }
    }
    return s->len;
}

static qstr *str_alloc(qvm *vm, const char *s, size_t len, uint32_t hash, uint32_t nchars)
{
    qstr *o = obj_alloc_unzeroed(vm, sizeof(qstr) + len + 1, QO_STR);
    o->len = (uint32_t)len;
    if (len)
        memcpy(o->data, s, len);
    o->data[len] = 0;
    o->hash = hash;
    o->nchars = nchars;
    o->interned = false;
    return o;
}

qstr *str_new(qvm *vm, const char *s, size_t len)
{
    return str_alloc(vm, s, len, 0, utf8_count(s, len));
}

qstr *str_new_ascii(qvm *vm, const char *s, size_t len)
{
    return str_alloc(vm, s, len, 0, (uint32_t)len);
}

qstr *str_cat(qvm *vm, const qstr *a, const qstr *b)
{
    size_t len = (size_t)a->len + b->len;
    qstr *o = vm_alloc_obj(vm, sizeof(qstr) + len + 1, QO_STR);
    o->len = (uint32_t)len;
    memcpy(o->data, a->data, a->len);
    memcpy(o->data + a->len, b->data, b->len);
    o->data[len] = 0;
    o->nchars = a->nchars + b->nchars;
    return o;
}

qstr *str_from_int(qvm *vm, int64_t v)
{
    char buf[24], *p = buf + sizeof buf;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do
        *--p = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0)
        *--p = '-';
    return str_new(vm, p, (size_t)(buf + sizeof buf - p));
}

qstr *str_cstr(qvm *vm, const char *s)
{
    return str_new(vm, s, strlen(s));
}

qstr *str_printf(qvm *vm, const char *fmt, ...)
{
    qbuf b;
    buf_init(&b);
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < (int)sizeof small) {
        buf_append(&b, small, (size_t)n);
    } else {
        char *big = malloc((size_t)n + 1);
        va_start(ap, fmt);
        vsnprintf(big, (size_t)n + 1, fmt, ap);
        va_end(ap);
        buf_append(&b, big, (size_t)n);
        free(big);
    }
    return buf_to_str(vm, &b);
}

bool str_equal(const qstr *a, const qstr *b)
{
    if (a == b)
        return true;
    if (a->interned && b->interned)
        return false;
    if (a->len != b->len || (a->hash && b->hash && a->hash != b->hash))
        return false;
    return memcmp(a->data, b->data, a->len) == 0;
}

/* ---- interning --------------------------------------------------------------- */

static void intern_insert(qstr **tab, uint32_t cap, qstr *s)
{
    uint32_t i = s->hash & (cap - 1);
    while (tab[i] && tab[i] != TOMB)
        i = (i + 1) & (cap - 1);
    tab[i] = s;
}

static void intern_grow(qvm *vm)
{
    uint32_t ncap = vm->capintern ? vm->capintern * 2 : 256;
    qstr **tab = calloc(ncap, sizeof(qstr *));
    if (!tab)
        abort();
    for (uint32_t i = 0; i < vm->capintern; i++)
        if (vm->interned[i] && vm->interned[i] != TOMB)
            intern_insert(tab, ncap, vm->interned[i]);
    free(vm->interned);
    vm->interned = tab;
    vm->capintern = ncap;
}

qstr *str_intern(qvm *vm, const char *s, size_t len)
{
    uint32_t h = str_hash_bytes(s, len);
    if (vm->capintern) {
        uint32_t i = h & (vm->capintern - 1);
        for (qstr *e; (e = vm->interned[i]); i = (i + 1) & (vm->capintern - 1))
            if (e != TOMB && e->hash == h && e->len == len && memcmp(e->data, s, len) == 0)
                return e;
    }
    /* Tombstones count as used so probing always terminates. */
    if ((vm->nintern + 1) * 4 > vm->capintern * 3)
        intern_grow(vm);
    qstr *o = str_alloc(vm, s, len, h, utf8_count(s, len));
    o->interned = true;
    intern_insert(vm->interned, vm->capintern, o);
    vm->nintern++;
    return o;
}

qstr *str_intern_cstr(qvm *vm, const char *s)
{
    return str_intern(vm, s, strlen(s));
}

/* The intern table holds strings weakly: drop the ones the GC did not mark. */
void intern_sweep(qvm *vm)
{
    for (uint32_t i = 0; i < vm->capintern; i++) {
        qstr *e = vm->interned[i];
        if (e && e != TOMB && !e->hdr.marked)
            vm->interned[i] = TOMB;
    }
}

void intern_free(qvm *vm)
{
    free(vm->interned);
    vm->interned = NULL;
    vm->capintern = vm->nintern = 0;
}

/* ---- buffers ------------------------------------------------------------------ */

void buf_init(qbuf *b)
{
    b->data = NULL;
    b->len = b->cap = 0;
}

void buf_free(qbuf *b)
{
    free(b->data);
    buf_init(b);
}

static void buf_reserve(qbuf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t ncap = b->cap ? b->cap : 64;
    while (ncap < b->len + extra + 1)
        ncap *= 2;
    char *p = realloc(b->data, ncap);
    if (!p)
        abort();
    b->data = p;
    b->cap = ncap;
}

void buf_append(qbuf *b, const char *s, size_t n)
{
    buf_reserve(b, n);
    if (n)
        memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = 0;
}

char *buf_read_file(const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    qbuf b;
    buf_init(&b);
    buf_append(&b, "", 0); /* an empty file is "" */
    char chunk[65536];
    size_t n;
    int err = 0;
    while (!err && (n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (b.len + n > max)
            err = EFBIG;
        else
            buf_append(&b, chunk, n);
    }
    if (!err && ferror(f))
        err = EIO;
    fclose(f);
    if (err) {
        buf_free(&b);
        errno = err;
        return NULL;
    }
    *len = b.len;
    return b.data;
}

void buf_puts(qbuf *b, const char *s)
{
    buf_append(b, s, strlen(s));
}

void buf_putc(qbuf *b, char c)
{
    buf_append(b, &c, 1);
}

void buf_printf(qbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

qstr *buf_to_str(qvm *vm, qbuf *b)
{
    qstr *s = str_new(vm, b->data ? b->data : "", b->len);
    buf_free(b);
    return s;
}
