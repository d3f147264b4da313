/* value.c — template values: Quest values seen the way Tera sees JSON.
 *
 * The reference converts the context to JSON before rendering; we read the
 * Quest values in place and shape each one only when it is used
 * (tpl_shape): Decimal becomes a Float, BigInt and Uuid strings, Bytes a
 * base64 string, a Set an Array, module objects (timestamps ...) their
 * str().  Dicts and struct instances are "objects" whose keys iterate in
 * sorted order, as serde_json's maps do.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/templates/tpl.h"

/* ---- normalising ------------------------------------------------------------------- */

static qstr *val_base64(qvm *vm, const uint8_t *d, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    qbuf b;
    buf_init(&b);
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)d[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)d[i + 1] << 8;
        if (i + 2 < n)
            v |= d[i + 2];
        char out[4] = {tab[v >> 18], tab[(v >> 12) & 63], i + 1 < n ? tab[(v >> 6) & 63] : '=',
                       i + 2 < n ? tab[v & 63] : '='};
        buf_append(&b, out, 4);
    }
    return buf_to_str(vm, &b);
}

/* A module object (a Timestamp, a Date...) as its str() method prints it.
 * Such methods are natives, which run no Quest code. */
static bool val_cdata_str(qvm *vm, qval v, qval *out)
{
    qval m;
    qtype *t = AS_CDATA(v)->type;
    if (t && t->methods && dict_get_cstr(t->methods, "str", &m) && IS_KIND(m, QO_NATIVE) &&
        AS_NATIVE(m)->fn && AS_NATIVE(m)->min_args <= 0) {
        qval s = AS_NATIVE(m)->fn(vm, v, 0, NULL);
        if (IS_STR(s)) {
            *out = s;
            return true;
        }
        if (IS_EXC(s))
            vm_take_exc(vm);
    }
    *out = qv_obj(vm_to_str(vm, v));
    return true;
}

bool tpl_shape(qvm *vm, qval v, qval *out)
{
    *out = v;
    if (!IS_OBJ(v))
        return true;
    switch ((qobj_kind)AS_OBJ(v)->kind) {
    case QO_STR: case QO_ARRAY: case QO_DICT: case QO_INSTANCE:
        return true;
    case QO_DECIMAL:
        *out = qv_float(decimal_to_double(AS_DECIMAL(v)));
        return true;
    case QO_BIGINT:
        *out = qv_obj(bigint_to_str(vm, AS_BIGINT(v)));
        return true;
    case QO_BYTES:
        *out = qv_obj(val_base64(vm, AS_BYTES(v)->data, AS_BYTES(v)->len));
        return true;
    case QO_SET: {
        qset *s = AS_SET(v);
        qarray *a = arr_new(vm, s->count);
        for (uint32_t i = 0; i < s->used; i++)
            if (!IS_UNDEF(s->items[i]))
                arr_push(vm, a, s->items[i]);
        *out = qv_obj(a);
        return true;
    }
    case QO_UUID: {
        qstr *s = vm_to_str(vm, v);
        if (!s) {
            vm_take_exc(vm);
            return false;
        }
        *out = qv_obj(s);
        return true;
    }
    case QO_CDATA:
        return val_cdata_str(vm, v, out);
    case QO_EXC: { /* as the reference: {type, message[, line, file]} */
        qexc *e = AS_EXCV(v);
        qdict *d = dict_new(vm);
        dict_set_cstr(vm, d, "type", qv_obj(e->type->name));
        dict_set_cstr(vm, d, "message", qv_obj(e->message));
        if (e->line)
            dict_set_cstr(vm, d, "line", qv_int(e->line));
        if (e->file)
            dict_set_cstr(vm, d, "file", qv_obj(e->file));
        *out = qv_obj(d);
        return true;
    }
    default:
        return false;
    }
}

/* ---- objects ------------------------------------------------------------------------- */

bool tpl_is_object(qval v)
{
    return IS_DICT(v) || IS_INSTANCE(v);
}

