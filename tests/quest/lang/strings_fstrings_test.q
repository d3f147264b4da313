# f-strings, format specs and Str.fmt, plus the `..` concatenation operator.

use "std/test" {module, describe, it, assert, assert_eq, assert_raises, assert_type}
use "std/sys"

module("Lang: f-strings and formatting")

describe("f-string interpolation", fun ()
    it("substitutes plain variable names", fun ()
        let who = "world"
        let n = 3
        assert_eq(f"hello {who} x{n}", "hello world x3")
        assert_eq(f'{who}', "world")
    end)

    it("renders values in their printed form", fun ()
        let half = 2.0
        let items = [1, "a"]
        let none = nil
        let flag = true
        assert_eq(f"{half}|{items}|{none}|{flag}", "2|[1, a]|nil|true")
    end)

    it("sees function locals and parameters", fun ()
        fun greet(name)
            let punct = "!"
            f"hi {name}{punct}"
        end
        assert_eq(greet("Bo"), "hi Bo!")
    end)

    it("processes escapes like an ordinary string", fun ()
        let x = 1
        assert_eq(f"{x}\t{x}", "1\t1")
    end)

    it("raises NameErr for an unknown name", fun ()
        assert_raises(NameErr, fun () f"{not_defined_anywhere}" end)
    end)

    it("is a plain string when nothing is interpolated", fun ()
        assert_eq(f"no braces", "no braces")
        assert_type(f"x", "Str")
    end)
end)

describe("format specs", fun ()
    it("fixes decimals with a precision", fun ()
        let pi = 3.14159
        assert_eq(f"{pi:.2}", "3.14")
        assert_eq(f"{pi:.0}", "3")
        let whole = 7
        assert_eq(f"{whole:.1}", "7.0")
    end)

    it("pads to a width, right-aligned by default for numbers", fun ()
        let n = 42
        assert_eq(f"{n:5}", "   42")
        assert_eq(f"{n:05}", "00042")
        assert_eq(f"{n:<5}|", "42   |")
        assert_eq(f"{n:^6}", "  42  ")
        assert_eq(f"{n:*>5}", "***42")
    end)

    it("shows a sign on request", fun ()
        let up = 5
        let down = -5
        assert_eq(f"{up:+}", "+5")
        assert_eq(f"{down:+}", "-5")
    end)

    it("writes other bases, with # adding the prefix", fun ()
        let n = 255
        assert_eq(f"{n:x}", "ff")
        assert_eq(f"{n:X}", "FF")
        assert_eq(f"{n:#x}", "0xff")
        assert_eq(f"{n:b}", "11111111")
        assert_eq(f"{n:#b}", "0b11111111")
        assert_eq(f"{n:o}", "377")
        assert_eq(f"{n:#o}", "0o377")
    end)

    it("truncates strings with a precision", fun ()
        let word = "abcdef"
        assert_eq(f"{word:.3}", "abc")
        assert_eq(f"[{word:>8}]", "[  abcdef]")
    end)

    it("uses scientific notation for e", fun ()
        let big = 1234.5
        assert_eq(f"{big:e}", "1.2345e3")
    end)
end)

describe("Str.fmt", fun ()
    it("fills positional placeholders in order", fun ()
        assert_eq("{} + {} = {}".fmt(1, 2, 3), "1 + 2 = 3")
    end)

    it("accepts explicit indices and specs", fun ()
        assert_eq("{1}{0}{1}".fmt("a", "b"), "bab")
        assert_eq("{0:.2}".fmt(2.0 / 3.0), "0.67")
        assert_eq("{:>4}".fmt("x"), "   x")
    end)

    it("doubles braces to write them literally", fun ()
        assert_eq("{{}} {}".fmt(9), "{} 9")
    end)

    it("raises ArgErr when arguments run out", fun ()
        assert_raises(ArgErr, fun () "{} {}".fmt(1) end)
    end)
end)

describe("concatenation with ..", fun ()
    it("stringifies both sides", fun ()
        assert_eq("n=" .. 3, "n=3")
        assert_eq(1 .. 2, "12")
        assert_eq("v" .. nil .. true, "vniltrue")
        assert_eq("a" .. [1, 2], "a[1, 2]")
    end)

    it("binds looser than arithmetic", fun ()
        assert_eq("sum " .. 1 + 2, "sum 3")
        assert_eq("x" .. 2 * 3, "x6")
    end)

    it("repeats strings with *", fun ()
        assert_eq("ab" * 3, "ababab")
        assert_eq(2 * "-", "--")
    end)
end)

describe("f-string syntax errors", fun ()
    it("refuses expressions inside braces", fun ()
        assert_raises(SyntaxErr, fun () sys.eval("let a = 1\nf\"{a + 1}\"") end)
    end)

    it("refuses an unclosed brace", fun ()
        assert_raises(SyntaxErr, fun () sys.eval("let a = 1\nf\"{a\"") end)
    end)
end)
