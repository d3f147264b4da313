"""
std/web — the web framework: routes, middleware, error pages, static
directories, CORS and redirects for apps served by `quest serve`.

    use "std/web"

    web.get("/", fun (req) "<h1>Hello</h1>" end)
    web.get("/users/{id<int>}", async fun (req)
        {status: 200, json: await find_user(req["params"]["id"])}
    end)
    web.on_error(404, fun (req) {status: 404, body: "No such page"} end)
    web.run()       # a no-op under `quest serve app.q`

The server turns every request into a Dict (method, path, query_string,
query, headers, body, cookies, client_ip, version, scheme, host,
user_agent, referer, content_type, content_length) and hands it to
`web._handle`, which answers with a response Dict (status, headers, body or
json, cookies).  The steps, in order:

 1. a CORS preflight (OPTIONS with Origin and Access-Control-Request-Method)
    is answered at once when `web.cors` is configured;
 2. request middleware (`web.middleware`, and the routers mounted with
    `web.route`) in registration order: returning a Dict with a "status"
    answers the request, another Dict replaces it, anything else goes on;
 3. redirects (`web.redirect`), matched on the exact path;
 4. the routes added with `web.get`, `web.post`, ... (see std/web/router
    for patterns), then the app's `handle_request` when the server passes
    one, then 405 (the path exists for other methods) or 404;
 5. after middleware (`web.after`), each given (req, resp);
 6. default headers, and the CORS headers for an allowed Origin.

Handlers and middleware may be `async fun`: the Tasks they return are
awaited.  An exception becomes the response of the `web.on_error(500)`
handler, else a plain "Internal Server Error" (with the error and its stack
only when debug is on); 404 and 405 use their `web.on_error` handlers too.
Errors are also written to stderr.  Handlers of routers mounted with
`web.route` are an exception kept from the reference implementation: when
one raises, the error is logged and the request carries on as if no route
had matched.

`quest serve` serves the directories given to `web.static` itself, before
any of the steps above.
"""

use "std/conf"
use "std/io"
use "std/sys"
use "std/web/router" as router_module

# ---- configuration ([std.web] in quest.toml) --------------------------------------------

pub type Configuration
    pub host: Str = "127.0.0.1"
    pub port: Int = 3000
    pub max_body_size: Int = 10485760
    pub max_header_size: Int = 8192
    pub request_timeout: Int = 30
    pub keepalive_timeout: Int = 60
    pub debug: Bool = false

    fun self.from_dict(d)
        Configuration.new(
            host: d.get("host", "127.0.0.1"),
            port: d.get("port", 3000),
            max_body_size: d.get("max_body_size", 10485760),
            max_header_size: d.get("max_header_size", 8192),
            request_timeout: d.get("request_timeout", 30),
            keepalive_timeout: d.get("keepalive_timeout", 60),
            debug: d.get("debug", false)
        )
    end

    fun validate()
        if self.port < 0 or self.port > 65535
            raise ValueErr.new("std.web port must be between 0 and 65535, got " .. self.port.str())
        end
        if self.max_body_size < 0 or self.max_header_size < 0
            raise ValueErr.new("std.web size limits must not be negative")
        end
        if self.request_timeout < 0 or self.keepalive_timeout < 0
            raise ValueErr.new("std.web timeouts must not be negative")
        end
    end
end

conf.register_schema("std.web", Configuration)
pub let config = conf.get_config("std.web")

# ---- status codes -----------------------------------------------------------------------

pub const HTTP_CONTINUE = 100
pub const HTTP_SWITCHING_PROTOCOLS = 101
pub const HTTP_PROCESSING = 102
pub const HTTP_EARLY_HINTS = 103

pub const HTTP_OK = 200
pub const HTTP_CREATED = 201
pub const HTTP_ACCEPTED = 202
pub const HTTP_NON_AUTHORITATIVE_INFORMATION = 203
pub const HTTP_NO_CONTENT = 204
pub const HTTP_RESET_CONTENT = 205
pub const HTTP_PARTIAL_CONTENT = 206
pub const HTTP_MULTI_STATUS = 207
pub const HTTP_ALREADY_REPORTED = 208
pub const HTTP_IM_USED = 226

