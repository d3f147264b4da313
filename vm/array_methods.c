/* array_methods.c — the methods of Array, the static Array.new, and the
 * a[i] / a[i] = v entry points the interpreter uses.
 *
 * Error kinds follow the reference: reads past the end (a[i], get, first,
 * last, pop, shift) are RuntimeErr; writes and insert/remove_at past the end
 * are IndexErr; wrong argument kinds are TypeErr.
 *
 * Higher-order methods call back into Quest, which may run the GC and may
 * mutate the array being walked: loops re-read a->len and a->items after
 * every call, and arrays being built are rooted across calls. */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "vm.h"

/* Longest array Array.new will make (16 bytes a slot: 4 GiB). */
#define ARR_MAX_LEN (1u << 28)

/* ---- storage --------------------------------------------------------------------------- */

static void arr_reserve(qvm *vm, qarray *a, uint32_t need)
{
    if (need <= a->cap)
        return;
    uint64_t ncap = a->cap < 8 ? 8 : a->cap;
    while (ncap < need)
        ncap *= 2;
    if (ncap > UINT32_MAX)
        ncap = UINT32_MAX;
    a->items = vm_realloc(vm, a->items, a->cap * sizeof(qval), (size_t)ncap * sizeof(qval));
    a->cap = (uint32_t)ncap;
}

static void arr_insert_at(qvm *vm, qarray *a, uint32_t pos, qval v)
{
    arr_reserve(vm, a, a->len + 1);
    memmove(a->items + pos + 1, a->items + pos, (a->len - pos) * sizeof(qval));
    a->items[pos] = v;
    a->len++;
}

static qval arr_delete_at(qarray *a, uint32_t pos)
{
    qval v = a->items[pos];
    memmove(a->items + pos, a->items + pos + 1, (a->len - pos - 1) * sizeof(qval));
    a->len--;
    return v;
}

/* A new array holding items[from, to) of a. */
static qarray *arr_copy_range(qvm *vm, const qarray *a, uint32_t from, uint32_t to)
{
    qarray *r = arr_new(vm, to - from);
    if (to > from)
        memcpy(r->items, a->items + from, (to - from) * sizeof(qval));
    r->len = to - from;
    return r;
}

/* ---- indexes ---------------------------------------------------------------------------- */

/* An index argument: an Int, or a Float truncated toward zero (the
 * reference converts indexes through f64). */
static bool arr_index_arg(qvm *vm, const char *what, qval v, int64_t *out)
{
    if (IS_INT(v)) {
        *out = v.as.i;
        return true;
    }
    if (IS_FLOAT(v) && isfinite(v.as.f) && fabs(v.as.f) < 9.0e18) {
        *out = (int64_t)v.as.f;
        return true;
    }
    vm_raise(vm, E_TYPE, "%s must be Int, got %s", what, vm_cls_name(v));
    return false;
}

/* Position of index i (negative counts from the end) in an array of length
 * len, or -1 when it is out of range. */
static int64_t arr_resolve(int64_t i, uint32_t len)
{
    if (i < 0)
        i += len;
    return i >= 0 && i < (int64_t)len ? i : -1;
}

static qval arr_out_of_bounds(qvm *vm, qerr_kind kind, int64_t i, const qarray *a)
{
    return vm_raise(vm, kind, "Index %" PRId64 " out of bounds for array of length %" PRIu32,
                    i, a->len);
}

qval arr_get_index(qvm *vm, qarray *a, qval index)
{
    int64_t i;
    if (!arr_index_arg(vm, "Array index", index, &i))
        return qv_exc();
    int64_t pos = arr_resolve(i, a->len);
    if (pos < 0)
        return arr_out_of_bounds(vm, E_RUNTIME, i, a);
    return a->items[pos];
}

qval arr_set_index(qvm *vm, qarray *a, qval index, qval v)
{
    int64_t i;
    if (!arr_index_arg(vm, "Array index", index, &i))
        return qv_exc();
    int64_t pos = arr_resolve(i, a->len);
    if (pos < 0)
        return arr_out_of_bounds(vm, E_INDEX, i, a);
    a->items[pos] = v;
    return qv_nil();
}

