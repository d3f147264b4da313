/* csv.c — std/encoding/csv: comma-separated values (RFC 4180).
 *
 * parse(text, options) reads records separated by \n, \r\n or \r; blank
 * lines are skipped; a field that starts with '"' is quoted and may hold
 * delimiters, line breaks and doubled quotes.  Every record must have as
 * many fields as the first (ValueErr otherwise, as is an unterminated
 * quote).  Fields are trimmed and typed: "42" becomes Int, "3.5" Float,
 * "true"/"FALSE" Bool, anything else stays Str.  With headers (the default)
 * each record becomes a Dict keyed by the first record, else an Array.
 *
 * stringify(rows, options) writes Dicts (under the first row's keys, or
 * options.headers) or Arrays, one record per line ending in "\n", quoting
 * only the fields that need it.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "modules/modules.h"

typedef struct csv_options {
    char delim;
    bool has_headers;
    bool trim;
    qarray *headers;   /* stringify: the header row to write, or NULL */
} csv_options;

/* Read the options Dict (nil or absent: the defaults). */
static bool csv_read_options(qvm *vm, const char *fname, int argc, qval *argv, csv_options *o)
{
    *o = (csv_options){',', true, true, NULL};
    if (argc < 2 || IS_NIL(argv[1]))
        return true;
    qdict *d;
    if (!arg_dict(vm, fname, argv[1], &d))
        return false;
    qval v;
    if (dict_get_cstr(d, "has_headers", &v))
        o->has_headers = vm_truthy(v);
    if (dict_get_cstr(d, "trim", &v))
        o->trim = vm_truthy(v);
    if (dict_get_cstr(d, "delimiter", &v)) {
        if (!IS_STR(v) || AS_STR(v)->len != 1) {
            vm_raise(vm, E_VALUE, "%s: delimiter must be a single character", fname);
            return false;
        }
        o->delim = AS_STR(v)->data[0];
        if (o->delim == '"' || o->delim == '\n' || o->delim == '\r') {
            vm_raise(vm, E_VALUE, "%s: the delimiter cannot be a quote or a line break", fname);
            return false;
        }
    }
    if (dict_get_cstr(d, "headers", &v) && !IS_NIL(v)) {
        if (!IS_ARRAY(v)) {
            vm_raise(vm, E_TYPE, "%s: headers must be an Array, got %s", fname, vm_cls_name(v));
            return false;
        }
        o->headers = AS_ARRAY(v);
    }
    return true;
}

/* ---- parsing ------------------------------------------------------------------ */

typedef struct csv_reader {
    qvm *vm;
    const char *p, *end;
    const csv_options *o;
    int line;          /* of p, from 1 */
    int rec_line;      /* where the last record started */
    qbuf field;
} csv_reader;

static bool csv_space(char c)
{
    return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r' || c == '\n';
}

/* The current field as a Str, trimmed when asked. */
static qstr *csv_take_field(csv_reader *r)
{
    const char *s = r->field.data ? r->field.data : "";
    size_t n = r->field.len;
    if (r->o->trim) {
        while (n && csv_space(*s))
            s++, n--;
        while (n && csv_space(s[n - 1]))
            n--;
    }
    qstr *f = str_new(r->vm, s, n);
    r->field.len = 0;
    return f;
}

/* A quoted field from its opening quote; text after the closing quote up
 * to the next delimiter is kept, as lenient readers do. */
static bool csv_quoted(csv_reader *r)
{
    int start_line = r->line;
    r->p++;
    for (;;) {
        if (r->p >= r->end) {
            vm_raise(r->vm, E_VALUE, "CSV parse error: unterminated quoted field starting at line %d",
                     start_line);
            return false;
        }
        char c = *r->p++;
        if (c == '"') {
            if (r->p < r->end && *r->p == '"') {
                buf_putc(&r->field, '"');
                r->p++;
                continue;
            }
            break;
        }
        if (c == '\n')
            r->line++;
        buf_putc(&r->field, c);
    }
    return true;
}

/* The next record as an Array of Str into *out (NULL at the end of the
 * text); false after raising. */
static bool csv_record(csv_reader *r, qarray **out)
{
    *out = NULL;
    while (r->p < r->end && (*r->p == '\n' || *r->p == '\r'))
        r->line += *r->p++ == '\n';
    if (r->p >= r->end)
        return true;
    r->rec_line = r->line;
    qarray *rec = arr_new(r->vm, 0);
    for (;;) {
        if (*r->p == '"' && !csv_quoted(r))
            return false;
        while (r->p < r->end && *r->p != r->o->delim && *r->p != '\n' && *r->p != '\r')
            buf_putc(&r->field, *r->p++);
        arr_push(r->vm, rec, qv_obj(csv_take_field(r)));
        if (r->p < r->end && *r->p == r->o->delim) {
            r->p++;
            if (r->p < r->end)
                continue;
            arr_push(r->vm, rec, qv_obj(str_new(r->vm, "", 0))); /* "a,b," ends in an empty field */
        }
        break;
    }
    if (r->p < r->end && *r->p == '\r')
        r->p++;
    if (r->p < r->end && *r->p == '\n') {
        r->p++;
        r->line++;
    }
    *out = rec;
    return true;
}

