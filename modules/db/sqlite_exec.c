/* sqlite_exec.c — running SQL on one connection with C values in and out
 * (see sqlite_exec.h): opening, the statement cache, binding, stepping,
 * error classes, and the conversions to and from Quest values. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/db/sqlite_exec.h"
#include "modules/encoding/json.h"

/* ---- connections ------------------------------------------------------------------------ */

sq_conn *sq_open(const char *path, bool wal, bool nomutex, char *err, size_t errlen)
{
    sq_conn *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI;
    flags |= nomutex ? SQLITE_OPEN_NOMUTEX : SQLITE_OPEN_FULLMUTEX;
    if (sqlite3_open_v2(path, &c->db, flags, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "unable to open database file '%s': %s", path,
                 c->db ? sqlite3_errmsg(c->db) : "out of memory");
        sqlite3_close(c->db);
        free(c);
        return NULL;
    }
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, 5000);
    if (wal)
        sqlite3_exec(c->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL, NULL);
    return c;
}

void sq_close(sq_conn *c)
{
    if (!c)
        return;
    for (int i = 0; i < SQ_CACHE_SIZE; i++) {
        sqlite3_finalize(c->cache[i].st);
        free(c->cache[i].sql);
    }
    sqlite3_close(c->db);
    free(c);
}

/* ---- the statement cache ---------------------------------------------------------------------- */

static sqlite3_stmt *cache_find(sq_conn *c, const char *sql, size_t len)
{
    for (int i = 0; i < SQ_CACHE_SIZE; i++) {
        sq_cached *e = &c->cache[i];
        if (e->st && e->len == len && memcmp(e->sql, sql, len) == 0) {
            e->used = ++c->clock;
            return e->st;
        }
    }
    return NULL;
}

/* Keep st for sql, evicting the least recently used entry. */
static void cache_put(sq_conn *c, const char *sql, size_t len, sqlite3_stmt *st)
{
    sq_cached *victim = &c->cache[0];
    for (int i = 0; i < SQ_CACHE_SIZE; i++) {
        if (!c->cache[i].st) {
            victim = &c->cache[i];
            break;
        }
        if (c->cache[i].used < victim->used)
            victim = &c->cache[i];
    }
    char *copy = malloc(len + 1);
    if (!copy) {
        sqlite3_finalize(st);
        return;
    }
    memcpy(copy, sql, len);
    copy[len] = '\0';
    sqlite3_finalize(victim->st);
    free(victim->sql);
    *victim = (sq_cached){copy, len, st, ++c->clock};
}

/* Nothing but blanks and comments left? */
static bool only_trivia(const char *s, const char *end)
{
    while (s < end) {
        if (isspace((unsigned char)*s) || *s == ';') {
            s++;
        } else if (s + 1 < end && s[0] == '-' && s[1] == '-') {
            while (s < end && *s != '\n')
                s++;
        } else if (s + 1 < end && s[0] == '/' && s[1] == '*') {
            const char *close = strstr(s + 2, "*/");
            s = close && close < end ? close + 2 : end;
        } else {
            return false;
        }
    }
    return true;
}

/* ---- errors ------------------------------------------------------------------------------------ */

static db_err_kind err_kind_of(int code, bool preparing)
{
    switch (code & 0xff) {
    case SQLITE_CONSTRAINT: return DBE_INTEGRITY;
    case SQLITE_MISMATCH:
    case SQLITE_TOOBIG: return DBE_DATA;
    case SQLITE_RANGE:
    case SQLITE_MISUSE: return DBE_PROGRAMMING;
    case SQLITE_ERROR: return preparing ? DBE_PROGRAMMING : DBE_DATABASE;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_FULL:
    case SQLITE_READONLY:
    case SQLITE_INTERRUPT:
    case SQLITE_PROTOCOL:
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
    case SQLITE_NOMEM:
    case SQLITE_PERM:
    case SQLITE_ABORT:
    case SQLITE_AUTH: return DBE_OPERATIONAL;
    default: return DBE_DATABASE;
    }
}

