/* srv_bus.c — pub/sub for WebSockets: ws.subscribe(topic) on any worker,
 * web.publish(topic, message) from any handler on any worker.
 *
 * Each worker keeps its own subscriptions (topic -> WebSocket objects) and
 * delivers to them on its own loop.  A publish serialises the message once
 * into plain C memory (Str: a text frame, Bytes: binary, anything else: its
 * JSON as text), delivers it to the local subscribers at once, and posts it
 * to every other worker's inbox (a locked list plus a uv_async wake-up).
 * No VM object ever crosses a thread: the workers share only the bytes,
 * with a reference count.
 *
 * The set of inboxes is process-wide state (one server per process), the
 * one piece of the server that every worker thread reads: it lives in
 * `bus` below, under its lock.  A draining worker leaves it first. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "config/cli.h"
#include "modules/encoding/json.h"
#include "server/srv_ws.h"

typedef struct bus_msg {
    atomic_int refs;
    bool text;
    size_t topic_len, len;
    char *payload;          /* after the topic, in the same block */
    char topic[];
} bus_msg;

typedef struct bus_node {
    struct bus_node *next;
    bus_msg *msg;
} bus_node;

struct srv_bus_inbox {
    pthread_mutex_t lock;
    bus_node *head, *tail;
    uv_async_t wake;
    srv_worker *w;
};

static struct {
    pthread_mutex_t lock;
    srv_bus_inbox *inboxes[QUEST_MAX_WORKERS];
} bus = {PTHREAD_MUTEX_INITIALIZER, {NULL}};

static bus_msg *msg_new(const qstr *topic, const char *data, size_t len, bool text)
{
    bus_msg *m = malloc(sizeof *m + topic->len + len + 1);
    if (!m)
        abort();
    atomic_init(&m->refs, 1);
    m->text = text;
    m->topic_len = topic->len;
    m->len = len;
    memcpy(m->topic, topic->data, topic->len);
    m->payload = m->topic + topic->len;
    memcpy(m->payload, data, len);
    m->payload[len] = 0;
    return m;
}

static void msg_release(bus_msg *m)
{
    if (atomic_fetch_sub(&m->refs, 1) == 1)
        free(m);
}

/* ---- subscriptions (this worker) ------------------------------------------------------- */

void srv_bus_add(srv_worker *w, qstr *topic, qval ws)
{
    qvm *vm = w->vm;
    qval subs;
    if (!dict_get(w->ws->topics, topic, &subs)) {
        subs = qv_obj(arr_new(vm, 4));
        dict_set(vm, w->ws->topics, topic, subs);
    }
    arr_push(vm, AS_ARRAY(subs), ws);
}

void srv_bus_remove(srv_worker *w, qstr *topic, qval ws)
{
    qval subs;
    if (!dict_get(w->ws->topics, topic, &subs))
        return;
    qarray *a = AS_ARRAY(subs);
    for (uint32_t i = 0; i < a->len; i++) {
        if (a->items[i].as.o == ws.as.o) {
            a->items[i] = a->items[--a->len]; /* order does not matter */
            break;
        }
    }
    if (!a->len)
        dict_del(w->ws->topics, topic);
}

/* Send to this worker's subscribers.  Delivery can close a slow client,
 * which unsubscribes it: walk a copy of the list. */
static void deliver_local(srv_worker *w, const qstr *topic, const bus_msg *m)
{
    qval subs;
    if (!dict_get(w->ws->topics, topic, &subs) || !AS_ARRAY(subs)->len)
        return;
    qarray *a = AS_ARRAY(subs);
    uint32_t n = a->len;
    qval *copy = malloc(n * sizeof *copy);
    if (!copy)
        abort();
    memcpy(copy, a->items, n * sizeof *copy);
    for (uint32_t i = 0; i < n; i++)
        srv_ws_deliver(srv_ws_session(copy[i]), m->payload, m->len, m->text);
    free(copy);
}

/* ---- the inbox: messages from other workers ------------------------------------------------ */

