/* dict_test.c — the hash containers (vm/dict.c, vm/set.c) under long runs
 * of random operations checked against a plain model, plus the array
 * helpers the interpreter uses (vm/array_methods.c). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm/vm.h"
#include "tap.h"

#define NKEYS 5000
#define NOPS 100000

/* xorshift64*: deterministic, so a failure reproduces. */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

/* The model of an insertion-ordered map/set: per key, whether it is present,
 * its value, and when it was (re)inserted. */
typedef struct model {
    bool present[NKEYS];
    int64_t value[NKEYS];
    uint64_t seq[NKEYS];
    uint64_t next_seq;
    uint32_t count;
} model;

static void model_set(model *m, int k, int64_t v)
{
    if (!m->present[k]) {
        m->present[k] = true;
        m->seq[k] = m->next_seq++;
        m->count++;
    }
    m->value[k] = v;
}

static bool model_del(model *m, int k)
{
    if (!m->present[k])
        return false;
    m->present[k] = false;
    m->count--;
    return true;
}

/* A fresh (not interned) key string, so lookups compare by content. */
static qstr *key_str(qvm *vm, int k)
{
    char buf[32];
    int n = snprintf(buf, sizeof buf, "key-%d", k);
    return str_new(vm, buf, (size_t)n);
}

static int key_index(const qstr *s)
{
    return atoi(s->data + 4);
}

/* Iterating the dict gives exactly the model's keys and values, in the
 * order they were first inserted. */
static bool dict_matches(const qdict *d, const model *m)
{
    uint32_t seen = 0;
    uint64_t last_seq = 0;
    for (uint32_t i = 0; i < d->used; i++) {
        const qdict_entry *e = &d->entries[i];
        if (!e->key)
            continue;
        int k = key_index(e->key);
        if (k < 0 || k >= NKEYS || !m->present[k] || !IS_INT(e->val) ||
            e->val.as.i != m->value[k] || (seen && m->seq[k] <= last_seq))
            return false;
        last_seq = m->seq[k];
        seen++;
    }
    return seen == m->count && d->count == m->count;
}

static void test_dict_random(qvm *vm)
{
    static model m;
    memset(&m, 0, sizeof m);
    uint64_t s = 0x9e3779b97f4a7c15ULL;
    qdict *d = dict_new(vm);
    vm_push_root(vm, qv_obj(d));
    bool lookups_ok = true, dels_ok = true, order_ok = true;

    for (int op = 0; op < NOPS; op++) {
        int k = (int)(rnd(&s) % NKEYS);
        switch (rnd(&s) % 4) {
        case 0: case 1:
            dict_set(vm, d, key_str(vm, k), qv_int(op));
            model_set(&m, k, op);
            break;
        case 2:
            dels_ok &= dict_del(d, key_str(vm, k)) == model_del(&m, k);
            break;
        default: {
            qval v = qv_nil();
            bool found = dict_get(d, key_str(vm, k), &v);
            lookups_ok &= found == m.present[k] && (!found || v.as.i == m.value[k]);
        }
        }
        if (op % 10000 == 9999)
            order_ok &= dict_matches(d, &m);
    }
    ok(lookups_ok, "dict: 100k random ops, every lookup agrees with the model");
    ok(dels_ok, "dict: dict_del reports presence as the model does");
    ok(order_ok, "dict: contents and insertion order match the model throughout");

    vm_gc(vm);
    ok(dict_matches(d, &m), "dict: a rooted dict survives a collection intact");

    bool all_gone = true;
    for (int k = 0; k < NKEYS; k++) {
        bool had = m.present[k];
        all_gone &= dict_del(d, key_str(vm, k)) == had;
        model_del(&m, k);
    }
    is_int(d->count, 0, "dict: deleting every key empties it");
    ok(all_gone && !dict_get_cstr(d, "key-1", NULL), "dict: nothing left to find");

    dict_set_cstr(vm, d, "a", qv_int(1));
    dict_set_cstr(vm, d, "b", qv_int(2));
    dict_set_cstr(vm, d, "a", qv_int(3));
    ok(d->count == 2 && d->entries[d->used - 2].key && d->entries[d->used - 1].key &&
       strcmp(d->entries[d->used - 1].key->data, "b") == 0,
       "dict: updating a key keeps its position");
    vm_pop_roots(vm, 1);
}

