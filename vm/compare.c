/* compare.c — truthiness, `==` and ordering, shared by the interpreter,
 * sort() and the containers. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "vm_internal.h"

bool vm_truthy(qval v)
{
    switch (v.tag) {
    case QV_NIL: return false;
    case QV_BOOL: return v.as.b;
    case QV_INT: return v.as.i != 0;
    case QV_FLOAT: return v.as.f != 0.0;
    case QV_OBJ: break;
    default: return false;
    }
    qobj *o = v.as.o;
    switch ((qobj_kind)o->kind) {
    case QO_STR: return ((qstr *)o)->len != 0;
    case QO_BYTES: return ((qbytes *)o)->len != 0;
    case QO_ARRAY: return ((qarray *)o)->len != 0;
    case QO_DICT: return ((qdict *)o)->count != 0;
    case QO_SET: return ((qset *)o)->count != 0;
    case QO_BIGINT: return !bigint_is_zero((qbigint *)o);
    case QO_DECIMAL: return ((qdecimal *)o)->coef != 0;
    case QO_CDATA: {
        qcdata *c = (qcdata *)o;
        return !c->cls->truthy || c->cls->truthy(c->data);
    }
    default: return true;
    }
}

static bool float_eq(double a, double b)
{
    return a == b || fabs(a - b) < DBL_EPSILON;
}

/* Deeper than this, structures compare unequal instead of exhausting the
 * C stack (cyclic or absurdly nested data). */
#define MAX_EQUAL_DEPTH 256

static bool equal_at(qval a, qval b, int depth);

static bool dict_equal(const qdict *a, const qdict *b, int depth)
{
    if (a->count != b->count)
        return false;
    for (uint32_t i = 0; i < a->used; i++) {
        qval other;
        if (!a->entries[i].key)
            continue;
        if (!dict_get(b, a->entries[i].key, &other) || !equal_at(a->entries[i].val, other, depth + 1))
            return false;
    }
    return true;
}

static bool set_equal(const qset *a, const qset *b)
{
    if (a->count != b->count)
        return false;
    for (uint32_t i = 0; i < a->used; i++)
        if (!IS_UNDEF(a->items[i]) && !set_has(b, a->items[i]))
            return false;
    return true;
}

static bool obj_equal(qobj *x, qobj *y, int depth)
{
    if (x == y)
        return true;
    if (x->kind != y->kind || depth > MAX_EQUAL_DEPTH)
        return false;
    switch ((qobj_kind)x->kind) {
    case QO_STR: return str_equal((qstr *)x, (qstr *)y);
    case QO_BYTES: {
        qbytes *a = (qbytes *)x, *b = (qbytes *)y;
        return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
    }
    case QO_ARRAY: {
        qarray *a = (qarray *)x, *b = (qarray *)y;
        if (a->len != b->len)
            return false;
        for (uint32_t i = 0; i < a->len; i++)
            if (!equal_at(a->items[i], b->items[i], depth + 1))
                return false;
        return true;
    }
    case QO_DICT: return dict_equal((qdict *)x, (qdict *)y, depth);
    case QO_SET: return set_equal((qset *)x, (qset *)y);
    case QO_BIGINT: return bigint_cmp((qbigint *)x, (qbigint *)y) == 0;
    case QO_DECIMAL: return decimal_cmp((qdecimal *)x, (qdecimal *)y) == 0;
    case QO_UUID: return memcmp(((quuid *)x)->bytes, ((quuid *)y)->bytes, 16) == 0;
    case QO_TYPE: return str_equal(((qtype *)x)->name, ((qtype *)y)->name);
    case QO_EXC: {
        qexc *a = (qexc *)x, *b = (qexc *)y;
        return a->type == b->type && str_equal(a->message, b->message);
    }
    default: return false;
    }
}

bool vm_equal(qval a, qval b)
{
    return equal_at(a, b, 0);
}

static bool equal_at(qval a, qval b, int depth)
{
    if (a.tag == QV_INT && b.tag == QV_INT)
        return a.as.i == b.as.i;
    if (IS_NUM(a) && IS_NUM(b)) {
        double x = IS_INT(a) ? (double)a.as.i : a.as.f;
        double y = IS_INT(b) ? (double)b.as.i : b.as.f;
        return float_eq(x, y);
    }
    if (a.tag != b.tag)
        return false;
    switch (a.tag) {
    case QV_NIL: return true;
    case QV_BOOL: return a.as.b == b.as.b;
    case QV_OBJ: return obj_equal(a.as.o, b.as.o, depth);
    default: return false;
    }
}

/* Rank of a kind in the mixed-kind order Nil < Bool < numbers < Str. */
static int kind_rank(qval v)
{
    switch (v.tag) {
    case QV_NIL: return 0;
    case QV_BOOL: return 1;
    case QV_INT: case QV_FLOAT: return 2;
    default: return IS_STR(v) ? 3 : -1;
    }
}

static int cmp3(double x, double y)
{
    return x < y ? -1 : x > y ? 1 : 0;
}

int vm_compare(qval a, qval b)
{
    if (IS_INT(a) && IS_INT(b))
        return a.as.i < b.as.i ? -1 : a.as.i > b.as.i;
    int ra = kind_rank(a), rb = kind_rank(b);
    if (ra >= 0 && rb >= 0 && ra != rb)
        return ra < rb ? -1 : 1;
    switch (ra) {
    case 1: return (int)a.as.b - (int)b.as.b;
    case 2: return cmp3(IS_INT(a) ? (double)a.as.i : a.as.f, IS_INT(b) ? (double)b.as.i : b.as.f);
    case 3: {
        qstr *x = AS_STR(a), *y = AS_STR(b);
        uint32_t n = x->len < y->len ? x->len : y->len;
        int c = memcmp(x->data, y->data, n);
        return c ? (c < 0 ? -1 : 1) : (x->len > y->len) - (x->len < y->len);
    }
    default: break;
    }
    if (IS_BIGINT(a) && IS_BIGINT(b))
        return bigint_cmp(AS_BIGINT(a), AS_BIGINT(b));
    if (IS_DECIMAL(a) && IS_DECIMAL(b))
        return decimal_cmp(AS_DECIMAL(a), AS_DECIMAL(b));
    return 0;
}
