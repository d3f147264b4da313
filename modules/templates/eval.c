/* eval.c — evaluating template expressions, with Tera's rules:
 *
 *  - An undefined name is an error in {{ }}, but false as a condition
 *    (`{% if user.email %}`), true under `not`, and replaced by
 *    `default(value=...)` when that is its first filter (nil too).
 *  - Arithmetic: Int with Int stays Int (overflow is an error), anything
 *    with a Float is a Float; `/` always divides as floats and gives an Int
 *    back when the quotient is whole.  Comparisons with < > need numbers;
 *    == compares numbers by value and everything else structurally.
 *  - `~` joins strings and numbers only.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "modules/templates/tpl.h"

bool tpl_norm(tpl_rs *rs, uint32_t line, uint32_t col, qval v, qval *out)
{
    *out = v;
    if (!IS_OBJ(v) || IS_STR(v) || IS_DICT(v) || IS_ARRAY(v)) /* the common, unchanged case */
        return true;
    if (tpl_shape(rs->vm, v, out))
        return true;
    return tpl_fail(rs, line, col, "Cannot convert a %s to a template value", vm_cls_name(v));
}

/* Is this a variable, maybe filtered (Tera's "ident" expressions)? */
static bool ev_is_var_chain(const tpl_expr *e)
{
    while (e && e->kind == X_FILTER)
        e = e->u.call.target;
    return e && e->kind == X_VAR;
}

/* ---- variables -------------------------------------------------------------------------- */

typedef enum { VAR_FOUND, VAR_UNDEFINED, VAR_ERROR } var_result;

/* A [expr] segment evaluated into a static one. */
static bool ev_dyn_seg(tpl_rs *rs, const tpl_expr *at, const tpl_seg *seg, tpl_seg *out)
{
    qval k;
    if (!tpl_eval(rs, seg->dyn, &k) || !tpl_norm(rs, at->line, at->col, k, &k))
        return false;
    out->dyn = NULL;
    out->index = -1;
    if (IS_STR(k)) {
        out->key = AS_STR(k);
        const char *s = out->key->data;
        if (out->key->len && out->key->len <= 18 && (s[0] != '0' || out->key->len == 1) &&
            strspn(s, "0123456789") == out->key->len)
            out->index = strtoll(s, NULL, 10);
        return true;
    }
    if (IS_INT(k) && k.as.i >= 0) {
        out->index = k.as.i;
        out->key = str_from_int(rs->vm, k.as.i);
        return true;
    }
    if (IS_NUM(k)) {
        out->key = tpl_to_str(rs->vm, k);
        return true;
    }
    qbuf scratch;
    buf_init(&scratch);
    tpl_fail(rs, seg->dyn->line, seg->dyn->col,
             "Only variables evaluating to String or Number can be used as index (got `%s`)",
             tpl_describe(rs->vm, &scratch, k));
    buf_free(&scratch);
    return false;
}

static var_result ev_var(tpl_rs *rs, const tpl_expr *e, qval *out)
{
    uint32_t i = 0;
    qval v;
    const tpl_seg *segs = e->u.var.segs;
    if (e->u.var.root == rs->names.loop && e->u.var.nsegs && !segs[0].dyn &&
        tpl_loop_field(rs, segs[0].key, &v))
        i = 1;
    else if (!tpl_lookup(rs, e->u.var.root, &v))
        return VAR_UNDEFINED;
    for (; i < e->u.var.nsegs; i++) {
        if (!tpl_norm(rs, e->line, e->col, v, &v))
            return VAR_ERROR;
        tpl_seg dyn;
        const tpl_seg *seg = &segs[i];
        if (seg->dyn) {
            if (!ev_dyn_seg(rs, e, seg, &dyn))
                return VAR_ERROR;
            seg = &dyn;
        }
        if (!tpl_get_attr(v, seg, &v))
            return VAR_UNDEFINED;
    }
    return tpl_norm(rs, e->line, e->col, v, out) ? VAR_FOUND : VAR_ERROR;
}

