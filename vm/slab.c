/* slab.c — small objects in per-VM size classes.
 *
 * Most objects are small and many are short-lived (a task that finishes at
 * once, a request's dicts).  Carving them out of 64 KiB slabs, one size
 * class per slab, with freed slots kept on their slab's free list, makes
 * allocating and freeing a few instructions with no malloc header, and
 * keeps objects allocated together close together.  A slab whose objects
 * have all been freed goes back to the C library unless it is its class's
 * last one with room, so memory moves between classes over a long run.
 *
 * Sanitizer builds give every object its own malloc instead: ASan's
 * quarantine is what turns a missing GC root into a reported
 * use-after-free, and slots reused at once would hide it.
 */
#include <stdint.h>
#include <stdlib.h>

#include "vm_internal.h"

#ifdef QUEST_SLAB_DISABLED

void *slab_alloc(qvm *vm, unsigned cls, uint16_t *off)
{
    (void)vm, (void)cls, (void)off;
    return NULL;
}

void slab_free(qvm *vm, void *p, uint16_t off)
{
    (void)vm, (void)off;
    free(p);
}

void slab_release(void *p, uint16_t off)
{
    (void)off;
    free(p);
}

void slab_destroy(qvm *vm)
{
    (void)vm;
}

#else

/* An object finds its slab from its offset (qobj.slab_off, 16 bits of
 * grains), so slabs need no alignment and come from plain malloc. */
#define SLAB_SIZE ((size_t)64 << 10)
_Static_assert(SLAB_SIZE / SLAB_GRAIN <= 65536, "slab offsets must fit in 16 bits");

typedef struct qslab {
    struct qslabs *owner;
    struct qslab *prev, *next; /* in its class's list of slabs with room, or of full ones */
    void *free;                /* freed slots, linked through their first word */
    char *bump, *end;          /* slots never used yet */
    uint32_t nlive;
    uint8_t cls;
    bool full;
} qslab;

/* Slots start after the header, on a SLAB_GRAIN boundary. */
#define SLAB_FIRST (((sizeof(qslab) + SLAB_GRAIN - 1) / SLAB_GRAIN) * SLAB_GRAIN)

struct qslabs {
    qslab *room[SLAB_CLASSES + 1]; /* by class: slabs with a free slot */
    qslab *full[SLAB_CLASSES + 1];
};

static void unlink_slab(qslab **head, qslab *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        *head = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->prev = s->next = NULL;
}

static void push_slab(qslab **head, qslab *s)
{
    s->prev = NULL;
    s->next = *head;
    if (*head)
        (*head)->prev = s;
    *head = s;
}

static qslab *slab_new(struct qslabs *h, unsigned cls)
{
    qslab *s = malloc(SLAB_SIZE);
    if (!s) {
        fputs("quest: out of memory\n", stderr);
        abort();
    }
    s->owner = h;
    s->free = NULL;
    s->bump = (char *)s + SLAB_FIRST;
    s->end = (char *)s + SLAB_SIZE;
    s->nlive = 0;
    s->cls = (uint8_t)cls;
    s->full = false;
    push_slab(&h->room[cls], s);
    return s;
}

void *slab_alloc(qvm *vm, unsigned cls, uint16_t *off)
{
    struct qslabs *h = vm->slabs;
    if (!h) {
        h = vm->slabs = calloc(1, sizeof *h);
        if (!h)
            abort();
    }
    qslab *s = h->room[cls];
    if (!s)
        s = slab_new(h, cls);
    size_t size = (size_t)cls * SLAB_GRAIN;
    void *p = s->free;
    if (p) {
        s->free = *(void **)p;
    } else {
        p = s->bump;
        s->bump += size;
    }
    s->nlive++;
    if (!s->free && s->bump + size > s->end) {
        unlink_slab(&h->room[cls], s);
        push_slab(&h->full[cls], s);
        s->full = true;
    }
    *off = (uint16_t)(((char *)p - (char *)s) / SLAB_GRAIN);
    return p;
}

void slab_free(qvm *vm, void *p, uint16_t off)
{
    (void)vm;
    slab_release(p, off);
}

void slab_release(void *p, uint16_t off)
{
    qslab *s = (qslab *)((char *)p - (size_t)off * SLAB_GRAIN);
    struct qslabs *h = s->owner;
    *(void **)p = s->free;
    s->free = p;
    s->nlive--;
    if (s->full) {
        unlink_slab(&h->full[s->cls], s);
        push_slab(&h->room[s->cls], s);
        s->full = false;
    } else if (!s->nlive && (s->prev || s->next)) {
        unlink_slab(&h->room[s->cls], s);
        free(s);
    }
}

void slab_destroy(qvm *vm)
{
    struct qslabs *h = vm->slabs;
    if (!h)
        return;
    for (unsigned c = 0; c <= SLAB_CLASSES; c++) {
        while (h->room[c]) {
            qslab *s = h->room[c];
            h->room[c] = s->next;
            free(s);
        }
        while (h->full[c]) {
            qslab *s = h->full[c];
            h->full[c] = s->next;
            free(s);
        }
    }
    free(h);
    vm->slabs = NULL;
}

#endif
