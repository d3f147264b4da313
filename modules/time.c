/* time.c — std/time: clocks, instants, dates, times of day, zoned
 * date-times and spans, in the shape of the reference (which wraps Rust's
 * jiff):
 *
 *   Timestamp  an instant (seconds + nanoseconds since 1970, UTC)
 *   Zoned      an instant seen in a time zone: civil fields, offset, name
 *   Date       a calendar day;  Time  a time of day
 *   Span       a duration kept unit by unit (5 days, 3 hours ...)
 *   DateRange  two dates, both included
 *
 * All values are immutable native objects; each points at the module's
 * state (its types and the cache of loaded time zones), which it keeps
 * alive.  Calendar maths, zones and text live in time_civil.c, time_tz.c
 * and time_text.c.
 *
 * ticks_ms() counts milliseconds on the monotonic clock from the moment the
 * module was first loaded in this VM ("since the program started"): it is
 * for measuring elapsed time and is not moved by changes of the wall clock.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "modules/modules.h"
#include "modules/time_internal.h"

/* Instants the module can represent: years -9999 to 9999. */
#define TM_SEC_MIN (-377705116800LL) /* -9999-01-01T00:00:00Z */
#define TM_SEC_MAX 253402300799LL    /* 9999-12-31T23:59:59Z */

typedef enum { TK_TIMESTAMP, TK_ZONED, TK_DATE, TK_TIME, TK_SPAN, TK_RANGE, TK__COUNT } tk_kind;

typedef struct tm_instant {
    int64_t sec;
    int32_t nanos;
} tm_instant;

typedef struct time_state {
    qtype *types[TK__COUNT];
    tz_zone **zones; /* loaded zones, kept for the VM's life */
    size_t nzones, cap;
    tz_zone *local;  /* the system's zone, loaded on first use */
    int64_t start_ms;
} time_state;

typedef struct tm_zoned {
    tm_instant at;
    const tz_zone *tz;
    int32_t offset;
    const char *abbrev;
    tm_date date;
    tm_tod tod;
} tm_zoned;

typedef struct tval {
    qcdata *state;
    union {
        tm_instant ts;
        tm_zoned z;
        tm_date date;
        tm_tod tod;
        tm_span span;
        struct {
            tm_date start, end;
        } range;
    } u;
} tval;

static void tv_mark(qvm *vm, void *p)
{
    vm_mark_obj(vm, (qobj *)((tval *)p)->state);
}

static const qcdata_class tm_classes[TK__COUNT] = {
    {"Timestamp", free, tv_mark, NULL}, {"Zoned", free, tv_mark, NULL},
    {"Date", free, tv_mark, NULL},      {"Time", free, tv_mark, NULL},
    {"Span", free, tv_mark, NULL},      {"DateRange", free, tv_mark, NULL},
};

static void time_state_mark(qvm *vm, void *p)
{
    time_state *st = p;
    for (int k = 0; k < TK__COUNT; k++)
        vm_mark_obj(vm, (qobj *)st->types[k]);
}

static void time_state_free(void *p)
{
    time_state *st = p;
    for (size_t i = 0; i < st->nzones; i++)
        tz_free(st->zones[i]);
    free(st->zones);
    tz_free(st->local);
    free(st);
}

static const qcdata_class time_state_class = {"TimeModule", time_state_free, time_state_mark, NULL};

/* ---- values ---------------------------------------------------------------------------------------------- */

static tval *tv_of(qval v, tk_kind k)
{
    return IS_KIND(v, QO_CDATA) && AS_CDATA(v)->cls == &tm_classes[k] ? AS_CDATA(v)->data : NULL;
}

/* The receiver of a method of kind k (TypeErr when called on another). */
static tval *tv_self(qvm *vm, qval self, tk_kind k)
{
    return cdata_get(vm, self, &tm_classes[k]);
}

static time_state *tv_state(const tval *v)
{
    return v->state->data;
}

static qval tv_new(qvm *vm, qcdata *state, tk_kind k, const tval *init)
{
    tval *v = malloc(sizeof *v);
    if (!v)
        return vm_raise(vm, E_RUNTIME, "std/time: out of memory");
    *v = *init;
    v->state = state;
    return qv_obj(cdata_new(vm, ((time_state *)state->data)->types[k], &tm_classes[k], v));
}

static qval tm_out_of_range(qvm *vm, const char *fname)
{
    return vm_raise(vm, E_VALUE, "%s: result is outside the supported range (years %d to %d)", fname,
                    TM_YEAR_MIN, TM_YEAR_MAX);
}

static bool tm_instant_ok(tm_instant t)
{
    return t.sec >= TM_SEC_MIN && t.sec <= TM_SEC_MAX;
}

/* Nanoseconds since 1970 and back. */
static __int128 tm_instant_nanos(tm_instant t)
{
    return (__int128)t.sec * TM_NS_PER_SEC + t.nanos;
}

static tm_instant tm_instant_from_nanos(__int128 n)
{
    __int128 sec = n / TM_NS_PER_SEC, rem = n % TM_NS_PER_SEC;
    if (rem < 0)
        rem += TM_NS_PER_SEC, sec--;
    if (sec > INT64_MAX / 2 || sec < INT64_MIN / 2)
        sec = sec > 0 ? INT64_MAX / 2 : INT64_MIN / 2; /* rejected by tm_instant_ok */
    return (tm_instant){(int64_t)sec, (int32_t)rem};
}

static qval tm_new_timestamp(qvm *vm, qcdata *state, tm_instant t, const char *fname)
{
    if (!tm_instant_ok(t))
        return tm_out_of_range(vm, fname);
    tval v = {.u.ts = t};
    return tv_new(vm, state, TK_TIMESTAMP, &v);
}

static qval tm_new_zoned(qvm *vm, qcdata *state, const tz_zone *tz, tm_instant t, const char *fname)
{
    if (!tm_instant_ok(t))
        return tm_out_of_range(vm, fname);
    tval v;
    tm_zoned *z = &v.u.z;
    z->at = t;
    z->tz = tz;
    z->offset = tz_offset_at(tz, t.sec, &z->abbrev);
    tm_split_local(t.sec + z->offset, &z->date, &z->tod);
    z->tod.nanos = t.nanos;
    if (!tm_year_in_range(z->date.year))
        return tm_out_of_range(vm, fname);
    return tv_new(vm, state, TK_ZONED, &v);
}

/* The instant a civil date and time denote in tz (see tz_local_to_utc). */
static tm_instant tm_civil_instant(const tz_zone *tz, tm_date d, tm_tod t)
{
    return (tm_instant){tz_local_to_utc(tz, tm_local_seconds(d, t)), t.nanos};
}

static qval tm_new_zoned_civil(qvm *vm, qcdata *state, const tz_zone *tz, tm_date d, tm_tod t,
                               const char *fname)
{
    return tm_new_zoned(vm, state, tz, tm_civil_instant(tz, d, t), fname);
}

static qval tm_new_date(qvm *vm, qcdata *state, tm_date d)
{
    tval v = {.u.date = d};
    return tv_new(vm, state, TK_DATE, &v);
}

static qval tm_new_time(qvm *vm, qcdata *state, tm_tod t)
{
    tval v = {.u.tod = t};
    return tv_new(vm, state, TK_TIME, &v);
}

static qval tm_new_span(qvm *vm, qcdata *state, tm_span s)
{
    tval v = {.u.span = s};
    return tv_new(vm, state, TK_SPAN, &v);
}

/* ---- arguments ------------------------------------------------------------------------------------------- */

/* An Int, or a Float taken toward zero (the reference accepts both). */
static bool tm_arg_int(qvm *vm, const char *fname, qval v, int64_t *out)
{
    if (IS_INT(v)) {
        *out = v.as.i;
        return true;
    }
    if (IS_FLOAT(v)) {
        if (!isfinite(v.as.f) || fabs(v.as.f) > 9.2e18) {
            vm_raise(vm, E_VALUE, "%s expects a finite number, got %g", fname, v.as.f);
            return false;
        }
        *out = (int64_t)v.as.f;
        return true;
    }
    vm_raise(vm, E_TYPE, "%s expects a number, got %s", fname, vm_cls_name(v));
    return false;
}

/* Arguments args[0..n) as integers. */
static bool tm_arg_ints(qvm *vm, const char *fname, int n, qval *args, int64_t *out)
{
    for (int i = 0; i < n; i++)
        if (!tm_arg_int(vm, fname, args[i], &out[i]))
            return false;
    return true;
}