static void set_error(sq_result *r, int code, db_err_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void set_error(sq_result *r, int code, db_err_kind kind, const char *fmt, ...)
{
    if (r->err)
        return;
    r->err = code ? code : SQLITE_ERROR;
    r->err_kind = kind;
    va_list ap;
    va_start(ap, fmt);
    char buf[1024];
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    r->errmsg = strdup(buf);
}

static void set_db_error(sq_result *r, sq_conn *c, int code, bool preparing)
{
    set_error(r, code, err_kind_of(code, preparing), "%s", sqlite3_errmsg(c->db));
}

/* ---- binding ----------------------------------------------------------------------------------- */

static int bind_one(sqlite3_stmt *st, int idx, const sq_val *v)
{
    switch (v->type) {
    case SQV_INT: return sqlite3_bind_int64(st, idx, v->i);
    case SQV_FLOAT: return sqlite3_bind_double(st, idx, v->f);
    case SQV_TEXT: return sqlite3_bind_text64(st, idx, v->p, v->n, SQLITE_STATIC, SQLITE_UTF8);
    case SQV_BLOB: return sqlite3_bind_blob64(st, idx, v->p, v->n, SQLITE_STATIC);
    default: return sqlite3_bind_null(st, idx);
    }
}

/* The index of a named parameter: the key as written (":id", "@id",
 * "$id") or with one of those prefixes added. */
static int named_index(sqlite3_stmt *st, const char *key)
{
    if (key[0] == ':' || key[0] == '@' || key[0] == '$')
        return sqlite3_bind_parameter_index(st, key);
    char name[256];
    static const char prefixes[] = ":@$";
    for (int i = 0; prefixes[i]; i++) {
        snprintf(name, sizeof name, "%c%s", prefixes[i], key);
        int idx = sqlite3_bind_parameter_index(st, name);
        if (idx)
            return idx;
    }
    return 0;
}

static bool bind_named(sq_conn *c, sqlite3_stmt *st, const sq_params *p, sq_result *r)
{
    int want = sqlite3_bind_parameter_count(st);
    bool *bound = calloc((size_t)want + 1, 1);
    if (!bound)
        return set_error(r, SQLITE_NOMEM, DBE_OPERATIONAL, "out of memory"), false;
    bool ok = true;
    for (uint32_t i = 0; i < p->n && ok; i++) {
        int idx = named_index(st, p->names[i]);
        if (!idx)
            continue; /* extra keys are allowed: a whole record may be passed */
        int rc = bind_one(st, idx, &p->vals[i]);
        if (rc != SQLITE_OK)
            set_db_error(r, c, rc, false), ok = false;
        bound[idx] = true;
    }
    for (int idx = 1; idx <= want && ok; idx++) {
        if (bound[idx])
            continue;
        const char *name = sqlite3_bind_parameter_name(st, idx);
        if (name && name[0] != '?')
            set_error(r, SQLITE_RANGE, DBE_PROGRAMMING, "You did not supply a value for binding parameter %s",
                      name);
        else
            set_error(r, SQLITE_RANGE, DBE_PROGRAMMING,
                      "The statement uses positional parameters (?): pass an Array, not a Dict");
        ok = false;
    }
    free(bound);
    return ok;
}

static bool bind_params(sq_conn *c, sqlite3_stmt *st, const sq_params *p, sq_result *r)
{
    if (p && p->names)
        return bind_named(c, st, p, r);
    int want = sqlite3_bind_parameter_count(st);
    uint32_t have = p ? p->n : 0;
    if ((uint32_t)want != have) {
        set_error(r, SQLITE_RANGE, DBE_PROGRAMMING,
                  "Incorrect number of bindings supplied: the statement uses %d, and %u were supplied", want,
                  have);
        return false;
    }
    for (uint32_t i = 0; i < have; i++) {
        int rc = bind_one(st, (int)i + 1, &p->vals[i]);
        if (rc != SQLITE_OK) {
            set_db_error(r, c, rc, false);
            return false;
        }
    }
    return true;
}

/* ---- stepping ---------------------------------------------------------------------------------- */

/* Copy n bytes (NUL-terminated) into the arena; their offset, or SQ_NONE
 * when out of memory. */
static size_t arena_put(sq_result *r, const void *p, size_t n)
{
    if (r->arena_len + n + 1 > r->arena_cap) {
        size_t cap = r->arena_cap ? r->arena_cap : 256;
        while (cap < r->arena_len + n + 1)
            cap *= 2;
        char *a = realloc(r->arena, cap);
        if (!a)
            return SQ_NONE;
        r->arena = a;
        r->arena_cap = cap;
    }
    size_t off = r->arena_len;
    if (n)
        memcpy(r->arena + off, p, n);
    r->arena[off + n] = '\0';
    r->arena_len += n + 1;
    return off;
}

static size_t arena_str(sq_result *r, const char *s)
{
    return s ? arena_put(r, s, strlen(s)) : SQ_NONE;
}

static void free_columns(sq_result *r)
{
    free(r->cells);
    free(r->cols);
    free(r->arena);
    r->cells = NULL;
    r->cols = NULL;
    r->arena = NULL;
    r->arena_len = r->arena_cap = 0;
    r->nrows = r->cap = 0;
    r->ncols = 0;
}

static bool start_columns(sq_result *r, sqlite3_stmt *st, int ncols)
{
    free_columns(r);
    r->has_cols = true;
    r->ncols = ncols;
    r->cols = malloc(2 * (size_t)ncols * sizeof(size_t));
    if (!r->cols)
        return false;
    for (int i = 0; i < ncols; i++) {
        r->cols[2 * i] = arena_str(r, sqlite3_column_name(st, i));
        r->cols[2 * i + 1] = arena_str(r, sqlite3_column_decltype(st, i));
    }
    return true;
}

static bool read_cell(sq_result *r, sqlite3_stmt *st, int i, sq_cell *out)
{
    memset(out, 0, sizeof *out);
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER:
        out->type = SQV_INT;
        out->i = sqlite3_column_int64(st, i);
        return true;
    case SQLITE_FLOAT:
        out->type = SQV_FLOAT;
        out->f = sqlite3_column_double(st, i);
        return true;
    case SQLITE_TEXT:
    case SQLITE_BLOB: {
        bool text = sqlite3_column_type(st, i) == SQLITE_TEXT;
        const void *p = text ? (const void *)sqlite3_column_text(st, i) : sqlite3_column_blob(st, i);
        out->type = text ? SQV_TEXT : SQV_BLOB;
        out->n = (size_t)sqlite3_column_bytes(st, i);
        out->off = arena_put(r, p, out->n);
        return out->off != SQ_NONE;
    }
    default:
        out->type = SQV_NULL;
        return true;
    }
}

