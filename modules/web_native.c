/* web_native.c — the native part of std/web: WebSocket routes and
 * pub/sub.  The rest of std/web is Quest (modules/std/web.q), run as an
 * overlay of this module, so both land in one `web` namespace.
 *
 *   web.websocket(path, handler, protocols: [...], origins: [...])
 *       (path: exact, or a std/web/router pattern such as "/rooms/{id<int>}")
 *   web.publish(topic, message)
 *
 * Registration only records the route; `quest serve` reads the list with
 * _ws_routes() when a worker starts, and installs the real publisher with
 * _set_publisher() (server/srv_bus.c).  Outside the server nobody can be
 * subscribed, so publish() does nothing there. */
#include <stdlib.h>
#include <string.h>

#include "modules/modules.h"

typedef struct web_state {
    qarray *routes;     /* Dicts {path, handler, protocols, origins} */
    qval publisher;     /* the server's publish(topic, message), or nil */
} web_state;

static void state_mark(qvm *vm, void *p)
{
    web_state *st = p;
    vm_mark_obj(vm, (qobj *)st->routes);
    vm_mark_value(vm, st->publisher);
}

static const qcdata_class state_class = {"WebModule", free, state_mark, NULL};

static web_state *state(qval self)
{
    return AS_CDATA(self)->data;
}

/* An optional named argument that must be an Array of Str. */
static bool str_list_kw(qvm *vm, qdict *kw, const char *name, qval *out)
{
    *out = qv_nil();
    if (!kw || !dict_get_cstr(kw, name, out) || IS_NIL(*out))
        return true;
    qarray *a;
    if (!arg_array(vm, "web.websocket", *out, &a))
        return false;
    for (uint32_t i = 0; i < a->len; i++) {
        if (!IS_STR(a->items[i])) {
            vm_raise(vm, E_TYPE, "web.websocket: %s must be an Array of Str", name);
            return false;
        }
    }
    return true;
}

/* A path with parameters must parse as a std/web/router pattern (the
 * server matches it with a Router): a malformed one fails here, at
 * registration, with the router's ValueErr. */
static bool check_pattern(qvm *vm, qval path)
{
    const qstr *p = AS_STR(path);
    if (!memchr(p->data, '{', p->len) && !memchr(p->data, '*', p->len))
        return true;
    qval router = vm_import(vm, "std/web/router");
    return !IS_EXC(router) && !IS_EXC(vm_invoke(vm, router, "parse_pattern", 1, &path));
}

/* web.websocket(path, handler, protocols: nil, origins: nil) */
static qval web_websocket(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    qstr *path;
    if (!arg_str(vm, "web.websocket", argv[0], &path))
        return qv_exc();
    if (!path->len || path->data[0] != '/')
        return vm_raise(vm, E_VALUE, "web.websocket: the path must start with '/', got '%s'", path->data);
    if (!check_pattern(vm, argv[0]))
        return qv_exc();
    if (!vm_is_callable(argv[1]))
        return vm_raise(vm, E_TYPE, "web.websocket: the handler must be a function, got %s", vm_cls_name(argv[1]));
    qdict *kw = vm_kwargs(vm);
    for (uint32_t i = 0; kw && i < kw->used; i++) {
        qstr *k = kw->entries[i].key;
        if (k && strcmp(k->data, "protocols") && strcmp(k->data, "origins"))
            return vm_raise(vm, E_ARG, "web.websocket: unknown named argument '%s'", k->data);
    }
    qval protocols, origins;
    if (!str_list_kw(vm, kw, "protocols", &protocols) || !str_list_kw(vm, kw, "origins", &origins))
        return qv_exc();
    qdict *route = dict_new(vm);
    dict_set_cstr(vm, route, "path", argv[0]);
    dict_set_cstr(vm, route, "handler", argv[1]);
    dict_set_cstr(vm, route, "protocols", protocols);
    dict_set_cstr(vm, route, "origins", origins);
    arr_push(vm, state(self)->routes, qv_obj(route));
    return qv_nil();
}

/* web.publish(topic, message): message is a Str (text frame), Bytes
 * (binary frame) or any JSON-encodable value (sent as JSON text). */
static qval web_publish(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    web_state *st = state(self);
    qstr *topic;
    if (!arg_str(vm, "web.publish", argv[0], &topic))
        return qv_exc();
    if (IS_NIL(st->publisher))
        return qv_nil();
    return vm_call(vm, st->publisher, 2, argv);
}

static qval web_ws_routes(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)argc, (void)argv;
    return qv_obj(state(self)->routes);
}

static qval web_set_publisher(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    if (!vm_is_callable(argv[0]))
        return vm_raise(vm, E_TYPE, "web._set_publisher expects a function, got %s", vm_cls_name(argv[0]));
    state(self)->publisher = argv[0];
    return qv_nil();
}

/* web.run() from `quest app.q`: serve the main script as `quest serve`
 * would, until a signal; then the script goes on. */
static qval web_serve(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    const qvm_options *o = vm_get_options(vm);
    qval main = vm_loaded_module(vm, "__main__");
    if (!o->serve || IS_NIL(main))
        return vm_raise(vm, E_RUNTIME, "web.run needs the server: serve this app with `quest serve app.q`");
    const char *host = NULL;
    int port = 0;
    qval v;
    if (IS_DICT(argv[0]) && dict_get_cstr(AS_DICT(argv[0]), "host", &v) && IS_STR(v))
        host = AS_STR(v)->data;
    if (IS_DICT(argv[0]) && dict_get_cstr(AS_DICT(argv[0]), "port", &v) && IS_INT(v)) {
        if (v.as.i < 1 || v.as.i > 65535)
            return vm_raise(vm, E_VALUE, "web.run: port must be 1..65535, got %lld", (long long)v.as.i);
        port = (int)v.as.i;
    }
    int status = o->serve(AS_MODULE(main)->path->data, host, port);
    if (status != 0)
        return vm_raise(vm, E_RUNTIME, "web.run: the server could not start (exit status %d)", status);
    return qv_nil();
}

static const qmethod_def web_functions[] = {
    {"_serve", web_serve, 1, 1, false},
    {"websocket", web_websocket, 2, 2, true},
    {"publish", web_publish, 2, 2, false},
    {"_ws_routes", web_ws_routes, 0, 0, false},
    {"_set_publisher", web_set_publisher, 1, 1, false},
    {NULL, NULL, 0, 0, false},
};

bool web_module_init(qvm *vm, qmodule *m)
{
    web_state *st = calloc(1, sizeof *st);
    if (!st) {
        vm_raise(vm, E_RUNTIME, "std/web: out of memory");
        return false;
    }
    st->routes = arr_new(vm, 4);
    st->publisher = qv_nil();
    qcdata *self = cdata_new(vm, vm_new_cdata_type(vm, "WebModule", NULL), &state_class, st);
    for (const qmethod_def *d = web_functions; d->name; d++) {
        qnative *fn = native_new(vm, d->name, d->fn, d->min_args, d->max_args);
        fn->kwargs = d->kwargs;
        fn->bound = qv_obj(self);
        module_export(vm, m, d->name, qv_obj(fn));
    }
    return true;
}
