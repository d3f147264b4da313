/* time_text.c — std/time as text: the ISO 8601 forms values print as,
 * strftime-style formatting, and reading dates and times back — ISO 8601 /
 * RFC 3339 (with jiff's "[Zone]" annotation), RFC 2822, or any layout
 * described by a strftime-style format.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "modules/time_internal.h"

static const char *const tm_month_names[12] = {
    "January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December",
};

static const char *const tm_weekday_names[7] = {
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
};

/* ---- ISO 8601 output ------------------------------------------------------------------------ */

void tm_put_date(qbuf *b, tm_date d)
{
    if (d.year < 0)
        buf_printf(b, "-%06d-%02d-%02d", -d.year, d.month, d.day);
    else
        buf_printf(b, "%04d-%02d-%02d", d.year, d.month, d.day);
}

/* ".5", ".123456789": the fraction without trailing zeros, nothing for 0. */
static void tm_put_fraction(qbuf *b, int64_t nanos)
{
    if (nanos == 0)
        return;
    char digits[16];
    snprintf(digits, sizeof digits, "%09lld", (long long)nanos);
    size_t n = 9;
    while (n > 1 && digits[n - 1] == '0')
        n--;
    buf_putc(b, '.');
    buf_append(b, digits, n);
}

void tm_put_tod(qbuf *b, tm_tod t)
{
    buf_printf(b, "%02d:%02d:%02d", t.hour, t.minute, t.second);
    tm_put_fraction(b, t.nanos);
}

void tm_put_offset(qbuf *b, int32_t offset, bool colon)
{
    int32_t a = offset < 0 ? -offset : offset;
    buf_printf(b, colon ? "%c%02d:%02d" : "%c%02d%02d", offset < 0 ? '-' : '+', a / 3600, a / 60 % 60);
    if (a % 60)
        buf_printf(b, colon ? ":%02d" : "%02d", a % 60);
}

/* |v|, which for INT64_MIN only an unsigned type holds. */
static unsigned long long tm_abs64(int64_t v)
{
    return v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
}

/* jiff's ISO 8601 duration form: "P1y2m3dT4h5m6.5s", "-PT30s", "PT0s". */
void tm_put_span(qbuf *b, const tm_span *s)
{
    __int128 clock = tm_span_clock_nanos(s);
    bool negative = s->years < 0 || s->months < 0 || s->weeks < 0 || s->days < 0 || clock < 0;
    if (negative)
        buf_putc(b, '-');
    buf_putc(b, 'P');
    const int64_t cal[4] = {s->years, s->months, s->weeks, s->days};
    const char *cal_units = "ymwd";
    for (int i = 0; i < 4; i++)
        if (cal[i])
            buf_printf(b, "%llu%c", tm_abs64(cal[i]), cal_units[i]);
    __int128 sub = (__int128)tm_abs64(s->seconds) * TM_NS_PER_SEC + (__int128)tm_abs64(s->millis) * 1000000 +
                   (__int128)tm_abs64(s->micros) * 1000 + tm_abs64(s->nanos);
    bool any_cal = s->years || s->months || s->weeks || s->days;
    if (!s->hours && !s->minutes && sub == 0) {
        if (!any_cal)
            buf_puts(b, "T0s");
        return;
    }
    buf_putc(b, 'T');
    if (s->hours)
        buf_printf(b, "%lluh", tm_abs64(s->hours));
    if (s->minutes)
        buf_printf(b, "%llum", tm_abs64(s->minutes));
    if (sub != 0) {
        buf_printf(b, "%lld", (long long)(sub / TM_NS_PER_SEC));
        tm_put_fraction(b, (int64_t)(sub % TM_NS_PER_SEC));
        buf_putc(b, 's');
    }
}

/* ---- strftime-style formatting -------------------------------------------------------- */

/* One directive's padding: flag '-' none, '_' spaces, '0' zeros; width. */
typedef struct tm_pad {
    char flag;
    int width;
    bool upper;
} tm_pad;

