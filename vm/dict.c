/* dict.c — the insertion-ordered string-keyed hash map behind Dict, module
 * globals and method tables.  Layout as in CPython's compact dict: a dense
 * entry array in insertion order plus a sparse index table, both in one
 * block (see store_size). */
#include <string.h>

#include "vm_internal.h"

#define IDX_EMPTY (-1)
#define IDX_DELETED (-2)

qdict *dict_new(qvm *vm)
{
    return vm_alloc_obj(vm, sizeof(qdict), QO_DICT);
}

/* Entries and index share one block, so a small Dict (up to 8 entries)
 * takes a single slot of the VM's size classes instead of two mallocs. */
static size_t store_size(uint32_t cap, uint32_t mask)
{
    return cap * sizeof(qdict_entry) + (mask ? (mask + 1) * sizeof(int32_t) : 0);
}

static int32_t *dict_idx(const qdict *d)
{
    return (int32_t *)(d->entries + d->cap);
}

static void store_alloc(qvm *vm, qdict *d, uint32_t cap, uint32_t mask)
{
    size_t size = store_size(cap, mask);
    d->store_off = 0;
    d->entries = size <= SLAB_MAX ? vm_small_alloc(vm, size, &d->store_off) : vm_realloc(vm, NULL, 0, size);
    d->cap = cap;
    d->mask = mask;
}

void dict_free_storage(qvm *vm, qdict *d)
{
    if (!d->entries)
        return;
    size_t size = store_size(d->cap, d->mask);
    if (size <= SLAB_MAX)
        vm_small_free(vm, d->entries, size, d->store_off);
    else
        vm_realloc(vm, d->entries, size, 0);
    d->entries = NULL;
}

/* Position in idx of key, or of the slot where it would go (-1 when empty table). */
static int64_t dict_find(const qdict *d, const char *key, uint32_t len, uint32_t hash, bool *found)
{
    *found = false;
    if (!d->mask)
        return -1;
    const int32_t *idx = dict_idx(d);
    int64_t slot = -1;
    for (uint32_t i = hash & d->mask;; i = (i + 1) & d->mask) {
        int32_t e = idx[i];
        if (e == IDX_EMPTY)
            return slot >= 0 ? slot : (int64_t)i;
        if (e == IDX_DELETED) {
            if (slot < 0)
                slot = i;
            continue;
        }
        const qstr *k = d->entries[e].key;
        if (str_hashcode(k) == hash && k->len == len && memcmp(k->data, key, len) == 0) {
            *found = true;
            return i;
        }
    }
}

/* Rebuild entries (dropping holes) and the index at a size fitting `need`. */
static void dict_resize(qvm *vm, qdict *d, uint32_t need)
{
    uint32_t ncap = 8;
    while (ncap < need)
        ncap *= 2;
    uint32_t nidx = ncap * 2;
    qdict old = *d;
    store_alloc(vm, d, ncap, nidx - 1);
    int32_t *idx = dict_idx(d);
    memset(idx, 0xff, nidx * sizeof(int32_t)); /* IDX_EMPTY */
    uint32_t n = 0;
    for (uint32_t i = 0; i < old.used; i++) {
        if (!old.entries[i].key)
            continue;
        d->entries[n] = old.entries[i];
        uint32_t j = str_hashcode(d->entries[n].key) & (nidx - 1);
        while (idx[j] != IDX_EMPTY)
            j = (j + 1) & (nidx - 1);
        idx[j] = (int32_t)n++;
    }
    dict_free_storage(vm, &old);
    d->used = d->count = n;
}

qdict *dict_new_sized(qvm *vm, uint32_t n)
{
    qdict *d = dict_new(vm);
    if (n)
        dict_resize(vm, d, n);
    return d;
}

bool dict_get(const qdict *d, const qstr *key, qval *out)
{
    bool found;
    int64_t i = dict_find(d, key->data, key->len, str_hashcode(key), &found);
    if (found && out)
        *out = d->entries[dict_idx(d)[i]].val;
    return found;
}

int64_t dict_index(const qdict *d, const qstr *key)
{
    bool found;
    int64_t i = dict_find(d, key->data, key->len, str_hashcode(key), &found);
    return found ? dict_idx(d)[i] : -1;
}

bool dict_get_cstr(const qdict *d, const char *key, qval *out)
{
    size_t len = strlen(key);
    bool found;
    int64_t i = dict_find(d, key, (uint32_t)len, str_hash_bytes(key, len), &found);
    if (found && out)
        *out = d->entries[dict_idx(d)[i]].val;
    return found;
}

void dict_set(qvm *vm, qdict *d, qstr *key, qval v)
{
    bool found;
    int64_t i = dict_find(d, key->data, key->len, str_hashcode(key), &found);
    if (found) {
        d->entries[dict_idx(d)[i]].val = v;
        return;
    }
    if (d->used + 1 > d->cap) {
        dict_resize(vm, d, d->count + 1 > d->cap / 2 ? d->cap * 2 : d->cap);
        i = dict_find(d, key->data, key->len, str_hashcode(key), &found);
    }
    d->entries[d->used] = (qdict_entry){key, v};
    dict_idx(d)[i] = (int32_t)d->used++;
    d->count++;
}

void dict_set_cstr(qvm *vm, qdict *d, const char *key, qval v)
{
    dict_set(vm, d, str_intern_cstr(vm, key), v);
}

/* The copy's entries are exactly the used ones: a request Dict copied from
 * the server's template is usually never grown. */
qdict *dict_shallow_copy(qvm *vm, const qdict *d)
{
    qdict *r = dict_new(vm);
    if (!d->used)
        return r;
    store_alloc(vm, r, d->used, d->mask);
    memcpy(r->entries, d->entries, d->used * sizeof(qdict_entry));
    memcpy(dict_idx(r), dict_idx(d), (d->mask + 1) * sizeof(int32_t));
    r->count = d->count;
    r->used = d->used;
    return r;
}

bool dict_del(qdict *d, const qstr *key)
{
    bool found;
    int64_t i = dict_find(d, key->data, key->len, str_hashcode(key), &found);
    if (!found)
        return false;
    int32_t *idx = dict_idx(d);
    int32_t e = idx[i];
    d->entries[e].key = NULL;
    d->entries[e].val = qv_nil();
    idx[i] = IDX_DELETED;
    d->count--;
    return true;
}
