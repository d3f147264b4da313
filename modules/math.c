/* math.c — std/math: constants and the C library's functions on Float.
 *
 * Arguments may be Int or Float; results are always Float, as in the
 * reference (math.floor(3.7) is 3.0, which prints as 3).  Angles are in
 * radians.  Outside a function's domain the result is NaN or an infinity,
 * as IEEE arithmetic gives it (math.sqrt(-1) is NaN), not an error.
 */
#include <math.h>

#include "modules/modules.h"

/* A one-argument function: math.NAME(x) = EXPR. */
#define MATH_UNARY(name, expr)                                           \
    static qval math_##name(qvm *vm, qval self, int argc, qval *argv)    \
    {                                                                    \
        (void)self, (void)argc;                                          \
        double x;                                                        \
        if (!arg_num(vm, "math." #name, argv[0], &x))                    \
            return qv_exc();                                             \
        return qv_float(expr);                                           \
    }

MATH_UNARY(sin, sin(x))
MATH_UNARY(cos, cos(x))
MATH_UNARY(tan, tan(x))
MATH_UNARY(asin, asin(x))
MATH_UNARY(acos, acos(x))
MATH_UNARY(atan, atan(x))
MATH_UNARY(sinh, sinh(x))
MATH_UNARY(cosh, cosh(x))
MATH_UNARY(tanh, tanh(x))
MATH_UNARY(sqrt, sqrt(x))
MATH_UNARY(exp, exp(x))
MATH_UNARY(ln, log(x))
MATH_UNARY(log10, log10(x))
MATH_UNARY(log2, log2(x))
MATH_UNARY(abs, fabs(x))
MATH_UNARY(floor, floor(x))
MATH_UNARY(ceil, ceil(x))
MATH_UNARY(trunc, trunc(x))
MATH_UNARY(degrees, x * (180.0 / M_PI))
MATH_UNARY(radians, x * (M_PI / 180.0))

/* Both arguments of a two-argument function; false after raising. */
static bool math_two(qvm *vm, const char *fname, qval *argv, double *a, double *b)
{
    return arg_num(vm, fname, argv[0], a) && arg_num(vm, fname, argv[1], b);
}

static qval math_atan2(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    double y, x;
    return math_two(vm, "math.atan2", argv, &y, &x) ? qv_float(atan2(y, x)) : qv_exc();
}

static qval math_pow(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    double x, y;
    return math_two(vm, "math.pow", argv, &x, &y) ? qv_float(pow(x, y)) : qv_exc();
}

/* log(x) is the natural logarithm; log(x, base) any other. */
static qval math_log(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self;
    double x, base;
    if (argc == 1)
        return arg_num(vm, "math.log", argv[0], &x) ? qv_float(log(x)) : qv_exc();
    return math_two(vm, "math.log", argv, &x, &base) ? qv_float(log(x) / log(base)) : qv_exc();
}

/* round(x) to the nearest whole number, halves away from zero;
 * round(x, places) to that many decimal places. */
static qval math_round(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self;
    double x, places = 0;
    if (!arg_num(vm, "math.round", argv[0], &x) ||
        (argc > 1 && !arg_num(vm, "math.round", argv[1], &places)))
        return qv_exc();
    if (places < 0)
        return vm_raise(vm, E_VALUE, "math.round places must be non-negative");
    if (places == 0)
        return qv_float(round(x));
    double scale = pow(10.0, trunc(places));
    return qv_float(round(x * scale) / scale);
}

static const qmethod_def math_functions[] = {
    {"sin", math_sin, 1, 1, false},
    {"cos", math_cos, 1, 1, false},
    {"tan", math_tan, 1, 1, false},
    {"asin", math_asin, 1, 1, false},
    {"acos", math_acos, 1, 1, false},
    {"atan", math_atan, 1, 1, false},
    {"atan2", math_atan2, 2, 2, false},
    {"sinh", math_sinh, 1, 1, false},
    {"cosh", math_cosh, 1, 1, false},
    {"tanh", math_tanh, 1, 1, false},
    {"sqrt", math_sqrt, 1, 1, false},
    {"pow", math_pow, 2, 2, false},
    {"exp", math_exp, 1, 1, false},
    {"ln", math_ln, 1, 1, false},
    {"log", math_log, 1, 2, false},
    {"log10", math_log10, 1, 1, false},
    {"log2", math_log2, 1, 1, false},
    {"abs", math_abs, 1, 1, false},
    {"floor", math_floor, 1, 1, false},
    {"ceil", math_ceil, 1, 1, false},
    {"trunc", math_trunc, 1, 1, false},
    {"round", math_round, 1, 2, false},
    {"degrees", math_degrees, 1, 1, false},
    {"radians", math_radians, 1, 1, false},
    {NULL, NULL, 0, 0, false},
};

bool math_module_init(qvm *vm, qmodule *m)
{
    module_export(vm, m, "pi", qv_float(M_PI));
    module_export(vm, m, "tau", qv_float(2 * M_PI));
    module_export(vm, m, "e", qv_float(M_E));
    module_export_fns(vm, m, math_functions);
    return true;
}
