/* pg_types.c — PostgreSQL values to and from Quest (see pg_types.h).
 *
 * Results, by column type:  bool -> Bool; int2/int4/int8/oid -> Int;
 * float4/float8 -> Float; numeric -> Decimal; text, varchar, char, name
 * -> Str; bytea -> Bytes; uuid -> Uuid; json/jsonb -> Quest values;
 * date/time/timestamp -> Date/Time/Timestamp; timestamptz -> Zoned (UTC);
 * interval -> Span; arrays of those -> Arrays; anything else -> its text.
 *
 * Parameters: nil, Bool, Int, Float, Str, Decimal, BigInt, Uuid, the
 * std/time values, Dict (JSON) and Array (a PostgreSQL array where the
 * statement expects one, JSON otherwise); Bytes go as binary.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "modules/db/pg_types.h"
#include "modules/encoding/json.h"

enum {
    OID_BOOL = 16, OID_BYTEA = 17, OID_CHAR = 18, OID_NAME = 19, OID_INT8 = 20, OID_INT2 = 21,
    OID_INT4 = 23, OID_TEXT = 25, OID_OID = 26, OID_JSON = 114, OID_FLOAT4 = 700, OID_FLOAT8 = 701,
    OID_BPCHAR = 1042, OID_VARCHAR = 1043, OID_DATE = 1082, OID_TIME = 1083, OID_TIMESTAMP = 1114,
    OID_TIMESTAMPTZ = 1184, OID_INTERVAL = 1186, OID_TIMETZ = 1266, OID_NUMERIC = 1700,
    OID_UUID = 2950, OID_JSONB = 3802,
};

/* The types decoded here: name (for description()) and, for arrays, the
 * element type. */
typedef struct pg_type_info {
    Oid oid;
    const char *name;
    Oid elem;
} pg_type_info;

static const pg_type_info pg_types[] = {
    {OID_BOOL, "bool", 0}, {OID_BYTEA, "bytea", 0}, {OID_CHAR, "char", 0}, {OID_NAME, "name", 0},
    {OID_INT8, "int8", 0}, {OID_INT2, "int2", 0}, {OID_INT4, "int4", 0}, {OID_TEXT, "text", 0},
    {OID_OID, "oid", 0}, {OID_JSON, "json", 0}, {OID_FLOAT4, "float4", 0}, {OID_FLOAT8, "float8", 0},
    {OID_BPCHAR, "bpchar", 0}, {OID_VARCHAR, "varchar", 0}, {OID_DATE, "date", 0},
    {OID_TIME, "time", 0}, {OID_TIMESTAMP, "timestamp", 0}, {OID_TIMESTAMPTZ, "timestamptz", 0},
    {OID_INTERVAL, "interval", 0}, {OID_TIMETZ, "timetz", 0}, {OID_NUMERIC, "numeric", 0},
    {OID_UUID, "uuid", 0}, {OID_JSONB, "jsonb", 0},
    {1000, "bool[]", OID_BOOL}, {1001, "bytea[]", OID_BYTEA}, {1002, "char[]", OID_CHAR},
    {1003, "name[]", OID_NAME}, {1016, "int8[]", OID_INT8}, {1005, "int2[]", OID_INT2},
    {1007, "int4[]", OID_INT4}, {1009, "text[]", OID_TEXT}, {1028, "oid[]", OID_OID},
    {199, "json[]", OID_JSON}, {1021, "float4[]", OID_FLOAT4}, {1022, "float8[]", OID_FLOAT8},
    {1014, "bpchar[]", OID_BPCHAR}, {1015, "varchar[]", OID_VARCHAR}, {1182, "date[]", OID_DATE},
    {1183, "time[]", OID_TIME}, {1115, "timestamp[]", OID_TIMESTAMP},
    {1185, "timestamptz[]", OID_TIMESTAMPTZ}, {1187, "interval[]", OID_INTERVAL},
    {1231, "numeric[]", OID_NUMERIC}, {2951, "uuid[]", OID_UUID}, {3807, "jsonb[]", OID_JSONB},
};

