/* server_config.c — defaults, quest.toml [std.web] (or --config FILE),
 * .settings.toml [std.web], QUEST_* variables and the command line,
 * applied in that order (later wins). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/server_config.h"
#include "modules/toml.h"
#include "vm/vm.h"

static void defaults(srv_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->host, sizeof cfg->host, "127.0.0.1");
    cfg->port = 3000;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    cfg->workers = n > 0 ? (int)n : 1;
    cfg->max_body_size = 10u << 20;
    cfg->max_header_size = 8192;
    cfg->max_form_parts = 1000;
    cfg->request_timeout = 30;
    cfg->keepalive_timeout = 60;
    cfg->drain_timeout = 10;
    cfg->cpu_budget = 200000000;
    cfg->max_connections = 10000;
    cfg->access_log = true;
    cfg->ws_ping_interval = 30;
    cfg->ws_max_message_size = 1u << 20;
    cfg->ws_max_send_queue = 4u << 20;
    cfg->ws_max_recv_queue = 256;
}

static bool fail(const char *what, const char *value)
{
    fprintf(stderr, "quest serve: invalid %s: %s\n", what, value);
    return false;
}

static bool set_number(double *out, const char *what, const char *v, double lo, double hi)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (errno || end == v || *end || d < lo || d > hi)
        return fail(what, v);
    *out = d;
    return true;
}

/* One setting by name, from text (environment) — the TOML path converts
 * its values to text too, so both share the validation. */
static bool set_key(srv_config *cfg, const char *key, const char *v)
{
    double d;
    if (!strcmp(key, "host")) {
        snprintf(cfg->host, sizeof cfg->host, "%s", v);
    } else if (!strcmp(key, "port")) {
        if (!set_number(&d, "port", v, 1, 65535))
            return false;
        cfg->port = (int)d;
    } else if (!strcmp(key, "workers")) {
        if (!set_number(&d, "workers", v, 1, QUEST_MAX_WORKERS))
            return false;
        cfg->workers = (int)d;
    } else if (!strcmp(key, "max_body_size")) {
        if (!set_number(&d, "max_body_size", v, 0, 1e12))
            return false;
        cfg->max_body_size = (size_t)d;
    } else if (!strcmp(key, "max_header_size")) {
        if (!set_number(&d, "max_header_size", v, 1, 1e12))
            return false;
        if (d > SRV_MAX_HEADER_LIMIT) {
            fprintf(stderr, "quest serve: max_header_size %s is above %d, the most h2o accepts (H2O_MAX_REQLEN)\n",
                    v, SRV_MAX_HEADER_LIMIT);
            return false;
        }
        cfg->max_header_size = (size_t)d;
    } else if (!strcmp(key, "max_form_parts")) {
        if (!set_number(&d, "max_form_parts", v, 1, 1e7))
            return false;
        cfg->max_form_parts = (size_t)d;
    } else if (!strcmp(key, "request_timeout")) {
        return set_number(&cfg->request_timeout, "request_timeout", v, 0.001, 86400);
    } else if (!strcmp(key, "keepalive_timeout")) {
        return set_number(&cfg->keepalive_timeout, "keepalive_timeout", v, 0.001, 86400);
    } else if (!strcmp(key, "drain_timeout")) {
        return set_number(&cfg->drain_timeout, "drain_timeout", v, 0, 3600);
    } else if (!strcmp(key, "cpu_budget")) {
        if (!set_number(&d, "cpu_budget", v, 0, 9e18))
            return false;
        cfg->cpu_budget = (int64_t)d;
    } else if (!strcmp(key, "max_connections")) {
        if (!set_number(&d, "max_connections", v, 1, 1e7))
            return false;
        cfg->max_connections = (int)d;
    } else if (!strcmp(key, "http2") || !strcmp(key, "debug") || !strcmp(key, "access_log")) {
        bool b = !strcmp(v, "true") || !strcmp(v, "1");
        if (!b && strcmp(v, "false") && strcmp(v, "0"))
            return fail(key, v);
        if (!strcmp(key, "http2"))
            cfg->http2 = b;
        else if (!strcmp(key, "debug"))
            cfg->debug = b;
        else
            cfg->access_log = b;
    } else if (!strcmp(key, "listener")) {
        if (strcmp(v, "reuseport") && strcmp(v, "shared"))
            return fail("listener (reuseport or shared)", v);
        cfg->listener_shared = !strcmp(v, "shared");
    } else if (!strcmp(key, "log_format")) {
        if (strcmp(v, "json") && strcmp(v, "text"))
            return fail("log_format (text or json)", v);
        cfg->log_json = !strcmp(v, "json");
    } else if (!strcmp(key, "ws_ping_interval")) {
        return set_number(&cfg->ws_ping_interval, "ws_ping_interval", v, 0, 86400);
    } else if (!strcmp(key, "ws_idle_timeout")) {
        return set_number(&cfg->ws_idle_timeout, "ws_idle_timeout", v, 0, 86400 * 7);
    } else if (!strcmp(key, "ws_max_message_size") || !strcmp(key, "ws_max_send_queue")) {
        if (!set_number(&d, key, v, 1, 1e12))
            return false;
        if (!strcmp(key, "ws_max_message_size"))
            cfg->ws_max_message_size = (size_t)d;
        else
            cfg->ws_max_send_queue = (size_t)d;
    } else if (!strcmp(key, "ws_max_recv_queue")) {
        if (!set_number(&d, "ws_max_recv_queue", v, 1, 1e7))
            return false;
        cfg->ws_max_recv_queue = (int)d;
    } else if (!strcmp(key, "ws_origins")) { /* comma separated, like trusted_proxies */
        snprintf(cfg->ws_origins, sizeof cfg->ws_origins, "%s", v);
    } else if (!strcmp(key, "trusted_proxies")) {
        /* comma separated */
        cfg->nproxies = 0;
        for (const char *p = v; *p && cfg->nproxies < SRV_MAX_PROXIES;) {
            size_t n = strcspn(p, ",");
            snprintf(cfg->proxies[cfg->nproxies++], 64, "%.*s", (int)n, p);
            p += n + (p[n] == ',');
        }
    }
    /* unknown keys belong to the app (std/conf schemas): ignored here */
    return true;
}

