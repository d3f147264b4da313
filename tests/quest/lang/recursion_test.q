# Recursion: ordinary recursive functions, the call-depth limit and the
# error it raises, and recovery afterwards.

use "std/test" {module, describe, it, skip, assert, assert_eq, assert_raises, assert_type}
use "std/sys"

module("Lang: recursion")

fun fib(n)
    if n < 2
        return n
    end
    fib(n - 1) + fib(n - 2)
end

fun depth_of(n)
    if n == 0
        return 0
    end
    1 + depth_of(n - 1)
end

fun forever(n) forever(n + 1) end

describe("recursive functions", fun ()
    it("compute by calling themselves", fun ()
        assert_eq(fib(20), 6765)
    end)

    it("can go several hundred calls deep", fun ()
        assert_eq(depth_of(800), 800)
    end)

    it("work through lambdas stored in variables", fun ()
        let sum_to = nil
        sum_to = fun (n) if n == 0 0 else n + sum_to(n - 1) end end
        assert_eq(sum_to(100), 5050)
    end)

    it("work through methods", fun ()
        type Walker
            pub steps: Int
            fun walk(n)
                if n == 0
                    return self.steps
                end
                self.steps += 1
                self.walk(n - 1)
            end
        end
        assert_eq(Walker.new(steps: 0).walk(300), 300)
    end)
end)

describe("the depth limit", fun ()
    it("stops runaway recursion with a RuntimeErr", fun ()
        assert_raises(RuntimeErr, fun () forever(0) end)
    end)

    it("says why in the message", fun ()
        let msg = nil
        try
            forever(0)
        catch e
            msg = e.message()
        end
        assert(msg.contains("recursion depth"), msg)
    end)

    it("is 1000 function calls", fun ()
        let limits = sys.get_depth_limits()
        assert_eq(limits["function_calls"], 1000)
        assert_raises(RuntimeErr, fun () depth_of(1000) end)
    end)

    it("also stops recursion through built-in callbacks", fun ()
        fun via_map(n) [n].map(fun (x) via_map(x + 1) end) end
        assert_raises(RuntimeErr, fun () via_map(0) end)
    end)

    it("also stops recursion through methods", fun ()
        type Loop
            pub n: Int
            fun again() self.again() end
        end
        assert_raises(RuntimeErr, fun () Loop.new(n: 0).again() end)
    end)

    it("leaves the interpreter usable afterwards", fun ()
        try
            forever(0)
        catch e
            nil
        end
        assert_eq(depth_of(500), 500)
        assert_eq(fib(10), 55)
    end)

    it("unwinds ensure blocks on the way out", fun ()
        let cleaned = 0
        fun dive(n)
            try
                dive(n + 1)
            ensure
                cleaned += 1
            end
        end
        assert_raises(RuntimeErr, fun () dive(0) end)
        assert(cleaned > 900, "ensure ran at every level: " .. cleaned)
    end)
end)

describe("call depth", fun ()
    it("grows by one per nested call", fun ()
        let here = sys.get_call_depth()
        fun nested(n)
            if n == 0
                return sys.get_call_depth()
            end
            nested(n - 1)
        end
        assert_type(here, "Int")
        assert_eq(nested(10) - here, 11)
    end)

    it("is back to where it was after an error", fun ()
        let before = sys.get_call_depth()
        try
            forever(0)
        catch e
            nil
        end
        assert_eq(sys.get_call_depth(), before)
    end)
end)

describe("deep data", fun ()
    it("prints deeply nested arrays without crashing", fun ()
        let root = []
        let cur = root
        for i in 1 to 3000
            let next = []
            cur.push(next)
            cur = next
        end
        assert(root.str().startswith("[[["))
    end)

    it("prints an array that contains itself", fun ()
        let a = [1]
        a.push(a)
        assert(a.str().startswith("[1, [1, "))
    end)
end)

# Comparing structures that contain themselves, or that are nested far
# deeper than the call limit, must end in a value or a RuntimeErr — never
# a crash.
fun compare_outcome(a, b)
    try
        return (a == b).cls()
    catch e
        return e.type().str()
    end
end

fun deep_chain(levels)
    let root = []
    let cur = root
    for i in 1 to levels
        let next = []
        cur.push(next)
        cur = next
    end
    root
end

fun cyclic_arrays_compare()
    let a = [1]
    a.push(a)
    let b = [1]
    b.push(b)
    assert(["Bool", "RuntimeErr"].contains(compare_outcome(a, b)))
end

fun cyclic_dicts_compare()
    let a = {}
    a["me"] = a
    let b = {}
    b["me"] = b
    assert(["Bool", "RuntimeErr"].contains(compare_outcome(a, b)))
end

fun very_deep_arrays_compare()
    assert(["Bool", "RuntimeErr"].contains(compare_outcome(deep_chain(200000), deep_chain(200000))))
end

describe("comparing recursive data", fun ()
    it("compares a structure with itself", fun ()
        let a = [1]
        a.push(a)
        assert(a == a)
    end)

    # == gives up (unequal) past a fixed depth instead of exhausting the C stack.
    it("compares two distinct self-containing arrays without crashing", cyclic_arrays_compare)
    it("compares two distinct self-containing dicts without crashing", cyclic_dicts_compare)
    it("compares arrays nested 200000 deep without crashing", very_deep_arrays_compare)
end)
