/* srv_multipart.c — multipart/form-data bodies: the boundary from the
 * Content-Type, the parts between its delimiter lines, each part's
 * Content-Disposition and Content-Type, and the Quest value of the form.
 *
 * The input is untrusted: every scan is bounded by the body's length, a
 * part's header block by max_header and the number of parts by max_parts,
 * and a body that breaks the syntax is refused as a whole rather than
 * guessed at.  Names and filenames are taken as sent: browsers and curl
 * percent-encode `"`, CR and LF in them (WHATWG's form encoding) and use no
 * backslash escapes, so a quoted value ends at the next `"`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/srv_multipart.h"

/* ---- lexical helpers -------------------------------------------------------- */

static bool ieq(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && strncasecmp(s, lit, n) == 0;
}

/* RFC 7230 tchar. */
static bool is_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* RFC 2046 bchars (space allowed, but not last). */
static bool is_bchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("'()+_,-./:=? ", c));
}

static size_t skip_ows(const char *s, size_t n, size_t i)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    return i;
}

static srv_span span(const char *p, size_t n)
{
    return (srv_span){p, n};
}

/* The next `; name=value` parameter of a header value from s[*pi..n); the
 * value is a token (taken up to the next `;`) or a quoted string.  False
 * at the end, or with *bad set when the syntax is broken. */
static bool next_param(const char *s, size_t n, size_t *pi, srv_span *name, srv_span *value, bool *bad)
{
    size_t i = *pi;
    *bad = false;
    for (;;) {
        i = skip_ows(s, n, i);
        if (i == n)
            return false;
        if (s[i] != ';')
            return !(*bad = true);
        i = skip_ows(s, n, i + 1);
        if (i < n && s[i] != ';')
            break; /* else an empty parameter: `;;` or a trailing `;` */
    }
    size_t start = i;
    while (i < n && is_tchar((unsigned char)s[i]))
        i++;
    *name = span(s + start, i - start);
    i = skip_ows(s, n, i);
    if (!name->n || i == n || s[i] != '=')
        return !(*bad = true);
    i = skip_ows(s, n, i + 1);
    if (i < n && s[i] == '"') {
        const char *close = memchr(s + i + 1, '"', n - i - 1);
        if (!close)
            return !(*bad = true);
        *value = span(s + i + 1, (size_t)(close - s) - i - 1);
        i = (size_t)(close - s) + 1;
    } else {
        start = i;
        while (i < n && s[i] != ';')
            i++;
        size_t end = i;
        while (end > start && (s[end - 1] == ' ' || s[end - 1] == '\t'))
            end--;
        if (end == start)
            return !(*bad = true);
        *value = span(s + start, end - start);
    }
    *pi = i;
    return true;
}

/* ---- Content-Type ----------------------------------------------------------------- */

bool srv_multipart_is_form(const char *ctype, size_t len)
{
    static const char form[] = "multipart/form-data";
    size_t i = skip_ows(ctype, len, 0), n = sizeof form - 1;
    if (len - i < n || strncasecmp(ctype + i, form, n) != 0)
        return false;
    i += n;
    return i == len || ctype[i] == ';' || ctype[i] == ' ' || ctype[i] == '\t';
}

bool srv_multipart_boundary(const char *ctype, size_t len, srv_span *out)
{
    const char *semi = memchr(ctype, ';', len);
    size_t i = semi ? (size_t)(semi - ctype) : len;
    srv_span name, value;
    bool bad, found = false;
    while (next_param(ctype, len, &i, &name, &value, &bad)) {
        if (!ieq(name.p, name.n, "boundary"))
            continue;
        if (found)
            return false; /* two boundaries: which one the sender meant is a guess */
        found = true;
        *out = value;
    }
    if (bad || !found || out->n < 1 || out->n > SRV_MULTIPART_MAX_BOUNDARY || out->p[out->n - 1] == ' ')
        return false;
    for (size_t k = 0; k < out->n; k++)
        if (!is_bchar((unsigned char)out->p[k]))
            return false;
    return true;
}

/* ---- the parts --------------------------------------------------------------------- */

static bool fail(srv_multipart *mp, const char *why)
{
    snprintf(mp->error, sizeof mp->error, "%s", why);
    return false;
}

static srv_multipart_result malformed(srv_multipart *mp, const char *why)
{
    fail(mp, why);
    return SRV_MULTIPART_MALFORMED;
}

