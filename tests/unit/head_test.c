/* head_test.c — server/srv_head.c: h2o's response-head formats come out of
 * __sprintf_chk exactly as glibc's formatter writes them, and whatever is
 * not one of them, or would not fit, is still glibc's to handle. */
#include <dlfcn.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

int __sprintf_chk(char *restrict s, int flag, size_t slen, const char *restrict fmt, ...);

#define HEAD "HTTP/1.1 %d %s\r\nDate: %s\r\nConnection: %s\r\n"
#define HEAD_LENGTH HEAD "Content-Length: %zu\r\n"

static const char *date = "Sat, 21 Nov 2026 16:02:11 GMT";

/* Both formats through the hook and through snprintf agree, result too. */
static bool same(int status, const char *reason, const char *conn, size_t length)
{
    char mine[256], libc[256];
    memset(mine, 'x', sizeof mine);
    int n = __sprintf_chk(mine, 1, sizeof mine, HEAD, status, reason, date, conn);
    int m = snprintf(libc, sizeof libc, HEAD, status, reason, date, conn);
    if (n != m || strcmp(mine, libc) != 0)
        return false;
    n = __sprintf_chk(mine, 1, (size_t)-1, HEAD_LENGTH, status, reason, date, conn, length);
    m = snprintf(libc, sizeof libc, HEAD_LENGTH, status, reason, date, conn, length);
    return n == m && strcmp(mine, libc) == 0;
}

/* Whether a call with room for `room` bytes stops the program (SIGABRT). */
static bool aborts_with(size_t room)
{
    pid_t pid = fork();
    if (pid == 0) {
        freopen("/dev/null", "w", stderr); /* (glibc's "buffer overflow detected") */
        char buf[256];
        __sprintf_chk(buf, 1, room, HEAD, 200, "OK", date, "keep-alive");
        _exit(0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT;
}

int main(void)
{
    Dl_info where;
    ok(dladdr((void *)__sprintf_chk, &where) && !strstr(where.dli_fname, "libc"),
       "__sprintf_chk is ours, not libc's");
    ok(same(200, "OK", "keep-alive", 27), "200 OK, keep-alive");
    ok(same(404, "Not Found", "close", 0), "404, close, length 0");
    ok(same(101, "Switching Protocols", "upgrade", SIZE_MAX), "101, the largest length");
    ok(same(0, "", "", 1), "status 0, empty strings");
    ok(same(-17, "odd", "x", 10), "a negative status");
    ok(same(INT_MIN, "min", "x", 9), "INT_MIN");
    ok(same(INT_MAX, "max", "x", 1000000007), "INT_MAX");

    char buf[128], libc[128];
    int n = __sprintf_chk(buf, 1, sizeof buf, "HTTP/1.1 %d %s", 200, "OK");
    ok(n == 15 && strcmp(buf, "HTTP/1.1 200 OK") == 0, "a shorter format is glibc's");
    n = __sprintf_chk(buf, 1, sizeof buf, HEAD "X: %d\r\n", 200, "OK", date, "close", 5);
    snprintf(libc, sizeof libc, HEAD "X: %d\r\n", 200, "OK", date, "close", 5);
    ok(n == (int)strlen(libc) && strcmp(buf, libc) == 0, "a longer format is glibc's");
    n = __sprintf_chk(buf, 1, sizeof buf, "%s|%5.2f|%x", "a", 1.5, 255);
    ok(n == 10 && strcmp(buf, "a| 1.50|ff") == 0, "any other format is glibc's");
    const char *volatile nothing = NULL; /* (hidden from the format checker) */
    n = __sprintf_chk(buf, 1, sizeof buf, HEAD, 200, nothing, date, "close");
    snprintf(libc, sizeof libc, HEAD, 200, nothing, date, "close");
    ok(n == (int)strlen(libc) && strcmp(buf, libc) == 0, "a NULL string is glibc's to print");

    size_t need = strlen("HTTP/1.1 200 OK\r\nDate: \r\nConnection: keep-alive\r\n") + strlen(date) + 1;
    ok(!aborts_with(need), "a buffer of exactly the size needed is enough");
#ifdef __SANITIZE_ADDRESS__
    /* AddressSanitizer's own __vsprintf_chk checks real overflows only. */
    ok(!aborts_with(need - 1), "one byte less under ASan: its formatter writes (into a larger buffer)");
#else
    ok(aborts_with(need - 1), "one byte less: fortified glibc stops the program");
#endif
    return done_testing();
}
