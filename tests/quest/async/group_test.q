# async.task_group: structured concurrency with `with` / `async with`.

use "std/test" {module, describe, it, assert, assert_eq, assert_nil, assert_raises}
use "std/async"

module("Async: task groups")

fun run(body)
    async.block_on(body)
end

async fun later(s, v)
    await async.sleep(s)
    v
end

async fun fail_later(s, msg)
    await async.sleep(s)
    raise ValueErr.new(msg)
end

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

describe("async with a task group", fun ()
    it("waits for every child at the end of the block", fun ()
        let log = []
        run(async fun ()
            async with async.task_group() as g
                g.spawn(fun () tracked(log, "a", 0.01) end)
                g.spawn(fun () tracked(log, "b", 0.001) end)
                log.push("body done")
            end
            log.push("after")
        end)
        assert_eq(log, ["body done", "b done", "a done", "after"])
    end)

    it("cancels the other children at the first failure and raises it", fun ()
        let log = []
        let e = run(async fun ()
            try
                async with async.task_group() as g
                    g.spawn(fun () tracked(log, "slow", 30) end)
                    g.spawn(fun () fail_later(0.001, "child failed") end)
                end
            catch e: ValueErr
                return e
            end
            nil
        end)
        assert_eq(e.message(), "child failed")
        assert_eq(log, ["slow cancelled"])
    end)

    it("keeps the children's results in their tasks", fun ()
        let tasks = run(async fun ()
            let g = async.task_group()
            async with g
                g.spawn(fun () later(0.002, 1) end)
                g.spawn(fun () later(0.001, 2) end)
                g.spawn(fun () 3 end)
            end
            return g.tasks()
        end)
        assert_eq(tasks.map(fun (t) t.try_unwrap() end), [1, 2, 3])
    end)

    it("names children with name:", fun ()
        run(async fun ()
            async with async.task_group() as g
                let t = g.spawn(fun () later(0, 1) end, name: "child")
                assert_eq(t.name(), "child")
            end
        end)
    end)

    it("does not count a cancelled child as a failure", fun ()
        let r = run(async fun ()
            async with async.task_group() as g
                let t = g.spawn(fun () later(30, 1) end)
                g.spawn(fun () later(0.001, 2) end)
                t.cancel()
            end
            "ok"
        end)
        assert_eq(r, "ok")
    end)

    it("lets an error from the block go on once the children are done", fun ()
        let log = []
        let e = run(async fun ()
            try
                async with async.task_group() as g
                    g.spawn(fun () tracked(log, "kid", 0.005) end)
                    raise ValueErr.new("from the block")
                end
            catch e: ValueErr
                return e
            end
            nil
        end)
        assert_eq(e.message(), "from the block")
        assert_eq(log, ["kid done"])
    end)

    it("is fine with no children at all", fun ()
        run(async fun ()
            async with async.task_group() as g
            end
        end)
    end)
end)

describe("a task group at the top level", fun ()
    it("works with a plain `with`, blocking at the end", fun ()
        let log = []
        with async.task_group() as g
            g.spawn(fun () tracked(log, "x", 0.02) end)   # far apart: timers count whole ms
            g.spawn(fun () tracked(log, "y", 0.001) end)
        end
        assert_eq(log, ["y done", "x done"])
    end)

    it("raises the first failure", fun ()
        assert_raises(ValueErr, fun ()
            with async.task_group() as g
                g.spawn(fun () fail_later(0.001, "top") end)
            end
        end)
    end)
end)

describe("TaskGroup methods", fun ()
    it("wait closes the group and waits", fun ()
        let g = async.task_group()
        g.spawn(fun () later(0.001, 1) end)
        assert_nil(async.block_on(fun () g.wait() end))
        assert_raises(RuntimeErr, fun () g.spawn(fun () 1 end) end)
    end)

    it("cancel cancels every unfinished child", fun ()
        let log = []
        let g = async.task_group()
        g.spawn(fun () tracked(log, "a", 30) end)
        g.spawn(fun () tracked(log, "b", 30) end)
        g.cancel()
        async.block_on(fun () g.wait() end)
        assert_eq(log, ["a cancelled", "b cancelled"])
    end)

    it("spawn starts children without the parent's task-locals", fun ()
        let seen = run(async fun ()
            async.task_local("who", "parent")
            let t = nil
            async with async.task_group() as g
                t = g.spawn(async fun () async.task_local("who") end)
            end
            return t.try_unwrap()
        end)
        assert_nil(seen)
    end)

    it("cancelling the task that waits in the group cancels the children", fun ()
        let log = []
        async fun owner()
            async with async.task_group() as g
                g.spawn(fun () tracked(log, "kid", 30) end)
            end
        end
        let t = owner()
        t.cancel()
        assert_raises(CancelledErr, fun () async.block_on(t) end)
        async.block_on(async.yield_now())
        assert_eq(log, ["kid cancelled"])
    end)

    it("rejects what is not a function or Task", fun ()
        let g = async.task_group()
        assert_raises(TypeErr, fun () g.spawn(1) end)
        g.wait()
    end)
end)
