/* set.c — the hash set behind Set: Int, Float, Str and Bool elements, kept
 * in insertion order (same layout as dict.c).  An Int and a Float of equal
 * value are the same element, as they are under `==`. */
#include <math.h>
#include <string.h>

#include "vm_internal.h"

#define IDX_EMPTY (-1)
#define IDX_DELETED (-2)

qset *set_new(qvm *vm)
{
    return vm_alloc_obj(vm, sizeof(qset), QO_SET);
}

void set_free_storage(qvm *vm, qset *s)
{
    vm_realloc(vm, s->items, s->cap * sizeof(qval), 0);
    vm_realloc(vm, s->idx, s->mask ? (s->mask + 1) * sizeof(int32_t) : 0, 0);
}

static uint32_t hash_int(int64_t i)
{
    uint64_t x = (uint64_t)i;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (uint32_t)x;
}

static uint32_t set_hash(qval v)
{
    switch (v.tag) {
    case QV_BOOL: return v.as.b ? 0x9e3779b9u : 0x85ebca6bu;
    case QV_INT: return hash_int(v.as.i);
    case QV_FLOAT:
        if (isnan(v.as.f))
            return 0x7ff80000u;
        if (v.as.f == floor(v.as.f) && fabs(v.as.f) < 9.2e18)
            return hash_int((int64_t)v.as.f);
        {
            uint64_t bits;
            memcpy(&bits, &v.as.f, sizeof bits);
            return hash_int((int64_t)bits);
        }
    default: return IS_STR(v) ? str_hashcode(AS_STR(v)) : 0;
    }
}

static bool set_same(qval a, qval b)
{
    if (IS_STR(a) || IS_STR(b))
        return IS_STR(a) && IS_STR(b) && str_equal(AS_STR(a), AS_STR(b));
    if (IS_BOOL(a) || IS_BOOL(b))
        return IS_BOOL(a) && IS_BOOL(b) && a.as.b == b.as.b;
    /* NaN is one element (else it could never be found again to delete). */
    if (IS_FLOAT(a) && IS_FLOAT(b) && isnan(a.as.f) && isnan(b.as.f))
        return true;
    return vm_equal(a, b);
}

static int64_t set_find(const qset *s, qval v, uint32_t h, bool *found)
{
    *found = false;
    if (!s->mask)
        return -1;
    int64_t slot = -1;
    for (uint32_t i = h & s->mask;; i = (i + 1) & s->mask) {
        int32_t e = s->idx[i];
        if (e == IDX_EMPTY)
            return slot >= 0 ? slot : (int64_t)i;
        if (e == IDX_DELETED) {
            if (slot < 0)
                slot = i;
            continue;
        }
        if (set_same(s->items[e], v)) {
            *found = true;
            return i;
        }
    }
}

static void set_resize(qvm *vm, qset *s, uint32_t need)
{
    uint32_t ncap = 8;
    while (ncap < need)
        ncap *= 2;
    uint32_t nidx = ncap * 2;
    qval *items = vm_realloc(vm, NULL, 0, ncap * sizeof(qval));
    int32_t *idx = vm_realloc(vm, NULL, 0, nidx * sizeof(int32_t));
    memset(idx, 0xff, nidx * sizeof(int32_t));
    uint32_t n = 0;
    for (uint32_t i = 0; i < s->used; i++) {
        if (IS_UNDEF(s->items[i]))
            continue;
        items[n] = s->items[i];
        uint32_t j = set_hash(items[n]) & (nidx - 1);
        while (idx[j] != IDX_EMPTY)
            j = (j + 1) & (nidx - 1);
        idx[j] = (int32_t)n++;
    }
    set_free_storage(vm, s);
    s->items = items;
    s->idx = idx;
    s->cap = ncap;
    s->mask = nidx - 1;
    s->used = s->count = n;
}

bool set_has(const qset *s, qval v)
{
    bool found;
    set_find(s, v, set_hash(v), &found);
    return found;
}

bool set_add(qvm *vm, qset *s, qval v)
{
    uint32_t h = set_hash(v);
    bool found;
    int64_t i = set_find(s, v, h, &found);
    if (found)
        return false;
    if (s->used + 1 > s->cap) {
        set_resize(vm, s, s->count + 1 > s->cap / 2 ? s->cap * 2 : s->cap);
        i = set_find(s, v, h, &found);
    }
    s->items[s->used] = v;
    s->idx[i] = (int32_t)s->used++;
    s->count++;
    return true;
}

bool set_del(qset *s, qval v)
{
    bool found;
    int64_t i = set_find(s, v, set_hash(v), &found);
    if (!found)
        return false;
    s->items[s->idx[i]] = qv_undef();
    s->idx[i] = IDX_DELETED;
    s->count--;
    /* Trailing holes are dropped at once, so popping from the end (Set.pop,
     * Set.clear) stays linear instead of rescanning holes. */
    while (s->used && IS_UNDEF(s->items[s->used - 1]))
        s->used--;
    return true;
}