static void tm_put_num(qbuf *b, const tm_pad *p, int64_t v, int width, char fill)
{
    char fmt_fill = p->flag == '_' ? ' ' : p->flag == '0' ? '0' : fill;
    int w = p->width ? p->width : width;
    if (p->flag == '-')
        w = 0;
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%llu", tm_abs64(v));
    if (v < 0)
        buf_putc(b, '-');
    for (int i = n + (v < 0); i < w; i++)
        buf_putc(b, fmt_fill);
    buf_append(b, tmp, (size_t)n);
}

static void tm_put_text(qbuf *b, const tm_pad *p, const char *s, size_t n)
{
    for (int i = (int)n; p->flag != '-' && i < p->width; i++)
        buf_putc(b, ' ');
    for (size_t i = 0; i < n; i++)
        buf_putc(b, p->upper ? (char)toupper((unsigned char)s[i]) : s[i]);
}

static void tm_put_cstr(qbuf *b, const tm_pad *p, const char *s)
{
    tm_put_text(b, p, s, strlen(s));
}

/* Week of the year counting from the first `first_wd` (1 Monday, 7 Sunday);
 * days before it are week 0 (%U, %W). */
static int tm_week_from(tm_date d, int first_wd)
{
    int yday0 = tm_day_of_year(d) - 1;
    int wd = tm_weekday(d);
    int days_since = (wd - first_wd + 7) % 7;
    return (yday0 - days_since + 7) / 7;
}

/* Fractional seconds: `digits` fixed (1..9) or 0 for "as many as needed". */
static void tm_put_frac_digits(qbuf *b, int32_t nanos, int digits, bool dot)
{
    char tmp[16];
    snprintf(tmp, sizeof tmp, "%09d", nanos);
    size_t n = (size_t)digits;
    if (digits == 0) {
        if (dot && nanos == 0)
            return;
        n = 9;
        while (n > 1 && tmp[n - 1] == '0')
            n--;
    }
    if (dot)
        buf_putc(b, '.');
    buf_append(b, tmp, n);
}

typedef struct tm_fmt_ctx {
    qbuf *b;
    const tm_fields *f;
    char *err;
    size_t errlen;
} tm_fmt_ctx;

static bool tm_fmt(tm_fmt_ctx *c, const char *fmt, size_t len);

static bool tm_missing(tm_fmt_ctx *c, char d, const char *what)
{
    snprintf(c->err, c->errlen, "format directive %%%c needs %s, which this value does not have", d, what);
    return false;
}

/* Directives that expand to other formats. */
static const char *tm_composite(char d)
{
    switch (d) {
    case 'c': return "%a %b %e %H:%M:%S %Y";
    case 'D': return "%m/%d/%y";
    case 'F': return "%Y-%m-%d";
    case 'R': return "%H:%M";
    case 'T': return "%H:%M:%S";
    case 'x': return "%m/%d/%y";
    case 'X': return "%H:%M:%S";
    case 'r': return "%I:%M:%S %p";
    default: return NULL;
    }
}

static bool tm_fmt_date(tm_fmt_ctx *c, const tm_pad *p, char d)
{
    const tm_date *dt = &c->f->date;
    int32_t iso_year;
    int iso_week;
    switch (d) {
    case 'Y': tm_put_num(c->b, p, dt->year, 4, '0'); return true;
    case 'y': tm_put_num(c->b, p, (dt->year % 100 + 100) % 100, 2, '0'); return true;
    case 'C': tm_put_num(c->b, p, dt->year / 100, 2, '0'); return true;
    case 'm': tm_put_num(c->b, p, dt->month, 2, '0'); return true;
    case 'd': tm_put_num(c->b, p, dt->day, 2, '0'); return true;
    case 'e': tm_put_num(c->b, p, dt->day, 2, ' '); return true;
    case 'j': tm_put_num(c->b, p, tm_day_of_year(*dt), 3, '0'); return true;
    case 'B': tm_put_cstr(c->b, p, tm_month_names[dt->month - 1]); return true;
    case 'b': case 'h': tm_put_text(c->b, p, tm_month_names[dt->month - 1], 3); return true;
    case 'A': tm_put_cstr(c->b, p, tm_weekday_names[tm_weekday(*dt) - 1]); return true;
    case 'a': tm_put_text(c->b, p, tm_weekday_names[tm_weekday(*dt) - 1], 3); return true;
    case 'u': tm_put_num(c->b, p, tm_weekday(*dt), 1, '0'); return true;
    case 'w': tm_put_num(c->b, p, tm_weekday(*dt) % 7, 1, '0'); return true;
    case 'U': tm_put_num(c->b, p, tm_week_from(*dt, 7), 2, '0'); return true;
    case 'W': tm_put_num(c->b, p, tm_week_from(*dt, 1), 2, '0'); return true;
    default: break;
    }
    tm_iso_week(*dt, &iso_year, &iso_week);
    switch (d) {
    case 'V': tm_put_num(c->b, p, iso_week, 2, '0'); return true;
    case 'G': tm_put_num(c->b, p, iso_year, 4, '0'); return true;
    default: tm_put_num(c->b, p, (iso_year % 100 + 100) % 100, 2, '0'); return true; /* g */
    }
}