pub const HTTP_MULTIPLE_CHOICES = 300
pub const HTTP_MOVED_PERMANENTLY = 301
pub const HTTP_FOUND = 302
pub const HTTP_SEE_OTHER = 303
pub const HTTP_NOT_MODIFIED = 304
pub const HTTP_USE_PROXY = 305
pub const HTTP_TEMPORARY_REDIRECT = 307
pub const HTTP_PERMANENT_REDIRECT = 308

pub const HTTP_BAD_REQUEST = 400
pub const HTTP_UNAUTHORIZED = 401
pub const HTTP_PAYMENT_REQUIRED = 402
pub const HTTP_FORBIDDEN = 403
pub const HTTP_NOT_FOUND = 404
pub const HTTP_METHOD_NOT_ALLOWED = 405
pub const HTTP_NOT_ACCEPTABLE = 406
pub const HTTP_PROXY_AUTHENTICATION_REQUIRED = 407
pub const HTTP_REQUEST_TIMEOUT = 408
pub const HTTP_CONFLICT = 409
pub const HTTP_GONE = 410
pub const HTTP_LENGTH_REQUIRED = 411
pub const HTTP_PRECONDITION_FAILED = 412
pub const HTTP_PAYLOAD_TOO_LARGE = 413
pub const HTTP_URI_TOO_LONG = 414
pub const HTTP_UNSUPPORTED_MEDIA_TYPE = 415
pub const HTTP_RANGE_NOT_SATISFIABLE = 416
pub const HTTP_EXPECTATION_FAILED = 417
pub const HTTP_IM_A_TEAPOT = 418
pub const HTTP_MISDIRECTED_REQUEST = 421
pub const HTTP_UNPROCESSABLE_ENTITY = 422
pub const HTTP_LOCKED = 423
pub const HTTP_FAILED_DEPENDENCY = 424
pub const HTTP_TOO_EARLY = 425
pub const HTTP_UPGRADE_REQUIRED = 426
pub const HTTP_PRECONDITION_REQUIRED = 428
pub const HTTP_TOO_MANY_REQUESTS = 429
pub const HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE = 431
pub const HTTP_UNAVAILABLE_FOR_LEGAL_REASONS = 451

pub const HTTP_INTERNAL_SERVER_ERROR = 500
pub const HTTP_NOT_IMPLEMENTED = 501
pub const HTTP_BAD_GATEWAY = 502
pub const HTTP_SERVICE_UNAVAILABLE = 503
pub const HTTP_GATEWAY_TIMEOUT = 504
pub const HTTP_HTTP_VERSION_NOT_SUPPORTED = 505
pub const HTTP_VARIANT_ALSO_NEGOTIATES = 506
pub const HTTP_INSUFFICIENT_STORAGE = 507
pub const HTTP_LOOP_DETECTED = 508
pub const HTTP_NOT_EXTENDED = 510
pub const HTTP_NETWORK_AUTHENTICATION_REQUIRED = 511

let reasons = {
    "100": "Continue", "101": "Switching Protocols", "102": "Processing", "103": "Early Hints",
    "200": "OK", "201": "Created", "202": "Accepted", "203": "Non-Authoritative Information",
    "204": "No Content", "205": "Reset Content", "206": "Partial Content", "207": "Multi-Status",
    "208": "Already Reported", "226": "IM Used",
    "300": "Multiple Choices", "301": "Moved Permanently", "302": "Found", "303": "See Other",
    "304": "Not Modified", "305": "Use Proxy", "307": "Temporary Redirect",
    "308": "Permanent Redirect",
    "400": "Bad Request", "401": "Unauthorized", "402": "Payment Required", "403": "Forbidden",
    "404": "Not Found", "405": "Method Not Allowed", "406": "Not Acceptable",
    "407": "Proxy Authentication Required", "408": "Request Timeout", "409": "Conflict",
    "410": "Gone", "411": "Length Required", "412": "Precondition Failed",
    "413": "Payload Too Large", "414": "URI Too Long", "415": "Unsupported Media Type",
    "416": "Range Not Satisfiable", "417": "Expectation Failed", "418": "I'm a teapot",
    "421": "Misdirected Request", "422": "Unprocessable Entity", "423": "Locked",
    "424": "Failed Dependency", "425": "Too Early", "426": "Upgrade Required",
    "428": "Precondition Required", "429": "Too Many Requests",
    "431": "Request Header Fields Too Large", "451": "Unavailable For Legal Reasons",
    "500": "Internal Server Error", "501": "Not Implemented", "502": "Bad Gateway",
    "503": "Service Unavailable", "504": "Gateway Timeout",
    "505": "HTTP Version Not Supported", "506": "Variant Also Negotiates",
    "507": "Insufficient Storage", "508": "Loop Detected", "510": "Not Extended",
    "511": "Network Authentication Required"
}