static const pg_type_info *pg_type(Oid oid)
{
    for (size_t i = 0; i < sizeof pg_types / sizeof *pg_types; i++)
        if (pg_types[i].oid == oid)
            return &pg_types[i];
    return NULL;
}

/* ---- decoding results ------------------------------------------------------------------ */

static qval decode(qvm *vm, Oid type, const char *s, size_t n);

/* The value of a std/time call, or the text itself when the value is
 * outside what std/time represents (infinity, BC dates). */
static qval time_or_text(qvm *vm, qval v, const char *s, size_t n)
{
    if (!IS_EXC(v))
        return v;
    vm_take_exc(vm);
    return qv_obj(str_new(vm, s, n));
}

/* "2025-01-15 14:30:45.5" (+ "+05:30" for timestamptz) in ISO 8601. */
static size_t iso_instant(const char *s, size_t n, bool zoned, char *out, size_t cap)
{
    if (n + 8 >= cap)
        return 0;
    memcpy(out, s, n);
    out[n] = '\0';
    char *space = strchr(out, ' ');
    if (space)
        *space = 'T';
    if (!zoned) {
        memcpy(out + n, "Z", 2);
        return n + 1;
    }
    /* The offset is +HH, +HH:MM or +HH:MM:SS: make it +HH:MM. */
    char *sign = strpbrk(out + 10, "+-");
    if (!sign)
        return n;
    size_t off = strlen(sign);
    if (off == 3) {
        memcpy(sign + 3, ":00", 4);
        return n + 3;
    }
    if (off == 9)
        sign[6] = '\0';
    return strlen(out);
}

static qval decode_time(qvm *vm, Oid type, const char *s, size_t n)
{
    char iso[96];
    qval text;
    if (type == OID_TIMESTAMP || type == OID_TIMESTAMPTZ) {
        size_t len = iso_instant(s, n, type == OID_TIMESTAMPTZ, iso, sizeof iso);
        if (!len)
            return qv_obj(str_new(vm, s, n));
        text = qv_obj(str_new(vm, iso, len));
    } else {
        text = qv_obj(str_new(vm, s, n));
    }
    vm_push_root(vm, text);
    qval v = db_time_call(vm, "parse", text);
    if (!IS_EXC(v) && type == OID_TIMESTAMPTZ) {
        qval utc = qv_obj(str_cstr(vm, "UTC"));
        vm_push_root(vm, v);
        v = vm_invoke(vm, v, "to_zoned", 1, &utc);
        vm_pop_roots(vm, 1);
    }
    vm_pop_roots(vm, 1);
    return time_or_text(vm, v, s, n);
}

/* An ISO 8601 interval as PostgreSQL writes it ("P1Y2M3DT4H5M6.5S",
 * "P-1D", "PT0S") -> Span. */
static qval decode_interval(qvm *vm, const char *s, size_t n)
{
    static const char *const date_units[] = {"years", "months", "days"};
    static const char *const time_units[] = {"hours", "minutes", "seconds"};
    qdict *kw = dict_new(vm);
    vm_push_root(vm, qv_obj(kw));
    const char *p = s, *end = s + n;
    bool in_time = false, ok = p < end && *p++ == 'P';
    while (ok && p < end) {
        if (*p == 'T') {
            in_time = true;
            p++;
            continue;
        }
        char *stop;
        double num = strtod(p, &stop);
        if (stop == p || stop >= end) {
            ok = false;
            break;
        }
        const char *key = NULL;
        switch (*stop) {
        case 'Y': key = date_units[0]; break;
        case 'M': key = in_time ? time_units[1] : date_units[1]; break;
        case 'W': num *= 7; key = date_units[2]; break;
        case 'D': key = date_units[2]; break;
        case 'H': key = time_units[0]; break;
        case 'S': key = time_units[2]; break;
        default: ok = false; break;
        }
        if (!ok)
            break;
        double whole = trunc(num);
        dict_set_cstr(vm, kw, key, qv_int((int64_t)whole));
        if (*stop == 'S' && num != whole) {
            int64_t us = (int64_t)llround((num - whole) * 1e6);
            dict_set_cstr(vm, kw, "millis", qv_int(us / 1000));
            dict_set_cstr(vm, kw, "micros", qv_int(us % 1000));
        }
        p = stop + 1;
    }
    qval v = qv_exc();
    qval m = ok ? vm_import(vm, "std/time") : qv_nil();
    qval span;
    if (ok && !IS_EXC(m) && dict_get_cstr(AS_MODULE(m)->globals, "span", &span))
        v = vm_call_kw(vm, span, 0, NULL, kw);
    else if (IS_EXC(m))
        vm_take_exc(vm);
    vm_pop_roots(vm, 1);
    if (IS_EXC(v) && vm_pending_exc(vm))
        vm_take_exc(vm);
    return IS_EXC(v) ? qv_obj(str_new(vm, s, n)) : v;
}

