/* server_config.h — every setting of `quest serve`, and where each comes from.
 *
 * Precedence, lowest to highest (one rule for every key):
 *   built-in defaults  <  quest.toml [std.web]  <  QUEST_* environment  <  command line
 */
#ifndef QUEST_SERVER_CONFIG_H
#define QUEST_SERVER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/cli.h"

#define SRV_MAX_PROXIES 16
/* The most max_header_size may be: h2o's compiled-in H2O_MAX_REQLEN
 * (8192 + 4096 * H2O_MAX_HEADERS), beyond which h2o itself answers 400
 * (server/srv_main.c checks that the two agree). */
#define SRV_MAX_HEADER_LIMIT 417792

typedef struct srv_config {
    char app[4096];            /* the app's file (a directory means its index.q) */
    char host[256];
    int port;
    int workers;
    size_t max_body_size;      /* bytes; larger bodies get 413 */
    size_t max_header_size;    /* bytes of request line and headers (and of each form part's headers) */
    size_t max_form_parts;     /* parts of a multipart/form-data body; more get 413 */
    double request_timeout;    /* seconds until 504 (the handler task is cancelled) */
    double keepalive_timeout;  /* seconds an idle HTTP/1 connection is kept */
    double drain_timeout;      /* seconds SIGTERM waits for in-flight requests */
    int64_t cpu_budget;        /* VM instructions one uninterrupted run may use (0: none) */
    int max_connections;       /* per worker */
    bool listener_shared;      /* one listening socket for all workers, not an SO_REUSEPORT group */
    bool http2;                /* offer h2c (off by default: see docs/deploy.md) */
    bool debug;                /* error details in 500 bodies */
    bool log_json;             /* access log as JSON lines */
    bool access_log;
    int nproxies;              /* trusted proxies for X-Forwarded-For/-Proto */
    char proxies[SRV_MAX_PROXIES][64];
    /* WebSocket (server/srv_ws.c) */
    double ws_ping_interval;   /* seconds between pings; no pong by the next one closes (0: no pings) */
    double ws_idle_timeout;    /* seconds without a message from the client before closing (0: never) */
    size_t ws_max_message_size; /* bytes; a larger incoming message closes with 1009 */
    size_t ws_max_send_queue;  /* bytes waiting for a slow client before it is closed with 1008 */
    int ws_max_recv_queue;     /* messages received but not yet read by the handler, ditto */
    char ws_origins[1024];     /* allowed Origin values, comma separated (empty: any) */
} srv_config;

/* Fill cfg for this command line; false (with a message on stderr) when a
 * setting is invalid or the app cannot be found. */
bool srv_config_load(srv_config *cfg, const quest_cli *cli);

#endif