static bool tm_fmt_time(tm_fmt_ctx *c, const tm_pad *p, char d, int frac_digits, bool dot)
{
    const tm_tod *t = &c->f->tod;
    int h12 = t->hour % 12 == 0 ? 12 : t->hour % 12;
    switch (d) {
    case 'H': tm_put_num(c->b, p, t->hour, 2, '0'); break;
    case 'k': tm_put_num(c->b, p, t->hour, 2, ' '); break;
    case 'I': tm_put_num(c->b, p, h12, 2, '0'); break;
    case 'l': tm_put_num(c->b, p, h12, 2, ' '); break;
    case 'M': tm_put_num(c->b, p, t->minute, 2, '0'); break;
    case 'S': tm_put_num(c->b, p, t->second, 2, '0'); break;
    case 'p': tm_put_cstr(c->b, p, t->hour < 12 ? "AM" : "PM"); break;
    case 'P': tm_put_cstr(c->b, p, t->hour < 12 ? "am" : "pm"); break;
    case 'N': tm_put_frac_digits(c->b, t->nanos, 9, false); break;
    default: tm_put_frac_digits(c->b, t->nanos, frac_digits, dot); break; /* f */
    }
    return true;
}

static bool tm_fmt_zone(tm_fmt_ctx *c, const tm_pad *p, char d, bool colon)
{
    const tm_fields *f = c->f;
    switch (d) {
    case 'z': tm_put_offset(c->b, f->offset, colon); break;
    case 'Z': tm_put_cstr(c->b, p, f->abbrev ? f->abbrev : f->zone_name ? f->zone_name : "UTC"); break;
    default: /* Q: the zone's name, or its offset when it has none */
        if (f->zone_name)
            tm_put_cstr(c->b, p, f->zone_name);
        else
            tm_put_offset(c->b, f->offset, true);
        break;
    }
    return true;
}