/* s is an integer as Rust's i64 parser reads one: [+-]digits, in range. */
static bool csv_int(const qstr *s, int64_t *out)
{
    const char *p = s->data;
    if (*p == '+' || *p == '-')
        p++;
    if (!*p)
        return false;
    for (const char *q = p; *q; q++)
        if (*q < '0' || *q > '9')
            return false;
    errno = 0;
    char *end;
    long long v = strtoll(s->data, &end, 10);
    if (errno || end != s->data + s->len)
        return false;
    *out = v;
    return true;
}

/* s is a float as Rust's f64 parser reads one: [+-] then inf, infinity,
 * nan (any case) or digits with an optional point and exponent. */
static bool csv_float(const qstr *s, double *out)
{
    const char *p = s->data;
    if (*p == '+' || *p == '-')
        p++;
    if (!strcasecmp(p, "inf") || !strcasecmp(p, "infinity") || !strcasecmp(p, "nan")) {
        bool neg = s->data[0] == '-';
        *out = (p[0] | 0x20) == 'n' ? NAN : neg ? -INFINITY : INFINITY;
        return true;
    }
    int digits = 0;
    for (; *p >= '0' && *p <= '9'; p++)
        digits++;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            digits++;
    if (!digits)
        return false;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (*p < '0' || *p > '9')
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p)
        return false;
    *out = strtod(s->data, NULL);
    return true;
}

/* A field's value with its type detected. */
static qval csv_value(qstr *s)
{
    int64_t i;
    double f;
    if (s->len == 0 || memchr(s->data, '\0', s->len))
        return qv_obj(s);
    if (csv_int(s, &i))
        return qv_int(i);
    if (csv_float(s, &f))
        return qv_float(f);
    if (!strcasecmp(s->data, "true"))
        return qv_bool(true);
    if (!strcasecmp(s->data, "false"))
        return qv_bool(false);
    return qv_obj(s);
}

static qval csv_row(csv_reader *r, qarray *rec, qarray *headers)
{
    if (!headers) {
        for (uint32_t i = 0; i < rec->len; i++)
            rec->items[i] = csv_value(AS_STR(rec->items[i]));
        return qv_obj(rec);
    }
    qdict *d = dict_new(r->vm);
    for (uint32_t i = 0; i < rec->len; i++)
        dict_set(r->vm, d, AS_STR(headers->items[i]), csv_value(AS_STR(rec->items[i])));
    return qv_obj(d);
}

static qval csv_parse(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self;
    qstr *text;
    csv_options o;
    if (!arg_str(vm, "csv.parse", argv[0], &text) ||
        !csv_read_options(vm, "csv.parse", argc, argv, &o))
        return qv_exc();
    csv_reader r = {vm, text->data, text->data + text->len, &o, 1, 1, {0}};
    qarray *rows = arr_new(vm, 0), *headers = NULL, *rec;
    uint32_t width = 0;
    bool ok = true;
    for (int n = 0; (ok = csv_record(&r, &rec)) && rec; n++) {
        if (n > 0 && rec->len != width) {
            vm_raise(vm, E_VALUE,
                     "CSV parse error: the record at line %d has %u fields, but the previous "
                     "record has %u", r.rec_line, rec->len, width);
            ok = false;
            break;
        }
        width = rec->len;
        if (n == 0 && o.has_headers)
            headers = rec;
        else
            arr_push(vm, rows, csv_row(&r, rec, headers));
    }
    buf_free(&r.field);
    return ok ? qv_obj(rows) : qv_exc();
}

/* ---- writing -------------------------------------------------------------------------- */

static void csv_put_field(qbuf *b, const char *s, size_t n, char delim, bool alone)
{
    bool quote = alone && n == 0;
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == delim || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (!quote) {
        buf_append(b, s, n);
        return;
    }
    buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            buf_putc(b, '"');
        buf_putc(b, s[i]);
    }
    buf_putc(b, '"');
}

/* One record from n values (nil writes an empty field).  str() of a user
 * value may run Quest code, so the values are copied and rooted first. */
