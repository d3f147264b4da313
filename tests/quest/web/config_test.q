# std/web configuration: static directories, limits and server options,
# the [std.web] Configuration type, status constants and web.run.

use "std/test" {module, describe, it, before, assert, assert_eq, assert_nil, assert_raises}
use "std/async"
use "std/web"

module("std/web configuration")

describe("web.static", fun ()
    before(web._reset)

    it("records url and directory pairs, a repeated url replacing its directory", fun ()
        web.static("/public", "./public")
        web.static("/uploads", "/srv/uploads")
        web.static("/public", "./static")
        assert_eq(web._get_config()["static_dirs"], [["/public", "./static"], ["/uploads", "/srv/uploads"]])
    end)

    it("needs a url starting with /", fun ()
        assert_raises(ValueErr, fun () web.static("public", "./public") end)
    end)

    it("lists the directories for the server, longest url first", fun ()
        web.static("/", "./site")
        web.static("/assets", "./assets")
        web.static("/assets/img", "./images")
        web.static("/docs", "./docs")
        let urls = []
        for route in web._static_routes()
            urls.push(route["url_path"])
        end
        assert_eq(urls, ["/assets/img", "/assets", "/docs", "/"])
        assert_eq(web._static_routes()[0], {"url_path": "/assets/img", "fs_path": "./images"})
    end)
end)

describe("server options", fun ()
    it("start from the [std.web] configuration", fun ()
        let opts = web._options()
        assert_eq(opts["host"], web.config.host)
        assert_eq(opts["port"], web.config.port)
        for key in ["max_body_size", "max_header_size", "request_timeout", "keepalive_timeout", "debug"]
            assert(opts.contains(key), key)
        end
    end)

    it("follow the set_* functions", fun ()
        let before_size = web.config.max_body_size
        web.set_max_body_size(1024)
        web.set_request_timeout(5)
        assert_eq(web._options()["max_body_size"], 1024)
        assert_eq(web._options()["request_timeout"], 5)
        assert_eq(web._get_base_config().max_body_size, 1024)
        web.set_max_body_size(before_size)
        web.set_request_timeout(30)
    end)
end)

describe("Configuration", fun ()
    it("fills in defaults for missing keys", fun ()
        let c = web.Configuration.from_dict({"port": 8080})
        assert_eq([c.host, c.port, c.max_body_size, c.max_header_size], ["127.0.0.1", 8080, 10485760, 8192])
        assert_eq([c.request_timeout, c.keepalive_timeout, c.debug], [30, 60, false])
    end)

    it("rejects values of the wrong type or out of range", fun ()
        assert_raises(TypeErr, fun () web.Configuration.from_dict({"port": "80"}) end)
        assert_raises(ValueErr, fun () web.Configuration.from_dict({"port": 70000}).validate() end)
        assert_raises(ValueErr, fun () web.Configuration.from_dict({"max_body_size": -1}).validate() end)
    end)
end)

describe("status constants", fun ()
    it("are the codes' numbers", fun ()
        assert_eq([web.HTTP_OK, web.HTTP_CREATED, web.HTTP_NO_CONTENT], [200, 201, 204])
        assert_eq([web.HTTP_FOUND, web.HTTP_SEE_OTHER, web.HTTP_PERMANENT_REDIRECT], [302, 303, 308])
        assert_eq([web.HTTP_UNAUTHORIZED, web.HTTP_NOT_FOUND, web.HTTP_TOO_MANY_REQUESTS], [401, 404, 429])
        assert_eq([web.HTTP_INTERNAL_SERVER_ERROR, web.HTTP_SERVICE_UNAVAILABLE], [500, 503])
    end)
end)

describe("web.run", fun ()
    it("says how to serve the app when no server is built in", fun ()
        try
            web._serve
            return nil      # this build has the server: run() would start it
        catch e: AttrErr
        end
        let message = nil
        try
            web.run(8080)
        catch e: RuntimeErr
            message = e.message()
        end
        assert(message != nil and message.contains("quest serve"), "RuntimeErr naming quest serve")
    end)

    it("does nothing once quest serve runs the app", fun ()
        web._mark_served()
        assert_nil(web.run())
        assert_nil(web.run("0.0.0.0", 8888))
    end)
end)

describe("web._server_handler", fun ()
    before(web._reset)

    fun fallback(req)
        {status: 200, body: "handle_request"}
    end

    it("refuses an app with no routes and no handle_request", fun ()
        assert_raises(RuntimeErr, fun () web._server_handler(nil) end)
    end)

    it("hands back handle_request when the app registered nothing", fun ()
        assert_eq(web._server_handler(fallback)._id(), fallback._id())
    end)

    it("otherwise runs the pipeline, with handle_request for unmatched requests", fun ()
        web.get("/", fun (req) "route" end)
        let bare = web._server_handler(nil)
        let with_fallback = web._server_handler(fallback)
        let req = {method: "GET", path: "/x", headers: {}}
        assert_eq(async.block_on(bare(req))["status"], 404)
        assert_eq(async.block_on(with_fallback(req))["body"], "handle_request")
        assert_eq(async.block_on(with_fallback({method: "GET", path: "/", headers: {}}))["body"], "route")
    end)

    it("counts static directories as something to serve", fun ()
        web.static("/public", "./public")
        assert_eq(async.block_on(web._server_handler(nil)({method: "GET", path: "/", headers: {}}))["status"], 404)
    end)
end)
