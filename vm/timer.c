/* timer.c — sleeping tasks: async.sleep, async.after, timeouts.
 *
 * A server may have a million tasks asleep at once.  A uv_timer each would
 * cost ~170 bytes and an O(log n) heap update per start and stop.  Instead,
 * timers of the same duration (in milliseconds) share one list and one uv
 * timer, as in Node.js: started in time order with equal durations, a list
 * is in deadline order for free, so adding and cancelling are O(1), and its
 * uv timer is set for the head.  Durations in use are found by a small hash
 * table; a list that empties is closed.
 */
#include <math.h>
#include <stdlib.h>

#include "vm_internal.h"

typedef struct tlist tlist;

/* One sleeping task. */
typedef struct tnode {
    struct tnode *prev, *next;
    tlist *list;
    qtask *task;
    uint64_t due;             /* uv_now() at which it wakes */
} tnode;

/* The sleepers of one duration. */
struct tlist {
    uv_timer_t timer;
    qvm *vm;
    uint64_t ms;
    tnode *head, *tail;
    tlist *hnext;             /* hash chain */
    bool dropped;             /* out of the table, closing */
};

/* Nodes come from blocks of NODE_BLOCK, recycled through a free list:
 * no malloc header per sleeper, and no malloc call per sleep. */
#define NODE_BLOCK 256

typedef struct nblock {
    struct nblock *next;
    tnode nodes[NODE_BLOCK];
} nblock;

struct qtimers {
    tlist **buckets;
    uint32_t nbuckets;        /* a power of two */
    uint32_t count;
    nblock *blocks;
    tnode *free_nodes;        /* linked through next */
};

static uint32_t bucket_of(const struct qtimers *ts, uint64_t ms)
{
    return (uint32_t)((ms * 0x9E3779B97F4A7C15ull) >> 32) & (ts->nbuckets - 1);
}

static struct qtimers *timers_of(qvm *vm)
{
    if (!vm->timers) {
        vm->timers = calloc(1, sizeof(struct qtimers));
        if (!vm->timers)
            abort();
    }
    return vm->timers;
}

static tnode *node_alloc(struct qtimers *ts)
{
    if (!ts->free_nodes) {
        nblock *b = malloc(sizeof *b);
        if (!b)
            abort();
        b->next = ts->blocks;
        ts->blocks = b;
        for (int i = 0; i < NODE_BLOCK; i++) {
            b->nodes[i].next = ts->free_nodes;
            ts->free_nodes = &b->nodes[i];
        }
    }
    tnode *n = ts->free_nodes;
    ts->free_nodes = n->next;
    return n;
}

static void node_free(struct qtimers *ts, tnode *n)
{
    n->next = ts->free_nodes;
    ts->free_nodes = n;
}

static void table_grow(struct qtimers *ts)
{
    uint32_t old = ts->nbuckets;
    tlist **ob = ts->buckets;
    ts->nbuckets = old ? old * 2 : 8;
    ts->buckets = calloc(ts->nbuckets, sizeof(tlist *));
    if (!ts->buckets)
        abort();
    for (uint32_t i = 0; i < old; i++) {
        for (tlist *l = ob[i], *next; l; l = next) {
            next = l->hnext;
            uint32_t b = bucket_of(ts, l->ms);
            l->hnext = ts->buckets[b];
            ts->buckets[b] = l;
        }
    }
    free(ob);
}

static void table_remove(struct qtimers *ts, tlist *l)
{
    for (tlist **p = &ts->buckets[bucket_of(ts, l->ms)]; *p; p = &(*p)->hnext) {
        if (*p == l) {
            *p = l->hnext;
            ts->count--;
            return;
        }
    }
}

static void list_closed(uv_handle_t *h)
{
    free(h->data);
}

static void list_fire(uv_timer_t *h);

