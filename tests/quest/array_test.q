# Array methods: mutation, queries, higher-order methods, Array.new and the
# errors each raises.

use "std/test" {module, describe, it, assert, assert_eq, assert_raises}

module("Array methods")

describe("growing and shrinking", fun ()
    it("push and unshift return the receiver itself", fun ()
        let xs = [2]
        assert_eq(xs.push(3)._id(), xs._id())
        assert_eq(xs.unshift(1)._id(), xs._id())
        assert_eq(xs, [1, 2, 3])
    end)

    it("pop and shift hand back what they remove", fun ()
        let xs = ["a", "b", "c"]
        assert_eq(xs.pop(), "c")
        assert_eq(xs.shift(), "a")
        assert_eq(xs, ["b"])
    end)

    it("pop, shift, first and last refuse an empty array", fun ()
        assert_raises(RuntimeErr, fun () [].pop() end)
        assert_raises(RuntimeErr, fun () [].shift() end)
        assert_raises(RuntimeErr, fun () [].first() end)
        assert_raises(RuntimeErr, fun () [].last() end)
    end)

    it("insert accepts any position from 0 to len, and negatives", fun ()
        let xs = [1, 3]
        xs.insert(1, 2)
        xs.insert(3, 4)
        xs.insert(0, 0)
        assert_eq(xs, [0, 1, 2, 3, 4])
        xs.insert(-1, 3.5)
        assert_eq(xs, [0, 1, 2, 3, 3.5, 4])
    end)

    it("insert past the end is an IndexErr", fun ()
        assert_raises(IndexErr, fun () [1, 2].insert(3, 0) end)
        assert_raises(IndexErr, fun () [1, 2].insert(-3, 0) end)
    end)

    it("remove drops the first equal element only", fun ()
        let xs = [5, 6, 5]
        assert_eq(xs.remove(5), true)
        assert_eq(xs, [6, 5])
        assert_eq(xs.remove(7), false)
    end)

    it("remove_at returns the element, negatives count from the end", fun ()
        let xs = [10, 20, 30, 40]
        assert_eq(xs.remove_at(1), 20)
        assert_eq(xs.remove_at(-1), 40)
        assert_eq(xs, [10, 30])
        assert_raises(IndexErr, fun () xs.remove_at(2) end)
    end)

    it("clear empties in place and returns the receiver", fun ()
        let xs = [1, 2]
        let same = xs.clear()
        assert_eq(xs.len(), 0)
        assert_eq(same._id(), xs._id())
        assert(xs.empty())
    end)
end)

describe("indexing", fun ()
    it("reads from either end", fun ()
        let xs = [1, 2, 3]
        assert_eq(xs[0], 1)
        assert_eq(xs[-1], 3)
        assert_eq(xs.get(2), 3)
        assert_eq(xs.get(-3), 1)
    end)

    it("reading out of range is a RuntimeErr", fun ()
        let xs = [1, 2, 3]
        assert_raises(RuntimeErr, fun () xs[3] end)
        assert_raises(RuntimeErr, fun () xs[-4] end)
        assert_raises(RuntimeErr, fun () xs.get(7) end)
    end)

    it("writing out of range is an IndexErr", fun ()
        let xs = [1, 2, 3]
        assert_raises(IndexErr, fun () xs[3] = 0 end)
        assert_raises(IndexErr, fun () xs[-4] = 0 end)
    end)

    it("an index must be a number", fun ()
        assert_raises(TypeErr, fun () [1][nil] end)
        assert_raises(TypeErr, fun () [1].get("0") end)
    end)
end)

describe("copies and views", fun ()
    it("reversed and sorted leave the receiver alone", fun ()
        let xs = [3, 1, 2]
        assert_eq(xs.reversed(), [2, 1, 3])
        assert_eq(xs.sorted(), [1, 2, 3])
        assert_eq(xs, [3, 1, 2])
    end)

    it("reverse and sort work in place and return the receiver", fun ()
        let xs = [3, 1, 2]
        assert_eq(xs.sort()._id(), xs._id())
        assert_eq(xs, [1, 2, 3])
        xs.reverse()
        assert_eq(xs, [3, 2, 1])
    end)

    it("sorts mixed kinds nil, Bool, numbers, Str", fun ()
        assert_eq([3, "b", 1.5, nil, true, "a", false].sorted(),
                  [nil, false, true, 1.5, 3, "a", "b"])
    end)

    it("sorting is stable for elements that compare equal", fun ()
        let xs = [1.0, 1, 0].sorted()
        assert_eq(xs[1].cls(), "Float")
        assert_eq(xs[2].cls(), "Int")
    end)

    it("slice clamps its bounds and counts negatives from the end", fun ()
        let xs = [0, 1, 2, 3, 4]
        assert_eq(xs.slice(1, 3), [1, 2])
        assert_eq(xs.slice(-2, 100), [3, 4])
        assert_eq(xs.slice(-100, 1), [0])
        assert_eq(xs.slice(3, 1), [])
    end)

    it("concat makes a new array and wants an Array", fun ()
        let a = [1]
        let b = a.concat([2, 3])
        assert_eq(b, [1, 2, 3])
        assert_eq(a, [1])
        assert_eq([].concat([]), [])
        assert_eq([].concat([4]), [4])
        assert_eq(a.concat([]), [1])
        assert_raises(TypeErr, fun () a.concat(2) end)
    end)

    it("join writes each element in str form", fun ()
        assert_eq([1, nil, true, 2.5, "x"].join("-"), "1-nil-true-2.5-x")
        assert_eq([].join(", "), "")
        assert_eq([[1, 2], 3].join(" "), "[1, 2] 3")
        assert_raises(TypeErr, fun () [1, 2].join(0) end)
    end)
end)

