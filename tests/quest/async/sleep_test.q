# Timers: async.sleep, async.after, durations, many sleepers at once, and
# cancelling a sleeping task.

use "std/test" {module, describe, it, assert, assert_eq, assert_lt, assert_gte, assert_raises}
use "std/async"
use "std/time"
use "std/os"

module("Async: sleep")

# Under QUEST_GC_STRESS (the sanitizer pass) the whole heap is collected
# every few hundred allocations, which makes 100,000 live tasks quadratic;
# a few thousand take the same paths there.
let SLEEPERS = 100000
if os.getenv("QUEST_GC_STRESS") == "1"
    SLEEPERS = 2000
end

fun run(body)
    async.block_on(body)
end

async fun nap_then(log, s, tag)
    await async.sleep(s)
    log.push(tag)
end

describe("async.sleep", fun ()
    it("waits at least the duration, in seconds", fun ()
        let t0 = time.ticks_ms()
        async.block_on(async.sleep(0.02))
        assert_gte(time.ticks_ms() - t0, 19)
    end)

    it("takes an Int number of seconds", fun ()
        async.block_on(async.sleep(0))
    end)

    it("wakes sleepers in deadline order", fun ()
        let log = []
        run(async fun ()
            await async.join_all([nap_then(log, 0.03, "c"), nap_then(log, 0.01, "a"), nap_then(log, 0.02, "b")])
        end)
        assert_eq(log, ["a", "b", "c"])
    end)

    it("wakes sleepers of equal duration in start order", fun ()
        let log = []
        let tasks = []
        for i in 0 until 5
            tasks.push(nap_then(log, 0.005, i))
        end
        async.block_on(async.join_all(tasks))
        assert_eq(log, [0, 1, 2, 3, 4])
    end)

    it("resolves with nil", fun ()
        assert_eq(async.block_on(async.sleep(0)), nil)
    end)

    it("rejects negative and non-numeric durations", fun ()
        assert_raises(ValueErr, fun () async.sleep(-1) end)
        assert_raises(TypeErr, fun () async.sleep("1") end)
    end)
end)

describe("async.after", fun ()
    it("is a Task finishing after the duration", fun ()
        let t = async.after(0.005)
        assert_eq(t.cls(), "Task")
        assert(not t.is_finished())
        async.block_on(t)
        assert(t.is_finished())
    end)

    it("can be cancelled before it fires", fun ()
        let t = async.after(10)
        assert(t.cancel())
        assert(t.is_finished())
        assert(t.is_cancelled())
    end)
end)

describe("many sleepers", fun ()
    it("100,000 tasks sleeping at once all complete", fun ()
        let done = [0]
        async fun sleeper()
            await async.sleep(0.01)
            done[0] = done[0] + 1
        end
        let tasks = []
        for i in 0 until SLEEPERS
            tasks.push(sleeper())
        end
        async.block_on(async.join_all(tasks))
        assert_eq(done[0], SLEEPERS)
    end)
end)

describe("cancelling a sleeping task", fun ()
    it("frees it at once and runs its ensure", fun ()
        let log = []
        async fun long_nap()
            try
                await async.sleep(30)
                log.push("woke")
            ensure
                log.push("ensure")
            end
        end
        let t = long_nap()
        let t0 = time.ticks_ms()
        t.cancel()
        assert_raises(CancelledErr, fun () async.block_on(t) end)
        assert_lt(time.ticks_ms() - t0, 1000)
        assert_eq(log, ["ensure"])
    end)

    it("stops the timer so nothing keeps the loop busy", fun ()
        let t = async.sleep(30)
        t.cancel()
        let t0 = time.ticks_ms()
        async.block_on(async.sleep(0))
        assert_lt(time.ticks_ms() - t0, 1000)
    end)

    it("leaves other sleepers of the same duration alone", fun ()
        let log = []
        let a = nap_then(log, 0.01, "a")
        let b = nap_then(log, 0.01, "b")
        let c = nap_then(log, 0.01, "c")
        b.cancel()
        async.block_on(async.try_join_all([a, b, c]))
        assert_eq(log, ["a", "c"])
    end)
end)