static int hexval(int c)
{
    return isdigit(c) ? c - '0' : (tolower(c) - 'a' + 10);
}

static qval decode_bytea(qvm *vm, const char *s, size_t n)
{
    if (n < 2 || s[0] != '\\' || s[1] != 'x')
        return qv_obj(bytes_new(vm, s, n));
    size_t len = (n - 2) / 2;
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        abort();
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(hexval(s[2 + 2 * i]) << 4 | hexval(s[3 + 2 * i]));
    qval v = qv_obj(bytes_new(vm, buf, len));
    free(buf);
    return v;
}

static qval decode_uuid(qvm *vm, const char *s, size_t n)
{
    uint8_t b[16];
    size_t k = 0;
    for (size_t i = 0; i < n && k < 32; i++) {
        if (s[i] == '-')
            continue;
        if (!isxdigit((unsigned char)s[i]))
            return qv_obj(str_new(vm, s, n));
        b[k / 2] = (uint8_t)(k % 2 ? (b[k / 2] | hexval(s[i])) : hexval(s[i]) << 4);
        k++;
    }
    return k == 32 ? uuid_new(vm, b) : qv_obj(str_new(vm, s, n));
}

static qval decode_numeric(qvm *vm, const char *s, size_t n)
{
    qval v = decimal_from_cstr(vm, s);
    if (!IS_EXC(v))
        return v;
    vm_take_exc(vm); /* NaN, infinities, or more digits than Decimal holds */
    if (strcmp(s, "NaN") == 0 || strcmp(s, "Infinity") == 0 || strcmp(s, "-Infinity") == 0)
        return qv_float(strtod(s, NULL));
    return qv_obj(str_new(vm, s, n)); /* exact, as text */
}

/* ---- arrays: {1,2,"a b",NULL,{3,4}} ---------------------------------------------------------- */

static qval decode_array(qvm *vm, Oid elem, const char **sp, const char *end);

/* One element: quoted, nested, NULL or a bare word. */
static qval decode_element(qvm *vm, Oid elem, const char **sp, const char *end)
{
    const char *s = *sp;
    if (*s == '{')
        return decode_array(vm, elem, sp, end);
    qbuf b;
    buf_init(&b);
    bool quoted = *s == '"';
    if (quoted) {
        for (s++; s < end && *s != '"'; s++) {
            if (*s == '\\' && s + 1 < end)
                s++;
            buf_putc(&b, *s);
        }
        s++;
    } else {
        while (s < end && *s != ',' && *s != '}')
            buf_putc(&b, *s++);
    }
    *sp = s;
    qval v;
    if (!quoted && b.len == 4 && strncasecmp(b.data ? b.data : "", "NULL", 4) == 0)
        v = qv_nil();
    else
        v = decode(vm, elem, b.data ? b.data : "", b.len);
    buf_free(&b);
    return v;
}

