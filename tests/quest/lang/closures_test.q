# Closures: capture by reference, shared and private state, counters,
# closures in loops and in nested functions.

use "std/test" {module, describe, it, assert, assert_eq, assert_neq, assert_raises}

module("Lang: closures")

fun make_counter(start = 0)
    let n = start
    fun next()
        n += 1
        n
    end
    next
end

let setting = "initial"
fun read_setting() setting end

describe("captured variables", fun ()
    it("keep their state between calls", fun ()
        let c = make_counter()
        c()
        c()
        assert_eq(c(), 3)
    end)

    it("are separate for every call of the outer function", fun ()
        let a = make_counter()
        let b = make_counter(100)
        a()
        a()
        assert_eq(a(), 3)
        assert_eq(b(), 101)
    end)

    it("are shared by closures made in the same call", fun ()
        fun account(balance)
            let deposit = fun (x) balance += x end
            let read = fun () balance end
            [deposit, read]
        end
        let acct = account(10)
        acct[0](5)
        acct[0](1)
        assert_eq(acct[1](), 16)
    end)

    it("are captured by reference, so later changes are seen", fun ()
        let greeting = "hello"
        let say = fun () greeting end
        greeting = "goodbye"
        assert_eq(say(), "goodbye")
    end)

    it("can be written from inside the closure", fun ()
        let total = 0
        let items = [1, 2, 3]
        items.each(fun (x) total += x end)
        assert_eq(total, 6)
    end)

    it("reach through several levels of nesting", fun ()
        fun level1()
            let depth = "one"
            fun level2()
                fun level3()
                    depth = depth .. "-three"
                    depth
                end
                level3()
            end
            level2()
            depth
        end
        assert_eq(level1(), "one-three")
    end)

    it("include parameters of the outer function", fun ()
        fun multiplier(k) fun (x) x * k end end
        let triple = multiplier(3)
        let tenfold = multiplier(10)
        assert_eq(triple(7), 21)
        assert_eq(tenfold(7), 70)
    end)

    it("see module-level variables and their changes", fun ()
        assert_eq(read_setting(), "initial")
        setting = "changed"
        assert_eq(read_setting(), "changed")
    end)
end)

describe("closures in loops", fun ()
    it("capture each iteration's own variable", fun ()
        let fns = []
        for name in ["a", "b"]
            let upper = name.upper()
            fns.push(fun () upper end)
        end
        assert_eq(fns[0](), "A")
        assert_eq(fns[1](), "B")
    end)

    it("share a variable declared outside the loop", fun ()
        let fns = []
        let shared = 0
        for i in 1 to 3
            shared = i
            fns.push(fun () shared end)
        end
        assert_eq(fns[0](), 3)
        assert_eq(fns[2](), 3)
    end)

    it("built in a while loop see the final value of an outer counter", fun ()
        let fns = []
        let i = 0
        while i < 2
            fns.push(fun () i end)
            i += 1
        end
        assert_eq(fns[0](), 2)
    end)
end)

describe("closures as values", fun ()
    it("can build other closures", fun ()
        fun compose(f, g) fun (x) f(g(x)) end end
        let inc = fun (x) x + 1 end
        let dbl = fun (x) x * 2 end
        assert_eq(compose(inc, dbl)(5), 11)
        assert_eq(compose(dbl, inc)(5), 12)
    end)

    it("memoise through captured state", fun ()
        let calls = 0
        fun memo(f)
            let cache = {}
            fun (n)
                let key = n.str()
                if cache[key] == nil
                    cache[key] = f(n)
                end
                cache[key]
            end
        end
        let slow_square = fun (n)
            calls += 1
            n * n
        end
        let fast = memo(slow_square)
        fast(4)
        fast(4)
        assert_eq(fast(4), 16)
        assert_eq(calls, 1)
    end)

    it("survive the function that created them", fun ()
        fun make() let secret = [1, 2] fun () secret end end
        let get = make()
        get().push(3)
        assert_eq(get(), [1, 2, 3])
    end)

    it("are distinct objects per creation", fun ()
        let a = make_counter()
        let b = make_counter()
        assert_neq(a._id(), b._id())
    end)
end)

describe("functions declared inside functions", fun ()
    it("are local to that function", fun ()
        fun outer()
            fun helper_only_here() 1 end
            helper_only_here()
        end
        assert_eq(outer(), 1)
        assert_raises(NameErr, fun () helper_only_here() end)
    end)

    it("can call themselves recursively", fun ()
        fun outer(n)
            fun down(k) if k == 0 "done" else down(k - 1) end end
            down(n)
        end
        assert_eq(outer(50), "done")
    end)
end)
