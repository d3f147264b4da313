/* time_internal.h — what the parts of std/time share: the civil calendar
 * and spans (time_civil.c), time zones from the system's tz database
 * (time_tz.c), and text — ISO 8601 printing, strftime-style formatting and
 * parsing (time_text.c).  modules/time.c binds them to Quest.
 *
 * Conventions: instants are seconds since the Unix epoch plus nanoseconds
 * 0..999999999; "local seconds" are the same count taken on the wall clock
 * of a zone (instant + UTC offset); offsets are seconds east of UTC.
 */
#ifndef QUEST_TIME_INTERNAL_H
#define QUEST_TIME_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vm/vm.h"

#define TM_NS_PER_SEC 1000000000LL
#define TM_SEC_PER_DAY 86400LL

/* Years the module accepts, as jiff does: enough for any calendar use and
 * small enough that no arithmetic on seconds or nanoseconds overflows. */
#define TM_YEAR_MIN (-9999)
#define TM_YEAR_MAX 9999

/* ---- the civil calendar (proleptic Gregorian) --------------------------------- */

typedef struct tm_date {
    int32_t year;
    int8_t month, day; /* 1-based */
} tm_date;

typedef struct tm_tod {
    int8_t hour, minute, second;
    int32_t nanos;
} tm_tod;

bool tm_is_leap(int64_t year);
int tm_days_in_month(int64_t year, int month);
bool tm_date_valid(int64_t year, int64_t month, int64_t day);
bool tm_tod_valid(int64_t hour, int64_t minute, int64_t second, int64_t nanos);
/* Days since 1970-01-01 and back. */
int64_t tm_days_from_date(tm_date d);
tm_date tm_date_from_days(int64_t days);
int tm_weekday(tm_date d);      /* 1 = Monday .. 7 = Sunday */
int tm_day_of_year(tm_date d);  /* 1..366 */
/* ISO 8601 week date: week 1..53 and the year it belongs to. */
void tm_iso_week(tm_date d, int32_t *iso_year, int *week);
bool tm_date_from_iso_week(int64_t iso_year, int64_t week, int64_t weekday, tm_date *out);
/* Add months to a date, clamping the day to the end of the target month
 * (Jan 31 + 1 month = Feb 28).  False when the year leaves the range. */
bool tm_date_add_months(tm_date d, int64_t months, tm_date *out);
bool tm_date_add_days(tm_date d, int64_t days, tm_date *out);
bool tm_year_in_range(int64_t year);

/* Local seconds <-> date and time of day. */
int64_t tm_local_seconds(tm_date d, tm_tod t);
void tm_split_local(int64_t local, tm_date *d, tm_tod *t);

/* ---- spans ----------------------------------------------------------------------- */

/* A duration kept unit by unit, like jiff's Span: calendar units (years,
 * months, weeks, days) and clock units.  All non-zero units share a sign. */
typedef struct tm_span {
    int64_t years, months, weeks, days;
    int64_t hours, minutes, seconds, millis, micros, nanos;
} tm_span;

typedef enum {
    TM_UNIT_NANO, TM_UNIT_MICRO, TM_UNIT_MILLI, TM_UNIT_SECOND, TM_UNIT_MINUTE,
    TM_UNIT_HOUR, TM_UNIT_DAY, TM_UNIT_WEEK, TM_UNIT_MONTH, TM_UNIT_YEAR
} tm_unit;

/* The field holding unit u (for loops over all units). */
int64_t *tm_span_unit(tm_span *s, tm_unit u);
/* Years or months present: such a span has no fixed length. */
bool tm_span_has_calendar(const tm_span *s);
/* Total length in nanoseconds, days and weeks counted as 24 h and 7 days;
 * false when the span has years or months or the total overflows. */
bool tm_span_total_nanos(const tm_span *s, __int128 *out);
/* A span of `nanos` expressed in units from `largest` down to nanoseconds. */
tm_span tm_span_balance(__int128 nanos, tm_unit largest);
/* The largest unit with a non-zero value (nanoseconds for a zero span). */
tm_unit tm_span_largest(const tm_span *s);
/* The clock part (hours and below) in nanoseconds. */
__int128 tm_span_clock_nanos(const tm_span *s);

/* ---- time zones -------------------------------------------------------------------- */

typedef struct tz_zone tz_zone;

/* Load a zone by IANA name ("UTC", "America/New_York") from $TZDIR or
 * /usr/share/zoneinfo.  NULL with a reason in err when it cannot. */
tz_zone *tz_load(const char *name, char *err, size_t errlen);
/* The zone the system runs in ($TZ, else /etc/localtime); UTC if neither
 * can be read.  Never NULL except when out of memory. */
tz_zone *tz_load_local(void);
void tz_free(tz_zone *z);
const char *tz_name(const tz_zone *z);
/* UTC offset in effect at an instant, with its abbreviation ("EDT"). */
int32_t tz_offset_at(const tz_zone *z, int64_t utc_seconds, const char **abbrev);
/* The instant a wall-clock time denotes.  A time that occurs twice (the
 * clocks went back) takes the earlier instant; one that never occurs (the
 * clocks went forward) is moved forward by the length of the gap. */
int64_t tz_local_to_utc(const tz_zone *z, int64_t local_seconds);

/* ---- text ----------------------------------------------------------------------------------- */

/* Everything a format may refer to; has_* say which parts exist (a Date has
 * no time of day, a Time no date, only zoned values an offset). */
typedef struct tm_fields {
    bool has_date, has_time, has_offset;
    tm_date date;
    tm_tod tod;
    int32_t offset;
    const char *abbrev;    /* "EDT", or NULL */
    const char *zone_name; /* "America/New_York", or NULL */
    bool has_epoch;
    int64_t epoch;         /* seconds since 1970 */
} tm_fields;

/* strftime-style formatting into b.  False with a reason in err on an
 * unknown directive or one the value cannot supply. */
bool tm_format(qbuf *b, const char *fmt, size_t len, const tm_fields *f, char *err, size_t errlen);

/* ISO 8601 pieces as jiff prints them: fractions only when non-zero and
 * without trailing zeros. */
void tm_put_date(qbuf *b, tm_date d);
void tm_put_tod(qbuf *b, tm_tod t);
void tm_put_offset(qbuf *b, int32_t offset, bool colon);
void tm_put_span(qbuf *b, const tm_span *s);

/* What parse found in a string. */
typedef enum {
    TM_PARSED_NONE, TM_PARSED_DATE, TM_PARSED_TIME, TM_PARSED_CIVIL,
    TM_PARSED_INSTANT, TM_PARSED_ZONED
} tm_parsed_kind;

typedef struct tm_parsed {
    tm_parsed_kind kind;
    tm_date date;
    tm_tod tod;
    bool has_offset;
    int32_t offset;
    char zone[128];  /* bracketed zone name, "" if none */
} tm_parsed;

/* ISO 8601 / RFC 3339 / RFC 2822 text: a date, a time of day, a civil
 * date-time, an instant (with Z or an offset) or a zoned date-time
 * (with a [Zone] annotation).  TM_PARSED_NONE when it is none of them. */
tm_parsed tm_parse(const char *s);
/* strptime-style: text read by a format.  False with a reason in err. */
bool tm_parse_format(const char *text, const char *fmt, tm_parsed *out, char *err, size_t errlen);

#endif
