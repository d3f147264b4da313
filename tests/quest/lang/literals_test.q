# Literals: every numeric form, strings in their quote styles, bytes,
# booleans, nil, arrays and dicts.

use "std/test" {module, describe, it, assert, assert_eq, assert_neq, assert_raises, assert_nil, assert_type}
use "std/sys"

module("Lang: literals")

describe("integer literals", fun ()
    it("reads decimal digits as an Int", fun ()
        assert_eq(2024 + 1, 2025)
        assert_type(2024, "Int")
        assert_eq(0, 0)
    end)

    it("ignores underscores between digit groups", fun ()
        assert_eq(7_500_000, 7500000)
        assert_eq(1_0, 10)
        assert_eq(0xFF_FF, 65535)
        assert_eq(0b1111_0000, 240)
        assert_eq(0o7_7, 63)
    end)

    it("reads hexadecimal, binary and octal prefixes in either case", fun ()
        assert_eq(0x1f, 31)
        assert_eq(0X1F, 31)
        assert_eq(0b101, 5)
        assert_eq(0B101, 5)
        assert_eq(0o17, 15)
        assert_eq(0O17, 15)
        assert_type(0xff, "Int")
    end)

    it("has no negative literals: minus is an operator", fun ()
        let n = -12
        assert_eq(n + 12, 0)
        assert_eq(- 12, -12)
    end)

    it("holds the full 64-bit range", fun ()
        assert_eq(9223372036854775807.str(), "9223372036854775807")
        assert_eq((-9223372036854775807 - 1).str(), "-9223372036854775808")
    end)
end)

describe("float literals", fun ()
    it("needs digits on both sides of the point", fun ()
        assert_type(2.5, "Float")
        assert_eq(2.5 * 2, 5)
        assert_eq(1_000.25, 1000.25)
    end)

    it("makes every exponent form a Float", fun ()
        assert_type(1e3, "Float")
        assert_eq(1e3, 1000)
        assert_eq(2.5E2, 250.0)
        assert_eq(5e-1, 0.5)
        assert_eq(3e+2, 300)
        assert_type(1E0, "Float")
    end)

    it("keeps a whole Float a Float even though it prints like an Int", fun ()
        assert_type(4.0, "Float")
        assert_eq(4.0.str(), "4")
        assert_eq(4.0, 4)
    end)
end)

describe("BigInt literals", fun ()
    it("are made with an n suffix", fun ()
        assert_type(12n, "BigInt")
        assert_eq(12n.to_string(), "12")
        assert_eq(123456789012345678901234567890n.to_string(), "123456789012345678901234567890")
    end)

    it("accept prefixes and an upper-case N", fun ()
        assert_eq(0xFFn.to_string(), "255")
        assert_eq(0b11n.to_string(), "3")
        assert_eq(0o10N.to_string(), "8")
    end)
end)

describe("malformed numbers", fun ()
    it("reject digits outside the base", fun ()
        assert_raises(SyntaxErr, fun () sys.eval("0b102") end)
        assert_raises(SyntaxErr, fun () sys.eval("0o78") end)
        assert_raises(SyntaxErr, fun () sys.eval("0xAG") end)
    end)

    it("reject a prefix with no digits", fun ()
        assert_raises(SyntaxErr, fun () sys.eval("0x") end)
        assert_raises(SyntaxErr, fun () sys.eval("0b") end)
    end)

    it("reject misplaced underscores", fun ()
        assert_raises(SyntaxErr, fun () sys.eval("1__000") end)
        assert_raises(SyntaxErr, fun () sys.eval("100_") end)
        assert_raises(SyntaxErr, fun () sys.eval("3_.5") end)
    end)

    it("reject an Int literal beyond 64 bits", fun ()
        assert_raises(SyntaxErr, fun () sys.eval("99999999999999999999") end)
    end)
end)

describe("string literals", fun ()
    it("treat single and double quotes alike", fun ()
        assert_eq('same', "same")
        assert_eq("it's", 'it\'s')
        assert_eq('say "hi"', "say \"hi\"")
    end)

    it("process the standard escapes", fun ()
        assert_eq("a\tb".len(), 3)
        assert_eq("a\nb".split("\n"), ["a", "b"])
        assert_eq("\\".len(), 1)
        assert_eq("\r".len(), 1)
    end)

    it("keep an unknown escape as written", fun ()
        assert_eq("\q".len(), 2)
        assert_eq("\q"[0], "\\")
    end)

    it("count length in bytes but index by character", fun ()
        let s = "né"
        assert_eq(s.len(), 3)
        assert_eq(s[1], "é")
    end)
end)

describe("triple-quoted strings", fun ()
    it("span lines and keep them", fun ()
        let text = """one
two"""
        assert_eq(text.split("\n"), ["one", "two"])
    end)

    it("do not process escapes", fun ()
        let raw = """a\nb"""
        assert_eq(raw.len(), 4)
        let raw2 = '''c:\temp'''
        assert_eq(raw2, "c:\\temp")
    end)

    it("may contain the other quote character freely", fun ()
        let s = """she said "yes" and 'no'"""
        assert(s.contains("\"yes\""))
        assert(s.contains("'no'"))
    end)
end)

describe("bytes literals", fun ()
    it("make Bytes from ASCII text", fun ()
        let b = b"AB"
        assert_type(b, "Bytes")
        assert_eq(b.len(), 2)
        assert_eq(b[0], 65)
        assert_eq(B"z"[0], 122)
    end)

    it("understand hex and control escapes", fun ()
        let b = b"\x00\xff\n\t\\"
        assert_eq(b.to_array(), [0, 255, 10, 9, 92])
        assert_eq(b'\0'.to_array(), [0])
    end)

    it("print in b\"...\" form", fun ()
        assert_eq(b"hi\x01".str(), "b\"hi\\x01\"")
    end)
end)

describe("other literals", fun ()
    it("has true, false and nil", fun ()
        assert_type(true, "Bool")
        assert_type(false, "Bool")
        assert_nil(nil)
        assert_neq(true, false)
    end)

    it("builds heterogeneous arrays", fun ()
        let a = [1, "two", 3.0, nil, [4]]
        assert_eq(a.len(), 5)
        assert_eq(a[4][0], 4)
        assert_nil(a[3])
        assert_eq([].len(), 0)
    end)

    it("builds dicts with identifier or string keys", fun ()
        let d = {name: "Ada", "last name": "Lovelace"}
        assert_eq(d["name"], "Ada")
        assert_eq(d["last name"], "Lovelace")
        assert_eq({}.len(), 0)
        assert_type(d, "Dict")
    end)

    it("reads type names used as values as their names", fun ()
        assert_eq(Int, "Int")
        assert_eq(Str, "Str")
        assert(3.is(Int))
        assert("x".is(Str))
    end)
end)
