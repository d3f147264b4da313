/* srv_head.c — the first lines of h2o's HTTP/1.1 responses without printf.
 *
 * h2o 2.2 (lib/http1.c) starts every response with one sprintf of
 *
 *     "HTTP/1.1 %d %s\r\nDate: %s\r\nConnection: %s\r\n"
 *
 * followed by "Content-Length: %zu\r\n" when the length is known.  Built
 * with _FORTIFY_SOURCE, that call is __sprintf_chk, and glibc's generic
 * formatter spends about 2,200 instructions on it: a sixth of what a whole
 * JSON request costs in user space (callgrind, loadtest/http/json.q).
 *
 * This file defines __sprintf_chk(): being in the executable, it is the one
 * libh2o's calls reach.  Those two formats, with none of their strings NULL,
 * are written here by copying; everything else, and any result that would
 * not fit the size the caller gave, goes to glibc's __vsprintf_chk, which
 * formats it or stops the program as fortified code expects.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "server/srv.h"

int __sprintf_chk(char *restrict s, int flag, size_t slen, const char *restrict fmt, ...);
int __vsprintf_chk(char *restrict s, int flag, size_t slen, const char *restrict fmt, va_list ap);

#define HEAD "HTTP/1.1 %d %s\r\nDate: %s\r\nConnection: %s\r\n"
#define LENGTH "Content-Length: %zu\r\n"

typedef struct head {
    int status;
    const char *reason, *date, *connection;
    bool has_length;
    size_t length;
} head;

/* Which of h2o's two formats fmt is: 0 none, 1 without, 2 with the length. */
static int head_kind(const char *fmt)
{
    if (fmt[0] != 'H' || memcmp(fmt, HEAD, sizeof HEAD - 1) != 0)
        return 0;
    const char *rest = fmt + sizeof HEAD - 1;
    if (*rest == '\0')
        return 1;
    return strcmp(rest, LENGTH) == 0 ? 2 : 0;
}

/* Decimal digits of v, written backwards ending at end; returns the start. */
static char *digits(char *end, uintmax_t v)
{
    do
        *--end = (char)('0' + v % 10);
    while (v /= 10);
    return end;
}

static char *put(char *p, const char *str, size_t len)
{
    memcpy(p, str, len);
    return p + len;
}

#define PUT_LIT(p, lit) put(p, lit, sizeof lit - 1)

/* Writes h into s when it fits in slen bytes with its NUL; -1 when not. */
static int write_head(char *s, size_t slen, const head *h)
{
    char status_buf[16], length_buf[24];
    uintmax_t magnitude = h->status < 0 ? -(uintmax_t)h->status : (uintmax_t)h->status;
    char *status = digits(status_buf + sizeof status_buf, magnitude);
    if (h->status < 0)
        *--status = '-';
    char *length = digits(length_buf + sizeof length_buf, h->length);
    size_t ls = (size_t)(status_buf + sizeof status_buf - status);
    size_t ll = (size_t)(length_buf + sizeof length_buf - length);
    size_t lr = strlen(h->reason), ld = strlen(h->date), lc = strlen(h->connection);

    size_t total = sizeof "HTTP/1.1 " - 1 + ls + 1 + lr + sizeof "\r\nDate: " - 1 + ld +
                   sizeof "\r\nConnection: " - 1 + lc + 2;
    if (h->has_length)
        total += sizeof "Content-Length: " - 1 + ll + 2;
    if (total >= slen || total > INT_MAX)
        return -1;

    char *p = PUT_LIT(s, "HTTP/1.1 ");
    p = put(p, status, ls);
    *p++ = ' ';
    p = put(p, h->reason, lr);
    p = PUT_LIT(p, "\r\nDate: ");
    p = put(p, h->date, ld);
    p = PUT_LIT(p, "\r\nConnection: ");
    p = put(p, h->connection, lc);
    p = PUT_LIT(p, "\r\n");
    if (h->has_length) {
        p = PUT_LIT(p, "Content-Length: ");
        p = put(p, length, ll);
        p = PUT_LIT(p, "\r\n");
    }
    *p = '\0';
    return (int)total;
}

int __sprintf_chk(char *restrict s, int flag, size_t slen, const char *restrict fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int kind = head_kind(fmt), n = -1;
    if (kind) {
        va_list args;
        va_copy(args, ap);
        head h = {.status = va_arg(args, int)};
        h.reason = va_arg(args, const char *);
        h.date = va_arg(args, const char *);
        h.connection = va_arg(args, const char *);
        if ((h.has_length = kind == 2))
            h.length = va_arg(args, size_t);
        va_end(args);
        if (h.reason && h.date && h.connection)
            n = write_head(s, slen, &h);
    }
    if (n < 0)
        n = __vsprintf_chk(s, flag, slen, fmt, ap);
    va_end(ap);
    return n;
}
