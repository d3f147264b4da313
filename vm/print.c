/* print.c — the str() and _rep() forms of every value, and cls() names.
 * These are what puts, `..`, f-strings, join and test messages show. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "vm_internal.h"

#define MAX_PRINT_DEPTH 64

const char *vm_cls_name(qval v)
{
    switch (v.tag) {
    case QV_NIL: return "Nil";
    case QV_BOOL: return "Bool";
    case QV_INT: return "Int";
    case QV_FLOAT: return "Float";
    case QV_OBJ: break;
    default: return "?";
    }
    switch ((qobj_kind)v.as.o->kind) {
    case QO_STR: return "Str";
    case QO_BYTES: return "Bytes";
    case QO_ARRAY: return "Array";
    case QO_DICT: return "Dict";
    case QO_SET: return "Set";
    case QO_BIGINT: return "BigInt";
    case QO_DECIMAL: return "Decimal";
    case QO_UUID: return "Uuid";
    case QO_CLOSURE: case QO_NATIVE: return "Function";
    case QO_TYPE: return "Type";
    case QO_TRAIT: return "Trait";
    case QO_MODULE: return "Module";
    case QO_EXC: return AS_EXCV(v)->type->name->data;
    case QO_INSTANCE: return AS_INSTANCE(v)->type->name->data;
    case QO_CDATA: return AS_CDATA(v)->cls->name;
    case QO_TASK: return "Task";
    case QO_CHANNEL: return "Channel";
    default: return "?";
    }
}

static void put_value(qvm *vm, qbuf *b, qval v, bool rep, int depth);

static void put_str(qbuf *b, const qstr *s, bool quote)
{
    if (quote)
        buf_putc(b, '"');
    buf_append(b, s->data, s->len);
    if (quote)
        buf_putc(b, '"');
}

static void put_array(qvm *vm, qbuf *b, qarray *a, int depth)
{
    buf_putc(b, '[');
    for (uint32_t i = 0; i < a->len; i++) {
        if (i)
            buf_puts(b, ", ");
        put_value(vm, b, a->items[i], false, depth + 1);
    }
    buf_putc(b, ']');
}

static int cmp_cstr(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Entries print as "k: v", sorted as whole strings (the reference sorts the
 * rendered pairs). */
static void put_dict(qvm *vm, qbuf *b, qdict *d, int depth)
{
    qbuf *parts = calloc(d->count ? d->count : 1, sizeof(qbuf));
    char **texts = calloc(d->count ? d->count : 1, sizeof(char *));
    uint32_t n = 0;
    for (uint32_t i = 0; i < d->used; i++) {
        if (!d->entries[i].key)
            continue;
        buf_init(&parts[n]);
        buf_append(&parts[n], d->entries[i].key->data, d->entries[i].key->len);
        buf_puts(&parts[n], ": ");
        put_value(vm, &parts[n], d->entries[i].val, false, depth + 1);
        texts[n] = parts[n].data;
        n++;
    }
    qsort(texts, n, sizeof(char *), cmp_cstr);
    buf_putc(b, '{');
    for (uint32_t i = 0; i < n; i++) {
        if (i)
            buf_puts(b, ", ");
        buf_puts(b, texts[i]);
    }
    buf_putc(b, '}');
    for (uint32_t i = 0; i < n; i++)
        buf_free(&parts[i]);
    free(parts);
    free(texts);
}

static void put_set(qvm *vm, qbuf *b, qset *s)
{
    qarray *items = arr_new(vm, s->count);
    for (uint32_t i = 0; i < s->used; i++)
        if (!IS_UNDEF(s->items[i]))
            items->items[items->len++] = s->items[i];
    /* insertion sort by language order: sets printed are small */
    for (uint32_t i = 1; i < items->len; i++) {
        qval x = items->items[i];
        uint32_t j = i;
        for (; j > 0 && vm_compare(items->items[j - 1], x) > 0; j--)
            items->items[j] = items->items[j - 1];
        items->items[j] = x;
    }
    buf_puts(b, "Set{");
    for (uint32_t i = 0; i < items->len; i++) {
        if (i)
            buf_puts(b, ", ");
        put_value(vm, b, items->items[i], true, MAX_PRINT_DEPTH - 1);
    }
    buf_putc(b, '}');
}

static void put_bytes(qbuf *b, const qbytes *by)
{
    buf_puts(b, "b\"");
    for (uint32_t i = 0; i < by->len; i++) {
        uint8_t c = by->data[i];
        if (c >= 32 && c < 127 && c != '\\' && c != '"')
            buf_putc(b, (char)c);
        else
            buf_printf(b, "\\x%02x", c);
    }
    buf_putc(b, '"');
}

static void put_uuid(qbuf *b, const quuid *u)
{
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            buf_putc(b, '-');
        buf_printf(b, "%02x", u->bytes[i]);
    }
}

static void put_instance(qvm *vm, qbuf *b, qinstance *in, int depth)
{
    qtype *t = in->type;
    buf_append(b, t->name->data, t->name->len);
    buf_puts(b, "{ ");
    for (uint32_t i = 0; i < t->nfields; i++) {
        if (i)
            buf_puts(b, ", ");
        buf_append(b, t->fields[i].name->data, t->fields[i].name->len);
        buf_puts(b, ": ");
        put_value(vm, b, in->fields[i], false, depth + 1);
    }
    buf_puts(b, " }");
}

