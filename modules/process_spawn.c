/* process_spawn.c — std/process's plumbing: starting children with
 * posix_spawn, and moving data through their pipes with poll so that no
 * call blocks past its deadline and no child stalls on a full pipe.
 *
 * Our ends of the pipes are non-blocking and close-on-exec.  Writes to a
 * child that has closed its stdin would raise SIGPIPE and kill us; the pump
 * blocks that signal in the calling thread while it works and discards one
 * left pending, so the write just fails with EPIPE.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "modules/process_internal.h"

extern char **environ;

#define PROC_CHUNK 65536

int64_t proc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- starting ------------------------------------------------------------------------------------ */

static const char *proc_env_path(char **envp)
{
    if (!envp)
        return getenv("PATH");
    for (char **e = envp; *e; e++)
        if (strncmp(*e, "PATH=", 5) == 0)
            return *e + 5;
    return NULL;
}

/* The program to run: name itself when it has a '/', else the first
 * executable file of that name on the child's PATH. */
static int proc_find(const char *name, char **envp, char *out, size_t cap)
{
    if (strchr(name, '/')) {
        if (strlen(name) >= cap)
            return ENAMETOOLONG;
        strcpy(out, name);
        return 0;
    }
    if (*name == '\0')
        return ENOENT;
    const char *path = proc_env_path(envp);
    if (!path)
        path = "/usr/local/bin:/usr/bin:/bin";
    int err = ENOENT;
    while (path) {
        const char *colon = strchr(path, ':');
        int dlen = (int)(colon ? colon - path : (ptrdiff_t)strlen(path));
        snprintf(out, cap, "%.*s/%s", dlen, dlen ? path : ".", name);
        struct stat st;
        if (stat(out, &st) == 0 && S_ISREG(st.st_mode)) {
            if (access(out, X_OK) == 0)
                return 0;
            err = EACCES;
        }
        path = colon ? colon + 1 : NULL;
    }
    return err;
}

static void proc_close(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

static void proc_nonblock(int fd)
{
    if (fd >= 0)
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* posix_spawn with the child's fds, directory, signal defaults (SIGPIPE
 * back to default: we may be ignoring it) and an empty signal mask. */
static int proc_spawn(const proc_spec *spec, const char *path, const int child_fd[3], pid_t *pid)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t def, none;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    sigemptyset(&def);
    sigaddset(&def, SIGPIPE);
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(&attr, &def);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    for (int i = 0; i < 3; i++)
        if (child_fd[i] >= 0)
            posix_spawn_file_actions_adddup2(&fa, child_fd[i], i);
    if (spec->cwd)
        posix_spawn_file_actions_addchdir_np(&fa, spec->cwd);
    int err = posix_spawn(pid, path, &fa, &attr, spec->argv, spec->envp ? spec->envp : environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    return err;
}

int proc_start(const proc_spec *spec, proc_child **out)
{
    char path[PATH_MAX];
    int err = proc_find(spec->argv[0], spec->envp, path, sizeof path);
    if (err)
        return err;
    int want[3] = {spec->in, spec->out, spec->err};
    int pipes[3][2] = {{-1, -1}, {-1, -1}, {-1, -1}};
    for (int i = 0; i < 3; i++) {
        if (want[i] == PROC_PIPE && pipe2(pipes[i], O_CLOEXEC) != 0) {
            err = errno;
            for (int j = 0; j < i; j++)
                proc_close(&pipes[j][0]), proc_close(&pipes[j][1]);
            return err;
        }
    }
    int child_fd[3];
    for (int i = 0; i < 3; i++)
        child_fd[i] = want[i] == PROC_PIPE ? pipes[i][i == 0 ? 0 : 1] : want[i];
    pid_t pid;
    err = proc_spawn(spec, path, child_fd, &pid);
    proc_close(&pipes[0][0]);
    proc_close(&pipes[1][1]);
    proc_close(&pipes[2][1]);
    proc_child *c = err ? NULL : calloc(1, sizeof *c);
    if (!c) {
        proc_close(&pipes[0][1]);
        proc_close(&pipes[1][0]);
        proc_close(&pipes[2][0]);
        if (!err) { /* started, but we cannot keep track of it */
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            err = ENOMEM;
        }
        return err;
    }
    c->refs = 1;
    c->pid = pid;
    c->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    c->in_fd = pipes[0][1];
    for (int k = 0; k < 2; k++) {
        c->out[k].fd = pipes[k + 1][0];
        c->out[k].eof = c->out[k].fd < 0;
        buf_init(&c->out[k].buf);
    }
    proc_nonblock(c->in_fd);
    proc_nonblock(c->out[0].fd);
    proc_nonblock(c->out[1].fd);
    *out = c;
    return 0;
}

/* ---- life and death ------------------------------------------------------------------------------ */

bool proc_check_exit(proc_child *c)
{
    if (c->reaped)
        return true;
    int status;
    pid_t r = waitpid(c->pid, &status, WNOHANG);
    if (r == c->pid) {
        c->reaped = true;
        c->code = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? -WTERMSIG(status) : -1;
    } else if (r < 0 && errno == ECHILD) { /* reaped elsewhere (SIGCHLD ignored) */
        c->reaped = true;
        c->code = -1;
    }
    if (c->reaped)
        proc_close(&c->pidfd);
    return c->reaped;
}

void proc_close_stdin(proc_child *c)
{
    proc_close(&c->in_fd);
}

void proc_release(proc_child *c)
{
    if (--c->refs > 0)
        return;
    proc_close(&c->in_fd);
    for (int k = 0; k < 2; k++) {
        proc_close(&c->out[k].fd);
        buf_free(&c->out[k].buf);
    }
    if (!proc_check_exit(c)) {
        /* Nobody can talk to it or wait for it any more. */
        kill(c->pid, SIGKILL);
        while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    proc_close(&c->pidfd);
    free(c);
}

/* ---- moving data ------------------------------------------------------------------------------------ */

static bool proc_goal_met(proc_child *c, proc_goal goal, int which, const size_t *wlen)
{
    const proc_pipe *p = &c->out[which];
    switch (goal) {
    case PUMP_WRITTEN: return c->in_fd < 0 || *wlen == 0;
    case PUMP_SOME: return p->buf.len > 0 || p->eof;
    case PUMP_LINE: return p->eof || (p->buf.len && memchr(p->buf.data, '\n', p->buf.len));
    case PUMP_EOF: return p->eof;
    case PUMP_OUTPUTS: return c->out[0].eof && c->out[1].eof;
    default: return proc_check_exit(c);
    }
}

static void proc_read_into(proc_pipe *p)
{
    char chunk[PROC_CHUNK];
    ssize_t n = read(p->fd, chunk, sizeof chunk);
    if (n > 0) {
        buf_append(&p->buf, chunk, (size_t)n);
    } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        proc_close(&p->fd);
        p->eof = true;
    }
}

/* Returns true when the child refused the data (EPIPE). */
static bool proc_write_some(proc_child *c, const char **wdata, size_t *wlen)
{
    size_t n = *wlen < PROC_CHUNK ? *wlen : PROC_CHUNK;
    ssize_t w = write(c->in_fd, *wdata, n);
    if (w > 0) {
        *wdata += w;
        *wlen -= (size_t)w;
    } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
        proc_close(&c->in_fd); /* it stopped reading: the rest is dropped */
        *wlen = 0;
        return true;
    }
    return false;
}

