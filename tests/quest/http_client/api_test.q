# std/http/client's API against tests/servers/http_test_server.py on :6124
# (scripts/test-servers starts it; without it these tests skip).
use "std/test" { module, describe, it, skip, assert, assert_eq, assert_nil, assert_type, assert_raises }
use "std/http/client" as http
use "std/http/client" { HttpErr }
use "std/async"

module("std/http/client: API")

let base = "http://127.0.0.1:6124"
let up = false
try
    up = http.get(base .. "/ping", timeout: 2).ok()
catch e
end

# it(), or skip() when the test server is not running.
fun check(name, body)
    if up
        it(name, body)
    else
        skip(name, "no test server on 127.0.0.1:6124 (scripts/test-servers start)")
    end
end

describe("keyword options of the verbs", fun ()
    check("sends headers: and query:", fun ()
        let r = http.get(base .. "/echo?x=0", headers: {"X-Token": "abc", "X-Num": 5},
                         query: {"q": "a b&c", "n": 2, "list": [1, 2]})
        let e = r.json()
        assert_eq(e["headers"]["x-token"], "abc")
        assert_eq(e["headers"]["x-num"], "5")
        assert_eq(e["query"], "x=0&q=a+b%26c&n=2&list=1&list=2")
        assert_eq(e["args"]["q"], "a b&c")
    end)

    check("body: sends raw text without a content type", fun ()
        let e = http.post(base .. "/echo", body: "plain words").json()
        assert_eq(e["method"], "POST")
        assert_eq(e["body"], "plain words")
        assert_nil(e["headers"].get("content-type"))
        assert_nil(e["headers"].get("expect"))
    end)

    check("body: Bytes and body: Dict (as JSON)", fun ()
        assert_eq(http.put(base .. "/echo", body: b"\x41\x42").json()["body"], "AB")
        let e = http.patch(base .. "/echo", body: {"k": [1, 2]}).json()
        assert_eq(e["method"], "PATCH")
        assert_eq(e["body"], "{\"k\":[1,2]}")
        assert_eq(e["headers"]["content-type"], "application/json")
    end)

    check("json: and form: set their content types", fun ()
        let j = http.post(base .. "/echo", json: [1, "two", nil]).json()
        assert_eq(j["body"], "[1,\"two\",null]")
        assert_eq(j["headers"]["content-type"], "application/json")
        let f = http.post(base .. "/echo", form: {"name": "Ann Lee", "x": "1&2"}).json()
        assert_eq(f["body"], "name=Ann+Lee&x=1%262")
        assert_eq(f["headers"]["content-type"], "application/x-www-form-urlencoded")
    end)

    check("a content type given in headers: wins", fun ()
        let e = http.post(base .. "/echo", json: {"a": 1}, headers: {"content-type": "application/vnd.x+json"}).json()
        assert_eq(e["headers"]["content-type"], "application/vnd.x+json")
    end)

    check("a GET may carry a body", fun ()
        let e = http.get(base .. "/echo", body: "q").json()
        assert_eq(e["method"], "GET")
        assert_eq(e["body"], "q")
    end)

    check("an empty POST sends Content-Length: 0", fun ()
        let e = http.post(base .. "/echo").json()
        assert_eq(e["headers"]["content-length"], "0")
        assert_nil(e["headers"].get("content-type"))
    end)

    check("every verb", fun ()
        for m in ["get", "post", "put", "delete", "patch", "options"]
            let r = nil
            match m
            in "get" r = http.get(base .. "/echo")
            in "post" r = http.post(base .. "/echo")
            in "put" r = http.put(base .. "/echo")
            in "delete" r = http.delete(base .. "/echo")
            in "patch" r = http.patch(base .. "/echo")
            in "options" r = http.options(base .. "/echo")
            end
            assert_eq(r.json()["method"], m.upper())
        end
        let h = http.head(base .. "/echo")
        assert_eq(h.status(), 200)
        assert_eq(h.bytes().len(), 0)
    end)

    check("bad options raise before anything is sent", fun ()
        assert_raises(ArgErr, fun () http.get(base .. "/echo", nope: 1) end)
        assert_raises(ArgErr, fun () http.post(base .. "/echo", body: "a", json: {}) end)
        assert_raises(TypeErr, fun () http.post(base .. "/echo", body: 5) end)
        assert_raises(TypeErr, fun () http.get(base .. "/echo", headers: "x") end)
        assert_raises(ValueErr, fun () http.get(base .. "/echo", timeout: -1) end)
        assert_raises(ValueErr, fun () http.get(base .. "/echo", headers: {"X": "a\r\nB: c"}) end)
        assert_raises(ValueErr, fun () http.get(base .. "/echo", headers: {"Bad Name": "x"}) end)
    end)
end)

describe("URLs", fun ()
    it("only http and https URLs are accepted", fun ()
        assert_raises(ValueErr, fun () http.get("file:///etc/passwd") end)
        assert_raises(ValueErr, fun () http.get("not a url") end)
        assert_raises(TypeErr, fun () http.get(5) end)
    end)
end)

