/* stack.c — the value/frame/handler stacks of a task. */
#include <stdlib.h>

#include "vm_internal.h"

qstack *stack_new(qvm *vm)
{
    (void)vm;
    qstack *s = calloc(1, sizeof(qstack));
    if (!s)
        abort();
    return s;
}

void stack_free(qvm *vm, qstack *s)
{
    (void)vm;
    if (!s)
        return;
    free(s->values);
    free(s->frames);
    free(s->handlers);
    free(s);
}

/* Make room for n more values.  The array may move: open upvalues point
 * into it and are re-aimed here; the interpreter reloads its pointers. */
void stack_reserve(qstack *s, size_t n)
{
    if (s->sp + n <= s->cap)
        return;
    /* Task stacks start small: a pending task should cost well under 1 KiB. */
    size_t ncap = s->cap ? s->cap : 16;
    while (ncap < s->sp + n)
        ncap *= 2;
    qval *v = realloc(s->values, ncap * sizeof(qval));
    if (!v)
        abort();
    s->values = v;
    s->cap = ncap;
    for (qupval *u = s->open_upvals; u; u = u->next_open)
        u->slot = &s->values[u->stack_index];
}

qframe *stack_push_frame(qstack *s)
{
    if (s->nframes == s->capframes) {
        s->capframes = s->capframes ? s->capframes * 2 : 2;
        s->frames = realloc(s->frames, s->capframes * sizeof(qframe));
        if (!s->frames)
            abort();
    }
    return &s->frames[s->nframes++];
}

qhandler *stack_push_handler(qstack *s)
{
    if (s->nhandlers == s->caphandlers) {
        s->caphandlers = s->caphandlers ? s->caphandlers * 2 : 2;
        s->handlers = realloc(s->handlers, s->caphandlers * sizeof(qhandler));
        if (!s->handlers)
            abort();
    }
    return &s->handlers[s->nhandlers++];
}
