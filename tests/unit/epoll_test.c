/* epoll_test.c — the epoll_ctl() hook (server/srv_epoll.c): an ADD that
 * repeats what the kernel holds is answered without a system call, and only
 * then; every registration still behaves as epoll's own, also after its
 * descriptor or its epoll set was closed and the number reused. */
#include <errno.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "server/srv.h"
#include "tap.h"

/* The events epoll reports for fd within 0 ms (0: none). */
static uint32_t ready(int ep, int fd)
{
    struct epoll_event got[4];
    int n = epoll_wait(ep, got, 4, 0);
    for (int i = 0; i < n; i++)
        if (got[i].data.fd == fd)
            return got[i].events;
    return 0;
}

/* libuv's re-arm: ADD, and after EEXIST a MOD with the same arguments. */
static int rearm(int ep, int fd, uint32_t events)
{
    struct epoll_event e = {.events = events, .data.fd = fd};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) == 0)
        return 0;
    if (errno != EEXIST)
        return -1;
    return epoll_ctl(ep, EPOLL_CTL_MOD, fd, &e);
}

/* The same re-arm straight to the kernel: whether it finds fd registered. */
static bool kernel_has(int ep, int fd)
{
    struct epoll_event e = {.events = EPOLLIN, .data.fd = fd};
    if (syscall(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, fd, &e) == 0) {
        syscall(SYS_epoll_ctl, ep, EPOLL_CTL_DEL, fd, &e);
        return false;
    }
    return errno == EEXIST;
}

int main(void)
{
    srv_epoll_init();
    int ep = epoll_create1(EPOLL_CLOEXEC), sv[2];
    ok(ep >= 0 && socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0, "an epoll set and a socket pair");
    int fd = sv[0];

    ok(rearm(ep, fd, EPOLLIN) == 0 && srv_epoll_skipped() == 0, "a first ADD goes to the kernel");
    ok(ready(ep, fd) == 0 && kernel_has(ep, fd), "registered, nothing to read yet");
    ok(rearm(ep, fd, EPOLLIN) == 0 && srv_epoll_skipped() == 1, "re-adding with the same events is skipped");
    ok(write(sv[1], "x", 1) == 1 && ready(ep, fd) == EPOLLIN, "data still wakes the registration");

    ok(rearm(ep, fd, EPOLLIN | EPOLLOUT) == 0 && srv_epoll_skipped() == 1, "other events: ADD and MOD go through");
    ok(ready(ep, fd) == (EPOLLIN | EPOLLOUT), "and the kernel reports them");
    ok(rearm(ep, fd, EPOLLIN | EPOLLOUT) == 0 && srv_epoll_skipped() == 2, "the MOD was remembered");

    struct epoll_event plain = {.events = EPOLLIN, .data.fd = fd};
    ok(epoll_ctl(ep, EPOLL_CTL_MOD, fd, &plain) == 0 && srv_epoll_skipped() == 2, "a MOD always goes through");
    ok(ready(ep, fd) == EPOLLIN, "(back to reading only)");

    struct epoll_event other = {.events = EPOLLIN, .data.u64 = 12345};
    errno = 0;
    ok(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &other) == -1 && errno == EEXIST && srv_epoll_skipped() == 2,
       "an ADD with other data reaches the kernel: EEXIST");
    ok(epoll_ctl(ep, EPOLL_CTL_MOD, fd, &other) == 0 && rearm(ep, fd, EPOLLIN) == 0 && srv_epoll_skipped() == 2 &&
           ready(ep, fd) == EPOLLIN,
       "and the re-arms that change the data go through");

    ok(epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL) == 0 && ready(ep, fd) == 0, "DEL forgets it");
    ok(rearm(ep, fd, EPOLLIN) == 0 && srv_epoll_skipped() == 2 && ready(ep, fd) == EPOLLIN,
       "after DEL the ADD is a real one");

    /* Closed without DEL: the kernel drops the registration itself; the
     * number comes back for a new socket, whose ADD must reach the kernel. */
    close(fd);
    int again[2];
    ok(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, again) == 0 && again[0] == fd,
       "a new socket gets the closed descriptor's number");
    ok(!kernel_has(ep, fd), "the kernel forgot the old registration");
    ok(rearm(ep, fd, EPOLLIN) == 0 && srv_epoll_skipped() == 2, "the new socket's ADD goes to the kernel");
    ok(ready(ep, fd) == 0 && write(again[1], "y", 1) == 1 && ready(ep, fd) == EPOLLIN, "and it is watched");

    /* The epoll set closed and its number reused: nothing is registered. */
    close(ep);
    int ep2 = epoll_create1(EPOLL_CLOEXEC);
    ok(ep2 == ep, "a new epoll set gets the closed one's number");
    ok(rearm(ep2, fd, EPOLLIN) == 0 && srv_epoll_skipped() == 2 && kernel_has(ep2, fd),
       "the ADD into it goes to the kernel");
    ok(ready(ep2, fd) == EPOLLIN, "and it is watched");

    struct epoll_event et = {.events = EPOLLIN | EPOLLET, .data.fd = fd};
    ok(epoll_ctl(ep2, EPOLL_CTL_MOD, fd, &et) == 0, "edge-triggered");
    errno = 0;
    ok(epoll_ctl(ep2, EPOLL_CTL_ADD, fd, &et) == -1 && errno == EEXIST && srv_epoll_skipped() == 2,
       "an edge-triggered ADD always reaches the kernel (a re-arm re-arms)");

    close(sv[1]);
    close(again[0]);
    close(again[1]);
    close(ep2);
    return done_testing();
}
