/* http_client_curl.c — the transport of std/http/client: libcurl's
 * multi-socket interface driven by the VM's libuv loop (the recipe of
 * shared/reference/stack.md §3).
 *
 * One CURLM per VM (so per server worker): its connection cache gives
 * keep-alive and HTTP/2 multiplexing to every request of the VM, and its
 * threaded resolver keeps DNS off the loop.  curl says which sockets to
 * watch (engine_socket) and when to wake it (engine_timer); uv_poll and a
 * uv_timer call back into curl_multi_socket_action, and finished transfers
 * resolve or reject their pending Task.  Cancelling the Task removes the
 * easy handle, which closes a half-used connection rather than reusing it.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "modules/http_client.h"

typedef struct hc_sock hc_sock;
typedef struct hc_transfer hc_transfer;

struct hc_engine {
    qvm *vm;
    hc_state *st;
    CURLM *multi;
    uv_timer_t *timer;
    hc_transfer *transfers;  /* in flight */
    hc_sock *socks;          /* sockets being polled */
    bool closing;            /* engine_free: curl's callbacks are ignored */
};

/* A socket curl asked us to watch. */
struct hc_sock {
    uv_poll_t poll;
    curl_socket_t fd;
    hc_engine *eng;
    hc_sock *prev, *next;
};

struct hc_transfer {
    hc_engine *eng;
    qtask *task;
    CURL *easy;
    hc_spec spec;
    char *url;               /* the request's URL, for messages */
    struct curl_slist *headers;
    qbuf head;               /* header lines of the latest response */
    qbuf cookies;            /* Set-Cookie values of every response */
    qbuf body;
    bool too_large;
    char errbuf[CURL_ERROR_SIZE];
    hc_transfer *prev, *next;
};

/* ---- lists ------------------------------------------------------------------------------ */

#define LIST_PUSH(head, x) \
    do { \
        (x)->prev = NULL; \
        (x)->next = (head); \
        if (head) \
            (head)->prev = (x); \
        (head) = (x); \
    } while (0)

#define LIST_UNLINK(head, x) \
    do { \
        if ((x)->prev) \
            (x)->prev->next = (x)->next; \
        else \
            (head) = (x)->next; \
        if ((x)->next) \
            (x)->next->prev = (x)->prev; \
        (x)->prev = (x)->next = NULL; \
    } while (0)

/* ---- sockets and the timer -------------------------------------------------------------- */

static void engine_check_done(hc_engine *e);

static void sock_closed(uv_handle_t *h)
{
    free(h->data);
}

static void sock_close(hc_engine *e, hc_sock *s)
{
    LIST_UNLINK(e->socks, s);
    uv_poll_stop(&s->poll);
    uv_close((uv_handle_t *)&s->poll, sock_closed);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    hc_sock *s = h->data;
    hc_engine *e = s->eng;
    int flags = 0, running;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    curl_multi_socket_action(e->multi, s->fd, flags, &running);
    engine_check_done(e);
}

/* CURLMOPT_SOCKETFUNCTION.  curl reports REMOVE before it closes the fd,
 * so a reused fd number never meets a stale poll handle. */
static int engine_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy;
    hc_engine *e = userp;
    hc_sock *s = socketp;
    if (e->closing)
        return 0;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            curl_multi_assign(e->multi, fd, NULL);
            sock_close(e, s);
        }
        return 0;
    }
    if (!s) {
        s = malloc(sizeof *s);
        if (!s || uv_poll_init_socket(vm_loop(e->vm), &s->poll, fd) != 0) {
            free(s);
            return -1;
        }
        s->fd = fd;
        s->eng = e;
        s->poll.data = s;
        LIST_PUSH(e->socks, s);
        curl_multi_assign(e->multi, fd, s);
    }
    int events = 0;
    if (what & CURL_POLL_IN)
        events |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        events |= UV_WRITABLE;
    uv_poll_start(&s->poll, events, on_poll);
    return 0;
}

