# std/term: styling wraps text in ANSI SGR escapes; cursor functions print
# their escape to stdout.

use "std/test" {module, describe, it, assert, assert_eq, assert_raises}
use "std/term"
use "std/sys"
use "std/io"

module("std/term")

describe("styling", fun ()
    it("wraps text in a colour and a reset", fun ()
        assert_eq(term.red("x"), chr(27) .. "[31mx" .. chr(27) .. "[0m")
        assert_eq(term.grey("x"), chr(27) .. "[90mx" .. chr(27) .. "[0m")
        assert_eq(term.bold("x"), chr(27) .. "[1mx" .. chr(27) .. "[0m")
        assert_eq(term.dimmed("x"), term.dim("x"))
    end)

    it("adds attributes after the colour", fun ()
        assert_eq(term.green("x", ["bold", "underline"]), chr(27) .. "[32;1;4mx" .. chr(27) .. "[0m")
        assert_eq(term.color("x", "blue", ["reverse"]), chr(27) .. "[34;7mx" .. chr(27) .. "[0m")
    end)

    it("styles foreground, background and attributes together", fun ()
        assert_eq(term.styled("x", "red", "white", ["bold"]), chr(27) .. "[31;47;1mx" .. chr(27) .. "[0m")
        assert_eq(term.styled("x", nil, "grey"), chr(27) .. "[100mx" .. chr(27) .. "[0m")
        assert_eq(term.styled("plain"), "plain")
    end)

    it("stringifies what it styles", fun ()
        assert_eq(term.strip_colors(term.cyan(42)), "42")
    end)

    it("strips escapes again", fun ()
        let fancy = term.on_color(term.magenta("hi", ["blink"]), "yellow") .. "!"
        assert_eq(term.strip_colors(fancy), "hi!")
        assert_eq(term.reset(), chr(27) .. "[0m")
    end)

    it("rejects unknown colours", fun ()
        assert_raises(ValueErr, fun () term.color("x", "mauve") end)
        assert_raises(ValueErr, fun () term.on_color("x", "mauve") end)
        assert_raises(ValueErr, fun () term.styled("x", "mauve") end)
    end)
end)

describe("cursor and screen", fun ()
    it("prints its escapes to stdout", fun ()
        let buf = io.StringIO.new()
        with sys.redirect_stream(sys.stdout, buf)
            term.move_up()
            term.move_left(3)
            term.move_to(2, 5)
            term.clear_line()
        end
        let e = chr(27)
        assert_eq(buf.get_value(), e .. "[1A" .. e .. "[3D" .. e .. "[2;5H" .. e .. "[2K")
    end)

    it("knows the terminal size as [rows, columns]", fun ()
        let size = term.size()
        assert_eq(size, [term.height(), term.width()])
        assert(term.width() > 0)
    end)
end)

describe("progress indicators", fun ()
    it("draws a bar filled in proportion", fun ()
        assert_eq(term.progress_bar(75, 100, 8), "[======  ]")
        assert_eq(term.progress_bar(1, 2, 4, "#"), "[##  ]")
        assert_eq(term.progress_bar(0.5, 1.0, 2), "[= ]")
        assert_eq(term.progress_bar(5, 4, 3), "[===]")
        assert_eq(term.progress_bar(-1, 4, 3), "[   ]")
        assert_eq(term.progress_bar(10, 10).len(), 52)
    end)

    it("rejects an empty total or a silly width", fun ()
        assert_raises(ValueErr, fun () term.progress_bar(1, 0) end)
        assert_raises(ValueErr, fun () term.progress_bar(1, 2, -1) end)
        assert_raises(TypeErr, fun () term.progress_bar("1", 2) end)
    end)

    it("cycles through ten spinner frames", fun ()
        assert_eq(term.spinner(0), term.spinner(10))
        assert(term.spinner(0) != term.spinner(1))
        assert_eq(term.spinner(-1), term.spinner(9))
    end)
end)
