# match: value lists, numeric ranges (to / until / step), else, the
# statement's value, and the errors range patterns raise.

use "std/test" {module, describe, it, assert, assert_eq, assert_raises, assert_nil}
use "std/sys"

module("Lang: match")

fun weekday_kind(day)
    match day
    in "sat", "sun"
        "weekend"
    in "mon", "tue", "wed", "thu", "fri"
        "workday"
    else
        "unknown"
    end
end

describe("value lists", fun ()
    it("pick the first arm listing an equal value", fun ()
        assert_eq(weekday_kind("sun"), "weekend")
        assert_eq(weekday_kind("wed"), "workday")
        assert_eq(weekday_kind("funday"), "unknown")
    end)

    it("compare Int and Float by value", fun ()
        let r = nil
        match 2.0
        in 1
            r = "one"
        in 2
            r = "two"
        end
        assert_eq(r, "two")
    end)

    it("give nil when nothing matches and there is no else", fun ()
        fun low(n)
            match n
            in 1, 2
                "low"
            end
        end
        assert_nil(low(99))
        assert_eq(low(2), "low")
    end)

    it("stop at the first matching arm", fun ()
        let hits = []
        match 5
        in 5
            hits.push("first")
        in 5
            hits.push("second")
        end
        assert_eq(hits, ["first"])
    end)

    it("evaluate the subject once", fun ()
        let calls = 0
        fun subject()
            calls += 1
            3
        end
        match subject()
        in 1
            nil
        in 2
            nil
        in 3
            nil
        end
        assert_eq(calls, 1)
    end)

    it("match arrays, nil and booleans by value", fun ()
        fun describe_value(v)
            match v
            in nil
                "nothing"
            in true
                "yes"
            in [1, 2]
                "pair"
            else
                "other"
            end
        end
        assert_eq(describe_value(nil), "nothing")
        assert_eq(describe_value(true), "yes")
        assert_eq(describe_value([1, 2]), "pair")
        assert_eq(describe_value(false), "other")
    end)

    it("accept expressions as values", fun ()
        let limit = 10
        let r = nil
        match 20
        in limit, limit * 2
            r = "found"
        end
        assert_eq(r, "found")
    end)
end)

fun bucket(n)
    match n
    in 0 until 10
        "single"
    in 10 to 99
        "double"
    else
        "many"
    end
end

describe("ranges", fun ()
    it("test membership with to (inclusive) and until (exclusive)", fun ()
        assert_eq(bucket(0), "single")
        assert_eq(bucket(9), "single")
        assert_eq(bucket(10), "double")
        assert_eq(bucket(99), "double")
        assert_eq(bucket(100), "many")
        assert_eq(bucket(-1), "many")
    end)

    it("accept Float subjects and bounds", fun ()
        assert_eq(bucket(9.5), "single")
        assert_eq(bucket(10.0), "double")
        assert_eq(bucket(99.5), "many")
    end)

    it("with a step keep only values on the step grid", fun ()
        fun on_grid(n)
            match n
            in 0 to 20 step 5
                true
            else
                false
            end
        end
        assert(on_grid(0))
        assert(on_grid(15))
        assert(on_grid(20))
        assert(not on_grid(7))
        assert(not on_grid(25))
    end)

    it("never match a descending or empty range", fun ()
        let hits = 0
        match 5
        in 10 to 1
            hits += 1
        end
        match 10
        in 10 until 10
            hits += 1
        end
        assert_eq(hits, 0)
    end)

    it("work with BigInt subjects and bounds", fun ()
        let r = "out"
        match 50n
        in 1n to 100n
            r = "in"
        end
        assert_eq(r, "in")
    end)

    it("refuse a non-numeric subject", fun ()
        assert_raises(TypeErr, fun ()
            match "text"
            in 1 to 5
                nil
            end
        end)
    end)

    it("refuse a zero or negative step", fun ()
        assert_raises(ValueErr, fun ()
            match 2
            in 0 to 10 step 0
                nil
            end
        end)
        assert_raises(ValueErr, fun ()
            match 2
            in 0 to 10 step -2
                nil
            end
        end)
    end)

    it("refuse a Float step", fun ()
        assert_raises(TypeErr, fun ()
            match 2
            in 0 to 10 step 0.5
                nil
            end
        end)
    end)

    it("refuse mixing BigInt with Int", fun ()
        assert_raises(TypeErr, fun ()
            match 5n
            in 1 to 10
                nil
            end
        end)
    end)
end)

describe("match as a statement", fun ()
    it("cannot stand where an expression is expected", fun ()
        assert_raises(SyntaxErr, fun () sys.eval("let r = match 1 in 1 2 end") end)
    end)
end)

describe("arms", fun ()
    it("hold several statements and have their own scope", fun ()
        let r = nil
        match 1
        in 1
            let local = 5
            r = local * 2
        end
        assert_eq(r, 10)
        assert_raises(NameErr, fun () local end)
    end)

    it("give their value to the function when match is last", fun ()
        fun name_of(n)
            match n
            in 1
                "one"
            in 2
                "two"
            end
        end
        assert_eq(name_of(2), "two")
    end)

    it("may return from the enclosing function", fun ()
        fun first_word(n)
            match n
            in 1
                return "early"
            end
            "late"
        end
        assert_eq(first_word(1), "early")
        assert_eq(first_word(2), "late")
    end)

    it("may contain another match", fun ()
        fun both(a, b)
            match a
            in 0
                match b
                in 0
                    "origin"
                else
                    "y axis"
                end
            else
                "elsewhere"
            end
        end
        assert_eq(both(0, 0), "origin")
        assert_eq(both(0, 3), "y axis")
        assert_eq(both(1, 0), "elsewhere")
    end)

    it("need at least one in clause", fun ()
        assert_raises(SyntaxErr, fun () sys.eval("match 1 else 2 end") end)
    end)
end)
