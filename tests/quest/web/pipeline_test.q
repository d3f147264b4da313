# std/web: routes, parameters, responses, middleware and after hooks,
# redirects and default headers, driven through web._handle as the server
# drives it.

use "std/test" {module, describe, it, before, assert, assert_eq, assert_nil, assert_raises}
use "std/web"
use "std/web/router" {Router}
use "._helpers/client"

module("std/web request pipeline")

describe("routes", fun ()
    before(web._reset)

    it("answers each method with its own handler", fun ()
        web.get("/items", fun (req) {status: 200, body: "list"} end)
        web.post("/items", fun (req) {status: 201, body: "created " .. req["body"]} end)
        web.put("/items/{id}", fun (req) {status: 200, body: "put"} end)
        web.patch("/items/{id}", fun (req) {status: 200, body: "patch"} end)
        web.delete("/items/{id}", fun (req) {status: 204} end)
        assert_eq(client.send("GET", "/items")["body"], "list")
        let made = client.send("POST", "/items", nil, "pen")
        assert_eq([made["status"], made["body"]], [201, "created pen"])
        assert_eq(client.send("PUT", "/items/1")["body"], "put")
        assert_eq(client.send("PATCH", "/items/1")["body"], "patch")
        assert_eq(client.send("DELETE", "/items/1")["status"], 204)
    end)

    it("puts converted path parameters in req[\"params\"]", fun ()
        web.get("/users/{id<int>}/posts/{slug}", fun (req)
            {status: 200, json: req["params"]}
        end)
        let resp = client.send("GET", "/users/12/posts/hello%20there")
        assert_eq(resp["json"], {"id": 12, "slug": "hello there"})
    end)

    it("ignores the query string when matching", fun ()
        web.get("/search", fun (req) req["query_string"] end)
        assert_eq(client.send("GET", "/search?q=quest")["body"], "q=quest")
    end)

    it("lets HEAD use the GET route and `any` take every method", fun ()
        web.get("/page", fun (req) "page" end)
        web.any("/echo", fun (req) req["method"] end)
        assert_eq(client.send("HEAD", "/page")["status"], 200)
        assert_eq(client.send("OPTIONS", "/echo")["body"], "OPTIONS")
    end)

    it("turns Str and Bytes results into 200 responses", fun ()
        web.get("/text", fun (req) "<p>hi</p>" end)
        web.get("/bin", fun (req) b"\x00\x01" end)
        let text = client.send("GET", "/text")
        assert_eq([text["status"], text["body"]], [200, "<p>hi</p>"])
        assert_eq(client.header(text, "content-type"), "text/html; charset=utf-8")
        let bin = client.send("GET", "/bin")
        assert_eq(bin["body"], b"\x00\x01")
        assert_eq(client.header(bin, "Content-Type"), "application/octet-stream")
    end)

    it("gives a Dict without status the status 200", fun ()
        web.get("/bare", fun (req) {body: "ok"} end)
        assert_eq(client.send("GET", "/bare")["status"], 200)
    end)

    it("labels json responses as application/json unless the handler says otherwise", fun ()
        web.get("/j", fun (req) {status: 200, json: [1, 2]} end)
        web.get("/k", fun (req) {status: 200, json: {}, headers: {"content-type": "application/vnd.x+json"}} end)
        assert_eq(client.header(client.send("GET", "/j"), "Content-Type"), "application/json")
        assert_eq(client.header(client.send("GET", "/k"), "Content-Type"), "application/vnd.x+json")
    end)

    it("passes requests no route takes to the fallback handler", fun ()
        web.get("/known", fun (req) "known" end)
        let fallback = fun (req) {status: 200, body: "fallback " .. req["path"]} end
        assert_eq(client.handle_with(client.request("GET", "/known"), fallback)["body"], "known")
        assert_eq(client.handle_with(client.request("GET", "/other"), fallback)["body"], "fallback /other")
    end)
end)

describe("mounted routers", fun ()
    before(web._reset)

    it("match below their base path, seeing the path relative to it", fun ()
        let api = Router.new()
        api.get("/users/{id}", fun (req) req["path"] .. " " .. req["params"]["id"] end)
        api.get("/", fun (req) "api root" end)
        web.route("/api", api)
        let req = client.request("GET", "/api/users/5")
        assert_eq(client.handle(req)["body"], "/users/5 5")
        assert_eq(req["path"], "/api/users/5")
        assert_eq(client.send("GET", "/api")["body"], "api root")
        assert_eq(client.send("GET", "/api/")["body"], "api root")
    end)

    it("do not match paths that merely start with the base text", fun ()
        let admin = Router.new()
        admin.get("/x", fun (req) "admin" end)
        web.route("/admin", admin)
        assert_eq(client.send("GET", "/adminx")["status"], 404)
    end)

    it("mount at the root with \"\" or \"/\"", fun ()
        let a = Router.new()
        a.get("/a", fun (req) "a" end)
        let b = Router.new()
        b.get("/b", fun (req) "b" end)
        web.route("", a)
        web.route("/", b)
        assert_eq(client.send("GET", "/a")["body"], "a")
        assert_eq(client.send("GET", "/b")["body"], "b")
    end)

    it("carry on when a handler hands the request back or returns nil", fun ()
        let r = Router.new()
        r.get("/maybe/{n<int>}", fun (req)
            if req["params"]["n"] > 10
                return req
            end
            if req["params"]["n"] > 5
                return nil
            end
            "small"
        end)
        web.route("/", r)
        web.middleware(fun (req) {status: 200, body: "next in line"} end)
        assert_eq(client.send("GET", "/maybe/1")["body"], "small")
        assert_eq(client.send("GET", "/maybe/7")["body"], "next in line")
        assert_eq(client.send("GET", "/maybe/70")["body"], "next in line")
    end)

    it("need a base starting with /", fun ()
        assert_raises(ValueErr, fun () web.route("api", Router.new()) end)
    end)

    it("run in registration order with the other middleware", fun ()
        let seen = []
        let r = Router.new()
        r.get("/", fun (req) "routed" end)
        web.middleware(fun (req) seen.push("first") end)
        web.route("/r", r)
        web.middleware(fun (req) seen.push("second") end)
        assert_eq(client.send("GET", "/r")["body"], "routed")
        assert_eq(seen, ["first"])
    end)

    it("are listed by get_registered_routers", fun ()
        let r = Router.new()
        web.route("/v1/", r)
        let listed = web.get_registered_routers()
        assert_eq(listed.len(), 1)
        assert_eq(listed[0]["base_path"], "/v1")
    end)
end)

