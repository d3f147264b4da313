/* format_test.c — vm/format.c: the str() form of Floats (checked against
 * known shortest forms and by round-tripping many random doubles), format
 * specs on each kind of value, and Str.fmt placeholders. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm/vm.h"
#include "tap.h"

static const char *ffmt(double f)
{
    static char out[FMT_FLOAT_MAX];
    fmt_float(out, sizeof out, f);
    return out;
}

static void test_float_known(void)
{
    is_str(ffmt(42.0), "42", "whole number without a point");
    is_str(ffmt(-7.0), "-7", "negative whole number");
    is_str(ffmt(0.0), "0", "zero");
    is_str(ffmt(-0.0), "-0", "negative zero keeps its sign");
    is_str(ffmt(3.14), "3.14", "short fraction");
    is_str(ffmt(0.1 + 0.2), "0.30000000000000004", "17 digits when needed");
    is_str(ffmt(1.0 / 3.0), "0.3333333333333333", "16 digits");
    is_str(ffmt(2.5e-5), "0.000025", "small numbers stay positional");
    is_str(ffmt(1e-7), "0.0000001", "no exponent below 1e-4");
    is_str(ffmt(1e10), "10000000000", "1e10 is written out");
    is_str(ffmt(1.5e10), "15000000000", "large whole numbers too");
    is_str(ffmt(1e21), "1000000000000000000000", "1e21 positional");
    is_str(ffmt(1e15 + 0.3), "1000000000000000.2", "fraction at the precision limit");
    is_str(ffmt(123456789.5), "123456789.5", "fraction below 1e10");
    is_str(ffmt(NAN), "NaN", "NaN");
    is_str(ffmt(INFINITY), "inf", "inf");
    is_str(ffmt(-INFINITY), "-inf", "-inf");
    is_int(strlen(ffmt(DBL_MAX)), 309, "DBL_MAX has 309 digits");
    ok(strncmp(ffmt(DBL_MAX), "17976931348623157000", 20) == 0, "DBL_MAX digits");
    const char *tiny = ffmt(5e-324);
    is_int(strlen(tiny), 326, "smallest subnormal: 0. + 323 zeros + 5");
    ok(tiny[325] == '5', "smallest subnormal is one digit");
    ok(strlen(ffmt(-DBL_MIN)) < FMT_FLOAT_MAX, "FMT_FLOAT_MAX holds the longest form");
}

static void test_float_truncation(void)
{
    char small[6];
    fmt_float(small, sizeof small, 3.14159);
    is_str(small, "3.141", "a short buffer truncates");
    fmt_float(small, sizeof small, 1234567.0);
    is_str(small, "12345", "a short buffer truncates whole numbers");
}

/* Random doubles of every magnitude read back exactly, and never need more
 * characters than %.17g's digits. */
static void test_float_roundtrip(void)
{
    uint64_t s = 0x9E3779B97F4A7C15ULL;
    int bad = 0;
    for (int i = 0; i < 200000; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        double d;
        memcpy(&d, &s, sizeof d);
        if (!isfinite(d))
            continue;
        const char *txt = ffmt(d);
        if (strtod(txt, NULL) != d || strchr(txt, 'e')) {
            if (bad++ < 5)
                tap_diag("%.17g printed as %s", d, txt);
        }
    }
    is_int(bad, 0, "200000 random doubles round-trip positionally");
}

static const char *spec(qvm *vm, qval v, const char *sp)
{
    static char out[256];
    qbuf b;
    buf_init(&b);
    if (!fmt_spec(vm, &b, v, sp, strlen(sp))) {
        qexc *e = vm_take_exc(vm);
        snprintf(out, sizeof out, "%s!", e->type->name->data);
    } else {
        snprintf(out, sizeof out, "%s", b.data ? b.data : "");
    }
    buf_free(&b);
    return out;
}