pub fun status_text(status: Int)
    "The reason phrase of an HTTP status code (\"Not Found\" for 404), \"Unknown\" for others."
    reasons.get(status.str(), "Unknown")
end

# ---- the app's state ----------------------------------------------------------------------

# Everything configured so far; _get_config() hands out this very Dict.
let _runtime_config = {
    "static_dirs": [],
    "cors": nil,
    "middlewares": [],
    "after_middlewares": [],
    "error_handlers": {},
    "redirects": {},
    "default_headers": {}
}

let _registered_routers = []
let app_routes = router_module.Router.new()
let served = false

# ---- routes -----------------------------------------------------------------------------

pub fun get(pattern: Str, handler)
    "Answer GET (and HEAD) requests for pattern with handler(req)."
    app_routes.get(pattern, handler)
    nil
end

pub fun post(pattern: Str, handler)
    "Answer POST requests for pattern with handler(req)."
    app_routes.post(pattern, handler)
    nil
end

pub fun put(pattern: Str, handler)
    "Answer PUT requests for pattern with handler(req)."
    app_routes.put(pattern, handler)
    nil
end

pub fun delete(pattern: Str, handler)
    "Answer DELETE requests for pattern with handler(req)."
    app_routes.delete(pattern, handler)
    nil
end

pub fun patch(pattern: Str, handler)
    "Answer PATCH requests for pattern with handler(req)."
    app_routes.patch(pattern, handler)
    nil
end

pub fun head(pattern: Str, handler)
    "Answer HEAD requests for pattern with handler(req) (GET routes answer HEAD too)."
    app_routes.head(pattern, handler)
    nil
end

pub fun options(pattern: Str, handler)
    "Answer OPTIONS requests for pattern with handler(req)."
    app_routes.options(pattern, handler)
    nil
end

pub fun any(pattern: Str, handler)
    "Answer requests of every method for pattern with handler(req)."
    app_routes.any(pattern, handler)
    nil
end

# The base of a mounted router: "" is the root, and a trailing "/" is dropped.
fun mount_base(base_path)
    if base_path == "" or base_path == "/"
        return "/"
    end
    if not base_path.startswith("/")
        raise ValueErr.new("base_path must start with /: " .. base_path)
    end
    if base_path.endswith("/")
        return base_path.slice(0, base_path.len() - 1)
    end
    base_path
end

# The part of path below base ("/" for base itself), or nil when path is
# not base or below it.
fun strip_base(path, base)
    if base == "/"
        return path
    end
    if path == base
        return "/"
    end
    if path.startswith(base .. "/")
        return path.slice(base.len(), path.len())
    end
    nil
end

pub fun route(base_path: Str, router_instance)
    """
    Mount a std/web/router Router at base_path ("" or "/" for the root):
    GET /api/users reaches the route "/users" of a router mounted at
    "/api".  The router runs as request middleware, in registration order
    with the others.  While its handler runs, req["path"] is the path below
    base_path.  A handler that raises is logged and the request carries on
    as if no route had matched (as in the reference implementation).
    """
    let base = mount_base(base_path)
    _registered_routers.push({"base_path": base, "router": router_instance})
    middleware(async fun (req)
        let path = req["path"]
        let sub = strip_base(path, base)
        if sub == nil
            return req
        end
        let resp = nil
        req["path"] = sub
        try
            let out = await router_instance._dispatch(req, nil)
            # nil, or the request handed back, means "not mine".
            if out != nil and out._id() != req._id()
                resp = as_response(out, req)
            end
        catch e
            if e.type() == "CancelledErr"
                raise e
            end
            log_error(req["method"], path, e, "the router mounted at " .. base .. " carries on as if unmatched")
        ensure
            req["path"] = path
        end
        if resp == nil
            return req
        end
        resp
    end)
end

pub fun get_registered_routers()
    "The routers mounted with route(), as {base_path, router} Dicts."
    _registered_routers