describe("searching", fun ()
    it("contains, index_of and count use ==", fun ()
        let xs = [1, [2, 3], "x", 1.0]
        assert(xs.contains([2, 3]))
        assert_eq(xs.index_of("x"), 2)
        assert_eq(xs.index_of("y"), -1)
        assert_eq(xs.count(1), 2)
    end)
end)

describe("higher-order methods", fun ()
    it("map and filter pass the index to two-parameter functions", fun ()
        assert_eq(["a", "b"].map(fun (s, i) s .. i end), ["a0", "b1"])
        assert_eq([5, 6, 7].filter(fun (x, i) i != 1 end), [5, 7])
    end)

    it("each visits in order and returns nil", fun ()
        let seen = []
        let r = [3, 4].each(fun (x, i) seen.push(i * 10 + x) end)
        assert_eq(seen, [3, 14])
        assert_eq(r, nil)
    end)

    it("reduce folds from the left and returns init for []", fun ()
        assert_eq(["a", "b", "c"].reduce(fun (acc, s) acc .. s end, ">"), ">abc")
        assert_eq([].reduce(fun (acc, x) acc + x end, 42), 42)
    end)

    it("any, all, find and find_index stop at the first answer", fun ()
        let calls = 0
        let hit = [1, 2, 3, 4].find(fun (x)
            calls = calls + 1
            x > 1
        end)
        assert_eq(hit, 2)
        assert_eq(calls, 2)
        assert_eq([1, 2].find(fun (x) x > 5 end), nil)
        assert_eq([1, 2].find_index(fun (x) x == 2 end), 1)
        assert_eq([1, 2].find_index(fun (x) x == 9 end), -1)
        assert_eq([].any(fun (x) true end), false)
        assert_eq([].all(fun (x) false end), true)
        assert_eq([2, 4].all(fun (x) x % 2 == 0 end), true)
    end)

    it("an exception in the callback comes out of the method", fun ()
        let boom = fun (x) raise ValueErr.new("no " .. x) end
        assert_raises(ValueErr, fun () [1].map(boom) end)
        assert_raises(ValueErr, fun () [1].filter(boom) end)
        assert_raises(ValueErr, fun () [1].each(boom) end)
        assert_raises(ValueErr, fun () [1].any(boom) end)
        assert_raises(ValueErr, fun () [1].reduce(fun (a, x) boom(x) end, 0) end)
    end)

    it("the callback may change the array it walks", fun ()
        let xs = [1, 2, 3]
        let calls = 0
        xs.each(fun (x)
            calls = calls + 1
            xs.clear()
        end)
        assert_eq(calls, 1)
    end)

    it("a non-function argument is a TypeErr", fun ()
        assert_raises(TypeErr, fun () [1].map(5) end)
        assert_raises(TypeErr, fun () [1].each("f") end)
    end)

    it("a wrong number of arguments is an ArgErr", fun ()
        assert_raises(ArgErr, fun () [1].push() end)
        assert_raises(ArgErr, fun () [1].slice(0) end)
    end)
end)

describe("Array.new", fun ()
    it("makes empty, nil-filled and value-filled arrays", fun ()
        assert_eq(Array.new(), [])
        assert_eq(Array.new(2), [nil, nil])
        assert_eq(Array.new(3, "z"), ["z", "z", "z"])
    end)

    it("shares one value across the slots", fun ()
        let row = []
        let grid = Array.new(2, row)
        row.push(1)
        assert_eq(grid, [[1], [1]])
    end)

    it("rejects a negative or non-numeric count", fun ()
        assert_raises(ValueErr, fun () Array.new(-1) end)
        assert_raises(TypeErr, fun () Array.new("3") end)
    end)
end)