static tlist *list_for(qvm *vm, uint64_t ms)
{
    struct qtimers *ts = timers_of(vm);
    if (ts->nbuckets) {
        for (tlist *l = ts->buckets[bucket_of(ts, ms)]; l; l = l->hnext)
            if (l->ms == ms)
                return l;
    }
    if (ts->count >= ts->nbuckets)
        table_grow(ts);
    tlist *l = calloc(1, sizeof *l);
    if (!l)
        abort();
    l->vm = vm;
    l->ms = ms;
    uv_timer_init(vm_loop(vm), &l->timer);
    l->timer.data = l;
    uint32_t b = bucket_of(ts, ms);
    l->hnext = ts->buckets[b];
    ts->buckets[b] = l;
    ts->count++;
    return l;
}

/* An empty list goes: its handle is closed and freed. */
static void list_drop(tlist *l)
{
    if (l->dropped)
        return;
    l->dropped = true;
    table_remove(l->vm->timers, l);
    uv_close((uv_handle_t *)&l->timer, list_closed);
}

static void node_unlink(tnode *n)
{
    tlist *l = n->list;
    if (n->prev)
        n->prev->next = n->next;
    else
        l->head = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else
        l->tail = n->prev;
}

/* Wake every sleeper that is due, then aim the timer at the next one.
 * Resolving only queues the tasks that waited (no Quest code runs here),
 * but a waiter's wake function may cancel other sleepers of this list, so
 * the head is read afresh each time. */
static void list_fire(uv_timer_t *h)
{
    tlist *l = h->data;
    qvm *vm = l->vm;
    uint64_t now = uv_now(h->loop);
    while (l->head && l->head->due <= now) {
        tnode *n = l->head;
        node_unlink(n);
        qtask *t = n->task;
        node_free(vm->timers, n);
        task_set_cancel(t, NULL, NULL);
        task_resolve(vm, t, qv_nil());
    }
    if (l->head)
        uv_timer_start(&l->timer, list_fire, l->head->due - now, 0);
    else
        list_drop(l);
}

/* Cancelling the head needs no re-aiming: the timer then fires early,
 * finds nothing due and re-arms. */
static void node_cancel(qvm *vm, qtask *t, void *data)
{
    (void)t;
    tnode *n = data;
    tlist *l = n->list;
    node_unlink(n);
    node_free(vm->timers, n);
    if (!l->head) {
        uv_timer_stop(&l->timer);
        list_drop(l);
    }
}

qtask *task_sleep(qvm *vm, double secs)
{
    /* Milliseconds, as libuv counts; beyond ~292 million years, forever. */
    double ms = secs * 1000.0;
    uint64_t n = !(ms >= 0) ? 0 : ms >= 9.2e18 ? (uint64_t)9.2e18 : (uint64_t)llround(ms);
    qtask *t = task_new_pending(vm, NULL);
    tlist *l = list_for(vm, n);
    tnode *node = node_alloc(vm->timers);
    /* The loop's clock is read at each turn; code that ran long since
     * would otherwise sleep short. */
    uv_update_time(vm_loop(vm));
    node->list = l;
    node->task = t;
    node->due = uv_now(vm_loop(vm)) + n;
    node->next = NULL;
    node->prev = l->tail;
    if (l->tail)
        l->tail->next = node;
    else
        l->head = node;
    l->tail = node;
    if (l->head == node)
        uv_timer_start(&l->timer, list_fire, n, 0);
    task_set_cancel(t, node_cancel, node);
    return t;
}

void timers_free(qvm *vm)
{
    struct qtimers *ts = vm->timers;
    if (!ts)
        return;
    for (uint32_t i = 0; i < ts->nbuckets; i++) {
        for (tlist *l = ts->buckets[i], *next; l; l = next) {
            next = l->hnext;
            for (tnode *n = l->head; n; n = n->next)
                task_set_cancel(n->task, NULL, NULL);
            uv_close((uv_handle_t *)&l->timer, list_closed);
        }
    }
    while (ts->blocks) {
        nblock *b = ts->blocks;
        ts->blocks = b->next;
        free(b);
    }
    free(ts->buckets);
    free(ts);
    vm->timers = NULL;
}