end

# ---- middleware -------------------------------------------------------------------------

pub fun middleware(middleware_fn)
    """
    Run middleware_fn(req) on every request, before the routes.  Returning a
    Dict with a "status" answers the request with it (after middleware
    still run); another Dict replaces the request; anything else (such as
    nil, or req itself) carries on.  A Dict such as those made by
    std/web/middleware/* registers its "before" function here and its
    "after" function with after().
    """
    if middleware_fn.cls() == "Dict"
        if middleware_fn.get("before") != nil
            middleware(middleware_fn["before"])
        end
        if middleware_fn.get("after") != nil
            after(middleware_fn["after"])
        end
        return nil
    end
    _runtime_config["middlewares"].push(middleware_fn)
    nil
end

pub fun after(middleware_fn)
    """
    Run middleware_fn(req, resp) on every response, in registration order;
    a Dict it returns replaces the response.
    """
    _runtime_config["after_middlewares"].push(middleware_fn)
    nil
end

pub fun before_request(handler)
    "Old name of middleware()."
    middleware(handler)
end

pub fun after_request(handler)
    "Old name of after()."
    after(handler)
end

# ---- errors, redirects, headers ----------------------------------------------------------

pub fun on_error(status: Int, handler)
    """
    Answer responses of status with handler: handler(req) for 4xx (404 when
    no route matches, 405 when the path exists for other methods, and the
    errors the server reports, such as 413), handler(req, message) for 5xx
    (message is "Type: text" of the exception).  Status 0 catches every
    status without a handler of its own.
    """
    _runtime_config["error_handlers"][status.str()] = handler
    nil
end

pub fun redirect(from: Str, target: Str, status: Int = 302)
    "Answer requests for the path from with a redirect to target."
    _runtime_config["redirects"][from] = [target, status]
    nil
end

pub fun set_default_headers(headers)
    "Headers added to every response that does not set them itself (replaces the previous set)."
    _runtime_config["default_headers"] = headers
    nil
end

pub fun set_debug(on: Bool)
    "Show the error and its stack in default 500 responses (never in production)."
    config.debug = on
    nil
end

# ---- CORS -------------------------------------------------------------------------------

pub fun set_cors(origins = ["*"], methods = ["GET", "POST", "PUT", "DELETE"],
                 headers = ["Content-Type", "Authorization"], credentials = false,
                 expose_headers = [], max_age = nil)
    """
    Allow cross-origin requests from origins ("*" for any).  Preflight
    requests are answered with methods, headers, credentials and max_age
    (seconds); other responses to an allowed Origin get
    Access-Control-Allow-Origin (and -Credentials, -Expose-Headers).
    """
    _runtime_config["cors"] = {
        "origins": origins,
        "methods": methods,
        "headers": headers,
        "credentials": credentials,
        "expose_headers": expose_headers,
        "max_age": max_age
    }
    nil
end

pub let cors = set_cors

pub fun disable_cors()
    "Stop answering cross-origin requests."
    _runtime_config["cors"] = nil
    nil
end

# The value for Access-Control-Allow-Origin, nil when req has no allowed Origin.
fun allowed_origin(req, settings)
    let headers = req.get("headers")
    if headers == nil
        return nil
    end
    let origin = headers.get("origin")
    if origin == nil
        return nil
    end
    if settings["origins"].contains("*")
        # "*" does not work with credentials: browsers need the origin itself.
        if settings["credentials"]
            return origin
        end
        return "*"
    end
    if settings["origins"].contains(origin)
        return origin
    end
    nil
end

fun is_preflight(req)
    let headers = req.get("headers")
    req["method"] == "OPTIONS" and headers != nil and headers.get("origin") != nil and headers.get("access-control-request-method") != nil
end

fun preflight(req, settings)
    let resp = {"status": 204, "headers": {}, "body": ""}
    if allowed_origin(req, settings) != nil
        let h = resp["headers"]
        h["Access-Control-Allow-Methods"] = settings["methods"].join(", ")
        h["Access-Control-Allow-Headers"] = settings["headers"].join(", ")
        if settings["max_age"] != nil
            h["Access-Control-Max-Age"] = settings["max_age"].str()
        end
    end
    resp
end