static qval decode_array(qvm *vm, Oid elem, const char **sp, const char *end)
{
    const char *s = *sp;
    if (*s == '[') { /* explicit bounds: [0:2]={...} */
        while (s < end && *s != '=')
            s++;
        s++;
    }
    qarray *a = arr_new(vm, 4);
    vm_push_root(vm, qv_obj(a));
    if (s < end && *s == '{')
        s++;
    while (s < end && *s != '}') {
        qval v = decode_element(vm, elem, &s, end);
        if (IS_EXC(v)) {
            vm_pop_roots(vm, 1);
            return v;
        }
        arr_push(vm, a, v);
        if (s < end && *s == ',')
            s++;
    }
    *sp = s < end ? s + 1 : s;
    vm_pop_roots(vm, 1);
    return qv_obj(a);
}

/* Text s (NUL-terminated, n bytes) of a value of type `type`. */
static qval decode(qvm *vm, Oid type, const char *s, size_t n)
{
    switch (type) {
    case OID_BOOL: return qv_bool(s[0] == 't');
    case OID_INT2:
    case OID_INT4:
    case OID_INT8:
    case OID_OID: return qv_int(strtoll(s, NULL, 10));
    case OID_FLOAT4:
    case OID_FLOAT8: return qv_float(strtod(s, NULL));
    case OID_NUMERIC: return decode_numeric(vm, s, n);
    case OID_BYTEA: return decode_bytea(vm, s, n);
    case OID_UUID: return decode_uuid(vm, s, n);
    case OID_JSON:
    case OID_JSONB: return json_parse(vm, s, n);
    case OID_DATE:
    case OID_TIME:
    case OID_TIMESTAMP:
    case OID_TIMESTAMPTZ: return decode_time(vm, type, s, n);
    case OID_INTERVAL: return decode_interval(vm, s, n);
    default: break;
    }
    const pg_type_info *t = pg_type(type);
    if (t && t->elem) {
        const char *p = s;
        return decode_array(vm, t->elem, &p, s + n);
    }
    return utf8_valid(s, n) ? qv_obj(str_new(vm, s, n)) : qv_obj(bytes_new(vm, s, n));
}

static qval pg_cell(qvm *vm, const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return qv_nil();
    return decode(vm, PQftype(r, col), PQgetvalue(r, row, col), (size_t)PQgetlength(r, row, col));
}

/* One row as a Dict keyed by column name; NULL after raising. */
static qdict *pg_row(qvm *vm, const PGresult *r, int row, qstr **keys)
{
    int ncols = PQnfields(r);
    qdict *d = dict_new(vm);
    vm_push_root(vm, qv_obj(d));
    for (int c = 0; c < ncols; c++) {
        qval v = pg_cell(vm, r, row, c);
        if (IS_EXC(v)) {
            vm_pop_roots(vm, 1);
            return NULL;
        }
        dict_set(vm, d, keys[c], v);
    }
    vm_pop_roots(vm, 1);
    return d;
}

/* Interned column names, rooted in an Array (popped by the caller). */
static qstr **pg_keys(qvm *vm, const PGresult *r)
{
    int ncols = PQnfields(r);
    qstr **keys = malloc(((size_t)ncols + 1) * sizeof(qstr *));
    if (!keys)
        abort();
    qarray *keep = arr_new(vm, (uint32_t)ncols);
    for (int c = 0; c < ncols; c++) {
        keys[c] = str_intern_cstr(vm, PQfname(r, c));
        arr_push(vm, keep, qv_obj(keys[c]));
    }
    vm_push_root(vm, qv_obj(keep));
    return keys;
}

qarray *pg_result_rows(qvm *vm, const PGresult *r)
{
    int nrows = PQntuples(r);
    qarray *a = arr_new(vm, (uint32_t)nrows);
    vm_push_root(vm, qv_obj(a));
    qstr **keys = pg_keys(vm, r);
    for (int i = 0; i < nrows && a; i++) {
        qdict *d = pg_row(vm, r, i, keys);
        if (d)
            arr_push(vm, a, qv_obj(d));
        else
            a = NULL;
    }
    free(keys);
    vm_pop_roots(vm, 2);
    return a;
}