static bool read_row(sq_result *r, sqlite3_stmt *st)
{
    if (r->nrows == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 2; /* small: most results are a row or two */
        sq_cell *cells = realloc(r->cells, cap * (size_t)r->ncols * sizeof(sq_cell));
        if (!cells)
            return false;
        r->cells = cells;
        r->cap = cap;
    }
    sq_cell *row = &r->cells[r->nrows * (size_t)r->ncols];
    for (int i = 0; i < r->ncols; i++)
        if (!read_cell(r, st, i, &row[i]))
            return false;
    r->nrows++;
    return true;
}

/* Step one prepared statement to the end, collecting rows. */
static void step_all(sq_conn *c, sqlite3_stmt *st, sq_result *r)
{
    int ncols = sqlite3_column_count(st);
    if (ncols > 0 && !start_columns(r, st, ncols)) {
        set_error(r, SQLITE_NOMEM, DBE_OPERATIONAL, "out of memory");
        return;
    }
    int64_t before = sqlite3_total_changes64(c->db);
    for (;;) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW) {
            set_db_error(r, c, rc, false);
            return;
        }
        if (ncols > 0 && !read_row(r, st)) {
            set_error(r, SQLITE_NOMEM, DBE_OPERATIONAL, "out of memory");
            return;
        }
    }
    /* total_changes moves only for INSERT/UPDATE/DELETE; changes() alone
     * would repeat the count of an earlier statement after DDL. */
    r->changes = sqlite3_total_changes64(c->db) != before ? sqlite3_changes64(c->db) : 0;
    r->last_rowid = sqlite3_last_insert_rowid(c->db);
}

void sq_run(sq_conn *c, const char *sql, size_t len, const sq_params *p, sq_result *r)
{
    memset(r, 0, sizeof *r);
    r->readonly = true;
    const char *s = sql, *end = sql + len;
    bool first = true;
    while (s < end && !r->err) {
        sqlite3_stmt *st = first ? cache_find(c, sql, len) : NULL;
        bool cached = st != NULL;
        const char *tail = end;
        if (!st) {
            int rc = sqlite3_prepare_v3(c->db, s, (int)(end - s), SQLITE_PREPARE_PERSISTENT, &st, &tail);
            if (rc != SQLITE_OK) {
                set_db_error(r, c, rc, true);
                break;
            }
            if (!st) { /* only blanks or comments */
                s = tail;
                continue;
            }
            if (first && only_trivia(tail, end)) {
                cache_put(c, sql, len, st);
                cached = true;
                tail = end;
            }
        }
        if (first ? bind_params(c, st, p, r) : bind_params(c, st, NULL, r)) {
            r->readonly &= sqlite3_stmt_readonly(st) != 0;
            step_all(c, st, r);
        }
        if (cached) {
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
        } else {
            sqlite3_finalize(st);
        }
        s = tail;
        first = false;
    }
}

