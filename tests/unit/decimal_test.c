/* decimal_test.c — the Decimal arithmetic core (vm/decimal_core.c): parsing,
 * printing, the four operations and remainder, rounding, conversions. */
#include <math.h>
#include <stdio.h>

#include "tap.h"
#include "vm/decimal_core.h"

static qdec dec(const char *s)
{
    qdec d = {0, 0};
    if (dec_parse(s, strlen(s), &d) != DEC_OK)
        tap_diag("cannot parse %s", s);
    return d;
}

static const char *text(qdec d)
{
    static char buf[DEC_FMT_MAX];
    dec_format(d, buf);
    return buf;
}

typedef dec_status (*binop)(qdec, qdec, qdec *);

/* a op b printed, or the name of the failure. */
static const char *calc(binop op, const char *a, const char *b)
{
    qdec r;
    switch (op(dec(a), dec(b), &r)) {
    case DEC_OK: return text(r);
    case DEC_OVERFLOW: return "overflow";
    case DEC_DIV_ZERO: return "div-zero";
    case DEC_INVALID: return "invalid";
    }
    return "?";
}

static const char *parsed(const char *s)
{
    qdec d;
    switch (dec_parse(s, strlen(s), &d)) {
    case DEC_OK: return text(d);
    case DEC_OVERFLOW: return "overflow";
    default: return "invalid";
    }
}

static const char *from_double(double f)
{
    qdec d;
    switch (dec_from_double(f, &d)) {
    case DEC_OK: return text(d);
    case DEC_OVERFLOW: return "overflow";
    default: return "invalid";
    }
}

static void test_parse_and_format(void)
{
    is_str(parsed("123.45"), "123.45", "plain decimal");
    is_str(parsed("100.50"), "100.50", "trailing zero kept");
    is_str(parsed("-456.78"), "-456.78", "negative");
    is_str(parsed("+7"), "7", "explicit plus");
    is_str(parsed("0.00"), "0.00", "zero keeps its scale");
    is_str(parsed("-0"), "0", "negative zero prints as zero");
    is_str(parsed(".5"), "0.5", "no integer digits");
    is_str(parsed("5."), "5", "no fraction digits");
    is_str(parsed("1_000.25"), "1000.25", "digit separators");
    is_str(parsed("  12.34\n"), "12.34", "surrounding whitespace");
    is_str(parsed("0.0000000000000000000000000001"), "0.0000000000000000000000000001",
           "smallest positive");
    is_str(parsed("79228162514264337593543950335"), "79228162514264337593543950335",
           "largest coefficient");
    is_str(parsed("79228162514264337593543950336"), "overflow", "2^96 overflows");
    is_str(parsed("0.12345678901234567890123456789"), "0.1234567890123456789012345679",
           "surplus digit rounds");
    is_str(parsed("7.92281625142643375935439503355"), "7.922816251426433759354395034",
           "rounding carry drops a digit");
    const char *bad[] = {"", " ", "abc", "1.2.3", "1e5", "-", ".", "_1", "1_", "1__0", "1 2", "0x10"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char name[64];
        snprintf(name, sizeof name, "rejects '%s'", bad[i]);
        is_str(parsed(bad[i]), "invalid", name);
    }
}

static void test_add_sub(void)
{
    is_str(calc(dec_add, "123.45", "100.50"), "223.95", "add");
    is_str(calc(dec_add, "0.1", "0.2"), "0.3", "0.1 + 0.2 is exact");
    is_str(calc(dec_sub, "200.75", "50.25"), "150.50", "sub keeps the larger scale");
    is_str(calc(dec_add, "1", "-1"), "0", "to zero");
    is_str(calc(dec_add, "-1.5", "0.25"), "-1.25", "mixed signs");
    is_str(calc(dec_sub, "0.25", "1"), "-0.75", "negative result");
    is_str(calc(dec_add, "79228162514264337593543950335", "1"), "overflow", "add overflow");
    is_str(calc(dec_add, "79228162514264337593543950000", "0.5"),
           "79228162514264337593543950000", "fraction rounded away, half to even");
    is_str(calc(dec_add, "10000000000000000000000000000", "0.0000000000000000000000000001"),
           "10000000000000000000000000000", "alignment beyond 96 bits");
}

static void test_mul(void)
{
    is_str(calc(dec_mul, "1.10", "2"), "2.20", "scales add");
    is_str(calc(dec_mul, "12.5", "4"), "50.0", "12.5 * 4");
    is_str(calc(dec_mul, "-2.5", "2.5"), "-6.25", "sign");
    is_str(calc(dec_mul, "0.0000000000000000000000000015", "0.5"),
           "0.0000000000000000000000000008", "scale 29 rounds half to even (up)");
    is_str(calc(dec_mul, "0.0000000000000000000000000025", "0.5"),
           "0.0000000000000000000000000012", "scale 29 rounds half to even (down)");
    is_str(calc(dec_mul, "0.0000000000000001", "0.0000000000000001"),
           "0.0000000000000000000000000000", "underflow to zero at scale 28");
    is_str(calc(dec_mul, "79228162514264337593543950335", "10"), "overflow", "mul overflow");
    is_str(calc(dec_mul, "1234567890123.4567890123456789", "1234567890123.4567890123456789"),
           "1524157875323883675049535.1563", "wide product rounded to 96 bits");
}

