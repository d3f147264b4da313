# std/web error handling: 404 and 405, exceptions and the on_error
# handlers, debug output, errors the server reports through web._error,
# and the reference's fall-through for routers mounted with web.route.

use "std/test" {module, describe, it, before, assert, assert_eq, assert_neq, assert_nil}
use "std/async"
use "std/web"
use "std/web/router" {Router}
use "._helpers/client"

module("std/web errors")

fun boom(req)
    raise ValueErr.new("database is on fire")
end

describe("no matching route", fun ()
    before(web._reset)

    it("answers 404 Not Found as plain text", fun ()
        let resp = client.send("GET", "/nowhere")
        assert_eq([resp["status"], resp["body"]], [404, "Not Found"])
        assert_eq(client.header(resp, "Content-Type"), "text/plain; charset=utf-8")
    end)

    it("uses the on_error(404) handler, called with the request", fun ()
        web.on_error(404, fun (req) {status: 404, body: "no page at " .. req["path"]} end)
        assert_eq(client.send("GET", "/lost")["body"], "no page at /lost")
        assert_eq(web._get_config()["error_handlers"].contains("404"), true)
    end)

    it("answers 405 with an Allow header when only the method is wrong", fun ()
        web.get("/thing", fun (req) "thing" end)
        web.post("/thing", fun (req) "made" end)
        let resp = client.send("DELETE", "/thing")
        assert_eq(resp["status"], 405)
        assert_eq(client.header(resp, "Allow"), "GET, POST, HEAD")
    end)

    it("counts mounted routers when deciding on 405", fun ()
        let r = Router.new()
        r.put("/doc/{id}", fun (req) "ok" end)
        web.route("/v2", r)
        let resp = client.send("GET", "/v2/doc/1")
        assert_eq([resp["status"], client.header(resp, "Allow")], [405, "PUT"])
    end)

    it("uses the on_error(405) handler", fun ()
        web.get("/only-get", fun (req) "x" end)
        web.on_error(405, fun (req) {status: 405, json: {error: "method"}} end)
        let resp = client.send("POST", "/only-get")
        assert_eq(resp["json"], {"error": "method"})
        assert_eq(client.header(resp, "Allow"), "GET, HEAD")
    end)

    it("treats a 404 handler that raises as a server error", fun ()
        web.on_error(404, boom)
        assert_eq(client.send("GET", "/x")["status"], 500)
    end)
end)

describe("exceptions", fun ()
    before(web._reset)

    it("become a 500 that does not show the error to the client", fun ()
        web.get("/fire", boom)
        let resp = client.send("GET", "/fire")
        assert_eq([resp["status"], resp["body"]], [500, "Internal Server Error"])
        assert_eq(resp["body"].contains("fire"), false)
    end)

    it("are logged to stderr with the request line and the stack", fun ()
        web.get("/fire", boom)
        client.send("GET", "/fire")
        assert(client.log().contains("[web] GET /fire: ValueErr: database is on fire"))
        assert(client.log().contains("boom"))
    end)

    it("go to the on_error(500) handler with the error text", fun ()
        web.get("/fire", boom)
        web.on_error(500, fun (req, message) {status: 503, body: "sorry: " .. message} end)
        let resp = client.send("GET", "/fire")
        assert_eq([resp["status"], resp["body"]], [503, "sorry: ValueErr: database is on fire"])
    end)

    it("fall back to the default 500 when the error handler raises too", fun ()
        web.get("/fire", boom)
        web.on_error(500, fun (req, message) raise RuntimeErr.new("handler broke") end)
        let resp = client.send("GET", "/fire")
        assert_eq([resp["status"], resp["body"]], [500, "Internal Server Error"])
        assert(client.log().contains("handler broke"))
    end)

    it("reach on_error(0), the handler for every status", fun ()
        web.get("/fire", boom)
        web.on_error(0, fun (req, message = nil) {status: 599, body: "generic"} end)
        assert_eq(client.send("GET", "/fire")["body"], "generic")
        assert_eq(client.send("GET", "/none")["body"], "generic")
    end)

    it("in middleware and after hooks are handled the same way", fun ()
        web.on_error(500, fun (req, message) {status: 500, body: message} end)
        web.middleware(fun (req)
            if req["path"] == "/mw"
                raise KeyErr.new("no session")
            end
        end)
        web.after(fun (req, resp)
            if req["path"] == "/after"
                raise IndexErr.new("bad index")
            end
            resp
        end)
        web.get("/after", fun (req) "fine" end)
        assert_eq(client.send("GET", "/mw")["body"], "KeyErr: no session")
        assert_eq(client.send("GET", "/after")["body"], "IndexErr: bad index")
    end)

    it("include a handler returning nil or a number", fun ()
        web.get("/nil", fun (req) nil end)
        web.get("/num", fun (req) 42 end)
        assert_eq(client.send("GET", "/nil")["status"], 500)
        assert(client.log().contains("returned nil"))
        assert_eq(client.send("GET", "/num")["status"], 500)
        assert(client.log().contains("returned Int"))
    end)

    it("include headers that are not a Dict", fun ()
        web.get("/h", fun (req) {status: 200, headers: "X-A: 1", body: ""} end)
        assert_eq(client.send("GET", "/h")["status"], 500)
        assert(client.log().contains("must be a Dict, got Str"))
    end)

    it("show the error and stack in the default 500 in debug mode", fun ()
        web.get("/fire", boom)
        web.set_debug(true)
        let body = client.send("GET", "/fire")["body"]
        web.set_debug(false)
        assert(body.startswith("Internal Server Error\n\nValueErr: database is on fire"))
        assert(body.contains("boom"))
    end)
end)