static void on_timer(uv_timer_t *t)
{
    hc_engine *e = t->data;
    int running;
    curl_multi_socket_action(e->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    engine_check_done(e);
}

/* CURLMOPT_TIMERFUNCTION: only (re)arm the uv timer; acting from inside
 * this callback would re-enter curl. */
static int engine_timer(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    hc_engine *e = userp;
    if (e->closing)
        return 0;
    if (timeout_ms < 0)
        uv_timer_stop(e->timer);
    else
        uv_timer_start(e->timer, on_timer, (uint64_t)timeout_ms, 0);
    return 0;
}

/* ---- the engine ------------------------------------------------------------------------------ */

static hc_engine *engine_new(qvm *vm, hc_state *st)
{
    hc_engine *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->vm = vm;
    e->st = st;
    e->timer = malloc(sizeof *e->timer);
    e->multi = curl_multi_init();
    if (!e->timer || !e->multi) {
        curl_multi_cleanup(e->multi);
        free(e->timer);
        free(e);
        return NULL;
    }
    uv_timer_init(vm_loop(vm), e->timer);
    e->timer->data = e;
    curl_multi_setopt(e->multi, CURLMOPT_SOCKETFUNCTION, engine_socket);
    curl_multi_setopt(e->multi, CURLMOPT_SOCKETDATA, e);
    curl_multi_setopt(e->multi, CURLMOPT_TIMERFUNCTION, engine_timer);
    curl_multi_setopt(e->multi, CURLMOPT_TIMERDATA, e);
    curl_multi_setopt(e->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    return e;
}

static void transfer_free(hc_transfer *tr);

static void timer_closed(uv_handle_t *h)
{
    free(h);
}

/* At vm_free (the loop still runs): transfers still in flight are dropped
 * without touching their tasks, which die with the VM. */
void hc_engine_free(hc_engine *e)
{
    if (!e)
        return;
    e->closing = true;
    while (e->transfers) {
        hc_transfer *tr = e->transfers;
        LIST_UNLINK(e->transfers, tr);
        curl_multi_remove_handle(e->multi, tr->easy);
        transfer_free(tr);
    }
    while (e->socks)
        sock_close(e, e->socks);
    curl_multi_cleanup(e->multi);
    uv_timer_stop(e->timer);
    uv_close((uv_handle_t *)e->timer, timer_closed);
    free(e);
}

static hc_engine *engine_get(qvm *vm)
{
    hc_state *st = hc_state_of(vm);
    if (!st->engine)
        st->engine = engine_new(vm, st);
    return st->engine;
}

/* ---- one transfer ------------------------------------------------------------------------------ */

static void transfer_free(hc_transfer *tr)
{
    curl_easy_cleanup(tr->easy);
    curl_slist_free_all(tr->headers);
    curl_free(tr->url);
    hc_spec_free(&tr->spec);
    buf_free(&tr->head);
    buf_free(&tr->cookies);
    buf_free(&tr->body);
    free(tr);
}

static size_t on_body(char *data, size_t size, size_t n, void *userp)
{
    hc_transfer *tr = userp;
    size_t len = size * n;
    if ((int64_t)(tr->body.len + len) > tr->spec.set.max_response) {
        tr->too_large = true;
        return 0; /* CURLE_WRITE_ERROR */
    }
    buf_append(&tr->body, data, len);
    return len;
}

/* Header lines of every response of the chain (redirects, 100 Continue):
 * a status line starts the next response's headers; cookies add up. */
static size_t on_header(char *data, size_t size, size_t n, void *userp)
{
    hc_transfer *tr = userp;
    size_t len = size * n;
    static const char cookie[] = "set-cookie:";
    if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
        tr->head.len = 0;
    } else if (len > sizeof cookie - 1 && strncasecmp(data, cookie, sizeof cookie - 1) == 0) {
        size_t i = sizeof cookie - 1, end = len;
        while (i < end && (data[i] == ' ' || data[i] == '\t'))
            i++;
        while (end > i && (data[end - 1] == '\r' || data[end - 1] == '\n' || data[end - 1] == ' '))
            end--;
        buf_append(&tr->cookies, data + i, end - i);
        buf_putc(&tr->cookies, '\n');
    }
    buf_append(&tr->head, data, len);
    return len;
}

/* The header list curl sends: ours, plus what suppresses curl's own
 * defaults (a form Content-Type on every body, Expect: 100-continue). */
static bool transfer_headers(hc_transfer *tr)
{
    hc_spec *s = &tr->spec;
    qbuf line;
    buf_init(&line);
    bool ok = true;
    for (size_t i = 0; ok && i < s->nheaders; i++) {
        line.len = 0;
        /* "Name;" is curl's way to send a header with an empty value. */
        buf_printf(&line, s->headers[i].value[0] ? "%s: %s" : "%s;", s->headers[i].name, s->headers[i].value);
        struct curl_slist *l = curl_slist_append(tr->headers, line.data);
        ok = l != NULL;
        if (l)
            tr->headers = l;
    }
    buf_free(&line);
    if (ok && s->has_body && !hc_spec_has_header(s, "Content-Type"))
        ok = (tr->headers = curl_slist_append(tr->headers, "Content-Type:")) != NULL;
    if (ok && !hc_spec_has_header(s, "Expect"))
        ok = (tr->headers = curl_slist_append(tr->headers, "Expect:")) != NULL;
    return ok;
}

static void transfer_method(hc_transfer *tr)
{
    CURL *h = tr->easy;
    hc_spec *s = &tr->spec;
    if (strcmp(s->method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        return;
    }
    /* POST and a bodiless GET stay curl's own, so that a 303 (301, 302
     * for POST) turns them into a GET as browsers do; others are kept. */
    bool own = strcmp(s->method, "POST") == 0 || (strcmp(s->method, "GET") == 0 && !s->has_body);
    if (!own)
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, s->method);
    if (s->has_body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)s->body.len);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, s->body.data ? s->body.data : "");
    }
}

