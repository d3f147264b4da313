# The example apps answer as their comments promise.  Each is loaded into an
# empty std/web (module state is per VM) and driven like the server would.
# Paths are relative to the repository root, where `quest test` runs.

use "std/test" {module, describe, it, before_all, assert, assert_eq, assert_nil}
use "std/encoding/json"
use "std/io"
use "std/sys"
use "std/web"
use "._helpers/client"

module("std/web examples")

# Load the example at path into a fresh app, its "web.run needs the server"
# line kept out of the test output.
fun load_example(path)
    web._reset()
    with sys.redirect_stream(sys.stdout, io.StringIO.new())
        sys.load_module(path)
    end
end

describe("examples/web/app.q", fun ()
    before_all(fun () load_example("examples/web/app.q") end)

    it("lists the guestbook and takes new entries", fun ()
        assert(client.send("GET", "/")["body"].contains("Welcome! Sign below."))
        let signed = client.send("POST", "/sign", {"content-type": "application/x-www-form-urlencoded"},
                                 "name=Ada&message=%3Cb%3Ehi%3C%2Fb%3E")
        assert_eq([signed["status"], client.header(signed, "Location")], [303, "/"])
        assert(client.send("GET", "/")["body"].contains("<b>Ada</b>: &lt;b&gt;hi&lt;/b&gt;"))
        assert_eq(client.send("POST", "/sign", nil, "name=&message=x")["status"], 400)
    end)

    it("routes typed parameters", fun ()
        assert_eq(client.send("GET", "/square/12")["body"], "12 squared is 144")
        assert_eq(client.send("GET", "/square/twelve")["status"], 404)
        assert(client.send("GET", "/hello/Bob")["body"].contains("Hello, Bob!"))
    end)

    it("awaits its async pages", fun ()
        assert(client.send("GET", "/dashboard")["body"].contains("weather (0.3s), news (0.2s)"))
    end)

    it("adds its headers and error pages", fun ()
        let home = client.send("GET", "/")
        assert(client.header(home, "X-Response-Time").endswith("ms"))
        assert_eq(client.header(home, "X-Content-Type-Options"), "nosniff")
        let missing = client.send("GET", "/nope")
        assert_eq(missing["status"], 404)
        assert(missing["body"].contains("Nothing lives at /nope"))
        let broken = client.send("GET", "/broken")
        assert_eq(broken["status"], 500)
        assert_eq(broken["body"].contains("on purpose"), false)
        assert_eq(client.send("GET", "/home")["status"], 301)
    end)

    it("registers its stylesheet directory", fun ()
        let dirs = web._static_routes()
        assert_eq(dirs[0]["url_path"], "/static")
        assert(io.exists(io.join(dirs[0]["fs_path"], "style.css")))
    end)
end)

describe("examples/api/app.q", fun ()
    before_all(fun () load_example("examples/api/app.q") end)

    let auth = {"authorization": "Bearer secret"}

    it("lists, creates, updates and deletes todos", fun ()
        let listed = client.send("GET", "/api/v1/todos")
        assert_eq(listed["json"]["count"], 1)
        let made = client.send("POST", "/api/v1/todos", auth, json.stringify({"title": "Write docs"}))
        assert_eq(made["status"], 201)
        let id = made["json"]["id"].str()
        assert_eq(client.header(made, "Location"), "/api/v1/todos/" .. id)
        let done = client.send("PATCH", "/api/v1/todos/" .. id, auth, "{\"done\": true}")
        assert_eq(done["json"]["done"], true)
        assert_eq(client.send("GET", "/api/v1/todos?done=true")["json"]["count"], 1)
        assert_eq(client.send("DELETE", "/api/v1/todos/" .. id, auth)["status"], 204)
        assert_eq(client.send("GET", "/api/v1/todos/" .. id)["status"], 404)
    end)

    it("checks the token and the body of writes", fun ()
        assert_eq(client.send("POST", "/api/v1/todos", nil, "{\"title\": \"x\"}")["status"], 401)
        let bad = client.send("POST", "/api/v1/todos", auth, "not json")
        assert_eq(bad["status"], 422)
        assert_eq(client.header(bad, "Content-Type"), "application/json")
    end)

    it("answers unknown routes and methods in JSON", fun ()
        assert_eq(client.send("GET", "/api/v1/users")["json"], {"error": "no route for GET /api/v1/users"})
        assert_eq(client.send("PUT", "/", auth)["status"], 405)
    end)

    it("answers CORS preflights", fun ()
        let pre = client.send("OPTIONS", "/api/v1/todos", {"origin": "http://localhost:5173", "access-control-request-method": "POST"})
        assert_eq([pre["status"], client.header(pre, "Access-Control-Allow-Origin")], [204, "*"])
        assert_eq(client.header(pre, "Access-Control-Allow-Methods"), "GET, POST, PATCH, DELETE")
    end)
end)