int64_t pg_result_count(const PGresult *r)
{
    if (PQresultStatus(r) == PGRES_TUPLES_OK)
        return PQntuples(r);
    const char *n = PQcmdTuples((PGresult *)r);
    return n && *n ? strtoll(n, NULL, 10) : 0;
}

qval pg_result_value(qvm *vm, const PGresult *r, db_shape shape)
{
    bool rows = PQresultStatus(r) == PGRES_TUPLES_OK;
    switch (shape) {
    case DB_ROWS: {
        if (!rows)
            return qv_obj(arr_new(vm, 0));
        qarray *a = pg_result_rows(vm, r);
        return a ? qv_obj(a) : qv_exc();
    }
    case DB_ONE: {
        if (!rows || PQntuples(r) == 0)
            return qv_nil();
        qstr **keys = pg_keys(vm, r);
        qdict *d = pg_row(vm, r, 0, keys);
        free(keys);
        vm_pop_roots(vm, 1);
        return d ? qv_obj(d) : qv_exc();
    }
    case DB_VAL:
        return rows && PQntuples(r) > 0 && PQnfields(r) > 0 ? pg_cell(vm, r, 0, 0) : qv_nil();
    default: return qv_int(pg_result_count(r));
    }
}

qval pg_result_description(qvm *vm, const PGresult *r)
{
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        return qv_nil();
    int ncols = PQnfields(r);
    qarray *a = arr_new(vm, (uint32_t)ncols);
    for (int c = 0; c < ncols; c++) {
        qdict *d = dict_new(vm);
        Oid oid = PQftype(r, c);
        const pg_type_info *t = pg_type(oid);
        int size = PQfsize(r, c), mod = PQfmod(r, c);
        bool numeric = oid == OID_NUMERIC && mod >= 4;
        dict_set_cstr(vm, d, "name", qv_obj(str_cstr(vm, PQfname(r, c))));
        dict_set_cstr(vm, d, "type_code", qv_obj(t ? str_cstr(vm, t->name) : str_printf(vm, "%u", oid)));
        dict_set_cstr(vm, d, "display_size", qv_nil());
        dict_set_cstr(vm, d, "internal_size", size >= 0 ? qv_int(size) : qv_nil());
        dict_set_cstr(vm, d, "precision", numeric ? qv_int((mod - 4) >> 16) : qv_nil());
        dict_set_cstr(vm, d, "scale", numeric ? qv_int((mod - 4) & 0xffff) : qv_nil());
        dict_set_cstr(vm, d, "null_ok", qv_nil());
        arr_push(vm, a, qv_obj(d));
    }
    return qv_obj(a);
}

/* ---- errors --------------------------------------------------------------------------------------- */

static db_err_kind pg_sqlstate_kind(const char *st)
{
    static const struct {
        const char cls[3];
        db_err_kind kind;
    } classes[] = {
        {"23", DBE_INTEGRITY},   {"22", DBE_DATA},        {"42", DBE_PROGRAMMING},
        {"26", DBE_PROGRAMMING}, {"34", DBE_PROGRAMMING}, {"3D", DBE_PROGRAMMING},
        {"3F", DBE_PROGRAMMING}, {"0A", DBE_PROGRAMMING}, {"08", DBE_OPERATIONAL},
        {"25", DBE_OPERATIONAL}, {"40", DBE_OPERATIONAL}, {"53", DBE_OPERATIONAL},
        {"54", DBE_OPERATIONAL}, {"55", DBE_OPERATIONAL}, {"57", DBE_OPERATIONAL},
        {"58", DBE_OPERATIONAL},
    };
    if (!st || strlen(st) != 5)
        return DBE_OPERATIONAL; /* no SQLSTATE: the client or the connection failed */
    for (size_t i = 0; i < sizeof classes / sizeof *classes; i++)
        if (memcmp(st, classes[i].cls, 2) == 0)
            return classes[i].kind;
    return DBE_DATABASE;
}

const char *pg_result_sqlstate(const PGresult *r)
{
    const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    return st ? st : "";
}