/* Content-Disposition: form-data; name="..."[; filename="..."] */
static bool disposition(srv_multipart *mp, const char *v, size_t n, srv_multipart_part *part)
{
    size_t i = 0;
    while (i < n && is_tchar((unsigned char)v[i]))
        i++;
    if (!ieq(v, i, "form-data"))
        return fail(mp, "a part's Content-Disposition is not form-data");
    srv_span name, value;
    bool bad;
    while (next_param(v, n, &i, &name, &value, &bad)) {
        srv_span *slot = ieq(name.p, name.n, "name")       ? &part->name
                         : ieq(name.p, name.n, "filename") ? &part->filename
                                                           : NULL;
        if (!slot)
            continue; /* filename* (RFC 7578 §4.2: senders must not use it) and others */
        if (slot->p)
            return fail(mp, "a part's Content-Disposition repeats a parameter");
        *slot = value;
    }
    if (bad)
        return fail(mp, "a part's Content-Disposition is malformed");
    if (!part->name.p)
        return fail(mp, "a part has no name");
    return true;
}

/* One `Name: value` line of a part's header block. */
static bool header_line(srv_multipart *mp, const char *line, size_t n, srv_multipart_part *part,
                        bool *seen_disposition, bool *seen_type)
{
    if (line[0] == ' ' || line[0] == '\t')
        return fail(mp, "folded part header lines are not supported");
    const char *colon = memchr(line, ':', n);
    size_t nl = colon ? (size_t)(colon - line) : 0;
    for (size_t k = 0; k < nl; k++)
        if (!is_tchar((unsigned char)line[k]))
            nl = 0;
    if (!nl)
        return fail(mp, "a part header line is not `Name: value`");
    size_t vs = skip_ows(line, n, nl + 1), ve = n;
    while (ve > vs && (line[ve - 1] == ' ' || line[ve - 1] == '\t'))
        ve--;
    bool *seen = ieq(line, nl, "content-disposition") ? seen_disposition
                 : ieq(line, nl, "content-type")      ? seen_type
                                                      : NULL;
    if (!seen)
        return true; /* Content-Transfer-Encoding and the like: RFC 7578 §4.7 */
    if (*seen)
        return fail(mp, "a part repeats a header");
    *seen = true;
    if (seen == seen_disposition)
        return disposition(mp, line + vs, ve - vs, part);
    part->type = ve > vs ? span(line + vs, ve - vs) : span(NULL, 0);
    return true;
}

/* The header block starting at *pp, up to and including its blank line. */
static bool part_headers(srv_multipart *mp, const char *b, size_t len, size_t *pp, size_t max_header,
                         srv_multipart_part *part)
{
    size_t p = *pp;
    size_t end = max_header < len - p ? p + max_header : len;
    bool seen_disposition = false, seen_type = false;
    for (;;) {
        const char *eol = end - p >= 2 ? memmem(b + p, end - p, "\r\n", 2) : NULL;
        if (!eol)
            return fail(mp, end < len ? "a part's headers are too large" : "the body ends inside a part's headers");
        const char *line = b + p;
        size_t n = (size_t)(eol - line);
        p += n + 2;
        if (n == 0)
            break;
        if (p < len && (b[p] == ' ' || b[p] == '\t')) /* obs-fold: the next line continues this one */
            return fail(mp, "folded part header lines are not supported");
        if (!header_line(mp, line, n, part, &seen_disposition, &seen_type))
            return false;
    }
    if (!seen_disposition)
        return fail(mp, "a part has no Content-Disposition");
    *pp = p;
    return true;
}

static void push(srv_multipart *mp, const srv_multipart_part *part)
{
    if (mp->nparts == mp->cap) {
        mp->cap = mp->cap ? mp->cap * 2 : 8;
        mp->parts = realloc(mp->parts, mp->cap * sizeof *mp->parts);
        if (!mp->parts)
            abort();
    }
    mp->parts[mp->nparts++] = *part;
}

