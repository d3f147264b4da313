/* decimal.c — the Decimal type: construction, methods, and the Decimal
 * side of the operators.  The arithmetic itself is decimal_core.c; here
 * are the Quest-facing rules: Int and Float arguments are converted to
 * Decimal (a Float by its exact binary value), failures become exceptions
 * (overflow and division by zero RuntimeErr, bad text ValueErr). */
#include <math.h>
#include <string.h>

#include "ast.h"
#include "numeric.h"

qval decimal_value(qvm *vm, qdec d)
{
    qdecimal *o = vm_alloc_obj(vm, sizeof(qdecimal), QO_DECIMAL);
    o->coef = d.coef;
    o->scale = d.scale;
    return qv_obj(o);
}

static qval float_failure(qvm *vm, double f)
{
    return vm_raise(vm, E_VALUE, isfinite(f) ? "Cannot convert %g to Decimal: too large"
                                             : "Cannot convert %g to Decimal", f);
}

bool decimal_coerce(qvm *vm, const char *fname, qval v, qdec *out)
{
    if (IS_DECIMAL(v)) {
        *out = decimal_get(AS_DECIMAL(v));
        return true;
    }
    if (IS_INT(v)) {
        *out = dec_from_i64(v.as.i);
        return true;
    }
    if (IS_FLOAT(v)) {
        if (dec_from_double(v.as.f, out) == DEC_OK)
            return true;
        float_failure(vm, v.as.f);
        return false;
    }
    vm_raise(vm, E_TYPE, "%s expects a Decimal, Int or Float argument, got %s", fname, vm_cls_name(v));
    return false;
}

static qval result(qvm *vm, dec_status st, qdec r, int op)
{
    switch (st) {
    case DEC_OK: return decimal_value(vm, r);
    case DEC_DIV_ZERO:
        return vm_raise(vm, E_RUNTIME, op == QOP_MOD ? "Modulo by zero" : "Division by zero");
    default: {
        static const char *const what[] = {
            [QOP_ADD] = "addition", [QOP_SUB] = "subtraction", [QOP_MUL] = "multiplication",
            [QOP_DIV] = "division", [QOP_MOD] = "modulo",
        };
        return vm_raise(vm, E_RUNTIME, "Decimal overflow in %s", what[op]);
    }
    }
}

qval decimal_arith(qvm *vm, int op, qval a, qval b)
{
    qdec x, y, r = {0, 0};
    if (!decimal_coerce(vm, "Decimal arithmetic", a, &x) ||
        !decimal_coerce(vm, "Decimal arithmetic", b, &y))
        return qv_exc();
    dec_status st;
    switch (op) {
    case QOP_ADD: st = dec_add(x, y, &r); break;
    case QOP_SUB: st = dec_sub(x, y, &r); break;
    case QOP_MUL: st = dec_mul(x, y, &r); break;
    case QOP_DIV: st = dec_div(x, y, &r); break;
    default: st = dec_rem(x, y, &r); break;
    }
    return result(vm, st, r, op);
}

qval decimal_from_cstr(qvm *vm, const char *text)
{
    qdec d;
    switch (dec_parse(text, strlen(text), &d)) {
    case DEC_OK: return decimal_value(vm, d);
    case DEC_OVERFLOW:
        return vm_raise(vm, E_VALUE, "Invalid decimal string '%s': too large for Decimal", text);
    default:
        return vm_raise(vm, E_VALUE, "Invalid decimal string '%s'", text);
    }
}

qstr *decimal_to_str(qvm *vm, const qdecimal *d)
{
    char buf[DEC_FMT_MAX];
    size_t n = dec_format(decimal_get(d), buf);
    return str_new(vm, buf, n);
}

double decimal_to_double(const qdecimal *d)
{
    return dec_to_double(decimal_get(d));
}

int decimal_cmp(const qdecimal *a, const qdecimal *b)
{
    return dec_cmp(decimal_get(a), decimal_get(b));
}

int decimal_cmp_num(const qdecimal *d, double f)
{
    qdec x;
    if (dec_from_double(f, &x) == DEC_OK)
        return dec_cmp(decimal_get(d), x);
    /* NaN compares equal (unordered); a huge f is beyond every Decimal. */
    if (isnan(f))
        return 0;
    return f > 0 ? -1 : 1;
}

/* ---- methods ---------------------------------------------------------------------- */

static qdec self_dec(qval self)
{
    return decimal_get(AS_DECIMAL(self));
}

static qval m_plus(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    return decimal_arith(vm, QOP_ADD, self, argv[0]);
}

static qval m_minus(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    return decimal_arith(vm, QOP_SUB, self, argv[0]);
}

static qval m_times(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    return decimal_arith(vm, QOP_MUL, self, argv[0]);
}

static qval m_div(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    return decimal_arith(vm, QOP_DIV, self, argv[0]);
}

static qval m_mod(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    return decimal_arith(vm, QOP_MOD, self, argv[0]);
}

/* Decimal has no exact power: like the reference, pow works in Float. */
static qval m_pow(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    double e;
    if (IS_DECIMAL(argv[0]))
        e = decimal_to_double(AS_DECIMAL(argv[0]));
    else if (!arg_num(vm, "pow", argv[0], &e))
        return qv_exc();
    return qv_float(pow(dec_to_double(self_dec(self)), e));
}

/* eq/neq accept anything: a non-number is simply not equal. */
static bool equals(qval self, qval other)
{
    qdec x;
    if (IS_DECIMAL(other))
        x = decimal_get(AS_DECIMAL(other));
    else if (IS_INT(other))
        x = dec_from_i64(other.as.i);
    else if (!IS_FLOAT(other) || dec_from_double(other.as.f, &x) != DEC_OK)
        return false;
    return dec_cmp(self_dec(self), x) == 0;
}