/* ---- sorting ------------------------------------------------------------------------------ */

/* Stable merge sort by vm_compare (which never runs Quest code, so no GC
 * can see the scratch buffer).  Short runs use insertion sort. */
static void arr_msort(qval *v, qval *tmp, uint32_t n)
{
    if (n <= 16) {
        for (uint32_t i = 1; i < n; i++) {
            qval x = v[i];
            uint32_t j = i;
            for (; j > 0 && vm_compare(v[j - 1], x) > 0; j--)
                v[j] = v[j - 1];
            v[j] = x;
        }
        return;
    }
    uint32_t h = n / 2;
    arr_msort(v, tmp, h);
    arr_msort(v + h, tmp, n - h);
    if (vm_compare(v[h - 1], v[h]) <= 0)
        return;
    memcpy(tmp, v, h * sizeof(qval));
    uint32_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        v[k++] = vm_compare(v[j], tmp[i]) < 0 ? v[j++] : tmp[i++];
    while (i < h)
        v[k++] = tmp[i++];
}

void arr_sort_values(qvm *vm, qval *items, uint32_t n)
{
    if (n < 2)
        return;
    size_t size = (n / 2 + 1) * sizeof(qval);
    qval *tmp = vm_realloc(vm, NULL, 0, size);
    arr_msort(items, tmp, n);
    vm_realloc(vm, tmp, size, 0);
}

/* ---- plain methods ------------------------------------------------------------------------- */

static qval am_len(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return qv_int(AS_ARRAY(self)->len);
}

static qval am_empty(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return qv_bool(AS_ARRAY(self)->len == 0);
}

static qval am_push(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    arr_push(vm, AS_ARRAY(self), argv[0]);
    return self;
}

static qval am_pop(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    qarray *a = AS_ARRAY(self);
    if (a->len == 0)
        return vm_raise(vm, E_RUNTIME, "Cannot pop from empty array");
    return a->items[--a->len];
}

static qval am_shift(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    qarray *a = AS_ARRAY(self);
    if (a->len == 0)
        return vm_raise(vm, E_RUNTIME, "Cannot shift from empty array");
    return arr_delete_at(a, 0);
}

static qval am_unshift(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    arr_insert_at(vm, AS_ARRAY(self), 0, argv[0]);
    return self;
}

/* insert(i, x): 0 <= i <= len, or negative from the end as in a[i]. */
static qval am_insert(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qarray *a = AS_ARRAY(self);
    int64_t i;
    if (!arr_index_arg(vm, "insert index", argv[0], &i))
        return qv_exc();
    int64_t pos = i < 0 ? i + a->len : i;
    if (pos < 0 || pos > (int64_t)a->len)
        return arr_out_of_bounds(vm, E_INDEX, i, a);
    arr_insert_at(vm, a, (uint32_t)pos, argv[1]);
    return self;
}

static qval am_remove(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc;
    qarray *a = AS_ARRAY(self);
    for (uint32_t i = 0; i < a->len; i++) {
        if (vm_equal(a->items[i], argv[0])) {
            arr_delete_at(a, i);
            return qv_bool(true);
        }
    }
    return qv_bool(false);
}

static qval am_remove_at(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qarray *a = AS_ARRAY(self);
    int64_t i;
    if (!arr_index_arg(vm, "remove_at index", argv[0], &i))
        return qv_exc();
    int64_t pos = arr_resolve(i, a->len);
    if (pos < 0)
        return arr_out_of_bounds(vm, E_INDEX, i, a);
    return arr_delete_at(a, (uint32_t)pos);
}

static qval am_clear(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    AS_ARRAY(self)->len = 0;
    return self;
}

static void arr_reverse_items(qarray *a)
{
    for (uint32_t i = 0, j = a->len; i + 1 < j; i++, j--) {
        qval t = a->items[i];
        a->items[i] = a->items[j - 1];
        a->items[j - 1] = t;
    }
}

static qval am_reverse(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    arr_reverse_items(AS_ARRAY(self));
    return self;
}