void sq_result_free(sq_result *r)
{
    free_columns(r);
    free(r->errmsg);
    r->errmsg = NULL;
}

/* ---- Quest values in ------------------------------------------------------------------------------ */

static bool copy_bytes(sq_val *v, sq_vtype type, const void *p, size_t n)
{
    v->type = type;
    v->n = n;
    v->p = malloc(n + 1);
    if (!v->p)
        return false;
    if (n)
        memcpy(v->p, p, n);
    v->p[n] = '\0';
    return true;
}

/* One parameter.  Beyond the reference's nil/Bool/Int/Float/Str/Bytes,
 * values with an obvious text form are stored as text: Decimal, BigInt,
 * Uuid, std/time values (ISO 8601), and Array/Dict as JSON. */
static bool param_from(qvm *vm, qval v, sq_val *out)
{
    memset(out, 0, sizeof *out);
    switch (v.tag) {
    case QV_NIL: out->type = SQV_NULL; return true;
    case QV_BOOL: out->type = SQV_INT; out->i = v.as.b; return true;
    case QV_INT: out->type = SQV_INT; out->i = v.as.i; return true;
    case QV_FLOAT: out->type = SQV_FLOAT; out->f = v.as.f; return true;
    default: break;
    }
    qstr *text = NULL;
    if (IS_STR(v))
        text = AS_STR(v);
    else if (IS_BYTES(v))
        return copy_bytes(out, SQV_BLOB, AS_BYTES(v)->data, AS_BYTES(v)->len) ||
               (vm_raise(vm, E_RUNTIME, "out of memory"), false);
    else if (IS_ARRAY(v) || IS_DICT(v))
        text = json_stringify(vm, v, -1);
    else if (IS_DECIMAL(v) || IS_BIGINT(v) || IS_KIND(v, QO_UUID) || db_time_kind(v))
        text = vm_to_str(vm, v);
    else {
        db_raise(vm, DBE_DATA, "Cannot convert %s to an SQL parameter", vm_cls_name(v));
        return false;
    }
    if (!text)
        return false;
    if (!copy_bytes(out, SQV_TEXT, text->data, text->len)) {
        vm_raise(vm, E_RUNTIME, "out of memory");
        return false;
    }
    return true;
}

bool sq_params_from(qvm *vm, qval params, sq_params *out)
{
    memset(out, 0, sizeof *out);
    if (IS_NIL(params))
        return true;
    uint32_t n = IS_ARRAY(params) ? AS_ARRAY(params)->len : AS_DICT(params)->count;
    out->vals = calloc(n ? n : 1, sizeof(sq_val));
    if (!out->vals)
        return vm_raise(vm, E_RUNTIME, "out of memory"), false;
    if (IS_ARRAY(params)) {
        for (uint32_t i = 0; i < n; i++, out->n++)
            if (!param_from(vm, AS_ARRAY(params)->items[i], &out->vals[i]))
                return sq_params_free(out), false;
        return true;
    }
    out->names = calloc(n ? n : 1, sizeof(char *));
    if (!out->names)
        return sq_params_free(out), vm_raise(vm, E_RUNTIME, "out of memory"), false;
    qdict *d = AS_DICT(params);
    for (uint32_t i = 0; i < d->used; i++) {
        if (!d->entries[i].key)
            continue;
        uint32_t k = out->n;
        if (!param_from(vm, d->entries[i].val, &out->vals[k]))
            return sq_params_free(out), false;
        out->names[k] = strdup(d->entries[i].key->data);
        out->n++;
    }
    return true;
}

void sq_params_free(sq_params *p)
{
    for (uint32_t i = 0; i < p->n; i++) {
        free(p->vals[i].p);
        if (p->names)
            free(p->names[i]);
    }
    free(p->vals);
    free(p->names);
    memset(p, 0, sizeof *p);
}

