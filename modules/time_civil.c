/* time_civil.c — std/time's arithmetic: the proleptic Gregorian calendar
 * (dates to day counts and back, weekdays, ISO weeks, adding months) and
 * spans (their total length and how a length is spread over units).
 *
 * Day counts use Howard Hinnant's era-based algorithms, exact for every
 * year in range without tables.
 */
#include "modules/time_internal.h"

bool tm_is_leap(int64_t year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int tm_days_in_month(int64_t year, int month)
{
    static const int8_t days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && tm_is_leap(year) ? 29 : days[month - 1];
}

bool tm_year_in_range(int64_t year)
{
    return year >= TM_YEAR_MIN && year <= TM_YEAR_MAX;
}

bool tm_date_valid(int64_t year, int64_t month, int64_t day)
{
    return tm_year_in_range(year) && month >= 1 && month <= 12 && day >= 1 &&
           day <= tm_days_in_month(year, (int)month);
}

bool tm_tod_valid(int64_t hour, int64_t minute, int64_t second, int64_t nanos)
{
    return hour >= 0 && hour <= 23 && minute >= 0 && minute <= 59 && second >= 0 &&
           second <= 59 && nanos >= 0 && nanos < TM_NS_PER_SEC;
}

int64_t tm_days_from_date(tm_date d)
{
    int64_t y = d.year - (d.month <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (d.month > 2 ? d.month - 3 : d.month + 9) + 2) / 5 + d.day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

tm_date tm_date_from_days(int64_t days)
{
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    tm_date d;
    d.day = (int8_t)(doy - (153 * mp + 2) / 5 + 1);
    d.month = (int8_t)(mp < 10 ? mp + 3 : mp - 9);
    d.year = (int32_t)(yoe + era * 400 + (d.month <= 2));
    return d;
}

int tm_weekday(tm_date d)
{
    int64_t r = tm_days_from_date(d) % 7;
    if (r < 0)
        r += 7;
    return (int)((r + 3) % 7) + 1; /* 1970-01-01 was a Thursday */
}

int tm_day_of_year(tm_date d)
{
    tm_date jan1 = {d.year, 1, 1};
    return (int)(tm_days_from_date(d) - tm_days_from_date(jan1)) + 1;
}

/* A date's ISO week is the week of its Thursday, numbered within the
 * Thursday's year. */
void tm_iso_week(tm_date d, int32_t *iso_year, int *week)
{
    int64_t thursday = tm_days_from_date(d) + (4 - tm_weekday(d));
    tm_date t = tm_date_from_days(thursday);
    *iso_year = t.year;
    *week = (tm_day_of_year(t) - 1) / 7 + 1;
}

bool tm_date_from_iso_week(int64_t iso_year, int64_t week, int64_t weekday, tm_date *out)
{
    if (!tm_year_in_range(iso_year) || week < 1 || week > 53 || weekday < 1 || weekday > 7)
        return false;
    tm_date jan4 = {(int32_t)iso_year, 1, 4};
    int64_t monday1 = tm_days_from_date(jan4) - (tm_weekday(jan4) - 1);
    tm_date d = tm_date_from_days(monday1 + (week - 1) * 7 + (weekday - 1));
    int32_t y;
    int w;
    tm_iso_week(d, &y, &w);
    if (y != iso_year || w != week) /* week 53 of a 52-week year */
        return false;
    *out = d;
    return true;
}

bool tm_date_add_months(tm_date d, int64_t months, tm_date *out)
{
    if (months > 12 * 30000 || months < -12 * 30000)
        return false;
    int64_t index = (int64_t)d.year * 12 + (d.month - 1) + months;
    int64_t year = index >= 0 ? index / 12 : -((-index + 11) / 12);
    int month = (int)(index - year * 12) + 1;
    if (!tm_year_in_range(year))
        return false;
    int last = tm_days_in_month(year, month);
    out->year = (int32_t)year;
    out->month = (int8_t)month;
    out->day = (int8_t)(d.day > last ? last : d.day);
    return true;
}

bool tm_date_add_days(tm_date d, int64_t days, tm_date *out)
{
    /* The whole range is about 7.3 million days. */
    if (days > 8000000 || days < -8000000)
        return false;
    tm_date r = tm_date_from_days(tm_days_from_date(d) + days);
    if (!tm_year_in_range(r.year))
        return false;
    *out = r;
    return true;
}

int64_t tm_local_seconds(tm_date d, tm_tod t)
{
    return tm_days_from_date(d) * TM_SEC_PER_DAY + t.hour * 3600 + t.minute * 60 + t.second;
}

void tm_split_local(int64_t local, tm_date *d, tm_tod *t)
{
    int64_t days = local / TM_SEC_PER_DAY, secs = local % TM_SEC_PER_DAY;
    if (secs < 0) {
        secs += TM_SEC_PER_DAY;
        days--;
    }
    *d = tm_date_from_days(days);
    t->hour = (int8_t)(secs / 3600);
    t->minute = (int8_t)(secs / 60 % 60);
    t->second = (int8_t)(secs % 60);
}

/* ---- spans --------------------------------------------------------------------------- */

/* Nanoseconds per unit, for the units of fixed length (days = 24 h). */
static const int64_t tm_unit_nanos[] = {
    1, 1000, 1000000, TM_NS_PER_SEC, 60 * TM_NS_PER_SEC, 3600 * TM_NS_PER_SEC,
    TM_SEC_PER_DAY * TM_NS_PER_SEC, 7 * TM_SEC_PER_DAY * TM_NS_PER_SEC,
};

int64_t *tm_span_unit(tm_span *s, tm_unit u)
{
    switch (u) {
    case TM_UNIT_NANO: return &s->nanos;
    case TM_UNIT_MICRO: return &s->micros;
    case TM_UNIT_MILLI: return &s->millis;
    case TM_UNIT_SECOND: return &s->seconds;
    case TM_UNIT_MINUTE: return &s->minutes;
    case TM_UNIT_HOUR: return &s->hours;
    case TM_UNIT_DAY: return &s->days;
    case TM_UNIT_WEEK: return &s->weeks;
    case TM_UNIT_MONTH: return &s->months;
    default: return &s->years;
    }
}

bool tm_span_has_calendar(const tm_span *s)
{
    return s->years != 0 || s->months != 0;
}

__int128 tm_span_clock_nanos(const tm_span *s)
{
    __int128 n = 0;
    tm_span copy = *s;
    for (tm_unit u = TM_UNIT_NANO; u <= TM_UNIT_HOUR; u++)
        n += (__int128)*tm_span_unit(&copy, u) * tm_unit_nanos[u];
    return n;
}

bool tm_span_total_nanos(const tm_span *s, __int128 *out)
{
    if (tm_span_has_calendar(s))
        return false;
    *out = tm_span_clock_nanos(s) + (__int128)s->days * tm_unit_nanos[TM_UNIT_DAY] +
           (__int128)s->weeks * tm_unit_nanos[TM_UNIT_WEEK];
    return true;
}

tm_unit tm_span_largest(const tm_span *s)
{
    tm_span copy = *s;
    for (tm_unit u = TM_UNIT_YEAR; u > TM_UNIT_NANO; u--)
        if (*tm_span_unit(&copy, u) != 0)
            return u;
    return TM_UNIT_NANO;
}

tm_span tm_span_balance(__int128 nanos, tm_unit largest)
{
    tm_span s = {0};
    if (largest > TM_UNIT_WEEK)
        largest = TM_UNIT_DAY; /* months and years have no fixed length */
    for (tm_unit u = largest;; u--) {
        __int128 q = nanos / tm_unit_nanos[u];
        /* Values beyond int64 pile up in the largest unit only, where the
         * caller's range checks reject them. */
        *tm_span_unit(&s, u) = q > INT64_MAX ? INT64_MAX : q < -INT64_MAX ? -INT64_MAX : (int64_t)q;
        nanos -= q * tm_unit_nanos[u];
        if (u == TM_UNIT_NANO)
            break;
    }
    return s;
}
