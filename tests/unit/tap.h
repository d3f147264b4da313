/* tap.h — a tiny Test Anything Protocol producer for the C unit tests.
 *
 *     #include "tap.h"
 *     int main(void) {
 *         plan(2);                          (optional: done_testing() counts)
 *         ok(1 + 1 == 2, "addition");
 *         is_str(name, "quest", "the name");
 *         return done_testing();
 *     }
 *
 * Each test is one executable; meson runs it with protocol 'tap' and reads
 * stdout.  State is per process, so the usual rule against globals does not
 * apply here.
 */
#ifndef QUEST_TAP_H
#define QUEST_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static int tap_planned = -1;
static int tap_run;
static int tap_failed;

static inline void plan(int n)
{
    tap_planned = n;
    printf("1..%d\n", n);
}

static inline void tap_diag(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static inline void tap_diag(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("# ", stdout);
    vprintf(fmt, ap);
    fputs("\n", stdout);
    va_end(ap);
}

static inline bool tap_ok(bool pass, const char *file, int line, const char *name)
{
    tap_run++;
    if (!pass)
        tap_failed++;
    printf("%s %d - %s\n", pass ? "ok" : "not ok", tap_run, name);
    if (!pass)
        tap_diag("  failed at %s:%d", file, line);
    fflush(stdout);
    return pass;
}

static inline bool tap_is_int(long long got, long long want, const char *file,
                              int line, const char *name)
{
    bool pass = tap_ok(got == want, file, line, name);
    if (!pass)
        tap_diag("       got: %lld\n#   expected: %lld", got, want);
    return pass;
}

static inline bool tap_is_str(const char *got, const char *want, const char *file,
                              int line, const char *name)
{
    bool same = (got && want) ? strcmp(got, want) == 0 : got == want;
    bool pass = tap_ok(same, file, line, name);
    if (!pass)
        tap_diag("       got: %s%s%s\n#   expected: %s%s%s",
                 got ? "\"" : "", got ? got : "NULL", got ? "\"" : "",
                 want ? "\"" : "", want ? want : "NULL", want ? "\"" : "");
    return pass;
}

#define ok(cond, name) tap_ok((cond), __FILE__, __LINE__, (name))
#define is_int(got, want, name) \
    tap_is_int((long long)(got), (long long)(want), __FILE__, __LINE__, (name))
#define is_str(got, want, name) tap_is_str((got), (want), __FILE__, __LINE__, (name))

/* Print the plan if there was none; the exit status for main(). */
static inline int done_testing(void)
{
    if (tap_planned < 0)
        printf("1..%d\n", tap_run);
    else if (tap_planned != tap_run)
        tap_diag("planned %d tests but ran %d", tap_planned, tap_run);
    fflush(stdout);
    return tap_failed || (tap_planned >= 0 && tap_planned != tap_run);
}

#endif
