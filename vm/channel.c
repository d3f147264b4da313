/* channel.c — channels between tasks, and select over channels and tasks.
 *
 * A channel is a FIFO of values with an optional capacity: send() on a full
 * channel waits until a receiver makes room (backpressure), recv() on an
 * empty one waits for a sender; both return Tasks to await.  Closing wakes
 * every receiver with nil once the buffer is drained, and makes send()
 * raise.  The server feeds WebSocket frames into channels from C with
 * channel_offer().
 */
#include <stdlib.h>
#include <string.h>

#include "vm_internal.h"

#define IS_CHANNEL(v) IS_KIND(v, QO_CHANNEL)

qchannel *channel_new(qvm *vm, int64_t capacity)
{
    qchannel *c = vm_alloc_obj(vm, sizeof(qchannel), QO_CHANNEL);
    c->capacity = capacity;
    c->receivers = arr_new(vm, 0);
    c->senders = arr_new(vm, 0);
    return c;
}

void channel_mark(qvm *vm, qchannel *c)
{
    for (uint32_t i = 0; i < c->count; i++)
        vm_mark_value(vm, c->ring[(c->head + i) % c->ring_cap]);
    vm_mark_obj(vm, (qobj *)c->receivers);
    vm_mark_obj(vm, (qobj *)c->senders);
    vm_mark_obj(vm, (qobj *)c->sent);
}

void channel_free(qvm *vm, qchannel *c)
{
    vm_realloc(vm, c->ring, c->ring_cap * sizeof(qval), 0);
}

static void ring_push(qvm *vm, qchannel *c, qval v)
{
    if (c->count == c->ring_cap) {
        uint32_t ncap = c->ring_cap ? c->ring_cap * 2 : 8;
        qval *n = vm_realloc(vm, NULL, 0, ncap * sizeof(qval));
        for (uint32_t i = 0; i < c->count; i++)
            n[i] = c->ring[(c->head + i) % c->ring_cap];
        vm_realloc(vm, c->ring, c->ring_cap * sizeof(qval), 0);
        c->ring = n;
        c->ring_cap = ncap;
        c->head = 0;
    }
    c->ring[(c->head + c->count++) % c->ring_cap] = v;
}

static qval ring_pop(qchannel *c)
{
    qval v = c->ring[c->head];
    c->head = (c->head + 1) % c->ring_cap;
    c->count--;
    return v;
}

static bool has_room(const qchannel *c)
{
    return c->capacity < 0 || (int64_t)c->count < c->capacity;
}

/* Waiting receivers and senders queue as pairs: (task, index or value). */
static void pair_push(qvm *vm, qarray *q, qval first, qval second)
{
    if (q->len + 2 > q->cap) {
        arr_push(vm, q, first);
        arr_push(vm, q, second);
        return;
    }
    q->items[q->len++] = first;
    q->items[q->len++] = second;
}

static qval pair_take(qarray *q, qval *second)
{
    qval first = q->items[0];
    *second = q->items[1];
    q->len -= 2;
    if (q->len) /* (most queues hold one waiter) */
        memmove(q->items, q->items + 2, q->len * sizeof(qval));
    return first;
}

/* The task of the oldest pair (the first of a pair is always a task). */
static qtask *take_task(qarray *q, qval *second)
{
    return (qtask *)AS_OBJ(pair_take(q, second));
}

static void pair_remove_task(qarray *q, qtask *t)
{
    for (uint32_t i = 0; i + 1 < q->len; i += 2) {
        if (q->items[i].as.o == (qobj *)t) {
            memmove(&q->items[i], &q->items[i + 2], (q->len - i - 2) * sizeof(qval));
            q->len -= 2;
            return;
        }
    }
}

static qval done_task(qvm *vm, qval v)
{
    qtask *t = task_new_pending(vm, NULL);
    task_resolve(vm, t, v);
    return qv_obj(t);
}

/* ---- select ------------------------------------------------------------------ */

/* A select waits on several sources; the first ready one wins.  Its
 * `hold` is the source list, so it can unregister from the others. */
static void select_unregister(qtask *sel)
{
    qarray *src = (qarray *)task_native(sel)->hold;
    for (uint32_t i = 0; i < src->len; i++) {
        if (IS_CHANNEL(src->items[i]))
            pair_remove_task(((qchannel *)src->items[i].as.o)->receivers, sel);
        else if (task_of(src->items[i]))
            task_unwatch(sel, task_of(src->items[i]));
    }
}