static void transfer_options(hc_transfer *tr)
{
    CURL *h = tr->easy;
    hc_settings *set = &tr->spec.set;
    curl_easy_setopt(h, CURLOPT_URL, tr->url);
    curl_easy_setopt(h, CURLOPT_PRIVATE, tr);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, tr->errbuf);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, tr);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, tr);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, set->max_redirects > 0 ? 1L : 0L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, set->max_redirects);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, ""); /* every decoder curl has */
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)set->max_response);
    if (set->timeout > 0)
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)fmax(1, llround(set->timeout * 1000)));
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, set->verify ? 1L : 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, set->verify ? 2L : 0L);
    if (set->ca_file)
        curl_easy_setopt(h, CURLOPT_CAINFO, set->ca_file);
    /* Wait for an HTTP/2 connection being set up rather than open more. */
    curl_easy_setopt(h, CURLOPT_PIPEWAIT, strncasecmp(tr->url, "https:", 6) == 0 ? 1L : 0L);
    curl_easy_setopt(h, CURLOPT_COOKIEFILE, ""); /* cookies across redirects */
    if (tr->spec.share)
        curl_easy_setopt(h, CURLOPT_SHARE, tr->spec.share);
    if (!hc_spec_has_header(&tr->spec, "User-Agent"))
        curl_easy_setopt(h, CURLOPT_USERAGENT, "quest");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, tr->headers);
    transfer_method(tr);
}

static void transfer_cancel(qvm *vm, qtask *t, void *data)
{
    (void)vm, (void)t;
    hc_transfer *tr = data;
    LIST_UNLINK(tr->eng->transfers, tr);
    curl_multi_remove_handle(tr->eng->multi, tr->easy);
    transfer_free(tr);
}

qtask *hc_send(qvm *vm, hc_spec *s, qval holder)
{
    hc_engine *e = engine_get(vm);
    hc_transfer *tr = e ? calloc(1, sizeof *tr) : NULL;
    if (tr) {
        tr->spec = *s;
        memset(s, 0, sizeof *s);
        /* An empty POST still says Content-Length: 0. */
        if (strcmp(tr->spec.method, "POST") == 0)
            tr->spec.has_body = true;
        buf_init(&tr->head);
        buf_init(&tr->cookies);
        buf_init(&tr->body);
        tr->eng = e;
        tr->easy = curl_easy_init();
        curl_url_get(tr->spec.url, CURLUPART_URL, &tr->url, 0);
    }
    if (!tr || !tr->easy || !tr->url || !transfer_headers(tr)) {
        if (tr)
            transfer_free(tr);
        hc_spec_free(s);
        vm_raise(vm, E_RUNTIME, "std/http/client: out of memory");
        return NULL;
    }
    transfer_options(tr);
    tr->task = task_new_pending(vm, "http");
    task_hold(tr->task, holder);
    task_set_cancel(tr->task, transfer_cancel, tr);
    LIST_PUSH(e->transfers, tr);
    curl_multi_add_handle(e->multi, tr->easy);
    return tr->task;
}

/* ---- completion ------------------------------------------------------------------------------- */

static bool is_tls_error(CURLcode rc)
{
    switch (rc) {
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_USE_SSL_FAILED:
        return true;
    default:
        return false;
    }
}

