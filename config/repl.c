/* repl.c — the interactive prompt: read lines with libedit until they form
 * a complete program, run it in one long-lived VM, print its value. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <editline/readline.h>

#include "config/cli.h"
#include "vm/compile.h"

/* Show the value of an expression, as the reference does, unless nil. */
static void show_result(qvm *vm, qval r)
{
    if (IS_EXC(r)) {
        vm_report_exc(vm, stderr);
        return;
    }
    if (IS_NIL(r))
        return;
    qstr *s = vm_to_rep(vm, r);
    if (s)
        printf("%s\n", s->data);
    else
        vm_report_exc(vm, stderr);
}

/* Read one complete entry (possibly several lines); NULL at end of input.
 * The prompt says `async>` while tasks started at the prompt are pending
 * (an entry's top-level `await` runs the event loop until its task ends). */
static char *read_entry(qvm *vm)
{
    qbuf b;
    buf_init(&b);
    const char *prompt = vm_has_pending_tasks(vm) ? "async> " : "quest> ";
    for (;;) {
        char *line = readline(prompt);
        if (!line) {
            if (b.len == 0) {
                buf_free(&b);
                return NULL;
            }
            break;
        }
        buf_puts(&b, line);
        buf_putc(&b, '\n');
        free(line);
        if (!compile_is_incomplete(b.data, b.len))
            break;
        prompt = "   ... ";
    }
    return b.data;
}

int quest_repl_main(const quest_cli *cli)
{
    qvm_options opts;
    quest_vm_options(cli, &opts);
    qvm *vm = vm_new(&opts);
    if (!vm) {
        fputs("quest: cannot create the VM (out of memory)\n", stderr);
        return 1;
    }
    printf("Quest %s — Ctrl-D to exit\n", QUEST_VERSION);
    char *entry;
    while ((entry = read_entry(vm))) {
        if (strspn(entry, " \t\r\n") != strlen(entry)) {
            add_history(entry);
            show_result(vm, vm_run_string(vm, "<repl>", entry));
        }
        free(entry);
    }
    putchar('\n');
    vm_free(vm);
    return 0;
}