/* Set elements for the random test: ids map to Ints, Floats, Strs, Bools. */
static qval set_elem(qvm *vm, int k)
{
    switch (k % 4) {
    case 0: return qv_int(k);
    case 1: return qv_float(k + 0.5);
    case 2: {
        char buf[32];
        int n = snprintf(buf, sizeof buf, "s%d", k);
        return qv_obj(str_new(vm, buf, (size_t)n));
    }
    default: return qv_bool(k == 3); /* see set_canon */
    }
}

static int set_elem_id(qval v)
{
    if (IS_INT(v))
        return (int)v.as.i;
    if (IS_FLOAT(v))
        return (int)floor(v.as.f);
    if (IS_STR(v))
        return atoi(AS_STR(v)->data + 1);
    return v.as.b ? 3 : 7;
}

/* Bools collapse to two ids (3 = true, 7 = false); every other id with
 * k % 4 == 3 is the same element as id 7. */
static int set_canon(int k)
{
    return k % 4 == 3 ? (k == 3 ? 3 : 7) : k;
}

static bool set_matches(const qset *s, const model *m)
{
    uint32_t seen = 0;
    uint64_t last_seq = 0;
    for (uint32_t i = 0; i < s->used; i++) {
        if (IS_UNDEF(s->items[i]))
            continue;
        int k = set_elem_id(s->items[i]);
        if (k < 0 || k >= NKEYS || !m->present[k] || (seen && m->seq[k] <= last_seq))
            return false;
        last_seq = m->seq[k];
        seen++;
    }
    return seen == m->count && s->count == m->count;
}

static void test_set_random(qvm *vm)
{
    static model m;
    memset(&m, 0, sizeof m);
    uint64_t s = 0x2545f4914f6cdd1dULL;
    qset *set = set_new(vm);
    vm_push_root(vm, qv_obj(set));
    bool adds_ok = true, dels_ok = true, has_ok = true, order_ok = true;

    for (int op = 0; op < NOPS; op++) {
        int k = set_canon((int)(rnd(&s) % NKEYS));
        qval v = set_elem(vm, k);
        switch (rnd(&s) % 4) {
        case 0: case 1: {
            bool fresh = !m.present[k];
            adds_ok &= set_add(vm, set, v) == fresh;
            model_set(&m, k, 0);
            break;
        }
        case 2:
            dels_ok &= set_del(set, v) == model_del(&m, k);
            break;
        default:
            has_ok &= set_has(set, v) == m.present[k];
        }
        if (op % 10000 == 9999)
            order_ok &= set_matches(set, &m);
    }
    ok(adds_ok, "set: 100k random ops, set_add reports newness as the model does");
    ok(dels_ok, "set: set_del reports presence as the model does");
    ok(has_ok, "set: every membership test agrees with the model");
    ok(order_ok, "set: contents and insertion order match the model throughout");

    vm_gc(vm);
    ok(set_matches(set, &m), "set: a rooted set survives a collection intact");

    /* Deleting from the newest end must not leave holes behind. */
    bool trimmed = true;
    while (set->count) {
        qval last = set->items[set->used - 1];
        trimmed &= !IS_UNDEF(last) && set_del(set, last);
        trimmed &= set->used == 0 || !IS_UNDEF(set->items[set->used - 1]);
    }
    ok(trimmed && set->used == 0, "set: deleting from the end trims holes (pop/clear are linear)");
    vm_pop_roots(vm, 1);
}

static void test_set_elements(qvm *vm)
{
    qset *s = set_new(vm);
    set_add(vm, s, qv_int(3));
    ok(!set_add(vm, s, qv_float(3.0)), "set: 3 and 3.0 are one element (as under ==)");
    ok(set_add(vm, s, qv_bool(true)), "set: true is not 1");
    ok(set_add(vm, s, qv_obj(str_cstr(vm, "3"))), "set: \"3\" is not 3");
    ok(set_has(s, qv_obj(str_cstr(vm, "3"))), "set: strings are found by content");
    ok(set_add(vm, s, qv_float(NAN)) && !set_add(vm, s, qv_float(NAN)),
       "set: NaN is added once");
    ok(set_del(s, qv_float(NAN)), "set: NaN can be deleted");
    is_int(s->count, 3, "set: three elements left");
}