/* What went wrong, in words; the type is TimeoutErr for deadlines. */
static void transfer_describe(hc_transfer *tr, CURLcode rc, qbuf *b)
{
    hc_settings *set = &tr->spec.set;
    long os_errno = 0;
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        buf_printf(b, "timed out after %g s", set->timeout);
        return;
    case CURLE_COULDNT_CONNECT:
        curl_easy_getinfo(tr->easy, CURLINFO_OS_ERRNO, &os_errno);
        buf_puts(b, os_errno == ECONNREFUSED ? "connection refused" : "could not connect");
        break;
    case CURLE_COULDNT_RESOLVE_HOST:
        buf_puts(b, "could not resolve host");
        break;
    case CURLE_TOO_MANY_REDIRECTS:
        buf_printf(b, "too many redirects (the limit is %ld)", set->max_redirects);
        return;
    case CURLE_FILESIZE_EXCEEDED:
        buf_printf(b, "response body larger than the limit of %lld bytes", (long long)set->max_response);
        return;
    default:
        if (rc == CURLE_WRITE_ERROR && tr->too_large) {
            buf_printf(b, "response body larger than the limit of %lld bytes", (long long)set->max_response);
            return;
        }
        buf_puts(b, is_tls_error(rc) ? "TLS failure" : curl_easy_strerror(rc));
    }
    if (tr->errbuf[0])
        buf_printf(b, " (%s)", tr->errbuf);
}

static qexc *transfer_error(qvm *vm, hc_transfer *tr, CURLcode rc)
{
    hc_state *st = tr->eng->st;
    qbuf b;
    buf_init(&b);
    buf_printf(&b, "%s %s: ", tr->spec.method, tr->url);
    transfer_describe(tr, rc, &b);
    qtype *type = rc == CURLE_OPERATION_TIMEDOUT ? st->timeout_err : st->http_err;
    return exc_new(vm, type, buf_to_str(vm, &b));
}

static qval transfer_response(qvm *vm, hc_transfer *tr)
{
    hc_reply r = {0};
    char *url = NULL;
    curl_easy_getinfo(tr->easy, CURLINFO_RESPONSE_CODE, &r.status);
    curl_easy_getinfo(tr->easy, CURLINFO_HTTP_VERSION, &r.http_version);
    curl_easy_getinfo(tr->easy, CURLINFO_EFFECTIVE_URL, &url);
    r.url = url ? url : tr->url;
    r.head = tr->head.data ? tr->head.data : "";
    r.head_len = tr->head.len;
    r.cookies = tr->cookies.data ? tr->cookies.data : "";
    r.cookies_len = tr->cookies.len;
    r.body = tr->body.data ? tr->body.data : "";
    r.body_len = tr->body.len;
    return hc_response_new(vm, &r);
}

/* Resolve or reject the transfer's task; no Quest code runs here (the
 * waiters resume from the scheduler afterwards). */
static void transfer_done(hc_transfer *tr, CURLcode rc)
{
    qvm *vm = tr->eng->vm;
    if (rc == CURLE_OK)
        task_resolve(vm, tr->task, transfer_response(vm, tr));
    else
        task_reject(vm, tr->task, transfer_error(vm, tr, rc));
    transfer_free(tr);
}

static void engine_check_done(hc_engine *e)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(e->multi, &left)) != NULL) {
        if (m->msg != CURLMSG_DONE)
            continue;
        hc_transfer *tr = NULL;
        CURL *easy = m->easy_handle;
        CURLcode rc = m->data.result; /* m is invalid once the handle is removed */
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&tr);
        curl_multi_remove_handle(e->multi, easy);
        LIST_UNLINK(e->transfers, tr);
        transfer_done(tr, rc);
    }
}

/* ---- sync and async callers ---------------------------------------------------------------------- */

qval hc_deliver(qvm *vm, qtask *t, const char *method, const char *url)
{
    if (vm_caller_is_async(vm))
        return task_value(t);
    qval r = vm_block_on(vm, task_value(t));
    if (IS_EXC(r) && !task_is_done(t)) {
        /* Blocking was refused (a server's loop is running): nothing has
         * been sent yet, so drop the transfer and say what to do. */
        vm_take_exc(vm);
        task_cancel(vm, t);
        return vm_raise(vm, E_RUNTIME,
                        "%s %s: sync code cannot wait for a response inside the event loop; "
                        "call it from an async fun and await it",
                        method, url);
    }
    return r;
}
