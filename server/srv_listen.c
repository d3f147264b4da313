/* srv_listen.c — the listening sockets, made by the main thread before any
 * app code runs, so that a bad --host or a port in use fails start-up at
 * once with one message.
 *
 * Two ways to spread connections over the workers (`listener` setting):
 *
 *   reuseport (default)  one socket per worker in an SO_REUSEPORT group: the
 *                        kernel hashes each connection to a worker, so
 *                        workers get even shares whatever else runs.
 *   shared               one socket that every worker watches: whichever
 *                        worker runs first accepts (h2o's and nginx's
 *                        default).  Where a proxy or other processes share
 *                        the cores, the worker with a free core takes most
 *                        connections; long-lived connections opened in a
 *                        burst may all land on one worker.
 *
 * SO_REUSEPORT alone would let a second server of the same user join the
 * group and silently take half the traffic, so the port is first bound
 * without it: that fails if anything holds the port.
 *
 * The sockets are bound here but not listening: a worker calls listen()
 * when its app has loaded, so no connection waits on a worker that cannot
 * answer yet.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/srv.h"

/* A bound TCP socket for cfg's host and port, or -1 after a message. */
static int bound_socket(const srv_config *cfg, bool reuseport)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t len;
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, cfg->host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)cfg->port);
        len = sizeof *a4;
    } else if (inet_pton(AF_INET6, cfg->host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)cfg->port);
        len = sizeof *a6;
    } else {
        fprintf(stderr, "quest serve: --host must be an IP address, got '%s'\n", cfg->host);
        return -1;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), on = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
        (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0) ||
        bind(fd, (struct sockaddr *)&ss, len) != 0) {
        fprintf(stderr, "quest serve: cannot listen on %s:%d: %s\n", cfg->host, cfg->port, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static void close_all(int *fds, int n)
{
    for (int i = 0; i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

bool srv_listen_open(const srv_config *cfg, int *fds, int n)
{
    for (int i = 0; i < n; i++)
        fds[i] = -1;
    int first = bound_socket(cfg, false);
    if (first < 0)
        return false;
    if (cfg->listener_shared) {
        fds[0] = first;
        for (int i = 1; i < n; i++)
            if ((fds[i] = fcntl(first, F_DUPFD_CLOEXEC, 0)) < 0) {
                fprintf(stderr, "quest serve: cannot share the listening socket: %s\n", strerror(errno));
                close_all(fds, n);
                return false;
            }
        return true;
    }
    close(first); /* the port was free: now the group, at once */
    for (int i = 0; i < n; i++)
        if ((fds[i] = bound_socket(cfg, true)) < 0) {
            close_all(fds, n);
            return false;
        }
    return true;
}
