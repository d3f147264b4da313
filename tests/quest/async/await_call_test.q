# A call of an async function from Quest code runs it on the caller's
# stack until it first waits; `await f(args)` makes no Task at all when f
# never does.  Everything a Task would show must stay the same: identity,
# cancellation, task-locals, errors and their traces, ownership, call
# depth, and what happens when f waits halfway through try blocks and
# closures.

use "std/test" {module, describe, it, assert, assert_eq, assert_nil, assert_raises}
use "std/async"
use "std/sys"

module("Async: calls run in place")

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

async fun whoami()
    async.current()
end

async fun whoami_later()
    let me = async.current()
    await async.sleep(0.001)
    return [me, async.current()]
end

# At the top level an awaited call is a task of its own, with task-locals.
async fun top_locals()
    async.task_local("k", "v")
    async.task_local("k")
end
let top_level_local = await top_locals()
let top_level_self = await whoami()

describe("identity", fun ()
    it("async.current() inside an awaited call is that call's Task", fun ()
        let r = run(async fun ()
            let caller = async.current()
            let me = await whoami()
            return [caller, me]
        end)
        assert(r[0] != r[1])
        assert_eq(r[1].cls(), "Task")
        assert_eq(r[1].name(), "whoami")
        assert(r[1].is_finished())
        assert(r[0].id() != r[1].id())
    end)

    it("is the same Task before and after the call first waits", fun ()
        let r = run(async fun () await whoami_later() end)
        assert_eq(r[0], r[1])
        assert(r[0].is_finished())
    end)

    it("gives that Task the call's value, for others awaiting it", fun ()
        async fun watcher(t)
            await t
        end
        let w = nil
        async fun answer()
            w = watcher(async.current())
            42
        end
        let r = run(async fun ()
            let v = await answer()
            return [v, await w]
        end)
        assert_eq(r, [42, 42])
    end)

    it("gives that Task the call's error, for others awaiting it", fun ()
        async fun watcher(t)
            await error_of(t)
        end
        let w = nil
        async fun failing()
            w = watcher(async.current())
            raise ValueErr.new("boom")
        end
        let e = run(async fun () await error_of(failing()) end)
        assert(e.is(ValueErr))
        let seen = async.block_on(w)
        assert(seen.is(ValueErr))
        assert_eq(seen.message(), "boom")
    end)

    it("works at the top level too", fun ()
        assert_eq(top_level_local, "v")
        assert_eq(top_level_self.name(), "whoami")
        assert(top_level_self.is_finished())
    end)

    it("a Task returned by the call is the value, not awaited again", fun ()
        async fun slow() await async.sleep(0.001) 5 end
        async fun give() slow() end
        let r = run(async fun () await give() end)
        assert_eq(r.cls(), "Task")
        assert_eq(async.block_on(r), 5)
    end)
end)

describe("cancellation", fun ()
    it("cancelling the call's own Task raises inside it, not in the caller", fun ()
        let log = []
        async fun self_cancel()
            async.current().cancel()
            log.push(async.is_cancelled())
            try
                await async.sleep(0.001)
                log.push("not reached")
            catch e: CancelledErr
                log.push("cancelled")
            end
            "returned"
        end
        let r = run(async fun ()
            let v = await self_cancel()
            log.push(async.is_cancelled())
            await async.sleep(0.001)     # the caller was not cancelled
            v
        end)
        assert_eq(r, "returned")
        assert_eq(log, [true, "cancelled", false])
    end)

    it("a cancelled call that lets the error out fails its Task as cancelled", fun ()
        let me = nil
        async fun victim()
            me = async.current()
            me.cancel()
            await async.sleep(0.001)
        end
        let e = run(async fun () await error_of(victim()) end)
        assert(e.is(CancelledErr))
        assert(me.is_cancelled())
        assert(me.is_finished())
    end)

    it("cancelling the caller while the call waits leaves the call running", fun ()
        let log = []
        async fun inner()
            await async.sleep(0.01)
            log.push("inner done")
        end
        async fun outer()
            await inner()
            log.push("outer done")
        end
        let t = outer()
        t.cancel()
        assert(async.block_on(error_of(t)).is(CancelledErr))
        async.block_on(async.sleep(0.03))
        assert_eq(log, ["inner done"])
    end)

    it("a caller cancelled before the call sees it at its own await", fun ()
        let log = []
        async fun inner()
            await async.sleep(0.001)
            log.push("inner done")
        end
        let r = run(async fun ()
            async.current().cancel()
            try
                await inner()
            catch e: CancelledErr
                log.push("caller cancelled")
            end
            await async.sleep(0.005)
            log
        end)
        assert_eq(r, ["caller cancelled", "inner done"])
    end)
end)

