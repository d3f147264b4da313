/* srv_log.c — one access-log line per request on stdout (text or JSON),
 * and errors on stderr.
 *
 * Access lines are formatted by hand into the worker's buffer and written
 * once per loop iteration (a uv_check handle, after the iteration's I/O),
 * not once per request: under load one write(2) carries dozens of lines.
 * Each write(2) holds whole lines and at most PIPE_BUF bytes, so lines of
 * different workers never interleave, even on a pipe.  The timestamp text
 * is remade once a second.  Error lines go out at once, one write(2) each. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "server/srv.h"

#define LOG_LINE_MAX 2048           /* longer lines are cut (and still end in '\n') */
#define LOG_BUF_SIZE (16 * 1024)    /* buffered lines beyond this are written at once */
_Static_assert(LOG_LINE_MAX <= PIPE_BUF, "a line must fit one atomic pipe write");

struct srv_log {
    uv_check_t flush;
    size_t len;
    time_t sec;          /* the second `stamp` shows (0: none yet) */
    char stamp[24];      /* "YYYY-MM-DDTHH:MM:SS" */
    char buf[LOG_BUF_SIZE];
};

static void write_all(int fd, const char *s, size_t n)
{
    while (n) {
        ssize_t k = write(fd, s, n);
        if (k <= 0)
            return;
        s += k;
        n -= (size_t)k;
    }
}

/* The buffered lines, in writes of whole lines up to PIPE_BUF bytes. */
static void flush_lines(struct srv_log *l)
{
    size_t at = 0;
    while (at < l->len) {
        size_t n = l->len - at;
        if (n > PIPE_BUF) {
            n = PIPE_BUF;
            while (l->buf[at + n - 1] != '\n')
                n--;
        }
        write_all(1, l->buf + at, n);
        at += n;
    }
    l->len = 0;
}

static void on_check(uv_check_t *h)
{
    struct srv_log *l = h->data;
    if (l->len)
        flush_lines(l);
}

void srv_log_init(srv_worker *w)
{
    struct srv_log *l = calloc(1, sizeof *l);
    if (!l)
        abort();
    uv_check_init(&w->loop, &l->flush);
    l->flush.data = l;
    uv_check_start(&l->flush, on_check);
    uv_unref((uv_handle_t *)&l->flush); /* it never keeps the loop alive */
    w->log = l;
}

void srv_log_flush(srv_worker *w)
{
    if (w->log && w->log->len)
        flush_lines(w->log);
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" for now (25 bytes with the NUL); the part
 * before the milliseconds is remade when the second changes. */
static void timestamp(struct srv_log *l, char out[32])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char own[24];
    char *stamp = l ? l->stamp : own;
    if (!l || l->sec != ts.tv_sec) {
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        strftime(stamp, sizeof own, "%Y-%m-%dT%H:%M:%S", &tm);
        if (l)
            l->sec = ts.tv_sec;
    }
    int ms = (int)(ts.tv_nsec / 1000000);
    size_t n = strlen(stamp);
    memcpy(out, stamp, n);
    out[n] = '.';
    out[n + 1] = (char)('0' + ms / 100);
    out[n + 2] = (char)('0' + ms / 10 % 10);
    out[n + 3] = (char)('0' + ms % 10);
    out[n + 4] = 'Z';
    out[n + 5] = '\0';
}

/* A line being built; writes past the end are dropped. */
typedef struct line {
    char *p, *end;
} line;

static void put(line *o, const char *s, size_t n)
{
    if (n > (size_t)(o->end - o->p))
        n = (size_t)(o->end - o->p);
    memcpy(o->p, s, n);
    o->p += n;
}

static void put_str(line *o, const char *s)
{
    put(o, s, strlen(s));
}

static void put_uint(line *o, unsigned long long v)
{
    char tmp[20], *t = tmp + sizeof tmp;
    do
        *--t = (char)('0' + v % 10);
    while (v /= 10);
    put(o, t, (size_t)(tmp + sizeof tmp - t));
}