static void on_wake(uv_async_t *a)
{
    srv_bus_inbox *in = a->data;
    srv_worker *w = in->w;
    pthread_mutex_lock(&in->lock);
    bus_node *n = in->head;
    in->head = in->tail = NULL;
    pthread_mutex_unlock(&in->lock);
    while (n) {
        bus_node *next = n->next;
        qstr *topic = str_new(w->vm, n->msg->topic, n->msg->topic_len);
        deliver_local(w, topic, n->msg);
        msg_release(n->msg);
        free(n);
        n = next;
    }
    vm_run_ready(w->vm);
}

static void post(srv_bus_inbox *in, bus_msg *m)
{
    bus_node *n = malloc(sizeof *n);
    if (!n)
        abort();
    n->next = NULL;
    n->msg = m;
    atomic_fetch_add(&m->refs, 1);
    pthread_mutex_lock(&in->lock);
    if (in->tail)
        in->tail->next = n;
    else
        in->head = n;
    in->tail = n;
    pthread_mutex_unlock(&in->lock);
    uv_async_send(&in->wake);
}

void srv_bus_init(srv_worker *w)
{
    srv_bus_inbox *in = calloc(1, sizeof *in);
    if (!in)
        abort();
    pthread_mutex_init(&in->lock, NULL);
    in->w = w;
    uv_async_init(&w->loop, &in->wake, on_wake);
    in->wake.data = in;
    uv_unref((uv_handle_t *)&in->wake);
    w->ws->inbox = in;
    pthread_mutex_lock(&bus.lock);
    bus.inboxes[w->id] = in;
    pthread_mutex_unlock(&bus.lock);
    /* web.publish is ours from now on. */
    qval web = vm_loaded_module(w->vm, "std/web");
    if (!IS_NIL(web)) {
        qval fn = qv_obj(native_new(w->vm, "web.publish", srv_bus_publish, 2, 2));
        if (IS_EXC(vm_invoke(w->vm, web, "_set_publisher", 1, &fn)))
            srv_log_exception(w, "while setting up web.publish");
    }
}

static void free_inbox(uv_handle_t *h)
{
    srv_bus_inbox *in = h->data;
    for (bus_node *n = in->head, *next; n; n = next) {
        next = n->next;
        msg_release(n->msg);
        free(n);
    }
    pthread_mutex_destroy(&in->lock);
    free(in);
}

/* A draining worker takes no more messages: leave the bus, drop what
 * is queued. */
void srv_bus_shutdown(srv_worker *w)
{
    srv_bus_inbox *in = w->ws->inbox;
    if (!in)
        return;
    pthread_mutex_lock(&bus.lock);
    bus.inboxes[w->id] = NULL;
    pthread_mutex_unlock(&bus.lock);
    w->ws->inbox = NULL;
    uv_close((uv_handle_t *)&in->wake, free_inbox);
}

/* ---- publishing ------------------------------------------------------------------------------ */

qval srv_bus_publish(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    srv_worker *w = vm_loop(vm)->data;
    qstr *topic;
    if (!arg_str(vm, "web.publish", argv[0], &topic))
        return qv_exc();
    qval v = argv[1];
    bus_msg *m;
    if (IS_STR(v)) {
        m = msg_new(topic, AS_STR(v)->data, AS_STR(v)->len, true);
    } else if (IS_BYTES(v)) {
        m = msg_new(topic, (const char *)AS_BYTES(v)->data, AS_BYTES(v)->len, false);
    } else {
        qstr *json = json_stringify(vm, v, -1);
        if (!json)
            return qv_exc();
        m = msg_new(topic, json->data, json->len, true);
    }
    deliver_local(w, topic, m);
    pthread_mutex_lock(&bus.lock);
    for (int i = 0; i < w->cfg->workers; i++)
        if (i != w->id && bus.inboxes[i])
            post(bus.inboxes[i], m);
    pthread_mutex_unlock(&bus.lock);
    msg_release(m);
    return qv_nil();
}