qexc *pg_result_exc(qvm *vm, const PGresult *r)
{
    const char *st = pg_result_sqlstate(r);
    const char *primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    const char *detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
    if (!primary)
        return db_exc(vm, pg_sqlstate_kind(st), "%s", PQresultErrorMessage(r));
    if (detail)
        return db_exc(vm, pg_sqlstate_kind(st), "%s: %s (SQLSTATE %s)", primary, detail, st);
    return db_exc(vm, pg_sqlstate_kind(st), "%s (SQLSTATE %s)", primary, st);
}

/* ---- parameters ---------------------------------------------------------------------------------------- */

bool pg_params_need_types(qval params)
{
    if (!IS_ARRAY(params))
        return false;
    for (uint32_t i = 0; i < AS_ARRAY(params)->len; i++)
        if (IS_ARRAY(AS_ARRAY(params)->items[i]))
            return true;
    return false;
}

static bool pg_is_array_type(Oid oid)
{
    const pg_type_info *t = pg_type(oid);
    return t && t->elem;
}

/* An Int or the value of a Span unit method. */
static int64_t span_unit(qvm *vm, qval span, const char *unit, bool *ok)
{
    qval v = vm_invoke(vm, span, unit, 0, NULL);
    if (!IS_INT(v)) {
        *ok = false;
        return 0;
    }
    return v.as.i;
}

/* A Span as an ISO 8601 interval: P1Y2M3DT4H5M6.5S. */
static bool span_text(qvm *vm, qval span, qbuf *b)
{
    bool ok = true;
    int64_t y = span_unit(vm, span, "years", &ok), mo = span_unit(vm, span, "months", &ok);
    int64_t d = span_unit(vm, span, "weeks", &ok) * 7 + span_unit(vm, span, "days", &ok);
    int64_t h = span_unit(vm, span, "hours", &ok), mi = span_unit(vm, span, "minutes", &ok);
    __int128 ns = (__int128)span_unit(vm, span, "seconds", &ok) * 1000000000 +
                  (__int128)span_unit(vm, span, "milliseconds", &ok) * 1000000 +
                  (__int128)span_unit(vm, span, "microseconds", &ok) * 1000 +
                  span_unit(vm, span, "nanoseconds", &ok);
    if (!ok)
        return false;
    bool neg = ns < 0;
    __int128 mag = neg ? -ns : ns;
    buf_printf(b, "P%lldY%lldM%lldDT%lldH%lldM%s%lld.%09lldS", (long long)y, (long long)mo, (long long)d,
               (long long)h, (long long)mi, neg ? "-" : "", (long long)(mag / 1000000000),
               (long long)(mag % 1000000000));
    return true;
}

static bool array_literal(qvm *vm, qarray *a, qbuf *b);

/* An element of an array literal: quoted text, NULL, or a nested array. */
static bool array_element(qvm *vm, qval v, qbuf *b)
{
    if (IS_NIL(v)) {
        buf_puts(b, "NULL");
        return true;
    }
    if (IS_ARRAY(v))
        return array_literal(vm, AS_ARRAY(v), b);
    if (IS_BOOL(v)) {
        buf_puts(b, v.as.b ? "t" : "f");
        return true;
    }
    qstr *s;
    if (IS_BYTES(v)) {
        qbytes *by = AS_BYTES(v);
        buf_puts(b, "\"\\\\x");
        for (uint32_t i = 0; i < by->len; i++)
            buf_printf(b, "%02x", by->data[i]);
        buf_putc(b, '"');
        return true;
    }
    if (IS_DICT(v))
        s = json_stringify(vm, v, -1);
    else
        s = vm_to_str(vm, v);
    if (!s)
        return false;
    buf_putc(b, '"');
    for (uint32_t i = 0; i < s->len; i++) {
        if (s->data[i] == '"' || s->data[i] == '\\')
            buf_putc(b, '\\');
        buf_putc(b, s->data[i]);
    }
    buf_putc(b, '"');
    return true;
}

