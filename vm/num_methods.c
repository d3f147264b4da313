/* num_methods.c — the methods of Int, Float and Bool.
 *
 * Int and Float share most methods.  Arithmetic goes through num_arith, so
 * 5.plus(2.5) and 5 + 2.5 agree on types and errors.  They differ where the
 * language does: Int.pow stays Int for exponents >= 0 (overflow raises),
 * Float's floor/ceil/round return Int while its trunc stays Float, and
 * rounding an Int is the identity.
 */
#include <math.h>

#include "ast.h"
#include "numeric.h"

static double as_double(qval v)
{
    return IS_INT(v) ? (double)v.as.i : v.as.f;
}

static qval not_a_number(qvm *vm, const char *name, qval arg)
{
    return vm_raise(vm, E_TYPE, "%s expects an Int, Float or Decimal argument, got %s",
                    name, vm_cls_name(arg));
}

/* A Float that must become an Int (floor, to_int ...): NaN and values out
 * of the Int range raise instead of saturating. */
static qval checked_int(qvm *vm, double f)
{
    if (isnan(f))
        return vm_raise(vm, E_VALUE, "Cannot convert NaN to Int");
    if (!(f >= -9223372036854775808.0 && f < 9223372036854775808.0))
        return vm_raise(vm, E_VALUE, "Float %g is out of Int range", f);
    return qv_int((int64_t)f);
}

/* ---- arithmetic -------------------------------------------------------------------- */

static qval arith(qvm *vm, const char *name, int op, qval self, qval arg)
{
    if (!IS_NUM(arg) && !IS_DECIMAL(arg))
        return not_a_number(vm, name, arg);
    return num_arith(vm, op, self, arg);
}

static qval m_plus(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    return arith(vm, "plus", QOP_ADD, self, argv[0]);
}

static qval m_minus(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    return arith(vm, "minus", QOP_SUB, self, argv[0]);
}

static qval m_times(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    return arith(vm, "times", QOP_MUL, self, argv[0]);
}

static qval m_div(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    return arith(vm, "div", QOP_DIV, self, argv[0]);
}

static qval m_mod(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    return arith(vm, "mod", QOP_MOD, self, argv[0]);
}

static qval m_neg(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return num_unary(vm, '-', self);
}

static qval m_abs(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    if (IS_FLOAT(self))
        return qv_float(fabs(self.as.f));
    if (self.as.i == INT64_MIN)
        return vm_raise(vm, E_RUNTIME, "Integer overflow in abs");
    return qv_int(self.as.i < 0 ? -self.as.i : self.as.i);
}

/* -1, 0 or 1, of the receiver's type (NaN gives 0.0). */
static qval m_sign(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    if (IS_INT(self))
        return qv_int((self.as.i > 0) - (self.as.i < 0));
    return qv_float((double)((self.as.f > 0) - (self.as.f < 0)));
}

/* Int.pow: exact by squaring for exponents >= 0; a negative or Float
 * exponent gives a Float. */
static qval int_pow(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qval e = argv[0];
    if (!IS_INT(e) || e.as.i < 0) {
        double x;
        if (!arg_num(vm, "pow", e, &x))
            return qv_exc();
        return qv_float(pow((double)self.as.i, x));
    }
    int64_t base = self.as.i, n = e.as.i, r = 1;
    while (n > 0) {
        if ((n & 1) && __builtin_mul_overflow(r, base, &r))
            return vm_raise(vm, E_RUNTIME, "Integer overflow in power operation");
        n >>= 1;
        /* Once base^2 overflows with exponent bits left, so does the result. */
        if (n && __builtin_mul_overflow(base, base, &base))
            return vm_raise(vm, E_RUNTIME, "Integer overflow in power operation");
    }
    return qv_int(r);
}

static qval float_pow(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    double x;
    if (!arg_num(vm, "pow", argv[0], &x))
        return qv_exc();
    return qv_float(pow(self.as.f, x));
}

/* ---- comparisons ------------------------------------------------------------------- */

/* A number against an Int, Float or Decimal: -1, 0, 1, or 2 when unordered
 * (NaN).  False after raising. */
static bool compare(qvm *vm, const char *name, qval self, qval arg, int *out)
{
    if (IS_INT(self) && IS_INT(arg)) {
        *out = (self.as.i > arg.as.i) - (self.as.i < arg.as.i);
        return true;
    }
    if (IS_NUM(arg)) {
        double x = as_double(self), y = as_double(arg);
        *out = x < y ? -1 : x > y ? 1 : x == y ? 0 : 2;
        return true;
    }
    if (IS_DECIMAL(arg)) {
        qdec x;
        if (!decimal_coerce(vm, name, self, &x))
            return false;
        *out = dec_cmp(x, decimal_get(AS_DECIMAL(arg)));
        return true;
    }
    not_a_number(vm, name, arg);
    return false;
}

/* eq/neq take anything: a non-number is just unequal.  Int and Float
 * compare as `==` does (within f64 epsilon). */