/* ---- Quest values out --------------------------------------------------------------------------------- */

static qval cell_value(qvm *vm, const sq_result *r, const sq_cell *v)
{
    const char *p = v->type == SQV_TEXT || v->type == SQV_BLOB ? r->arena + v->off : NULL;
    switch (v->type) {
    case SQV_INT: return qv_int(v->i);
    case SQV_FLOAT: return qv_float(v->f);
    case SQV_TEXT:
        if (utf8_valid(p, v->n))
            return qv_obj(str_new(vm, p, v->n));
        return qv_obj(bytes_new(vm, p, v->n)); /* not text after all */
    case SQV_BLOB: return qv_obj(bytes_new(vm, p, v->n));
    default: return qv_nil();
    }
}

/* Column i's name or declared type ("" / NULL when it has none). */
static const char *col_name(const sq_result *r, int i)
{
    return r->cols[2 * i] == SQ_NONE ? "" : r->arena + r->cols[2 * i];
}

static const char *col_decltype(const sq_result *r, int i)
{
    return r->cols[2 * i + 1] == SQ_NONE ? NULL : r->arena + r->cols[2 * i + 1];
}

static qdict *row_dict(qvm *vm, const sq_result *r, qstr **keys, size_t row)
{
    qdict *d = dict_new(vm);
    const sq_cell *cells = &r->cells[row * (size_t)r->ncols];
    for (int i = 0; i < r->ncols; i++)
        dict_set(vm, d, keys[i], cell_value(vm, r, &cells[i]));
    return d;
}

/* The column names as interned keys (malloc'ed array). */
static qstr **row_keys(qvm *vm, const sq_result *r)
{
    qstr **keys = malloc(((size_t)r->ncols + 1) * sizeof(qstr *));
    if (!keys)
        abort();
    for (int i = 0; i < r->ncols; i++)
        keys[i] = str_intern_cstr(vm, col_name(r, i));
    return keys;
}

qarray *sq_result_rows(qvm *vm, const sq_result *r, size_t from)
{
    size_t n = r->nrows > from ? r->nrows - from : 0;
    qarray *a = arr_new(vm, (uint32_t)n);
    if (!n)
        return a;
    qstr **keys = row_keys(vm, r);
    for (size_t row = from; row < r->nrows; row++)
        arr_push(vm, a, qv_obj(row_dict(vm, r, keys, row)));
    free(keys);
    return a;
}

qval sq_result_value(qvm *vm, const sq_result *r, db_shape shape)
{
    switch (shape) {
    case DB_ROWS: return qv_obj(sq_result_rows(vm, r, 0));
    case DB_ONE: {
        if (!r->nrows)
            return qv_nil();
        qstr **keys = row_keys(vm, r);
        qdict *d = row_dict(vm, r, keys, 0);
        free(keys);
        return qv_obj(d);
    }
    case DB_VAL: return r->nrows && r->ncols ? cell_value(vm, r, &r->cells[0]) : qv_nil();
    default: return qv_int(r->has_cols ? (int64_t)r->nrows : r->changes);
    }
}

qval sq_result_description(qvm *vm, const sq_result *r)
{
    if (!r->has_cols)
        return qv_nil();
    qarray *a = arr_new(vm, (uint32_t)r->ncols);
    for (int i = 0; i < r->ncols; i++) {
        qdict *d = dict_new(vm);
        const char *decl = col_decltype(r, i);
        dict_set_cstr(vm, d, "name", qv_obj(str_cstr(vm, col_name(r, i))));
        dict_set_cstr(vm, d, "type_code", decl ? qv_obj(str_cstr(vm, decl)) : qv_nil());
        dict_set_cstr(vm, d, "display_size", qv_nil());
        dict_set_cstr(vm, d, "internal_size", qv_nil());
        dict_set_cstr(vm, d, "precision", qv_nil());
        dict_set_cstr(vm, d, "scale", qv_nil());
        dict_set_cstr(vm, d, "null_ok", qv_bool(true));
        arr_push(vm, a, qv_obj(d));
    }
    return qv_obj(a);
}

qexc *sq_result_exc(qvm *vm, const sq_result *r)
{
    return db_exc(vm, r->err_kind, "%s", r->errmsg ? r->errmsg : "unknown SQLite error");
}