static bool array_literal(qvm *vm, qarray *a, qbuf *b)
{
    buf_putc(b, '{');
    for (uint32_t i = 0; i < a->len; i++) {
        if (i)
            buf_putc(b, ',');
        if (!array_element(vm, a->items[i], b))
            return false;
    }
    buf_putc(b, '}');
    return true;
}

/* The text of one parameter into b; *binary for Bytes.  False after
 * raising. */
static bool param_text(qvm *vm, qval v, Oid type, qbuf *b, bool *binary)
{
    *binary = false;
    switch (v.tag) {
    case QV_BOOL: buf_puts(b, v.as.b ? "true" : "false"); return true;
    case QV_INT: { /* the common key parameter: no printf machinery */
        char digits[24], *d = digits + sizeof digits;
        uint64_t u = v.as.i < 0 ? 0 - (uint64_t)v.as.i : (uint64_t)v.as.i;
        do
            *--d = (char)('0' + u % 10);
        while (u /= 10);
        if (v.as.i < 0)
            *--d = '-';
        buf_append(b, d, (size_t)(digits + sizeof digits - d));
        return true;
    }
    case QV_FLOAT:
        if (isnan(v.as.f))
            buf_puts(b, "NaN");
        else if (isinf(v.as.f))
            buf_puts(b, v.as.f > 0 ? "Infinity" : "-Infinity");
        else
            buf_printf(b, "%.17g", v.as.f);
        return true;
    default: break;
    }
    if (IS_STR(v)) {
        buf_append(b, AS_STR(v)->data, AS_STR(v)->len);
        return true;
    }
    if (IS_BYTES(v)) {
        buf_append(b, (const char *)AS_BYTES(v)->data, AS_BYTES(v)->len);
        *binary = true;
        return true;
    }
    if (IS_ARRAY(v) && pg_is_array_type(type))
        return array_literal(vm, AS_ARRAY(v), b);
    qstr *s = NULL;
    const char *tk = db_time_kind(v);
    if (IS_ARRAY(v) || IS_DICT(v))
        s = json_stringify(vm, v, -1);
    else if (tk && strcmp(tk, "Span") == 0)
        return span_text(vm, v, b) || (db_raise(vm, DBE_DATA, "Cannot convert this Span to an interval"), false);
    else if (tk && strcmp(tk, "Zoned") == 0) {
        qval r = vm_invoke(vm, v, "to_rfc3339", 0, NULL);
        s = IS_STR(r) ? AS_STR(r) : NULL;
    } else if (tk || IS_DECIMAL(v) || IS_BIGINT(v) || IS_KIND(v, QO_UUID))
        s = vm_to_str(vm, v);
    else
        return db_raise(vm, DBE_DATA, "Cannot convert %s to an SQL parameter", vm_cls_name(v)), false;
    if (!s)
        return false;
    buf_append(b, s->data, s->len);
    return true;
}

bool pg_params_from(qvm *vm, qval params, const Oid *types, int ntypes, pg_params *out)
{
    memset(out, 0, sizeof *out);
    if (IS_NIL(params))
        return true;
    if (!IS_ARRAY(params)) {
        db_raise(vm, DBE_PROGRAMMING, "PostgreSQL takes positional parameters ($1, $2 ...): pass an Array, not a %s",
                 vm_cls_name(params));
        return false;
    }
    qarray *a = AS_ARRAY(params);
    int n = (int)a->len;
    /* Two blocks whatever n: the three arrays, and one buffer holding
     * every value's text (NUL-terminated), which values[] point into once
     * it has stopped growing; until then values[] holds offsets. */
    size_t cells = (size_t)n + 1;
    char *block = calloc(cells, sizeof(char *) + 2 * sizeof(int));
    if (!block)
        abort();
    out->values = (char **)block;
    out->lengths = (int *)(block + cells * sizeof(char *));
    out->formats = out->lengths + cells;
    out->n = n;
    qbuf b;
    buf_init(&b);
    for (int i = 0; i < n; i++) {
        qval v = a->items[i];
        bool binary;
        size_t start = b.len;
        out->lengths[i] = -1; /* SQL NULL */
        if (IS_NIL(v))
            continue;
        if (!param_text(vm, v, types && i < ntypes ? types[i] : 0, &b, &binary)) {
            buf_free(&b);
            pg_params_free(out);
            return false;
        }
        buf_putc(&b, '\0');
        out->values[i] = (char *)(uintptr_t)start;
        out->lengths[i] = (int)(b.len - 1 - start);
        out->formats[i] = binary;
    }
    out->text = b.data;
    for (int i = 0; i < n; i++) {
        bool null = out->lengths[i] < 0;
        out->values[i] = null ? NULL : b.data + (uintptr_t)out->values[i];
        out->lengths[i] = null ? 0 : out->lengths[i];
    }
    return true;
}

