/* decimal_core.h — exact decimal arithmetic on plain values, without a VM.
 *
 * A qdec is coef * 10^-scale with |coef| < 2^96 and 0 <= scale <= 28: the
 * range of rust_decimal, which the reference interpreter uses, so results
 * have 28 or 29 significant digits exactly as there.  The scale is kept
 * through arithmetic the same way: a + b and a % b take the larger scale,
 * a * b the sum of the scales, a / b the smallest scale that holds the exact
 * quotient (or as many digits as fit).
 *
 * Rounding rule: whenever a result has more digits than fit (|coef| would
 * reach 2^96 or the scale would pass 28), digits are dropped from the right
 * and the last kept digit is rounded half to even, looking at everything
 * dropped (not just the first dropped digit).  Text that is too precise is
 * rounded half away from zero on its first surplus digit, as rust_decimal's
 * parser does.  A result whose integer part needs more than 96 bits is an
 * overflow; nothing wraps.
 */
#ifndef QUEST_DECIMAL_CORE_H
#define QUEST_DECIMAL_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DEC_MAX_SCALE 28
/* Longest text dec_format writes, with its NUL: sign, 29 digits, a point
 * and the zeros of "0.000…". */
#define DEC_FMT_MAX 48

typedef struct qdec {
    __int128 coef;
    uint32_t scale;
} qdec;

typedef enum {
    DEC_OK,
    DEC_OVERFLOW,  /* the result does not fit 96 bits at scale 0 */
    DEC_DIV_ZERO,
    DEC_INVALID,   /* bad text, or a NaN / infinite double */
} dec_status;

typedef enum {
    DEC_ROUND_HALF_EVEN, /* Decimal.round(): banker's rounding */
    DEC_ROUND_FLOOR,
    DEC_ROUND_CEIL,
    DEC_ROUND_TRUNC,
} dec_rounding;

/* "123.45", "-0.5", "+7", ".5", "5.", "1_000.25"; surrounding whitespace is
 * ignored.  No exponents. */
dec_status dec_parse(const char *s, size_t len, qdec *out);
/* Plain notation with exactly `scale` decimals ("100.50", "-0.05", "42");
 * returns the length written to out (DEC_FMT_MAX bytes). */
size_t dec_format(qdec d, char *out);

qdec dec_from_i64(int64_t i);
/* The double's exact binary value, rounded to what a qdec holds (so 0.5 is
 * "0.5" and 0.1 is "0.1000000000000000055511151231"). */
dec_status dec_from_double(double f, qdec *out);
/* Correctly rounded. */
double dec_to_double(qdec d);

dec_status dec_add(qdec a, qdec b, qdec *out);
dec_status dec_sub(qdec a, qdec b, qdec *out);
dec_status dec_mul(qdec a, qdec b, qdec *out);
dec_status dec_div(qdec a, qdec b, qdec *out);
/* Truncated remainder: the sign of a, the larger of the two scales. */
dec_status dec_rem(qdec a, qdec b, qdec *out);

/* Numeric order, ignoring scale (1.0 == 1.00). */
int dec_cmp(qdec a, qdec b);
qdec dec_neg(qdec d);
qdec dec_abs(qdec d);
/* To an integral value of scale 0 (never overflows). */
qdec dec_round(qdec d, dec_rounding mode);

#endif