static const tz_zone *tm_zone(qvm *vm, time_state *st, const char *fname, qval name)
{
    if (!IS_STR(name)) {
        vm_raise(vm, E_TYPE, "%s expects a time zone name (Str), got %s", fname, vm_cls_name(name));
        return NULL;
    }
    const char *n = AS_STR(name)->data;
    for (size_t i = 0; i < st->nzones; i++)
        if (strcmp(tz_name(st->zones[i]), n) == 0)
            return st->zones[i];
    char err[512];
    tz_zone *z = tz_load(n, err, sizeof err);
    if (!z) {
        vm_raise(vm, E_VALUE, "Invalid timezone '%s': %s", n, err);
        return NULL;
    }
    if (st->nzones == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 8;
        tz_zone **zones = realloc(st->zones, cap * sizeof *zones);
        if (!zones) {
            tz_free(z);
            vm_raise(vm, E_RUNTIME, "std/time: out of memory");
            return NULL;
        }
        st->zones = zones;
        st->cap = cap;
    }
    return st->zones[st->nzones++] = z;
}

static const tz_zone *tm_local_zone(qvm *vm, time_state *st)
{
    if (!st->local && !(st->local = tz_load_local()))
        vm_raise(vm, E_RUNTIME, "std/time: out of memory");
    return st->local;
}

static bool tm_arg_date(qvm *vm, const char *fname, int64_t y, int64_t m, int64_t d, tm_date *out)
{
    if (!tm_date_valid(y, m, d)) {
        if (m >= 1 && m <= 12 && tm_year_in_range(y))
            vm_raise(vm, E_VALUE, "%s: invalid date %04lld-%02lld-%02lld (day out of range for the month)",
                     fname, (long long)y, (long long)m, (long long)d);
        else
            vm_raise(vm, E_VALUE, "%s: invalid date (year %lld, month %lld, day %lld)", fname,
                     (long long)y, (long long)m, (long long)d);
        return false;
    }
    *out = (tm_date){(int32_t)y, (int8_t)m, (int8_t)d};
    return true;
}

static bool tm_arg_tod(qvm *vm, const char *fname, const int64_t *hmsn, tm_tod *out)
{
    if (!tm_tod_valid(hmsn[0], hmsn[1], hmsn[2], hmsn[3])) {
        vm_raise(vm, E_VALUE, "%s: invalid time of day (hour %lld, minute %lld, second %lld, nanosecond %lld)",
                 fname, (long long)hmsn[0], (long long)hmsn[1], (long long)hmsn[2], (long long)hmsn[3]);
        return false;
    }
    *out = (tm_tod){(int8_t)hmsn[0], (int8_t)hmsn[1], (int8_t)hmsn[2], (int32_t)hmsn[3]};
    return true;
}

/* ---- text forms -------------------------------------------------------------------------------------------- */

static void tm_put_instant(qbuf *b, tm_instant t)
{
    tm_date d;
    tm_tod tod;
    tm_split_local(t.sec, &d, &tod);
    tod.nanos = t.nanos;
    tm_put_date(b, d);
    buf_putc(b, 'T');
    tm_put_tod(b, tod);
    buf_putc(b, 'Z');
}

static void tm_put_zoned(qbuf *b, const tm_zoned *z, bool with_name)
{
    tm_put_date(b, z->date);
    buf_putc(b, 'T');
    tm_put_tod(b, z->tod);
    tm_put_offset(b, z->offset, true);
    if (with_name)
        buf_printf(b, "[%s]", tz_name(z->tz));
}

static void tm_put_value(qbuf *b, tk_kind k, const tval *v)
{
    switch (k) {
    case TK_TIMESTAMP: tm_put_instant(b, v->u.ts); break;
    case TK_ZONED: tm_put_zoned(b, &v->u.z, true); break;
    case TK_DATE: tm_put_date(b, v->u.date); break;
    case TK_TIME: tm_put_tod(b, v->u.tod); break;
    case TK_SPAN: tm_put_span(b, &v->u.span); break;
    default:
        tm_put_date(b, v->u.range.start);
        buf_puts(b, "..");
        tm_put_date(b, v->u.range.end);
        break;
    }
}

/* Which time value v is, or TK__COUNT for anything else. */
static tk_kind tm_kind_of(qval v)
{
    int k = 0;
    while (k < TK__COUNT && !tv_of(v, (tk_kind)k))
        k++;
    return (tk_kind)k;
}

/* str() of every time value (its class tells which). */
static qval tm_str(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    tk_kind k = tm_kind_of(self);
    if (k == TK__COUNT)
        return vm_raise(vm, E_TYPE, "str expects a time value, got %s", vm_cls_name(self));
    qbuf b;
    buf_init(&b);
    tm_put_value(&b, k, AS_CDATA(self)->data);
    return qv_obj(buf_to_str(vm, &b));
}

/* _rep(): "Date(2025-10-01)". */
static qval tm_rep(qvm *vm, qval self, int argc, qval *argv)
{
    qval s = tm_str(vm, self, argc, argv);
    if (IS_EXC(s))
        return s;
    return qv_obj(str_printf(vm, "%s(%s)", AS_CDATA(self)->cls->name, AS_STR(s)->data));
}

static qval tm_format_fields(qvm *vm, const char *fname, qval pattern, const tm_fields *f)
{
    if (!IS_STR(pattern))
        return vm_raise(vm, E_TYPE, "%s expects a format string, got %s", fname, vm_cls_name(pattern));
    qbuf b;
    buf_init(&b);
    char err[256];
    if (!tm_format(&b, AS_STR(pattern)->data, AS_STR(pattern)->len, f, err, sizeof err)) {
        buf_free(&b);
        return vm_raise(vm, E_VALUE, "%s: %s", fname, err);
    }
    return qv_obj(buf_to_str(vm, &b));
}

static tm_fields tm_zoned_fields(const tm_zoned *z)
{
    tm_fields f = {true, true, true, z->date, z->tod, z->offset, z->abbrev, tz_name(z->tz), true, z->at.sec};
    return f;
}

static tm_fields tm_instant_fields(tm_instant t)
{
    tm_fields f = {true, true, true, {0, 1, 1}, {0, 0, 0, 0}, 0, "UTC", "UTC", true, t.sec};
    tm_split_local(t.sec, &f.date, &f.tod);
    f.tod.nanos = t.nanos;
    return f;
}

/* ---- spans --------------------------------------------------------------------------------------------------- */

/* The span between two instants, from `largest` down to nanoseconds. */
static qval tm_span_between(qvm *vm, qcdata *state, tm_instant a, tm_instant b, tm_unit largest)
{
    return tm_new_span(vm, state, tm_span_balance(tm_instant_nanos(a) - tm_instant_nanos(b), largest));
}

/* a + sign * b, unit by unit for calendar spans, rebalanced otherwise. */
static bool tm_span_combine(const tm_span *a, const tm_span *b, int sign, tm_span *out)
{
    if (tm_span_has_calendar(a) || tm_span_has_calendar(b)) {
        tm_span x = *a, y = *b;
        for (tm_unit u = TM_UNIT_NANO; u <= TM_UNIT_YEAR; u++) {
            int64_t d;
            if (__builtin_mul_overflow(*tm_span_unit(&y, u), sign, &d) ||
                __builtin_add_overflow(*tm_span_unit(&x, u), d, tm_span_unit(out, u)))
                return false;
        }
        return true;
    }
    __int128 na, nb;
    tm_span_total_nanos(a, &na);
    tm_span_total_nanos(b, &nb);
    tm_unit la = tm_span_largest(a), lb = tm_span_largest(b);
    *out = tm_span_balance(na + sign * nb, la > lb ? la : lb);
    return true;
}

/* The whole span in `unit`s (Float), for spans of fixed length. */
static qval tm_span_total(qvm *vm, qval self, const char *fname, double unit_nanos)
{
    tval *v = tv_self(vm, self, TK_SPAN);
    if (!v)
        return qv_exc();
    __int128 n;
    if (!tm_span_total_nanos(&v->u.span, &n))
        return vm_raise(vm, E_VALUE,
                        "%s: a span with years or months has no fixed length (it depends on the date)",
                        fname);
    return qv_float((double)n / unit_nanos);
}

/* ---- module functions -------------------------------------------------------------------------------------------- */

static time_state *tm_module(qval self)
{
    return AS_CDATA(self)->data;
}

static tm_instant tm_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (tm_instant){ts.tv_sec, (int32_t)ts.tv_nsec};
}

static qval time_now(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return tm_new_timestamp(vm, AS_CDATA(self), tm_now(), "time.now");
}