static qval am_reversed(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    qarray *a = AS_ARRAY(self);
    qarray *r = arr_copy_range(vm, a, 0, a->len);
    arr_reverse_items(r);
    return qv_obj(r);
}

static qval am_sort(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    qarray *a = AS_ARRAY(self);
    arr_sort_values(vm, a->items, a->len);
    return self;
}

static qval am_sorted(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    qarray *a = AS_ARRAY(self);
    qarray *r = arr_copy_range(vm, a, 0, a->len);
    arr_sort_values(vm, r->items, r->len);
    return qv_obj(r);
}

static qval am_get(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qarray *a = AS_ARRAY(self);
    int64_t i;
    if (!arr_index_arg(vm, "get index", argv[0], &i))
        return qv_exc();
    int64_t pos = arr_resolve(i, a->len);
    if (pos < 0)
        return arr_out_of_bounds(vm, E_RUNTIME, i, a);
    return a->items[pos];
}

static qval am_first(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    qarray *a = AS_ARRAY(self);
    if (a->len == 0)
        return vm_raise(vm, E_RUNTIME, "Cannot get first element of empty array");
    return a->items[0];
}

static qval am_last(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    qarray *a = AS_ARRAY(self);
    if (a->len == 0)
        return vm_raise(vm, E_RUNTIME, "Cannot get last element of empty array");
    return a->items[a->len - 1];
}

/* A slice bound: negative counts from the end; clamped to [0, len]. */
static uint32_t arr_clamp(int64_t i, uint32_t len)
{
    if (i < 0)
        i += len;
    return i < 0 ? 0 : i > (int64_t)len ? len : (uint32_t)i;
}

static qval am_slice(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qarray *a = AS_ARRAY(self);
    int64_t from, to;
    if (!arr_index_arg(vm, "slice start", argv[0], &from) ||
        !arr_index_arg(vm, "slice end", argv[1], &to))
        return qv_exc();
    uint32_t f = arr_clamp(from, a->len), t = arr_clamp(to, a->len);
    return qv_obj(arr_copy_range(vm, a, f, f < t ? t : f));
}

static qval am_concat(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qarray *a = AS_ARRAY(self), *b;
    if (!arg_array(vm, "concat", argv[0], &b))
        return qv_exc();
    if ((uint64_t)a->len + b->len > ARR_MAX_LEN)
        return vm_raise(vm, E_VALUE, "concat: result too large");
    qarray *r = arr_copy_range(vm, a, 0, a->len);
    arr_reserve(vm, r, a->len + b->len);
    if (b->len)
        memcpy(r->items + a->len, b->items, b->len * sizeof(qval));
    r->len = a->len + b->len;
    return qv_obj(r);
}

/* join(sep): elements in str() form.  A user type's str() may run Quest
 * code; the receiver is rooted and the text accumulates in C memory. */
static qval am_join(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qarray *a = AS_ARRAY(self);
    qstr *sep;
    if (!arg_str(vm, "join", argv[0], &sep))
        return qv_exc();
    qbuf b;
    buf_init(&b);
    for (uint32_t i = 0; i < a->len; i++) {
        qstr *s = IS_STR(a->items[i]) ? AS_STR(a->items[i]) : vm_to_str(vm, a->items[i]);
        if (!s) {
            buf_free(&b);
            return qv_exc();
        }
        if (i > 0)
            buf_append(&b, sep->data, sep->len);
        buf_append(&b, s->data, s->len);
    }
    return qv_obj(buf_to_str(vm, &b));
}

static qval am_contains(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc;
    qarray *a = AS_ARRAY(self);
    for (uint32_t i = 0; i < a->len; i++)
        if (vm_equal(a->items[i], argv[0]))
            return qv_bool(true);
    return qv_bool(false);
}

static qval am_index_of(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc;
    qarray *a = AS_ARRAY(self);
    for (uint32_t i = 0; i < a->len; i++)
        if (vm_equal(a->items[i], argv[0]))
            return qv_int(i);
    return qv_int(-1);
}