/* One directive after '%' at fmt[*i]; advances *i past it. */
static bool tm_fmt_directive(tm_fmt_ctx *c, const char *fmt, size_t len, size_t *i)
{
    tm_pad p = {0, 0, false};
    bool colon = false, dot = false;
    int frac = 0;
    size_t j = *i;
    for (; j < len && strchr("-_0^#", fmt[j]); j++) {
        if (fmt[j] == '^')
            p.upper = true;
        else if (fmt[j] != '#')
            p.flag = fmt[j];
    }
    for (; j < len && isdigit((unsigned char)fmt[j]); j++)
        p.width = p.width * 10 + (fmt[j] - '0') > 99 ? 99 : p.width * 10 + (fmt[j] - '0');
    if (j < len && fmt[j] == ':')
        colon = true, j++;
    if (j < len && fmt[j] == '.')
        dot = true, j++;
    if (j < len && isdigit((unsigned char)fmt[j]) && fmt[j] != '0' && j + 1 < len && fmt[j + 1] == 'f')
        frac = fmt[j++] - '0';
    if (j >= len) {
        snprintf(c->err, c->errlen, "format ends in the middle of a directive");
        return false;
    }
    char d = fmt[j];
    *i = j + 1;
    if (p.width && !dot && !frac && d == 'f')
        frac = p.width > 9 ? 9 : p.width, p.width = 0;
    const char *expand = tm_composite(d);
    if (expand)
        return tm_fmt(c, expand, strlen(expand));
    switch (d) {
    case '%': buf_putc(c->b, '%'); return true;
    case 'n': buf_putc(c->b, '\n'); return true;
    case 't': buf_putc(c->b, '\t'); return true;
    case 's':
        if (!c->f->has_epoch)
            return tm_missing(c, d, "an instant");
        tm_put_num(c->b, &p, c->f->epoch, 1, '0');
        return true;
    default: break;
    }
    if (strchr("YyCmdejBbhAauwUWVGg", d))
        return c->f->has_date ? tm_fmt_date(c, &p, d) : tm_missing(c, d, "a date");
    if (strchr("HkIlMSpPfN", d))
        return c->f->has_time ? tm_fmt_time(c, &p, d, frac, dot) : tm_missing(c, d, "a time of day");
    if (strchr("zZQ", d))
        return c->f->has_offset ? tm_fmt_zone(c, &p, d, colon) : tm_missing(c, d, "a time zone");
    snprintf(c->err, c->errlen, "unknown format directive %%%c", d);
    return false;
}

static bool tm_fmt(tm_fmt_ctx *c, const char *fmt, size_t len)
{
    for (size_t i = 0; i < len;) {
        if (fmt[i] != '%') {
            const char *pct = memchr(fmt + i, '%', len - i);
            size_t n = pct ? (size_t)(pct - (fmt + i)) : len - i;
            buf_append(c->b, fmt + i, n);
            i += n;
            continue;
        }
        i++;
        if (!tm_fmt_directive(c, fmt, len, &i))
            return false;
    }
    return true;
}

bool tm_format(qbuf *b, const char *fmt, size_t len, const tm_fields *f, char *err, size_t errlen)
{
    tm_fmt_ctx c = {b, f, err, errlen};
    return tm_fmt(&c, fmt, len);
}

/* ---- reading ISO 8601 ---------------------------------------------------------------------------- */

typedef struct tm_scan {
    const char *p;
} tm_scan;

/* Exactly n digits. */
static bool tm_digits(tm_scan *s, int n, int64_t *out)
{
    int64_t v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s->p[i]))
            return false;
        v = v * 10 + (s->p[i] - '0');
    }
    s->p += n;
    *out = v;
    return true;
}

static bool tm_lit(tm_scan *s, char c)
{
    if (*s->p != c)
        return false;
    s->p++;
    return true;
}

/* YYYY-MM-DD, or a signed six-digit year: -001234-05-06. */
static bool tm_scan_date(tm_scan *s, tm_date *d)
{
    int64_t y, m, day;
    int sign = 1;
    if (*s->p == '+' || *s->p == '-') {
        sign = *s->p++ == '-' ? -1 : 1;
        if (!tm_digits(s, 6, &y))
            return false;
    } else if (!tm_digits(s, 4, &y)) {
        return false;
    }
    if (!tm_lit(s, '-') || !tm_digits(s, 2, &m) || !tm_lit(s, '-') || !tm_digits(s, 2, &day))
        return false;
    if (!tm_date_valid(sign * y, m, day))
        return false;
    *d = (tm_date){(int32_t)(sign * y), (int8_t)m, (int8_t)day};
    return true;
}

/* 1 to 9 digits after a '.' or ',' as nanoseconds. */
static bool tm_scan_fraction(tm_scan *s, int32_t *nanos)
{
    int n = 0;
    int64_t v = 0;
    while (isdigit((unsigned char)*s->p)) {
        if (n < 9)
            v = v * 10 + (*s->p - '0'), n++;
        s->p++;
    }
    if (n == 0)
        return false;
    for (; n < 9; n++)
        v *= 10;
    *nanos = (int32_t)v;
    return true;
}