static qval time_now_local(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    const tz_zone *tz = tm_local_zone(vm, tm_module(self));
    return tz ? tm_new_zoned(vm, AS_CDATA(self), tz, tm_now(), "time.now_local") : qv_exc();
}

/* The local civil date and time now. */
static bool tm_local_now(qvm *vm, qval self, tm_date *d, tm_tod *t)
{
    const tz_zone *tz = tm_local_zone(vm, tm_module(self));
    if (!tz)
        return false;
    tm_instant now = tm_now();
    tm_split_local(now.sec + tz_offset_at(tz, now.sec, NULL), d, t);
    t->nanos = now.nanos;
    return true;
}

static qval time_today(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    tm_date d;
    tm_tod t;
    return tm_local_now(vm, self, &d, &t) ? tm_new_date(vm, AS_CDATA(self), d) : qv_exc();
}

static qval time_time_now(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    tm_date d;
    tm_tod t;
    return tm_local_now(vm, self, &d, &t) ? tm_new_time(vm, AS_CDATA(self), t) : qv_exc();
}

static qval time_ticks_ms(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return qv_int((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 - tm_module(self)->start_ms);
}

/* datetime(year, month, day, hour, minute, second, timezone = "UTC") */
static qval time_datetime(qvm *vm, qval self, int argc, qval *argv)
{
    int64_t n[7] = {0};
    tm_date d;
    tm_tod t;
    if (!tm_arg_ints(vm, "time.datetime", 6, argv, n) ||
        !tm_arg_date(vm, "time.datetime", n[0], n[1], n[2], &d) ||
        !tm_arg_tod(vm, "time.datetime", (int64_t[]){n[3], n[4], n[5], 0}, &t))
        return qv_exc();
    time_state *st = tm_module(self);
    const tz_zone *tz = argc > 6 ? tm_zone(vm, st, "time.datetime", argv[6])
                                 : tm_zone(vm, st, "time.datetime", qv_obj(str_cstr(vm, "UTC")));
    return tz ? tm_new_zoned_civil(vm, AS_CDATA(self), tz, d, t, "time.datetime") : qv_exc();
}

static qval time_date(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    int64_t n[3];
    tm_date d;
    if (!tm_arg_ints(vm, "time.date", 3, argv, n) || !tm_arg_date(vm, "time.date", n[0], n[1], n[2], &d))
        return qv_exc();
    return tm_new_date(vm, AS_CDATA(self), d);
}

static qval time_time(qvm *vm, qval self, int argc, qval *argv)
{
    int64_t n[4] = {0};
    tm_tod t;
    if (!tm_arg_ints(vm, "time.time", argc, argv, n) || !tm_arg_tod(vm, "time.time", n, &t))
        return qv_exc();
    return tm_new_time(vm, AS_CDATA(self), t);
}

static qval time_from_iso_week(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    int64_t n[3];
    tm_date d;
    if (!tm_arg_ints(vm, "time.from_iso_week", 3, argv, n))
        return qv_exc();
    if (!tm_date_from_iso_week(n[0], n[1], n[2], &d))
        return vm_raise(vm, E_VALUE, "time.from_iso_week: no week %lld (weekday %lld) in ISO year %lld",
                        (long long)n[1], (long long)n[2], (long long)n[0]);
    return tm_new_date(vm, AS_CDATA(self), d);
}

/* from_timestamp*(n): n units since 1970; a Float keeps its fraction. */
static qval tm_from_epoch(qvm *vm, qval self, qval arg, int64_t unit_nanos, const char *fname)
{
    __int128 nanos;
    if (IS_FLOAT(arg) && isfinite(arg.as.f) && fabs(arg.as.f) < 1e20) {
        /* Whole units and the fraction apart: a double cannot hold a
         * present-day count of nanoseconds exactly. */
        double whole = trunc(arg.as.f);
        nanos = (__int128)whole * unit_nanos + llround((arg.as.f - whole) * (double)unit_nanos);
    } else {
        int64_t n;
        if (!tm_arg_int(vm, fname, arg, &n))
            return qv_exc();
        nanos = (__int128)n * unit_nanos;
    }
    tm_instant t = tm_instant_from_nanos(nanos);
    if (!tm_instant_ok(t))
        return vm_raise(vm, E_VALUE, "%s: timestamp is outside the supported range (years %d to %d)", fname,
                        TM_YEAR_MIN, TM_YEAR_MAX);
    return tm_new_timestamp(vm, AS_CDATA(self), t, fname);
}

static qval time_from_timestamp(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    return tm_from_epoch(vm, self, argv[0], TM_NS_PER_SEC, "time.from_timestamp");
}

static qval time_from_timestamp_ms(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    return tm_from_epoch(vm, self, argv[0], 1000000, "time.from_timestamp_ms");
}

static qval time_from_timestamp_us(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    return tm_from_epoch(vm, self, argv[0], 1000, "time.from_timestamp_us");
}

/* The value a parse result stands for. */
static qval tm_from_parsed(qvm *vm, qval self, const tm_parsed *p, const char *text)
{
    qcdata *state = AS_CDATA(self);
    tm_instant at = {tm_local_seconds(p->date, p->tod) - p->offset, p->tod.nanos};
    switch (p->kind) {
    case TM_PARSED_DATE: return tm_new_date(vm, state, p->date);
    case TM_PARSED_TIME: return tm_new_time(vm, state, p->tod);
    case TM_PARSED_INSTANT: return tm_new_timestamp(vm, state, at, "time.parse");
    case TM_PARSED_CIVIL: {
        const tz_zone *utc = tm_zone(vm, tm_module(self), "time.parse", qv_obj(str_cstr(vm, "UTC")));
        return utc ? tm_new_zoned_civil(vm, state, utc, p->date, p->tod, "time.parse") : qv_exc();
    }
    case TM_PARSED_ZONED: {
        const tz_zone *tz = tm_zone(vm, tm_module(self), "time.parse", qv_obj(str_cstr(vm, p->zone)));
        if (!tz)
            return qv_exc();
        return p->has_offset ? tm_new_zoned(vm, state, tz, at, "time.parse")
                             : tm_new_zoned_civil(vm, state, tz, p->date, p->tod, "time.parse");
    }
    default:
        return vm_raise(vm, E_ARG,
                        "Failed to parse '%s' as a date/time value. Supported formats: ISO 8601, RFC 3339, "
                        "RFC 2822",
                        text);
    }
}

/* parse(text) or parse(text, format) */
static qval time_parse(qvm *vm, qval self, int argc, qval *argv)
{
    qstr *text, *fmt;
    if (!arg_str(vm, "time.parse", argv[0], &text) || (argc > 1 && !arg_str(vm, "time.parse", argv[1], &fmt)))
        return qv_exc();
    if (argc == 1) {
        tm_parsed p = tm_parse(text->data);
        return tm_from_parsed(vm, self, &p, text->data);
    }
    tm_parsed p;
    char err[256];
    if (!tm_parse_format(text->data, fmt->data, &p, err, sizeof err))
        return vm_raise(vm, E_VALUE, "time.parse: '%s' does not match format '%s': %s", text->data, fmt->data,
                        err);
    return tm_from_parsed(vm, self, &p, text->data);
}

/* parse_duration("1d12h30m15s"): a span of seconds. */
static qval time_parse_duration(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qstr *text;
    if (!arg_str(vm, "time.parse_duration", argv[0], &text))
        return qv_exc();
    const char *s = text->data;
    int64_t total = 0, num = 0;
    bool have_num = false;
    for (; *s; s++) {
        if (*s >= '0' && *s <= '9') {
            if (__builtin_mul_overflow(num, 10, &num) || __builtin_add_overflow(num, *s - '0', &num))
                return vm_raise(vm, E_ARG, "Invalid number in duration: '%s'", text->data);
            have_num = true;
        } else if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')) {
            if (!have_num)
                return vm_raise(vm, E_ARG, "Invalid duration format: '%s' - number expected before unit",
                                text->data);
            int64_t unit = *s == 'd' ? 86400 : *s == 'h' ? 3600 : *s == 'm' ? 60 : *s == 's' ? 1 : 0;
            if (!unit)
                return vm_raise(vm, E_ARG,
                                "Invalid duration unit: '%c'. Supported: d (days), h (hours), m (minutes), "
                                "s (seconds)",
                                *s);
            if (__builtin_mul_overflow(num, unit, &num) || __builtin_add_overflow(total, num, &total))
                return vm_raise(vm, E_ARG, "Duration too long: '%s'", text->data);
            num = 0;
            have_num = false;
        } else if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r') {
            return vm_raise(vm, E_ARG, "Invalid character in duration: '%c'", *s);
        }
    }
    if (have_num)
        return vm_raise(vm, E_ARG, "Duration must end with a unit (d, h, m, s): '%s'", text->data);
    if (total == 0)
        return vm_raise(vm, E_VALUE, "Duration cannot be zero or empty");
    return tm_new_span(vm, AS_CDATA(self), (tm_span){.seconds = total});
}

