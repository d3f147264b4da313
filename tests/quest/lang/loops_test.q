# while and for loops: arrays, dicts, strings, numeric ranges with to /
# until / step, break and continue.

use "std/test" {module, describe, it, assert, assert_eq, assert_raises, assert_nil}

module("Lang: loops")

describe("while", fun ()
    it("re-checks its condition before every pass", fun ()
        let n = 0
        let passes = 0
        while n < 5
            n += 2
            passes += 1
        end
        assert_eq(n, 6)
        assert_eq(passes, 3)
    end)

    it("never runs the body for a false condition", fun ()
        let ran = false
        while false
            ran = true
        end
        assert(not ran)
    end)

    it("uses truthiness", fun ()
        let queue = [1, 2, 3]
        let drained = []
        while queue
            drained.push(queue.pop())
        end
        assert_eq(drained, [3, 2, 1])
    end)

    it("stops on break and skips on continue", fun ()
        let i = 0
        let odd = []
        while true
            i += 1
            if i > 7
                break
            end
            if i % 2 == 0
                continue
            end
            odd.push(i)
        end
        assert_eq(odd, [1, 3, 5, 7])
    end)
end)

describe("for over arrays", fun ()
    it("visits elements in order", fun ()
        let out = []
        for w in ["a", "b", "c"]
            out.push(w.upper())
        end
        assert_eq(out, ["A", "B", "C"])
    end)

    it("gives the index as a second variable", fun ()
        let pairs = []
        for item, i in ["x", "y"]
            pairs.push(item .. i)
        end
        assert_eq(pairs, ["x0", "y1"])
    end)

    it("does nothing for an empty array", fun ()
        let count = 0
        for x in []
            count += 1
        end
        assert_eq(count, 0)
    end)

    it("iterates a snapshot taken when the loop starts", fun ()
        let a = [1, 2]
        let visited = 0
        for x in a
            a.push(x)
            visited += 1
        end
        assert_eq(visited, 2)
        assert_eq(a, [1, 2, 1, 2])
    end)
end)

describe("for over dicts", fun ()
    it("gives key and value with two variables", fun ()
        let d = {a: 1, b: 2, c: 3}
        let total = 0
        let keys = []
        for k, v in d
            total += v
            keys.push(k)
        end
        assert_eq(total, 6)
        assert_eq(keys.sorted(), ["a", "b", "c"])
    end)

    # The reference binds [key, value] pairs here; its docs promise keys,
    # and keys are what we give (DESIGN decision 5).
    it("gives keys with one variable", fun ()
        let keys = []
        for k in {x: 1, y: 2}
            keys.push(k)
        end
        assert_eq(keys.sorted(), ["x", "y"])
    end)
end)

describe("for over strings", fun ()
    it("visits characters, not bytes", fun ()
        let chars = []
        for ch in "añb"
            chars.push(ch)
        end
        assert_eq(chars, ["a", "ñ", "b"])
    end)
end)

describe("for over things that cannot be iterated", fun ()
    it("raises for a number or nil", fun ()
        assert_raises(TypeErr, fun ()
            for x in 42
            end
        end)
        assert_raises(TypeErr, fun ()
            for x in nil
            end
        end)
    end)
end)

fun collect_range(kind, a, b)
    let out = []
    if kind == "to"
        for i in a to b
            out.push(i)
        end
    else
        for i in a until b
            out.push(i)
        end
    end
    out
end

describe("numeric ranges", fun ()
    it("includes the end with to and excludes it with until", fun ()
        assert_eq(collect_range("to", 1, 4), [1, 2, 3, 4])
        assert_eq(collect_range("until", 1, 4), [1, 2, 3])
    end)

    it("counts down by itself when the start is larger", fun ()
        assert_eq(collect_range("to", 3, 1), [3, 2, 1])
        assert_eq(collect_range("until", 3, 1), [3, 2])
    end)

    it("runs once or not at all for equal bounds", fun ()
        assert_eq(collect_range("to", 5, 5), [5])
        assert_eq(collect_range("until", 5, 5), [])
    end)

    it("honours a positive step", fun ()
        let out = []
        for i in 0 to 10 step 4
            out.push(i)
        end
        assert_eq(out, [0, 4, 8])
        let out2 = []
        for i in 0 until 8 step 2
            out2.push(i)
        end
        assert_eq(out2, [0, 2, 4, 6])
    end)

    it("honours a negative step", fun ()
        let out = []
        for i in 10 to 0 step -5
            out.push(i)
        end
        assert_eq(out, [10, 5, 0])
        let out2 = []
        for i in 10 until 0 step -5
            out2.push(i)
        end
        assert_eq(out2, [10, 5])
    end)

    it("runs nothing when the step points away from the end", fun ()
        let out = []
        for i in 1 to 5 step -1
            out.push(i)
        end
        assert_eq(out, [])
    end)

    it("takes bounds from expressions evaluated once", fun ()
        let items = [10, 20, 30]
        let seen = []
        for i in 0 until items.len()
            seen.push(items[i])
        end
        assert_eq(seen, items)
    end)

    it("works with negative bounds", fun ()
        assert_eq(collect_range("to", -2, 1), [-2, -1, 0, 1])
    end)
end)

describe("break and continue", fun ()
    it("affect only the innermost loop", fun ()
        let pairs = []
        for a in 1 to 3
            for b in 1 to 3
                if b == 2
                    continue
                end
                if b > a
                    break
                end
                pairs.push([a, b])
            end
        end
        assert_eq(pairs, [[1, 1], [2, 1], [3, 1], [3, 3]])
    end)

    it("work from inside a match arm", fun ()
        let kept = []
        for n in 1 to 10
            match n
            in 3
                continue
            in 6
                break
            end
            kept.push(n)
        end
        assert_eq(kept, [1, 2, 4, 5])
    end)

    it("work from inside a try body", fun ()
        let kept = []
        for n in 1 to 5
            try
                if n == 2
                    continue
                end
                if n == 4
                    break
                end
                kept.push(n)
            catch e
                kept.push("error")
            end
        end
        assert_eq(kept, [1, 3])
    end)

    # The compiler knows where loops are, so this is caught before running.
    it("are rejected outside a loop", fun ()
        use "std/sys"
        assert_raises(SyntaxErr, fun () sys.eval("break") end)
        assert_raises(SyntaxErr, fun () sys.eval("continue") end)
    end)
end)

describe("loop variables", fun ()
    it("are fresh per iteration, so closures keep their own value", fun ()
        let fns = []
        for i in 1 to 3
            fns.push(fun () i * 10 end)
        end
        assert_eq(fns.map(fun (f) f() end), [10, 20, 30])
    end)

    it("do not leak out of the loop", fun ()
        for leaked in [1]
        end
        assert_raises(NameErr, fun () leaked end)
    end)

    it("may reuse an outer name without touching it", fun ()
        let x = "outer"
        for x in [1, 2]
        end
        assert_eq(x, "outer")
    end)
end)
