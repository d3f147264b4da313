/* time_tz.c — time zones for std/time, read from the system's tz database
 * (the TZif files under /usr/share/zoneinfo, RFC 8536) rather than through
 * localtime_r: the C library keeps one zone per process in global state set
 * from $TZ, while every VM here may use many zones at once, on any thread.
 *
 * A zone is its table of transitions (instants where the UTC offset
 * changes) plus the POSIX TZ rule from the file's footer, which gives the
 * offset after the last transition ("EST5EDT,M3.2.0,M11.1.0").
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "modules/time_internal.h"

#define TZ_MAX_FILE (1 << 20)
#define TZ_ABBR_MAX 16

/* A POSIX transition day: "Mm.w.d" (weekday d of week w of month m, week 5
 * meaning the last), "Jn" (1..365, Feb 29 never counted) or "n" (0..365). */
typedef struct tz_day_rule {
    char kind; /* 'M', 'J' or 'N' */
    int month, week, weekday, n;
    int32_t time; /* seconds after local midnight, may be negative or > 24 h */
} tz_day_rule;

typedef struct tz_posix {
    bool valid, has_dst;
    char std_abbr[TZ_ABBR_MAX], dst_abbr[TZ_ABBR_MAX];
    int32_t std_off, dst_off; /* seconds east of UTC */
    tz_day_rule start, end;
} tz_posix;

typedef struct tz_type {
    int32_t off;
    uint32_t abbr; /* index into abbrs */
} tz_type;

struct tz_zone {
    char *name;
    int64_t *trans;   /* transition instants, ascending */
    uint8_t *idx;     /* type in effect from each transition */
    size_t ntrans;
    tz_type *types;
    size_t ntypes;
    char *abbrs;      /* NUL-separated, NUL-terminated */
    size_t nabbrs;
    tz_posix rule;
};

/* ---- POSIX TZ rules ---------------------------------------------------------------------- */

static bool tz_parse_abbr(const char **p, char *out)
{
    const char *s = *p;
    size_t n = 0;
    if (*s == '<') {
        s++;
        while (*s && *s != '>' && n < TZ_ABBR_MAX - 1)
            out[n++] = *s++;
        if (*s != '>')
            return false;
        s++;
    } else {
        while (isalpha((unsigned char)*s) && n < TZ_ABBR_MAX - 1)
            out[n++] = *s++;
    }
    out[n] = '\0';
    *p = s;
    return n > 0;
}

/* [+-]h[h][:mm[:ss]], up to `max_hours`; the value in seconds. */
static bool tz_parse_hms(const char **p, int max_hours, int32_t *out)
{
    const char *s = *p;
    int sign = 1;
    if (*s == '+' || *s == '-')
        sign = *s++ == '-' ? -1 : 1;
    if (!isdigit((unsigned char)*s))
        return false;
    long parts[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++) {
        char *end;
        parts[i] = strtol(s, &end, 10);
        if (end == s || end - s > 3)
            return false;
        s = end;
        if (i == 2 || *s != ':')
            break;
        s++;
    }
    if (parts[0] > max_hours || parts[1] > 59 || parts[2] > 59)
        return false;
    *out = (int32_t)(sign * (parts[0] * 3600 + parts[1] * 60 + parts[2]));
    *p = s;
    return true;
}

static bool tz_parse_day_rule(const char **p, tz_day_rule *r)
{
    const char *s = *p;
    char *end;
    if (*s == 'M') {
        r->kind = 'M';
        r->month = (int)strtol(s + 1, &end, 10);
        if (*end != '.')
            return false;
        r->week = (int)strtol(end + 1, &end, 10);
        if (*end != '.')
            return false;
        r->weekday = (int)strtol(end + 1, &end, 10);
        if (r->month < 1 || r->month > 12 || r->week < 1 || r->week > 5 || r->weekday < 0 ||
            r->weekday > 6)
            return false;
    } else {
        r->kind = *s == 'J' ? 'J' : 'N';
        if (*s == 'J')
            s++;
        if (!isdigit((unsigned char)*s))
            return false;
        r->n = (int)strtol(s, &end, 10);
        if (r->n > 365 || (r->kind == 'J' && r->n < 1))
            return false;
    }
    s = end;
    r->time = 7200;
    if (*s == '/') {
        s++;
        if (!tz_parse_hms(&s, 167, &r->time))
            return false;
    }
    *p = s;
    return true;
}