/* ---- array helpers ----------------------------------------------------------------------- */

static bool raised(qvm *vm, qerr_kind kind)
{
    qexc *e = vm_take_exc(vm);
    return e && e->type == vm_err_type(vm, kind);
}

static void test_array_index(qvm *vm)
{
    qarray *a = arr_new(vm, 0);
    for (int i = 0; i < 5; i++)
        arr_push(vm, a, qv_int(i * 10));
    is_int(arr_get_index(vm, a, qv_int(1)).as.i, 10, "a[1]");
    is_int(arr_get_index(vm, a, qv_int(-1)).as.i, 40, "a[-1] is the last element");
    is_int(arr_get_index(vm, a, qv_float(2.9)).as.i, 20, "a Float index truncates");
    ok(IS_EXC(arr_get_index(vm, a, qv_int(5))) && raised(vm, E_RUNTIME),
       "a[len] raises RuntimeErr");
    ok(IS_EXC(arr_get_index(vm, a, qv_int(-6))) && raised(vm, E_RUNTIME),
       "a[-len-1] raises RuntimeErr");
    ok(IS_EXC(arr_get_index(vm, a, qv_nil())) && raised(vm, E_TYPE), "a[nil] raises TypeErr");
    ok(IS_NIL(arr_set_index(vm, a, qv_int(-2), qv_int(99))) && a->items[3].as.i == 99,
       "a[-2] = 99");
    ok(IS_EXC(arr_set_index(vm, a, qv_int(10), qv_int(1))) && raised(vm, E_INDEX),
       "a[10] = x raises IndexErr");
    ok(IS_EXC(arr_set_index(vm, a, qv_int(-10), qv_int(1))) && raised(vm, E_INDEX),
       "a[-10] = x raises IndexErr");
}

static int cmp_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

static void test_sort(qvm *vm)
{
    enum { N = 20000 };
    static int64_t want[N];
    static qval vals[N];
    uint64_t s = 42;
    for (int i = 0; i < N; i++) {
        want[i] = (int64_t)(rnd(&s) % 1000) - 500;
        vals[i] = qv_int(want[i]);
    }
    qsort(want, N, sizeof want[0], cmp_i64);
    arr_sort_values(vm, vals, N);
    bool same = true;
    for (int i = 0; i < N; i++)
        same &= vals[i].as.i == want[i];
    ok(same, "sort: 20k random Ints in order");

    /* 1 and 1.0 compare equal: a stable sort keeps them in input order. */
    qval mix[40];
    for (int i = 0; i < 40; i++)
        mix[i] = i % 3 == 0 ? qv_int(1) : i % 3 == 1 ? qv_float(1.0) : qv_int(i % 2 ? 0 : 2);
    qval before[40];
    memcpy(before, mix, sizeof mix);
    arr_sort_values(vm, mix, 40);
    int j = 0;
    bool stable = true;
    for (int i = 0; i < 40; i++) {
        if (!(IS_FLOAT(before[i]) || before[i].as.i == 1))
            continue;
        while (j < 40 && !(IS_FLOAT(mix[j]) || mix[j].as.i == 1))
            j++;
        stable &= j < 40 && mix[j].tag == before[i].tag;
        j++;
    }
    ok(stable, "sort: equal elements keep their order (stable)");

    qval kinds[] = {qv_obj(str_cstr(vm, "b")), qv_float(2.5), qv_bool(true), qv_nil(),
                    qv_int(2), qv_obj(str_cstr(vm, "a")), qv_bool(false)};
    arr_sort_values(vm, kinds, 7);
    ok(IS_NIL(kinds[0]) && IS_BOOL(kinds[1]) && !kinds[1].as.b && kinds[2].as.b &&
       IS_INT(kinds[3]) && IS_FLOAT(kinds[4]) && IS_STR(kinds[5]) &&
       AS_STR(kinds[5])->data[0] == 'a' && IS_STR(kinds[6]),
       "sort: mixed kinds order nil < Bool < numbers < Str");
}

int main(void)
{
    qvm *vm = vm_new(NULL);
    test_dict_random(vm);
    test_set_random(vm);
    test_set_elements(vm);
    test_array_index(vm);
    test_sort(vm);
    vm_free(vm);
    return done_testing();
}