static void test_div(void)
{
    is_str(calc(dec_div, "100", "4"), "25", "exact");
    is_str(calc(dec_div, "150", "3"), "50", "exact 2");
    is_str(calc(dec_div, "10", "4"), "2.5", "grows a digit");
    is_str(calc(dec_div, "1.00", "4"), "0.25", "dividend scale");
    is_str(calc(dec_div, "1", "3"), "0.3333333333333333333333333333", "1/3");
    is_str(calc(dec_div, "2", "3"), "0.6666666666666666666666666667", "2/3 rounds up");
    is_str(calc(dec_div, "10", "3"), "3.3333333333333333333333333333", "29 digits fit");
    is_str(calc(dec_div, "6", "2.0"), "3", "negative scale resolved");
    is_str(calc(dec_div, "1", "0.5"), "2", "by a fraction");
    is_str(calc(dec_div, "-7", "2"), "-3.5", "sign");
    is_str(calc(dec_div, "1", "0"), "div-zero", "by zero");
    is_str(calc(dec_div, "79228162514264337593543950335", "0.1"), "overflow", "div overflow");
}

static void test_rem(void)
{
    is_str(calc(dec_rem, "17", "5"), "2", "ints");
    is_str(calc(dec_rem, "17.5", "5"), "2.5", "fraction");
    is_str(calc(dec_rem, "-17.5", "5"), "-2.5", "dividend's sign");
    is_str(calc(dec_rem, "17.5", "-5"), "2.5", "divisor's sign ignored");
    is_str(calc(dec_rem, "5", "0.3"), "0.2", "by a fraction");
    is_str(calc(dec_rem, "0.3", "5"), "0.3", "smaller dividend");
    is_str(calc(dec_rem, "79228162514264337593543950335", "0.0000000000000000000000000011"),
           "0.0000000000000000000000000008", "divisor scaled far");
    is_str(calc(dec_rem, "1", "0"), "div-zero", "by zero");
}

static void test_cmp_and_round(void)
{
    is_int(dec_cmp(dec("1.0"), dec("1.00")), 0, "scale ignored");
    is_int(dec_cmp(dec("-1"), dec("0.5")), -1, "negative < positive");
    is_int(dec_cmp(dec("2"), dec("1.999")), 1, "greater");
    is_int(dec_cmp(dec("-2"), dec("-1.999")), -1, "both negative");
    is_int(dec_cmp(dec("0"), dec("-0.00")), 0, "zeros");
    is_str(text(dec_round(dec("2.5"), DEC_ROUND_HALF_EVEN)), "2", "2.5 to even");
    is_str(text(dec_round(dec("3.5"), DEC_ROUND_HALF_EVEN)), "4", "3.5 to even");
    is_str(text(dec_round(dec("-2.5"), DEC_ROUND_HALF_EVEN)), "-2", "-2.5 to even");
    is_str(text(dec_round(dec("2.51"), DEC_ROUND_HALF_EVEN)), "3", "above half");
    is_str(text(dec_round(dec("-1.2"), DEC_ROUND_FLOOR)), "-2", "floor negative");
    is_str(text(dec_round(dec("1.2"), DEC_ROUND_CEIL)), "2", "ceil");
    is_str(text(dec_round(dec("-1.2"), DEC_ROUND_CEIL)), "-1", "ceil negative");
    is_str(text(dec_round(dec("-1.98765"), DEC_ROUND_TRUNC)), "-1", "trunc");
    is_str(text(dec_round(dec("7.00"), DEC_ROUND_FLOOR)), "7", "integral drops scale");
}

static void test_doubles(void)
{
    is_str(from_double(100.5), "100.5", "binary fraction exact");
    is_str(from_double(50.25), "50.25", "50.25");
    is_str(from_double(-0.5), "-0.5", "negative");
    is_str(from_double(0.1), "0.1000000000000000055511151231", "0.1 keeps its binary value");
    is_str(from_double(42.0), "42", "whole");
    is_str(from_double(39614081257132168796771975168.0), "39614081257132168796771975168", "2^95");
    is_str(from_double(1e30), "overflow", "too large");
    is_str(from_double(1e-40), "0", "too small");
    is_str(from_double(NAN), "invalid", "NaN");
    is_str(from_double(INFINITY), "invalid", "infinity");
    ok(dec_to_double(dec("123.45")) == 123.45, "to double, correctly rounded");
    ok(dec_to_double(dec("-0.1")) == -0.1, "to double, negative");
}

int main(void)
{
    test_parse_and_format();
    test_add_sub();
    test_mul();
    test_div();
    test_rem();
    test_cmp_and_round();
    test_doubles();
    return done_testing();
}
