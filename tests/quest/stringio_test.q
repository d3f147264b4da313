# io.StringIO: an in-memory text with a read position.  Writes append,
# reads advance, positions count bytes but never split a character.

use "std/test" {module, describe, it, assert, assert_eq, assert_raises}
use "std/io"

module("io.StringIO")

describe("creating", fun ()
    it("starts empty, or with the given text and the position at 0", fun ()
        let empty = io.StringIO.new()
        assert_eq(empty.get_value(), "")
        assert(empty.empty())
        let seeded = io.StringIO.new("abc")
        assert_eq(seeded.getvalue(), "abc")
        assert_eq(seeded.tell(), 0)
        assert_eq(seeded.len(), 3)
    end)

    it("is falsy while empty", fun ()
        let buf = io.StringIO.new()
        assert_eq(not buf, true)
        buf.write("x")
        assert(buf, "a buffer with text is truthy")
    end)

    it("reports its class", fun ()
        assert_eq(io.StringIO.new().cls(), "StringIO")
    end)

    it("wants text as its initial content", fun ()
        assert_raises(TypeErr, fun () io.StringIO.new(42) end)
    end)
end)

describe("writing", fun ()
    it("appends and returns the byte count", fun ()
        let buf = io.StringIO.new()
        assert_eq(buf.write("one "), 4)
        assert_eq(buf.write("λ"), 2)
        assert_eq(buf.get_value(), "one λ")
        assert_eq(buf.tell(), 6)
    end)

    it("appends even after seeking back", fun ()
        let buf = io.StringIO.new("head")
        buf.seek(1)
        buf.write("-tail")
        assert_eq(buf.get_value(), "head-tail")
        assert_eq(buf.tell(), 9)
    end)

    it("writelines joins without adding newlines", fun ()
        let buf = io.StringIO.new()
        buf.writelines(["a", "b\n", "c"])
        assert_eq(buf.get_value(), "ab\nc")
    end)

    it("refuses what is not text", fun ()
        let buf = io.StringIO.new()
        assert_raises(TypeErr, fun () buf.write(nil) end)
        assert_raises(TypeErr, fun () buf.writelines(["ok", 3]) end)
        assert_raises(TypeErr, fun () buf.writelines("not an array") end)
    end)
end)

describe("reading", fun ()
    it("reads the rest, or at most n bytes", fun ()
        let buf = io.StringIO.new("0123456789")
        assert_eq(buf.read(3), "012")
        assert_eq(buf.read(100), "3456789")
        assert_eq(buf.read(), "")
    end)

    it("reads lines with their newline", fun ()
        let buf = io.StringIO.new("first\nsecond\nlast")
        assert_eq(buf.readline(), "first\n")
        assert_eq(buf.readlines(), ["second\n", "last"])
        assert_eq(buf.readline(), "")
    end)

    it("never splits a multi-byte character", fun ()
        let buf = io.StringIO.new("añb")
        assert_eq(buf.read(2), "añ")
        assert_eq(buf.read(), "b")
        assert_eq(buf.char_len(), 3)
        assert_eq(buf.len(), 4)
    end)

    it("rejects a negative size", fun ()
        assert_raises(ValueErr, fun () io.StringIO.new("x").read(-1) end)
    end)
end)

describe("positions", fun ()
    it("seeks from the start, the position or the end", fun ()
        let buf = io.StringIO.new("abcdef")
        assert_eq(buf.seek(2), 2)
        assert_eq(buf.seek(1, 1), 3)
        assert_eq(buf.seek(-2, 2), 4)
        assert_eq(buf.read(), "ef")
    end)

    it("clamps to the text", fun ()
        let buf = io.StringIO.new("abc")
        assert_eq(buf.seek(-10), 0)
        assert_eq(buf.seek(99), 3)
    end)

    it("rejects an unknown whence", fun ()
        assert_raises(ValueErr, fun () io.StringIO.new("abc").seek(0, 3) end)
    end)

    it("truncates at the position or at a size", fun ()
        let buf = io.StringIO.new("abcdef")
        buf.seek(4)
        assert_eq(buf.truncate(), 4)
        assert_eq(buf.truncate(2), 2)
        assert_eq(buf.get_value(), "ab")
        assert_eq(buf.tell(), 2)
    end)

    it("clear empties the text and rewinds", fun ()
        let buf = io.StringIO.new("abc")
        buf.read()
        buf.clear()
        assert_eq(buf.tell(), 0)
        assert(buf.empty())
    end)
end)

describe("as a context manager", fun ()
    it("gives itself to the with block and stays usable after it", fun ()
        let kept = nil
        with io.StringIO.new() as buf
            buf.write("inside")
            kept = buf
        end
        kept.close()
        assert_eq(kept.closed(), false)
        kept.write(" and after")
        assert_eq(kept.get_value(), "inside and after")
    end)
end)