static void select_win(qvm *vm, qtask *sel, int64_t index, qval value, qval source)
{
    select_unregister(sel);
    qdict *d = dict_new(vm);
    dict_set_cstr(vm, d, "index", qv_int(index));
    dict_set_cstr(vm, d, "value", value);
    dict_set_cstr(vm, d, "channel", IS_CHANNEL(source) ? source : qv_nil());
    task_resolve(vm, sel, qv_obj(d));
}

static void select_wake(qvm *vm, qtask *sel, qtask *source)
{
    qarray *src = (qarray *)task_native(sel)->hold;
    for (uint32_t i = 0; i < src->len; i++) {
        if (task_of(src->items[i]) == source) {
            qval v = source->state == TS_DONE ? source->result : qv_nil();
            select_win(vm, sel, i, v, src->items[i]);
            return;
        }
    }
}

static void select_cancel(qvm *vm, qtask *sel, void *data)
{
    (void)vm, (void)data;
    select_unregister(sel);
}

/* Give v to the oldest receiver; false when nobody waits. */
static bool hand_to_receiver(qvm *vm, qchannel *c, qval v, qval self)
{
    while (c->receivers->len) {
        qval idx;
        qtask *r = take_task(c->receivers, &idx);
        if (task_done(r))
            continue;
        if (IS_INT(idx))
            select_win(vm, r, idx.as.i, v, self);
        else
            task_resolve(vm, r, v);
        return true;
    }
    return false;
}

/* A slot opened: let the oldest blocked sender in. */
static void admit_sender(qvm *vm, qchannel *c)
{
    while (c->senders->len && has_room(c)) {
        qval v;
        qtask *s = take_task(c->senders, &v);
        if (task_done(s))
            continue;
        ring_push(vm, c, v);
        task_resolve(vm, s, qv_nil());
    }
}

bool channel_offer(qvm *vm, qchannel *c, qval v)
{
    if (c->closed)
        return false;
    if (hand_to_receiver(vm, c, v, qv_obj(c)))
        return true;
    if (!has_room(c))
        return false;
    ring_push(vm, c, v);
    return true;
}

void channel_close(qvm *vm, qchannel *c)
{
    if (c->closed)
        return;
    c->closed = true;
    if (c->count == 0)
        while (hand_to_receiver(vm, c, qv_nil(), qv_obj(c)))
            ;
    while (c->senders->len) {
        qval v;
        qtask *s = take_task(c->senders, &v);
        if (!task_done(s))
            task_reject(vm, s, exc_new(vm, vm->err_types[E_RUNTIME], str_cstr(vm, "send on a closed channel")));
    }
}

/* ---- Channel methods ---------------------------------------------------------------- */

static qchannel *ch(qval self)
{
    return (qchannel *)self.as.o;
}

static qval cm_send(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qchannel *c = ch(self);
    if (c->closed)
        return vm_raise(vm, E_RUNTIME, "send on a closed channel");
    if (channel_offer(vm, c, argv[0])) {
        /* nil, without waiting: always the same finished Task */
        if (!c->sent) {
            c->sent = task_new_pending(vm, NULL);
            task_resolve(vm, c->sent, qv_nil());
        }
        return qv_obj(c->sent);
    }
    qtask *t = task_new_pending(vm, NULL);
    pair_push(vm, c->senders, qv_obj(t), argv[0]);
    return qv_obj(t);
}

static qval cm_try_send(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qchannel *c = ch(self);
    if (c->closed)
        return vm_raise(vm, E_RUNTIME, "send on a closed channel");
    return qv_bool(channel_offer(vm, c, argv[0]));
}

/* take() from a buffer or a blocked sender. */
static bool take_held(qvm *vm, qchannel *c, qval *out)
{
    if (c->count) {
        *out = ring_pop(c);
        admit_sender(vm, c);
        return true;
    }
    while (c->senders->len) { /* an unbuffered handoff */
        qval v;
        qtask *s = take_task(c->senders, &v);
        if (task_done(s))
            continue;
        task_resolve(vm, s, qv_nil());
        *out = v;
        return true;
    }
    *out = qv_nil();
    return c->closed;
}

/* The next value, or nil when closed and drained (or empty, for try_recv).
 * Inline, for the usual empty channel of a receiver about to wait. */
static inline bool take(qvm *vm, qchannel *c, qval *out)
{
    if (c->count || c->senders->len)
        return take_held(vm, c, out);
    *out = qv_nil();
    return c->closed;
}

static qval cm_recv(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    return channel_recv(vm, ch(self));
}

/* A cancelled receiver leaves the queue at once (its task may be reused). */
static void recv_cancel(qvm *vm, qtask *t, void *data)
{
    (void)vm;
    pair_remove_task(((qchannel *)data)->receivers, t);
}

