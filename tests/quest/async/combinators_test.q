# timeout, join_all, try_join_all, race and race_ok.

use "std/test" {module, describe, it, assert, assert_eq, assert_nil, assert_lt, assert_raises}
use "std/async"
use "std/time"

module("Async: combinators")

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

async fun fail_later(s, msg)
    await async.sleep(s)
    raise ValueErr.new(msg)
end

# A task that records how it ended in log.
async fun tracked(log, name, s)
    try
        await async.sleep(s)
        log.push(name .. " done")
        return name
    catch e: CancelledErr
        log.push(name .. " cancelled")
        raise e
    end
end

describe("async.timeout", fun ()
    it("gives the value when the task is in time", fun ()
        assert_eq(async.block_on(async.timeout(later(0.001, "v"), 5)), "v")
    end)

    it("raises TimeoutErr and cancels the task when it is late", fun ()
        let log = []
        let inner = tracked(log, "slow", 30)
        let e = async.block_on(fun () error_of(async.timeout(inner, 0.005)) end)
        assert(e.is(TimeoutErr))
        assert(e.is(async.TimeoutErr))
        assert_eq(e.message(), "timed out after 0.005 seconds")
        async.block_on(async.yield_now())
        assert(inner.is_cancelled())
        assert_eq(log, ["slow cancelled"])
    end)

    it("takes a function and awaits the Task it returns", fun ()
        assert_eq(async.block_on(async.timeout(fun () later(0.001, 3) end, 5)), 3)
        assert_eq(async.block_on(async.timeout(fun () 4 end, 5)), 4)
    end)

    it("passes the task's own error through", fun ()
        let e = async.block_on(fun () error_of(async.timeout(fail_later(0.001, "own"), 5)) end)
        assert(e.is(ValueErr))
        assert_eq(e.message(), "own")
    end)

    it("is caught by type in an async function", fun ()
        let r = run(async fun ()
            try
                await async.timeout(later(30, 1), 0.001)
            catch e: TimeoutErr
                return "timed out"
            end
        end)
        assert_eq(r, "timed out")
    end)

    it("stops its timer when the task finishes first", fun ()
        async.block_on(async.timeout(later(0.001, 1), 30))
        let t0 = time.ticks_ms()
        async.block_on(async.sleep(0))
        assert_lt(time.ticks_ms() - t0, 1000)
    end)

    it("rejects a bad duration and a bad target", fun ()
        assert_raises(ValueErr, fun () async.timeout(later(0, 1), -1) end)
        assert_raises(TypeErr, fun () async.timeout(5, 1) end)
    end)
end)

describe("async.join_all", fun ()
    it("gives every result in list order", fun ()
        let r = async.block_on(async.join_all([later(0.01, "a"), later(0.001, "b"), "plain"]))
        assert_eq(r, ["a", "b", "plain"])
    end)

    it("gives [] for an empty list", fun ()
        assert_eq(async.block_on(async.join_all([])), [])
    end)

    it("fails with the first error, keeping its type and message", fun ()
        let e = async.block_on(fun () error_of(async.join_all([later(0.02, 1), fail_later(0.001, "broke")])) end)
        assert(e.is(ValueErr))
        assert_eq(e.message(), "broke")
    end)

    it("runs the tasks concurrently", fun ()
        let t0 = time.ticks_ms()
        async.block_on(async.join_all([later(0.03, 1), later(0.03, 2), later(0.03, 3)]))
        assert_lt(time.ticks_ms() - t0, 80)
    end)

    it("cancelling a task blocked in join_all frees it at once, runs its ensure and cancels the joined tasks", fun ()
        let log = []
        async fun joiner()
            try
                await async.join_all([tracked(log, "a", 30), tracked(log, "b", 30)])
            ensure
                log.push("ensure")
            end
        end
        let t = joiner()
        let t0 = time.ticks_ms()
        t.cancel()
        let e = async.block_on(fun () error_of(t) end)
        assert(e.is(CancelledErr))
        assert_lt(time.ticks_ms() - t0, 1000)
        async.block_on(async.yield_now())
        assert_eq(log.sorted(), ["a cancelled", "b cancelled", "ensure"])
    end)

    it("rejects what is not an Array", fun ()
        assert_raises(TypeErr, fun () async.join_all(5) end)
    end)
end)

describe("async.try_join_all", fun ()
    it("waits for all and splits values from errors", fun ()
        let r = async.block_on(async.try_join_all([later(0.001, 1), fail_later(0.001, "x"), later(0.005, 3)]))
        assert_eq(r["ok"], [1, 3])
        assert_eq(r["err"].len(), 1)
        assert(r["err"][0].is(ValueErr))
        assert_eq(r["err"][0].message(), "x")
    end)

    it("gives empty lists for an empty input", fun ()
        let r = async.block_on(async.try_join_all([]))
        assert_eq(r["ok"], [])
        assert_eq(r["err"], [])
    end)
end)

describe("async.race", fun ()
    it("gives the first task to finish and cancels the losers", fun ()
        let log = []
        let slow = tracked(log, "slow", 30)
        let fast = tracked(log, "fast", 0.001)
        assert_eq(async.block_on(async.race([slow, fast])), "fast")
        async.block_on(async.yield_now())
        assert(slow.is_cancelled())
        assert_eq(log, ["fast done", "slow cancelled"])
    end)

    it("fails when the first to finish fails", fun ()
        let e = async.block_on(fun () error_of(async.race([later(0.05, 1), fail_later(0.001, "first")])) end)
        assert(e.is(ValueErr))
    end)

    it("takes an already finished value at once", fun ()
        let slow = later(30, 1)
        assert_eq(async.block_on(async.race([slow, "now"])), "now")
        assert(slow.is_cancelled())
    end)

    it("needs at least one task", fun ()
        assert_raises(ValueErr, fun () async.race([]) end)
    end)
end)

describe("async.race_ok", fun ()
    it("gives the first success, skipping failures, and cancels the rest", fun ()
        let slow = later(30, "slow")
        let r = async.block_on(async.race_ok([fail_later(0.001, "no"), later(0.005, "yes"), slow]))
        assert_eq(r, "yes")
        assert(slow.is_cancelled())
    end)

    it("raises the last error when every task fails", fun ()
        let e = async.block_on(fun () error_of(async.race_ok([fail_later(0.001, "one"), fail_later(0.005, "two")])) end)
        assert(e.is(ValueErr))
        assert_eq(e.message(), "two")
    end)

    it("needs at least one task", fun ()
        assert_raises(ValueErr, fun () async.race_ok([]) end)
    end)
end)
