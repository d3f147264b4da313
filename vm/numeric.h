/* numeric.h — what the files of the numeric tower share: num_arith.c (the
 * operators), num_methods.c (Int, Float, Bool), bigint.c and decimal.c.
 * The rest of the VM goes through vm.h. */
#ifndef QUEST_NUMERIC_H
#define QUEST_NUMERIC_H

#include "decimal_core.h"
#include "vm.h"

/* ---- decimal.c ---- */

static inline qdec decimal_get(const qdecimal *d)
{
    qdec r = {d->coef, d->scale};
    return r;
}

qval decimal_value(qvm *vm, qdec d);
/* An Int, Float or Decimal as a qdec.  False after raising: TypeErr
 * "<fname> expects ..." for other kinds, ValueErr for a NaN, infinite or
 * too large Float. */
bool decimal_coerce(qvm *vm, const char *fname, qval v, qdec *out);
/* a op b (+ - * / %, op a qop) where either is a Decimal and the other a
 * Decimal, Int or Float. */
qval decimal_arith(qvm *vm, int op, qval a, qval b);

/* ---- bigint.c ---- */

/* a op b for the operators + - * / % and | ^ & (op a qop). */
qval bigint_arith(qvm *vm, int op, const qbigint *a, const qbigint *b);
/* a << n, a >> n (op QOP_SHL / QOP_SHR); n < 0 raises ValueErr. */
qval bigint_shift(qvm *vm, int op, const qbigint *a, int64_t n);
qval bigint_negate(qvm *vm, const qbigint *a);
qval bigint_invert(qvm *vm, const qbigint *a);   /* ~a */

#endif
