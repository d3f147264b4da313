# Async handlers: web._handle awaits the Tasks that handlers, middleware,
# after hooks and error handlers return, including ones that really
# suspend, and several requests can be in flight at once.

use "std/test" {module, describe, it, before, assert, assert_eq}
use "std/async"
use "std/web"
use "std/web/router" {Router}
use "._helpers/client"

module("std/web async handlers")

async fun slow_value(v)
    await async.sleep(0.01)
    v
end

describe("async handlers", fun ()
    before(web._reset)

    it("make _handle return a Task that finishes at once when nothing waits", fun ()
        web.get("/", async fun (req) "quick" end)
        let t = web._handle(client.request("GET", "/"))
        assert_eq(t.cls(), "Task")
        assert_eq(t.is_finished(), true)
        assert_eq(async.block_on(t)["body"], "quick")
    end)

    it("are awaited when they suspend", fun ()
        web.get("/user/{id<int>}", async fun (req)
            let name = await slow_value("user" .. req["params"]["id"].str())
            {status: 200, json: {name: name}}
        end)
        let t = web._handle(client.request("GET", "/user/3"))
        assert_eq(t.is_finished(), false)
        assert_eq(async.block_on(t)["json"], {"name": "user3"})
    end)

    it("work in mounted routers and as the fallback", fun ()
        let r = Router.new()
        r.get("/later", async fun (req) await slow_value("routed") end)
        web.route("/r", r)
        assert_eq(client.send("GET", "/r/later")["body"], "routed")
        let fallback = async fun (req) await slow_value("fell back") end
        assert_eq(client.handle_with(client.request("GET", "/else"), fallback)["body"], "fell back")
    end)

    it("turn exceptions raised after a suspension into a 500", fun ()
        web.get("/late-fail", async fun (req)
            await async.sleep(0.01)
            raise ValueErr.new("late failure")
        end)
        web.on_error(500, async fun (req, message)
            await async.sleep(0.01)
            {status: 500, body: "async handler says " .. message}
        end)
        assert_eq(client.send("GET", "/late-fail")["body"], "async handler says ValueErr: late failure")
    end)
end)

describe("async middleware", fun ()
    before(web._reset)

    it("is awaited before the next step, short-circuits included", fun ()
        let order = []
        web.middleware(async fun (req)
            await async.sleep(0.01)
            order.push("mw")
            req["checked"] = true
            req
        end)
        web.middleware(async fun (req)
            if req["path"] == "/blocked"
                return await slow_value({status: 429, body: "slow down"})
            end
        end)
        web.after(async fun (req, resp)
            await async.sleep(0.01)
            order.push("after")
            resp["headers"]["X-Checked"] = req["checked"].str()
            resp
        end)
        web.get("/", fun (req) order.push("handler") "ok" end)
        let resp = client.send("GET", "/")
        assert_eq(order, ["mw", "handler", "after"])
        assert_eq(client.header(resp, "X-Checked"), "true")
        assert_eq(client.send("GET", "/blocked")["status"], 429)
    end)
end)

describe("concurrent requests", fun ()
    before(web._reset)

    it("each get their own params and response", fun ()
        web.get("/echo/{n<int>}", async fun (req)
            let n = req["params"]["n"]
            await async.sleep(0.01 * (4 - n))
            {status: 200, body: req["params"]["n"].str()}
        end)
        let tasks = []
        for n in [1, 2, 3]
            tasks.push(web._handle(client.request("GET", "/echo/" .. n.str())))
        end
        let bodies = []
        for t in tasks
            bodies.push(async.block_on(t)["body"])
        end
        assert_eq(bodies, ["1", "2", "3"])
    end)
end)
