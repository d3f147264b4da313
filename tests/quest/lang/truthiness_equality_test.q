# Truthiness, equality, printing (str / _rep / puts / print), and the
# universal methods every value has (cls, is, _id, str).

use "std/test" {module, describe, it, assert, assert_eq, assert_neq, assert_raises, assert_nil, assert_type}
use "std/io"
use "std/sys"

module("Lang: truthiness, equality and printing")

fun truthy(v)
    if v
        return true
    end
    false
end

# Runs body with stdout sent to a buffer and returns what it printed.
fun printed(body)
    let buf = io.StringIO.new()
    let guard = sys.redirect_stream(sys.stdout, buf)
    try
        body()
    ensure
        guard.restore()
    end
    buf.get_value()
end

describe("truthiness", fun ()
    it("treats false, nil, zero and empty values as false", fun ()
        for v in [false, nil, 0, 0.0, "", [], {}, b"", 0n, Set.new([]), "0".to_decimal()]
            assert(not truthy(v), "expected falsy: " .. v)
        end
    end)

    it("treats everything else as true", fun ()
        let samples = [true, 1, -1, 0.001, "0", " ", "false", [nil], [0], {a: nil}, b"\x00", 1n,
                       Set.new([0]), fun () nil end, Int, ValueErr, ValueErr.new("x")]
        for v in samples
            assert(truthy(v), "expected truthy: " .. v)
        end
    end)

    it("treats types, modules and struct instances as true", fun ()
        type Empty
        end
        assert(truthy(Empty))
        assert(truthy(Empty.new()))
        assert(truthy(io))
    end)

    it("is what not, and, or, while and filter all use", fun ()
        assert_eq(not "", true)
        assert_eq([0, 1, "", "a", nil, [], [1]].filter(fun (x) x end), [1, "a", [1]])
    end)
end)

describe("equality", fun ()
    it("compares numbers by value across Int and Float", fun ()
        assert(3 == 3.0)
        assert(-0.0 == 0)
        assert(2.5 != 2)
    end)

    it("compares strings, bools and nil by value", fun ()
        assert("ab" == "a" .. "b")
        assert(true == (1 < 2))
        assert(nil == nil)
    end)

    it("compares arrays element by element, recursively", fun ()
        assert([1, [2, "x"]] == [1, [2, "x"]])
        assert([1, 2] != [1, 2, 3])
        assert([1] == [1.0])
    end)

    # The reference calls two equal dicts (or bytes, BigInts, sets) unequal
    # — even a dict compared with itself.  We compare them by content, as
    # its docs describe (DESIGN decision 5).
    # Regression (was a VM bug): Sets are left out — Set.new([1, 2]) == Set.new([2, 1]) is false.
    it("compares dicts, bytes, BigInts, Decimals and sets by content", fun ()
        assert({a: 1, b: [2]} == {b: [2], a: 1}, "Dict")
        assert({a: 1} != {a: 2}, "Dict values differ")
        assert(b"xy" == b"xy", "Bytes")
        assert(10n == 10n, "BigInt")
        assert("1.50".to_decimal() == "1.5".to_decimal(), "Decimal")
        assert(Set.new([1, 2]) == Set.new([2, 1]), "Set")
    end)

    it("compares exception types by name", fun ()
        assert(TypeErr == TypeErr)
        assert(TypeErr != ValueErr)
    end)

    it("finds values of different kinds unequal without raising", fun ()
        assert(1 != "1")
        assert(nil != 0)
        assert([] != "")
        assert(true != 1)
    end)
end)

describe("ordering across kinds", fun ()
    it("places nil below Bool below numbers below strings", fun ()
        assert(nil < false)
        assert(true < 0)
        assert(100 < "0")
        assert_eq([3, "b", nil, 1.5, "a", true].sorted(), [nil, true, 1.5, 3, "a", "b"])
    end)
end)

