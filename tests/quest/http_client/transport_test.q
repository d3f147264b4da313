# std/http/client's transport: concurrency on one loop, cancellation,
# deadlines, redirects, decompression, size limits, failures, TLS and
# HTTP/2.  Servers: scripts/test-servers (these tests skip without them).
use "std/test" { module, describe, it, skip, assert, assert_eq, assert_lt, assert_raises }
use "std/http/client" as http
use "std/http/client" { HttpErr }
use "std/async"
use "std/time"
use "std/os"
use "std/io"

module("std/http/client: transport")

let base = "http://127.0.0.1:6124"
let tls = "https://localhost:6125"
let h2 = "https://localhost:6126"

fun server_up(url)
    try
        return http.get(url .. "/ping", timeout: 2).status() > 0
    catch e
        return false
    end
end

let up = server_up(base)

# The test server's self-signed certificate, for ca_file:.
let ca_file = nil
if up
    let f = io.temp_file("quest-ca-")
    ca_file = f.path()
    f.close()
    io.write(ca_file, http.get(base .. "/cert").text())
end

fun check(name, body)
    if up
        it(name, body)
    else
        skip(name, "no test server on 127.0.0.1:6124 (scripts/test-servers start)")
    end
end

# Time limits in ms; under sanitizers with a collection at every safe
# point they grow.
fun limit(ms)
    if os.getenv("QUEST_GC_STRESS") != nil
        return ms * 5
    end
    ms
end

fun aborted_ids()
    http.get(base .. "/stats").json()["aborted"]
end

describe("many requests on one loop", fun ()
    check("100 requests to a 200 ms endpoint overlap", fun ()
        let started = time.ticks_ms()
        let statuses = async.block_on(async fun ()
            let tasks = []
            for i in 0 to 99
                tasks.push(http.get(base .. "/sleep?ms=200"))
            end
            let out = []
            for t in tasks
                out.push((await t).status())
            end
            out
        end)
        let elapsed = time.ticks_ms() - started
        assert_eq(statuses.len(), 100)
        assert(statuses.all(fun (s) s == 200 end), "all 200")
        assert_lt(elapsed, limit(1000), "elapsed " .. elapsed .. " ms")
    end)

    check("sync calls from a script wait in turn", fun ()
        let started = time.ticks_ms()
        http.get(base .. "/sleep?ms=50")
        http.get(base .. "/sleep?ms=50")
        assert(time.ticks_ms() - started >= 100, "sequential")
    end)
end)

describe("cancellation", fun ()
    check("cancelling the request's task closes its connection", fun ()
        let t = async.block_on(async fun ()
            let t = http.get(base .. "/hold?id=direct&s=5")
            await async.sleep(0.2)
            t.cancel()
            await async.sleep(0.3)
            t
        end)
        assert(t.is_cancelled(), "cancelled")
        assert(aborted_ids().contains("direct"), "the server saw the client leave")
    end)

    check("cancelling the awaiting task aborts the transfer", fun ()
        let outcome = async.block_on(async fun ()
            let worker = async.spawn(async fun ()
                await http.get(base .. "/hold?id=awaiter&s=5")
            end)
            await async.sleep(0.2)
            worker.cancel()
            let what = "finished"
            try
                await worker
            catch e: CancelledErr
                what = "cancelled"
            end
            await async.sleep(0.3)
            what
        end)
        assert_eq(outcome, "cancelled")
        assert(aborted_ids().contains("awaiter"), "the server saw the client leave")
    end)

    check("async.timeout cancels a slow request", fun ()
        let started = time.ticks_ms()
        assert_raises(TimeoutErr, fun ()
            async.block_on(async fun ()
                await async.timeout(http.get(base .. "/hold?id=timeout&s=5"), 0.2)
            end)
        end)
        assert_lt(time.ticks_ms() - started, limit(1000))
    end)
end)

describe("deadlines", fun ()
    check("timeout: raises TimeoutErr, which is an HttpErr", fun ()
        let started = time.ticks_ms()
        let caught = nil
        try
            http.get(base .. "/sleep?ms=2000", timeout: 0.3)
        catch e: HttpErr
            caught = e
        end
        assert(caught != nil, "raised")
        assert(caught.is(TimeoutErr), "a TimeoutErr")
        assert(caught.message().contains(base .. "/sleep?ms=2000"), caught.message())
        assert(caught.message().contains("timed out"), caught.message())
        assert_lt(time.ticks_ms() - started, limit(1500))
        assert_raises(TimeoutErr, fun () http.get(base .. "/sleep?ms=2000", timeout: 0.1) end)
    end)

    check("the client's timeout applies, a request's overrides it", fun ()
        let c = http.client(timeout: 0.2)
        assert_raises(TimeoutErr, fun () c.get(base .. "/sleep?ms=1000") end)
        assert_eq(c.get(base .. "/sleep?ms=300", timeout: 5).status(), 200)
        assert_eq(c.request("GET", base .. "/sleep?ms=300").timeout(5).send().status(), 200)
    end)
end)

