/* pg_pipe.c — the pipeline of one pooled PostgreSQL connection.
 *
 * Sending: a query is Bind/Execute of a statement prepared on that
 * connection (Parse + Describe the first time, pg_stmt.c), queued in
 * libpq without a flush.  The queries sent to one connection during one
 * loop iteration form a batch, closed by one Sync when the loop is about
 * to poll (pg_conn.c) or when it holds PGP_BATCH queries, so a batch
 * costs one write here and one wake-up, one read and one write on the
 * server, instead of one each per query (libpq 15's PQpipelineSync
 * flushes, and the server flushes at every Sync).  The bound keeps the
 * server busy while the loop is still reading requests: with all of a
 * turn's queries in one batch, the server and the loop would take turns
 * waiting for each other.
 *
 * A batch is one implicit transaction.  Its queries' results are held
 * until its Sync is answered, i.e. until it committed, so nobody sees a
 * result that is later rolled back.  When a query of a batch fails, the
 * server rolls the batch back and skips the rest: the failing query gets
 * its error if it ran first (nothing else could have caused it), else it
 * runs again alone, as do the queries before it (they were undone); those
 * after it never ran and are simply sent again.  A failed commit (a
 * deferred constraint) runs them all again alone.  So each
 * query's effects are committed exactly once, as with a Sync per query;
 * what batching shares is only the transaction: now() and
 * txid_current() are the same for the queries of one batch.  Queries
 * that need a transaction of their own (on a leased connection, internal
 * ones, re-runs) get a Sync of their own.  Several statements in one
 * string (no parameters) need the simple protocol, outside pipeline mode,
 * on an otherwise idle connection.
 *
 * Cancelling a query that is on the server sends PQcancel (blocking, so
 * on the thread pool); until it is answered the connection takes nothing
 * new, as a late cancel could hit the next query.
 */
#include <stdlib.h>
#include <string.h>

#include "modules/db/pg_pool.h"

static pgp_op *op_at(db_qnode *n)
{
    return (pgp_op *)n;
}

/* ---- ops ------------------------------------------------------------------------------------- */

pgp_op *pgp_op_new(pgp_pool *p, const char *sql, size_t len)
{
    pgp_op *op = calloc(1, sizeof *op);
    if (!op || !(op->sql = malloc(len + 1))) {
        free(op);
        return NULL;
    }
    memcpy(op->sql, sql, len);
    op->sql[len] = '\0';
    op->len = len;
    op->pool = p;
    op->params = qv_nil();
    op->ntypes = -1;
    return op;
}

void pgp_op_free(pgp_op *op)
{
    if (op->wired)
        pg_params_free(&op->wire);
    free(op->types);
    PQclear(op->res);
    PQclear(op->err);
    free(op->sql);
    free(op);
}

/* Deliver an op's outcome to its task or its owner, and free it. */
static void op_complete(pgp_op *op)
{
    qvm *vm = op->pool->base.vm;
    if (op->on_done)
        op->on_done(op);
    qtask *t = op->task;
    op->task = NULL;
    if (t) {
        if (op->lost)
            task_reject(vm, t, db_exc(vm, DBE_OPERATIONAL, "connection lost: %s", op->lost));
        else if (op->err)
            task_reject(vm, t, pg_result_exc(vm, op->err));
        else {
            qval v = op->res ? pg_result_value(vm, op->res, op->shape) : qv_nil();
            if (IS_EXC(v))
                task_reject(vm, t, vm_take_exc(vm));
            else
                task_resolve(vm, t, v);
        }
    }
    pgp_op_free(op);
}

/* Fail an op that never reached the server. */
void pgp_op_fail(pgp_op *op, db_err_kind kind, const char *msg)
{
    qvm *vm = op->pool->base.vm;
    qtask *t = op->task;
    op->task = NULL;
    if (op->on_done) {
        op->lost = msg;
        op->on_done(op);
    }
    if (t)
        task_reject(vm, t, db_exc(vm, kind, "%s", msg));
    pgp_op_free(op);
}

/* ---- sending ---------------------------------------------------------------------------------- */