fun add_cors_headers(req, resp, settings)
    let origin = allowed_origin(req, settings)
    if origin == nil
        return nil
    end
    set_header(resp, "Access-Control-Allow-Origin", origin)
    if origin != "*"
        let key = header_key(resp, "Vary")
        if key == nil
            set_header(resp, "Vary", "Origin")
        elif not resp["headers"][key].contains("Origin")
            resp["headers"][key] = resp["headers"][key] .. ", Origin"
        end
    end
    if settings["credentials"]
        set_header(resp, "Access-Control-Allow-Credentials", "true")
    end
    if settings["expose_headers"].len() > 0
        set_header(resp, "Access-Control-Expose-Headers", settings["expose_headers"].join(", "))
    end
end

# ---- static files, limits, server options ----------------------------------------------

pub fun static(url_path: Str, fs_path: Str)
    """
    Serve the files below the directory fs_path at url_path ("/public").
    The server serves them before any middleware or route; a missing file
    falls through to them.  Registering url_path again replaces it.
    """
    if not url_path.startswith("/")
        raise ValueErr.new("url_path must start with /: " .. url_path)
    end
    let dirs = _runtime_config["static_dirs"]
    let i = 0
    while i < dirs.len()
        if dirs[i][0] == url_path
            dirs[i] = [url_path, fs_path]
            return nil
        end
        i = i + 1
    end
    dirs.push([url_path, fs_path])
    nil
end

pub fun _static_routes()
    """
    For the server: the static directories as {url_path, fs_path} Dicts,
    longest url_path first (the order to try them in).
    """
    let out = []
    for entry in _runtime_config["static_dirs"]
        let item = {"url_path": entry[0], "fs_path": entry[1]}
        let i = 0
        while i < out.len() and out[i]["url_path"].len() >= entry[0].len()
            i = i + 1
        end
        out.insert(i, item)
    end
    out
end

pub fun set_max_body_size(size: Int)
    "Refuse request bodies larger than size bytes (413)."
    config.max_body_size = size
end

pub fun set_max_header_size(size: Int)
    "Refuse requests whose headers exceed size bytes (431)."
    config.max_header_size = size
end

pub fun set_request_timeout(seconds: Int)
    "Give up on a request whose handler runs longer than seconds (503)."
    config.request_timeout = seconds
end

pub fun set_keepalive_timeout(seconds: Int)
    "Close idle keep-alive connections after seconds."
    config.keepalive_timeout = seconds
end

pub fun _options()
    "For the server: host, port, limits and debug, as a Dict."
    {
        "host": config.host,
        "port": config.port,
        "max_body_size": config.max_body_size,
        "max_header_size": config.max_header_size,
        "request_timeout": config.request_timeout,
        "keepalive_timeout": config.keepalive_timeout,
        "debug": config.debug
    }
end

pub fun _get_config()
    "The runtime configuration Dict (static_dirs, cors, middlewares, ...)."
    _runtime_config
end

pub fun _get_base_config()
    "The Configuration read from quest.toml ([std.web]), as changed by the set_* functions."
    config
end

pub fun _reset()
    """
    For tests: forget every HTTP route, mounted router, middleware, error
    handler, redirect, default header, static directory and the CORS
    settings, so each test can start from an empty app.  (WebSocket routes
    stay: they belong to the native part of the module.)
    """
    _runtime_config["static_dirs"] = []
    _runtime_config["cors"] = nil
    _runtime_config["middlewares"] = []
    _runtime_config["after_middlewares"] = []
    _runtime_config["error_handlers"] = {}
    _runtime_config["redirects"] = {}
    _runtime_config["default_headers"] = {}
    _registered_routers = []
    app_routes = router_module.Router.new()
    nil
end

# Whether the app registered anything std/web acts on (WebSocket routes,
# which the native part of the module keeps, included).
fun has_app_config()
    let c = _runtime_config
    let websockets = 0
    try
        websockets = _ws_routes().len()
    catch e: NameErr
    end
    app_routes.routes.len() > 0 or _registered_routers.len() > 0 or c["middlewares"].len() > 0 or
        c["after_middlewares"].len() > 0 or c["redirects"].len() > 0 or c["error_handlers"].len() > 0 or
        c["static_dirs"].len() > 0 or c["cors"] != nil or websockets > 0
end

