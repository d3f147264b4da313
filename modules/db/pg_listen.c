/* pg_listen.c — pool.listen(name): PostgreSQL LISTEN / NOTIFY.
 *
 *   let ch = await pg.listen("events")      # a Channel of NOTIFY payloads
 *
 * All of a pool's listens share one extra connection, the listener (not
 * counted in the pool's size).  listen() resolves once the server
 * confirmed the LISTEN.  When the listener breaks it is reconnected and
 * every name is listened to again (notifications sent in between are
 * lost: the server does not queue them).  A channel the program closed
 * stops delivery, and the last channel of a name sends UNLISTEN.
 */
#include <stdlib.h>
#include <string.h>

#include "modules/db/pg_pool.h"

/* "name" quoted as an SQL identifier. */
static char *quote_ident(const char *name)
{
    size_t n = strlen(name);
    char *q = malloc(2 * n + 3), *o = q;
    if (!q)
        abort();
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        if (name[i] == '"')
            *o++ = '"';
        *o++ = name[i];
    }
    *o++ = '"';
    *o = '\0';
    return q;
}

/* A LISTEN was answered: the listen() calls for that name get their
 * channels.  After a lost connection they wait for the next listener. */
static void listen_done(pgp_op *op)
{
    pgp_pool *p = op->pool;
    qvm *vm = p->base.vm;
    const char *name = op->data;
    for (int i = 0; i < p->nlistens && !op->lost;) {
        pgp_listen *e = &p->listens[i];
        if (strcmp(e->name, name) != 0) {
            i++;
            continue;
        }
        qtask *t = e->task;
        e->task = NULL;
        if (op->err) {
            if (t)
                task_reject(vm, t, pg_result_exc(vm, op->err));
            free(e->name);
            *e = p->listens[--p->nlistens];
            continue;
        }
        e->active = true;
        if (t)
            task_resolve(vm, t, qv_obj(e->ch));
        i++;
    }
    free(op->data);
}

/* Send `verb "name"` on the listener. */
static void send_sql(pgp_conn *c, const char *verb, const char *name)
{
    char *q = quote_ident(name);
    size_t len = strlen(verb) + strlen(q) + 2;
    char *sql = malloc(len);
    if (!sql)
        abort();
    snprintf(sql, len, "%s %s", verb, q);
    free(q);
    pgp_op *op = pgp_op_new(c->pool, sql, strlen(sql));
    free(sql);
    if (!op)
        return;
    if (strcmp(verb, "LISTEN") == 0) {
        op->on_done = listen_done;
        op->data = strdup(name);
    }
    op->where = OPW_PENDING;
    op->conn = c;
    db_queue_push(&c->pending, &op->node);
    pgp_send_pending(c);
}

/* On a (new) listener: LISTEN to every channel name in use. */
void pgp_send_listens(pgp_conn *c)
{
    pgp_pool *p = c->pool;
    for (int i = 0; i < p->nlistens; i++) {
        bool seen = false;
        for (int j = 0; j < i && !seen; j++)
            seen = strcmp(p->listens[j].name, p->listens[i].name) == 0;
        if (!seen)
            send_sql(c, "LISTEN", p->listens[i].name);
    }
}

static void listen_remove(pgp_pool *p, int i)
{
    char *name = p->listens[i].name;
    p->listens[i] = p->listens[--p->nlistens];
    bool still = false;
    for (int j = 0; j < p->nlistens && !still; j++)
        still = strcmp(p->listens[j].name, name) == 0;
    if (!still && p->listener && p->listener->state == PC_READY)
        send_sql(p->listener, "UNLISTEN", name);
    free(name);
}

void pgp_deliver_notify(pgp_pool *p, PGnotify *n)
{
    for (int i = 0; i < p->nlistens;) {
        pgp_listen *e = &p->listens[i];
        if (strcmp(e->name, n->relname) != 0) {
            i++;
            continue;
        }
        if (!channel_offer(p->base.vm, e->ch, qv_obj(str_cstr(p->base.vm, n->extra))))
            listen_remove(p, i); /* the program closed its channel */
        else
            i++;
    }
}

/* Close every channel (vm_alive: the program may still see them) and,
 * once the pool is shut down, forget the names. */
void pgp_listens_close(pgp_pool *p, bool vm_alive)
{
    for (int i = 0; i < p->nlistens; i++) {
        if (vm_alive)
            channel_close(p->base.vm, p->listens[i].ch);
        if (p->base.shut)
            free(p->listens[i].name);
    }
    if (p->base.shut)
        p->nlistens = 0;
}

static void listen_cancel(qvm *vm, qtask *t, void *data)
{
    (void)vm;
    pgp_pool *p = data;
    for (int i = 0; i < p->nlistens; i++) {
        if (p->listens[i].task == t) {
            p->listens[i].task = NULL;
            listen_remove(p, i);
            return;
        }
    }
}

static bool listen_room(pgp_pool *p)
{
    if (p->nlistens < p->caplistens)
        return true;
    int cap = p->caplistens ? p->caplistens * 2 : 4;
    pgp_listen *l = realloc(p->listens, (size_t)cap * sizeof *l);
    if (!l)
        return false;
    p->listens = l;
    p->caplistens = cap;
    return true;
}

static qval pool_listen(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    pgp_pool *p = (pgp_pool *)db_pool_of(vm, self);
    qstr *name;
    if (!p || !arg_str(vm, "listen", argv[0], &name))
        return qv_exc();
    if (p->base.closed)
        return db_failed_task(vm, DBE_OPERATIONAL, "the database pool is closed");
    if (!listen_room(p))
        return vm_raise(vm, E_RUNTIME, "out of memory");
    bool active = false;
    for (int i = 0; i < p->nlistens; i++)
        active |= strcmp(p->listens[i].name, name->data) == 0 && p->listens[i].active;
    pgp_listen *e = &p->listens[p->nlistens++];
    e->name = strdup(name->data);
    e->ch = channel_new(vm, -1);
    e->active = active;
    e->task = task_new_pending(vm, "listen");
    qtask *t = e->task;
    task_hold(t, self);
    if (active) { /* already listening to that name */
        e->task = NULL;
        task_resolve(vm, t, qv_obj(e->ch));
    } else {
        task_set_cancel(t, listen_cancel, p);
        if (p->listener && p->listener->state == PC_READY)
            send_sql(p->listener, "LISTEN", name->data);
        else if (!p->listener && pgp_now(p) >= p->next_listener)
            pgp_conn_open(p, true);
    }
    pgp_schedule(p);
    return task_value(t);
}

const qmethod_def pg_pool_extra_methods[] = {
    {"listen", pool_listen, 1, 1, false},
    {NULL, NULL, 0, 0, false},
};