/* Parameters for the wire; false after failing the op's task. */
static bool op_params(pgp_op *op, const Oid *types, int ntypes, pg_params *out)
{
    qvm *vm = op->pool->base.vm;
    if (pg_params_from(vm, op->params, types, ntypes, out))
        return true;
    qexc *e = vm_take_exc(vm);
    qtask *t = op->task;
    op->task = NULL;
    if (t)
        task_reject(vm, t, e);
    return false;
}

/* Arrays go as PostgreSQL arrays or as JSON: ask the statement's
 * parameter types first (Parse if not yet sent, Describe). */
static bool send_describe(pgp_conn *c, pgp_op *op, pgp_stmt *s)
{
    const char *name = s ? s->name : "";
    if (!s || !s->sent) {
        if (!PQsendPrepare(c->pg, name, op->sql, 0, NULL))
            return false;
        op->steps[op->nsteps++] = STEP_PREPARE;
        if (s)
            s->sent = true;
    }
    op->steps[op->nsteps++] = STEP_DESCRIBE;
    op->describing = true;
    c->blocker = op;
    return PQsendDescribePrepared(c->pg, name);
}

/* Bind/Execute (Parse + Describe first on the statement's first use
 * here); 0 if libpq refused, -1 if the parameters failed the op. */
static int send_exec(pgp_conn *c, pgp_op *op, pgp_stmt *s)
{
    PGconn *pg = c->pg;
    pg_params local, *params = &op->wire;
    if (!op->wired) {
        params = &local;
        if (!op_params(op, s ? s->types : op->types, s ? s->ntypes : op->ntypes, params))
            return -1;
    }
    const char *const *vals = (const char *const *)params->values;
    bool ok = true, parse = s && !s->sent;
    if (parse) {
        s->sent = true;
        ok = PQsendPrepare(pg, s->name, op->sql, 0, NULL) && PQsendDescribePrepared(pg, s->name);
        op->steps[op->nsteps++] = STEP_PREPARE;
        op->steps[op->nsteps++] = STEP_DESCRIBE;
    }
    if (s && (s->ready || parse))
        ok = ok && PQsendQueryPrepared(pg, s->name, params->n, vals, params->lengths, params->formats, 0);
    else /* no cache room, or another op's Parse still unanswered */
        ok = ok && PQsendQueryParams(pg, op->sql, params->n, NULL, vals, params->lengths, params->formats, 0);
    if (!op->wired)
        pg_params_free(&local);
    op->steps[op->nsteps++] = STEP_EXEC;
    return ok ? 1 : 0;
}

/* Close the open batch: a Sync after the ops sent since the last one. */
void pgp_close_batch(pgp_conn *c)
{
    if (!c->open || c->closed)
        return;
    c->open = 0;
    c->batch_next++;
    if (!PQpipelineSync(c->pg))
        pgp_conn_broken(c, PQerrorMessage(c->pg));
}

/* Does op need a transaction of its own? */
static bool op_solo(const pgp_conn *c, const pgp_op *op)
{
    return op->solo || op->describing || op->on_done || c->lease || c->listener || !c->pool->batch;
}

static int send_pipelined(pgp_conn *c, pgp_op *op)
{
    pgp_stmt *s = pgp_stmt_find(c, op->sql, op->len);
    if (!s && (s = pgp_stmt_add(c, op->sql, op->len)) != NULL)
        op->stmt = s;
    bool describe = pg_params_need_types(op->params) && (s ? s->ntypes : op->ntypes) < 0;
    op->describing = describe;
    if (op_solo(c, op)) {
        pgp_close_batch(c);
        if (c->closed)
            return 0;
    }
    op->batch = c->batch_next;
    c->open++;
    return describe ? send_describe(c, op, s) : send_exec(c, op, s);
}