pub fun _server_handler(fallback = nil)
    """
    For the server, once the app is loaded: the function to call with each
    request Dict.  fallback is the app's top-level handle_request (nil when
    it has none).  An app that registered nothing with std/web gets its
    handle_request itself; otherwise the result calls _handle(req,
    fallback) and returns its Task.  Raises RuntimeErr when the app has
    neither.
    """
    served = true
    if not has_app_config()
        if fallback != nil
            return fallback
        end
        raise RuntimeErr.new("The app defines no handle_request(req) and registers no std/web routes")
    end
    if fallback == nil
        return _handle
    end
    fun (req) _handle(req, fallback) end
end

pub fun _mark_served()
    "For the server: the app is being served by `quest serve`, so run() does nothing."
    served = true
    nil
end

pub fun run(host = nil, port = nil)
    """
    Serve the app: web.run(), web.run(port), web.run(host, port), or with
    keywords.  Under `quest serve` it does nothing (the server is already
    running the app); from `quest app.q` it starts the server, which runs
    until it is stopped.
    """
    if served
        return nil
    end
    if host != nil and host.cls() == "Int" and port == nil
        port = host
        host = nil
    end
    let opts = _options()
    if host != nil
        opts["host"] = host
    end
    if port != nil
        opts["port"] = port
    end
    let serve = nil
    try
        serve = _serve
    catch e: NameErr
        let script = sys.script_path or "app.q"
        raise RuntimeErr.new("web.run needs the server: serve this app with `quest serve " .. script .. "`")
    end
    serve(opts)
end

# ---- answering a request ----------------------------------------------------------------

# The key under which resp has header name (any case), or nil.
fun header_key(resp, name)
    let headers = resp.get("headers")
    if headers == nil
        return nil
    end
    if headers.contains(name)
        return name
    end
    let lower = name.lower()
    for key in headers.keys()
        if key.lower() == lower
            return key
        end
    end
    nil
end

fun set_header(resp, name, value)
    if resp.get("headers") == nil
        resp["headers"] = {}
    end
    let key = header_key(resp, name)
    if key == nil
        key = name
    end
    resp["headers"][key] = value
end

# What a handler returned, as a response Dict with a status and a headers
# Dict (so after middleware can add headers without checking).
fun as_response(value, req)
    if value != nil
        let kind = value.cls()
        if kind == "Dict"
            if not value.contains("status")
                value["status"] = 200
            end
            let headers = value.get("headers")
            if headers == nil
                value["headers"] = {}
            elif headers.cls() != "Dict"
                raise TypeErr.new("The response headers for " .. req["method"] .. " " .. req["path"] ..
                    " must be a Dict, got " .. headers.cls())
            end
            return value
        elif kind == "Str"
            return {"status": 200, "headers": {"Content-Type": "text/html; charset=utf-8"}, "body": value}
        elif kind == "Bytes"
            return {"status": 200, "headers": {"Content-Type": "application/octet-stream"}, "body": value}
        end
    end
    let got = "nil"
    if value != nil
        got = value.cls()
    end
    raise TypeErr.new("The handler for " .. req["method"] .. " " .. req["path"] ..
        " returned " .. got .. ": a response is a Dict, a Str or Bytes")
end

fun log_error(method, path, e, note)
    let lines = ["[web] " .. method .. " " .. path .. ": " .. e.type() .. ": " .. e.message()]
    for frame in e.stack()
        lines.push("    " .. frame)
    end
    if note != nil
        lines.push("    (" .. note .. ")")
    end
    io.stderr.write(lines.join("\n") .. "\n")
end

fun plain(status, text)
    {"status": status, "headers": {"Content-Type": "text/plain; charset=utf-8"}, "body": text}
end

# The response when no handler takes care of status: its reason phrase,
# then the message for client errors (or for any error in debug mode).
fun default_error(status, message)
    let text = status_text(status)
    if message != nil and (status < 500 or config.debug)
        text = text .. "\n\n" .. message
    end
    plain(status, text)
end

# The response for status from its on_error handler, given message for
# 5xx; without a handler the default one, showing detail (else message).
async fun error_response(req, status, message, detail = nil)
    let handlers = _runtime_config["error_handlers"]
    let handler = handlers.get(status.str())
    if handler == nil
        handler = handlers.get("0")
    end
    if handler == nil
        return default_error(status, detail or message)
    end
    let out = nil
    if status >= 500
        if message == nil
            message = status_text(status)
        end
        out = await handler(req, message)
    else
        out = await handler(req)
    end
    as_response(out, req)