describe("task-locals", fun ()
    it("with_context inside an awaited call applies to it and is undone", fun ()
        async fun inner()
            let during = async.with_context({k: 2}, fun () async.task_local("k") end)
            return [during, async.task_local("k")]
        end
        let r = run(async fun ()
            async.task_local("k", 1)
            await inner()
        end)
        assert_eq(r, [2, 1])
    end)

    it("a call that waits keeps sharing its caller's task-locals", fun ()
        async fun inner()
            await async.sleep(0.001)
            async.task_local("from_inner", true)
            async.task_local("from_caller")
        end
        let r = run(async fun ()
            async.task_local("from_caller", "yes")
            let v = await inner()
            return [v, async.task_local("from_inner")]
        end)
        assert_eq(r, ["yes", true])
    end)
end)

async fun raise_now()
    raise ValueErr.new("now")
end

async fun raise_later()
    await async.sleep(0.001)
    raise ValueErr.new("later")
end

async fun call_raise_now()
    await raise_now()
end

describe("errors", fun ()
    it("reach the caller's catch with their type, message and line", fun ()
        let e = run(async fun ()
            try
                await raise_now()
            catch e
                return e
            end
        end)
        let as_task = run(async fun () await error_of(raise_now()) end)
        assert(e.is(ValueErr))
        assert_eq(e.message(), "now")
        assert_eq(e.line(), as_task.line())
        assert_eq(e.stack(), as_task.stack())
    end)

    it("carry the trace of the call's own task, waited or not", fun ()
        let now = run(async fun ()
            try
                await call_raise_now()
            catch e
                return e
            end
        end)
        let later = run(async fun ()
            try
                await raise_later()
            catch e
                return e
            end
        end)
        assert_eq(now.stack().len(), 1)
        assert_eq(later.stack().len(), 1)
    end)

    it("bad arguments fail the call itself", fun ()
        async fun two(a, b) a + b end
        let e = run(async fun ()
            try
                await two(1)
            catch e: ArgErr
                return e
            end
        end)
        assert(e.is(ArgErr))
    end)
end)