static bool toml_text(const toml_value *v, char *out, size_t n)
{
    switch (v->kind) {
    case TOML_STRING: snprintf(out, n, "%s", v->u.str.data); return true;
    case TOML_INT: snprintf(out, n, "%lld", (long long)v->u.i); return true;
    case TOML_FLOAT: snprintf(out, n, "%.17g", v->u.f); return true;
    case TOML_BOOL: snprintf(out, n, "%s", v->u.b ? "true" : "false"); return true;
    case TOML_ARRAY: { /* trusted_proxies = ["10.0.0.1", ...] */
        size_t len = 0;
        out[0] = 0;
        for (size_t i = 0; i < v->u.arr.len && v->u.arr.items[i]->kind == TOML_STRING; i++)
            len += (size_t)snprintf(out + len, len < n ? n - len : 0, "%s%s", i ? "," : "",
                                    v->u.arr.items[i]->u.str.data);
        return true;
    }
    default: return false;
    }
}

/* [std.web] of the TOML file at path.  A file that is not there is fine,
 * unless the user named it (--config). */
static bool from_toml(srv_config *cfg, const char *path, bool named)
{
    size_t len;
    char *src = buf_read_file(path, 16u << 20, &len);
    if (!src) {
        if (errno == ENOENT && !named)
            return true;
        fprintf(stderr, "quest serve: %s: %s\n", path, strerror(errno));
        return false;
    }
    toml_error err;
    toml_value *doc = toml_parse(src, len, &err);
    free(src);
    if (!doc) {
        fprintf(stderr, "quest serve: %s:%d:%d: %s\n", path, err.line, err.column, err.msg);
        return false;
    }
    const toml_value *std = toml_get(doc, "std");
    const toml_value *web = std ? toml_get(std, "web") : NULL;
    bool ok = true;
    for (size_t i = 0; web && web->kind == TOML_TABLE && i < web->u.tab.len && ok; i++) {
        char text[1024];
        if (toml_text(web->u.tab.items[i].val, text, sizeof text))
            ok = set_key(cfg, web->u.tab.items[i].key, text);
    }
    toml_free(doc);
    return ok;
}

static bool from_env(srv_config *cfg)
{
    static const char *const keys[] = {
        "host", "port", "workers", "max_body_size", "max_header_size", "max_form_parts",
        "request_timeout", "keepalive_timeout", "drain_timeout", "cpu_budget", "max_connections",
        "listener", "http2", "debug", "access_log", "log_format", "trusted_proxies", "ws_ping_interval",
        "ws_idle_timeout", "ws_max_message_size", "ws_max_send_queue", "ws_max_recv_queue",
        "ws_origins", NULL,
    };
    for (int i = 0; keys[i]; i++) {
        char name[64] = "QUEST_";
        size_t j = 0;
        for (; keys[i][j] && j < 50; j++)
            name[6 + j] = (char)toupper((unsigned char)keys[i][j]);
        name[6 + j] = 0;
        const char *v = getenv(name);
        if (v && !set_key(cfg, keys[i], v))
            return false;
    }
    return true;
}

static bool resolve_app(srv_config *cfg, const char *script)
{
    struct stat st;
    if (!script)
        script = "app.q";
    if (stat(script, &st) != 0) {
        fprintf(stderr, "quest serve: %s: %s\n", script, strerror(errno));
        return false;
    }
    if (S_ISDIR(st.st_mode))
        snprintf(cfg->app, sizeof cfg->app, "%s/index.q", script);
    else
        snprintf(cfg->app, sizeof cfg->app, "%s", script);
    if (access(cfg->app, R_OK) != 0) {
        fprintf(stderr, "quest serve: %s: %s\n", cfg->app, strerror(errno));
        return false;
    }
    return true;
}

bool srv_config_load(srv_config *cfg, const quest_cli *cli)
{
    defaults(cfg);
    if (!resolve_app(cfg, cli->script))
        return false;
    if (!from_toml(cfg, cli->config_path ? cli->config_path : "quest.toml", cli->config_path != NULL) ||
        !from_toml(cfg, ".settings.toml", false))
        return false;
    if (!from_env(cfg))
        return false;
    if (cli->host)
        snprintf(cfg->host, sizeof cfg->host, "%s", cli->host);
    if (cli->port)
        cfg->port = cli->port;
    if (cli->workers)
        cfg->workers = cli->workers;
    if (cli->log_format)
        cfg->log_json = strcmp(cli->log_format, "json") == 0;
    return true;
}