void pg_params_free(pg_params *p)
{
    free(p->text);
    free(p->values);
    memset(p, 0, sizeof *p);
}

/* ---- connecting ------------------------------------------------------------------------------------------- */

#define PG_SESSION_OPTIONS "-c DateStyle=ISO,MDY -c IntervalStyle=iso_8601 -c bytea_output=hex"

static bool is_host_name(const char *h)
{
    unsigned char buf[16];
    return h && *h && h[0] != '/' && h[0] != '@' && !strchr(h, ',') && inet_pton(AF_INET, h, buf) != 1 &&
           inet_pton(AF_INET6, h, buf) != 1;
}

static void add_param(pg_conn_params *p, size_t *n, const char *key, const char *value)
{
    p->keys[*n] = strdup(key);
    p->values[*n] = strdup(value);
    (*n)++;
}

bool pg_conn_params_make(const char *conninfo, const char *hostaddr, pg_conn_params *out, char *err,
                         size_t errlen)
{
    memset(out, 0, sizeof *out);
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &perr);
    if (!opts) {
        snprintf(err, errlen, "invalid connection string: %s", perr ? perr : "out of memory");
        PQfreemem(perr);
        return false;
    }
    size_t count = 0;
    for (PQconninfoOption *o = opts; o->keyword; o++)
        count++;
    out->keys = calloc(count + 5, sizeof(char *));
    out->values = calloc(count + 5, sizeof(char *));
    if (!out->keys || !out->values)
        abort();
    size_t n = 0;
    bool has_options = false, has_app = false, has_hostaddr = false;
    const char *host = NULL;
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val || strcmp(o->keyword, "client_encoding") == 0)
            continue;
        if (strcmp(o->keyword, "options") == 0) {
            char *both = malloc(strlen(o->val) + sizeof PG_SESSION_OPTIONS + 1);
            if (!both)
                abort();
            sprintf(both, "%s %s", PG_SESSION_OPTIONS, o->val);
            add_param(out, &n, "options", both);
            free(both);
            has_options = true;
            continue;
        }
        has_app |= strcmp(o->keyword, "application_name") == 0;
        has_hostaddr |= strcmp(o->keyword, "hostaddr") == 0;
        if (strcmp(o->keyword, "host") == 0)
            host = o->val;
        add_param(out, &n, o->keyword, o->val);
    }
    if (!has_options)
        add_param(out, &n, "options", PG_SESSION_OPTIONS);
    if (!has_app)
        add_param(out, &n, "application_name", "quest");
    add_param(out, &n, "client_encoding", "UTF8");
    if (hostaddr && !has_hostaddr)
        add_param(out, &n, "hostaddr", hostaddr);
    else if (!has_hostaddr && is_host_name(host))
        out->host = strdup(host);
    PQconninfoFree(opts);
    return true;
}

void pg_conn_params_free(pg_conn_params *p)
{
    for (size_t i = 0; p->keys && p->keys[i]; i++) {
        free(p->keys[i]);
        free(p->values[i]);
    }
    free(p->keys);
    free(p->values);
    free(p->host);
    memset(p, 0, sizeof *p);
}

static void pg_notice_ignore(void *arg, const char *message)
{
    (void)arg, (void)message;
}

void pg_quiet_notices(PGconn *c)
{
    PQsetNoticeProcessor(c, pg_notice_ignore, NULL);
}