describe("routers mounted with web.route", fun ()
    before(web._reset)

    it("carry on as if unmatched when a handler raises, as the reference does", fun ()
        let r = Router.new()
        r.post("/new", boom)
        web.route("/admin", r)
        web.middleware(fun (req) {status: 404, body: "custom 404 page"} end)
        let resp = client.send("POST", "/admin/new")
        assert_eq([resp["status"], resp["body"]], [404, "custom 404 page"])
        assert(client.log().contains("database is on fire"))
        assert(client.log().contains("/admin"))
    end)

    it("restore the request path after a failing handler", fun ()
        let r = Router.new()
        r.get("/x", boom)
        web.route("/m", r)
        let req = client.request("GET", "/m/x")
        client.handle(req)
        assert_eq(req["path"], "/m/x")
    end)
end)

describe("errors the server reports", fun ()
    before(web._reset)

    it("get a default response showing the message for 4xx", fun ()
        let resp = async.block_on(web._error(client.request("POST", "/upload"), 413, "the body exceeds 10485760 bytes"))
        assert_eq(resp["status"], 413)
        assert_eq(resp["body"], "Payload Too Large\n\nthe body exceeds 10485760 bytes")
    end)

    it("but not for 5xx", fun ()
        let resp = async.block_on(web._error(client.request("GET", "/slow"), 503, "timed out after 30 s"))
        assert_eq([resp["status"], resp["body"]], [503, "Service Unavailable"])
    end)

    it("go to the app's on_error handlers, and get default headers", fun ()
        web.on_error(400, fun (req) {status: 400, json: {error: "bad upload"}} end)
        web.on_error(503, fun (req, message) {status: 503, body: "busy: " .. message} end)
        web.set_default_headers({"X-App": "demo"})
        let bad = async.block_on(web._error(client.request("POST", "/up"), 400, "Invalid multipart/form-data"))
        assert_eq(bad["json"], {"error": "bad upload"})
        assert_eq(client.header(bad, "X-App"), "demo")
        let busy = async.block_on(web._error(client.request("GET", "/"), 503, "timed out"))
        assert_eq(busy["body"], "busy: timed out")
    end)
end)

describe("status_text", fun ()
    it("names the status codes", fun ()
        assert_eq(web.status_text(200), "OK")
        assert_eq(web.status_text(418), "I'm a teapot")
        assert_eq(web.status_text(599), "Unknown")
    end)
end)