/* span(years:, months:, weeks:, days:, hours:, minutes:, seconds:,
 *      millis:, micros:, nanos:) — all named, all optional. */
static qval time_span(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    /* Indexed by tm_unit. */
    static const char *const names[] = {"nanos", "micros", "millis", "seconds", "minutes",
                                        "hours", "days", "weeks", "months", "years"};
    tm_span s = {0};
    qdict *kw = vm_kwargs(vm);
    for (uint32_t i = 0; kw && i < kw->used; i++) {
        qstr *key = kw->entries[i].key;
        if (!key)
            continue;
        tm_unit u = TM_UNIT_NANO;
        while (u <= TM_UNIT_YEAR && strcmp(names[u], key->data) != 0)
            u++;
        if (u > TM_UNIT_YEAR)
            return vm_raise(vm, E_ARG, "time.span: unknown unit '%s' (use years, months, weeks, days, hours, "
                            "minutes, seconds, millis, micros or nanos)", key->data);
        if (!tm_arg_int(vm, "time.span", kw->entries[i].val, tm_span_unit(&s, u)))
            return qv_exc();
    }
    bool pos = false, neg = false;
    for (tm_unit u = TM_UNIT_NANO; u <= TM_UNIT_YEAR; u++)
        pos |= *tm_span_unit(&s, u) > 0, neg |= *tm_span_unit(&s, u) < 0;
    if (pos && neg)
        return vm_raise(vm, E_VALUE, "time.span: units must all have the same sign");
    return tm_new_span(vm, AS_CDATA(self), s);
}

static qval tm_unit_span(qvm *vm, qval self, qval n, const char *fname, tm_unit unit)
{
    int64_t v;
    if (!tm_arg_int(vm, fname, n, &v))
        return qv_exc();
    tm_span s = {0};
    switch (unit) {
    case TM_UNIT_DAY: s.days = v; break;
    case TM_UNIT_HOUR: s.hours = v; break;
    case TM_UNIT_MINUTE: s.minutes = v; break;
    default: s.seconds = v; break;
    }
    return tm_new_span(vm, AS_CDATA(self), s);
}

static qval time_days(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    return tm_unit_span(vm, self, argv[0], "time.days", TM_UNIT_DAY);
}

static qval time_hours(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    return tm_unit_span(vm, self, argv[0], "time.hours", TM_UNIT_HOUR);
}

static qval time_minutes(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    return tm_unit_span(vm, self, argv[0], "time.minutes", TM_UNIT_MINUTE);
}

static qval time_seconds(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    return tm_unit_span(vm, self, argv[0], "time.seconds", TM_UNIT_SECOND);
}

static qval time_range(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    tval *a = tv_of(argv[0], TK_DATE), *b = tv_of(argv[1], TK_DATE);
    if (!a || !b)
        return vm_raise(vm, E_TYPE, "time.range expects two Date objects, got %s and %s", vm_cls_name(argv[0]),
                        vm_cls_name(argv[1]));
    tval v = {.u.range = {a->u.date, b->u.date}};
    return tv_new(vm, AS_CDATA(self), TK_RANGE, &v);
}

static qval time_sleep(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    double secs;
    if (!arg_num(vm, "time.sleep", argv[0], &secs))
        return qv_exc();
    if (!(secs >= 0) || secs > 1e9)
        return vm_raise(vm, E_VALUE, "time.sleep expects a non-negative number of seconds, got %g", secs);
    struct timespec req = {(time_t)secs, (long)((secs - floor(secs)) * 1e9)};
    while (nanosleep(&req, &req) != 0 && errno == EINTR)
        ;
    return qv_nil();
}

static qval time_is_leap_year(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    int64_t y;
    return tm_arg_int(vm, "time.is_leap_year", argv[0], &y) ? qv_bool(tm_is_leap(y)) : qv_exc();
}

/* ---- Timestamp ------------------------------------------------------------------------------------------------------- */

/* The instant of a Timestamp or Zoned argument. */
static bool tm_arg_instant(qvm *vm, const char *fname, qval v, tm_instant *out)
{
    tval *t = tv_of(v, TK_TIMESTAMP), *z = tv_of(v, TK_ZONED);
    if (!t && !z) {
        vm_raise(vm, E_TYPE, "%s expects a Timestamp or Zoned, got %s", fname, vm_cls_name(v));
        return false;
    }
    *out = t ? t->u.ts : z->u.z.at;
    return true;
}

static qval ts_to_zoned(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    tval *v = tv_self(vm, self, TK_TIMESTAMP);
    const tz_zone *tz = v ? tm_zone(vm, tv_state(v), "to_zoned", argv[0]) : NULL;
    return tz ? tm_new_zoned(vm, v->state, tz, v->u.ts, "to_zoned") : qv_exc();
}

/* Whole units since 1970, as floor division (an instant half a second
 * before 1970 is at second -1). */
static qval ts_as_units(qvm *vm, qval self, int64_t unit_nanos)
{
    tval *v = tv_self(vm, self, TK_TIMESTAMP);
    if (!v)
        return qv_exc();
    __int128 n = tm_instant_nanos(v->u.ts), q = n / unit_nanos;
    if (n % unit_nanos < 0)
        q--;
    if (q <= INT64_MAX && q >= INT64_MIN)
        return qv_int((int64_t)q);
    char digits[64], *p = digits + sizeof digits;
    bool neg = q < 0;
    unsigned __int128 u = neg ? -(unsigned __int128)q : (unsigned __int128)q;
    *--p = '\0';
    do
        *--p = (char)('0' + (int)(u % 10));
    while ((u /= 10) != 0);
    if (neg)
        *--p = '-';
    return bigint_from_cstr(vm, p);
}

static qval ts_as_seconds(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return ts_as_units(vm, self, TM_NS_PER_SEC);
}

static qval ts_as_millis(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return ts_as_units(vm, self, 1000000);
}

static qval ts_as_micros(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return ts_as_units(vm, self, 1000);
}

static qval ts_as_nanos(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return ts_as_units(vm, self, 1);
}

static qval ts_since(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    tval *v = tv_self(vm, self, TK_TIMESTAMP);
    tm_instant other;
    if (!v || !tm_arg_instant(vm, "since", argv[0], &other))
        return qv_exc();
    return tm_span_between(vm, v->state, v->u.ts, other, TM_UNIT_SECOND);
}

static qval ts_format(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    tval *v = tv_self(vm, self, TK_TIMESTAMP);
    if (!v)
        return qv_exc();
    tm_fields f = tm_instant_fields(v->u.ts);
    return tm_format_fields(vm, "format", argv[0], &f);
}

/* Timestamp + or - a span of fixed length (days count as 24 hours). */
static qval ts_shift(qvm *vm, qval self, qval arg, int sign, const char *fname)
{
    tval *v = tv_self(vm, self, TK_TIMESTAMP);
    tval *s = tv_of(arg, TK_SPAN);
    if (!v)
        return qv_exc();
    if (!s)
        return vm_raise(vm, E_TYPE, "%s expects a Span, got %s", fname, vm_cls_name(arg));
    __int128 n;
    if (!tm_span_total_nanos(&s->u.span, &n))
        return vm_raise(vm, E_VALUE, "%s: a Timestamp cannot move by years or months (use a Zoned)", fname);
    return tm_new_timestamp(vm, v->state, tm_instant_from_nanos(tm_instant_nanos(v->u.ts) + sign * n), fname);
}

static qval ts_add(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    return ts_shift(vm, self, argv[0], 1, "add");
}

static qval ts_subtract(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    return ts_shift(vm, self, argv[0], -1, "subtract");
}

/* Order of two instants: the receiver (Timestamp or Zoned) and argv[0]. */
static bool tm_compare_instants(qvm *vm, qval self, qval other, const char *fname, int *cmp)
{
    tm_instant a, b;
    if (!tm_arg_instant(vm, fname, self, &a) || !tm_arg_instant(vm, fname, other, &b))
        return false;
    __int128 d = tm_instant_nanos(a) - tm_instant_nanos(b);
    *cmp = d < 0 ? -1 : d > 0;
    return true;
}

