/* dict.c — the insertion-ordered string-keyed hash map behind Dict, module
 * globals and method tables.  Layout as in CPython's compact dict: a dense
 * entry array in insertion order plus a sparse index table. */
#include <string.h>

#include "vm_internal.h"

#define IDX_EMPTY (-1)
#define IDX_DELETED (-2)

qdict *dict_new(qvm *vm)
{
    return vm_alloc_obj(vm, sizeof(qdict), QO_DICT);
}

void dict_free_storage(qvm *vm, qdict *d)
{
    vm_realloc(vm, d->entries, d->cap * sizeof(qdict_entry), 0);
    vm_realloc(vm, d->idx, d->mask ? (d->mask + 1) * sizeof(int32_t) : 0, 0);
}

/* Position in idx of key, or of the slot where it would go (-1 when empty table). */
static int64_t dict_find(const qdict *d, const char *key, uint32_t len, uint32_t hash, bool *found)
{
    *found = false;
    if (!d->mask)
        return -1;
    int64_t slot = -1;
    for (uint32_t i = hash & d->mask;; i = (i + 1) & d->mask) {
        int32_t e = d->idx[i];
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
    qdict_entry *ents = vm_realloc(vm, NULL, 0, ncap * sizeof(qdict_entry));
    int32_t *idx = vm_realloc(vm, NULL, 0, nidx * sizeof(int32_t));
    memset(idx, 0xff, nidx * sizeof(int32_t)); /* IDX_EMPTY */
    uint32_t n = 0;
    for (uint32_t i = 0; i < d->used; i++) {
        if (!d->entries[i].key)
            continue;
        ents[n] = d->entries[i];
        uint32_t j = str_hashcode(ents[n].key) & (nidx - 1);
        while (idx[j] != IDX_EMPTY)
            j = (j + 1) & (nidx - 1);
        idx[j] = (int32_t)n++;
    }
    dict_free_storage(vm, d);
    d->entries = ents;
    d->idx = idx;
    d->cap = ncap;
    d->mask = nidx - 1;
    d->used = d->count = n;
}

bool dict_get(const qdict *d, const qstr *key, qval *out)
{
    bool found;
    int64_t i = dict_find(d, key->data, key->len, str_hashcode(key), &found);
    if (found && out)
        *out = d->entries[d->idx[i]].val;
    return found;
}

int64_t dict_index(const qdict *d, const qstr *key)
{
    bool found;
    int64_t i = dict_find(d, key->data, key->len, str_hashcode(key), &found);
    return found ? d->idx[i] : -1;
}

bool dict_get_cstr(const qdict *d, const char *key, qval *out)
{
    size_t len = strlen(key);
    bool found;
    int64_t i = dict_find(d, key, (uint32_t)len, str_hash_bytes(key, len), &found);
    if (found && out)
        *out = d->entries[d->idx[i]].val;
    return found;
}

void dict_set(qvm *vm, qdict *d, qstr *key, qval v)
{
    bool found;
    int64_t i = dict_find(d, key->data, key->len, str_hashcode(key), &found);
    if (found) {
        d->entries[d->idx[i]].val = v;
        return;
    }
    if (d->used + 1 > d->cap) {
        dict_resize(vm, d, d->count + 1 > d->cap / 2 ? d->cap * 2 : d->cap);
        i = dict_find(d, key->data, key->len, str_hashcode(key), &found);
    }
    d->entries[d->used] = (qdict_entry){key, v};
    d->idx[i] = (int32_t)d->used++;
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
    r->entries = vm_realloc(vm, NULL, 0, d->used * sizeof(qdict_entry));
    r->idx = vm_realloc(vm, NULL, 0, (d->mask + 1) * sizeof(int32_t));
    memcpy(r->entries, d->entries, d->used * sizeof(qdict_entry));
    memcpy(r->idx, d->idx, (d->mask + 1) * sizeof(int32_t));
    r->count = d->count;
    r->used = r->cap = d->used;
    r->mask = d->mask;
    return r;
}

bool dict_del(qdict *d, const qstr *key)
{
    bool found;
    int64_t i = dict_find(d, key->data, key->len, str_hashcode(key), &found);
    if (!found)
        return false;
    int32_t e = d->idx[i];
    d->entries[e].key = NULL;
    d->entries[e].val = qv_nil();
    d->idx[i] = IDX_DELETED;
    d->count--;
    return true;
}
