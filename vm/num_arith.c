/* num_arith.c — the arithmetic, bitwise and prefix operators.
 *
 * Promotion: Int op Int stays Int (overflow is a RuntimeErr, `/` truncates
 * toward zero, `%` takes the dividend's sign); Int with Float gives Float;
 * Decimal with Int, Float or Decimal gives Decimal; BigInt mixes only with
 * BigInt.  Dividing by zero raises RuntimeErr for every kind, Float included.
 * `Str * Int` and `Int * Str` repeat the string.  `+` does not join strings
 * (that is `..`; `+=` on strings and arrays is the interpreter's OP_IADD).
 */
#include <math.h>

#include "ast.h"
#include "numeric.h"

/* Longest string `*` builds, in bytes. */
#define REPEAT_MAX ((uint64_t)1 << 30)

static const char *op_name(int op)
{
    switch (op) {
    case QOP_ADD: return "+";
    case QOP_SUB: return "-";
    case QOP_MUL: return "*";
    case QOP_DIV: return "/";
    case QOP_MOD: return "%";
    case QOP_BOR: return "|";
    case QOP_BXOR: return "^";
    case QOP_BAND: return "&";
    case QOP_SHL: return "<<";
    case QOP_SHR: return ">>";
    default: return "?";
    }
}

static qval unsupported(qvm *vm, int op, qval a, qval b)
{
    if (IS_BIGINT(a) != IS_BIGINT(b))
        return vm_raise(vm, E_TYPE, "Cannot mix BigInt and %s in %s (convert with BigInt.new())",
                        vm_cls_name(IS_BIGINT(a) ? b : a), op_name(op));
    if (op == QOP_ADD && IS_STR(a) && IS_STR(b))
        return vm_raise(vm, E_TYPE, "Unsupported operand types for +: Str and Str (use .. to concatenate)");
    return vm_raise(vm, E_TYPE, "Unsupported operand types for %s: %s and %s",
                    op_name(op), vm_cls_name(a), vm_cls_name(b));
}

static qval int_arith(qvm *vm, int op, int64_t x, int64_t y)
{
    int64_t r = 0;
    switch (op) {
    case QOP_ADD:
        if (__builtin_add_overflow(x, y, &r))
            return vm_raise(vm, E_RUNTIME, "Integer overflow in addition");
        break;
    case QOP_SUB:
        if (__builtin_sub_overflow(x, y, &r))
            return vm_raise(vm, E_RUNTIME, "Integer overflow in subtraction");
        break;
    case QOP_MUL:
        if (__builtin_mul_overflow(x, y, &r))
            return vm_raise(vm, E_RUNTIME, "Integer overflow in multiplication");
        break;
    case QOP_DIV:
        if (y == 0)
            return vm_raise(vm, E_RUNTIME, "Division by zero");
        if (x == INT64_MIN && y == -1)
            return vm_raise(vm, E_RUNTIME, "Integer overflow in division");
        r = x / y;
        break;
    case QOP_MOD:
        if (y == 0)
            return vm_raise(vm, E_RUNTIME, "Modulo by zero");
        r = y == -1 ? 0 : x % y;   /* INT64_MIN % -1 traps in C */
        break;
    }
    return qv_int(r);
}

static qval float_arith(qvm *vm, int op, double x, double y)
{
    switch (op) {
    case QOP_ADD: return qv_float(x + y);
    case QOP_SUB: return qv_float(x - y);
    case QOP_MUL: return qv_float(x * y);
    case QOP_DIV:
        if (y == 0)
            return vm_raise(vm, E_RUNTIME, "Division by zero");
        return qv_float(x / y);
    default:
        if (y == 0)
            return vm_raise(vm, E_RUNTIME, "Modulo by zero");
        return qv_float(fmod(x, y));
    }
}

static qval str_repeat(qvm *vm, const qstr *s, int64_t n)
{
    if (n < 0)
        return vm_raise(vm, E_VALUE, "repeat count must be non-negative");
    if (s->len && (uint64_t)n > REPEAT_MAX / s->len)
        return vm_raise(vm, E_RUNTIME, "String repetition too large (%u bytes x %lld)",
                        s->len, (long long)n);
    qbuf b;
    buf_init(&b);
    for (int64_t i = 0; i < n; i++)
        buf_append(&b, s->data, s->len);
    return qv_obj(buf_to_str(vm, &b));
}

