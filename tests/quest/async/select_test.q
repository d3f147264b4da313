# async.select over channels, timers (async.after) and tasks.

use "std/test" {module, describe, it, assert, assert_eq, assert_nil, assert_raises}
use "std/async"

module("Async: select")

fun run(body)
    async.block_on(body)
end

async fun error_of(task)
    try
        await task
    catch e
        return e
    end
    nil
end

async fun later(s, v)
    await async.sleep(s)
    v
end

describe("async.select", fun ()
    it("gives {index, value, channel} of a ready channel at once", fun ()
        let a = async.channel()
        let b = async.channel()
        b.send("from b")
        let r = async.block_on(async.select([a, b]))
        assert_eq(r["index"], 1)
        assert_eq(r["value"], "from b")
        assert_eq(r["channel"], b)
    end)

    it("waits for the first channel to receive", fun ()
        let a = async.channel()
        let b = async.channel()
        let sel = async.select([a, b])
        assert(not sel.is_finished())
        a.send(1)
        let r = async.block_on(sel)
        assert_eq(r["index"], 0)
        assert_eq(r["value"], 1)
    end)

    it("takes one value only: the other channels keep theirs", fun ()
        let a = async.channel()
        let b = async.channel()
        let sel = async.select([a, b])
        a.send("first")
        b.send("second")
        assert_eq(async.block_on(sel)["value"], "first")
        assert_eq(b.try_recv(), "second")
        assert_nil(a.try_recv())
    end)

    it("times out with async.after", fun ()
        let c = async.channel()
        let r = async.block_on(async.select([c, async.after(0.005)]))
        assert_eq(r["index"], 1)
        assert_nil(r["value"])
        assert_nil(r["channel"])
    end)

    it("takes tasks, giving their result", fun ()
        let r = async.block_on(async.select([later(0.02, "slow"), later(0.001, "fast")]))
        assert_eq(r["index"], 1)
        assert_eq(r["value"], "fast")
    end)

    it("sees a closed channel as ready with nil", fun ()
        let c = async.channel()
        let sel = async.select([c])
        c.close()
        let r = async.block_on(sel)
        assert_eq(r["index"], 0)
        assert_nil(r["value"])
    end)

    it("runs a select loop until the work channel closes", fun ()
        let work = async.channel(0)
        let ticks = async.channel(0)
        let seen = []
        async fun producer()
            for i in 0 until 3
                await work.send(i)
                await ticks.send("tick")
            end
            work.close()
        end
        async fun loop()
            while true
                let r = await async.select([work, ticks])
                if r["index"] == 0 and r["value"] == nil
                    return seen
                end
                seen.push(r["value"])
            end
        end
        producer()
        assert_eq(run(loop), [0, "tick", 1, "tick", 2, "tick"])
    end)

    it("rejects an empty list and other sources", fun ()
        assert_raises(ValueErr, fun () async.select([]) end)
        assert_raises(TypeErr, fun () async.select([1]) end)
        assert_raises(TypeErr, fun () async.select("x") end)
    end)
end)

describe("cancelling a task blocked in select", fun ()
    it("frees it at once, runs its ensure and leaves the channels usable", fun ()
        let c = async.channel()
        let deadline = async.after(30)
        let log = []
        async fun waiter()
            try
                await async.select([c, deadline])
            ensure
                log.push("ensure")
            end
        end
        let t = waiter()
        t.cancel()
        let e = async.block_on(fun () error_of(t) end)
        assert(e.is(CancelledErr))
        assert_eq(log, ["ensure"])
        c.send("still here")
        assert_eq(c.try_recv(), "still here")
        # the timer is a task of its own: select leaves it running
        assert(not deadline.is_finished())
        deadline.cancel()
    end)
end)
