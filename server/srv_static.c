/* srv_static.c — directories registered with web.static(url, dir), served
 * by h2o's own file sender (ETag, Last-Modified, Range, HEAD), before the
 * Quest pipeline runs.  Paths are resolved and must stay inside the
 * directory (no traversal, also not through symlinks). */
#include <limits.h>
#include <stdio.h>
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

/* h2o's file sender sets this ETag but leaves conditional requests to its
 * own handler, which we do not use: answer If-None-Match here. */
static bool not_modified(h2o_req_t *req, const struct stat *st)
{
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_IF_NONE_MATCH, -1);
    if (i < 0)
        return false;
    char etag[64];
    int n = snprintf(etag, sizeof etag, "\"%08x-%zx\"", (unsigned)st->st_mtime, (size_t)st->st_size);
    h2o_iovec_t v = req->headers.entries[i].value;
    if (!(v.len == 1 && v.base[0] == '*') && !h2o_contains_token(v.base, v.len, etag, (size_t)n, ','))
        return false;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ETAG, NULL, h2o_strdup(&req->pool, etag, (size_t)n).base,
                   (size_t)n);
    req->res.status = 304;
    req->res.reason = "Not Modified";
    h2o_send_inline(req, "", 0);
    return true;
}

#define RANGE_MAX (8u << 20) /* larger ranges are sent whole by h2o */

/* A single `Range: bytes=a-b` (or `a-`, `-n`): 206 with that slice, read
 * into the request's pool; 416 when it starts past the end. */
static bool send_range(h2o_req_t *req, const char *path, const struct stat *st, h2o_iovec_t type, int *status)
{
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_RANGE, -1);
    if (i < 0 || h2o_find_header(&req->headers, H2O_TOKEN_IF_RANGE, -1) >= 0)
        return false;
    h2o_iovec_t v = req->headers.entries[i].value;
    char spec[64];
    if (v.len >= sizeof spec || v.len < 7 || memcmp(v.base, "bytes=", 6) != 0 || memchr(v.base, ',', v.len))
        return false;
    memcpy(spec, v.base + 6, v.len - 6);
    spec[v.len - 6] = 0;
    long long size = (long long)st->st_size, first, last;
    char *dash = strchr(spec, '-'), *end;
    if (!dash)
        return false;
    if (dash == spec) { /* suffix: the last n bytes */
        long long n = strtoll(dash + 1, &end, 10);
        if (*end || n <= 0)
            return false;
        first = n >= size ? 0 : size - n;
        last = size - 1;
    } else {
        first = strtoll(spec, &end, 10);
        if (end != dash || first < 0)
            return false;
        last = dash[1] ? strtoll(dash + 1, &end, 10) : size - 1;
        if (dash[1] && (*end || last < first))
            return false;
        if (last >= size)
            last = size - 1;
    }
    if (first >= size) {
        req->res.status = *status = 416;
        req->res.reason = "Range Not Satisfiable";
        h2o_send_inline(req, "", 0);
        return true;
    }
    size_t len = (size_t)(last - first + 1);
    if (len > RANGE_MAX)
        return false;
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    char *buf = h2o_mem_alloc_pool(&req->pool, len ? len : 1);
    bool ok = fseeko(f, first, SEEK_SET) == 0 && fread(buf, 1, len, f) == len;
    fclose(f);
    if (!ok)
        return false;
    char cr[96];
    int n = snprintf(cr, sizeof cr, "bytes %lld-%lld/%lld", first, last, size);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_RANGE, NULL, h2o_strdup(&req->pool, cr, (size_t)n).base,
                   (size_t)n);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, type.base, type.len);
    req->res.status = *status = 206;
    req->res.reason = "Partial Content";
    req->res.content_length = len;
    h2o_send_inline(req, buf, len);
    return true;
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
    if (not_modified(req, &st)) {
        *status = 304;
        return true;
    }
    h2o_iovec_t ext = h2o_get_filext(real, strlen(real));
    h2o_mimemap_type_t *mime = h2o_mimemap_get_type_by_extension(w->gconf->mimemap, ext);
    h2o_iovec_t type = mime && mime->type == H2O_MIMEMAP_TYPE_MIMETYPE ? mime->data.mimetype
                                                                       : h2o_iovec_init(H2O_STRLIT("application/octet-stream"));
    if (send_range(req, real, &st, type, status))
        return true;
    if (h2o_file_send(req, 200, "OK", real, type, 0) != 0)
        return false;
    *status = 200;
    return true;
}
