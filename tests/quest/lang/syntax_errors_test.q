# Syntax errors: source that does not parse raises SyntaxErr before any
# of it runs, and the message says file:line:column.

use "std/test" {module, describe, it, assert, assert_eq, assert_raises, assert_nil}
use "std/sys"

module("Lang: syntax errors")

# The SyntaxErr raised by compiling src (nil if it compiled).
fun syntax_error(src)
    try
        sys.eval(src)
    catch e: SyntaxErr
        return e
    catch e
        return nil
    end
    nil
end

# "file:line:col" from the start of a SyntaxErr message.
fun location(src)
    let e = syntax_error(src)
    if e == nil
        return "no SyntaxErr"
    end
    let head = e.message().split(": ")[0]
    head
end

describe("what is reported", fun ()
    it("names the position of the offending token", fun ()
        assert_eq(location("let x = )"), "<eval>:1:9")
        assert_eq(location("let ok = 1\nlet = 2"), "<eval>:2:5")
        assert_eq(location("let a = [1,\n  2,\n  3 4]"), "<eval>:3:5")
    end)

    it("counts columns from 1, in characters", fun ()
        assert_eq(location("let a = 1 $ 2"), "<eval>:1:11")
        assert_eq(location("let s = \"é\" )"), "<eval>:1:13")
    end)

    it("reports a missing end at the end of the input, naming the opener", fun ()
        let e = syntax_error("if true\n  1\n")
        assert(e != nil)
        assert(e.message().startswith("<eval>:3:"), e.message())
        assert(e.message().contains("'if'"), e.message())
        assert(e.message().contains("line 1"), e.message())
    end)

    it("shows the source line and a caret under the column", fun ()
        let e = syntax_error("let x = 1\nlet y = 0x\n")
        let lines = e.message().split("\n")
        assert(lines.len() >= 3, e.message())
        assert(lines[1].contains("let y = 0x"))
        assert_eq(lines[2].index_of("^") - lines[1].index_of("let y"), 8)
    end)

    it("gives line() and file() like other exceptions", fun ()
        let e = syntax_error("let a = 1\n\nlet b = (\n")
        assert_eq(e.file(), "<eval>")
        assert_eq(e.type(), SyntaxErr)
        assert(e.line() >= 3)
    end)

    it("names the file for a module that does not parse", fun ()
        let e = nil
        try
            use "._helpers/bad_syntax"
        catch caught
            e = caught
        end
        assert(e != nil)
        assert_eq(e.type(), SyntaxErr)
        assert(e.message().contains("bad_syntax.q:5:7"), e.message())
    end)
end)

describe("nothing runs from source that does not parse", fun ()
    it("even the statements before the error", fun ()
        let e = syntax_error("raise ValueErr.new(\"ran\")\nlet = 1")
        assert(e != nil, "a SyntaxErr, not the ValueErr")
    end)
end)

describe("kinds of syntax error", fun ()
    it("unbalanced brackets and unexpected tokens", fun ()
        assert(syntax_error("(1 + 2") != nil)
        assert(syntax_error("[1, 2") != nil)
        assert(syntax_error("{a: 1") != nil)
        assert(syntax_error("1 + * 2") != nil)
        assert(syntax_error("end") != nil)
    end)

    it("trailing commas in literals", fun ()
        assert(syntax_error("[1, 2,]") != nil)
        assert(syntax_error("{a: 1,}") != nil)
    end)

    it("keywords where a name is needed", fun ()
        assert(syntax_error("let if = 1") != nil)
        assert(syntax_error("fun end() 1 end") != nil)
        assert(syntax_error("fun f(to) to end") != nil)
    end)

    it("unterminated strings", fun ()
        assert(syntax_error("let s = \"abc") != nil)
        assert(syntax_error("let s = \"a\nb\"") != nil, "plain strings are one line")
        assert(syntax_error("let s = \"\"\"never closed") != nil)
    end)

    it("bad numbers", fun ()
        assert(syntax_error("0b2") != nil)
        assert(syntax_error("1__2") != nil)
        assert(syntax_error("5.") != nil)
    end)

    it("non-ASCII text in a bytes literal", fun ()
        assert(syntax_error("b\"é\"") != nil)
    end)

    it("unknown characters", fun ()
        assert(syntax_error("let a = 1 $ 2") != nil)
    end)

    it("blocks that are not closed or not complete", fun ()
        assert(syntax_error("while true") != nil)
        assert(syntax_error("for x 1 to 3 end") != nil)
        assert(syntax_error("fun (x) x") != nil)
        assert(syntax_error("try 1 end") != nil, "try needs catch or ensure")
        assert(syntax_error("type T\n pub x: Int\n") != nil)
    end)

    it("dict keys that are neither names nor strings", fun ()
        assert(syntax_error("let d = {1: 2}") != nil)
    end)
end)

describe("valid source around syntax errors", fun ()
    it("compiles once the error is fixed", fun ()
        assert_eq(sys.eval("let x = (1 + 2)\nx * 2"), 6)
        assert_nil(syntax_error("[1, 2]"))
    end)

    it("accepts keywords as prefixes of names", fun ()
        assert_eq(sys.eval("let endless = 1\nlet iffy = 2\nlet nilable = 3\nendless + iffy + nilable"), 6)
    end)

    it("accepts any word after a dot, keywords included", fun ()
        assert_eq(sys.eval("ValueErr.new(\"m\").type().str()"), "ValueErr")
        assert_raises(AttrErr, fun () sys.eval("let s = \"x\"\ns.end") end)
    end)

    it("refuses a keyword as a bare dict key", fun ()
        assert(syntax_error("let d = {end: 1}") != nil)
        assert_eq(sys.eval("let d = {\"end\": 1}\nd[\"end\"]"), 1)
    end)
end)

describe("typed declaration without let", fun ()
    # Regression (was a VM bug): `name: Type = value` without `let` quietly declares the
    # variable; the reference refuses it (a RuntimeErr when it runs).
    it("is refused", fun ()
        assert_raises(Err, fun () sys.eval("fresh_name: Int = 5") end)
    end)
end)