describe("waiting halfway", fun ()
    it("keeps try, catch and ensure of the call working", fun ()
        let log = []
        async fun guarded()
            try
                await async.sleep(0.001)
                raise ValueErr.new("x")
            catch e: ValueErr
                log.push("caught " .. e.message())
            ensure
                log.push("ensure")
            end
            "done"
        end
        let r = run(async fun ()
            try
                await guarded()
            ensure
                log.push("caller ensure")
            end
        end)
        assert_eq(r, "done")
        assert_eq(log, ["caught x", "ensure", "caller ensure"])
    end)

    it("lets an error raised after the wait reach the caller's catch", fun ()
        let r = run(async fun ()
            let before = "kept"
            try
                await raise_later()
            catch e: ValueErr
                return [before, e.message()]
            end
        end)
        assert_eq(r, ["kept", "later"])
    end)

    it("keeps closures over the call's locals", fun ()
        async fun counter()
            let n = 0
            let inc = fun ()
                n = n + 1
                n
            end
            inc()
            await async.sleep(0.001)
            inc()
            return [n, inc]
        end
        let r = run(async fun () await counter() end)
        assert_eq(r[0], 2)
        r[1]()
        assert_eq(r[1](), 4)
    end)

    it("resumes every level of a chain of awaited calls", fun ()
        async fun c(x)
            let local = x * 10
            await async.sleep(0.001)
            local + 1
        end
        async fun b(x)
            let local = x + 1
            let v = await c(local)
            return [local, v]
        end
        async fun a()
            let local = "a"
            let v = await b(1)
            return [local, v]
        end
        assert_eq(run(async fun () await a() end), ["a", [2, 21]])
    end)

    it("works for async methods", fun ()
        type Account
            balance
            async fun deposit(n)
                await async.sleep(0.001)
                self.balance = self.balance + n
                self.balance
            end
            async fun quick(n)
                self.balance + n
            end
        end
        let acct = Account.new(balance: 10)
        let r = run(async fun () [await acct.quick(1), await acct.deposit(5)] end)
        assert_eq(r, [11, 15])
    end)
end)

describe("depth", fun ()
    it("an awaited call counts its depth from itself, as a task would", fun ()
        async fun depth() sys.get_call_depth() end
        let own = async.block_on(depth())
        let awaited = run(async fun ()
            await depth()
        end)
        assert_eq(awaited, own)
    end)

    it("async recursion through awaits goes deeper than the call limit", fun ()
        async fun down(n)
            if n == 0
                return 0
            end
            (await down(n - 1)) + 1
        end
        assert_eq(run(async fun () await down(3000) end), 3000)
    end)

    it("an await in code run by a native call inside the call cannot suspend", fun ()
        async fun evaluating()
            sys.eval("use \"std/async\"\nawait async.sleep(0.001)")
        end
        let e = run(async fun () await error_of(evaluating()) end)
        assert(e.is(RuntimeErr))
    end)
end)

describe("calls not awaited at once", fun ()
    it("give a Task that is the call's own, finished or not", fun ()
        let seen = nil
        async fun quick()
            seen = async.current()
            1
        end
        let r = run(async fun ()
            let t = quick()
            return [t, t.is_finished()]
        end)
        assert_eq(r[0], seen)
        assert(r[1])
    end)

    it("keep an error in their Task, away from the caller's catch", fun ()
        let log = []
        async fun fails()
            raise ValueErr.new("kept")
        end
        let t = run(async fun ()
            let t = nil
            try
                t = fails()
                log.push("went on")
            catch e
                log.push("caught in the caller")
            end
            return t
        end)
        assert_eq(log, ["went on"])
        assert(t.is_finished())
        let e = async.block_on(error_of(t))
        assert(e.is(ValueErr))
        assert_eq(e.stack().len(), 1)
    end)

    it("hand their Task over when they first wait, and run on later", fun ()
        let log = []
        async fun inner()
            log.push("inner waits")
            await async.sleep(0.001)
            log.push("inner done")
            "inner"
        end
        async fun outer()
            log.push("outer starts")
            let v = await inner()
            log.push("outer done")
            v .. "+outer"
        end
        let r = run(async fun ()
            let t = outer()
            log.push("caller has " .. t.cls())
            await t
        end)
        assert_eq(r, "inner+outer")
        assert_eq(log, ["outer starts", "inner waits", "caller has Task", "inner done", "outer done"])
    end)

    it("can be cancelled while they wait, running their ensure blocks", fun ()
        let log = []
        async fun background()
            try
                await async.sleep(5)
            ensure
                log.push("ensure ran")
            end
        end
        let t = run(async fun () background() end)
        assert(not t.is_finished())
        t.cancel()
        assert(async.block_on(error_of(t)).is(CancelledErr))
        assert_eq(log, ["ensure ran"])
    end)
end)