/* poll()'s timeout: what is left until the deadline, shortened to a tick
 * when the child's exit can only be noticed by asking (no pidfd). */
static int proc_poll_timeout(const proc_child *c, proc_goal goal, int64_t deadline_ms)
{
    int64_t t = -1;
    if (deadline_ms >= 0) {
        t = deadline_ms - proc_now_ms();
        if (t < 0)
            t = 0;
    }
    if (goal == PUMP_EXIT && c->pidfd < 0 && (t < 0 || t > 10))
        t = 10;
    return t > INT_MAX ? INT_MAX : (int)t;
}

int proc_pump(proc_child *c, proc_goal goal, int which, const char **wdata, size_t *wlen, int64_t deadline_ms)
{
    size_t none = 0;
    if (!wlen)
        wlen = &none;
    sigset_t pipe_sig, old;
    sigemptyset(&pipe_sig);
    sigaddset(&pipe_sig, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_sig, &old);
    bool refused = false;
    int result;
    for (;;) {
        if (proc_goal_met(c, goal, which, wlen)) {
            result = 1;
            break;
        }
        struct pollfd fds[4];
        int n = 0, in_at = -1, out_at[2] = {-1, -1};
        if (*wlen > 0 && c->in_fd >= 0) {
            fds[n] = (struct pollfd){c->in_fd, POLLOUT, 0};
            in_at = n++;
        }
        for (int k = 0; k < 2; k++) {
            proc_pipe *p = &c->out[k];
            bool wanted = k == which && goal >= PUMP_SOME && goal <= PUMP_EOF;
            if (!p->eof && (p->buf.len < PROC_BUF_CAP || wanted || goal == PUMP_OUTPUTS)) {
                fds[n] = (struct pollfd){p->fd, POLLIN, 0};
                out_at[k] = n++;
            }
        }
        if (goal == PUMP_EXIT && c->pidfd >= 0)
            fds[n++] = (struct pollfd){c->pidfd, POLLIN, 0};
        if (n == 0 && goal != PUMP_EXIT) { /* nothing left that could change */
            result = 1;
            break;
        }
        if (deadline_ms >= 0 && proc_now_ms() >= deadline_ms) {
            result = 0;
            break;
        }
        int rc = poll(fds, (nfds_t)n, proc_poll_timeout(c, goal, deadline_ms));
        if (rc < 0 && errno != EINTR) {
            result = -1;
            break;
        }
        if (rc <= 0)
            continue;
        if (in_at >= 0 && fds[in_at].revents)
            refused |= proc_write_some(c, wdata, wlen);
        for (int k = 0; k < 2; k++)
            if (out_at[k] >= 0 && fds[out_at[k]].revents)
                proc_read_into(&c->out[k]);
    }
    if (refused) {
        const struct timespec zero = {0, 0};
        sigtimedwait(&pipe_sig, NULL, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return result;
}