static bool csv_put_record(qvm *vm, qbuf *b, const qval *src, uint32_t n, char delim)
{
    qval *vals = malloc((n + 1) * sizeof *vals);
    if (!vals)
        abort();
    memcpy(vals, src, n * sizeof *vals);
    for (uint32_t i = 0; i < n; i++)
        vm_push_root(vm, vals[i]);
    bool ok = true;
    for (uint32_t i = 0; ok && i < n; i++) {
        if (i)
            buf_putc(b, delim);
        if (IS_NIL(vals[i]) || IS_UNDEF(vals[i])) {
            if (n == 1)
                buf_append(b, "\"\"", 2); /* a lone empty field is not a blank line */
            continue;
        }
        qstr *s = IS_STR(vals[i]) ? AS_STR(vals[i]) : vm_to_str(vm, vals[i]);
        if (s)
            csv_put_field(b, s->data, s->len, delim, n == 1);
        ok = s != NULL;
    }
    vm_pop_roots(vm, (int)n);
    free(vals);
    if (ok)
        buf_putc(b, '\n');
    return ok;
}

/* The header row of Dict rows: options.headers, else the first row's keys. */
static qarray *csv_dict_headers(qvm *vm, const csv_options *o, const qdict *first)
{
    if (o->headers)
        return o->headers;
    qarray *h = arr_new(vm, first->count);
    for (uint32_t i = 0; i < first->used; i++)
        if (first->entries[i].key)
            arr_push(vm, h, qv_obj(first->entries[i].key));
    return h;
}

static bool csv_put_dicts(qvm *vm, qbuf *b, const qarray *data, const qarray *headers, char delim)
{
    uint32_t n = headers->len;
    qval *vals = malloc((n + 1) * sizeof *vals);
    if (!vals)
        abort();
    bool ok = csv_put_record(vm, b, headers->items, n, delim);
    for (uint32_t r = 0; ok && r < data->len; r++) {
        qval row = data->items[r];
        if (!IS_DICT(row)) {
            vm_raise(vm, E_TYPE, "csv.stringify: every row must be a Dict when the first is, got %s",
                     vm_cls_name(row));
            ok = false;
            break;
        }
        for (uint32_t i = 0; i < n; i++) {
            vals[i] = qv_nil();
            if (i < headers->len && IS_STR(headers->items[i]))
                dict_get(AS_DICT(row), AS_STR(headers->items[i]), &vals[i]);
        }
        ok = csv_put_record(vm, b, vals, n, delim);
    }
    free(vals);
    return ok;
}

static bool csv_put_arrays(qvm *vm, qbuf *b, const qarray *data, const csv_options *o)
{
    if (o->headers && !csv_put_record(vm, b, o->headers->items, o->headers->len, o->delim))
        return false;
    for (uint32_t r = 0; r < data->len; r++) {
        qval row = data->items[r];
        if (!IS_ARRAY(row)) {
            vm_raise(vm, E_TYPE, "csv.stringify: every row must be an Array when the first is, got %s",
                     vm_cls_name(row));
            return false;
        }
        if (!csv_put_record(vm, b, AS_ARRAY(row)->items, AS_ARRAY(row)->len, o->delim))
            return false;
    }
    return true;
}

static qval csv_stringify(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self;
    qarray *data;
    csv_options o;
    if (!arg_array(vm, "csv.stringify", argv[0], &data) ||
        !csv_read_options(vm, "csv.stringify", argc, argv, &o))
        return qv_exc();
    if (data->len == 0)
        return qv_obj(str_new(vm, "", 0));
    qbuf b;
    buf_init(&b);
    bool ok;
    if (IS_DICT(data->items[0])) {
        qarray *headers = csv_dict_headers(vm, &o, AS_DICT(data->items[0]));
        vm_push_root(vm, qv_obj(headers));
        ok = csv_put_dicts(vm, &b, data, headers, o.delim);
        vm_pop_roots(vm, 1);
    } else if (IS_ARRAY(data->items[0])) {
        ok = csv_put_arrays(vm, &b, data, &o);
    } else {
        ok = false;
        vm_raise(vm, E_TYPE, "csv.stringify expects an Array of Dict or of Array rows, got a row of %s",
                 vm_cls_name(data->items[0]));
    }
    if (ok && b.len > UINT32_MAX) {
        ok = false;
        vm_raise(vm, E_VALUE, "csv.stringify: result too large");
    }
    if (!ok) {
        buf_free(&b);
        return qv_exc();
    }
    return qv_obj(buf_to_str(vm, &b));
}

static const qmethod_def csv_functions[] = {
    {"parse", csv_parse, 1, 2, false},
    {"stringify", csv_stringify, 1, 2, false},
    {NULL, NULL, 0, 0, false},
};

bool csv_module_init(qvm *vm, qmodule *m)
{
    module_export_fns(vm, m, csv_functions);
    return true;
}