/* Send op on c.  False when c broke (op is then failed with the rest). */
bool pgp_send(pgp_conn *c, pgp_op *op)
{
    pgp_pool *p = c->pool;
    op->conn = c;
    op->nsteps = op->step = 0;
    op->aborted = false;
    int ok;
    if (op->script) {
        ok = PQexitPipelineMode(c->pg) && PQsendQuery(c->pg, op->sql);
        c->pipeline = false;
        op->steps[op->nsteps++] = STEP_SCRIPT;
        c->blocker = op;
    } else {
        ok = send_pipelined(c, op);
        if (ok < 0) { /* its parameters could not be converted */
            c->open--;
            pgp_op_free(op);
            return true;
        }
        if (c->closed) {
            op->lost = p->last_error;
            op_complete(op);
            return false;
        }
    }
    op->where = OPW_SENT;
    op->sent_at = pgp_now(p);
    db_queue_push(&c->sent, &op->node);
    c->inflight++;
    p->inflight++;
    if (!ok) {
        pgp_conn_broken(c, PQerrorMessage(c->pg));
        return false;
    }
    if (!op->script && op_solo(c, op))
        pgp_close_batch(c);
    else if (c->open >= PGP_BATCH)
        pgp_close_batch(c); /* the server starts on these while the loop reads more */
    pgp_mark_dirty(c);
    return !c->closed;
}

/* Can c take op now? */
bool pgp_can_send(const pgp_conn *c, const pgp_op *op)
{
    if (c->state != PC_READY || c->blocker || c->orphans || c->cancel || !c->pipeline)
        return false;
    return op && op->script ? c->inflight == 0 : c->inflight < PGP_DEPTH;
}

/* Send the lease's queued queries, in order, while c can take them. */
void pgp_send_pending(pgp_conn *c)
{
    while (c->pending.head && pgp_can_send(c, op_at(c->pending.head))) {
        pgp_op *op = op_at(db_queue_pop(&c->pending));
        if (!pgp_send(c, op))
            return;
    }
}

/* Fail everything c has in flight or pending with "connection lost". */
void pgp_conn_fail_ops(pgp_conn *c, const char *why)
{
    pgp_pool *p = c->pool;
    db_queue *queues[] = {&c->held, &c->sent, &c->pending};
    for (int i = 0; i < 3; i++) {
        db_qnode *n;
        while ((n = db_queue_pop(queues[i])) != NULL) {
            if (i < 2)
                p->inflight--;
            op_at(n)->lost = why;
            op_complete(op_at(n));
        }
    }
    c->inflight = c->open = c->orphans = 0;
    c->blocker = NULL;
}

/* ---- answers ------------------------------------------------------------------------------------ */

static void cancel_issue(pgp_conn *c);

/* Record the types a Describe reported. */
static void store_types(pgp_op *op, const PGresult *r)
{
    pgp_stmt *s = op->stmt ? op->stmt : pgp_stmt_find(op->conn, op->sql, op->len);
    Oid **types = s ? &s->types : &op->types;
    int *ntypes = s ? &s->ntypes : &op->ntypes;
    if (*ntypes >= 0)
        return;
    int n = PQnparams(r);
    *types = calloc((size_t)n + 1, sizeof(Oid));
    if (!*types)
        return;
    for (int i = 0; i < n; i++)
        (*types)[i] = PQparamtype(r, i);
    *ntypes = n;
}

static void take_result(pgp_op *op, PGresult *r)
{
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_PIPELINE_ABORTED) {
        op->aborted = true;
        PQclear(r);
        return;
    }
    if (st == PGRES_FATAL_ERROR || st == PGRES_NONFATAL_ERROR || st == PGRES_BAD_RESPONSE) {
        if (!op->err)
            op->err = r;
        else
            PQclear(r);
        return;
    }
    uint8_t step = op->step < op->nsteps ? op->steps[op->step] : STEP_EXEC;
    if (step == STEP_PREPARE) {
        pgp_stmt *s = op->stmt ? op->stmt : pgp_stmt_find(op->conn, op->sql, op->len);
        if (s)
            s->ready = true;
        PQclear(r);
    } else if (step == STEP_DESCRIBE) {
        store_types(op, r);
        PQclear(r);
    } else {
        PQclear(op->res);
        op->res = r;
    }
}

/* A query was cancelled by us for another op on this connection (a race
 * PQcancel cannot rule out): run it again. */