srv_multipart_result srv_multipart_parse(srv_multipart *mp, const char *ctype, size_t ctype_len,
                                         const char *body, size_t len, size_t max_parts,
                                         size_t max_header)
{
    srv_span boundary;
    if (!srv_multipart_boundary(ctype, ctype_len, &boundary))
        return malformed(mp, "no valid boundary parameter");
    /* A delimiter is CRLF "--" boundary; the first may open the body
     * without its CRLF.  Whatever precedes it is the preamble. */
    char delim[4 + SRV_MULTIPART_MAX_BOUNDARY];
    size_t dl = 4 + boundary.n;
    memcpy(delim, "\r\n--", 4);
    memcpy(delim + 4, boundary.p, boundary.n);
    size_t pos; /* where the current "--boundary" starts */
    if (len >= dl - 2 && memcmp(body, delim + 2, dl - 2) == 0) {
        pos = 0;
    } else {
        const char *m = memmem(body, len, delim, dl);
        if (!m)
            return malformed(mp, "the body has no boundary line");
        pos = (size_t)(m - body) + 2;
    }
    for (;;) {
        size_t p = pos + dl - 2;
        if (len - p >= 2 && body[p] == '-' && body[p + 1] == '-')
            return SRV_MULTIPART_OK; /* the close delimiter; the epilogue is ignored */
        p = skip_ows(body, len, p); /* transport padding */
        if (len - p < 2 || body[p] != '\r' || body[p + 1] != '\n')
            return malformed(mp, "a boundary line does not end with CRLF");
        p += 2;
        if (mp->nparts >= max_parts) {
            snprintf(mp->error, sizeof mp->error, "more than %zu parts", max_parts);
            return SRV_MULTIPART_TOO_MANY;
        }
        srv_multipart_part part = {0};
        if (!part_headers(mp, body, len, &p, max_header, &part))
            return SRV_MULTIPART_MALFORMED;
        const char *m = len - p >= dl ? memmem(body + p, len - p, delim, dl) : NULL;
        if (!m)
            return malformed(mp, "the body ends before its closing boundary");
        part.data = span(body + p, (size_t)(m - body) - p);
        push(mp, &part);
        pos = (size_t)(m - body) + 2;
    }
}

void srv_multipart_free(srv_multipart *mp)
{
    free(mp->parts);
    mp->parts = NULL;
    mp->nparts = mp->cap = 0;
}

/* ---- the Quest value ------------------------------------------------------------------ */

/* Length of the UTF-8 sequence a lead byte announces (0: not a lead byte). */
static size_t seq_len(unsigned char c)
{
    return c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
}

/* Str from bytes; each byte that starts no valid sequence becomes U+FFFD. */
static qstr *text(qvm *vm, srv_span s)
{
    if (!s.p)
        return str_new(vm, "", 0);
    if (utf8_valid(s.p, s.n))
        return str_new(vm, s.p, s.n);
    qbuf b;
    buf_init(&b);
    for (size_t i = 0; i < s.n;) {
        size_t k = seq_len((unsigned char)s.p[i]);
        if (k && k <= s.n - i && utf8_valid(s.p + i, k)) {
            buf_append(&b, s.p + i, k);
            i += k;
        } else {
            buf_puts(&b, "\xEF\xBF\xBD");
            i++;
        }
    }
    return buf_to_str(vm, &b);
}

/* No Quest code runs here, so no collection can happen: nothing to root. */
qval srv_multipart_value(qvm *vm, const srv_multipart *mp)
{
    qdict *form = dict_new(vm);
    qdict *fields = dict_new(vm);
    qarray *files = arr_new(vm, 0);
    dict_set_cstr(vm, form, "fields", qv_obj(fields));
    dict_set_cstr(vm, form, "files", qv_obj(files));
    for (size_t i = 0; i < mp->nparts; i++) {
        const srv_multipart_part *part = &mp->parts[i];
        if (!part->filename.p) { /* a text field: a later one of the same name wins */
            dict_set(vm, fields, text(vm, part->name), qv_obj(text(vm, part->data)));
            continue;
        }
        qdict *f = dict_new(vm);
        dict_set_cstr(vm, f, "name", qv_obj(text(vm, part->name)));
        dict_set_cstr(vm, f, "filename", qv_obj(text(vm, part->filename)));
        dict_set_cstr(vm, f, "mime_type", qv_obj(part->type.p ? text(vm, part->type) : str_new(vm, "text/plain", 10)));
        dict_set_cstr(vm, f, "size", qv_int((int64_t)part->data.n));
        dict_set_cstr(vm, f, "data", qv_obj(bytes_new(vm, part->data.p, part->data.n)));
        arr_push(vm, files, qv_obj(f));
    }
    return qv_obj(form);
}
