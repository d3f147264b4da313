# std/web/router: pattern syntax, parameter conversion, which route wins,
# and Router lookups.

use "std/test" {module, describe, it, assert, assert_eq, assert_nil, assert_not_nil, assert_raises}
use "std/web/router" as router
use "std/web/router" {Router}

module("std/web/router")

fun noop(req) {status: 200} end

# The pattern of the route a router picks for method and path, or nil.
fun winner(r, method, path)
    let found = r.lookup(method, path)
    if found == nil
        return nil
    end
    found["route"]["pattern"]
end

describe("parse_pattern", fun ()
    it("turns literal text into static segments and ignores empty ones", fun ()
        let segs = router.parse_pattern("//api/v1/")
        assert_eq(segs.len(), 2)
        assert_eq(segs[0], {"type": "static", "value": "api"})
        assert_eq(segs[1]["value"], "v1")
        assert_eq(router.parse_pattern("/").len(), 0)
    end)

    it("reads {name} as a Str parameter", fun ()
        assert_eq(router.parse_pattern("/u/{who}")[1], {"type": "param", "name": "who", "param_type": "str"})
    end)

    it("accepts the type in angle brackets or after a colon", fun ()
        assert_eq(router.parse_pattern("/{id<int>}")[0]["param_type"], "int")
        assert_eq(router.parse_pattern("/{id:int}")[0]["param_type"], "int")
        assert_eq(router.parse_pattern("/{id:int}")[0]["name"], "id")
        assert_eq(router.parse_pattern("/{x<float>}")[0]["param_type"], "float")
        assert_eq(router.parse_pattern("/{x:uuid}")[0]["param_type"], "uuid")
    end)

    it("has three spellings for the rest of the path", fun ()
        assert_eq(router.parse_pattern("/f/{p<path>}")[1]["param_type"], "path")
        assert_eq(router.parse_pattern("/f/{*rest}")[1], {"type": "param", "name": "rest", "param_type": "path"})
        assert_eq(router.parse_pattern("/f/*")[1]["name"], "path")
    end)

    it("refuses a path parameter before other segments", fun ()
        assert_raises(ValueErr, fun () router.parse_pattern("/{*rest}/edit") end)
        assert_raises(ValueErr, fun () router.parse_pattern("/*/x") end)
    end)

    it("refuses unknown types and nameless parameters", fun ()
        assert_raises(ValueErr, fun () router.parse_pattern("/{id<integer>}") end)
        assert_raises(ValueErr, fun () router.parse_pattern("/{}") end)
        assert_raises(ValueErr, fun () router.parse_pattern("/{<int>}") end)
    end)
end)

describe("match_path", fun ()
    it("captures and percent-decodes parameters", fun ()
        let segs = router.parse_pattern("/tag/{name}/page/{n<int>}")
        assert_eq(router.match_path(segs, "/tag/caf%C3%A9/page/3"), {"name": "café", "n": 3})
    end)

    it("does not match when the segment count differs", fun ()
        let segs = router.parse_pattern("/a/{b}")
        assert_nil(router.match_path(segs, "/a"))
        assert_nil(router.match_path(segs, "/a/b/c"))
        assert_not_nil(router.match_path(segs, "/a/b/"))
    end)

    it("does not match when a value does not convert", fun ()
        assert_nil(router.match_path(router.parse_pattern("/{n<int>}"), "/twelve"))
        assert_nil(router.match_path(router.parse_pattern("/{x<float>}"), "/1.2.3"))
        assert_nil(router.match_path(router.parse_pattern("/{u<uuid>}"), "/not-a-uuid"))
    end)

    it("converts uuid and float parameters", fun ()
        let p = router.match_path(router.parse_pattern("/{u<uuid>}/{x<float>}"),
                                  "/550e8400-e29b-41d4-a716-446655440000/2.5")
        assert_eq(p["u"].cls(), "Uuid")
        assert_eq(p["x"], 2.5)
    end)

    it("gives a path parameter every remaining segment, at least one", fun ()
        let segs = router.parse_pattern("/files/{*rest}")
        assert_eq(router.match_path(segs, "/files/a/b%20c/d.txt")["rest"], "a/b c/d.txt")
        assert_nil(router.match_path(segs, "/files"))
    end)
end)

