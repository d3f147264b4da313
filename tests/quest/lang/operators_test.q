# Operators: arithmetic and promotion, integer division and remainder,
# comparison, logic (and / or / not), elvis, bitwise operators, and the
# precedence table.

use "std/test" {module, describe, it, assert, assert_eq, assert_neq, assert_raises, assert_type}
use "std/sys"

module("Lang: operators")

describe("arithmetic", fun ()
    it("keeps Int with Int and promotes to Float with a Float", fun ()
        assert_type(2 + 3, "Int")
        assert_type(2 + 3.0, "Float")
        assert_type(2.0 * 3, "Float")
        assert_eq(2 + 0.5, 2.5)
    end)

    it("truncates Int division toward zero", fun ()
        assert_eq(7 / 2, 3)
        assert_eq(-7 / 2, -3)
        assert_eq(7 / -2, -3)
        assert_eq(7 / 2.0, 3.5)
    end)

    it("gives the remainder the dividend's sign", fun ()
        assert_eq(7 % 3, 1)
        assert_eq(-7 % 3, -1)
        assert_eq(7 % -3, 1)
        assert_eq(7.5 % 2, 1.5)
    end)

    it("raises RuntimeErr on division by zero, for Floats too", fun ()
        assert_raises(RuntimeErr, fun () 1 / 0 end)
        assert_raises(RuntimeErr, fun () 1 % 0 end)
        assert_raises(RuntimeErr, fun () 1.0 / 0.0 end)
        assert_raises(RuntimeErr, fun () 1.0 % 0 end)
    end)

    it("raises RuntimeErr when Int arithmetic overflows", fun ()
        let big = 9223372036854775807
        assert_raises(RuntimeErr, fun () big + 1 end)
        assert_raises(RuntimeErr, fun () -big - 2 end)
        assert_raises(RuntimeErr, fun () big * 2 end)
    end)

    it("negates numbers and keeps their kind", fun ()
        let n = 4
        assert_eq(-n, -4)
        assert_type(-n, "Int")
        assert_type(-2.5, "Float")
        assert_eq(- -n, 4)
        assert_eq(+n, 4)
    end)

    # The reference's `+` tries to read strings as numbers ("1" + "2" is 3.0);
    # we reject it and point at `..` (DESIGN decision 5).
    it("does not add strings: .. concatenates", fun ()
        assert_raises(TypeErr, fun () "a" + "b" end)
        assert_raises(TypeErr, fun () "1" + "2" end)
        assert_raises(TypeErr, fun () 1 + "2" end)
        assert_raises(TypeErr, fun () -"5" end)
        assert_eq("a" .. "b", "ab")
    end)

    it("refuses arithmetic on other kinds", fun ()
        assert_raises(TypeErr, fun () [1] * [2] end)
        assert_raises(TypeErr, fun () nil + 1 end)
        assert_raises(TypeErr, fun () {} - 1 end)
    end)

    it("mixes Decimal with Int but not BigInt with Int", fun ()
        let d = "1.25".to_decimal()
        assert_eq((d + 1).to_string(), "2.25")
        assert_eq((2n + 3n).to_string(), "5")
        assert_raises(TypeErr, fun () 2n + 3 end)
    end)
end)

describe("comparison", fun ()
    it("compares Int and Float by value", fun ()
        assert(1 == 1.0)
        assert(2 > 1.5)
        assert(1.5 <= 2)
        assert(0.1 + 0.2 == 0.3, "Float equality allows for rounding")
    end)

    it("orders strings bytewise", fun ()
        assert("abc" < "abd")
        assert("B" < "a")
        assert("" < "a")
        assert("ab" >= "ab")
    end)

    it("orders Bools with false first", fun ()
        assert(false < true)
    end)

    it("never finds values of different kinds equal", fun ()
        assert_neq(1, "1")
        assert_neq(0, false)
        assert_neq(nil, false)
        assert_neq("", nil)
        assert_neq([], {})
    end)

    it("chains left to right on the Bool result", fun ()
        assert_eq(1 < 2 < 3, true)
        assert_eq(3 > 2 > 1, false, "(3 > 2) is true, and true > 1 is false")
    end)

    it("has != as the negation of ==", fun ()
        assert(1 != 2)
        assert(not (1 != 1))
        assert([1, 2] != [2, 1])
    end)
end)

describe("and / or / not", fun ()
    it("return one of their operands", fun ()
        assert_eq(nil or "default", "default")
        assert_eq("first" or "second", "first")
        assert_eq("a" and "b", "b")
        assert_eq(0 and "never", 0)
        assert_eq(0 or nil, nil)
        assert_eq(1 and 0, 0)
    end)

    it("short-circuit", fun ()
        let calls = 0
        fun touch() calls += 1 true end
        let a = false and touch()
        let b = true or touch()
        assert_eq(calls, 0)
        let c = true and touch()
        let d = false or touch()
        assert_eq(calls, 2)
    end)

    it("not always gives a Bool", fun ()
        assert_eq(not 0, true)
        assert_eq(not "x", false)
        assert_eq(not not [1], true)
        assert_type(not nil, "Bool")
    end)

    it("not binds looser than comparison but tighter than and / or", fun ()
        assert_eq(not 1 == 2, true, "not (1 == 2)")
        assert_eq(not true and false, false, "(not true) and false")
        assert_eq(not false or false, true, "(not false) or false")
    end)

    it("and binds tighter than or", fun ()
        assert_eq(true or false and false, true)
        assert_eq((true or false) and false, false)
    end)
end)