/* "EST5EDT,M3.2.0,M11.1.0": POSIX offsets count west, ours east. */
static bool tz_parse_posix(const char *s, tz_posix *r)
{
    memset(r, 0, sizeof *r);
    int32_t west;
    if (!tz_parse_abbr(&s, r->std_abbr) || !tz_parse_hms(&s, 24, &west))
        return false;
    r->std_off = -west;
    if (*s == '\0') {
        r->valid = true;
        return true;
    }
    if (!tz_parse_abbr(&s, r->dst_abbr))
        return false;
    r->has_dst = true;
    r->dst_off = r->std_off + 3600;
    if (*s != ',' && *s != '\0') {
        if (!tz_parse_hms(&s, 24, &west))
            return false;
        r->dst_off = -west;
    }
    const char *us_rule = ",M3.2.0,M11.1.0";
    const char *rule = *s ? s : us_rule;
    if (*rule++ != ',' || !tz_parse_day_rule(&rule, &r->start) || *rule++ != ',' ||
        !tz_parse_day_rule(&rule, &r->end) || *rule != '\0')
        return false;
    r->valid = true;
    return true;
}

/* Day number (since 1970) of a rule's transition day in `year`. */
static int64_t tz_rule_day(const tz_day_rule *r, int64_t year)
{
    tm_date jan1 = {(int32_t)year, 1, 1};
    if (r->kind == 'J')
        return tm_days_from_date(jan1) + r->n - 1 + (tm_is_leap(year) && r->n >= 60);
    if (r->kind == 'N')
        return tm_days_from_date(jan1) + r->n;
    tm_date first = {(int32_t)year, (int8_t)r->month, 1};
    int sunday0 = tm_weekday(first) % 7;
    int day = 1 + (r->weekday - sunday0 + 7) % 7 + (r->week - 1) * 7;
    if (day > tm_days_in_month(year, r->month))
        day -= 7;
    first.day = (int8_t)day;
    return tm_days_from_date(first);
}

static int32_t tz_posix_offset(const tz_posix *r, int64_t t, const char **abbrev)
{
    bool dst = false;
    if (r->has_dst) {
        int64_t year = tm_date_from_days((t + r->std_off) / TM_SEC_PER_DAY).year;
        int64_t start = tz_rule_day(&r->start, year) * TM_SEC_PER_DAY + r->start.time - r->std_off;
        int64_t end = tz_rule_day(&r->end, year) * TM_SEC_PER_DAY + r->end.time - r->dst_off;
        dst = start < end ? (t >= start && t < end) : !(t >= end && t < start);
    }
    if (abbrev)
        *abbrev = dst ? r->dst_abbr : r->std_abbr;
    return dst ? r->dst_off : r->std_off;
}

/* ---- TZif files ------------------------------------------------------------------------------- */

typedef struct tz_reader {
    const unsigned char *p, *end;
} tz_reader;

static bool tz_need(tz_reader *r, size_t n)
{
    return (size_t)(r->end - r->p) >= n;
}

static uint32_t tz_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t tz_be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)tz_be32(p) << 32 | tz_be32(p + 4));
}

typedef struct tz_header {
    char version;
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
} tz_header;

static bool tz_read_header(tz_reader *r, tz_header *h)
{
    if (!tz_need(r, 44) || memcmp(r->p, "TZif", 4) != 0)
        return false;
    h->version = (char)r->p[4];
    const unsigned char *c = r->p + 20;
    h->isutcnt = tz_be32(c);
    h->isstdcnt = tz_be32(c + 4);
    h->leapcnt = tz_be32(c + 8);
    h->timecnt = tz_be32(c + 12);
    h->typecnt = tz_be32(c + 16);
    h->charcnt = tz_be32(c + 20);
    r->p += 44;
    return h->typecnt >= 1 && h->typecnt <= 256 && h->timecnt <= 100000 && h->charcnt <= 1024;
}

