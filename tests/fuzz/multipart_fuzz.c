/* multipart_fuzz.c — the multipart/form-data parser on arbitrary bytes.
 *
 * The input is a Content-Type, a newline, then the body (no newline: the
 * whole input is the body of a form with boundary XyZ).  Small limits
 * (64 parts, 256 bytes of part headers) so that both are reached often.
 *
 * Checked for every input: a refusal has a reason; an accepted body's parts
 * lie inside it, in order and without overlap, each with a name.  An
 * accepted form is then written back in canonical form (same boundary) and
 * must parse to the very same parts, and its Quest value must have one
 * file per part with a filename.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/srv_multipart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_PARTS 64
#define MAX_HEADER 256

static const char default_type[] = "multipart/form-data; boundary=XyZ";

static void fuzz_fail(const char *what)
{
    fprintf(stderr, "multipart_fuzz: %s\n", what);
    abort();
}

static bool inside(srv_span s, const char *base, size_t len)
{
    return s.p >= base && s.n <= len && (size_t)(s.p - base) <= len - s.n;
}

static bool same(srv_span a, srv_span b)
{
    return (a.p == NULL) == (b.p == NULL) && a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

static void check_parts(const srv_multipart *mp, const char *body, size_t len)
{
    const char *prev_end = body;
    for (size_t i = 0; i < mp->nparts; i++) {
        const srv_multipart_part *p = &mp->parts[i];
        if (!p->name.p || !inside(p->data, body, len) || !inside(p->name, body, len))
            fuzz_fail("a part outside the body, or without a name");
        if (p->filename.p && !inside(p->filename, body, len))
            fuzz_fail("a filename outside the body");
        if (p->type.p && (!inside(p->type, body, len) || p->type.n == 0))
            fuzz_fail("a Content-Type outside the body, or empty");
        if (p->data.p < prev_end)
            fuzz_fail("parts out of order or overlapping");
        prev_end = p->data.p + p->data.n;
    }
}

static void put(char **out, srv_span s)
{
    memcpy(*out, s.p, s.n);
    *out += s.n;
}

static void put_lit(char **out, const char *s)
{
    put(out, (srv_span){s, strlen(s)});
}

/* The form in canonical form; NULL when a name or filename holds a `"`,
 * which no quoted value can carry. */
static char *canonical(const srv_multipart *mp, srv_span boundary, size_t *len)
{
    size_t cap = 64 + boundary.n;
    for (size_t i = 0; i < mp->nparts; i++) {
        const srv_multipart_part *p = &mp->parts[i];
        if (memchr(p->name.p, '"', p->name.n) || (p->filename.p && memchr(p->filename.p, '"', p->filename.n)))
            return NULL;
        cap += 128 + boundary.n + p->name.n + p->filename.n + p->type.n + p->data.n;
    }
    char *text = malloc(cap), *out = text;
    if (!text)
        abort();
    for (size_t i = 0; i < mp->nparts; i++) {
        const srv_multipart_part *p = &mp->parts[i];
        put_lit(&out, "--");
        put(&out, boundary);
        put_lit(&out, "\r\nContent-Disposition: form-data; name=\"");
        put(&out, p->name);
        if (p->filename.p) {
            put_lit(&out, "\"; filename=\"");
            put(&out, p->filename);
        }
        put_lit(&out, "\"\r\n");
        if (p->type.p) {
            put_lit(&out, "Content-Type: ");
            put(&out, p->type);
            put_lit(&out, "\r\n");
        }
        put_lit(&out, "\r\n");
        put(&out, p->data);
        put_lit(&out, "\r\n");
    }
    put_lit(&out, "--");
    put(&out, boundary);
    put_lit(&out, "--\r\n");
    *len = (size_t)(out - text);
    return text;
}

static void round_trip(const srv_multipart *mp, const char *ctype, size_t ctype_len)
{
    srv_span boundary;
    if (!srv_multipart_boundary(ctype, ctype_len, &boundary))
        fuzz_fail("a form parsed without a boundary");
    size_t len;
    char *text = canonical(mp, boundary, &len);
    if (!text)
        return;
    srv_multipart again = {0};
    if (srv_multipart_parse(&again, ctype, ctype_len, text, len, MAX_PARTS, SIZE_MAX) != SRV_MULTIPART_OK)
        fuzz_fail(again.error);
    if (again.nparts != mp->nparts)
        fuzz_fail("the canonical form has another number of parts");
    for (size_t i = 0; i < mp->nparts; i++) {
        const srv_multipart_part *a = &mp->parts[i], *b = &again.parts[i];
        if (!same(a->name, b->name) || !same(a->filename, b->filename) || !same(a->type, b->type) ||
            !same(a->data, b->data))
            fuzz_fail("the canonical form parses to other parts");
    }
    srv_multipart_free(&again);
    free(text);
}

static void check_value(const srv_multipart *mp)
{
    static qvm *vm;
    static unsigned forms;
    if (!vm)
        vm = vm_new(NULL);
    qval v = srv_multipart_value(vm, mp);
    qval files = qv_nil(), fields = qv_nil();
    if (!IS_DICT(v) || !dict_get_cstr(AS_DICT(v), "files", &files) || !dict_get_cstr(AS_DICT(v), "fields", &fields))
        fuzz_fail("the form's value is not {fields, files}");
    size_t nfiles = 0;
    for (size_t i = 0; i < mp->nparts; i++)
        nfiles += mp->parts[i].filename.p != NULL;
    if (AS_ARRAY(files)->len != nfiles || AS_DICT(fields)->count > mp->nparts - nfiles)
        fuzz_fail("the form's value does not match its parts");
    if (++forms % 256 == 0)
        vm_gc(vm); /* the values of earlier inputs are garbage */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    const char *nl = memchr(in, '\n', size);
    size_t ctype_len = nl ? (size_t)(nl - in) : sizeof default_type - 1;
    size_t len = nl ? size - ctype_len - 1 : size;
    /* Copies of exactly their size, so ASan sees any read past either. */
    char *ctype = malloc(ctype_len ? ctype_len : 1), *copy = malloc(len ? len : 1);
    if (!ctype || !copy)
        abort();
    memcpy(ctype, nl ? in : default_type, ctype_len);
    memcpy(copy, nl ? nl + 1 : in, len);
    (void)srv_multipart_is_form(ctype, ctype_len);
    srv_multipart mp = {0};
    srv_multipart_result r = srv_multipart_parse(&mp, ctype, ctype_len, copy, len, MAX_PARTS, MAX_HEADER);
    if (r != SRV_MULTIPART_OK && !mp.error[0])
        fuzz_fail("a refusal without a reason");
    if (r == SRV_MULTIPART_OK) {
        if (mp.nparts > MAX_PARTS)
            fuzz_fail("more parts than allowed");
        check_parts(&mp, copy, len);
        round_trip(&mp, ctype, ctype_len);
        check_value(&mp);
    }
    srv_multipart_free(&mp);
    free(ctype);
    free(copy);
    return 0;
}