static qval am_count(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc;
    qarray *a = AS_ARRAY(self);
    int64_t n = 0;
    for (uint32_t i = 0; i < a->len; i++)
        n += vm_equal(a->items[i], argv[0]);
    return qv_int(n);
}

/* ---- higher-order methods ----------------------------------------------------------------- */

static bool arr_fn_arg(qvm *vm, const char *fname, qval fn)
{
    if (vm_is_callable(fn))
        return true;
    vm_raise(vm, E_TYPE, "%s expects a function, got %s", fname, vm_cls_name(fn));
    return false;
}

/* f(elem), or f(elem, index) when f declares two parameters. */
static qval arr_apply(qvm *vm, qval fn, bool with_index, qval elem, uint32_t i)
{
    qval args[2] = {elem, qv_int(i)};
    return vm_call(vm, fn, with_index ? 2 : 1, args);
}

static qval am_map(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qarray *a = AS_ARRAY(self);
    qval fn = argv[0];
    if (!arr_fn_arg(vm, "map", fn))
        return qv_exc();
    bool with_index = vm_fn_arity(fn) == 2;
    qarray *out = arr_new(vm, a->len);
    vm_push_root(vm, qv_obj(out));
    for (uint32_t i = 0; i < a->len; i++) {
        qval r = arr_apply(vm, fn, with_index, a->items[i], i);
        if (IS_EXC(r)) {
            vm_pop_roots(vm, 1);
            return r;
        }
        arr_push(vm, out, r);
    }
    vm_pop_roots(vm, 1);
    return qv_obj(out);
}

static qval am_filter(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qarray *a = AS_ARRAY(self);
    qval fn = argv[0];
    if (!arr_fn_arg(vm, "filter", fn))
        return qv_exc();
    bool with_index = vm_fn_arity(fn) == 2;
    qarray *out = arr_new(vm, 0);
    vm_push_root(vm, qv_obj(out));
    for (uint32_t i = 0; i < a->len; i++) {
        qval elem = a->items[i];
        vm_push_root(vm, elem); /* the callback may drop it from the array */
        qval r = arr_apply(vm, fn, with_index, elem, i);
        vm_pop_roots(vm, 1);
        if (IS_EXC(r)) {
            vm_pop_roots(vm, 1);
            return r;
        }
        if (vm_truthy(r))
            arr_push(vm, out, elem);
    }
    vm_pop_roots(vm, 1);
    return qv_obj(out);
}

static qval am_each(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qarray *a = AS_ARRAY(self);
    qval fn = argv[0];
    if (!arr_fn_arg(vm, "each", fn))
        return qv_exc();
    bool with_index = vm_fn_arity(fn) == 2;
    for (uint32_t i = 0; i < a->len; i++) {
        qval r = arr_apply(vm, fn, with_index, a->items[i], i);
        if (IS_EXC(r))
            return r;
    }
    return qv_nil();
}

static qval am_reduce(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qarray *a = AS_ARRAY(self);
    qval fn = argv[0], acc = argv[1];
    if (!arr_fn_arg(vm, "reduce", fn))
        return qv_exc();
    for (uint32_t i = 0; i < a->len; i++) {
        qval args[2] = {acc, a->items[i]};
        acc = vm_call(vm, fn, 2, args);
        if (IS_EXC(acc))
            return acc;
    }
    return acc;
}

/* The position of the first element for which fn is truthy: >= 0 found,
 * -1 none, -2 the callback raised.  The element is stored in *found. */
static int64_t arr_search(qvm *vm, qarray *a, qval fn, qval *found)
{
    bool with_index = vm_fn_arity(fn) == 2;
    for (uint32_t i = 0; i < a->len; i++) {
        qval elem = a->items[i];
        vm_push_root(vm, elem);
        qval r = arr_apply(vm, fn, with_index, elem, i);
        vm_pop_roots(vm, 1);
        if (IS_EXC(r))
            return -2;
        if (vm_truthy(r)) {
            *found = elem;
            return i;
        }
    }
    return -1;
}

