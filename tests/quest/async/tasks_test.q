# Tasks: eager start, await, errors crossing awaits, the Task methods,
# spawn, block_on, current, yield_now.

use "std/test" {module, describe, it, assert, assert_eq, assert_nil, assert_raises}
use "std/async"
use "std/sys"

module("Async: tasks")

# Run an async test body to completion from the (synchronous) test.
fun run(body)
    async.block_on(body)
end

# The error an awaited task ends with, or nil.
async fun error_of(task)
    try
        await task
    catch e
        return e
    end
    nil
end

async fun double(x)
    await async.sleep(0.001)
    x * 2
end

async fun no_wait(x)
    x + 1
end

async fun level3()
    await async.sleep(0.001)
    raise ValueErr.new("deep trouble")
end
async fun level2() await level3() end
async fun level1() await level2() end

describe("calling an async function", fun ()
    it("returns a Task that runs at once until its first wait", fun ()
        let log = []
        async fun worker()
            log.push("started")
            await async.sleep(0.001)
            log.push("resumed")
        end
        let t = worker()
        assert_eq(t.cls(), "Task")
        assert_eq(log, ["started"])
        assert(not t.is_finished())
        async.block_on(t)
        assert_eq(log, ["started", "resumed"])
        assert(t.is_finished())
    end)

    it("finishes without suspending when nothing waits", fun ()
        let t = no_wait(1)
        assert(t.is_finished())
        assert_eq(t.try_unwrap(), 2)
    end)

    it("gives the value to await", fun ()
        run(async fun ()
            assert_eq(await double(21), 42)
            assert_eq(await no_wait(1), 2)
        end)
    end)

    it("awaits a plain value as itself", fun ()
        run(async fun ()
            assert_eq(await 5, 5)
            assert_nil(await nil)
        end)
    end)

    it("awaits at the top level of a script by blocking", fun ()
        let src = "use \"std/async\"\nasync fun f() await async.sleep(0.001) 8 end\nawait f()"
        assert_eq(sys.eval(src), 8)
    end)

    it("names the task after the function", fun ()
        assert_eq(no_wait(1).name(), "no_wait")
    end)

    it("numbers tasks with distinct ids", fun ()
        let a = no_wait(1)
        let b = no_wait(2)
        assert(a.id() != b.id())
        assert_eq(a.id().cls(), "Int")
    end)

    it("checks arguments at the call, as for any function", fun ()
        assert_raises(ArgErr, fun () no_wait(1, 2) end)
    end)
end)

describe("errors across awaits", fun ()
    it("keep their type, message and line three awaits deep", fun ()
        let e = async.block_on(fun () error_of(level1()) end)
        assert(e.is(ValueErr))
        assert_eq(e.message(), "deep trouble")
        assert_eq(e.line(), 36)  # the raise in level3
    end)

    it("can be caught by type inside an async function", fun ()
        let caught = run(async fun ()
            try
                await level1()
            catch e: ValueErr
                return "caught " .. e.message()
            end
            "not caught"
        end)
        assert_eq(caught, "caught deep trouble")
    end)

    it("are raised again by each await of the failed task", fun ()
        let t = level3()
        assert_raises(ValueErr, fun () async.block_on(t) end)
        assert_raises(ValueErr, fun () async.block_on(t) end)
        assert_raises(ValueErr, fun () t.try_unwrap() end)
    end)
end)

describe("Task methods", fun ()
    it("try_unwrap is nil while pending", fun ()
        let t = double(1)
        assert_nil(t.try_unwrap())
        async.block_on(t)
        assert_eq(t.try_unwrap(), 2)
    end)

    it("is_done is a synonym of is_finished", fun ()
        let t = no_wait(1)
        assert(t.is_done())
    end)

    it("cancel returns whether the task was still pending", fun ()
        let t = double(1)
        assert(t.cancel())
        assert(t.is_cancelled())
        assert(not t.cancel() or true)
        let done = no_wait(1)
        assert(not done.cancel())
        assert(not done.is_cancelled())
    end)

    it("abort cancels like cancel", fun ()
        let t = double(1)
        assert(t.abort())
        let e = async.block_on(fun () error_of(t) end)
        assert(e.is(CancelledErr))
    end)

    it("detach returns the task and keeps it running", fun ()
        let t = double(5)
        assert_eq(t.detach(), t)
        assert_eq(async.block_on(t), 10)
    end)
end)

describe("async.spawn", fun ()
    it("runs a function returning a Task and gives that Task", fun ()
        let t = async.spawn(fun () double(3) end)
        assert_eq(t.name(), "double")
        assert_eq(async.block_on(t), 6)
    end)

    it("takes a Task directly", fun ()
        let t = double(2)
        assert_eq(async.spawn(t), t)
    end)

    it("names the task with name:", fun ()
        let t = async.spawn(fun () double(3) end, name: "worker-1")
        assert_eq(t.name(), "worker-1")
        async.block_on(t)
    end)

    it("wraps a plain function's value in a finished Task", fun ()
        let t = async.spawn(fun () 7 end)
        assert(t.is_finished())
        assert_eq(async.block_on(t), 7)
    end)

    it("spawns an async function directly", fun ()
        let t = async.spawn(async fun () 9 end)
        assert_eq(async.block_on(t), 9)
    end)

    it("rejects what is neither a Task nor a function", fun ()
        assert_raises(TypeErr, fun () async.spawn(5) end)
        assert_raises(TypeErr, fun () async.spawn(fun () 1 end, name: 5) end)
        assert_raises(ArgErr, fun () async.spawn(fun () 1 end, label: "x") end)
    end)
end)

describe("async.block_on", fun ()
    it("runs a function's task to completion", fun ()
        assert_eq(async.block_on(fun () double(5) end), 10)
    end)

    it("takes a Task", fun ()
        assert_eq(async.block_on(double(6)), 12)
    end)

    it("returns a plain function's value", fun ()
        assert_eq(async.block_on(fun () "plain" end), "plain")
    end)

    it("raises the task's error", fun ()
        assert_raises(ValueErr, fun () async.block_on(level1()) end)
    end)

    it("reports a deadlock instead of hanging", fun ()
        let c = async.channel()
        assert_raises(RuntimeErr, fun () async.block_on(c.recv()) end)
    end)

    it("cannot block inside the event loop", fun ()
        let e = run(async fun ()
            await async.sleep(0)
            try
                async.block_on(double(1))
            catch e
                return e
            end
            nil
        end)
        assert(e.is(RuntimeErr))
    end)
end)

describe("async.current and async.is_cancelled", fun ()
    it("current is nil outside tasks and the running task inside", fun ()
        assert_nil(async.current())
        let seen = nil
        async fun who()
            seen = async.current()
        end
        let t = who()
        assert_eq(seen, t)
    end)

    it("is_cancelled turns true once the task is cancelled", fun ()
        let seen = []
        async fun watcher()
            seen.push(async.is_cancelled())
            try
                await async.sleep(5)
            ensure
                seen.push(async.is_cancelled())
            end
        end
        let t = watcher()
        t.cancel()
        async.block_on(fun () error_of(t) end)
        assert_eq(seen, [false, true])
        assert(not async.is_cancelled())
    end)
end)

describe("async.yield_now", fun ()
    it("lets other ready tasks run", fun ()
        let log = []
        async fun a()
            log.push("a1")
            await async.yield_now()
            log.push("a2")
        end
        async fun b()
            log.push("b1")
            await async.yield_now()
            log.push("b2")
        end
        run(async fun () await async.join_all([a(), b()]) end)
        assert_eq(log, ["a1", "b1", "a2", "b2"])
    end)
end)
