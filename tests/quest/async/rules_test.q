# The rules of async code: where await is allowed, how cancellation is
# delivered, and what happens to tasks a program leaves running.

use "std/test" {module, describe, it, assert, assert_eq, assert_nil, assert_raises}
use "std/async"
use "std/io"
use "std/process"
use "std/sys"

module("Async: rules")

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

# Run a script in a fresh quest process.
fun run_script(script)
    let path = "/tmp/quest_async_rules_" .. sys.pid().str() .. ".q"
    io.write(path, script)
    try
        return process.run(["/proc/self/exe", path])
    ensure
        io.remove(path)
    end
end

describe("where await is allowed", fun ()
    it("is a syntax error in a plain function", fun ()
        assert_raises(SyntaxErr, fun () sys.eval("fun f() await 1 end") end)
    end)

    it("is allowed at the top level of a module, where it blocks", fun ()
        assert_eq(sys.eval("use \"std/async\"\nawait async.sleep(0)\n5"), 5)
    end)

    it("`async with` is a syntax error in a plain function", fun ()
        assert_raises(SyntaxErr, fun () sys.eval("fun f() async with x end end") end)
    end)

    it("cannot suspend a task from inside a synchronous call", fun ()
        let e = run(async fun ()
            try
                sys.eval("use \"std/async\"\nawait async.sleep(0)")
            catch e
                return e
            end
            nil
        end)
        assert(e.is(RuntimeErr))
        assert(e.message().contains("synchronous call"))
    end)
end)

describe("cancellation", fun ()
    it("raises CancelledErr at the suspension point, which can be caught", fun ()
        let log = []
        async fun worker()
            try
                await async.sleep(30)
            catch e: CancelledErr
                log.push("caught " .. e.message())
                return "cleaned up"
            end
        end
        let t = worker()
        t.cancel()
        assert_eq(async.block_on(t), "cleaned up")
        assert_eq(log, ["caught Task was cancelled"])
    end)

    it("is delivered once: ensure blocks may still await", fun ()
        let log = []
        async fun worker()
            try
                await async.sleep(30)
            ensure
                await async.sleep(0.001)
                log.push("ensure finished")
            end
        end
        let t = worker()
        t.cancel()
        assert_raises(CancelledErr, fun () async.block_on(t) end)
        assert_eq(log, ["ensure finished"])
    end)

    it("reaches a running task at its next await", fun ()
        let log = []
        async fun self_cancelling()
            async.current().cancel()
            log.push("still running")
            await async.sleep(0)
            log.push("never")
        end
        let t = self_cancelling()
        assert_raises(CancelledErr, fun () async.block_on(t) end)
        assert_eq(log, ["still running"])
    end)

    it("of a finished task does nothing", fun ()
        async fun quick() 1 end
        let t = quick()
        assert(not t.cancel())
        assert_eq(async.block_on(t), 1)
    end)

    it("fails every awaiter with CancelledErr", fun ()
        let t = async.sleep(30)
        let a = error_of(t)
        let b = error_of(t)
        t.cancel()
        assert(async.block_on(a).is(CancelledErr))
        assert(async.block_on(b).is(CancelledErr))
    end)
end)

describe("tasks a program leaves running", fun ()
    it("are cancelled when the program ends, running their ensure", fun ()
        let r = run_script("""use "std/async"
async fun background()
    try
        await async.sleep(30)
    ensure
        puts("background cleaned up")
    end
end
background()
puts("main done")
""")
        assert_eq(r.stdout(), "main done\nbackground cleaned up\n", r.stderr())
    end)

    it("detached tasks are not waited for when the program ends", fun ()
        let r = run_script("""use "std/async"
async fun background()
    await async.sleep(30)
    puts("never")
end
background().detach()
puts("main done")
""")
        assert_eq(r.stdout(), "main done\n", r.stderr())
    end)
end)
