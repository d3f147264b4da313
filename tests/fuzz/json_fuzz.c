/* json_fuzz.c — the JSON parser and serialiser on arbitrary bytes.
 *
 * Every input either parses or raises ValueErr, never anything else and
 * never a crash.  What parses must serialise, compact and pretty, into
 * text that parses again and serialises to the very same bytes: a fixed
 * point after one round, which also checks that every Float is written in
 * a form that reads back exactly and keeps its type.
 *
 * One VM serves the whole run; the values of an input are garbage once it
 * is done, and a collection every few hundred inputs frees them.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/encoding/json.h"
#include "modules/modules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static qvm *fuzz_vm(void)
{
    static qvm *vm;
    if (!vm) {
        qvm_options opts = {0};
        opts.native_modules = quest_native_modules;
        opts.embedded_sources = quest_embedded_sources;
        vm = vm_new(&opts);
    }
    return vm;
}

static void fuzz_fail(const char *what, const char *text)
{
    fprintf(stderr, "json_fuzz: %s\n%s\n", what, text ? text : "");
    abort();
}

/* Serialise v with indent and check the fixed point. */
static void fuzz_round_trip(qvm *vm, qval v, int indent)
{
    qstr *s = json_stringify(vm, v, indent);
    if (!s)
        fuzz_fail("a parsed value did not serialise", vm_pending_exc(vm)->message->data);
    qval again = json_parse(vm, s->data, s->len);
    if (IS_EXC(again))
        fuzz_fail("serialised text did not parse", s->data);
    qstr *s2 = json_stringify(vm, again, indent);
    if (!s2 || s2->len != s->len || memcmp(s2->data, s->data, s->len) != 0)
        fuzz_fail("no fixed point after one round", s->data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static unsigned inputs;
    qvm *vm = fuzz_vm();
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    qval v = json_parse(vm, text, size);
    if (IS_EXC(v)) {
        qexc *e = vm_take_exc(vm);
        if (e->type != vm_err_type(vm, E_VALUE))
            fuzz_fail("a parse error that is not ValueErr", e->message->data);
    } else {
        fuzz_round_trip(vm, v, -1);
        fuzz_round_trip(vm, v, 2);
    }
    free(text);
    if (++inputs % 256 == 0)
        vm_gc(vm);
    return 0;
}