bool tpl_object_get(qval obj, const qstr *key, qval *out)
{
    if (IS_DICT(obj))
        return dict_get(AS_DICT(obj), key, out);
    if (IS_INSTANCE(obj)) {
        qinstance *in = AS_INSTANCE(obj);
        for (uint32_t i = 0; i < in->type->nfields; i++) {
            if (str_equal(in->type->fields[i].name, key)) {
                *out = in->fields[i];
                return true;
            }
        }
    }
    return false;
}

uint32_t tpl_object_len(qval obj)
{
    return IS_DICT(obj) ? AS_DICT(obj)->count : IS_INSTANCE(obj) ? AS_INSTANCE(obj)->type->nfields : 0;
}

static int val_cmp_keys(const void *a, const void *b)
{
    const qstr *x = *(const qstr *const *)a, *y = *(const qstr *const *)b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->data, y->data, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

qstr **tpl_object_keys(qval obj, uint32_t *n)
{
    uint32_t cap = tpl_object_len(obj), k = 0;
    qstr **keys = malloc((cap ? cap : 1) * sizeof *keys);
    if (!keys)
        abort();
    if (IS_DICT(obj)) {
        qdict *d = AS_DICT(obj);
        for (uint32_t i = 0; i < d->used; i++)
            if (d->entries[i].key)
                keys[k++] = d->entries[i].key;
    } else if (IS_INSTANCE(obj)) {
        qinstance *in = AS_INSTANCE(obj);
        for (uint32_t i = 0; i < in->type->nfields; i++)
            keys[k++] = in->type->fields[i].name;
    }
    qsort(keys, k, sizeof *keys, val_cmp_keys);
    *n = k;
    return keys;
}

bool tpl_get_attr(qval obj, const tpl_seg *seg, qval *out)
{
    if (IS_ARRAY(obj)) {
        qarray *a = AS_ARRAY(obj);
        if (seg->index < 0 || (uint64_t)seg->index >= a->len)
            return false;
        *out = a->items[seg->index];
        return true;
    }
    return tpl_object_get(obj, seg->key, out);
}

/* ---- truth and equality ------------------------------------------------------------- */

bool tpl_truthy(qval v)
{
    switch (v.tag) {
    case QV_NIL: return false;
    case QV_BOOL: return v.as.b;
    case QV_INT: return v.as.i != 0;
    case QV_FLOAT: return v.as.f != 0 && !isnan(v.as.f);
    case QV_OBJ:
        if (IS_STR(v))
            return AS_STR(v)->len > 0;
        if (IS_ARRAY(v))
            return AS_ARRAY(v)->len > 0;
        if (tpl_is_object(v))
            return tpl_object_len(v) > 0;
        return true;
    default: return false;
    }
}

static double val_num(qval v)
{
    return IS_INT(v) ? (double)v.as.i : v.as.f;
}

enum { MAX_DEPTH = 100 }; /* nested (or cyclic) arrays and dicts */

static bool val_equal(qval a, qval b, int depth);

bool tpl_equal(qval a, qval b)
{
    return val_equal(a, b, 0);
}

static bool val_equal(qval a, qval b, int depth)
{
    if (IS_NUM(a) || IS_NUM(b))
        return IS_NUM(a) && IS_NUM(b) && val_num(a) == val_num(b);
    if (a.tag != b.tag)
        return false;
    switch (a.tag) {
    case QV_NIL: return true;
    case QV_BOOL: return a.as.b == b.as.b;
    case QV_OBJ: break;
    default: return false;
    }
    if (IS_STR(a) && IS_STR(b))
        return str_equal(AS_STR(a), AS_STR(b));
    if (IS_ARRAY(a) && IS_ARRAY(b)) {
        qarray *x = AS_ARRAY(a), *y = AS_ARRAY(b);
        if (x->len != y->len || depth > MAX_DEPTH)
            return false;
        for (uint32_t i = 0; i < x->len; i++)
            if (!val_equal(x->items[i], y->items[i], depth + 1))
                return false;
        return true;
    }
    if (tpl_is_object(a) && tpl_is_object(b)) {
        uint32_t n;
        qstr **keys = tpl_object_keys(a, &n);
        bool eq = n == tpl_object_len(b) && depth <= MAX_DEPTH;
        for (uint32_t i = 0; eq && i < n; i++) {
            qval x, y;
            tpl_object_get(a, keys[i], &x);
            eq = tpl_object_get(b, keys[i], &y) && val_equal(x, y, depth + 1);
        }
        free(keys);
        return eq;
    }
    return AS_OBJ(a) == AS_OBJ(b);
}

/* ---- printing ------------------------------------------------------------------------ */

static void val_float(qbuf *b, double f)
{
    char tmp[FMT_FLOAT_MAX];
    fmt_float(tmp, sizeof tmp, f);
    buf_puts(b, tmp);
}

static void val_print(qvm *vm, qbuf *b, qval v, int depth);

void tpl_print(qvm *vm, qbuf *b, qval v)
{
    val_print(vm, b, v, 0);
}

static void val_print(qvm *vm, qbuf *b, qval v, int depth)
{
    switch (v.tag) {
    case QV_NIL: return;
    case QV_BOOL: buf_puts(b, v.as.b ? "true" : "false"); return;
    case QV_INT: buf_printf(b, "%lld", (long long)v.as.i); return;
    case QV_FLOAT: val_float(b, v.as.f); return;
    case QV_OBJ: break;
    default: return;
    }
    if (IS_STR(v)) {
        buf_append(b, AS_STR(v)->data, AS_STR(v)->len);
    } else if (IS_ARRAY(v)) {
        qarray *a = AS_ARRAY(v);
        if (depth > MAX_DEPTH) {
            buf_puts(b, "[...]");
            return;
        }
        buf_putc(b, '[');
        for (uint32_t i = 0; i < a->len; i++) {
            if (i)
                buf_append(b, ", ", 2);
            val_print(vm, b, a->items[i], depth + 1);
        }
        buf_putc(b, ']');
    } else if (tpl_is_object(v)) {
        buf_puts(b, "[object]");
    } else {
        qval s;
        if (tpl_shape(vm, v, &s) && (IS_STR(s) || IS_ARRAY(s) || IS_FLOAT(s)))
            val_print(vm, b, s, depth + 1);
    }
}

qstr *tpl_to_str(qvm *vm, qval v)
{
    if (IS_STR(v))
        return AS_STR(v);
    qbuf b;
    buf_init(&b);
    tpl_print(vm, &b, v);
    return buf_to_str(vm, &b);
}

/* Which bytes need an entity. */
static const char *val_entity(unsigned char c)
{
    switch (c) {
    case '&': return "&amp;";
    case '<': return "&lt;";
    case '>': return "&gt;";
    case '"': return "&quot;";
    case '\'': return "&#x27;";
    case '/': return "&#x2F;";
    default: return NULL;
    }
}

void tpl_escape(qbuf *b, const char *s, size_t len)
{
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        const char *ent = val_entity((unsigned char)s[i]);
        if (!ent)
            continue;
        buf_append(b, s + run, i - run);
        buf_puts(b, ent);
        run = i + 1;
    }
    buf_append(b, s + run, len - run);
}

