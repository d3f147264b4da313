/* srv_epoll.c — skip libuv's re-registration of a socket epoll already
 * watches the same way.
 *
 * h2o's libuv binding stops reading while a request is handled and starts
 * again after the response.  libuv 1.44 forgets the descriptor's epoll
 * state on stop, so every restart costs two system calls: EPOLL_CTL_ADD,
 * which fails with EEXIST, then EPOLL_CTL_MOD with the same events as
 * before.  The MOD re-polls the socket and takes epoll's locks; perf put the
 * pair at 13 % of a worker's CPU per request.
 *
 * This file defines epoll_ctl(): being in the executable, it is the one
 * libuv's calls reach.  It passes every call on, and remembers per thread
 * the events each successful ADD or MOD set for a descriptor (forgotten on
 * DEL).  A MOD that is the thread's very next call after the kernel
 * answered EEXIST to an ADD of the same descriptor (libuv's re-arm), with
 * exactly the events and data remembered, is answered without a system
 * call: EEXIST proves the registration exists, and every registration was
 * made through here, so what is remembered is what the kernel holds (a
 * descriptor closed and reused gets a fresh ADD that succeeds and is
 * remembered anew).  For a level-triggered entry such a MOD changes
 * nothing.
 *
 * Only with the libuv this was checked against: from 1.45 libuv may batch
 * epoll_ctl through io_uring, which this could not see, so there every
 * call goes straight to the kernel.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <uv.h>

#include "server/srv.h"

typedef struct watched {
    bool known;      /* epfd watches the descriptor with events and data */
    int epfd;
    uint32_t events;
    uint64_t data;
} watched;

typedef struct shadow {
    watched *fd;     /* by descriptor */
    size_t n;
    int eexist_fd;   /* the previous call was an ADD of it that failed with EEXIST (-1: not) */
    int eexist_epfd;
    uint64_t skipped;
} shadow;

static pthread_key_t shadow_key;   /* frees a thread's record when it ends */
static pthread_once_t shadow_once = PTHREAD_ONCE_INIT;
static atomic_bool set_up;         /* shadow_setup() has run: `enabled` is known */
static bool enabled;
static _Thread_local shadow *mine; /* this thread's record (its key's value) */

/* Run by the ending thread itself, so `mine` is that thread's. */
static void shadow_free(void *p)
{
    shadow *s = p;
    free(s->fd);
    free(s);
    mine = NULL;
}

static void shadow_setup(void)
{
    enabled = uv_version() < ((1u << 16) | (45u << 8));
    pthread_key_create(&shadow_key, shadow_free);
    atomic_store(&set_up, true);
}

void srv_epoll_init(void)
{
    pthread_once(&shadow_once, shadow_setup);
}

/* This thread's record of fd; NULL when off or out of memory. */
static watched *lookup(int fd)
{
    if (!atomic_load_explicit(&set_up, memory_order_acquire))
        srv_epoll_init();
    if (!enabled || fd < 0)
        return NULL;
    shadow *s = mine;
    if (!s) {
        if (!(s = calloc(1, sizeof *s)))
            return NULL;
        s->eexist_fd = -1;
        pthread_setspecific(shadow_key, s);
        mine = s;
    }
    if ((size_t)fd >= s->n) {
        size_t n = s->n ? s->n : 64;
        while (n <= (size_t)fd)
            n *= 2;
        watched *grown = realloc(s->fd, n * sizeof *grown);
        if (!grown)
            return NULL;
        for (size_t i = s->n; i < n; i++)
            grown[i] = (watched){0};
        s->fd = grown;
        s->n = n;
    }
    return &s->fd[fd];
}

uint64_t srv_epoll_skipped(void)
{
    return mine ? mine->skipped : 0;
}

static bool level_triggered(uint32_t events)
{
    return !(events & (EPOLLET | EPOLLONESHOT | EPOLLEXCLUSIVE));
}

int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
    watched *w = lookup(fd);
    if (!w)
        return (int)syscall(SYS_epoll_ctl, epfd, op, fd, ev);
    bool after_eexist = mine->eexist_fd == fd && mine->eexist_epfd == epfd;
    mine->eexist_fd = -1;
    if (op == EPOLL_CTL_MOD && after_eexist && w->known && w->epfd == epfd && ev && w->events == ev->events &&
        w->data == ev->data.u64 && level_triggered(ev->events)) {
        mine->skipped++;
        return 0;
    }
    int r = (int)syscall(SYS_epoll_ctl, epfd, op, fd, ev);
    int saved = errno;
    if (r != 0 && op == EPOLL_CTL_ADD && saved == EEXIST) {
        mine->eexist_fd = fd;
        mine->eexist_epfd = epfd;
    }
    if (op == EPOLL_CTL_DEL) /* failed too: then nothing was registered */
        w->known = false;
    else if (r == 0 && ev)
        *w = (watched){.known = true, .epfd = epfd, .events = ev->events, .data = ev->data.u64};
    errno = saved;
    return r;
}