describe("HttpClient", fun ()
    check("default headers, under the request's own", fun ()
        let c = http.client(headers: {"X-App": "quest", "X-Over": "client"})
        c.set_header("X-Set", "yes")
        let e = c.get(base .. "/echo", headers: {"X-Over": "request"}).json()
        assert_eq(e["headers"]["x-app"], "quest")
        assert_eq(e["headers"]["x-set"], "yes")
        assert_eq(e["headers"]["x-over"], "request")
        assert_eq(c.headers()["X-Set"], "yes")
    end)

    it("timeout settings", fun ()
        let c = http.client()
        assert_eq(c.timeout(), 30)
        c.set_timeout(2.5)
        assert_eq(c.timeout(), 2.5)
        assert_eq(http.client(timeout: 4).timeout(), 4)
        assert_raises(ArgErr, fun () http.client(bogus: true) end)
        assert_raises(ValueErr, fun () http.client(max_redirects: -1) end)
        assert_eq(c.str(), "<HttpClient>")
    end)

    check("keeps cookies between its requests", fun ()
        let c = http.client()
        c.get(base .. "/cookies")
        let e = c.get(base .. "/echo").json()
        assert(e["headers"]["cookie"].contains("a=1"), "cookie a sent back")
        assert(e["headers"]["cookie"].contains("b=two"), "cookie b sent back")
        # A fresh client (and every module-level call) starts with none.
        assert_nil(http.get(base .. "/echo").json()["headers"].get("cookie"))
    end)

    check("reuses its connection", fun ()
        let c = http.client()
        let p1 = c.get(base .. "/echo").json()["client_port"]
        let p2 = c.get(base .. "/echo").json()["client_port"]
        assert_eq(p1, p2, "second request on the same connection")
    end)
end)

describe("HttpRequest builder", fun ()
    check("chains setters and sends", fun ()
        let c = http.client()
        c.set_header("X-Default", "d")
        let req = c.request("PUT", base .. "/echo")
            .header("X-One", "1")
            .headers({"X-Two": "2"})
            .query("a", "1")
            .queries({"b": "x y"})
            .json({"k": "v"})
            .timeout(5)
        assert_eq(req.method(), "PUT")
        assert_eq(req.url(), base .. "/echo")
        assert_eq(req.get_header("x-one"), "1")
        assert_eq(req.get_headers()["X-Two"], "2")
        assert_eq(req.get_query("b"), "x y")
        assert_eq(req.get_queries().len(), 2)
        assert_eq(req.str(), "<HttpRequest PUT " .. base .. "/echo>")
        let e = req.send().json()
        assert_eq(e["method"], "PUT")
        assert_eq(e["query"], "a=1&b=x+y")
        assert_eq(e["body"], "{\"k\":\"v\"}")
        assert_eq(e["headers"]["x-one"], "1")
        assert_eq(e["headers"]["x-default"], "d")
    end)

    check("text(), bytes() and form() bodies", fun ()
        let c = http.client()
        let t = c.request("POST", base .. "/echo").text("hé").send().json()
        assert_eq(t["body"], "hé")
        assert_eq(t["headers"]["content-type"], "text/plain; charset=utf-8")
        assert_eq(c.request("POST", base .. "/echo").bytes(b"\x00z").send().json()["body"].len(), 2)
        let f = c.request("POST", base .. "/echo").form({"a": "b"}).send().json()
        assert_eq(f["body"], "a=b")
    end)

    it("rejects bad parts", fun ()
        let c = http.client()
        assert_raises(TypeErr, fun () c.request("GET", base).body(1) end)
        assert_raises(TypeErr, fun () c.request("GET", base).bytes("s") end)
        assert_raises(ValueErr, fun () c.request("BAD METHOD", base).send() end)
    end)
end)

describe("HttpResponse", fun ()
    check("status helpers", fun ()
        let r = http.get(base .. "/status?code=404")
        assert_eq(r.status(), 404)
        assert(r.is_client_error())
        assert(not r.ok())
        assert(http.get(base .. "/status?code=503").is_server_error())
        assert_eq(r.str(), "<HttpResponse 404>")
        assert_type(r, "HttpResponse")
    end)

    check("headers, content type and length", fun ()
        let r = http.get(base .. "/bytes?n=42")
        assert_eq(r.header("CONTENT-LENGTH"), "42")
        assert_eq(r.content_length(), 42)
        assert_eq(r.content_type(), "application/octet-stream")
        assert(r.headers().contains("content-type"))
        assert(not r.is_json())
        assert(http.get(base .. "/echo").is_json())
        assert(http.get(base .. "/ping").is_text())
        assert_eq(r.http_version(), "1.1")
    end)

    check("cookies() and cookie()", fun ()
        let r = http.get(base .. "/cookies")
        assert_eq(r.cookies(), {"a": "1", "b": "two"})
        assert_eq(r.cookie("b"), "two")
        assert_nil(r.cookie("zzz"))
    end)

    check("text() must be UTF-8; json() parses", fun ()
        let r = http.get(base .. "/echo")
        assert_eq(r.json()["method"], "GET")
        assert(r.json() == r.json())
        let bin = http.post(base .. "/echo", body: b"\xff").bytes()
        assert_type(bin, "Bytes")
        assert_raises(ValueErr, fun () http.get(base .. "/ping").json() end)
    end)
end)

describe("await", fun ()
    check("an async fun gets a Task and awaits it", fun ()
        let got = async.block_on(async fun ()
            let t = http.get(base .. "/echo", query: {"a": "1"})
            assert_eq(t.cls(), "Task")
            let r = await t
            r.json()["args"]["a"]
        end)
        assert_eq(got, "1")
    end)

    check("top-level style: await of a finished response is the response", fun ()
        let r = http.get(base .. "/ping")
        assert_eq(r.text(), "pong")
    end)
end)
