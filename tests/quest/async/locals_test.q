# Task-locals: async.task_local and async.with_context.

use "std/test" {module, describe, it, assert, assert_eq, assert_nil, assert_raises}
use "std/async"

module("Async: task-locals")

fun run(body)
    async.block_on(body)
end

async fun read_after(key, s)
    await async.sleep(s)
    async.task_local(key)
end

describe("async.task_local", fun ()
    it("sets and gets a value of the running task", fun ()
        let r = run(async fun ()
            assert_nil(async.task_local("id"))
            assert_eq(async.task_local("id", 42), 42)
            return async.task_local("id")
        end)
        assert_eq(r, 42)
    end)

    it("needs a running task", fun ()
        assert_raises(RuntimeErr, fun () async.task_local("id") end)
    end)

    it("takes Str keys only", fun ()
        run(async fun ()
            assert_raises(TypeErr, fun () async.task_local(1) end)
        end)
    end)

    it("is shared with an async function called and awaited", fun ()
        async fun callee()
            let seen = async.task_local("request_id")
            async.task_local("set_by_callee", true)
            await async.sleep(0)
            seen
        end
        let r = run(async fun ()
            async.task_local("request_id", "r-1")
            let seen = await callee()
            return [seen, async.task_local("set_by_callee")]
        end)
        assert_eq(r, ["r-1", true])
    end)

    it("is seen by the caller when first set by the callee", fun ()
        async fun callee()
            async.task_local("first", "callee")
        end
        let r = run(async fun ()
            await callee()
            return async.task_local("first")
        end)
        assert_eq(r, "callee")
    end)

    it("is not inherited by spawned tasks", fun ()
        let r = run(async fun ()
            async.task_local("request_id", "parent")
            let child = async.spawn(fun () read_after("request_id", 0) end)
            return await child
        end)
        assert_nil(r)
    end)

    it("does not leak between concurrently interleaved tasks", fun ()
        async fun request(id)
            async.task_local("request_id", id)
            let seen = []
            for i in 0 until 5
                await async.yield_now()
                seen.push(async.task_local("request_id"))
            end
            seen
        end
        let r = run(async fun ()
            let tasks = []
            for id in ["a", "b", "c"]
                tasks.push(async.spawn(fun () request(id) end))
            end
            return await async.join_all(tasks)
        end)
        assert_eq(r, [["a", "a", "a", "a", "a"], ["b", "b", "b", "b", "b"], ["c", "c", "c", "c", "c"]])
    end)
end)

describe("async.with_context", fun ()
    it("runs the function with the extra task-locals", fun ()
        let r = run(async fun ()
            return async.with_context({request_id: "r-9"}, fun () async.task_local("request_id") end)
        end)
        assert_eq(r, "r-9")
    end)

    it("restores the caller's task-locals afterwards", fun ()
        let r = run(async fun ()
            async.task_local("user", "outer")
            let inner = async.with_context({user: "inner"}, fun ()
                async.task_local("extra", 1)
                async.task_local("user")
            end)
            return [inner, async.task_local("user"), async.task_local("extra")]
        end)
        assert_eq(r, ["inner", "outer", nil])
    end)

    it("keeps the caller's other task-locals visible", fun ()
        let r = run(async fun ()
            async.task_local("a", 1)
            return async.with_context({b: 2}, fun () [async.task_local("a"), async.task_local("b")] end)
        end)
        assert_eq(r, [1, 2])
    end)

    it("gives an async function's Task, which keeps the context across awaits", fun ()
        let r = run(async fun ()
            let t = async.with_context({request_id: "r-5"}, fun () read_after("request_id", 0.001) end)
            assert_nil(async.task_local("request_id"))
            return await t
        end)
        assert_eq(r, "r-5")
    end)

    it("works outside any task", fun ()
        assert_eq(async.with_context({k: "v"}, fun () async.task_local("k") end), "v")
        let t = async.with_context({k: "w"}, fun () read_after("k", 0.001) end)
        assert_eq(async.block_on(t), "w")
        assert_raises(RuntimeErr, fun () async.task_local("k") end)
    end)

    it("rejects a non-Dict context and a non-function", fun ()
        assert_raises(TypeErr, fun () async.with_context([], fun () 1 end) end)
        assert_raises(TypeErr, fun () async.with_context({}, 1) end)
    end)
end)
