/* srv_epoll.c — skip libuv's re-registration of a socket epoll already
 * watches the same way.
 *
 * h2o's libuv binding stops reading while a request is handled and starts
 * again after the response.  libuv 1.44 forgets the descriptor's epoll
 * state on stop but leaves the kernel's registration in place, so every
 * restart costs two system calls: EPOLL_CTL_ADD, which fails with EEXIST,
 * then EPOLL_CTL_MOD with the same events as before, which re-polls the
 * socket.  perf put the pair at 13 % of a worker's CPU per request.
 *
 * This file defines epoll_ctl() and close(): being in the executable, they
 * are the ones libuv's (and every library's) calls reach.  epoll_ctl()
 * passes every call on and remembers, per thread, what each successful ADD
 * or MOD registered (forgotten on DEL).  An ADD of a descriptor this thread
 * registered in the same epoll set with the same level-triggered events and
 * data is answered without a system call: the kernel still holds exactly
 * that registration, so the ADD and the MOD after it would change nothing.
 *
 * The kernel drops a registration by itself when the descriptor is closed,
 * and the number may come back for another socket.  close() therefore
 * counts closes per descriptor number (in a small table, so two numbers may
 * share a counter: that only costs a real ADD), and a registration made
 * before a close of its descriptor or of its epoll set is not trusted.
 * libuv itself DELs a descriptor before closing it; the counter covers code
 * that closes one without (a descriptor closed by a raw system call, which
 * nothing here does, is outside, as it is for libuv's own bookkeeping).
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

#define CLOSE_SLOTS 4096 /* counters of closes, by descriptor number modulo this */

typedef struct watched {
    bool known;      /* epfd watches the descriptor with events and data */
    int epfd;
    uint32_t events;
    uint64_t data;
    unsigned fd_closes, epfd_closes; /* the close counters when it was registered */
} watched;

typedef struct shadow {
    watched *fd;     /* by descriptor */
    size_t n;
    uint64_t skipped;
} shadow;

static atomic_uint closes[CLOSE_SLOTS];
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

static unsigned closes_of(int fd)
{
    return atomic_load_explicit(&closes[(unsigned)fd % CLOSE_SLOTS], memory_order_acquire);
}

/* Counted before the descriptor is released, so whoever gets its number
 * next sees the new count. */
int close(int fd)
{
    if (fd >= 0)
        atomic_fetch_add_explicit(&closes[(unsigned)fd % CLOSE_SLOTS], 1, memory_order_acq_rel);
    return (int)syscall(SYS_close, fd);
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

/* Whether the kernel holds exactly this registration of fd in epfd. */
static bool holds(const watched *w, int epfd, int fd, const struct epoll_event *ev)
{
    return w->known && w->epfd == epfd && w->events == ev->events && w->data == ev->data.u64 &&
           w->fd_closes == closes_of(fd) && w->epfd_closes == closes_of(epfd);
}

int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
    watched *w = lookup(fd);
    if (!w)
        return (int)syscall(SYS_epoll_ctl, epfd, op, fd, ev);
    if (op == EPOLL_CTL_ADD && ev && level_triggered(ev->events) && holds(w, epfd, fd, ev)) {
        mine->skipped++;
        return 0;
    }
    unsigned fd_closes = closes_of(fd), epfd_closes = closes_of(epfd);
    int r = (int)syscall(SYS_epoll_ctl, epfd, op, fd, ev);
    int saved = errno;
    if (op == EPOLL_CTL_DEL) /* failed too: then nothing was registered */
        w->known = false;
    else if (r == 0 && ev)
        *w = (watched){.known = true, .epfd = epfd, .events = ev->events, .data = ev->data.u64,
                       .fd_closes = fd_closes, .epfd_closes = epfd_closes};
    errno = saved;
    return r;
}