/* Module objects print through their own native str/_rep when they have
 * one (module natives never run Quest code, so this is safe here). */
static void put_cdata(qvm *vm, qbuf *b, qval v, bool rep)
{
    qcdata *c = AS_CDATA(v);
    qval m;
    if ((rep && dict_get_cstr(c->type->methods, "_rep", &m)) || dict_get_cstr(c->type->methods, "str", &m)) {
        if (IS_KIND(m, QO_NATIVE) && AS_NATIVE(m)->fn) {
            qval r = AS_NATIVE(m)->fn(vm, v, 0, NULL);
            if (IS_STR(r)) {
                buf_append(b, AS_STR(r)->data, AS_STR(r)->len);
                return;
            }
            vm_take_exc(vm);
        }
    }
    buf_printf(b, "<%s>", c->cls->name);
}

static void put_object(qvm *vm, qbuf *b, qval v, bool rep, int depth)
{
    qobj *o = v.as.o;
    switch ((qobj_kind)o->kind) {
    case QO_STR: put_str(b, (qstr *)o, rep); break;
    case QO_BYTES: put_bytes(b, (qbytes *)o); break;
    case QO_ARRAY: put_array(vm, b, (qarray *)o, depth); break;
    case QO_DICT: put_dict(vm, b, (qdict *)o, depth); break;
    case QO_SET: put_set(vm, b, (qset *)o); break;
    case QO_BIGINT: {
        qstr *s = bigint_to_str(vm, (qbigint *)o);
        buf_printf(b, rep ? "BigInt(%s)" : "%s", s->data);
        break;
    }
    case QO_DECIMAL: {
        qstr *s = decimal_to_str(vm, (qdecimal *)o);
        buf_printf(b, rep ? "Decimal(%s)" : "%s", s->data);
        break;
    }
    case QO_UUID:
        if (rep)
            buf_puts(b, "Uuid(\"");
        put_uuid(b, (quuid *)o);
        if (rep)
            buf_puts(b, "\")");
        break;
    case QO_CLOSURE: {
        qproto *p = ((qclosure *)o)->proto;
        buf_printf(b, "<fun %s>", p->name->data);
        break;
    }
    case QO_NATIVE: {
        qnative *n = (qnative *)o;
        if (n->fn && !IS_NIL(n->bound)) /* a method reference: <fun Str.upper> */
            buf_printf(b, "<fun %s.%s>", vm_cls_name(n->bound), n->name);
        else
            buf_printf(b, "<fun %s>", n->name);
        break;
    }
    case QO_TYPE: {
        qtype *t = (qtype *)o;
        buf_printf(b, t->tkind == QT_EXC ? "%s" : "type %s", t->name->data);
        break;
    }
    case QO_TRAIT: buf_printf(b, "trait %s", ((qtrait *)o)->name->data); break;
    case QO_INSTANCE: put_instance(vm, b, (qinstance *)o, depth); break;
    case QO_MODULE: buf_printf(b, "<module %s>", ((qmodule *)o)->name->data); break;
    case QO_EXC: {
        qexc *e = (qexc *)o;
        buf_printf(b, "%s: ", e->type->name->data);
        buf_append(b, e->message->data, e->message->len);
        break;
    }
    case QO_CDATA: put_cdata(vm, b, v, rep); break;
    case QO_TASK: buf_printf(b, "<Task %lld>", (long long)((qtask *)o)->id); break;
    case QO_CHANNEL: buf_puts(b, "<Channel>"); break;
    default: buf_puts(b, "<?>"); break;
    }
}

static void put_value(qvm *vm, qbuf *b, qval v, bool rep, int depth)
{
    char num[FMT_FLOAT_MAX];
    if (depth >= MAX_PRINT_DEPTH) {
        buf_puts(b, IS_ARRAY(v) ? "[...]" : IS_DICT(v) ? "{...}" : "...");
        return;
    }
    switch (v.tag) {
    case QV_NIL: buf_puts(b, "nil"); break;
    case QV_BOOL: buf_puts(b, v.as.b ? "true" : "false"); break;
    case QV_INT: buf_printf(b, "%" PRId64, v.as.i); break;
    case QV_FLOAT:
        fmt_float(num, sizeof num, v.as.f);
        buf_puts(b, num);
        break;
    case QV_OBJ: put_object(vm, b, v, rep, depth); break;
    default: buf_puts(b, "<undefined>"); break;
    }
}

qstr *vm_to_str(qvm *vm, qval v)
{
    if (IS_STR(v))
        return AS_STR(v);
    if (IS_INT(v))
        return str_from_int(vm, v.as.i);
    qbuf b;
    buf_init(&b);
    put_value(vm, &b, v, false, 0);
    return buf_to_str(vm, &b);
}

qstr *vm_to_rep(qvm *vm, qval v)
{
    qbuf b;
    buf_init(&b);
    put_value(vm, &b, v, true, 0);
    return buf_to_str(vm, &b);
}
