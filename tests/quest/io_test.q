# std/io: whole-file reads and writes, path tests, removal and glob
# patterns.  Scratch files go to /tmp; globs look at this repository.

use "std/test" {module, describe, it, assert, assert_eq, assert_raises}
use "std/io"
use "std/sys"

module("std/io files")

let root = "/tmp/quest_io_test_" .. sys.pid().str()

describe("reading and writing", fun ()
    it("writes, appends and reads back text", fun ()
        let path = root .. ".txt"
        io.write(path, "first\n")
        io.append(path, "second\n")
        assert_eq(io.read(path), "first\nsecond\n")
        assert_eq(io.size(path), 13)
        io.write(path, "replaced")
        assert_eq(io.read(path), "replaced")
        io.remove(path)
        assert_eq(io.exists(path), false)
    end)

    it("writes Bytes as they are", fun ()
        let path = root .. ".bin"
        io.write(path, b"\x41\x42")
        assert_eq(io.read(path), "AB")
        io.remove(path)
    end)

    it("refuses to read bytes that are not UTF-8 into a Str", fun ()
        let path = root .. ".bad"
        io.write(path, b"\xff\xfe")
        assert_raises(ValueErr, fun () io.read(path) end)
        io.remove(path)
    end)

    it("raises IOErr for what cannot be read, written or removed", fun ()
        assert_raises(IOErr, fun () io.read(root .. "/missing") end)
        assert_raises(IOErr, fun () io.write("/no/such/dir/x", "x") end)
        assert_raises(IOErr, fun () io.remove(root .. "/missing") end)
        assert_raises(IOErr, fun () io.size(root .. "/missing") end)
    end)

    it("wants Str or Bytes content and a Str path", fun ()
        assert_raises(TypeErr, fun () io.write(root .. ".x", 5) end)
        assert_raises(TypeErr, fun () io.read(5) end)
    end)
end)

describe("paths and globs", fun ()
    it("tells files from directories", fun ()
        assert(io.is_dir("/tmp"))
        assert_eq(io.is_file("/tmp"), false)
        io.write(root .. ".f", "x")
        assert(io.is_file(root .. ".f"))
        io.remove(root .. ".f")
    end)

    # The repository itself is the tree (tests run from its root).
    it("globs one level, recursively, and in sorted order", fun ()
        let std = io.glob("modules/std/*.q")
        assert(std.contains("modules/std/test.q"))
        assert(std.contains("modules/std/error.q"))
        assert_eq(std, std.sorted())
        assert_eq(io.glob("modules/**/error.q"), ["modules/std/error.q"])
        assert_eq(io.glob("modules/s?s.c"), ["modules/sys.c"])
        assert_eq(io.glob("modules/[!a-r]ys.c"), ["modules/sys.c"])
        assert_eq(io.glob("modules/nothing_like_this*"), [])
    end)

    it("removes a file or nothing", fun ()
        let path = root .. ".gone"
        io.write(path, "x")
        io.remove(path)
        assert_eq(io.exists(path), false)
    end)

    it("matches paths against patterns", fun ()
        assert(io.glob_match("notes.txt", "*.txt"))
        assert(io.glob_match("a/b/c.txt", "**/*.txt"))
        assert(io.glob_match("c.txt", "**/*.txt"))
        assert(io.glob_match("x1.q", "x?.q"))
        assert(io.glob_match("b.q", "[a-c].q"))
        assert_eq(io.glob_match("d.q", "[!d].q"), false)
        assert_eq(io.glob_match("notes.md", "*.txt"), false)
    end)

    it("rejects a malformed pattern", fun ()
        assert_raises(ValueErr, fun () io.glob_match("a", "[abc") end)
    end)
end)