static bool ev_var_value(tpl_rs *rs, const tpl_expr *e, qval *out)
{
    var_result r = ev_var(rs, e, out);
    if (r == VAR_ERROR)
        return false;
    if (e->u.var.dflt && (r == VAR_UNDEFINED || IS_NIL(*out)))
        return tpl_eval(rs, e->u.var.dflt, out);
    if (r == VAR_FOUND)
        return true;
    return tpl_fail(rs, e->line, e->col, "Variable `%.*s` not found in context while rendering '%s'",
                    (int)e->u.var.text_len, e->u.var.text, rs->where->name->data);
}

/* ---- operators ----------------------------------------------------------------------------- */

static bool ev_number(tpl_rs *rs, const tpl_expr *e, qval *out)
{
    if (!tpl_eval(rs, e, out))
        return false;
    if (IS_NUM(*out))
        return true;
    if (e->kind == X_VAR)
        return tpl_fail(rs, e->line, e->col,
                        "Variable `%.*s` was used in a math operation but is not a number",
                        (int)e->u.var.text_len, e->u.var.text);
    qbuf scratch;
    buf_init(&scratch);
    tpl_fail(rs, e->line, e->col, "Tried to do math with a value that is not a number: `%s`",
             tpl_describe(rs->vm, &scratch, *out));
    buf_free(&scratch);
    return false;
}

static double ev_f(qval v)
{
    return IS_INT(v) ? (double)v.as.i : v.as.f;
}

static bool ev_int_math(tpl_rs *rs, const tpl_expr *e, int64_t a, int64_t b, qval *out)
{
    int64_t r = 0;
    bool overflow = false;
    switch (e->op) {
    case '+': overflow = __builtin_add_overflow(a, b, &r); break;
    case '-': overflow = __builtin_sub_overflow(a, b, &r); break;
    case '*': overflow = __builtin_mul_overflow(a, b, &r); break;
    default: /* % */
        if (b == 0)
            return tpl_fail(rs, e->line, e->col, "Tried to do a modulo by zero: %lld %% %lld",
                            (long long)a, (long long)b);
        r = b == -1 ? 0 : a % b;
    }
    if (overflow)
        return tpl_fail(rs, e->line, e->col, "%lld %c %lld results in an out of bounds i64",
                        (long long)a, e->op == '*' ? 'x' : e->op, (long long)b);
    *out = qv_int(r);
    return true;
}

static bool ev_math(tpl_rs *rs, const tpl_expr *e, qval *out)
{
    qval a, b;
    if (!ev_number(rs, e->u.bin.a, &a) || !ev_number(rs, e->u.bin.b, &b))
        return false;
    if (e->op == '/') {
        double q = ev_f(a) / ev_f(b);
        if (isnan(q) || isinf(q))
            *out = qv_obj(str_cstr(rs->vm, "NaN"));
        else if (q == round(q) && fabs(q) < 9.2e18)
            *out = qv_int((int64_t)q);
        else
            *out = qv_float(q);
        return true;
    }
    if (IS_INT(a) && IS_INT(b))
        return ev_int_math(rs, e, a.as.i, b.as.i, out);
    double x = ev_f(a), y = ev_f(b), r;
    switch (e->op) {
    case '+': r = x + y; break;
    case '-': r = x - y; break;
    case '*': r = x * y; break;
    default: r = fmod(x, y); break;
    }
    *out = isnan(r) ? qv_obj(str_cstr(rs->vm, "NaN")) : qv_float(r);
    return true;
}

static bool ev_neg(tpl_rs *rs, const tpl_expr *e, qval *out)
{
    qval a;
    if (!ev_number(rs, e->u.bin.a, &a))
        return false;
    if (IS_INT(a)) {
        if (a.as.i == INT64_MIN)
            return tpl_fail(rs, e->line, e->col, "-%lld results in an out of bounds i64",
                            (long long)a.as.i);
        *out = qv_int(-a.as.i);
    } else {
        *out = qv_float(-a.as.f);
    }
    return true;
}

