# web.websocket registration: what it records for the server and what it
# refuses (the connections themselves: tests/e2e/ws_test.sh).

use "std/test" {module, describe, it, assert_eq, assert_raises}
use "std/web"

module("std/web websocket")

async fun handler(ws, req)
    nil
end

# The route most recently registered.
fun last_route()
    let routes = web._ws_routes()
    routes[routes.len() - 1]
end

describe("web.websocket", fun ()
    it("records the path, the handler and its options", fun ()
        web.websocket("/chat", handler, protocols: ["chat.v2"], origins: ["https://example.com"])
        let r = last_route()
        assert_eq(r["path"], "/chat")
        assert_eq(r["protocols"], ["chat.v2"])
        assert_eq(r["origins"], ["https://example.com"])
    end)

    it("takes std/web/router patterns", fun ()
        web.websocket("/rooms/{room}/{n<int>}", handler)
        assert_eq(last_route()["path"], "/rooms/{room}/{n<int>}")
        web.websocket("/files/{*rest}", handler)
        assert_eq(last_route()["path"], "/files/{*rest}")
    end)

    it("refuses a malformed pattern when it is registered", fun ()
        let before = web._ws_routes().len()
        assert_raises(ValueErr, fun () web.websocket("/rooms/{n<bogus>}", handler) end)
        assert_raises(ValueErr, fun () web.websocket("/files/{*rest}/more", handler) end)
        assert_raises(ValueErr, fun () web.websocket("/rooms/{}", handler) end)
        assert_eq(web._ws_routes().len(), before)
    end)

    it("refuses a path without a leading / and a handler that is not a function", fun ()
        assert_raises(ValueErr, fun () web.websocket("chat", handler) end)
        assert_raises(TypeErr, fun () web.websocket("/chat", 42) end)
    end)

    it("refuses unknown options and options of the wrong type", fun ()
        assert_raises(ArgErr, fun () web.websocket("/chat", handler, protocol: ["x"]) end)
        assert_raises(TypeErr, fun () web.websocket("/chat", handler, protocols: [1]) end)
        assert_raises(TypeErr, fun () web.websocket("/chat", handler, origins: "https://example.com") end)
    end)
end)
