/* srv_worker.c — one worker thread: its own uv loop, listener,
 * h2o context and VM.  The app's top level runs once here (it may await,
 * e.g. to open a pool); then the loop serves until a drain ends it. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config/cli.h"
#include "modules/modules.h"
#include "server/srv.h"
#include "server/srv_cache.h"

double srv_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void report_state(srv_worker *w, int state)
{
    pthread_mutex_lock(w->lock);
    w->state = state;
    pthread_cond_broadcast(w->ready);
    pthread_mutex_unlock(w->lock);
}

static void on_conn_closed(uv_handle_t *h)
{
    srv_worker *w = h->loop->data; /* h->data belongs to h2o */
    w->nconns--;
    free(h);
}

static void on_accept(uv_stream_t *listener, int status)
{
    srv_worker *w = listener->data;
    if (status != 0)
        return;
    uv_tcp_t *conn = h2o_mem_alloc(sizeof *conn);
    uv_tcp_init(listener->loop, conn);
    if (uv_accept(listener, (uv_stream_t *)conn) != 0) {
        uv_close((uv_handle_t *)conn, (uv_close_cb)free);
        return;
    }
    if (w->nconns >= w->cfg->max_connections) { /* over the limit: refuse politely by closing */
        uv_close((uv_handle_t *)conn, (uv_close_cb)free);
        return;
    }
    uv_tcp_nodelay(conn, 1);
    w->nconns++;
    h2o_accept(&w->accept_ctx, h2o_uv_socket_create((uv_stream_t *)conn, on_conn_closed));
}

/* The socket srv_listen.c bound for this worker (not yet listening). */
static bool open_listener(srv_worker *w)
{
    uv_tcp_init(&w->loop, &w->listener);
    w->listener.data = w;
    int r = uv_tcp_open(&w->listener, w->listen_fd);
    if (r != 0)
        srv_log_error(w, "cannot listen on %s:%d: %s", w->cfg->host, w->cfg->port, uv_strerror(r));
    return r == 0;
}

/* Only a listening socket joins the SO_REUSEPORT group (or makes the shared
 * socket accept), so until this runs the kernel sends connections to
 * workers that are ready (the app's top level may run the loop while it
 * awaits, with no h2o context yet). */
static bool start_listening(srv_worker *w)
{
    int r = uv_listen((uv_stream_t *)&w->listener, 1024, on_accept);
    if (r != 0)
        srv_log_error(w, "cannot listen on %s:%d: %s", w->cfg->host, w->cfg->port, uv_strerror(r));
    return r == 0;
}

/* The handler: std/web's _handle when the app uses std/web and registered
 * routes, else its top-level handle_request. */
static bool find_handler(srv_worker *w)
{
    qvm *vm = w->vm;
    qval web = vm_loaded_module(vm, "std/web");
    qval h = vm_main_global(vm, "handle_request");
    if (!IS_NIL(web)) {
        /* std/web runs its pipeline and calls handle_request itself when
         * no route matches (an app that registered nothing with std/web
         * gets its handle_request back; one with neither is an error). */
        qval r = vm_invoke(vm, web, "_server_handler", 1, &h);
        if (IS_EXC(r)) {
            srv_log_exception(w, "finding the app's handler");
            return false;
        }
        w->handler = r;
        return true;
    }
    if (vm_is_callable(h)) {
        w->handler = h;
        return true;
    }
    srv_log_error(w, "%s defines no handle_request(req) and registers no std/web routes", w->cfg->app);
    return false;
}

static bool load_app(srv_worker *w)
{
    static const quest_cli no_args;
    qvm_options opts;
    quest_vm_options(&no_args, &opts);
    opts.loop = &w->loop;
    opts.cpu_budget = w->cfg->cpu_budget;
    w->vm = vm_new(&opts);
    if (!w->vm)
        return false;
    srv_cache_init(w);
    /* The app's own web.run(...) must not start a server inside a worker. */
    qval web = vm_import(w->vm, "std/web");
    if (IS_EXC(web) || IS_EXC(vm_invoke(w->vm, web, "_mark_served", 0, NULL))) {
        srv_log_exception(w, "while loading std/web");
        return false;
    }
    qval r = vm_run_file_keep(w->vm, w->cfg->app);
    if (IS_EXC(r)) {
        srv_log_exception(w, "while loading the app");
        return false;
    }
    vm_set_serving(w->vm, true);
    if (!find_handler(w))
        return false;
    vm_push_root(w->vm, w->handler);
    srv_static_load(w);
    return true;
}

static void close_cb_noop(uv_handle_t *h)
{
    (void)h;
}

/* Drain: no new connections; in-flight requests get until the deadline. */
static void on_drain_tick(uv_timer_t *t)
{
    srv_worker *w = t->data;
    double now = srv_now(), waited = now - w->drain_started;
    if (w->inflight > 0 && waited < w->cfg->drain_timeout)
        return;
    /* Requests are done; give their last writes a moment, but do not wait
     * for idle keep-alive connections (a browser would hold the drain). */
    if (!w->quiet_since)
        w->quiet_since = now;
    if (w->nconns > 0 && now - w->quiet_since < 0.2 && waited < w->cfg->drain_timeout)
        return;
    if (w->inflight > 0)
        srv_log_error(w, "drain deadline: %d request(s) still running", w->inflight);
    uv_close((uv_handle_t *)&w->drain, close_cb_noop);
    uv_close((uv_handle_t *)&w->stop, close_cb_noop);
    uv_stop(&w->loop);
}

static void on_stop(uv_async_t *a)
{
    srv_worker *w = a->data;
    w->draining = true;
    srv_ws_shutdown(w);
    uv_close((uv_handle_t *)&w->listener, close_cb_noop);
    h2o_context_request_shutdown(&w->ctx);
    w->drain_started = srv_now();
    uv_timer_init(&w->loop, &w->drain);
    w->drain.data = w;
    uv_timer_start(&w->drain, on_drain_tick, 0, 20);
}

void *srv_worker_main(void *arg)
{
    srv_worker *w = arg;
    srv_epoll_init();
    uv_loop_init(&w->loop);
    w->loop.data = w;
    if (!open_listener(w) || !load_app(w)) {
        report_state(w, -1);
        return NULL;
    }
    uv_async_init(&w->loop, &w->stop, on_stop);
    w->stop.data = w;
    h2o_context_init(&w->ctx, &w->loop, w->gconf);
    w->accept_ctx.ctx = &w->ctx;
    w->accept_ctx.hosts = w->gconf->hosts;
    srv_ws_init(w);
    if (!start_listening(w)) {
        report_state(w, -1);
        return NULL;
    }
    srv_log_init(w);
    report_state(w, 1);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    srv_log_flush(w);
    /* Leave without disposing: connections may remain (see stack.md §1),
     * and the process exits right after every worker returns. */
    return NULL;
}