describe("Router", fun ()
    it("keeps each router's routes to itself", fun ()
        let a = Router.new()
        a.get("/x", noop)
        assert_eq(Router.new().routes.len(), 0)
        assert_eq(a.routes.len(), 1)
    end)

    it("registers every method name, upper-cased", fun ()
        let r = Router.new()
        r.get("/", noop)
        r.post("/", noop)
        r.put("/", noop)
        r.delete("/", noop)
        r.patch("/", noop)
        r.head("/", noop)
        r.options("/", noop)
        r.any("/", noop)
        r.add("purge", "/", noop)
        let methods = []
        for route in r.routes
            methods.push(route["method"])
        end
        assert_eq(methods, ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "*", "PURGE"])
    end)

    it("prefers literal segments, then typed, then Str, then path parameters", fun ()
        let r = Router.new()
        r.get("/files/{*rest}", noop)
        r.get("/files/{name}", noop)
        r.get("/files/{id<int>}", noop)
        r.get("/files/latest", noop)
        assert_eq(winner(r, "GET", "/files/latest"), "/files/latest")
        assert_eq(winner(r, "GET", "/files/42"), "/files/{id<int>}")
        assert_eq(winner(r, "GET", "/files/notes"), "/files/{name}")
        assert_eq(winner(r, "GET", "/files/a/b"), "/files/{*rest}")
    end)

    it("decides at the first segment where patterns differ", fun ()
        let r = Router.new()
        r.get("/{section}/about", noop)
        r.get("/blog/{slug}", noop)
        assert_eq(winner(r, "GET", "/blog/about"), "/blog/{slug}")
        assert_eq(r.routes[0]["pattern"], "/blog/{slug}")
    end)

    it("keeps registration order between equally specific routes", fun ()
        let r = Router.new()
        r.get("/{a}", noop)
        r.get("/{b}", noop)
        assert_eq(winner(r, "GET", "/x"), "/{a}")
    end)

    it("answers HEAD with GET routes and any method with `any` routes", fun ()
        let r = Router.new()
        r.get("/page", noop)
        r.any("/hook/{id}", noop)
        assert_eq(winner(r, "HEAD", "/page"), "/page")
        assert_nil(r.lookup("POST", "/page"))
        assert_eq(winner(r, "DELETE", "/hook/1"), "/hook/{id}")
    end)

    it("lists the methods a path answers", fun ()
        let r = Router.new()
        r.get("/items/{id}", noop)
        r.put("/items/{id}", noop)
        r.post("/items", noop)
        assert_eq(r.allowed_methods("/items/3"), ["GET", "PUT"])
        assert_eq(r.allowed_methods("/items"), ["POST"])
        assert_eq(r.allowed_methods("/nothing"), [])
    end)

    it("dispatches with params in the request", fun ()
        let r = Router.new()
        r.get("/sq/{n<int>}", fun (req) req["params"]["n"] * req["params"]["n"] end)
        let req = {"method": "GET", "path": "/sq/7"}
        assert_eq(r._dispatch(req, nil), 49)
        assert_eq(req["params"], {"n": 7})
        assert_nil(r._dispatch({"method": "GET", "path": "/cube/2"}, nil))
        assert_eq(r._dispatch({"method": "GET", "path": "/cube/2"}, fun (req) "missing" end), "missing")
    end)

    it("hands the request back from dispatch when nothing matches", fun ()
        let r = Router.new()
        let req = {"method": "GET", "path": "/none"}
        assert_eq(r.dispatch(req)._id(), req._id())
        assert_eq(router.dispatch_router(r, req), nil)
    end)

    it("finds literal routes by exact lookup, first registration first", fun ()
        let r = Router.new()
        r.get("/dup", fun (req) "first" end)
        r.get("/dup/", fun (req) "second" end)
        assert_eq(r._dispatch({"method": "GET", "path": "//dup"}, nil), "first")
    end)
end)
