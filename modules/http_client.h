/* http_client.h — std/http/client's parts, shared by its files:
 *
 *   http_client.c           the module: verbs, HttpClient, options, sync/async
 *   http_client_request.c   HttpRequest, the builder
 *   http_client_spec.c      hc_spec: one request in C form, ready to send
 *   http_client_response.c  HttpResponse
 *   http_client_curl.c      the transport: one CURLM per VM on its uv loop
 */
#ifndef QUEST_HTTP_CLIENT_H
#define QUEST_HTTP_CLIENT_H

#include <curl/curl.h>

#include "modules/modules.h"

#define HC_MODULE "std/http/client"

/* Defaults of a client (the reference's reqwest client: 30 s, 10 redirects). */
#define HC_DEFAULT_TIMEOUT 30.0
#define HC_DEFAULT_REDIRECTS 10
#define HC_DEFAULT_MAX_RESPONSE (256 * 1024 * 1024)

typedef struct hc_engine hc_engine;

/* The module's per-VM state (vm_module_state(vm, HC_MODULE)). */
typedef struct hc_state {
    qtype *client_type, *request_type, *response_type;
    qtype *http_err;      /* HttpErr: every failed transfer */
    qtype *timeout_err;   /* "TimeoutErr", a child of HttpErr: catchable as either */
    hc_engine *engine;    /* created on the first request */
} hc_state;

hc_state *hc_state_of(qvm *vm);

/* ---- hc_spec: a request in C form (http_client_spec.c) -------------------------- */

typedef struct hc_header {
    char *name, *value;
} hc_header;

/* Settings a client gives each of its requests. */
typedef struct hc_settings {
    double timeout;          /* whole-request deadline in seconds; 0: none */
    long max_redirects;      /* 0: redirects are returned, not followed */
    int64_t max_response;    /* bytes of (decoded) body accepted */
    bool verify;             /* TLS peer and host name verification */
    char *ca_file;           /* trust anchors (PEM file) instead of the system's, or NULL */
} hc_settings;

typedef struct hc_spec {
    char *method;
    CURLU *url;              /* parsed; the query is appended to it */
    hc_header *headers;      /* unique names (case-insensitive), in order */
    size_t nheaders, capheaders;
    qbuf body;
    bool has_body;
    hc_settings set;         /* set.ca_file is the spec's own copy */
    CURLSH *share;           /* the client's cookie jar, or NULL */
} hc_spec;

/* Start a spec for method url; false after raising ValueErr (bad URL or
 * method).  Every hc_spec_* that fails has raised; hc_spec_free always. */
bool hc_spec_init(qvm *vm, hc_spec *s, const char *method, qstr *url);
void hc_spec_free(hc_spec *s);
/* Set a header (replacing one of the same name); value is any value (str()). */
bool hc_spec_header(qvm *vm, hc_spec *s, qstr *name, qval value);
bool hc_spec_headers(qvm *vm, hc_spec *s, const char *fname, qval dict);
bool hc_spec_has_header(const hc_spec *s, const char *name);
/* Append query parameters (form-encoded) from a Dict. */
bool hc_spec_query(qvm *vm, hc_spec *s, const char *fname, qval dict);
/* Bodies: raw Str/Bytes (Dict/Array: JSON), JSON of any value, a form. */
bool hc_spec_body(qvm *vm, hc_spec *s, const char *fname, qval v);
bool hc_spec_json(qvm *vm, hc_spec *s, qval v);
bool hc_spec_form(qvm *vm, hc_spec *s, const char *fname, qval dict);
/* Form-encode (application/x-www-form-urlencoded) a Dict into b. */
bool hc_form_encode(qvm *vm, qbuf *b, const char *fname, qval dict);
/* Seconds from a Quest number (>= 0); false after raising. */
bool hc_seconds(qvm *vm, const char *fname, qval v, double *out);

/* ---- the transport (http_client_curl.c) ------------------------------------------- */

/* What a finished transfer hands to HttpResponse. */
typedef struct hc_reply {
    long status;
    long http_version;       /* CURL_HTTP_VERSION_* */
    const char *url;         /* after redirects */
    const char *head;        /* the final response's header lines */
    size_t head_len;
    const char *cookies;     /* every Set-Cookie value of the chain, '\n'-separated */
    size_t cookies_len;
    const char *body;
    size_t body_len;
} hc_reply;

/* Send s (taken over: the transfer frees it); holder is kept alive while
 * it runs.  A pending Task resolving to an HttpResponse, or rejected with
 * HttpErr / TimeoutErr.  Cancelling the task aborts the transfer. */
qtask *hc_send(qvm *vm, hc_spec *s, qval holder);
/* The Task for an async caller; otherwise its result, waited for. */
qval hc_deliver(qvm *vm, qtask *t, const char *method, const char *url);
void hc_engine_free(hc_engine *e);

/* ---- values (http_client_response.c, http_client_request.c, http_client.c) --------- */

qval hc_response_new(qvm *vm, const hc_reply *r);
void hc_response_init(qvm *vm, hc_state *st);
void hc_request_init(qvm *vm, hc_state *st);
/* An HttpRequest for method url made by client (an HttpClient value). */
qval hc_request_new(qvm *vm, qval client, qstr *method, qstr *url);
/* Fill s with client's settings and default headers (http_client.c). */
bool hc_client_apply(qvm *vm, qval client, hc_spec *s);

#endif
