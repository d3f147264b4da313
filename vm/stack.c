/* stack.c — the value/frame/handler stacks of a task. */
#include <stdlib.h>
#include <string.h>

#include "vm_internal.h"

qstack *stack_new(qvm *vm)
{
    (void)vm;
    qstack *s = calloc(1, sizeof(qstack));
    if (!s)
        abort();
    return s;
}

/* The arrays of a small stack (a pending task's few values and one frame)
 * come from the VM's size classes; larger ones, and all that grow, from
 * malloc. */
static void *arr_alloc(qvm *vm, size_t size, uint16_t *off)
{
    *off = 0;
    void *p = size <= SLAB_MAX ? slab_alloc(vm, (unsigned)((size + SLAB_GRAIN - 1) / SLAB_GRAIN), off) : NULL;
    if (!p && !(p = malloc(size)))
        abort();
    return p;
}

static void arr_free(void *p, uint16_t off)
{
    if (off)
        slab_release(p, off);
    else
        free(p);
}

static void *arr_resize(void *p, uint16_t *off, size_t old_size, size_t new_size)
{
    void *q = *off ? malloc(new_size) : realloc(p, new_size);
    if (!q)
        abort();
    if (*off) {
        memcpy(q, p, old_size < new_size ? old_size : new_size);
        slab_release(p, *off);
        *off = 0;
    }
    return q;
}

void stack_alloc(qvm *vm, qstack *s, size_t nvalues, uint32_t nframes)
{
    s->values = arr_alloc(vm, nvalues * sizeof(qval), &s->values_off);
    s->frames = arr_alloc(vm, nframes * sizeof(qframe), &s->frames_off);
    s->cap = nvalues;
    s->capframes = nframes;
}

void stack_clear(qstack *s)
{
    arr_free(s->values, s->values_off);
    arr_free(s->frames, s->frames_off);
    free(s->handlers);
    free(s->selves);
    memset(s, 0, sizeof *s);
}

void stack_free(qvm *vm, qstack *s)
{
    (void)vm;
    if (!s)
        return;
    stack_clear(s);
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
    s->values = arr_resize(s->values, &s->values_off, s->cap * sizeof(qval), ncap * sizeof(qval));
    s->cap = ncap;
    for (qupval *u = s->open_upvals; u; u = u->next_open)
        u->slot = &s->values[u->stack_index];
}

void stack_reserve_frames(qstack *s, uint32_t n)
{
    if (n <= s->capframes)
        return;
    s->frames = arr_resize(s->frames, &s->frames_off, s->capframes * sizeof(qframe), n * sizeof(qframe));
    s->capframes = n;
}

qframe *stack_push_frame(qstack *s)
{
    if (s->nframes == s->capframes)
        stack_reserve_frames(s, s->capframes ? s->capframes * 2 : 2);
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
