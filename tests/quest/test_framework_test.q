# std/test seen from inside: assertions that hold, hooks, helpers and
# discovery.  How failures, skips and load errors are reported (and the
# exit status) is checked from outside by tests/e2e/test_runner_test.sh.

use "std/test" as test
use "std/test" {module, describe, it, assert, assert_eq, assert_neq, assert_gt, assert_lt, assert_gte, assert_lte, assert_nil, assert_not_nil, assert_type, assert_near, assert_raises, before, after, before_all, after_all, tag}

module("std/test")

describe("assertions that hold", fun ()
    it("compare values", fun ()
        assert(1 < 2)
        assert_eq([1, "a"], [1, "a"])
        assert_eq(2, 2.0, "Int and Float compare by value")
        assert_neq("a", "b")
        assert_gt(3, 2)
        assert_lt(2, 3)
        assert_gte(3, 3)
        assert_lte(3, 3)
        assert_near(0.1 + 0.2, 0.3, 0.0000001)
    end)

    it("check nil and types", fun ()
        assert_nil(nil)
        assert_not_nil(0)
        assert_type(nil, "Nil")
        assert_type("s", "Str")
        assert_type([], "Array")
    end)

    it("assert_raises wants the exact type, or Err for any", fun ()
        assert_raises(ValueErr, fun () raise ValueErr.new("v") end)
        assert_raises(Err, fun () raise IndexErr.new("i") end)
        assert_raises(RuntimeErr, fun () raise "a plain string" end)
    end)
end)

let order = []

describe("hooks", fun ()
    before(fun () order.push("before") end)
    after(fun () order.push("after") end)
    before_all(fun () order.push("before_all") end)
    after_all(fun () order.push("after_all") end)

    it("runs before_all at once and before hooks ahead of the body", fun ()
        assert_eq(order, ["before_all", "before"])
        order.push("body")
    end)

    it("ran the after hook when the previous test ended", fun ()
        assert_eq(order, ["before_all", "before", "body", "after", "before"])
    end)

    describe("nested blocks", fun ()
        it("inherit the hooks around them", fun ()
            assert_eq(order.last(), "before")
        end)
    end)
end)

describe("after the hooks' block", fun ()
    it("ran after_all once, and no hook runs any more", fun ()
        assert_eq(order, ["before_all", "before", "body", "after", "before", "after",
                          "before", "after", "after_all"])
    end)
end)

describe("tags", fun ()
    tag("fast")
    it("does not keep a tagged test from running without filters", fun ()
        assert(true)
    end)
    tag(["a", "b"])
    it("accepts several tags", fun ()
        assert(true)
    end)
end)

describe("helpers", fun ()
    it("formats durations", fun ()
        assert_eq(test.format_time(0), "0ms")
        assert_eq(test.format_time(999), "999ms")
        assert_eq(test.format_time(1500), "2s")
        assert_eq(test.format_time(90000), "2m")
        assert_eq(test.format_time(7200000), "2h")
    end)

    it("colours only when colours are on", fun ()
        let plain = test.green("x") == "x"
        test.set_colors(true)
        assert_eq(test.red("x"), chr(27) .. "[31mx" .. chr(27) .. "[0m")
        test.set_colors(false)
        assert_eq(test.bold(test.cyan("x")), "x")
        test.set_colors(not plain)
    end)

    it("finds test files by name", fun ()
        let found = test.find_tests(["tests/quest"])
        assert(found.contains("tests/quest/test_framework_test.q"))
        assert_eq(found.filter(fun (f) not f.endswith("_test.q") end), [])
        assert_eq(test.find_tests(["modules/std/test.q", "no/such/path"]), [])
    end)
end)