/* ---- JSON ------------------------------------------------------------------------------ */

static void json_str(qbuf *b, const char *s, size_t len)
{
    buf_putc(b, '"');
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        buf_append(b, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"': buf_append(b, "\\\"", 2); break;
        case '\\': buf_append(b, "\\\\", 2); break;
        case '\n': buf_append(b, "\\n", 2); break;
        case '\r': buf_append(b, "\\r", 2); break;
        case '\t': buf_append(b, "\\t", 2); break;
        case '\b': buf_append(b, "\\b", 2); break;
        case '\f': buf_append(b, "\\f", 2); break;
        default: buf_printf(b, "\\u%04x", c); break;
        }
    }
    buf_append(b, s + run, len - run);
    buf_putc(b, '"');
}

/* Shortest digits that read back as f (f > 0): dig gets them, the result
 * is their count, *exp10 the exponent of the first one. */
static int json_digits(double f, char *dig, int *exp10)
{
    char tmp[40];
    for (int prec = 0; prec < 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec, f);
        if (strtod(tmp, NULL) == f)
            break;
    }
    int nd = 0;
    const char *p = tmp;
    for (; *p && *p != 'e'; p++)
        if (*p != '.')
            dig[nd++] = *p;
    *exp10 = atoi(p + 1);
    while (nd > 1 && dig[nd - 1] == '0')
        nd--;
    return nd;
}