static size_t tz_block_size(const tz_header *h, size_t tsize)
{
    return h->timecnt * tsize + h->timecnt + h->typecnt * 6 + h->charcnt +
           h->leapcnt * (tsize + 4) + h->isstdcnt + h->isutcnt;
}

/* Read the data block that follows header h (times of tsize bytes). */
static bool tz_read_block(tz_reader *r, const tz_header *h, size_t tsize, tz_zone *z)
{
    if (!tz_need(r, tz_block_size(h, tsize)))
        return false;
    z->ntrans = h->timecnt;
    z->ntypes = h->typecnt;
    z->nabbrs = h->charcnt;
    z->trans = calloc(h->timecnt + 1, sizeof *z->trans);
    z->idx = calloc(h->timecnt + 1, 1);
    z->types = calloc(h->typecnt, sizeof *z->types);
    z->abbrs = calloc(h->charcnt + 1, 1);
    if (!z->trans || !z->idx || !z->types || !z->abbrs)
        return false;
    for (size_t i = 0; i < h->timecnt; i++, r->p += tsize)
        z->trans[i] = tsize == 8 ? tz_be64(r->p) : (int32_t)tz_be32(r->p);
    for (size_t i = 0; i < h->timecnt; i++)
        if ((z->idx[i] = *r->p++) >= h->typecnt)
            return false;
    for (size_t i = 0; i < h->typecnt; i++, r->p += 6) {
        z->types[i].off = (int32_t)tz_be32(r->p);
        if ((z->types[i].abbr = r->p[5]) >= h->charcnt && h->charcnt > 0)
            return false;
    }
    memcpy(z->abbrs, r->p, h->charcnt);
    r->p += h->charcnt + h->leapcnt * (tsize + 4) + h->isstdcnt + h->isutcnt;
    return true;
}

/* The footer of a version 2+ file: "\n<POSIX TZ>\n", possibly empty. */
static void tz_read_footer(tz_reader *r, tz_zone *z)
{
    if (!tz_need(r, 2) || *r->p != '\n')
        return;
    const unsigned char *start = r->p + 1;
    const unsigned char *nl = memchr(start, '\n', (size_t)(r->end - start));
    if (!nl || nl == start || nl - start > 200)
        return;
    char rule[256];
    memcpy(rule, start, (size_t)(nl - start));
    rule[nl - start] = '\0';
    tz_parse_posix(rule, &z->rule);
}

static bool tz_parse_tzif(const unsigned char *data, size_t len, tz_zone *z)
{
    tz_reader r = {data, data + len};
    tz_header h;
    if (!tz_read_header(&r, &h))
        return false;
    if (h.version < '2')
        return tz_read_block(&r, &h, 4, z);
    if (!tz_need(&r, tz_block_size(&h, 4)))
        return false;
    r.p += tz_block_size(&h, 4); /* the 32-bit data, superseded */
    if (!tz_read_header(&r, &h) || !tz_read_block(&r, &h, 8, z))
        return false;
    tz_read_footer(&r, z);
    return true;
}

static unsigned char *tz_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    unsigned char *buf = malloc(TZ_MAX_FILE);
    size_t n = buf ? fread(buf, 1, TZ_MAX_FILE, f) : 0;
    fclose(f);
    if (!buf || n == 0 || n == TZ_MAX_FILE) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

/* ---- zones -------------------------------------------------------------------------------- */

void tz_free(tz_zone *z)
{
    if (!z)
        return;
    free(z->name);
    free(z->trans);
    free(z->idx);
    free(z->types);
    free(z->abbrs);
    free(z);
}

static tz_zone *tz_new(const char *name)
{
    tz_zone *z = calloc(1, sizeof *z);
    if (z && !(z->name = strdup(name))) {
        free(z);
        return NULL;
    }
    return z;
}

/* A zone with no transitions: UTC, or one given by a POSIX TZ rule. */
static tz_zone *tz_from_rule(const char *name, const char *rule)
{
    tz_zone *z = tz_new(name);
    if (z && !tz_parse_posix(rule, &z->rule)) {
        tz_free(z);
        return NULL;
    }
    return z;
}