static bool is_decimal_operand(qval v)
{
    return IS_NUM(v) || IS_DECIMAL(v);
}

static double to_double(qval v)
{
    return IS_INT(v) ? (double)v.as.i : v.as.f;
}

qval num_arith(qvm *vm, int op, qval a, qval b)
{
    if (IS_INT(a) && IS_INT(b))
        return int_arith(vm, op, a.as.i, b.as.i);
    if (IS_NUM(a) && IS_NUM(b))
        return float_arith(vm, op, to_double(a), to_double(b));
    if ((IS_DECIMAL(a) || IS_DECIMAL(b)) && is_decimal_operand(a) && is_decimal_operand(b))
        return decimal_arith(vm, op, a, b);
    if (IS_BIGINT(a) && IS_BIGINT(b))
        return bigint_arith(vm, op, AS_BIGINT(a), AS_BIGINT(b));
    if (op == QOP_MUL && IS_STR(a) && IS_INT(b))
        return str_repeat(vm, AS_STR(a), b.as.i);
    if (op == QOP_MUL && IS_INT(a) && IS_STR(b))
        return str_repeat(vm, AS_STR(b), a.as.i);
    return unsupported(vm, op, a, b);
}

/* ---- | ^ & << >> ----------------------------------------------------------------- */

static qval int_bitop(qvm *vm, int op, int64_t x, int64_t y)
{
    switch (op) {
    case QOP_BOR: return qv_int(x | y);
    case QOP_BXOR: return qv_int(x ^ y);
    case QOP_BAND: return qv_int(x & y);
    case QOP_SHL:
        if (y < 0 || y >= 64)
            return vm_raise(vm, E_RUNTIME, "Left shift overflow: %lld << %lld",
                            (long long)x, (long long)y);
        return qv_int((int64_t)((uint64_t)x << y));
    default:
        if (y < 0 || y >= 64)
            return vm_raise(vm, E_RUNTIME, "Right shift overflow: %lld >> %lld",
                            (long long)x, (long long)y);
        return qv_int(x >> y);   /* arithmetic: gcc and clang sign-extend */
    }
}

qval num_bitop(qvm *vm, int op, qval a, qval b)
{
    bool shift = op == QOP_SHL || op == QOP_SHR;
    if (IS_INT(a) && IS_INT(b))
        return int_bitop(vm, op, a.as.i, b.as.i);
    if (IS_BIGINT(a) && shift && IS_INT(b))
        return bigint_shift(vm, op, AS_BIGINT(a), b.as.i);
    if (IS_BIGINT(a) && !shift && IS_BIGINT(b))
        return bigint_arith(vm, op, AS_BIGINT(a), AS_BIGINT(b));
    if (IS_BIGINT(a) || IS_BIGINT(b))
        return unsupported(vm, op, a, b);
    return vm_raise(vm, E_TYPE, "Unsupported operand types for %s: %s and %s (bitwise operators take Int)",
                    op_name(op), vm_cls_name(a), vm_cls_name(b));
}

/* ---- prefix - + ~ ----------------------------------------------------------------- */

qval num_unary(qvm *vm, int op, qval v)
{
    switch (op) {
    case '-':
        if (IS_INT(v)) {
            if (v.as.i == INT64_MIN)
                return vm_raise(vm, E_RUNTIME, "Integer overflow in negation");
            return qv_int(-v.as.i);
        }
        if (IS_FLOAT(v))
            return qv_float(-v.as.f);
        if (IS_BIGINT(v))
            return bigint_negate(vm, AS_BIGINT(v));
        if (IS_DECIMAL(v))
            return decimal_value(vm, dec_neg(decimal_get(AS_DECIMAL(v))));
        break;
    case '+':
        if (is_decimal_operand(v) || IS_BIGINT(v))
            return v;
        break;
    case '~':
        if (IS_INT(v))
            return qv_int(~v.as.i);
        if (IS_BIGINT(v))
            return bigint_invert(vm, AS_BIGINT(v));
        break;
    }
    return vm_raise(vm, E_TYPE, "Unsupported operand type for unary %c: %s", op, vm_cls_name(v));
}