/* HH:MM[:SS[.fff]] */
static bool tm_scan_tod(tm_scan *s, tm_tod *t)
{
    int64_t h, m, sec = 0;
    int32_t nanos = 0;
    if (!tm_digits(s, 2, &h) || !tm_lit(s, ':') || !tm_digits(s, 2, &m))
        return false;
    if (tm_lit(s, ':')) {
        if (!tm_digits(s, 2, &sec))
            return false;
        if ((*s->p == '.' || *s->p == ',') && (s->p++, !tm_scan_fraction(s, &nanos)))
            return false;
    }
    if (sec == 60)
        sec = 59; /* a leap second reads as the last second of its minute */
    if (!tm_tod_valid(h, m, sec, nanos))
        return false;
    *t = (tm_tod){(int8_t)h, (int8_t)m, (int8_t)sec, nanos};
    return true;
}

/* Z, or +HH[:MM[:SS]] / +HHMM. */
static bool tm_scan_offset(tm_scan *s, int32_t *off)
{
    if (*s->p == 'Z' || *s->p == 'z') {
        s->p++;
        *off = 0;
        return true;
    }
    if (*s->p != '+' && *s->p != '-')
        return false;
    int sign = *s->p++ == '-' ? -1 : 1;
    int64_t h, m = 0, sec = 0;
    if (!tm_digits(s, 2, &h))
        return false;
    bool colon = tm_lit(s, ':');
    if (isdigit((unsigned char)*s->p)) {
        if (!tm_digits(s, 2, &m))
            return false;
        if ((colon ? tm_lit(s, ':') : isdigit((unsigned char)*s->p)) && !tm_digits(s, 2, &sec))
            return false;
    }
    if (h > 25 || m > 59 || sec > 59)
        return false;
    *off = (int32_t)(sign * (h * 3600 + m * 60 + sec));
    return true;
}

/* [Area/City], [!Area/City] (RFC 9557's "critical" mark) */
static bool tm_scan_zone(tm_scan *s, char *zone, size_t cap)
{
    if (!tm_lit(s, '['))
        return false;
    tm_lit(s, '!');
    const char *close = strchr(s->p, ']');
    size_t n = close ? (size_t)(close - s->p) : 0;
    if (!close || n == 0 || n >= cap)
        return false;
    memcpy(zone, s->p, n);
    zone[n] = '\0';
    s->p = close + 1;
    return true;
}

static bool tm_parse_iso(const char *text, tm_parsed *r)
{
    tm_scan s = {text};
    if (tm_scan_tod(&s, &r->tod) && *s.p == '\0') {
        r->kind = TM_PARSED_TIME;
        return true;
    }
    s.p = text;
    if (!tm_scan_date(&s, &r->date))
        return false;
    if (*s.p == '\0') {
        r->kind = TM_PARSED_DATE;
        return true;
    }
    if (!strchr("Tt ", *s.p) || (s.p++, !tm_scan_tod(&s, &r->tod)))
        return false;
    r->has_offset = tm_scan_offset(&s, &r->offset);
    bool zoned = *s.p == '[' && tm_scan_zone(&s, r->zone, sizeof r->zone);
    if (*s.p != '\0')
        return false;
    r->kind = zoned ? TM_PARSED_ZONED : r->has_offset ? TM_PARSED_INSTANT : TM_PARSED_CIVIL;
    return true;
}

/* ---- RFC 2822: "Wed, 01 Oct 2025 14:30:00 -0500" -------------------------------------------------- */

static int tm_month_from_name(const char *s, size_t *len)
{
    for (int i = 0; i < 12; i++) {
        size_t full = strlen(tm_month_names[i]);
        if (strncasecmp(s, tm_month_names[i], full) == 0) {
            *len = full;
            return i + 1;
        }
        if (strncasecmp(s, tm_month_names[i], 3) == 0) {
            *len = 3;
            return i + 1;
        }
    }
    return 0;
}

static int tm_weekday_from_name(const char *s, size_t *len)
{
    for (int i = 0; i < 7; i++) {
        size_t full = strlen(tm_weekday_names[i]);
        if (strncasecmp(s, tm_weekday_names[i], full) == 0) {
            *len = full;
            return i + 1;
        }
        if (strncasecmp(s, tm_weekday_names[i], 3) == 0) {
            *len = 3;
            return i + 1;
        }
    }
    return 0;
}

