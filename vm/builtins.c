/* builtins.c — the global functions every program sees (puts, print,
 * is_array, ...) and where their output goes.
 *
 * Output honours redirection: std/sys can point stdout or stderr at any
 * value with a write(str) method (a StringIO, a file), which is how
 * std/test captures what a test prints. */
#include <string.h>

#include "vm_internal.h"

void vm_write_stream(qvm *vm, int stream, const char *data, size_t len)
{
    qval sink = vm->redirect[stream];
    if (IS_NIL(sink)) {
        fwrite(data, 1, len, stream == 2 ? stderr : stdout);
        return;
    }
    qval s = qv_obj(str_new(vm, data, len));
    vm_push_root(vm, s);
    qval r = vm_invoke(vm, sink, "write", 1, &s);
    vm_pop_roots(vm, 1);
    if (IS_EXC(r)) /* a broken sink must not lose the output silently */
        fwrite(data, 1, len, stream == 2 ? stderr : stdout);
    vm_take_exc(vm);
}

qval vm_set_stream(qvm *vm, int stream, qval sink)
{
    qval old = vm->redirect[stream];
    vm->redirect[stream] = sink;
    return old;
}

static qval write_args(qvm *vm, int argc, qval *argv, bool newline)
{
    qbuf b;
    buf_init(&b);
    for (int i = 0; i < argc; i++) {
        qstr *s = vm_to_str(vm, argv[i]);
        if (!s) {
            buf_free(&b);
            return qv_exc();
        }
        buf_append(&b, s->data, s->len);
    }
    if (newline)
        buf_putc(&b, '\n');
    vm_write_stream(vm, 1, b.data ? b.data : "", b.len);
    buf_free(&b);
    return qv_nil();
}

static qval b_puts(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self;
    return write_args(vm, argc, argv, true);
}

static qval b_print(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self;
    return write_args(vm, argc, argv, false);
}

static qval b_is_array(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)self, (void)argc;
    return qv_bool(IS_ARRAY(argv[0]));
}

static const qmethod_def builtin_fns[] = {
    {"puts", b_puts, 0, -1, false},
    {"print", b_print, 0, -1, false},
    {"is_array", b_is_array, 1, 1, false},
    {NULL, NULL, 0, 0, false},
};

void builtins_register(qvm *vm, qdict *builtins)
{
    for (const qmethod_def *d = builtin_fns; d->name; d++) {
        qnative *n = native_new(vm, d->name, d->fn, d->min_args, d->max_args);
        dict_set(vm, builtins, str_intern_cstr(vm, d->name), qv_obj(n));
    }
    str_register_builtins(vm, builtins);
    bigint_register_builtins(vm, builtins);
    decimal_register_builtins(vm, builtins);
}
