/* epoll_test.c — the epoll_ctl() hook (server/srv_epoll.c): a MOD that
 * repeats what the kernel holds is answered without a system call, and only
 * then; every registration still behaves as epoll's own. */
#include <errno.h>
#include <sys/epoll.h>
#include <sys/socket.h>
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

int main(void)
{
    srv_epoll_init();
    int ep = epoll_create1(EPOLL_CLOEXEC), sv[2];
    ok(ep >= 0 && socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0, "an epoll set and a socket pair");
    int fd = sv[0];

    ok(rearm(ep, fd, EPOLLIN) == 0 && srv_epoll_skipped() == 0, "a first ADD goes to the kernel");
    ok(ready(ep, fd) == 0, "nothing to read yet");
    ok(rearm(ep, fd, EPOLLIN) == 0 && srv_epoll_skipped() == 1, "re-arming with the same events: the MOD is skipped");
    ok(write(sv[1], "x", 1) == 1 && ready(ep, fd) == EPOLLIN, "data still wakes the registration");

    ok(rearm(ep, fd, EPOLLIN | EPOLLOUT) == 0 && srv_epoll_skipped() == 1, "other events: the MOD goes through");
    ok(ready(ep, fd) == (EPOLLIN | EPOLLOUT), "and the kernel reports them");

    struct epoll_event plain = {.events = EPOLLIN, .data.fd = fd};
    ok(epoll_ctl(ep, EPOLL_CTL_MOD, fd, &plain) == 0 && srv_epoll_skipped() == 1,
       "a MOD without a failed ADD before it goes through");
    ok(ready(ep, fd) == EPOLLIN, "(back to reading only)");

    struct epoll_event again_in = {.events = EPOLLIN, .data.fd = fd};
    errno = 0;
    ok(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &again_in) == -1 && errno == EEXIST &&
           epoll_ctl(ep, EPOLL_CTL_MOD, sv[1], &again_in) == -1 &&
           epoll_ctl(ep, EPOLL_CTL_MOD, fd, &again_in) == 0 && srv_epoll_skipped() == 1,
       "a call in between: the MOD goes through");

    struct epoll_event other = {.events = EPOLLIN, .data.u64 = 12345};
    errno = 0;
    ok(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &other) == -1 && errno == EEXIST, "ADD of a watched descriptor: EEXIST");
    ok(epoll_ctl(ep, EPOLL_CTL_MOD, fd, &other) == 0 && srv_epoll_skipped() == 1,
       "other data after EEXIST: the MOD goes through");
    ok(rearm(ep, fd, EPOLLIN) == 0 && srv_epoll_skipped() == 1 && ready(ep, fd) == EPOLLIN,
       "and the next re-arm restores the data");

    ok(epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL) == 0 && ready(ep, fd) == 0, "DEL forgets it");
    ok(rearm(ep, fd, EPOLLIN) == 0 && srv_epoll_skipped() == 1 && ready(ep, fd) == EPOLLIN,
       "after DEL the ADD is a real one");

    /* Closed without DEL: the kernel drops the registration itself; the
     * number comes back for a new socket, whose ADD succeeds. */
    close(fd);
    int again[2];
    ok(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, again) == 0 && again[0] == fd,
       "a new socket gets the closed descriptor's number");
    ok(rearm(ep, fd, EPOLLIN) == 0 && srv_epoll_skipped() == 1, "its ADD goes to the kernel and succeeds");
    ok(ready(ep, fd) == 0 && write(again[1], "y", 1) == 1 && ready(ep, fd) == EPOLLIN, "and it is watched");

    struct epoll_event et = {.events = EPOLLIN | EPOLLET, .data.fd = fd};
    ok(epoll_ctl(ep, EPOLL_CTL_MOD, fd, &et) == 0, "edge-triggered");
    errno = 0;
    ok(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &et) == -1 && errno == EEXIST &&
           epoll_ctl(ep, EPOLL_CTL_MOD, fd, &et) == 0 && srv_epoll_skipped() == 1,
       "an edge-triggered re-arm always reaches the kernel (it re-arms)");

    close(sv[1]);
    close(again[0]);
    close(again[1]);
    close(ep);
    return done_testing();
}