/* serde_json writes floats as ryu does: "1.0", "0.1", "1e16", "1.5e-7". */
static void json_float(qbuf *b, double f)
{
    if (!isfinite(f)) {
        buf_puts(b, "null");
        return;
    }
    if (signbit(f))
        buf_putc(b, '-');
    if (f == 0) {
        buf_puts(b, "0.0");
        return;
    }
    char dig[40];
    int exp10;
    int nd = json_digits(fabs(f), dig, &exp10);
    int point = exp10 + 1; /* digits before the decimal point */
    if (point > 0 && point <= 16) {
        if (nd <= point) {
            buf_append(b, dig, (size_t)nd);
            for (int i = nd; i < point; i++)
                buf_putc(b, '0');
            buf_puts(b, ".0");
        } else {
            buf_append(b, dig, (size_t)point);
            buf_putc(b, '.');
            buf_append(b, dig + point, (size_t)(nd - point));
        }
    } else if (point <= 0 && point > -5) {
        buf_puts(b, "0.");
        for (int i = point; i < 0; i++)
            buf_putc(b, '0');
        buf_append(b, dig, (size_t)nd);
    } else {
        buf_putc(b, dig[0]);
        if (nd > 1) {
            buf_putc(b, '.');
            buf_append(b, dig + 1, (size_t)nd - 1);
        }
        buf_printf(b, "e%d", exp10);
    }
}

static void json_indent(qbuf *b, int indent, int depth)
{
    if (indent < 0)
        return;
    buf_putc(b, '\n');
    for (int i = 0; i < indent * depth; i++)
        buf_putc(b, ' ');
}

static void json_value(qvm *vm, qbuf *b, qval v, int indent, int depth)
{
    if (depth > MAX_DEPTH) { /* cyclic data: stop rather than recurse forever */
        buf_puts(b, "null");
        return;
    }
    switch (v.tag) {
    case QV_BOOL: buf_puts(b, v.as.b ? "true" : "false"); return;
    case QV_INT: buf_printf(b, "%lld", (long long)v.as.i); return;
    case QV_FLOAT: json_float(b, v.as.f); return;
    case QV_OBJ: break;
    default: buf_puts(b, "null"); return;
    }
    if (IS_STR(v)) {
        json_str(b, AS_STR(v)->data, AS_STR(v)->len);
    } else if (IS_ARRAY(v)) {
        qarray *a = AS_ARRAY(v);
        buf_putc(b, '[');
        for (uint32_t i = 0; i < a->len; i++) {
            if (i)
                buf_putc(b, ',');
            json_indent(b, indent, depth + 1);
            json_value(vm, b, a->items[i], indent, depth + 1);
        }
        if (a->len)
            json_indent(b, indent, depth);
        buf_putc(b, ']');
    } else if (tpl_is_object(v)) {
        uint32_t n;
        qstr **keys = tpl_object_keys(v, &n);
        buf_putc(b, '{');
        for (uint32_t i = 0; i < n; i++) {
            qval x;
            tpl_object_get(v, keys[i], &x);
            if (i)
                buf_putc(b, ',');
            json_indent(b, indent, depth + 1);
            json_str(b, keys[i]->data, keys[i]->len);
            buf_puts(b, indent < 0 ? ":" : ": ");
            json_value(vm, b, x, indent, depth + 1);
        }
        if (n)
            json_indent(b, indent, depth);
        buf_putc(b, '}');
        free(keys);
    } else {
        qval s;
        if (tpl_shape(vm, v, &s) && (IS_STR(s) || IS_ARRAY(s) || IS_FLOAT(s)))
            json_value(vm, b, s, indent, depth);
        else
            buf_puts(b, "null");
    }
}

void tpl_json(qvm *vm, qbuf *b, qval v, int indent)
{
    json_value(vm, b, v, indent, 0);
}

const char *tpl_describe(qvm *vm, qbuf *scratch, qval v)
{
    scratch->len = 0;
    tpl_json(vm, scratch, v, -1);
    if (scratch->len > 60) {
        scratch->len = 57;
        buf_puts(scratch, "...");
    }
    buf_putc(scratch, '\0');
    return scratch->data;
}