describe("str form", fun ()
    it("prints whole Floats without a decimal point below 1e10", fun ()
        assert_eq(3.0.str(), "3")
        assert_eq((7.0 / 2.0).str(), "3.5")
        assert_eq(1e10.str(), "10000000000")
        assert_eq(0.1.str(), "0.1")
        assert_eq((2.0 / 3.0).str(), "0.6666666666666666")
    end)

    it("prints collections with their elements in str form", fun ()
        assert_eq([1, "a", 2.5, nil, true].str(), "[1, a, 2.5, nil, true]")
        assert_eq([[1], []].str(), "[[1], []]")
    end)

    it("prints dicts with keys sorted", fun ()
        assert_eq({b: 2, a: 1, c: "x"}.str(), "{a: 1, b: 2, c: x}")
        assert_eq({}.str(), "{}")
    end)

    it("prints other built-in values", fun ()
        assert_eq(Set.new([3, 1]).str(), "Set{1, 3}")
        assert_eq(b"a\x01".str(), "b\"a\\x01\"")
        assert_eq(12n.str(), "12")
        assert_eq("100.50".to_decimal().str(), "100.50")
        assert_eq(ValueErr.new("m").str(), "ValueErr: m")
        assert_eq(ValueErr.str(), "ValueErr")
    end)

    it("is what .. and f-strings use", fun ()
        let v = [1.0, "s"]
        assert_eq("" .. v, "[1, s]")
        assert_eq(f"{v}", "[1, s]")
    end)
end)

describe("_rep form", fun ()
    it("quotes strings and marks big numbers", fun ()
        assert_eq("hi"._rep(), "\"hi\"")
        assert_eq(5._rep(), "5")
        assert_eq(5n._rep(), "BigInt(5)")
        assert_eq("1.5".to_decimal()._rep(), "Decimal(1.5)")
    end)
end)

describe("puts and print", fun ()
    it("puts writes its arguments without separators, then a newline", fun ()
        assert_eq(printed(fun () puts("a", 1, nil, [2]) end), "a1nil[2]\n")
        assert_eq(printed(fun () puts() end), "\n")
    end)

    it("print writes no newline", fun ()
        assert_eq(printed(fun ()
            print("x", 2.0)
            print("y")
        end), "x2y")
    end)

    it("both give nil", fun ()
        let r = nil
        printed(fun () r = [puts("q"), print("")] end)
        assert_eq(r, [nil, nil])
    end)
end)

describe("universal methods", fun ()
    it("cls names the built-in type", fun ()
        assert_eq([1.cls(), 1.5.cls(), "".cls(), true.cls(), [].cls(), {}.cls(), b"".cls(), 1n.cls()],
                  ["Int", "Float", "Str", "Bool", "Array", "Dict", "Bytes", "BigInt"])
        assert_eq(Set.new([]).cls(), "Set")
        assert_eq(TypeErr.new("x").cls(), "Exception")
    end)

    it("is checks against a type name, ignoring case", fun ()
        assert(1.is(Int))
        assert(1.5.is(Float))
        assert([].is(Array))
        assert("s".is("str"))
        assert(not 1.is(Float))
        assert(nil.is("Nil"))
    end)

    it("_id is stable for a value and differs between live objects", fun ()
        let a = [1]
        let b = [1]
        assert_eq(a._id(), a._id())
        assert_neq(a._id(), b._id())
        assert_type(a._id(), "Int")
    end)

    it("every literal is an object with methods", fun ()
        assert_eq(5.pow(2), 25)
        assert_eq(3.7.floor(), 3)
        assert_eq("x".upper(), "X")
        assert_eq(true.str(), "true")
    end)

    it("nil has no methods except is", fun ()
        assert_raises(AttrErr, fun () nil.str() end)
        assert_raises(AttrErr, fun () nil.cls() end)
    end)

    # Regression (was a VM bug): a built-in method reference prints as <fun upper>; the
    # reference prints <fun Str.upper> (quest-language.md §1.11).
    it("a method named without parentheses is a value to call later", fun ()
        let up = "abc".upper
        assert_eq(up(), "ABC")
        assert_eq(up.str(), "<fun Str.upper>")
    end)
end)

describe("global functions", fun ()
    it("chr and ord convert code points", fun ()
        assert_eq(chr(65), "A")
        assert_eq(ord("A"), 65)
        assert_eq(ord("é"), 233)
        assert_raises(ValueErr, fun () ord("") end)
    end)

    it("there is no global len, str or type", fun ()
        assert_raises(NameErr, fun () len([1]) end)
        assert_raises(NameErr, fun () str(1) end)
    end)
end)
