# CORS: web.cors / web.set_cors for the whole app, and the middleware in
# std/web/middleware/cors, security and static_cache.

use "std/test" {module, describe, it, before, assert, assert_eq, assert_nil}
use "std/web"
use "std/web/middleware/cors" as cors_mw
use "std/web/middleware/security"
use "std/web/middleware/static_cache"
use "._helpers/client"

module("std/web CORS and header middleware")

fun preflight_from(origin)
    client.send("OPTIONS", "/api/data", {"origin": origin, "access-control-request-method": "PUT"})
end

describe("web.cors", fun ()
    before(fun ()
        web._reset()
        web.get("/api/data", fun (req) {status: 200, json: [1]} end)
    end)

    it("answers preflights before middleware, with the allowed methods and headers", fun ()
        web.cors(origins: ["https://app.example"], methods: ["GET", "PUT"], headers: ["Content-Type"], max_age: 600)
        web.middleware(fun (req) {status: 401} end)
        let resp = preflight_from("https://app.example")
        assert_eq(resp["status"], 204)
        assert_eq(client.header(resp, "Access-Control-Allow-Origin"), "https://app.example")
        assert_eq(client.header(resp, "Access-Control-Allow-Methods"), "GET, PUT")
        assert_eq(client.header(resp, "Access-Control-Allow-Headers"), "Content-Type")
        assert_eq(client.header(resp, "Access-Control-Max-Age"), "600")
        assert_eq(client.header(resp, "Vary"), "Origin")
    end)

    it("gives a preflight from another origin no CORS headers", fun ()
        web.cors(origins: ["https://app.example"])
        let resp = preflight_from("https://evil.example")
        assert_eq(resp["status"], 204)
        assert_nil(client.header(resp, "Access-Control-Allow-Origin"))
        assert_nil(client.header(resp, "Access-Control-Allow-Methods"))
    end)

    it("adds Allow-Origin to responses for allowed origins only", fun ()
        web.cors(origins: ["https://app.example"], expose_headers: ["X-Total"])
        let ok = client.send("GET", "/api/data", {"origin": "https://app.example"})
        assert_eq(client.header(ok, "Access-Control-Allow-Origin"), "https://app.example")
        assert_eq(client.header(ok, "Access-Control-Expose-Headers"), "X-Total")
        let other = client.send("GET", "/api/data", {"origin": "https://evil.example"})
        assert_nil(client.header(other, "Access-Control-Allow-Origin"))
        let same_site = client.send("GET", "/api/data")
        assert_nil(client.header(same_site, "Access-Control-Allow-Origin"))
    end)

    it("answers \"*\" for any origin, but the origin itself with credentials", fun ()
        web.cors()
        assert_eq(client.header(client.send("GET", "/api/data", {"origin": "http://a.test"}), "Access-Control-Allow-Origin"), "*")
        web.set_cors(credentials: true)
        let resp = client.send("GET", "/api/data", {"origin": "http://a.test"})
        assert_eq(client.header(resp, "Access-Control-Allow-Origin"), "http://a.test")
        assert_eq(client.header(resp, "Access-Control-Allow-Credentials"), "true")
    end)

    it("adds Origin to an existing Vary header", fun ()
        web.cors(origins: ["http://a.test"])
        web.get("/v", fun (req) {status: 200, headers: {"Vary": "Accept"}, body: ""} end)
        assert_eq(client.header(client.send("GET", "/v", {"origin": "http://a.test"}), "Vary"), "Accept, Origin")
    end)

    it("also marks error responses, so browsers can read them", fun ()
        web.cors()
        assert_eq(client.header(client.send("GET", "/missing", {"origin": "http://a.test"}), "Access-Control-Allow-Origin"), "*")
    end)

    it("keeps the settings in the configuration until disabled", fun ()
        web.set_cors(origins: ["http://a.test"], methods: ["GET"])
        assert_eq(web._get_config()["cors"]["origins"], ["http://a.test"])
        assert_eq(web._get_config()["cors"]["headers"], ["Content-Type", "Authorization"])
        web.disable_cors()
        assert_nil(web._get_config()["cors"])
        assert_eq(preflight_from("http://a.test")["status"], 405)
    end)
end)

describe("middleware modules", fun ()
    before(web._reset)

    it("cors answers preflights and marks responses", fun ()
        web.middleware(cors_mw.allow_origins(["http://a.test"]))
        web.get("/x", fun (req) "x" end)
        let pre = client.send("OPTIONS", "/x", {"origin": "http://a.test", "access-control-request-method": "GET"})
        assert_eq([pre["status"], client.header(pre, "Access-Control-Allow-Origin")], [204, "http://a.test"])
        let resp = client.send("GET", "/x", {"origin": "http://a.test"})
        assert_eq(client.header(resp, "Access-Control-Allow-Methods"), "GET, POST, PUT, DELETE")
        assert_nil(client.header(client.send("GET", "/x", {"origin": "http://b.test"}), "Access-Control-Allow-Origin"))
    end)

    it("security adds its headers without overriding the app's", fun ()
        web.middleware(security.security_headers())
        web.get("/", fun (req) {status: 200, headers: {"X-Frame-Options": "SAMEORIGIN"}, body: ""} end)
        let resp = client.send("GET", "/")
        assert_eq(client.header(resp, "X-Content-Type-Options"), "nosniff")
        assert_eq(client.header(resp, "X-Frame-Options"), "SAMEORIGIN")
    end)

    it("static_cache sets Cache-Control by path suffix", fun ()
        web.middleware(static_cache.static_cache(max_age: 60, extensions: [".css"]))
        web.get("/{name}", fun (req) "" end)
        assert_eq(client.header(client.send("GET", "/site.css"), "Cache-Control"), "public, max-age=60")
        assert_nil(client.header(client.send("GET", "/page.html"), "Cache-Control"))
    end)
end)