end

# The 500 response for exception e (logged to stderr).
async fun failure(req, e)
    if e.type() == "CancelledErr"
        raise e
    end
    log_error(req["method"], req["path"], e, nil)
    let message = e.type() .. ": " .. e.message()
    let detail = message
    for frame in e.stack()
        detail = detail .. "\n    " .. frame
    end
    try
        return await error_response(req, 500, message, detail)
    catch e2
        if e2.type() == "CancelledErr"
            raise e2
        end
        log_error(req["method"], req["path"], e2, "in the on_error(500) handler")
    end
    default_error(500, detail)
end

# The methods other routes accept for req's path, when the request's own
# method has none there (then the answer is 405, not 404).
fun other_methods(req)
    let path = req["path"]
    let methods = app_routes.allowed_methods(path)
    for entry in _registered_routers
        let sub = strip_base(path, entry["base_path"])
        if sub != nil
            for m in entry["router"].allowed_methods(sub)
                if not methods.contains(m)
                    methods.push(m)
                end
            end
        end
    end
    let method = req["method"]
    if methods.contains("*") or methods.contains(method) or (method == "HEAD" and methods.contains("GET"))
        return []
    end
    if methods.contains("GET") and not methods.contains("HEAD")
        methods.push("HEAD")
    end
    methods
end

# Steps 3 and 4: redirects, routes, the fallback handler, 405/404.
async fun respond(req, fallback)
    let target = _runtime_config["redirects"].get(req["path"])
    if target != nil
        return {"status": target[1], "headers": {"Location": target[0]}, "body": ""}
    end
    let found = app_routes.lookup(req["method"], req["path"])
    if found != nil
        req["params"] = found["params"]
        return as_response(await found["route"]["handler"](req), req)
    end
    if fallback != nil
        return as_response(await fallback(req), req)
    end
    let allowed = other_methods(req)
    if allowed.len() > 0
        let resp = await error_response(req, 405, nil)
        set_header(resp, "Allow", allowed.join(", "))
        return resp
    end
    await error_response(req, 404, nil)
end

# Step 5: the after middleware.
async fun run_after(req, resp)
    try
        for hook in _runtime_config["after_middlewares"]
            let out = await hook(req, resp)
            if out != nil and out.cls() == "Dict"
                resp = as_response(out, req)
            end
        end
    catch e
        return await failure(req, e)
    end
    resp
end

# Step 6: default headers, a JSON Content-Type, CORS.
fun finish(req, resp)
    let defaults = _runtime_config["default_headers"]
    for name in defaults.keys()
        if header_key(resp, name) == nil
            set_header(resp, name, defaults[name])
        end
    end
    if resp.contains("json") and header_key(resp, "Content-Type") == nil
        set_header(resp, "Content-Type", "application/json")
    end
    let settings = _runtime_config["cors"]
    if settings != nil
        add_cors_headers(req, resp, settings)
    end
    resp
end

pub async fun _handle(req, fallback = nil)
    """
    For the server: the response Dict for request Dict req (see the steps
    above).  fallback, when given (the app's handle_request), answers the
    requests no route matches.  Returns a Task; it finishes at once unless
    an async handler waits for something.
    """
    let settings = _runtime_config["cors"]
    if settings != nil and is_preflight(req)
        return finish(req, preflight(req, settings))
    end
    let resp = nil
    try
        for mw in _runtime_config["middlewares"]
            let out = await mw(req)
            if out != nil and out.cls() == "Dict"
                if out.contains("status")
                    resp = as_response(out, req)
                    break
                end
                req = out
            end
        end
        if resp == nil
            resp = await respond(req, fallback)
        end
    catch e
        resp = await failure(req, e)
    end
    finish(req, await run_after(req, resp))
end

pub async fun _error(req, status: Int, message = nil)
    """
    For the server: the response for an error it detected itself (400 for a
    malformed body, 413, 431, 503 on timeout, ...), from the app's on_error
    handler when it has one.  message is shown to the client for 4xx.
    """
    let resp = nil
    try
        resp = await error_response(req, status, message)
    catch e
        resp = await failure(req, e)
    end
    finish(req, resp)
end
