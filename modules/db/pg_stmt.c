/* pg_stmt.c — the prepared statements of one connection: each SQL text is
 * Parsed once per connection (named q1, q2 ...) and executed by name
 * afterwards, so the server plans it once.  An open-addressing table of
 * 2 * PGP_STMTS slots; past PGP_STMTS statements, queries go unnamed. */
#include <stdlib.h>
#include <string.h>

#include "modules/db/pg_pool.h"

static pgp_stmt **stmt_slot(pgp_conn *c, const char *sql, size_t len, uint32_t h)
{
    size_t mask = 2 * PGP_STMTS - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        pgp_stmt *s = c->stmts[i];
        if (!s || (s->hash == h && s->len == len && memcmp(s->sql, sql, len) == 0))
            return &c->stmts[i];
    }
}

pgp_stmt *pgp_stmt_find(pgp_conn *c, const char *sql, size_t len)
{
    return *stmt_slot(c, sql, len, str_hash_bytes(sql, len));
}

pgp_stmt *pgp_stmt_add(pgp_conn *c, const char *sql, size_t len)
{
    if (c->nstmts >= PGP_STMTS)
        return NULL;
    uint32_t h = str_hash_bytes(sql, len);
    pgp_stmt **slot = stmt_slot(c, sql, len, h);
    pgp_stmt *s = calloc(1, sizeof *s);
    if (!s || !(s->sql = malloc(len + 1))) {
        free(s);
        return NULL;
    }
    memcpy(s->sql, sql, len);
    s->sql[len] = '\0';
    s->len = len;
    s->hash = h;
    s->ntypes = -1;
    snprintf(s->name, sizeof s->name, "q%u", ++c->stmt_seq);
    *slot = s;
    c->nstmts++;
    return s;
}

static void stmt_free(pgp_stmt *s)
{
    free(s->types);
    free(s->sql);
    free(s);
}

/* Forget s (its Parse failed, or its plan went stale); the table is
 * rebuilt to keep the probe chains intact. */
void pgp_stmt_drop(pgp_conn *c, pgp_stmt *s)
{
    size_t cap = 2 * PGP_STMTS;
    pgp_stmt **old = c->stmts;
    c->stmts = calloc(cap, sizeof *c->stmts);
    if (!c->stmts)
        abort();
    for (size_t i = 0; i < cap; i++)
        if (old[i] && old[i] != s)
            *stmt_slot(c, old[i]->sql, old[i]->len, old[i]->hash) = old[i];
    free(old);
    stmt_free(s);
    c->nstmts--;
}

void pgp_stmts_free(pgp_conn *c)
{
    for (int i = 0; c->stmts && i < 2 * PGP_STMTS; i++)
        if (c->stmts[i])
            stmt_free(c->stmts[i]);
    free(c->stmts);
    c->stmts = NULL;
}