static void tm_skip_space(tm_scan *s)
{
    while (*s->p == ' ' || *s->p == '\t')
        s->p++;
}

/* A number of 1 to max digits. */
static bool tm_number(tm_scan *s, int max, int64_t *out)
{
    int n = 0;
    int64_t v = 0;
    while (n < max && isdigit((unsigned char)s->p[n]))
        v = v * 10 + (s->p[n++] - '0');
    if (n == 0)
        return false;
    s->p += n;
    *out = v;
    return true;
}

static bool tm_rfc2822_zone(tm_scan *s, int32_t *off)
{
    static const struct { const char *name; int hours; } names[] = {
        {"UT", 0}, {"UTC", 0}, {"GMT", 0}, {"Z", 0}, {"EST", -5}, {"EDT", -4},
        {"CST", -6}, {"CDT", -5}, {"MST", -7}, {"MDT", -6}, {"PST", -8}, {"PDT", -7},
    };
    if (*s->p == '+' || *s->p == '-') {
        int sign = *s->p++ == '-' ? -1 : 1;
        int64_t hhmm;
        if (!tm_digits(s, 4, &hhmm) || hhmm % 100 > 59)
            return false;
        *off = (int32_t)(sign * (hhmm / 100 * 3600 + hhmm % 100 * 60));
        return true;
    }
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        size_t n = strlen(names[i].name);
        if (strncasecmp(s->p, names[i].name, n) == 0 && !isalpha((unsigned char)s->p[n])) {
            s->p += n;
            *off = names[i].hours * 3600;
            return true;
        }
    }
    return false;
}

static bool tm_parse_rfc2822(const char *text, tm_parsed *r)
{
    tm_scan s = {text};
    size_t n;
    tm_skip_space(&s);
    if (tm_weekday_from_name(s.p, &n)) {
        s.p += n;
        if (!tm_lit(&s, ','))
            return false;
        tm_skip_space(&s);
    }
    int64_t day, year, h, m, sec = 0;
    if (!tm_number(&s, 2, &day))
        return false;
    tm_skip_space(&s);
    int month = tm_month_from_name(s.p, &n);
    if (!month)
        return false;
    s.p += n;
    tm_skip_space(&s);
    if (!tm_number(&s, 4, &year))
        return false;
    tm_skip_space(&s);
    if (!tm_digits(&s, 2, &h) || !tm_lit(&s, ':') || !tm_digits(&s, 2, &m))
        return false;
    if (tm_lit(&s, ':') && !tm_digits(&s, 2, &sec))
        return false;
    tm_skip_space(&s);
    if (!tm_rfc2822_zone(&s, &r->offset))
        return false;
    tm_skip_space(&s);
    if (*s.p != '\0' || !tm_date_valid(year, month, day) || !tm_tod_valid(h, m, sec, 0))
        return false;
    r->date = (tm_date){(int32_t)year, (int8_t)month, (int8_t)day};
    r->tod = (tm_tod){(int8_t)h, (int8_t)m, (int8_t)sec, 0};
    r->has_offset = true;
    r->kind = TM_PARSED_INSTANT;
    return true;
}

tm_parsed tm_parse(const char *text)
{
    tm_parsed r;
    memset(&r, 0, sizeof r);
    if (tm_parse_iso(text, &r) || (memset(&r, 0, sizeof r), tm_parse_rfc2822(text, &r)))
        return r;
    memset(&r, 0, sizeof r);
    return r;
}

/* ---- strptime-style reading -------------------------------------------------------------------- */

/* What a format has read so far. */
typedef struct tm_read {
    int64_t year, month, day, hour, minute, second, yday, epoch;
    int32_t nanos;
    int pm;          /* -1 none, 0 am, 1 pm */
    bool has_year, has_month, has_day, has_hour, has_yday, has_epoch, twelve_hour;
} tm_readings;