/* `await ch.recv()` (vm->awaited) takes a ready value as it is, with no
 * Task (awaiting a plain value yields it; a Task value still needs one),
 * and waits on a task the awaiting task reuses. */
qval channel_recv(qvm *vm, qchannel *c)
{
    qval v;
    if (take(vm, c, &v))
        return vm->awaited && !task_of(v) ? v : done_task(vm, v);
    qtask *t = task_new_awaited(vm);
    native_wait_on(t, (qobj *)c, recv_cancel, c);
    pair_push(vm, c->receivers, qv_obj(t), qv_nil());
    return qv_obj(t);
}

static qval cm_try_recv(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    qval v;
    take(vm, ch(self), &v);
    return v;
}

static qval cm_close(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc, (void)argv;
    channel_close(vm, ch(self));
    return qv_nil();
}

static qval cm_is_closed(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return qv_bool(ch(self)->closed);
}

static qval cm_len(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return qv_int(ch(self)->count);
}

static qval cm_capacity(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return ch(self)->capacity < 0 ? qv_nil() : qv_int(ch(self)->capacity);
}

static const qmethod_def channel_methods[] = {
    {"send", cm_send, 1, 1, false},
    {"try_send", cm_try_send, 1, 1, false},
    {"recv", cm_recv, 0, 0, false},
    {"try_recv", cm_try_recv, 0, 0, false},
    {"close", cm_close, 0, 0, false},
    {"is_closed", cm_is_closed, 0, 0, false},
    {"len", cm_len, 0, 0, false},
    {"capacity", cm_capacity, 0, 0, false},
    {NULL, NULL, 0, 0, false},
};

void channel_init_class(qvm *vm, qtype *t)
{
    vm_add_methods(vm, t, channel_methods);
}

/* ---- select over channels and tasks ------------------------------------------------------ */

/* A native object that wraps a channel (a server WebSocket) takes part
 * through that channel, which its _channel() method gives. */
static qarray *select_sources(qvm *vm, qarray *sources)
{
    qarray *out = sources;
    for (uint32_t i = 0; i < sources->len; i++) {
        if (!IS_KIND(sources->items[i], QO_CDATA))
            continue;
        qval c = vm_invoke(vm, sources->items[i], "_channel", 0, NULL);
        if (!IS_CHANNEL(c)) { /* not selectable: reported below */
            vm_take_exc(vm);
            continue;
        }
        if (out == sources) {
            out = arr_new(vm, sources->len);
            memcpy(out->items, sources->items, sources->len * sizeof(qval));
            out->len = sources->len;
            vm_push_root(vm, qv_obj(out));
        }
        out->items[i] = c;
    }
    if (out != sources)
        vm_pop_roots(vm, 1); /* nothing below can collect */
    return out;
}

/* The first ready source of the list: an immediate result, or a pending
 * task that resolves with {index, value, channel}. */
qval channel_select(qvm *vm, qarray *sources)
{
    sources = select_sources(vm, sources);
    for (uint32_t i = 0; i < sources->len; i++) {
        qval s = sources->items[i];
        qval v;
        if (IS_CHANNEL(s) && take(vm, ch(s), &v)) {
            qtask *t = task_new_pending(vm, "select");
            task_hold(t, qv_obj(arr_new(vm, 0)));
            select_win(vm, t, i, v, s);
            return qv_obj(t);
        }
        qtask *src = task_of(s);
        if (src && task_done(src)) {
            qtask *t = task_new_pending(vm, "select");
            task_hold(t, qv_obj(arr_new(vm, 0)));
            select_win(vm, t, i, src->state == TS_DONE ? src->result : qv_nil(), s);
            return qv_obj(t);
        }
        if (!IS_CHANNEL(s) && !src)
            return vm_raise(vm, E_TYPE, "select() takes channels and tasks, got %s", vm_cls_name(s));
    }
    qtask *sel = task_new_pending(vm, "select");
    qarray *copy = arr_new(vm, sources->len);
    memcpy(copy->items, sources->items, sources->len * sizeof(qval));
    copy->len = sources->len;
    task_hold(sel, qv_obj(copy));
    task_set_wake(sel, select_wake);
    task_set_cancel(sel, select_cancel, NULL);
    for (uint32_t i = 0; i < sources->len; i++) {
        qval s = sources->items[i];
        if (IS_CHANNEL(s)) {
            pair_push(vm, ch(s)->receivers, qv_obj(sel), qv_int(i));
        } else {
            task_watch(vm, sel, task_of(s));
        }
    }
    return qv_obj(sel);
}