/* Milliseconds with three decimals. */
static void put_ms(line *o, double seconds)
{
    unsigned long long us = seconds > 0 ? (unsigned long long)(seconds * 1e6 + 0.5) : 0;
    put_uint(o, us / 1000);
    char frac[4] = {'.', (char)('0' + us / 100 % 10), (char)('0' + us / 10 % 10), (char)('0' + us % 10)};
    put(o, frac, 4);
}

/* JSON string contents, for the fields that come from the client. */
static void put_json(line *o, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            put(o, e, 2);
        } else if (c < 0x20) {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            put(o, e, 6);
        } else {
            put(o, (const char *)&c, 1);
        }
    }
}

static void format_access(srv_worker *w, h2o_req_t *req, int status, size_t bytes, double started, line *o)
{
    char ts[32], peer[INET6_ADDRSTRLEN + 8];
    timestamp(w->log, ts);
    int port;
    srv_peer_text(req, peer, INET6_ADDRSTRLEN, &port);
    if (!strcmp(peer, "unknown"))
        strcpy(peer, "-");
    size_t sent = bytes ? bytes : req->bytes_sent;
    size_t plen = req->path.len < 1024 ? req->path.len : 1024;
    double took = srv_now() - started;
    if (w->cfg->log_json) {
        put_str(o, "{\"time\":\"");
        put_str(o, ts);
        put_str(o, "\",\"worker\":");
        put_uint(o, (unsigned)w->id);
        put_str(o, ",\"client\":\"");
        put_str(o, peer);
        put_str(o, "\",\"method\":\"");
        put_json(o, req->method.base, req->method.len);
        put_str(o, "\",\"path\":\"");
        put_json(o, req->path.base, plen);
        put_str(o, "\",\"status\":");
        put_uint(o, (unsigned)status);
        put_str(o, ",\"bytes\":");
        put_uint(o, sent);
        put_str(o, ",\"ms\":");
        put_ms(o, took);
        put_str(o, "}");
    } else {
        put_str(o, ts);
        put_str(o, " ");
        put_str(o, peer);
        put_str(o, " ");
        put(o, req->method.base, req->method.len);
        put_str(o, " ");
        put(o, req->path.base, plen);
        put_str(o, " ");
        put_uint(o, (unsigned)status);
        put_str(o, " ");
        put_uint(o, sent);
        put_str(o, " ");
        put_ms(o, took);
        put_str(o, "ms");
    }
}

void srv_log_access(srv_worker *w, h2o_req_t *req, int status, size_t bytes, double started)
{
    if (!w->cfg->access_log)
        return;
    char text[LOG_LINE_MAX];
    line o = {text, text + sizeof text - 1}; /* room kept for the '\n' */
    format_access(w, req, status, bytes, started, &o);
    *o.p++ = '\n';
    size_t n = (size_t)(o.p - text);
    struct srv_log *l = w->log;
    if (!l) { /* not serving yet */
        write_all(1, text, n);
        return;
    }
    if (l->len + n > sizeof l->buf)
        flush_lines(l);
    memcpy(l->buf + l->len, text, n);
    l->len += n;
}

void srv_log_error(srv_worker *w, const char *fmt, ...)
{
    char ts[32], text[LOG_LINE_MAX];
    timestamp(NULL, ts);
    int k = snprintf(text, sizeof text, "%s quest[worker %d] error: ", ts, w ? w->id : -1);
    va_list ap;
    va_start(ap, fmt);
    k += vsnprintf(text + k, sizeof text - (size_t)k - 1, fmt, ap);
    va_end(ap);
    if (k > (int)sizeof text - 2)
        k = (int)sizeof text - 2;
    text[k++] = '\n';
    write_all(2, text, (size_t)k);
}

void srv_log_exception(srv_worker *w, const char *where)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem)
        return;
    vm_report_exc(w->vm, mem);
    fclose(mem);
    srv_log_error(w, "%s: %.*s", where, (int)(len && buf[len - 1] == '\n' ? len - 1 : len), buf);
    free(buf);
}