static tz_zone *tz_from_file(const char *name, const char *path)
{
    size_t len;
    unsigned char *data = tz_slurp(path, &len);
    if (!data)
        return NULL;
    tz_zone *z = tz_new(name);
    if (z && !tz_parse_tzif(data, len, z)) {
        tz_free(z);
        z = NULL;
    }
    free(data);
    return z;
}

/* IANA names are relative paths of letters, digits and "/_+-."; refuse
 * anything that could leave the database directory. */
static bool tz_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 200 || name[0] == '/' || name[0] == '.' || strstr(name, ".."))
        return false;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("/_+-.", *p))
            return false;
    return true;
}

static const char *tz_dir(void)
{
    const char *d = getenv("TZDIR");
    return d && *d ? d : "/usr/share/zoneinfo";
}

tz_zone *tz_load(const char *name, char *err, size_t errlen)
{
    if (strcmp(name, "UTC") == 0)
        return tz_from_rule("UTC", "UTC0");
    if (!tz_name_ok(name)) {
        snprintf(err, errlen, "'%s' is not a time zone name", name);
        return NULL;
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", tz_dir(), name);
    tz_zone *z = tz_from_file(name, path);
    if (!z)
        snprintf(err, errlen, "no time zone '%s' in the tz database (%s)", name, tz_dir());
    return z;
}

/* The zone named by $TZ (":Area/City", a file path or a POSIX rule). */
static tz_zone *tz_from_env(const char *tz)
{
    if (*tz == ':')
        tz++;
    if (*tz == '\0')
        return tz_from_rule("UTC", "UTC0");
    char err[256];
    if (*tz == '/')
        return tz_from_file(tz, tz);
    tz_zone *z = tz_name_ok(tz) ? tz_load(tz, err, sizeof err) : NULL;
    return z ? z : tz_from_rule(tz, tz);
}

/* /etc/localtime, named after the database entry it links to. */
static tz_zone *tz_from_localtime(void)
{
    char target[1024];
    ssize_t n = readlink("/etc/localtime", target, sizeof target - 1);
    const char *name = "Local";
    if (n > 0) {
        target[n] = '\0';
        const char *at = strstr(target, "zoneinfo/");
        if (at)
            name = at + strlen("zoneinfo/");
    }
    return tz_from_file(name, "/etc/localtime");
}

tz_zone *tz_load_local(void)
{
    const char *env = getenv("TZ");
    tz_zone *z = env ? tz_from_env(env) : tz_from_localtime();
    return z ? z : tz_from_rule("UTC", "UTC0");
}

const char *tz_name(const tz_zone *z)
{
    return z->name;
}

static int32_t tz_type_offset(const tz_zone *z, size_t type, const char **abbrev)
{
    if (abbrev)
        *abbrev = z->abbrs + z->types[type].abbr;
    return z->types[type].off;
}

int32_t tz_offset_at(const tz_zone *z, int64_t t, const char **abbrev)
{
    if (z->ntrans == 0 || t >= z->trans[z->ntrans - 1]) {
        if (z->rule.valid)
            return tz_posix_offset(&z->rule, t, abbrev);
        if (z->ntrans == 0)
            return z->ntypes ? tz_type_offset(z, 0, abbrev) : 0;
        return tz_type_offset(z, z->idx[z->ntrans - 1], abbrev);
    }
    if (t < z->trans[0])
        return tz_type_offset(z, 0, abbrev);
    size_t lo = 0, hi = z->ntrans - 1; /* trans[lo] <= t < trans[hi] */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (z->trans[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return tz_type_offset(z, z->idx[lo], abbrev);
}

int64_t tz_local_to_utc(const tz_zone *z, int64_t local)
{
    /* The offsets in effect a day either side cover any single change. */
    int32_t before = tz_offset_at(z, local - TM_SEC_PER_DAY, NULL);
    int32_t after = tz_offset_at(z, local + TM_SEC_PER_DAY, NULL);
    int64_t t1 = local - before, t2 = local - after;
    bool ok1 = tz_offset_at(z, t1, NULL) == before;
    bool ok2 = tz_offset_at(z, t2, NULL) == after;
    if (ok1 && ok2)
        return t1 < t2 ? t1 : t2;
    if (ok2)
        return t2;
    return t1; /* valid, or in a gap: the offset from before it moves us past */
}