describe("middleware", fun ()
    before(web._reset)

    it("runs in registration order before the route", fun ()
        let order = []
        web.middleware(fun (req) order.push("a") req end)
        web.middleware(fun (req) order.push("b") nil end)
        web.get("/", fun (req) order.push("handler") "done" end)
        client.send("GET", "/")
        assert_eq(order, ["a", "b", "handler"])
    end)

    it("answers the request when it returns a Dict with a status", fun ()
        let reached = false
        web.middleware(fun (req)
            if req["headers"].get("authorization") == nil
                return {status: 401, body: "login first"}
            end
        end)
        web.get("/secret", fun (req) reached = true "secret" end)
        let resp = client.send("GET", "/secret")
        assert_eq([resp["status"], resp["body"]], [401, "login first"])
        assert_eq(reached, false)
        assert_eq(client.send("GET", "/secret", {"authorization": "yes"})["body"], "secret")
    end)

    it("can change the request in place or replace it", fun ()
        web.middleware(fun (req) req["user"] = "ada" req end)
        web.middleware(fun (req)
            let copy = {}
            for k in req.keys()
                copy[k] = req[k]
            end
            copy["role"] = "admin"
            copy
        end)
        web.get("/me", fun (req) req["user"] .. "/" .. req["role"] end)
        assert_eq(client.send("GET", "/me")["body"], "ada/admin")
    end)

    it("registers the before and after parts of a middleware Dict", fun ()
        web.middleware({
            "before": fun (req) req["t"] = 1 req end,
            "after": fun (req, resp) resp["headers"]["X-T"] = req["t"].str() resp end
        })
        web.get("/", fun (req) "x" end)
        assert_eq(client.header(client.send("GET", "/"), "X-T"), "1")
        assert_eq(web._get_config()["middlewares"].len(), 1)
        assert_eq(web._get_config()["after_middlewares"].len(), 1)
    end)

    it("keeps the old names before_request and after_request", fun ()
        web.before_request(fun (req) req end)
        web.after_request(fun (req, resp) resp end)
        assert_eq(web._get_config()["middlewares"].len(), 1)
        assert_eq(web._get_config()["after_middlewares"].len(), 1)
    end)
end)

describe("after middleware", fun ()
    before(web._reset)

    it("runs in order on every response, short-circuits and 404s included", fun ()
        web.after(fun (req, resp)
            resp["headers"] = resp.get("headers") or {}
            resp["headers"]["X-Trail"] = "one"
            resp
        end)
        web.after(fun (req, resp)
            resp["headers"]["X-Trail"] = resp["headers"]["X-Trail"] .. ",two"
            resp
        end)
        web.middleware(fun (req)
            if req["path"] == "/stop"
                return {status: 403}
            end
        end)
        web.get("/", fun (req) "home" end)
        assert_eq(client.header(client.send("GET", "/"), "X-Trail"), "one,two")
        assert_eq(client.header(client.send("GET", "/stop"), "X-Trail"), "one,two")
        assert_eq(client.header(client.send("GET", "/missing"), "X-Trail"), "one,two")
    end)

    it("may replace the response, and keeps it when returning nothing", fun ()
        web.after(fun (req, resp) nil end)
        web.after(fun (req, resp) {status: 202, body: "replaced " .. resp["body"]} end)
        web.get("/", fun (req) "orig" end)
        let resp = client.send("GET", "/")
        assert_eq([resp["status"], resp["body"]], [202, "replaced orig"])
    end)
end)

describe("redirects and default headers", fun ()
    before(web._reset)

    it("redirects an exact path, 302 by default", fun ()
        web.redirect("/old", "/new")
        web.redirect("/gone", "https://example.com/", 301)
        let r = client.send("GET", "/old?x=1")
        assert_eq([r["status"], client.header(r, "Location")], [302, "/new"])
        assert_eq(client.send("GET", "/gone")["status"], 301)
        assert_eq(client.send("GET", "/old/more")["status"], 404)
        assert_eq(web._get_config()["redirects"]["/gone"], ["https://example.com/", 301])
    end)

    it("adds default headers the response does not set, in any case", fun ()
        web.set_default_headers({"X-Frame-Options": "DENY", "Server": "quest"})
        web.get("/", fun (req) {status: 200, headers: {"server": "mine"}, body: ""} end)
        let resp = client.send("GET", "/")
        assert_eq(client.header(resp, "X-Frame-Options"), "DENY")
        assert_eq(resp["headers"]["server"], "mine")
        assert_nil(resp["headers"].get("Server"))
    end)
end)