static bool spurious_cancel(pgp_conn *c, pgp_op *op)
{
    return op->err && !op->retried && !c->lease && op->task && c->cancel_at &&
           pgp_now(c->pool) - c->cancel_at < 2000 && strcmp(pg_result_sqlstate(op->err), "57014") == 0;
}

/* A statement whose plan went stale under it (ALTER TABLE): re-prepare. */
static bool stale_plan(const pgp_op *op)
{
    return op->err && strcmp(pg_result_sqlstate(op->err), "0A000") == 0 &&
           strstr(PQresultErrorMessage(op->err), "cached plan") != NULL;
}

/* op leaves c: counters, its statement's fate. */
static void op_detach(pgp_conn *c, pgp_op *op)
{
    c->inflight--;
    c->pool->inflight--;
    if (op->orphan)
        c->orphans--;
    if (c->blocker == op)
        c->blocker = NULL;
    if (op->script) {
        PQenterPipelineMode(c->pg);
        c->pipeline = true;
    }
    if (op->stmt && !op->stmt->ready) { /* its Parse failed or was skipped: forget it */
        pgp_stmt_drop(c, op->stmt);
        op->stmt = NULL;
    }
    if (stale_plan(op)) {
        pgp_stmt *s = pgp_stmt_find(c, op->sql, op->len);
        if (s)
            pgp_stmt_drop(c, s);
    }
}

/* Queue op to run again (solo: in a transaction of its own); an orphan
 * is dropped. */
static void op_again(db_queue *again, pgp_op *op, bool solo)
{
    if (op->orphan) {
        op_complete(op);
        return;
    }
    PQclear(op->err);
    PQclear(op->res);
    op->err = op->res = NULL;
    op->stmt = NULL;
    op->solo |= solo;
    db_queue_push(again, &op->node);
}

/* The outcome of a query that ran alone (or first, and failed). */
static void op_settle(pgp_conn *c, pgp_op *op, db_queue *again)
{
    if (op->describing && !op->err && !op->orphan && !op->aborted) {
        op->describing = false; /* the types are known now: execute */
        op->stmt = NULL;
        pgp_send(c, op);
    } else if (!op->orphan && (spurious_cancel(c, op) || (stale_plan(op) && !op->retried && !c->lease))) {
        op->retried = true;
        op_again(again, op, false);
    } else {
        op_complete(op);
    }
}

/* The Sync of the oldest open batch was answered: deliver its queries'
 * results, or run them again (see the top of the file). */
static void batch_settle(pgp_conn *c)
{
    pgp_pool *p = c->pool;
    uint64_t b = c->batch_done++;
    PGresult *serr = c->sync_err;
    c->sync_err = NULL;
    db_queue batch = {NULL, NULL};
    int n = 0, failed = -1;
    while (c->held.head && op_at(c->held.head)->batch == b) {
        pgp_op *op = op_at(db_queue_pop(&c->held));
        if (failed < 0 && op->err)
            failed = n;
        db_queue_push(&batch, &op->node);
        n++;
    }
    bool whole = n == 1 || (!serr && failed < 0);
    db_queue again = {NULL, NULL};
    for (int i = 0; batch.head; i++) {
        pgp_op *op = op_at(db_queue_pop(&batch));
        if (c->closed) { /* an op of this batch was sent again and broke c */
            p->inflight--;
            op->lost = p->last_error;
            op_complete(op);
            continue;
        }
        op_detach(c, op);
        if (whole || (i == 0 && failed == 0 && !serr)) {
            if (!op->err && serr) {
                op->err = serr;
                serr = NULL;
            }
            op_settle(c, op, &again);
        } else {
            op_again(&again, op, i <= failed || serr);
        }
    }
    PQclear(serr);
    pgp_requeue(p, &again);
}

/* All of op's answers are in. */
static void op_answered(pgp_conn *c, pgp_op *op)
{
    db_queue_pop(&c->sent);
    if (op->script) { /* the simple protocol: no Sync */
        db_queue again = {NULL, NULL};
        op_detach(c, op);
        op_settle(c, op, &again);
        pgp_requeue(c->pool, &again);
    } else {
        db_queue_push(&c->held, &op->node);
    }
}