static qval m_eq(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc;
    return qv_bool(equals(self, argv[0]));
}

static qval m_neq(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc;
    return qv_bool(!equals(self, argv[0]));
}

/* Ordering against a number; false after raising. */
static bool order(qvm *vm, const char *fname, qval self, qval other, int *out)
{
    qdec x;
    if (!decimal_coerce(vm, fname, other, &x))
        return false;
    *out = dec_cmp(self_dec(self), x);
    return true;
}

static qval m_gt(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    int c;
    return order(vm, "gt", self, argv[0], &c) ? qv_bool(c > 0) : qv_exc();
}

static qval m_lt(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    int c;
    return order(vm, "lt", self, argv[0], &c) ? qv_bool(c < 0) : qv_exc();
}

static qval m_gte(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    int c;
    return order(vm, "gte", self, argv[0], &c) ? qv_bool(c >= 0) : qv_exc();
}

static qval m_lte(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    int c;
    return order(vm, "lte", self, argv[0], &c) ? qv_bool(c <= 0) : qv_exc();
}

static qval m_min(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qdec x;
    if (!decimal_coerce(vm, "min", argv[0], &x))
        return qv_exc();
    return dec_cmp(x, self_dec(self)) < 0 ? decimal_value(vm, x) : self;
}

static qval m_max(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qdec x;
    if (!decimal_coerce(vm, "max", argv[0], &x))
        return qv_exc();
    return dec_cmp(x, self_dec(self)) > 0 ? decimal_value(vm, x) : self;
}

static qval m_abs(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return decimal_value(vm, dec_abs(self_dec(self)));
}

static qval m_neg(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return decimal_value(vm, dec_neg(self_dec(self)));
}

static qval m_sign(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    __int128 c = self_dec(self).coef;
    return decimal_value(vm, dec_from_i64((c > 0) - (c < 0)));
}

static qval m_round(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return decimal_value(vm, dec_round(self_dec(self), DEC_ROUND_HALF_EVEN));
}

static qval m_floor(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return decimal_value(vm, dec_round(self_dec(self), DEC_ROUND_FLOOR));
}

static qval m_ceil(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return decimal_value(vm, dec_round(self_dec(self), DEC_ROUND_CEIL));
}

static qval m_trunc(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return decimal_value(vm, dec_round(self_dec(self), DEC_ROUND_TRUNC));
}

static qval m_to_f64(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return qv_float(dec_to_double(self_dec(self)));
}

static qval m_to_string(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return qv_obj(decimal_to_str(vm, AS_DECIMAL(self)));
}

/* ---- statics ---------------------------------------------------------------------- */

static qval s_new(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    qval v = argv[0];
    if (IS_STR(v))
        return decimal_from_cstr(vm, AS_STR(v)->data);
    if (IS_DECIMAL(v))
        return v;   /* immutable: no copy needed */
    if (!IS_NUM(v))
        return vm_raise(vm, E_TYPE, "Decimal.new expects a Str, Int, Float or Decimal, got %s",
                        vm_cls_name(v));
    qdec d;
    return decimal_coerce(vm, "Decimal.new", v, &d) ? decimal_value(vm, d) : qv_exc();
}

static qval s_from_f64(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    qdec d;
    if (!IS_NUM(argv[0]))
        return vm_raise(vm, E_TYPE, "Decimal.from_f64 expects a number, got %s", vm_cls_name(argv[0]));
    return decimal_coerce(vm, "Decimal.from_f64", argv[0], &d) ? decimal_value(vm, d) : qv_exc();
}

static qval s_zero(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc, (void)argv;
    return decimal_value(vm, dec_from_i64(0));
}

static qval s_one(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc, (void)argv;
    return decimal_value(vm, dec_from_i64(1));
}

static const qmethod_def decimal_methods[] = {
    {"plus", m_plus, 1, 1, false},
    {"add", m_plus, 1, 1, false},
    {"minus", m_minus, 1, 1, false},
    {"sub", m_minus, 1, 1, false},
    {"times", m_times, 1, 1, false},
    {"mul", m_times, 1, 1, false},
    {"div", m_div, 1, 1, false},
    {"mod", m_mod, 1, 1, false},
    {"pow", m_pow, 1, 1, false},
    {"eq", m_eq, 1, 1, false},
    {"neq", m_neq, 1, 1, false},
    {"gt", m_gt, 1, 1, false},
    {"lt", m_lt, 1, 1, false},
    {"gte", m_gte, 1, 1, false},
    {"lte", m_lte, 1, 1, false},
    {"min", m_min, 1, 1, false},
    {"max", m_max, 1, 1, false},
    {"abs", m_abs, 0, 0, false},
    {"neg", m_neg, 0, 0, false},
    {"sign", m_sign, 0, 0, false},
    {"round", m_round, 0, 0, false},
    {"floor", m_floor, 0, 0, false},
    {"ceil", m_ceil, 0, 0, false},
    {"trunc", m_trunc, 0, 0, false},
    {"to_f64", m_to_f64, 0, 0, false},
    {"to_string", m_to_string, 0, 0, false},
    {0},
};

static const qmethod_def decimal_statics[] = {
    {"new", s_new, 1, 1, false},
    {"from_f64", s_from_f64, 1, 1, false},
    {"zero", s_zero, 0, 0, false},
    {"one", s_one, 0, 0, false},
    {0},
};

void decimal_init_class(qvm *vm, qtype *t)
{
    vm_add_methods(vm, t, decimal_methods);
    vm_add_statics(vm, t, decimal_statics);
}

void decimal_register_builtins(qvm *vm, qdict *builtins)
{
    dict_set_cstr(vm, builtins, "Decimal", qv_obj(vm_builtin_type(vm, QC_DECIMAL)));
}