typedef struct tm_pctx {
    tm_scan s;
    tm_readings *rd;
    tm_parsed *out;
    char *err;
    size_t errlen;
} tm_pctx;

static bool tm_pfail(tm_pctx *c, const char *what)
{
    snprintf(c->err, c->errlen, "expected %s at '%.20s'", what, c->s.p);
    return false;
}

static bool tm_read(tm_pctx *c, const char *fmt);

static bool tm_read_num(tm_pctx *c, int max, int64_t lo, int64_t hi, int64_t *out, const char *what)
{
    int sign = 1;
    if (lo < 0 && (*c->s.p == '-' || *c->s.p == '+'))
        sign = *c->s.p++ == '-' ? -1 : 1;
    if (!tm_number(&c->s, max, out))
        return tm_pfail(c, what);
    *out *= sign;
    if (*out < lo || *out > hi)
        return tm_pfail(c, what);
    return true;
}

static bool tm_read_name(tm_pctx *c, bool month)
{
    size_t n;
    int v = month ? tm_month_from_name(c->s.p, &n) : tm_weekday_from_name(c->s.p, &n);
    if (!v)
        return tm_pfail(c, month ? "a month name" : "a weekday name");
    c->s.p += n;
    if (month) {
        c->rd->month = v;
        c->rd->has_month = true;
    }
    return true;
}

static bool tm_read_ampm(tm_pctx *c)
{
    if (strncasecmp(c->s.p, "am", 2) == 0 || strncasecmp(c->s.p, "pm", 2) == 0) {
        c->rd->pm = tolower((unsigned char)*c->s.p) == 'p';
        c->s.p += 2;
        return true;
    }
    return tm_pfail(c, "AM or PM");
}

static bool tm_read_directive(tm_pctx *c, char d)
{
    tm_readings *rd = c->rd;
    int64_t v;
    const char *expand = tm_composite(d);
    if (expand)
        return tm_read(c, expand);
    switch (d) {
    case 'Y': rd->has_year = true; return tm_read_num(c, 4, TM_YEAR_MIN, TM_YEAR_MAX, &rd->year, "a year");
    case 'y':
        if (!tm_read_num(c, 2, 0, 99, &v, "a two-digit year"))
            return false;
        rd->year = v < 69 ? 2000 + v : 1900 + v;
        rd->has_year = true;
        return true;
    case 'm': rd->has_month = true; return tm_read_num(c, 2, 1, 12, &rd->month, "a month");
    case 'd': case 'e':
        tm_skip_space(&c->s);
        rd->has_day = true;
        return tm_read_num(c, 2, 1, 31, &rd->day, "a day");
    case 'j': rd->has_yday = true; return tm_read_num(c, 3, 1, 366, &rd->yday, "a day of the year");
    case 'B': case 'b': case 'h': return tm_read_name(c, true);
    case 'A': case 'a': return tm_read_name(c, false);
    case 'H': case 'k':
        tm_skip_space(&c->s);
        rd->has_hour = true;
        return tm_read_num(c, 2, 0, 23, &rd->hour, "an hour");
    case 'I': case 'l':
        tm_skip_space(&c->s);
        rd->has_hour = rd->twelve_hour = true;
        return tm_read_num(c, 2, 1, 12, &rd->hour, "an hour (1-12)");
    case 'M': return tm_read_num(c, 2, 0, 59, &rd->minute, "minutes");
    case 'S': return tm_read_num(c, 2, 0, 60, &rd->second, "seconds");
    case 'f': case 'N': return tm_scan_fraction(&c->s, &rd->nanos) || tm_pfail(c, "fractional seconds");
    case 'p': case 'P': return tm_read_ampm(c);
    case 's': rd->has_epoch = true; return tm_read_num(c, 19, -INT64_MAX, INT64_MAX, &rd->epoch, "seconds");
    case 'z': {
        c->out->has_offset = true;
        return tm_scan_offset(&c->s, &c->out->offset) || tm_pfail(c, "a UTC offset");
    }
    case 'Z':
        while (isalpha((unsigned char)*c->s.p))
            c->s.p++;
        return true;
    case '%': return tm_lit(&c->s, '%') || tm_pfail(c, "'%'");
    case 'n': case 't': tm_skip_space(&c->s); return true;
    default:
        snprintf(c->err, c->errlen, "unknown format directive %%%c", d);
        return false;
    }
}

