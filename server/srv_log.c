/* srv_log.c — one access-log line per request on stdout (text or JSON),
 * and errors on stderr.  Each line goes out in a single write(2), so the
 * workers' lines never interleave. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "server/srv.h"

static void timestamp(char *out, size_t n)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    size_t k = strftime(out, n, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + k, n - k, ".%03ldZ", ts.tv_nsec / 1000000);
}

static void write_line(int fd, const char *s, size_t n)
{
    while (n) {
        ssize_t k = write(fd, s, n);
        if (k <= 0)
            return;
        s += k;
        n -= (size_t)k;
    }
}

/* JSON string escaping for the few fields that come from the client. */
static size_t json_escape(char *out, size_t n, const char *s, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 7 < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            out[o++] = '\\', out[o++] = (char)c;
        else if (c < 0x20)
            o += (size_t)snprintf(out + o, n - o, "\\u%04x", c);
        else
            out[o++] = (char)c;
    }
    out[o] = 0;
    return o;
}

void srv_log_access(srv_worker *w, h2o_req_t *req, int status, size_t bytes, double started)
{
    if (!w->cfg->access_log)
        return;
    char ts[40], peer[64] = "-", line[2048];
    timestamp(ts, sizeof ts);
    struct sockaddr_storage ss;
    if (req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss))
        h2o_socket_getnumerichost((struct sockaddr *)&ss, sizeof ss, peer);
    double ms = (srv_now() - started) * 1000.0;
    size_t sent = bytes ? bytes : req->bytes_sent;
    int plen = (int)(req->path.len < 1024 ? req->path.len : 1024);
    int n;
    if (w->cfg->log_json) {
        char path[2100];
        json_escape(path, sizeof path, req->path.base, (size_t)plen);
        n = snprintf(line, sizeof line,
                     "{\"time\":\"%s\",\"worker\":%d,\"client\":\"%s\",\"method\":\"%.*s\",\"path\":\"%s\","
                     "\"status\":%d,\"bytes\":%zu,\"ms\":%.3f}\n",
                     ts, w->id, peer, (int)req->method.len, req->method.base, path, status, sent, ms);
    } else {
        n = snprintf(line, sizeof line, "%s %s %.*s %.*s %d %zu %.3fms\n", ts, peer, (int)req->method.len,
                     req->method.base, plen, req->path.base, status, sent, ms);
    }
    write_line(1, line, n < (int)sizeof line ? (size_t)n : sizeof line - 1);
}

void srv_log_error(srv_worker *w, const char *fmt, ...)
{
    char ts[40], line[2048];
    timestamp(ts, sizeof ts);
    int k = snprintf(line, sizeof line, "%s quest[worker %d] error: ", ts, w ? w->id : -1);
    va_list ap;
    va_start(ap, fmt);
    k += vsnprintf(line + k, sizeof line - (size_t)k - 1, fmt, ap);
    va_end(ap);
    if (k > (int)sizeof line - 2)
        k = (int)sizeof line - 2;
    line[k++] = '\n';
    write_line(2, line, (size_t)k);
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