describe("elvis ?:", fun ()
    it("replaces only nil", fun ()
        assert_eq(nil ?: 5, 5)
        assert_eq(0 ?: 5, 0)
        assert_eq(false ?: true, false)
        assert_eq("" ?: "x", "")
    end)

    it("evaluates its right side only when needed", fun ()
        let calls = 0
        fun fallback() calls += 1 "fb" end
        let v = "set" ?: fallback()
        assert_eq(v, "set")
        assert_eq(calls, 0)
        assert_eq(nil ?: fallback(), "fb")
        assert_eq(calls, 1)
    end)

    it("binds looser than or", fun ()
        assert_eq(nil ?: false or "x", "x")
        let d = {}
        assert_eq(d["missing"] ?: "none", "none")
    end)
end)

describe("bitwise operators", fun ()
    it("work on Ints", fun ()
        assert_eq(12 & 10, 8)
        assert_eq(12 | 3, 15)
        assert_eq(6 ^ 3, 5)
        assert_eq(~0, -1)
        assert_eq(~5, -6)
        assert_eq(1 << 10, 1024)
        assert_eq(-16 >> 2, -4, "shift right keeps the sign")
    end)

    it("bind looser than comparison, so parentheses are needed", fun ()
        assert_eq((5 & 3) == 1, true)
        # 5 & 3 == 1 reads as 5 & (3 == 1); the reference would turn the
        # Bool into 0, we refuse a Bool operand.
        assert_raises(TypeErr, fun () 5 & 3 == 1 end)
    end)

    it("refuse non-Int operands", fun ()
        assert_raises(TypeErr, fun () 1.5 << 1 end)
        assert_raises(TypeErr, fun () "a" | 1 end)
    end)

    it("refuse shifting by 64 or more, or by a negative amount", fun ()
        assert_raises(RuntimeErr, fun () 1 << 64 end)
        assert_raises(RuntimeErr, fun () 1 << -1 end)
    end)
end)

describe("indexing", fun ()
    it("reads arrays from either end", fun ()
        let a = [10, 20, 30]
        assert_eq(a[0], 10)
        assert_eq(a[-1], 30)
        assert_eq(a[-3], 10)
    end)

    # As in the reference, a read past the end is a RuntimeErr (an indexed
    # assignment past the end is an IndexErr).
    it("raises when reading outside an array", fun ()
        let a = [1]
        assert_raises(RuntimeErr, fun () a[1] end)
        assert_raises(RuntimeErr, fun () a[-2] end)
        assert_raises(TypeErr, fun () a["0"] end)
    end)

    it("reads strings by character", fun ()
        let s = "añb"
        assert_eq(s[1], "ñ")
        assert_eq(s[-1], "b")
        assert_raises(IndexErr, fun () s[3] end)
        assert_raises(TypeErr, fun () s[nil] end)
    end)

    it("reads bytes as Ints", fun ()
        let b = b"\x01\xff"
        assert_eq(b[1], 255)
        assert_eq(b[-2], 1)
        assert_raises(IndexErr, fun () b[2] end)
    end)

    it("gives nil for a missing dict key", fun ()
        let d = {k: 1}
        assert_eq(d["k"], 1)
        assert_eq(d["nope"], nil)
    end)

    it("refuses to index other values", fun ()
        let n = 3
        let nothing = nil
        assert_raises(TypeErr, fun () n[0] end)
        assert_raises(TypeErr, fun () nothing[0] end)
    end)

    it("chains through nested collections", fun ()
        let data = {rows: [[1, 2], [3, {deep: "yes"}]]}
        assert_eq(data["rows"][1][1]["deep"], "yes")
        assert_eq(data["rows"][-1][0], 3)
    end)
end)

describe("precedence", fun ()
    it("puts * / % above + -", fun ()
        assert_eq(2 + 3 * 4, 14)
        assert_eq((2 + 3) * 4, 20)
        assert_eq(20 - 6 / 2, 17)
        assert_eq(2 * 7 % 4, 2)
    end)

    it("associates left", fun ()
        assert_eq(10 - 2 - 3, 5)
        assert_eq(64 / 4 / 2, 8)
    end)

    it("applies unary minus after the postfix chain", fun ()
        assert_eq(-2.abs(), -2)
        assert_eq(-"abc".len(), -3)
        assert_eq((-2).abs(), 2)
    end)

    it("puts .. below + and *", fun ()
        assert_eq("n" .. 1 + 1, "n2")
        assert_eq(1 + 1 .. "n", "2n")
    end)

    it("puts .. above comparison", fun ()
        assert_eq("a" .. "b" == "ab", true)
    end)

    it("survives deep nesting", fun ()
        let src = "(" * 100 .. "1" .. ")" * 100
        assert_eq(sys.eval(src), 1)
        let chain = "1" .. " + 1" * 200
        assert_eq(sys.eval(chain), 201)
        assert_eq(sys.eval("not " * 51 .. "true"), false)
    end)
end)

describe("syntax that does not exist", fun ()
    it("has no ** operator, no ternary and no ++", fun ()
        assert_raises(SyntaxErr, fun () sys.eval("2 ** 3") end)
        assert_raises(SyntaxErr, fun () sys.eval("true ? 1 : 2") end)
        assert_raises(SyntaxErr, fun () sys.eval("let i = 0\ni++") end)
    end)

    it("has no semicolons", fun ()
        assert_raises(SyntaxErr, fun () sys.eval("let a = 1; let b = 2") end)
    end)
end)