static bool ev_compare(tpl_rs *rs, const tpl_expr *e, bool *out)
{
    qval a, b;
    if (e->op == OP_EQ || e->op == OP_NE) {
        if (!tpl_eval(rs, e->u.bin.a, &a) || !tpl_eval(rs, e->u.bin.b, &b))
            return false;
        *out = tpl_equal(a, b) == (e->op == OP_EQ);
        return true;
    }
    if (!ev_number(rs, e->u.bin.a, &a) || !ev_number(rs, e->u.bin.b, &b))
        return false;
    double x = ev_f(a), y = ev_f(b);
    switch (e->op) {
    case '<': *out = x < y; break;
    case '>': *out = x > y; break;
    case OP_LE: *out = x <= y; break;
    default: *out = x >= y; break;
    }
    return true;
}

static bool ev_in(tpl_rs *rs, const tpl_expr *e, bool *out)
{
    qval a, b;
    if (!tpl_eval(rs, e->u.bin.a, &a) || !tpl_eval(rs, e->u.bin.b, &b))
        return false;
    bool found = false;
    if (IS_ARRAY(b)) {
        qarray *arr = AS_ARRAY(b);
        for (uint32_t i = 0; i < arr->len && !found; i++) {
            qval item;
            found = tpl_shape(rs->vm, arr->items[i], &item) && tpl_equal(a, item);
        }
    } else if (IS_STR(b) || tpl_is_object(b)) {
        if (!IS_STR(a))
            return tpl_fail(rs, e->line, e->col, "Tried to check if a %s is in a %s, but it isn't a string",
                            vm_cls_name(a), IS_STR(b) ? "string" : "object");
        if (IS_STR(b)) {
            qstr *h = AS_STR(b), *n = AS_STR(a);
            found = memmem(h->data, h->len, n->data, n->len) != NULL;
        } else {
            found = tpl_object_get(b, AS_STR(a), NULL);
        }
    } else {
        return tpl_fail(rs, e->line, e->col,
                        "The `in` operator only supports strings, arrays and objects.");
    }
    *out = found != e->negated;
    return true;
}

static bool ev_concat(tpl_rs *rs, const tpl_expr *e, qval *out)
{
    qbuf b;
    buf_init(&b);
    for (uint32_t i = 0; i < e->u.list.n; i++) {
        const tpl_expr *item = e->u.list.items[i];
        qval v;
        if (!tpl_eval(rs, item, &v)) {
            buf_free(&b);
            return false;
        }
        if (!IS_STR(v) && !IS_NUM(v)) {
            buf_free(&b);
            return tpl_fail(rs, item->line, item->col,
                            "Tried to concat a value that is not a string or a number");
        }
        tpl_print(rs->vm, &b, v);
    }
    *out = qv_obj(buf_to_str(rs->vm, &b));
    return true;
}

static bool ev_array(tpl_rs *rs, const tpl_expr *e, qval *out)
{
    qarray *a = arr_new(rs->vm, e->u.list.n);
    for (uint32_t i = 0; i < e->u.list.n; i++) {
        qval v;
        if (!tpl_eval(rs, e->u.list.items[i], &v))
            return false;
        arr_push(rs->vm, a, v);
    }
    *out = qv_obj(a);
    return true;
}

/* ---- filters, tests, functions ------------------------------------------------------------------ */

/* Evaluate the arguments in their parameter slots (absent ones: undef). */
static bool ev_args(tpl_rs *rs, const tpl_expr *e, qval *args)
{
    for (uint32_t i = 0; i < TPL_MAX_PARAMS; i++)
        args[i] = qv_undef();
    for (uint32_t i = 0; i < e->u.call.nargs; i++) {
        const tpl_expr *a = e->u.call.args[i].value;
        if (a && !tpl_eval(rs, a, &args[i]))
            return false;
    }
    return true;
}

static bool ev_filter(tpl_rs *rs, const tpl_expr *e, qval *out)
{
    qval v, args[TPL_MAX_PARAMS];
    if (!tpl_eval(rs, e->u.call.target, &v))
        return false;
    if (e->op == tpl_filter_safe) {
        *out = v;
        return true;
    }
    if (!ev_args(rs, e, args))
        return false;
    return tpl_filters[e->op].filter(rs, e, v, args, out);
}

