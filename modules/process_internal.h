/* process_internal.h — std/process's two halves: children and their pipes
 * (process_spawn.c, plain C) and the Quest objects (process.c).
 *
 * A child is shared by the Process object and its three stream objects, so
 * it is reference counted: whichever is collected last closes the pipes and
 * reaps the child (killing it first if it still runs).
 */
#ifndef QUEST_PROCESS_INTERNAL_H
#define QUEST_PROCESS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vm/vm.h"

/* What to connect a child's stdin, stdout or stderr to. */
#define PROC_INHERIT (-1) /* the same as ours */
#define PROC_PIPE (-2)    /* a new pipe, our end kept in the proc_child */

/* Output kept unread per stream before we stop draining it. */
#define PROC_BUF_CAP (64u << 20)

typedef struct proc_pipe {
    int fd;     /* our (non-blocking) read end, -1 once at end of file */
    qbuf buf;   /* read but not yet consumed */
    bool eof;
} proc_pipe;

typedef struct proc_child {
    int refs;
    pid_t pid;
    int pidfd;          /* readable when the child exits; -1 if unsupported */
    bool reaped;
    int code;           /* exit status, or -signal when killed by one */
    int in_fd;          /* our (non-blocking) end of its stdin, or -1 */
    proc_pipe out[2];   /* its stdout and stderr */
} proc_child;

typedef struct proc_spec {
    char **argv;        /* NULL-terminated, argv[0] looked up in PATH */
    char **envp;        /* NULL: ours */
    const char *cwd;    /* NULL: ours */
    int in, out, err;   /* PROC_INHERIT, PROC_PIPE or a descriptor to use */
} proc_spec;

/* Start a child.  0, or an errno value (ENOENT: no such program). */
int proc_start(const proc_spec *spec, proc_child **out);
/* Drop one reference (see above). */
void proc_release(proc_child *c);
void proc_close_stdin(proc_child *c);
/* Reap the child if it has exited; true once it has. */
bool proc_check_exit(proc_child *c);
int64_t proc_now_ms(void);

/* What proc_pump waits for while it moves data both ways. */
typedef enum {
    PUMP_WRITTEN,   /* *wlen bytes written to stdin (or stdin closed) */
    PUMP_SOME,      /* some output buffered on stream `which`, or its end */
    PUMP_LINE,      /* a whole line buffered on `which`, or its end */
    PUMP_EOF,       /* the end of stream `which` */
    PUMP_OUTPUTS,   /* the end of both streams */
    PUMP_EXIT,      /* the child's exit */
} proc_goal;

/* Write pending stdin data and drain stdout and stderr into their buffers
 * until the goal is met (1), the deadline passes (0; deadline_ms < 0 means
 * none) or the system fails (-1, errno set).  Draining both outputs while
 * waiting for one keeps a child from blocking on a full pipe. */
int proc_pump(proc_child *c, proc_goal goal, int which, const char **wdata, size_t *wlen,
              int64_t deadline_ms);

#endif
