/* srv_static.c — directories registered with web.static(url, dir), served
 * by h2o's own file sender (ETag, Last-Modified, Range, HEAD), before the
 * Quest pipeline runs.  Paths are resolved and must stay inside the
 * directory (no traversal, also not through symlinks). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "server/srv.h"

void srv_static_load(srv_worker *w)
{
    qvm *vm = w->vm;
    qval web = vm_loaded_module(vm, "std/web");
    if (IS_NIL(web))
        return;
    qval routes = vm_invoke(vm, web, "_static_routes", 0, NULL);
    if (IS_EXC(routes) || !IS_ARRAY(routes)) {
        vm_take_exc(vm);
        return;
    }
    qarray *a = AS_ARRAY(routes);
    for (uint32_t i = 0; i < a->len && w->nstatics < SRV_MAX_STATIC; i++) {
        qval url, dir;
        if (!IS_DICT(a->items[i]) || !dict_get_cstr(AS_DICT(a->items[i]), "url_path", &url) ||
            !dict_get_cstr(AS_DICT(a->items[i]), "fs_path", &dir) || !IS_STR(url) || !IS_STR(dir))
            continue;
        srv_static_route *r = &w->statics[w->nstatics];
        char real[PATH_MAX];
        if (!realpath(AS_STR(dir)->data, real)) {
            srv_log_error(w, "web.static: directory %s does not exist", AS_STR(dir)->data);
            continue;
        }
        snprintf(r->url, sizeof r->url, "%s", AS_STR(url)->data);
        snprintf(r->dir, sizeof r->dir, "%s", real);
        w->nstatics++;
    }
}

static const srv_static_route *longest_prefix(srv_worker *w, const char *path, size_t len)
{
    const srv_static_route *best = NULL;
    size_t best_len = 0;
    for (int i = 0; i < w->nstatics; i++) {
        size_t n = strlen(w->statics[i].url);
        if (n <= len && memcmp(w->statics[i].url, path, n) == 0 && n >= best_len) {
            best = &w->statics[i];
            best_len = n;
        }
    }
    return best;
}

bool srv_static_serve(srv_worker *w, h2o_req_t *req, int *status)
{
    if (!w->nstatics)
        return false;
    if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) &&
        !h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD")))
        return false;
    size_t plen = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
    const srv_static_route *r = longest_prefix(w, req->path.base, plen);
    if (!r)
        return false;
    size_t ul = strlen(r->url);
    const char *rest = req->path.base + ul;
    size_t rlen = plen - ul;
    while (rlen && *rest == '/')
        rest++, rlen--;
    char cand[PATH_MAX], real[PATH_MAX];
    if ((size_t)snprintf(cand, sizeof cand, "%s/%.*s", r->dir, (int)rlen, rest) >= sizeof cand)
        return false;
    if (!realpath(cand, real))
        return false; /* not there: the app may still answer */
    size_t dl = strlen(r->dir);
    if (strncmp(real, r->dir, dl) != 0 || (real[dl] != '/' && real[dl] != 0))
        return false; /* outside the directory */
    struct stat st;
    if (stat(real, &st) == 0 && S_ISDIR(st.st_mode)) {
        size_t n = strlen(real);
        if (n + sizeof "/index.html" > sizeof real)
            return false;
        memcpy(real + n, "/index.html", sizeof "/index.html");
        if (stat(real, &st) != 0)
            return false;
    }
    if (!S_ISREG(st.st_mode))
        return false;
    h2o_iovec_t ext = h2o_get_filext(real, strlen(real));
    h2o_mimemap_type_t *mime = h2o_mimemap_get_type_by_extension(w->gconf->mimemap, ext);
    h2o_iovec_t type = mime && mime->type == H2O_MIMEMAP_TYPE_MIMETYPE ? mime->data.mimetype
                                                                       : h2o_iovec_init(H2O_STRLIT("application/octet-stream"));
    if (h2o_file_send(req, 200, "OK", real, type, 0) != 0)
        return false;
    *status = 200;
    return true;
}