static bool equals(qval self, qval arg)
{
    if (IS_NUM(arg))
        return vm_equal(self, arg);
    if (!IS_DECIMAL(arg))
        return false;
    qdec x;
    if (IS_INT(self))
        x = dec_from_i64(self.as.i);
    else if (dec_from_double(self.as.f, &x) != DEC_OK)
        return false;
    return dec_cmp(x, decimal_get(AS_DECIMAL(arg))) == 0;
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

static qval m_gt(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    int c;
    return compare(vm, "gt", self, argv[0], &c) ? qv_bool(c == 1) : qv_exc();
}

static qval m_lt(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    int c;
    return compare(vm, "lt", self, argv[0], &c) ? qv_bool(c == -1) : qv_exc();
}

static qval m_gte(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    int c;
    return compare(vm, "gte", self, argv[0], &c) ? qv_bool(c == 0 || c == 1) : qv_exc();
}

static qval m_lte(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    int c;
    return compare(vm, "lte", self, argv[0], &c) ? qv_bool(c == 0 || c == -1) : qv_exc();
}

/* min/max return the chosen value in the type arithmetic would give
 * (Int with Int stays Int, a Float makes Float, a Decimal makes Decimal);
 * a NaN loses to any number. */
static qval pick(qvm *vm, const char *name, qval self, qval arg, bool want_min)
{
    int c;
    if (!compare(vm, name, self, arg, &c))
        return qv_exc();
    qval chosen;
    if (c == 2)
        chosen = IS_FLOAT(self) && isnan(self.as.f) ? arg : self;
    else
        chosen = (c > 0) == want_min ? arg : self;
    if (IS_INT(self) && IS_INT(arg))
        return chosen;
    if (IS_DECIMAL(arg)) {
        qdec d;
        return decimal_coerce(vm, name, chosen, &d) ? decimal_value(vm, d) : qv_exc();
    }
    return qv_float(as_double(chosen));
}

static qval m_min(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    return pick(vm, "min", self, argv[0], true);
}

static qval m_max(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    return pick(vm, "max", self, argv[0], false);
}

/* ---- rounding and conversion --------------------------------------------------------- */

static qval int_identity(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return self;
}

static qval float_floor(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return checked_int(vm, floor(self.as.f));
}

static qval float_ceil(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return checked_int(vm, ceil(self.as.f));
}

/* Half away from zero (2.5 -> 3, -2.5 -> -3). */
static qval float_round(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return checked_int(vm, round(self.as.f));
}

static qval float_to_int(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return checked_int(vm, trunc(self.as.f));
}

static qval float_trunc(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return qv_float(trunc(self.as.f));
}

static qval int_to_f64(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return qv_float((double)self.as.i);
}

static qval m_to_string(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    qstr *s = vm_to_str(vm, self);
    return s ? qv_obj(s) : qv_exc();
}

static qval float_is_nan(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return qv_bool(isnan(self.as.f));
}

static qval float_is_infinite(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return qv_bool(isinf(self.as.f));
}

static qval float_is_finite(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return qv_bool(isfinite(self.as.f));
}

/* ---- Bool ---------------------------------------------------------------------------- */

/* The argument counts by truthiness: true.eq(1) is true. */
static qval bool_eq(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc;
    return qv_bool(self.as.b == vm_truthy(argv[0]));
}

static qval bool_neq(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc;
    return qv_bool(self.as.b != vm_truthy(argv[0]));
}

/* ---- tables ---------------------------------------------------------------------------- */

#define SHARED_METHODS                      \
    {"plus", m_plus, 1, 1, false},          \
    {"add", m_plus, 1, 1, false},           \
    {"minus", m_minus, 1, 1, false},        \
    {"sub", m_minus, 1, 1, false},          \
    {"times", m_times, 1, 1, false},        \
    {"mul", m_times, 1, 1, false},          \
    {"div", m_div, 1, 1, false},            \
    {"mod", m_mod, 1, 1, false},            \
    {"neg", m_neg, 0, 0, false},            \
    {"abs", m_abs, 0, 0, false},            \
    {"sign", m_sign, 0, 0, false},          \
    {"min", m_min, 1, 1, false},            \
    {"max", m_max, 1, 1, false},            \
    {"eq", m_eq, 1, 1, false},              \
    {"neq", m_neq, 1, 1, false},            \
    {"gt", m_gt, 1, 1, false},              \
    {"lt", m_lt, 1, 1, false},              \
    {"gte", m_gte, 1, 1, false},            \
    {"lte", m_lte, 1, 1, false},            \
    {"to_string", m_to_string, 0, 0, false}

static const qmethod_def int_methods[] = {
    SHARED_METHODS,
    {"pow", int_pow, 1, 1, false},
    {"round", int_identity, 0, 0, false},
    {"floor", int_identity, 0, 0, false},
    {"ceil", int_identity, 0, 0, false},
    {"trunc", int_identity, 0, 0, false},
    {"to_f64", int_to_f64, 0, 0, false},
    {"to_num", int_to_f64, 0, 0, false},
    {0},
};

static const qmethod_def float_methods[] = {
    SHARED_METHODS,
    {"pow", float_pow, 1, 1, false},
    {"round", float_round, 0, 0, false},
    {"floor", float_floor, 0, 0, false},
    {"ceil", float_ceil, 0, 0, false},
    {"trunc", float_trunc, 0, 0, false},
    {"to_int", float_to_int, 0, 0, false},
    {"is_nan", float_is_nan, 0, 0, false},
    {"is_infinite", float_is_infinite, 0, 0, false},
    {"is_finite", float_is_finite, 0, 0, false},
    {0},
};

static const qmethod_def bool_methods[] = {
    {"eq", bool_eq, 1, 1, false},
    {"neq", bool_neq, 1, 1, false},
    {0},
};

void num_init_classes(qvm *vm, qtype *int_t, qtype *float_t, qtype *bool_t)
{
    vm_add_methods(vm, int_t, int_methods);
    vm_add_methods(vm, float_t, float_methods);
    vm_add_methods(vm, bool_t, bool_methods);
}