describe("redirects", fun ()
    check("followed, with the final URL", fun ()
        let r = http.get(base .. "/redirect?n=3")
        assert_eq(r.status(), 200)
        assert_eq(r.url(), base .. "/echo")
        assert_eq(r.json()["method"], "GET")
    end)

    check("a POST becomes a GET after a 302", fun ()
        assert_eq(http.post(base .. "/redirect?n=1", body: "x").json()["method"], "GET")
    end)

    check("limited", fun ()
        let c = http.client(max_redirects: 2)
        assert_eq(c.get(base .. "/redirect?n=2").status(), 200)
        let caught = nil
        try
            c.get(base .. "/redirect?n=3")
        catch e: HttpErr
            caught = e.message()
        end
        assert(caught != nil and caught.contains("too many redirects"), caught)
        assert_raises(HttpErr, fun () http.get(base .. "/loop") end)
    end)

    check("max_redirects: 0 returns the redirect itself", fun ()
        let r = http.client(max_redirects: 0).get(base .. "/redirect?n=1")
        assert_eq(r.status(), 302)
        assert(r.is_redirect())
        assert_eq(r.header("location"), "/echo")
    end)
end)

describe("bodies", fun ()
    check("gzip is decoded", fun ()
        let r = http.get(base .. "/gzip")
        assert_eq(r.header("content-encoding"), "gzip")
        assert(r.json()["gzipped"])
        assert_eq(r.json()["filler"].len(), 5000)
    end)

    check("large bodies, with and without a length", fun ()
        assert_eq(http.get(base .. "/bytes?n=5000000").bytes().len(), 5000000)
        assert_eq(http.get(base .. "/chunked?n=3000000").bytes().len(), 3000000)
    end)

    check("the response size limit", fun ()
        let c = http.client(max_response_size: 100000)
        assert_eq(c.get(base .. "/bytes?n=100000").bytes().len(), 100000)
        let m1 = nil
        try
            c.get(base .. "/bytes?n=100001")
        catch e: HttpErr
            m1 = e.message()
        end
        assert(m1 != nil and m1.contains("larger than the limit of 100000 bytes"), m1)
        assert_raises(HttpErr, fun () c.get(base .. "/chunked?n=200000") end)
        # The client still works afterwards.
        assert_eq(c.get(base .. "/ping").text(), "pong")
    end)
end)

describe("failures", fun ()
    it("connection refused names the URL", fun ()
        let msg = nil
        try
            http.get("http://127.0.0.1:9/nothing")
        catch e: HttpErr
            msg = e.message()
        end
        assert(msg != nil, "raised HttpErr")
        assert(msg.contains("http://127.0.0.1:9/nothing"), msg)
        assert(msg.contains("connection refused"), msg)
    end)

    it("from an async fun, the awaited task raises", fun ()
        let kind = async.block_on(async fun ()
            try
                await http.get("http://127.0.0.1:9/")
            catch e: HttpErr
                return "HttpErr"
            end
            "none"
        end)
        assert_eq(kind, "HttpErr")
    end)

    it("an unknown host", fun ()
        # Without a reachable resolver this may time out instead: both are HttpErr.
        let caught = false
        try
            http.get("http://no-such-host.invalid/", timeout: 5)
        catch e: HttpErr
            caught = true
        end
        assert(caught, "raised HttpErr")
    end)
end)

describe("TLS", fun ()
    check("verification is on: a self-signed certificate fails", fun ()
        let msg = nil
        try
            http.get(tls .. "/ping")
        catch e: HttpErr
            msg = e.message()
        end
        assert(msg != nil and msg.contains("TLS failure"), msg)
        assert(msg.contains(tls .. "/ping"), msg)
    end)

    check("ca_file: trusts it; the host name is still checked", fun ()
        let c = http.client(ca_file: ca_file)
        assert_eq(c.get(tls .. "/ping").text(), "pong")
        let msg = nil
        try
            c.get("https://127.0.0.1:6125/ping")
        catch e: HttpErr
            msg = e.message()
        end
        assert(msg != nil and msg.contains("TLS failure"), msg)
    end)

    check("verify: false accepts it", fun ()
        assert_eq(http.client(verify: false).get(tls .. "/ping").text(), "pong")
    end)
end)

let h2_up = false
if up
    try
        h2_up = http.client(verify: false).get(h2 .. "/").ok()
    catch e
    end
end

describe("HTTP/2", fun ()
    if not h2_up
        skip("HTTP/2 over TLS, multiplexed", "no HTTP/2 test server on :6126 (needs node)")
        return nil
    end
    it("HTTP/2 over TLS, multiplexed", fun ()
        let c = http.client(ca_file: ca_file)
        let first = c.get(h2 .. "/")
        assert_eq(first.http_version(), "2")
        assert_eq(first.json()["version"], "2.0")
        let sessions = async.block_on(async fun ()
            let tasks = []
            for i in 0 to 19
                tasks.push(c.get(h2 .. "/?ms=100"))
            end
            let seen = {}
            for t in tasks
                seen[(await t).json()["session"].str()] = true
            end
            seen.keys()
        end)
        assert_eq(sessions.len(), 1, "one connection carries every stream")
    end)
end)