static qval am_any(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qval elem;
    if (!arr_fn_arg(vm, "any", argv[0]))
        return qv_exc();
    int64_t pos = arr_search(vm, AS_ARRAY(self), argv[0], &elem);
    return pos == -2 ? qv_exc() : qv_bool(pos >= 0);
}

static qval am_all(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qarray *a = AS_ARRAY(self);
    qval fn = argv[0];
    if (!arr_fn_arg(vm, "all", fn))
        return qv_exc();
    bool with_index = vm_fn_arity(fn) == 2;
    for (uint32_t i = 0; i < a->len; i++) {
        qval r = arr_apply(vm, fn, with_index, a->items[i], i);
        if (IS_EXC(r))
            return r;
        if (!vm_truthy(r))
            return qv_bool(false);
    }
    return qv_bool(true);
}

static qval am_find(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qval elem = qv_nil();
    if (!arr_fn_arg(vm, "find", argv[0]))
        return qv_exc();
    int64_t pos = arr_search(vm, AS_ARRAY(self), argv[0], &elem);
    return pos == -2 ? qv_exc() : elem;
}

static qval am_find_index(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qval elem;
    if (!arr_fn_arg(vm, "find_index", argv[0]))
        return qv_exc();
    int64_t pos = arr_search(vm, AS_ARRAY(self), argv[0], &elem);
    return pos == -2 ? qv_exc() : qv_int(pos);
}

/* ---- Array.new ------------------------------------------------------------------------------- */

/* Array.new(), Array.new(n) (n nils), Array.new(n, v) (n times the same v). */
static qval am_new(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self;
    int64_t n = 0;
    if (argc >= 1 && !arr_index_arg(vm, "Array.new count", argv[0], &n))
        return qv_exc();
    if (n < 0 || n > ARR_MAX_LEN)
        return vm_raise(vm, E_VALUE, "Array.new count must be between 0 and %u, got %" PRId64,
                        ARR_MAX_LEN, n);
    qval fill = argc >= 2 ? argv[1] : qv_nil();
    qarray *a = arr_new(vm, (uint32_t)n);
    for (int64_t i = 0; i < n; i++)
        a->items[i] = fill;
    a->len = (uint32_t)n;
    return qv_obj(a);
}

static const qmethod_def arr_methods[] = {
    {"len", am_len, 0, 0, false},
    {"empty", am_empty, 0, 0, false},
    {"push", am_push, 1, 1, false},
    {"pop", am_pop, 0, 0, false},
    {"shift", am_shift, 0, 0, false},
    {"unshift", am_unshift, 1, 1, false},
    {"insert", am_insert, 2, 2, false},
    {"remove", am_remove, 1, 1, false},
    {"remove_at", am_remove_at, 1, 1, false},
    {"clear", am_clear, 0, 0, false},
    {"reverse", am_reverse, 0, 0, false},
    {"reversed", am_reversed, 0, 0, false},
    {"sort", am_sort, 0, 0, false},
    {"sorted", am_sorted, 0, 0, false},
    {"get", am_get, 1, 1, false},
    {"first", am_first, 0, 0, false},
    {"last", am_last, 0, 0, false},
    {"slice", am_slice, 2, 2, false},
    {"concat", am_concat, 1, 1, false},
    {"join", am_join, 1, 1, false},
    {"contains", am_contains, 1, 1, false},
    {"index_of", am_index_of, 1, 1, false},
    {"count", am_count, 1, 1, false},
    {"map", am_map, 1, 1, false},
    {"filter", am_filter, 1, 1, false},
    {"each", am_each, 1, 1, false},
    {"reduce", am_reduce, 2, 2, false},
    {"any", am_any, 1, 1, false},
    {"all", am_all, 1, 1, false},
    {"find", am_find, 1, 1, false},
    {"find_index", am_find_index, 1, 1, false},
    {0},
};

static const qmethod_def arr_statics[] = {
    {"new", am_new, 0, 2, false},
    {0},
};

void arr_init_class(qvm *vm, qtype *t)
{
    vm_add_methods(vm, t, arr_methods);
    vm_add_statics(vm, t, arr_statics);
}
