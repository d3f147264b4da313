/* srv_cache.h — per-worker objects the request path reuses instead of
 * building them for every request (see srv_cache.c). */
#ifndef QUEST_SRV_CACHE_H
#define QUEST_SRV_CACHE_H

#include "server/srv.h"

/* The request Dict's fields, in the order handlers see them. */
typedef enum srv_field {
    SRV_F_METHOD, SRV_F_PATH, SRV_F_QUERY_STRING, SRV_F_QUERY, SRV_F_HEADERS,
    SRV_F_USER_AGENT, SRV_F_REFERER, SRV_F_CONTENT_TYPE, SRV_F_COOKIES, SRV_F_BODY,
    SRV_F_CONTENT_LENGTH, SRV_F_VERSION, SRV_F_HOST, SRV_F_REMOTE_ADDR, SRV_F_CLIENT_IP,
    SRV_F_SCHEME, SRV_F_PARAMS,
    SRV_F__COUNT
} srv_field;

/* Slots remembering the last value seen (see srv_cache_str). */
typedef enum srv_slot {
    SRV_S_METHOD, SRV_S_PATH, SRV_S_HOST, SRV_S_CLIENT_IP,
    SRV_S__COUNT
} srv_slot;

#define SRV_PEER_SLOTS 128

/* A connection's peer address, the same for each of its requests. */
typedef struct srv_peer {
    uint64_t conn;                  /* h2o's connection id (never reused); 0: empty */
    qstr *addr;                     /* "ip:port" */
    qstr *ip;
} srv_peer;

#define SRV_OUT_KEEP (64 * 1024) /* largest response buffer kept between requests */

typedef struct srv_cache {
    qdict *request;                 /* every field, in order, values nil */
    qstr *field[SRV_F__COUNT];      /* its keys (interned) */
    qstr *k_status, *k_json;        /* response Dict keys besides headers, cookies, body */
    qstr *empty, *http, *https, *unknown;
    qstr *http10, *http11, *http20;
    qstr *request_task;             /* the request scope task's name */
    qstr *slot[SRV_S__COUNT];
    srv_peer peer[SRV_PEER_SLOTS];  /* by connection id */
    qstr *header_name[H2O_MAX_TOKENS];  /* by h2o token, made on first use */
    qstr *header_value[H2O_MAX_TOKENS]; /* last value seen, by token */
    qbuf out;                       /* a JSON response's text (srv_response.c) */
} srv_cache;

/* Make w->cache and root it for the worker's lifetime. */
void srv_cache_init(srv_worker *w);
/* A Str holding s: *slot when it holds the same bytes, else a new Str,
 * remembered in *slot when short. */
qstr *srv_cache_str(qvm *vm, qstr **slot, const char *s, size_t len);
/* A header's name as a Str (interned and kept for h2o's known names). */
qstr *srv_cache_header_name(srv_worker *w, const h2o_iovec_t *name);
/* A header's value as a Str (reused while a known header repeats). */
qstr *srv_cache_header_value(srv_worker *w, const h2o_header_t *h);

#endif
