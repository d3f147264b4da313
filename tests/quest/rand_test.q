# std/rand: the three generators, their ranges, reproducibility with a
# seed, array helpers, and the errors of bad arguments.

use "std/test" {module, describe, it, assert, assert_eq, assert_neq, assert_type, assert_raises}
use "std/rand"

module("std/rand")

describe("generators", fun ()
    it("are RNG objects that say which kind they are", fun ()
        assert_type(rand.secure(), "RNG")
        assert_eq(rand.secure().str(), "RNG(secure)")
        assert_eq(rand.fast().str(), "RNG(fast)")
        assert_eq(rand.seed(1).str(), "RNG(seeded)")
    end)

    it("repeat a sequence for the same seed, Int or Str", fun ()
        let a = rand.seed(42)
        let b = rand.seed(42)
        let c = rand.seed("level_1")
        let d = rand.seed("level_1")
        let i = 0
        while i < 20
            assert_eq(a.int(0, 1000000), b.int(0, 1000000))
            assert_eq(c.float(), d.float())
            i = i + 1
        end
        assert_eq(rand.seed(7).bytes(16), rand.seed(7).bytes(16))
    end)

    it("differ between seeds and between unseeded generators", fun ()
        assert_neq(rand.seed(1).int(0, 1000000000), rand.seed(2).int(0, 1000000000))
        assert_neq(rand.fast().bytes(16), rand.fast().bytes(16))
        assert_neq(rand.secure().bytes(16), rand.secure().bytes(16))
    end)

    it("refuse seeds that are neither Int nor Str", fun ()
        assert_raises(TypeErr, fun () rand.seed(1.5) end)
        assert_raises(TypeErr, fun () rand.seed(nil) end)
    end)
end)

describe("numbers", fun ()
    it("draw integers in an inclusive range, hitting both ends", fun ()
        let rng = rand.seed(3)
        let seen = {}
        let i = 0
        while i < 300
            let v = rng.int(-2, 2)
            assert(v >= -2 and v <= 2)
            seen[v.str()] = true
            i = i + 1
        end
        assert_eq(seen.len(), 5)
        assert_eq(rng.int(5, 5), 5)
    end)

    it("cover the whole Int range", fun ()
        let v = rand.fast().int(-9223372036854775807 - 1, 9223372036854775807)
        assert_type(v, "Int")
    end)

    it("draw floats in [0, 1) or [min, max)", fun ()
        let rng = rand.fast()
        let i = 0
        while i < 200
            let f = rng.float()
            assert(f >= 0.0 and f < 1.0)
            let g = rng.float(-10, 10)
            assert(g >= -10.0 and g < 10.0)
            i = i + 1
        end
    end)

    it("flip both ways", fun ()
        let rng = rand.seed(9)
        let t = 0
        let i = 0
        while i < 100
            if rng.bool()
                t = t + 1
            end
            i = i + 1
        end
        assert(t > 20 and t < 80)
    end)

    it("refuse inverted ranges and wrong kinds", fun ()
        let rng = rand.secure()
        assert_raises(ValueErr, fun () rng.int(10, 5) end)
        assert_raises(ValueErr, fun () rng.float(10.0, 5.0) end)
        assert_raises(TypeErr, fun () rng.int(1.5, 3) end)
        assert_raises(ArgErr, fun () rng.float(1.0) end)
    end)
end)

describe("bytes and arrays", fun ()
    it("makes byte strings of the asked length", fun ()
        let rng = rand.secure()
        assert_eq(rng.bytes(0).len(), 0)
        assert_eq(rng.bytes(1000).len(), 1000)
        assert_raises(ValueErr, fun () rng.bytes(-1) end)
    end)

    it("chooses an element, refusing an empty array", fun ()
        let rng = rand.seed(5)
        let xs = ["a", "b", "c"]
        assert(xs.contains(rng.choice(xs)))
        assert_raises(RuntimeErr, fun () rng.choice([]) end)
        assert_raises(TypeErr, fun () rng.choice("abc") end)
    end)

    it("shuffles in place, keeping every element", fun ()
        let xs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
        assert_eq(rand.seed(42).shuffle(xs), nil)
        assert_eq(xs.len(), 10)
        assert_eq(xs.sorted(), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
        let ys = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
        rand.seed(42).shuffle(ys)
        assert_eq(xs, ys)
    end)

    it("samples without replacement, leaving the array alone", fun ()
        let xs = [1, 2, 3, 4, 5]
        let s = rand.secure().sample(xs, 5)
        assert_eq(s.sorted(), [1, 2, 3, 4, 5])
        assert_eq(xs, [1, 2, 3, 4, 5])
        assert_eq(rand.fast().sample(xs, 0), [])
        assert_raises(ValueErr, fun () rand.fast().sample(xs, 6) end)
        assert_raises(ValueErr, fun () rand.fast().sample(xs, -1) end)
    end)
end)