static void test_spec_numbers(qvm *vm)
{
    qval i255 = qv_int(255), i42 = qv_int(42), neg = qv_int(-42);
    is_str(spec(vm, i255, "x"), "ff", "hex");
    is_str(spec(vm, i255, "X"), "FF", "upper hex");
    is_str(spec(vm, i255, "#x"), "0xff", "hex prefix");
    is_str(spec(vm, i255, "#X"), "0xFF", "prefix stays 0x for X");
    is_str(spec(vm, qv_int(10), "#b"), "0b1010", "binary prefix");
    is_str(spec(vm, qv_int(8), "#o"), "0o10", "octal prefix");
    is_str(spec(vm, qv_int(-1), "x"), "ffffffffffffffff", "negative hex is two's complement");
    is_str(spec(vm, qv_int(0), "b"), "0", "binary zero");
    is_str(spec(vm, i42, "5"), "   42", "width right-aligns");
    is_str(spec(vm, i42, "<5"), "42   ", "left align");
    is_str(spec(vm, i42, "^5"), " 42  ", "center puts the extra space right");
    is_str(spec(vm, i42, "05"), "00042", "zero padding");
    is_str(spec(vm, neg, "05"), "-0042", "zero padding goes after the sign");
    is_str(spec(vm, i255, "#06x"), "0x00ff", "zero padding goes after the prefix");
    is_str(spec(vm, i42, "0>5"), "00042", "explicit 0 fill");
    is_str(spec(vm, i42, "*^6"), "**42**", "fill and center");
    is_str(spec(vm, i42, "+"), "+42", "plus sign");
    is_str(spec(vm, neg, "+"), "-42", "plus sign on a negative");
    is_str(spec(vm, i42, " "), " 42", "space sign");
    is_str(spec(vm, i42, ".2"), "42.00", "precision on an Int");
    is_str(spec(vm, qv_int(1234), "e"), "1.234e3", "Int in exponent form");
    is_str(spec(vm, i42, "d"), "42", "d is the default");

    qval pi = qv_float(3.14159);
    is_str(spec(vm, pi, ".2"), "3.14", "fixed decimals");
    is_str(spec(vm, pi, ".0"), "3", "no decimals");
    is_str(spec(vm, qv_float(2.5), ".2"), "2.50", "pads decimals");
    is_str(spec(vm, pi, "8.2"), "    3.14", "width and precision");
    is_str(spec(vm, qv_float(3.14), "0>8.2"), "00003.14", "fill, width and precision");
    is_str(spec(vm, qv_float(3.14), "+8.2"), "   +3.14", "sign, width and precision");
    is_str(spec(vm, qv_float(-3.14), "08.2"), "-0003.14", "zero pad a negative float");
    is_str(spec(vm, qv_float(1000.0), "e"), "1e3", "exponent form");
    is_str(spec(vm, qv_float(1000.0), "E"), "1E3", "upper exponent form");
    is_str(spec(vm, qv_float(1234.5), ".2e"), "1.23e3", "exponent with precision");
    is_str(spec(vm, qv_float(0.00012), "e"), "1.2e-4", "negative exponent");
    is_str(spec(vm, qv_float(0.0), "e"), "0e0", "zero in exponent form");
    is_str(spec(vm, qv_float(255.9), "x"), "ff", "Float in hex truncates");
    is_str(spec(vm, qv_float(2.5), ""), "2.5", "empty spec is str()");
    is_str(spec(vm, qv_float(NAN), ".2"), "NaN", "NaN with precision");
    is_str(spec(vm, qv_float(INFINITY), "+"), "+inf", "inf with sign");
}

static void test_spec_text(qvm *vm)
{
    qval x = qv_obj(str_cstr(vm, "x"));
    is_str(spec(vm, x, "5"), "    x", "strings right-align by default, as the reference");
    is_str(spec(vm, x, "<5"), "x    ", "left");
    is_str(spec(vm, x, "-^5"), "--x--", "fill center");
    is_str(spec(vm, x, "->5"), "----x", "fill right");
    qval wide = qv_obj(str_cstr(vm, "héllo wörld"));
    is_str(spec(vm, wide, ".4"), "héll", "precision truncates characters");
    is_str(spec(vm, wide, "13"), "  héllo wörld", "width counts characters");
    is_str(spec(vm, x, "·^5"), "··x··", "a multi-byte fill character");
    is_str(spec(vm, qv_bool(true), "6"), "  true", "Bool as text");
    is_str(spec(vm, qv_nil(), "<4"), "nil ", "nil as text");
}

static void test_spec_errors(qvm *vm)
{
    is_str(spec(vm, qv_int(1), "q"), "ValueErr!", "unknown type");
    is_str(spec(vm, qv_int(1), "xx"), "ValueErr!", "trailing junk");
    is_str(spec(vm, qv_int(1), "."), "ValueErr!", "dot without precision");
    is_str(spec(vm, qv_int(1), "99999999"), "ValueErr!", "absurd width");
    is_str(spec(vm, qv_obj(str_cstr(vm, "a")), "x"), "ValueErr!", "hex of a Str");
}

static const char *fmt(qvm *vm, const char *f, int argc, qval *argv)
{
    static char out[256];
    qval r = str_format(vm, str_cstr(vm, f), argc, argv);
    if (IS_EXC(r))
        snprintf(out, sizeof out, "%s!", vm_take_exc(vm)->type->name->data);
    else
        snprintf(out, sizeof out, "%s", AS_STR(r)->data);
    return out;
}

static void test_str_format(qvm *vm)
{
    qval args[3] = {qv_obj(str_cstr(vm, "Bob")), qv_int(25), qv_float(2.5)};
    is_str(fmt(vm, "Hello {}, you are {}", 2, args), "Hello Bob, you are 25", "positional");
    is_str(fmt(vm, "{1} {0}", 2, args), "25 Bob", "explicit indexes");
    is_str(fmt(vm, "{2:.2} {2}", 3, args), "2.50 2.5", "index with spec");
    is_str(fmt(vm, "{:>5}|{:<4}|", 2, args), "  Bob|25  |", "auto-numbered specs advance");
    is_str(fmt(vm, "{0} {} {}", 2, args), "Bob Bob 25", "explicit indexes do not advance");
    is_str(fmt(vm, "{{}} {{x}}", 0, NULL), "{} {x}", "escaped braces");
    is_str(fmt(vm, "a } b", 0, NULL), "a } b", "a lone closing brace is kept");
    is_str(fmt(vm, "{} {}", 1, args), "ArgErr!", "too few arguments");
    is_str(fmt(vm, "{5}", 1, args), "ArgErr!", "index out of range");
    is_str(fmt(vm, "{x}", 1, args), "ValueErr!", "named placeholders are not supported");
    is_str(fmt(vm, "tail {", 1, args), "ValueErr!", "unterminated placeholder");
    is_str(fmt(vm, "{:q}", 1, args), "ValueErr!", "bad spec");
}

int main(void)
{
    test_float_known();
    test_float_truncation();
    test_float_roundtrip();
    qvm *vm = vm_new(NULL);
    test_spec_numbers(vm);
    test_spec_text(vm);
    test_spec_errors(vm);
    test_str_format(vm);
    vm_free(vm);
    return done_testing();
}
