# Formatting: how Floats print, format specs in f-strings and Str.fmt, and
# the errors a bad spec or placeholder raises.

use "std/test" {module, describe, it, assert, assert_eq, assert_raises}

module("Formatting")

describe("printing floats", fun ()
    it("whole numbers drop the point", fun ()
        assert_eq((2.0).str(), "2")
        assert_eq((-3.0 * 1.0).str(), "-3")
        assert_eq((1e10).str(), "10000000000")
    end)

    it("fractions use the fewest digits that read back", fun ()
        assert_eq((0.1 + 0.2).str(), "0.30000000000000004")
        assert_eq((1.0 / 4.0).str(), "0.25")
        assert_eq("x=" .. 2.5, "x=2.5")
    end)

    it("very large and very small stay positional", fun ()
        assert_eq((1e21).str(), "1000000000000000000000")
        assert_eq((1.5e-6).str(), "0.0000015")
    end)
end)

describe("f-string specs", fun ()
    it("precision, width and fill", fun ()
        let f = 2.0 / 3.0
        let n = -7
        let word = "ab"
        assert_eq(f"{f:.3}", "0.667")
        assert_eq(f"[{f:8.2}]", "[    0.67]")
        assert_eq(f"[{n:04}]", "[-007]")
        assert_eq(f"[{n:+}]", "[-7]")
        assert_eq(f"[{word:*^6}]", "[**ab**]")
        assert_eq(f"[{word:<4}]", "[ab  ]")
        assert_eq(f"[{word:4}]", "[  ab]")
    end)

    it("integer bases", fun ()
        let n = 48879
        assert_eq(f"{n:x} {n:X} {n:#x}", "beef BEEF 0xbeef")
        let small = 9
        assert_eq(f"{small:o} {small:#o} {small:b}", "11 0o11 1001")
        assert_eq(f"{small:#08b}", "0b001001")
    end)
end)

describe("Str.fmt", fun ()
    it("fills placeholders in order or by index", fun ()
        assert_eq("{} + {} = {}".fmt(1, 2, 3), "1 + 2 = 3")
        assert_eq("{1}{0}{1}".fmt("a", "b"), "bab")
        assert_eq("{:>4}|{:<4}|".fmt("r", "l"), "   r|l   |")
        assert_eq("{0:.1} of {1}".fmt(0.25, "x"), "0.2 of x")
    end)

    it("specs on other values", fun ()
        assert_eq("{:.3}".fmt("abcdef"), "abc")
        assert_eq("{:.2}".fmt("日本語"), "日本")
        assert_eq("{:5}".fmt(true), " true")
        assert_eq("{:.2e}".fmt(123456), "1.23e5")
        assert_eq("{:x}".fmt(255n), "ff")
        assert_eq("{:.2}".fmt("2.345".to_decimal()), "2.34")
        assert_eq("{:.3}".fmt("2.5".to_decimal()), "2.500")
    end)

    it("braces double to escape", fun ()
        assert_eq("{{{}}}".fmt(5), "{5}")
        assert_eq("}".fmt(), "}")
    end)

    it("missing arguments are an ArgErr", fun ()
        assert_raises(ArgErr, fun () "{} {}".fmt(1) end)
        assert_raises(ArgErr, fun () "{3}".fmt(1) end)
    end)

    it("bad placeholders and specs are a ValueErr", fun ()
        assert_raises(ValueErr, fun () "{name}".fmt(1) end)
        assert_raises(ValueErr, fun () "open {".fmt(1) end)
        assert_raises(ValueErr, fun () "{:z}".fmt(1) end)
        assert_raises(ValueErr, fun () "{:5.}".fmt(1) end)
        assert_raises(ValueErr, fun () "{:x}".fmt("text") end)
        assert_raises(ValueErr, fun () "{:99999999}".fmt(1) end)
    end)
end)