static bool ev_test(tpl_rs *rs, const tpl_expr *e, bool *out)
{
    qval v = qv_undef(), args[TPL_MAX_PARAMS];
    const tpl_expr *target = e->u.call.target;
    if (target->kind == X_VAR) {
        if (ev_var(rs, target, &v) == VAR_ERROR)
            return false;
    } else if (!tpl_eval(rs, target, &v)) {
        return false;
    }
    for (uint32_t i = 0; i < e->u.call.nargs; i++)
        if (!tpl_eval(rs, e->u.call.args[i].value, &args[i]))
            return false;
    if (!tpl_tests[e->op].test(rs, e, v, args, e->u.call.nargs, out))
        return false;
    *out = *out != e->negated;
    return true;
}

static bool ev_call(tpl_rs *rs, const tpl_expr *e, qval *out)
{
    qval args[TPL_MAX_PARAMS];
    if (!ev_args(rs, e, args))
        return false;
    return tpl_functions[e->op].func(rs, e, args, out);
}

/* ---- entry points ---------------------------------------------------------------------------------- */

/* Expressions evaluated inside one another at most (long `a + b + c ...`
 * chains and nested macro calls make deep trees): the C stack's bound. */
enum { MAX_EVAL_DEPTH = 500 };

static bool ev_enter(tpl_rs *rs, const tpl_expr *e)
{
    if (++rs->eval_depth <= MAX_EVAL_DEPTH)
        return true;
    return tpl_fail(rs, e->line, e->col, "expression nested more than %d levels deep", MAX_EVAL_DEPTH);
}

static bool ev_expr(tpl_rs *rs, const tpl_expr *e, qval *out);
static bool ev_bool(tpl_rs *rs, const tpl_expr *e, bool *out);

bool tpl_eval(tpl_rs *rs, const tpl_expr *e, qval *out)
{
    bool ok = ev_enter(rs, e) && ev_expr(rs, e, out);
    rs->eval_depth--;
    return ok;
}

bool tpl_eval_bool(tpl_rs *rs, const tpl_expr *e, bool *out)
{
    bool ok = ev_enter(rs, e) && ev_bool(rs, e, out);
    rs->eval_depth--;
    return ok;
}

static bool ev_expr(tpl_rs *rs, const tpl_expr *e, qval *out)
{
    bool b;
    switch ((tpl_expr_kind)e->kind) {
    case X_CONST: *out = e->u.k; return true;
    case X_VAR: return ev_var_value(rs, e, out);
    case X_ARRAY: return ev_array(rs, e, out);
    case X_CONCAT: return ev_concat(rs, e, out);
    case X_MATH: return ev_math(rs, e, out);
    case X_NEG: return ev_neg(rs, e, out);
    case X_FILTER: return ev_filter(rs, e, out);
    case X_CALL: return ev_call(rs, e, out);
    case X_MACRO: return tpl_call_macro(rs, e, out);
    case X_CMP:
        if (!ev_compare(rs, e, &b))
            return false;
        break;
    case X_IN:
        if (!ev_in(rs, e, &b))
            return false;
        break;
    case X_TEST:
        if (!ev_test(rs, e, &b))
            return false;
        break;
    default: /* X_AND, X_OR, X_NOT */
        if (!tpl_eval_bool(rs, e, &b))
            return false;
        break;
    }
    *out = qv_bool(b);
    return true;
}

static bool ev_bool(tpl_rs *rs, const tpl_expr *e, bool *out)
{
    switch ((tpl_expr_kind)e->kind) {
    case X_AND:
    case X_OR:
        if (!tpl_eval_bool(rs, e->u.bin.a, out))
            return false;
        if (*out == (e->kind == X_OR))
            return true;
        return tpl_eval_bool(rs, e->u.bin.b, out);
    case X_NOT:
        if (!tpl_eval_bool(rs, e->u.bin.a, out))
            return false;
        *out = !*out;
        return true;
    case X_CMP: return ev_compare(rs, e, out);
    case X_IN: return ev_in(rs, e, out);
    case X_TEST: return ev_test(rs, e, out);
    default:
        break;
    }
    qval v;
    if (!tpl_eval(rs, e, &v)) {
        if (!ev_is_var_chain(e))
            return false;
        /* Tera: a name that cannot be evaluated is false in a condition. */
        tpl_clear_error(rs);
        *out = false;
        return true;
    }
    *out = tpl_truthy(v);
    return true;
}