static qval tm_instant_equals(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    int c;
    return tm_compare_instants(vm, self, argv[0], "equals", &c) ? qv_bool(c == 0) : qv_exc();
}

static qval tm_instant_before(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    int c;
    return tm_compare_instants(vm, self, argv[0], "before", &c) ? qv_bool(c < 0) : qv_exc();
}

static qval tm_instant_after(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    int c;
    return tm_compare_instants(vm, self, argv[0], "after", &c) ? qv_bool(c > 0) : qv_exc();
}

/* ---- Zoned ------------------------------------------------------------------------------------------------------------------ */

#define ZONED_GETTER(fn, expr)                                   \
    static qval fn(qvm *vm, qval self, int argc, qval *argv)     \
    {                                                            \
        (void)argc, (void)argv;                                  \
        tval *v = tv_self(vm, self, TK_ZONED);                   \
        if (!v)                                                  \
            return qv_exc();                                     \
        const tm_zoned *z = &v->u.z;                             \
        return qv_int(expr);                                     \
    }

ZONED_GETTER(zo_year, z->date.year)
ZONED_GETTER(zo_month, z->date.month)
ZONED_GETTER(zo_day, z->date.day)
ZONED_GETTER(zo_hour, z->tod.hour)
ZONED_GETTER(zo_minute, z->tod.minute)
ZONED_GETTER(zo_second, z->tod.second)
ZONED_GETTER(zo_millisecond, z->tod.nanos / 1000000)
ZONED_GETTER(zo_microsecond, z->tod.nanos / 1000)
ZONED_GETTER(zo_nanosecond, z->tod.nanos)
ZONED_GETTER(zo_day_of_week, tm_weekday(z->date))
ZONED_GETTER(zo_day_of_year, tm_day_of_year(z->date))
ZONED_GETTER(zo_quarter, (z->date.month - 1) / 3 + 1)
ZONED_GETTER(zo_offset_seconds, z->offset)

static qval zo_timezone(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    tval *v = tv_self(vm, self, TK_ZONED);
    return v ? qv_obj(str_cstr(vm, tz_name(v->u.z.tz))) : qv_exc();
}

static qval zo_format(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    tval *v = tv_self(vm, self, TK_ZONED);
    if (!v)
        return qv_exc();
    tm_fields f = tm_zoned_fields(&v->u.z);
    return tm_format_fields(vm, "format", argv[0], &f);
}

static qval zo_to_rfc3339(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    tval *v = tv_self(vm, self, TK_ZONED);
    if (!v)
        return qv_exc();
    qbuf b;
    buf_init(&b);
    tm_put_zoned(&b, &v->u.z, false);
    return qv_obj(buf_to_str(vm, &b));
}

static qval zo_to_timezone(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    tval *v = tv_self(vm, self, TK_ZONED);
    const tz_zone *tz = v ? tm_zone(vm, tv_state(v), "to_timezone", argv[0]) : NULL;
    return tz ? tm_new_zoned(vm, v->state, tz, v->u.z.at, "to_timezone") : qv_exc();
}

static qval zo_to_utc(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    tval *v = tv_self(vm, self, TK_ZONED);
    const tz_zone *tz = v ? tm_zone(vm, tv_state(v), "to_utc", qv_obj(str_cstr(vm, "UTC"))) : NULL;
    return tz ? tm_new_zoned(vm, v->state, tz, v->u.z.at, "to_utc") : qv_exc();
}

static qval zo_to_timestamp(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    tval *v = tv_self(vm, self, TK_ZONED);
    return v ? tm_new_timestamp(vm, v->state, v->u.z.at, "to_timestamp") : qv_exc();
}

static qval zo_date(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    tval *v = tv_self(vm, self, TK_ZONED);
    return v ? tm_new_date(vm, v->state, v->u.z.date) : qv_exc();
}

static qval zo_time(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    tval *v = tv_self(vm, self, TK_ZONED);
    return v ? tm_new_time(vm, v->state, v->u.z.tod) : qv_exc();
}

/* Zoned + span: the calendar units move the civil date (clamping the day
 * to the month's end) and keep the wall-clock time; then the clock units
 * move the instant by their exact length. */
static qval zo_plus(qvm *vm, const tval *v, const tm_span *s, const char *fname)
{
    const tm_zoned *z = &v->u.z;
    tm_instant at = z->at;
    if (s->years || s->months || s->weeks || s->days) {
        tm_date d;
        int64_t months, days;
        if (__builtin_mul_overflow(s->years, 12, &months) || __builtin_add_overflow(months, s->months, &months) ||
            __builtin_mul_overflow(s->weeks, 7, &days) || __builtin_add_overflow(days, s->days, &days) ||
            !tm_date_add_months(z->date, months, &d) || !tm_date_add_days(d, days, &d))
            return tm_out_of_range(vm, fname);
        at = tm_civil_instant(z->tz, d, z->tod);
    }
    tm_instant r = tm_instant_from_nanos(tm_instant_nanos(at) + tm_span_clock_nanos(s));
    return tm_new_zoned(vm, v->state, z->tz, r, fname);
}

static tm_span tm_negate(tm_span s)
{
    for (tm_unit u = TM_UNIT_NANO; u <= TM_UNIT_YEAR; u++)
        *tm_span_unit(&s, u) = -*tm_span_unit(&s, u);
    return s;
}

/* add_days(n) and friends: a one-unit span; sign -1 subtracts. */
static qval zo_add_unit(qvm *vm, qval self, qval n, tm_unit unit, int sign, const char *fname)
{
    tval *v = tv_self(vm, self, TK_ZONED);
    int64_t k;
    if (!v || !tm_arg_int(vm, fname, n, &k))
        return qv_exc();
    if (k == INT64_MIN)
        return tm_out_of_range(vm, fname);
    k *= sign;
    tm_span s = {0};
    switch (unit) {
    case TM_UNIT_YEAR: s.years = k; break;
    case TM_UNIT_MONTH: s.months = k; break;
    case TM_UNIT_DAY: s.days = k; break;
    case TM_UNIT_HOUR: s.hours = k; break;
    case TM_UNIT_MINUTE: s.minutes = k; break;
    default: s.seconds = k; break;
    }
    return zo_plus(vm, v, &s, fname);
}

