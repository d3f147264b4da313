# if / elif / else, return, and the value a statement leaves behind
# (a function without `return` gives back its last statement's value).

use "std/test" {module, describe, it, assert, assert_eq, assert_raises, assert_nil}
use "std/sys"

module("Lang: control flow")

fun classify(n)
    if n < 0
        "negative"
    elif n == 0
        "zero"
    elif n < 10
        "small"
    else
        "large"
    end
end

describe("if / elif / else", fun ()
    it("runs the first branch whose condition holds", fun ()
        assert_eq(classify(-3), "negative")
        assert_eq(classify(0), "zero")
        assert_eq(classify(4), "small")
        assert_eq(classify(400), "large")
    end)

    it("runs nothing when no branch matches and there is no else", fun ()
        let ran = false
        if 1 > 2
            ran = true
        elif 2 > 3
            ran = true
        end
        assert(not ran)
    end)

    it("fits on one line", fun ()
        let r = nil
        if true r = "yes" else r = "no" end
        assert_eq(r, "yes")
        if false r = "yes" else r = "no" end
        assert_eq(r, "no")
    end)

    it("tests truthiness, not just Bools", fun ()
        let picked = []
        for v in [0, 1, "", "s", [], [0], {}, nil, 0.0]
            if v
                picked.push(v)
            end
        end
        assert_eq(picked, [1, "s", [0]])
    end)

    it("nests", fun ()
        fun grade(a, b)
            if a
                if b "both" else "a only" end
            else
                if b "b only" else "neither" end
            end
        end
        assert_eq(grade(true, true), "both")
        assert_eq(grade(true, false), "a only")
        assert_eq(grade(false, true), "b only")
        assert_eq(grade(false, false), "neither")
    end)

    it("evaluates only the conditions it needs", fun ()
        let checked = []
        fun probe(tag, result)
            checked.push(tag)
            result
        end
        if probe(1, false)
            nil
        elif probe(2, true)
            nil
        elif probe(3, true)
            nil
        end
        assert_eq(checked, [1, 2])
    end)

    it("treats elsif as an ordinary name, not a keyword", fun ()
        assert_raises(NameErr, fun () sys.eval("if true elsif end") end)
    end)
end)

describe("the value of the last statement", fun ()
    it("is what a function returns without return", fun ()
        fun twice(x) x * 2 end
        fun several()
            let a = 1
            a + 1
            a + 100
        end
        assert_eq(twice(4), 8)
        assert_eq(several(), 101)
    end)

    it("comes from the branch taken when the last statement is an if", fun ()
        fun sign(n)
            if n < 0
                "minus"
            elif n > 0
                1
            else
                0
            end
        end
        assert_eq(sign(-9), "minus")
        assert_eq(sign(9), 1)
        assert_eq(sign(0), 0)
    end)

    it("is nil when the last if runs no branch", fun ()
        fun maybe(flag) if flag "set" end end
        assert_nil(maybe(false))
        assert_eq(maybe(true), "set")
    end)

    it("is nil for declarations and assignments", fun ()
        fun ends_with_let() let x = 5 end
        fun ends_with_assignment()
            let y = 1
            y = 7
        end
        assert_nil(ends_with_let())
        assert_nil(ends_with_assignment())
    end)

    it("is nil for loops", fun ()
        fun ends_with_while()
            let i = 0
            while i < 3
                i += 1
            end
        end
        assert_nil(ends_with_while())
    end)

    it("is nil for an empty body", fun ()
        fun nothing() end
        assert_nil(nothing())
    end)

    it("comes from the try or catch body when the last statement is a try", fun ()
        fun safe_div(a, b)
            try
                a / b
            catch e: RuntimeErr
                "undefined"
            end
        end
        assert_eq(safe_div(9, 3), 3)
        assert_eq(safe_div(1, 0), "undefined")
    end)
end)

describe("statement boundaries", fun ()
    it("are not marked by newlines, so a leading minus continues the line before", fun ()
        fun minus_one_or_zero(n)
            if n < 0
                -1
            else
                0
            end
        end
        # Read as `if n < 0 - 1`: the branch body is empty.
        assert_eq(minus_one_or_zero(-5), nil)
        assert_eq(minus_one_or_zero(-1), 0)
    end)

    it("are not marked by newlines, so a leading bracket indexes the line before", fun ()
        let n = 0
        let caught = nil
        try
            let x = n
            [1, 2].len()
        catch e
            caught = e.type()
        end
        # Read as `let x = n[1, 2].len()`, which fails.
        assert(caught != nil)
    end)

    it("let several statements share a line", fun ()
        let a = 1 let b = 2 let c = a + b
        assert_eq(c, 3)
    end)
end)

describe("return", fun ()
    it("leaves the function at once", fun ()
        fun first_even(items)
            for x in items
                if x % 2 == 0
                    return x
                end
            end
            "none"
        end
        assert_eq(first_even([1, 3, 4, 6]), 4)
        assert_eq(first_even([1]), "none")
    end)

    it("returns nil when bare", fun ()
        fun early(flag)
            if flag
                return
            end
            "late"
        end
        assert_nil(early(true))
        assert_eq(early(false), "late")
    end)

    it("leaves nested loops", fun ()
        fun find_pair(target)
            for a in 1 to 5
                for b in 1 to 5
                    if a * b == target
                        return [a, b]
                    end
                end
            end
        end
        assert_eq(find_pair(12), [3, 4])
        assert_nil(find_pair(7))
    end)

    it("returns from the innermost function only", fun ()
        fun outer()
            let inner = fun () return "inner" end
            inner()
            "outer"
        end
        assert_eq(outer(), "outer")
    end)

    it("stops a top-level unit cleanly", fun ()
        assert_eq(sys.eval("let a = 1\nreturn\nlet a = 2"), nil)
    end)
end)