/* Every query of the oldest batch is answered and its Sync was sent: the
 * next answer is the Sync's (or the commit's error). */
static bool at_sync(const pgp_conn *c)
{
    if (!c->held.head || c->batch_done >= c->batch_next)
        return false;
    uint64_t b = op_at(c->held.head)->batch;
    return b == c->batch_done && (!c->sent.head || op_at(c->sent.head)->batch != b);
}

static void read_one(pgp_conn *c, PGresult *r)
{
    if (at_sync(c)) {
        if (r && PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            batch_settle(c);
        } else if (r && !c->sync_err) {
            c->sync_err = r;
        } else {
            PQclear(r);
        }
        return;
    }
    pgp_op *op = op_at(c->sent.head);
    if (r && PQresultStatus(r) == PGRES_PIPELINE_SYNC) { /* cannot happen: resynchronise */
        PQclear(r);
        if (c->held.head)
            batch_settle(c);
        return;
    }
    if (r) {
        take_result(op, r);
    } else if (++op->step >= op->nsteps) {
        op_answered(c, op);
    }
}

/* Read what the server sent and settle what it answers. */
void pgp_read(pgp_conn *c)
{
    pgp_pool *p = c->pool;
    if (!PQconsumeInput(c->pg)) {
        pgp_conn_broken(c, PQerrorMessage(c->pg));
        return;
    }
    while (!c->closed && (c->sent.head || at_sync(c)) && !PQisBusy(c->pg))
        read_one(c, PQgetResult(c->pg));
    if (c->closed)
        return;
    PGnotify *n;
    while ((n = PQnotifies(c->pg)) != NULL) {
        if (c->listener)
            pgp_deliver_notify(p, n);
        PQfreemem(n);
    }
    if (c->closed)
        return;
    if (p->base.closed && !c->inflight && !c->lease && !c->pending.head && !c->cleaning && !c->release_check) {
        pgp_conn_close(c);
        return;
    }
    if (!c->inflight)
        c->idle_since = pgp_now(p);
    if (c->sent.head && op_at(c->sent.head)->orphan && !c->cancel)
        cancel_issue(c);
    if (!c->inflight && c->release_check)
        pgp_release_check(c);
}

/* ---- cancelling -------------------------------------------------------------------------------------------- */

static void cancel_work(uv_work_t *req)
{
    pgp_cancel *w = req->data;
    char err[256];
    PQcancel(w->pc, err, sizeof err);
}

static void cancel_done(uv_work_t *req, int status)
{
    (void)status;
    pgp_cancel *w = req->data;
    PQfreeCancel(w->pc);
    pgp_conn *c = w->c;
    free(w);
    if (!c)
        return;
    pgp_bury(c->pool);
    c->cancel = NULL;
    pgp_send_pending(c);
    pgp_dispatch(c->pool);
}

/* Ask the server to stop the query at the head of c (an orphan). */
static void cancel_issue(pgp_conn *c)
{
    pgp_cancel *w = malloc(sizeof *w);
    if (!w)
        return;
    w->pc = PQgetCancel(c->pg);
    if (!w->pc) {
        free(w);
        return;
    }
    w->c = c;
    w->req.data = w;
    c->cancel = w;
    c->cancel_at = pgp_now(c->pool);
    uv_queue_work(vm_loop(c->pool->base.vm), &w->req, cancel_work, cancel_done);
}

/* The Task of an op was cancelled. */
void pgp_op_cancel(qvm *vm, qtask *t, void *data)
{
    (void)vm, (void)t;
    pgp_op *op = data;
    pgp_pool *p = op->pool;
    op->task = NULL;
    switch (op->where) {
    case OPW_POOL:
        db_queue_remove(&p->queue, &op->node);
        pgp_op_free(op);
        break;
    case OPW_PENDING:
        db_queue_remove(&op->conn->pending, &op->node);
        pgp_op_free(op);
        break;
    case OPW_SENT: {
        pgp_conn *c = op->conn;
        op->orphan = true;
        c->orphans++;
        if (op_at(c->sent.head) == op && !c->cancel)
            cancel_issue(c);
        break;
    }
    default: break;
    }
}