/* The method's name for messages is the function's without "zo_". */
#define ZONED_ADD(fn, unit, sign)                                \
    static qval fn(qvm *vm, qval self, int argc, qval *argv)     \
    {                                                            \
        (void)argc;                                              \
        return zo_add_unit(vm, self, argv[0], unit, sign, &(#fn)[3]); \
    }

ZONED_ADD(zo_add_years, TM_UNIT_YEAR, 1)
ZONED_ADD(zo_add_months, TM_UNIT_MONTH, 1)
ZONED_ADD(zo_add_days, TM_UNIT_DAY, 1)
ZONED_ADD(zo_add_hours, TM_UNIT_HOUR, 1)
ZONED_ADD(zo_add_minutes, TM_UNIT_MINUTE, 1)
ZONED_ADD(zo_add_seconds, TM_UNIT_SECOND, 1)
ZONED_ADD(zo_subtract_years, TM_UNIT_YEAR, -1)
ZONED_ADD(zo_subtract_months, TM_UNIT_MONTH, -1)
ZONED_ADD(zo_subtract_days, TM_UNIT_DAY, -1)
ZONED_ADD(zo_subtract_hours, TM_UNIT_HOUR, -1)
ZONED_ADD(zo_subtract_minutes, TM_UNIT_MINUTE, -1)
ZONED_ADD(zo_subtract_seconds, TM_UNIT_SECOND, -1)

static qval zo_shift(qvm *vm, qval self, qval arg, int sign, const char *fname)
{
    tval *v = tv_self(vm, self, TK_ZONED);
    tval *s = tv_of(arg, TK_SPAN);
    if (!v)
        return qv_exc();
    if (!s)
        return vm_raise(vm, E_TYPE, "%s expects a Span, got %s", fname, vm_cls_name(arg));
    tm_span span = sign < 0 ? tm_negate(s->u.span) : s->u.span;
    return zo_plus(vm, v, &span, fname);
}

static qval zo_add(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    return zo_shift(vm, self, argv[0], 1, "add");
}

static qval zo_subtract(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    return zo_shift(vm, self, argv[0], -1, "subtract");
}

static qval zo_since(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    tval *v = tv_self(vm, self, TK_ZONED);
    tm_instant other;
    if (!v || !tm_arg_instant(vm, "since", argv[0], &other))
        return qv_exc();
    return tm_span_between(vm, v->state, v->u.z.at, other, TM_UNIT_HOUR);
}

/* The same zone at another civil date and time. */
static qval zo_at_civil(qvm *vm, const tval *v, tm_date d, tm_tod t, const char *fname)
{
    return tm_new_zoned_civil(vm, v->state, v->u.z.tz, d, t, fname);
}

/* Round the wall-clock time to a multiple of `unit` seconds, halves up. */
static qval zo_round(qvm *vm, qval self, int64_t unit, const char *fname)
{
    tval *v = tv_self(vm, self, TK_ZONED);
    if (!v)
        return qv_exc();
    const tm_zoned *z = &v->u.z;
    __int128 local = (__int128)tm_local_seconds(z->date, z->tod) * TM_NS_PER_SEC + z->tod.nanos;
    __int128 u = (__int128)unit * TM_NS_PER_SEC, r = local % u;
    if (r < 0)
        r += u;
    local -= r;
    if (2 * r >= u)
        local += u;
    tm_date d;
    tm_tod t = {0, 0, 0, 0};
    tm_split_local((int64_t)(local / TM_NS_PER_SEC), &d, &t);
    return zo_at_civil(vm, v, d, t, fname);
}

static qval zo_round_to_hour(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return zo_round(vm, self, 3600, "round_to_hour");
}

static qval zo_round_to_minute(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return zo_round(vm, self, 60, "round_to_minute");
}

static const tm_tod tm_midnight = {0, 0, 0, 0};
static const tm_tod tm_last_moment = {23, 59, 59, 999999999};

/* The first or last moment of the day d (first/last of a month or quarter). */
static qval zo_day_bound(qvm *vm, qval self, bool end, int which, const char *fname)
{
    tval *v = tv_self(vm, self, TK_ZONED);
    if (!v)
        return qv_exc();
    tm_date d = v->u.z.date;
    if (which == 1) { /* month */
        d.day = end ? (int8_t)tm_days_in_month(d.year, d.month) : 1;
    } else if (which == 2) { /* quarter */
        int first = (d.month - 1) / 3 * 3 + 1;
        d.month = (int8_t)(end ? first + 2 : first);
        d.day = end ? (int8_t)tm_days_in_month(d.year, d.month) : 1;
    }
    return zo_at_civil(vm, v, d, end ? tm_last_moment : tm_midnight, fname);
}

static qval zo_start_of_day(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return zo_day_bound(vm, self, false, 0, "start_of_day");
}

static qval zo_end_of_day(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return zo_day_bound(vm, self, true, 0, "end_of_day");
}

static qval zo_start_of_month(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return zo_day_bound(vm, self, false, 1, "start_of_month");
}

static qval zo_end_of_month(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return zo_day_bound(vm, self, true, 1, "end_of_month");
}

static qval zo_start_of_quarter(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return zo_day_bound(vm, self, false, 2, "start_of_quarter");
}

static qval zo_end_of_quarter(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return zo_day_bound(vm, self, true, 2, "end_of_quarter");
}

/* ---- Date ------------------------------------------------------------------------------------------------------------------ */

#define DATE_GETTER(fn, expr)                                    \
    static qval fn(qvm *vm, qval self, int argc, qval *argv)     \
    {                                                            \
        (void)argc, (void)argv;                                  \
        tval *v = tv_self(vm, self, TK_DATE);                    \
        if (!v)                                                  \
            return qv_exc();                                     \
        tm_date d = v->u.date;                                   \
        return qv_int(expr);                                     \
    }

static int tm_iso_week_of(tm_date d)
{
    int32_t y;
    int w;
    tm_iso_week(d, &y, &w);
    return w;
}

static int32_t tm_iso_year_of(tm_date d)
{
    int32_t y;
    int w;
    tm_iso_week(d, &y, &w);
    return y;
}

DATE_GETTER(da_year, d.year)
DATE_GETTER(da_month, d.month)
DATE_GETTER(da_day, d.day)
DATE_GETTER(da_day_of_week, tm_weekday(d))
DATE_GETTER(da_day_of_year, tm_day_of_year(d))
DATE_GETTER(da_week_number, tm_iso_week_of(d))
DATE_GETTER(da_iso_year, tm_iso_year_of(d))
DATE_GETTER(da_quarter, (d.month - 1) / 3 + 1)

static qval da_add_unit(qvm *vm, qval self, qval n, tm_unit unit, const char *fname)
{
    tval *v = tv_self(vm, self, TK_DATE);
    int64_t k;
    if (!v || !tm_arg_int(vm, fname, n, &k))
        return qv_exc();
    tm_date d;
    bool ok = unit == TM_UNIT_DAY ? tm_date_add_days(v->u.date, k, &d)
            : unit == TM_UNIT_MONTH ? tm_date_add_months(v->u.date, k, &d)
            : k <= 100000 && k >= -100000 && tm_date_add_months(v->u.date, k * 12, &d);
    return ok ? tm_new_date(vm, v->state, d) : tm_out_of_range(vm, fname);
}

static qval da_add_days(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    return da_add_unit(vm, self, argv[0], TM_UNIT_DAY, "add_days");
}

static qval da_add_months(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    return da_add_unit(vm, self, argv[0], TM_UNIT_MONTH, "add_months");
}

static qval da_add_years(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    return da_add_unit(vm, self, argv[0], TM_UNIT_YEAR, "add_years");
}

static tval *da_other(qvm *vm, qval self, qval other, const char *fname, tval **mine)
{
    *mine = tv_self(vm, self, TK_DATE);
    tval *o = tv_of(other, TK_DATE);
    if (*mine && !o)
        vm_raise(vm, E_TYPE, "%s expects a Date, got %s", fname, vm_cls_name(other));
    return *mine ? o : NULL;
}

static qval da_since(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    tval *v, *o = da_other(vm, self, argv[0], "since", &v);
    if (!o)
        return qv_exc();
    tm_span s = {.days = tm_days_from_date(v->u.date) - tm_days_from_date(o->u.date)};
    return tm_new_span(vm, v->state, s);
}

static int64_t da_cmp(const tval *a, const tval *b)
{
    return tm_days_from_date(a->u.date) - tm_days_from_date(b->u.date);
}

static qval da_equals(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    tval *v, *o = da_other(vm, self, argv[0], "equals", &v);
    return o ? qv_bool(da_cmp(v, o) == 0) : qv_exc();
}

static qval da_before(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    tval *v, *o = da_other(vm, self, argv[0], "before", &v);
    return o ? qv_bool(da_cmp(v, o) < 0) : qv_exc();
}

static qval da_after(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    tval *v, *o = da_other(vm, self, argv[0], "after", &v);
    return o ? qv_bool(da_cmp(v, o) > 0) : qv_exc();
}

/* at_time(time, timezone = "UTC"): this day at that time, as a Zoned. */
static qval da_at_time(qvm *vm, qval self, int argc, qval *argv)
{
    tval *v = tv_self(vm, self, TK_DATE);
    tval *t = tv_of(argv[0], TK_TIME);
    if (!v)
        return qv_exc();
    if (!t)
        return vm_raise(vm, E_TYPE, "at_time expects a Time, got %s", vm_cls_name(argv[0]));
    qval name = argc > 1 ? argv[1] : qv_obj(str_cstr(vm, "UTC"));
    const tz_zone *tz = tm_zone(vm, tv_state(v), "at_time", name);
    return tz ? tm_new_zoned_civil(vm, v->state, tz, v->u.date, t->u.tod, "at_time") : qv_exc();
}

static qval da_format(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    tval *v = tv_self(vm, self, TK_DATE);
    if (!v)
        return qv_exc();
    tm_fields f = {.has_date = true, .date = v->u.date};
    return tm_format_fields(vm, "format", argv[0], &f);
}

/* ---- Time ------------------------------------------------------------------------------------------------------------------ */

#define TIME_GETTER(fn, expr)                                    \
    static qval fn(qvm *vm, qval self, int argc, qval *argv)     \
    {                                                            \
        (void)argc, (void)argv;                                  \
        tval *v = tv_self(vm, self, TK_TIME);                    \
        if (!v)                                                  \
            return qv_exc();                                     \
        tm_tod t = v->u.tod;                                     \
        return qv_int(expr);                                     \
    }

TIME_GETTER(ti_hour, t.hour)
TIME_GETTER(ti_minute, t.minute)
TIME_GETTER(ti_second, t.second)
TIME_GETTER(ti_millisecond, t.nanos / 1000000)
TIME_GETTER(ti_microsecond, t.nanos / 1000)
TIME_GETTER(ti_nanosecond, t.nanos)

static __int128 ti_nanos(const tval *v)
{
    return (__int128)tm_local_seconds((tm_date){1970, 1, 1}, v->u.tod) * TM_NS_PER_SEC + v->u.tod.nanos;
}

static qval ti_since(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    tval *v = tv_self(vm, self, TK_TIME);
    tval *o = tv_of(argv[0], TK_TIME);
    if (!v)
        return qv_exc();
    if (!o)
        return vm_raise(vm, E_TYPE, "since expects a Time, got %s", vm_cls_name(argv[0]));
    return tm_new_span(vm, v->state, tm_span_balance(ti_nanos(v) - ti_nanos(o), TM_UNIT_HOUR));
}

static qval ti_format(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    tval *v = tv_self(vm, self, TK_TIME);
    if (!v)
        return qv_exc();
    tm_fields f = {.has_time = true, .tod = v->u.tod};
    return tm_format_fields(vm, "format", argv[0], &f);
}

/* ---- Span ------------------------------------------------------------------------------------------------------------------ */

#define SPAN_GETTER(fn, field)                                   \
    static qval fn(qvm *vm, qval self, int argc, qval *argv)     \
    {                                                            \
        (void)argc, (void)argv;                                  \
        tval *v = tv_self(vm, self, TK_SPAN);                    \
        return v ? qv_int(v->u.span.field) : qv_exc();           \
    }

SPAN_GETTER(sp_years, years)
SPAN_GETTER(sp_months, months)
SPAN_GETTER(sp_weeks, weeks)
SPAN_GETTER(sp_days, days)
SPAN_GETTER(sp_hours, hours)
SPAN_GETTER(sp_minutes, minutes)
SPAN_GETTER(sp_seconds, seconds)
SPAN_GETTER(sp_milliseconds, millis)
SPAN_GETTER(sp_microseconds, micros)
SPAN_GETTER(sp_nanoseconds, nanos)

static qval sp_as_hours(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return tm_span_total(vm, self, "as_hours", 3600e9);
}

static qval sp_as_minutes(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return tm_span_total(vm, self, "as_minutes", 60e9);
}

static qval sp_as_seconds(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return tm_span_total(vm, self, "as_seconds", 1e9);
}

static qval sp_as_millis(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return tm_span_total(vm, self, "as_millis", 1e6);
}

static qval sp_combine(qvm *vm, qval self, qval arg, int sign, const char *fname)
{
    tval *v = tv_self(vm, self, TK_SPAN);
    tval *o = tv_of(arg, TK_SPAN);
    if (!v)
        return qv_exc();
    if (!o)
        return vm_raise(vm, E_TYPE, "%s expects a Span, got %s", fname, vm_cls_name(arg));
    tm_span r;
    if (!tm_span_combine(&v->u.span, &o->u.span, sign, &r))
        return vm_raise(vm, E_VALUE, "%s: span overflow", fname);
    return tm_new_span(vm, v->state, r);
}

static qval sp_add(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    return sp_combine(vm, self, argv[0], 1, "add");
}

static qval sp_subtract(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    return sp_combine(vm, self, argv[0], -1, "subtract");
}

/* multiply(n): every unit times n (a Float n is taken toward zero). */
static qval sp_multiply(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    tval *v = tv_self(vm, self, TK_SPAN);
    int64_t n;
    if (!v || !tm_arg_int(vm, "multiply", argv[0], &n))
        return qv_exc();
    tm_span r = v->u.span;
    for (tm_unit u = TM_UNIT_NANO; u <= TM_UNIT_YEAR; u++)
        if (__builtin_mul_overflow(*tm_span_unit(&r, u), n, tm_span_unit(&r, u)))
            return vm_raise(vm, E_VALUE, "multiply: span overflow");
    return tm_new_span(vm, v->state, r);
}

/* divide(n): the length divided by n, down to the nanosecond, spread over
 * the span's units.  Spans with years or months have no length to divide. */
static qval sp_divide(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    tval *v = tv_self(vm, self, TK_SPAN);
    double d;
    if (!v || !arg_num(vm, "divide", argv[0], &d))
        return qv_exc();
    if (d == 0)
        return vm_raise(vm, E_RUNTIME, "Cannot divide by zero");
    __int128 n;
    if (!tm_span_total_nanos(&v->u.span, &n))
        return vm_raise(vm, E_VALUE, "divide: a span with years or months has no fixed length");
    __int128 q = IS_INT(argv[0]) ? n / argv[0].as.i : (__int128)((double)n / d);
    return tm_new_span(vm, v->state, tm_span_balance(q, tm_span_largest(&v->u.span)));
}

/* humanize(): "in 3 hours", "5 minutes ago", in the largest whole unit. */
static qval sp_humanize(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    qval total = tm_span_total(vm, self, "humanize", 1e9);
    if (IS_EXC(total))
        return total;
    static const struct { double secs; const char *unit; } steps[] = {
        {31536000, "year"}, {2592000, "month"}, {86400, "day"}, {3600, "hour"}, {60, "minute"}, {1, "second"},
    };
    double secs = fabs(total.as.f);
    size_t i = 0;
    while (i < 5 && secs < steps[i].secs)
        i++;
    long long n = (long long)(secs / steps[i].secs);
    const char *plural = n == 1 ? "" : "s";
    return qv_obj(total.as.f < 0 ? str_printf(vm, "%lld %s%s ago", n, steps[i].unit, plural)
                                 : str_printf(vm, "in %lld %s%s", n, steps[i].unit, plural));
}

/* ---- DateRange ------------------------------------------------------------------------------------------------------------------ */

static qval dr_bound(qvm *vm, qval self, bool end)
{
    tval *v = tv_self(vm, self, TK_RANGE);
    return v ? tm_new_date(vm, v->state, end ? v->u.range.end : v->u.range.start) : qv_exc();
}

static qval dr_start(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return dr_bound(vm, self, false);
}

static qval dr_end(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return dr_bound(vm, self, true);
}

static qval dr_contains(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    tval *v = tv_self(vm, self, TK_RANGE);
    tval *d = tv_of(argv[0], TK_DATE);
    if (!v)
        return qv_exc();
    if (!d)
        return vm_raise(vm, E_TYPE, "contains expects a Date, got %s", vm_cls_name(argv[0]));
    int64_t x = tm_days_from_date(d->u.date);
    return qv_bool(x >= tm_days_from_date(v->u.range.start) && x <= tm_days_from_date(v->u.range.end));
}

static qval dr_overlaps(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    tval *v = tv_self(vm, self, TK_RANGE);
    tval *o = tv_of(argv[0], TK_RANGE);
    if (!v)
        return qv_exc();
    if (!o)
        return vm_raise(vm, E_TYPE, "overlaps expects a DateRange, got %s", vm_cls_name(argv[0]));
    return qv_bool(tm_days_from_date(v->u.range.start) <= tm_days_from_date(o->u.range.end) &&
                   tm_days_from_date(o->u.range.start) <= tm_days_from_date(v->u.range.end));
}

static qval dr_duration(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    tval *v = tv_self(vm, self, TK_RANGE);
    if (!v)
        return qv_exc();
    tm_span s = {.days = tm_days_from_date(v->u.range.end) - tm_days_from_date(v->u.range.start)};
    return tm_new_span(vm, v->state, s);
}

/* ---- tables ------------------------------------------------------------------------------------------------------------------ */

#define TM_END {NULL, NULL, 0, 0, false}
#define TM_COMMON {"str", tm_str, 0, 0, false}, {"_str", tm_str, 0, 0, false}, {"_rep", tm_rep, 0, 0, false}

static const qmethod_def ts_methods[] = {
    TM_COMMON,
    {"to_zoned", ts_to_zoned, 1, 1, false},
    {"as_seconds", ts_as_seconds, 0, 0, false},
    {"as_millis", ts_as_millis, 0, 0, false},
    {"as_micros", ts_as_micros, 0, 0, false},
    {"as_nanos", ts_as_nanos, 0, 0, false},
    {"since", ts_since, 1, 1, false},
    {"format", ts_format, 1, 1, false},
    {"add", ts_add, 1, 1, false},
    {"subtract", ts_subtract, 1, 1, false},
    {"equals", tm_instant_equals, 1, 1, false},
    {"before", tm_instant_before, 1, 1, false},
    {"after", tm_instant_after, 1, 1, false},
    TM_END,
};

static const qmethod_def zo_methods[] = {
    TM_COMMON,
    {"year", zo_year, 0, 0, false},
    {"month", zo_month, 0, 0, false},
    {"day", zo_day, 0, 0, false},
    {"hour", zo_hour, 0, 0, false},
    {"minute", zo_minute, 0, 0, false},
    {"second", zo_second, 0, 0, false},
    {"millisecond", zo_millisecond, 0, 0, false},
    {"microsecond", zo_microsecond, 0, 0, false},
    {"nanosecond", zo_nanosecond, 0, 0, false},
    {"day_of_week", zo_day_of_week, 0, 0, false},
    {"day_of_year", zo_day_of_year, 0, 0, false},
    {"quarter", zo_quarter, 0, 0, false},
    {"timezone", zo_timezone, 0, 0, false},
    {"offset_seconds", zo_offset_seconds, 0, 0, false},
    {"format", zo_format, 1, 1, false},
    {"to_rfc3339", zo_to_rfc3339, 0, 0, false},
    {"to_timezone", zo_to_timezone, 1, 1, false},
    {"to_utc", zo_to_utc, 0, 0, false},
    {"to_timestamp", zo_to_timestamp, 0, 0, false},
    {"date", zo_date, 0, 0, false},
    {"time", zo_time, 0, 0, false},
    {"add_years", zo_add_years, 1, 1, false},
    {"add_months", zo_add_months, 1, 1, false},
    {"add_days", zo_add_days, 1, 1, false},
    {"add_hours", zo_add_hours, 1, 1, false},
    {"add_minutes", zo_add_minutes, 1, 1, false},
    {"add_seconds", zo_add_seconds, 1, 1, false},
    {"subtract_years", zo_subtract_years, 1, 1, false},
    {"subtract_months", zo_subtract_months, 1, 1, false},
    {"subtract_days", zo_subtract_days, 1, 1, false},
    {"subtract_hours", zo_subtract_hours, 1, 1, false},
    {"subtract_minutes", zo_subtract_minutes, 1, 1, false},
    {"subtract_seconds", zo_subtract_seconds, 1, 1, false},
    {"add", zo_add, 1, 1, false},
    {"subtract", zo_subtract, 1, 1, false},
    {"since", zo_since, 1, 1, false},
    {"equals", tm_instant_equals, 1, 1, false},
    {"before", tm_instant_before, 1, 1, false},
    {"after", tm_instant_after, 1, 1, false},
    {"round_to_hour", zo_round_to_hour, 0, 0, false},
    {"round_to_minute", zo_round_to_minute, 0, 0, false},
    {"start_of_day", zo_start_of_day, 0, 0, false},
    {"end_of_day", zo_end_of_day, 0, 0, false},
    {"start_of_month", zo_start_of_month, 0, 0, false},
    {"end_of_month", zo_end_of_month, 0, 0, false},
    {"start_of_quarter", zo_start_of_quarter, 0, 0, false},
    {"end_of_quarter", zo_end_of_quarter, 0, 0, false},
    TM_END,
};

static const qmethod_def da_methods[] = {
    TM_COMMON,
    {"year", da_year, 0, 0, false},
    {"month", da_month, 0, 0, false},
    {"day", da_day, 0, 0, false},
    {"day_of_week", da_day_of_week, 0, 0, false},
    {"day_of_year", da_day_of_year, 0, 0, false},
    {"week_number", da_week_number, 0, 0, false},
    {"iso_year", da_iso_year, 0, 0, false},
    {"quarter", da_quarter, 0, 0, false},
    {"add_days", da_add_days, 1, 1, false},
    {"add_months", da_add_months, 1, 1, false},
    {"add_years", da_add_years, 1, 1, false},
    {"since", da_since, 1, 1, false},
    {"at_time", da_at_time, 1, 2, false},
    {"equals", da_equals, 1, 1, false},
    {"before", da_before, 1, 1, false},
    {"after", da_after, 1, 1, false},
    {"format", da_format, 1, 1, false},
    TM_END,
};

static const qmethod_def ti_methods[] = {
    TM_COMMON,
    {"hour", ti_hour, 0, 0, false},
    {"minute", ti_minute, 0, 0, false},
    {"second", ti_second, 0, 0, false},
    {"millisecond", ti_millisecond, 0, 0, false},
    {"microsecond", ti_microsecond, 0, 0, false},
    {"nanosecond", ti_nanosecond, 0, 0, false},
    {"since", ti_since, 1, 1, false},
    {"format", ti_format, 1, 1, false},
    TM_END,
};

static const qmethod_def sp_methods[] = {
    TM_COMMON,
    {"years", sp_years, 0, 0, false},
    {"months", sp_months, 0, 0, false},
    {"weeks", sp_weeks, 0, 0, false},
    {"days", sp_days, 0, 0, false},
    {"hours", sp_hours, 0, 0, false},
    {"minutes", sp_minutes, 0, 0, false},
    {"seconds", sp_seconds, 0, 0, false},
    {"milliseconds", sp_milliseconds, 0, 0, false},
    {"microseconds", sp_microseconds, 0, 0, false},
    {"nanoseconds", sp_nanoseconds, 0, 0, false},
    {"as_hours", sp_as_hours, 0, 0, false},
    {"as_minutes", sp_as_minutes, 0, 0, false},
    {"as_seconds", sp_as_seconds, 0, 0, false},
    {"as_millis", sp_as_millis, 0, 0, false},
    {"add", sp_add, 1, 1, false},
    {"subtract", sp_subtract, 1, 1, false},
    {"multiply", sp_multiply, 1, 1, false},
    {"divide", sp_divide, 1, 1, false},
    {"humanize", sp_humanize, 0, 0, false},
    TM_END,
};

static const qmethod_def dr_methods[] = {
    TM_COMMON,
    {"start", dr_start, 0, 0, false},
    {"end", dr_end, 0, 0, false},
    {"contains", dr_contains, 1, 1, false},
    {"overlaps", dr_overlaps, 1, 1, false},
    {"duration", dr_duration, 0, 0, false},
    TM_END,
};

static const qmethod_def *const tm_method_tables[TK__COUNT] = {
    ts_methods, zo_methods, da_methods, ti_methods, sp_methods, dr_methods,
};

static const qmethod_def time_functions[] = {
    {"now", time_now, 0, 0, false},
    {"now_local", time_now_local, 0, 0, false},
    {"today", time_today, 0, 0, false},
    {"time_now", time_time_now, 0, 0, false},
    {"ticks_ms", time_ticks_ms, 0, 0, false},
    {"parse", time_parse, 1, 2, false},
    {"parse_duration", time_parse_duration, 1, 1, false},
    {"datetime", time_datetime, 6, 7, false},
    {"date", time_date, 3, 3, false},
    {"time", time_time, 3, 4, false},
    {"from_iso_week", time_from_iso_week, 3, 3, false},
    {"from_timestamp", time_from_timestamp, 1, 1, false},
    {"from_timestamp_ms", time_from_timestamp_ms, 1, 1, false},
    {"from_timestamp_us", time_from_timestamp_us, 1, 1, false},
    {"span", time_span, 0, 0, true},
    {"days", time_days, 1, 1, false},
    {"hours", time_hours, 1, 1, false},
    {"minutes", time_minutes, 1, 1, false},
    {"seconds", time_seconds, 1, 1, false},
    {"range", time_range, 2, 2, false},
    {"sleep", time_sleep, 1, 1, false},
    {"is_leap_year", time_is_leap_year, 1, 1, false},
    TM_END,
};

bool time_module_init(qvm *vm, qmodule *m)
{
    time_state *st = calloc(1, sizeof *st);
    if (!st) {
        vm_raise(vm, E_RUNTIME, "std/time: out of memory");
        return false;
    }
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    st->start_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    for (int k = 0; k < TK__COUNT; k++)
        st->types[k] = vm_new_cdata_type(vm, tm_classes[k].name, tm_method_tables[k]);
    qcdata *state = cdata_new(vm, vm_new_cdata_type(vm, "TimeModule", NULL), &time_state_class, st);
    /* The functions are bound to the state: it holds the types they make. */
    for (const qmethod_def *d = time_functions; d->name; d++) {
        qnative *fn = native_new(vm, d->name, d->fn, d->min_args, d->max_args);
        fn->kwargs = d->kwargs;
        fn->bound = qv_obj(state);
        module_export(vm, m, d->name, qv_obj(fn));
    }
    for (int k = 0; k < TK__COUNT; k++)
        module_export(vm, m, tm_classes[k].name, qv_obj(st->types[k]));
    return true;
}
