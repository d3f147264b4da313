/* srv_main.c — `quest serve`: load the configuration, check that the app
 * compiles, start one worker per core, and turn SIGTERM/SIGINT into a
 * graceful drain (a second signal exits at once). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "modules/modules.h"
#include "server/srv.h"
#include "vm/compile.h"

/* A syntax error fails start-up with file:line before any thread exists. */
static bool compile_check(const quest_cli *cli, const srv_config *cfg)
{
    size_t len;
    char *src = buf_read_file(cfg->app, SIZE_MAX, &len);
    if (!src)
        return false;
    qvm_options opts;
    quest_vm_options(cli, &opts);
    qvm *vm = vm_new(&opts);
    bool ok = compile_source(vm, cfg->app, src, len, COMPILE_MODULE) != NULL;
    if (!ok) {
        fputs("quest serve: the app does not compile:\n", stderr);
        vm_report_exc(vm, stderr);
    }
    vm_free(vm);
    free(src);
    return ok;
}

/* config/ validates max_header_size without including h2o. */
_Static_assert(SRV_MAX_HEADER_LIMIT == H2O_MAX_REQLEN, "SRV_MAX_HEADER_LIMIT must be h2o's H2O_MAX_REQLEN");

static void setup_h2o(h2o_globalconf_t *g, const srv_config *cfg)
{
    h2o_config_init(g);
    g->max_request_entity_size = cfg->max_body_size;
    g->http1.req_timeout = (uint64_t)(cfg->keepalive_timeout * 1000);
    /* Debian's h2o has no HTTP/2 rapid-reset fix: h2c only when asked for. */
    g->http1.upgrade_to_http2 = cfg->http2;
    g->server_name = h2o_iovec_init(H2O_STRLIT("")); /* srv_server_header_filter sends it */
    h2o_hostconf_t *host = h2o_config_register_host(g, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    h2o_create_handler(path, sizeof(h2o_handler_t))->on_req = srv_on_req;
    srv_server_header_filter(path);
    srv_server_header_filter(&host->fallback_path); /* h2o's own errors (413 ...) */
}

/* Bind the listening sockets, then start the workers one by one and wait
 * until each is serving (or failed: then nothing runs and the error is
 * already printed). */
static bool start_workers(srv_worker *ws, int n, const srv_config *cfg, h2o_globalconf_t *g,
                          pthread_mutex_t *lock, pthread_cond_t *ready)
{
    int fds[QUEST_MAX_WORKERS];
    if (!srv_listen_open(cfg, fds, n))
        return false;
    for (int i = 0; i < n; i++) {
        ws[i].id = i;
        ws[i].listen_fd = fds[i];
        ws[i].cfg = cfg;
        ws[i].gconf = g;
        ws[i].lock = lock;
        ws[i].ready = ready;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 16u << 20); /* deep Quest recursion nests C frames */
        if (pthread_create(&ws[i].tid, &attr, srv_worker_main, &ws[i]) != 0) {
            fputs("quest serve: cannot start a worker thread\n", stderr);
            return false;
        }
        pthread_attr_destroy(&attr);
        pthread_mutex_lock(lock);
        while (ws[i].state == 0)
            pthread_cond_wait(ready, lock);
        int state = ws[i].state;
        pthread_mutex_unlock(lock);
        if (state < 0)
            return false;
    }
    return true;
}

int quest_serve_main(const quest_cli *cli)
{
    static srv_config cfg;
    if (!srv_config_load(&cfg, cli) || !compile_check(cli, &cfg))
        return 1;
    signal(SIGPIPE, SIG_IGN);
    /* The app's puts() shares stdout with the access log: whole lines. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    static h2o_globalconf_t gconf;
    setup_h2o(&gconf, &cfg);

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t ready = PTHREAD_COND_INITIALIZER;
    srv_worker *ws = calloc((size_t)cfg.workers, sizeof *ws);
    if (!ws)
        return 1;
    if (!start_workers(ws, cfg.workers, &cfg, &gconf, &lock, &ready)) {
        fputs("quest serve: start-up failed\n", stderr);
        _exit(1); /* workers that did start hold sockets: leave at once */
    }
    fprintf(stderr, "quest serve: %s on http://%s:%d (%d worker%s)\n", cfg.app, cfg.host, cfg.port,
            cfg.workers, cfg.workers == 1 ? "" : "s");

    int sig;
    sigwait(&set, &sig);
    fprintf(stderr, "quest serve: %s received, draining (up to %.0fs)\n",
            sig == SIGTERM ? "SIGTERM" : "SIGINT", cfg.drain_timeout);
    for (int i = 0; i < cfg.workers; i++)
        uv_async_send(&ws[i].stop);
    /* A second signal means: now. */
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    for (int i = 0; i < cfg.workers; i++)
        pthread_join(ws[i].tid, NULL);
    fputs("quest serve: stopped\n", stderr);
    free(ws);
    return 0;
}

int quest_serve_app(const char *app, const char *host, int port)
{
    quest_cli cli;
    memset(&cli, 0, sizeof cli);
    cli.command = QUEST_CMD_SERVE;
    cli.script = app;
    cli.host = host;
    cli.port = port;
    return quest_serve_main(&cli);
}