static bool tm_read(tm_pctx *c, const char *fmt)
{
    for (const char *f = fmt; *f; f++) {
        if (*f == '%') {
            f++;
            if (*f == '.' && f[1] == 'f') { /* %.f: an optional fraction */
                f++;
                if (tm_lit(&c->s, '.') && !tm_read_directive(c, 'f'))
                    return false;
                continue;
            }
            while (*f == '-' || *f == '_' || *f == '0' || *f == '^' || *f == ':')
                f++;
            if (!*f) {
                snprintf(c->err, c->errlen, "format ends in the middle of a directive");
                return false;
            }
            if (!tm_read_directive(c, *f))
                return false;
        } else if (isspace((unsigned char)*f)) {
            while (isspace((unsigned char)*c->s.p))
                c->s.p++;
        } else if (!tm_lit(&c->s, *f)) {
            char want[4] = {'\'', *f, '\'', 0};
            return tm_pfail(c, want);
        }
    }
    return true;
}

/* Turn what was read into a date, time, date-time or instant. */
static bool tm_read_finish(tm_pctx *c)
{
    tm_readings *rd = c->rd;
    tm_parsed *out = c->out;
    if (rd->has_epoch) {
        tm_split_local(rd->epoch, &out->date, &out->tod);
        out->has_offset = true;
        out->offset = 0;
        out->kind = TM_PARSED_INSTANT;
        return tm_year_in_range(out->date.year) || tm_pfail(c, "a timestamp in range");
    }
    if (rd->twelve_hour)
        rd->hour = rd->hour % 12 + (rd->pm == 1 ? 12 : 0);
    else if (rd->pm == 1 && rd->hour < 12)
        rd->hour += 12;
    bool has_date = rd->has_year && ((rd->has_month && rd->has_day) || rd->has_yday);
    if ((rd->has_month || rd->has_day) && !has_date) {
        snprintf(c->err, c->errlen, "the format gives part of a date: it needs %%Y, %%m and %%d");
        return false;
    }
    if (rd->has_yday && !rd->has_month) {
        tm_date jan1 = {(int32_t)rd->year, 1, 1};
        tm_date d = tm_date_from_days(tm_days_from_date(jan1) + rd->yday - 1);
        rd->month = d.month, rd->day = d.day;
    }
    if (has_date && !tm_date_valid(rd->year, rd->month, rd->day)) {
        snprintf(c->err, c->errlen, "%04lld-%02lld-%02lld is not a date", (long long)rd->year,
                 (long long)rd->month, (long long)rd->day);
        return false;
    }
    out->date = (tm_date){(int32_t)rd->year, (int8_t)rd->month, (int8_t)rd->day};
    out->tod = (tm_tod){(int8_t)rd->hour, (int8_t)rd->minute,
                        (int8_t)(rd->second == 60 ? 59 : rd->second), rd->nanos};
    bool has_time = rd->has_hour;
    if (!has_date && !has_time) {
        snprintf(c->err, c->errlen, "the format reads neither a date nor a time");
        return false;
    }
    out->kind = !has_date ? TM_PARSED_TIME
              : out->has_offset ? TM_PARSED_INSTANT
              : has_time ? TM_PARSED_CIVIL : TM_PARSED_DATE;
    return true;
}

bool tm_parse_format(const char *text, const char *fmt, tm_parsed *out, char *err, size_t errlen)
{
    tm_readings rd;
    memset(&rd, 0, sizeof rd);
    rd.pm = -1;
    memset(out, 0, sizeof *out);
    tm_pctx c = {{text}, &rd, out, err, errlen};
    if (!tm_read(&c, fmt))
        return false;
    if (*c.s.p != '\0') {
        snprintf(err, errlen, "unexpected text '%.20s' after the format", c.s.p);
        return false;
    }
    return tm_read_finish(&c);
}
