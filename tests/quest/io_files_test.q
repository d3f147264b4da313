# std/io beyond whole files: open file handles and `with`, directories,
# copying and moving, path strings, line and byte helpers, brace globs.
# Everything happens under a scratch directory in /tmp.

use "std/test" {module, describe, it, assert, assert_eq, assert_raises}
use "std/io"
use "std/sys"

module("std/io file handles and directories")

let root = "/tmp/quest_io_files_test_" .. sys.pid().str()

fun fresh()
    if io.exists(root)
        io.remove(root)
    end
    io.mkdir_all(root)
end

fun p(name)
    root .. "/" .. name
end

describe("open files", fun ()
    it("writes and reads through a handle", fun ()
        fresh()
        let f = io.open(p("a.txt"), "w")
        assert_eq(f.write("one\n"), 4)
        assert_eq(f.write(b"two\n"), 4)
        f.writelines(["three\n", "four"])
        assert_eq(f.closed(), false)
        f.close()
        assert(f.closed())
        f.close()
        let g = io.open(p("a.txt"))
        assert_eq(g.mode(), "r")
        assert_eq(g.path(), p("a.txt"))
        assert_eq(g.read(), "one\ntwo\nthree\nfour")
        g.close()
    end)

    it("reads line by line, with and without line endings", fun ()
        fresh()
        io.write(p("l.txt"), "a\r\nb\n\nc")
        with io.open(p("l.txt")) as f
            assert_eq(f.read_line(), "a")
            assert_eq(f.readline(), "b\n")
            assert_eq(f.read_line(), "")
            assert_eq(f.read_line(), "c")
            assert_eq(f.read_line(), nil)
            assert_eq(f.readline(), "")
        end
        with io.open(p("l.txt")) as f
            assert_eq(f.lines(), ["a", "b", "", "c"])
        end
        with io.open(p("l.txt")) as f
            assert_eq(f.readlines(), ["a\r\n", "b\n", "\n", "c"])
        end
    end)

    it("reads by size without splitting characters, and seeks", fun ()
        fresh()
        io.write(p("u.txt"), "aé→z")
        with io.open(p("u.txt")) as f
            assert_eq(f.read(2), "aé")
            assert_eq(f.tell(), 3)
            assert_eq(f.read(1), "→")
            assert_eq(f.seek(0), 0)
            assert_eq(f.read(1), "a")
            assert_eq(f.seek(-1, 2), 6)
            assert_eq(f.read(), "z")
            assert_eq(f.read(), "")
        end
    end)

    it("closes the file at the end of `with`, even after an error", fun ()
        fresh()
        let kept = nil
        try
            with io.open(p("w.txt"), "w") as f
                kept = f
                f.write("partial")
                raise ValueErr.new("stop")
            end
        catch e: ValueErr
        end
        assert(kept.closed())
        assert_eq(io.read(p("w.txt")), "partial")
    end)

    it("appends, and reads and writes in + modes", fun ()
        fresh()
        io.write(p("m.txt"), "start")
        with io.open(p("m.txt"), "a") as f
            f.write("+more")
        end
        with io.open(p("m.txt"), "r+") as f
            assert_eq(f.read(5), "start")
            f.write("!")
        end
        assert_eq(io.read(p("m.txt")), "start!more")
        with io.open(p("m.txt"), "w+") as f
            f.write("fresh")
            f.seek(0)
            assert_eq(f.read(), "fresh")
        end
    end)

    it("runs a function on an open file with with_file", fun ()
        fresh()
        io.with_file(p("wf.txt"), "w", fun (f) f.write("via with_file") end)
        let n = io.with_file(p("wf.txt"), "r", fun (f) f.read().len() end)
        assert_eq(n, 13)
        assert_raises(RuntimeErr, fun ()
            io.with_file(p("wf.txt"), "r", fun (f) raise "inside" end)
        end)
    end)

    it("makes temporary files and directories", fun ()
        let t = io.temp_file("qtest")
        t.write("scratch")
        t.seek(0)
        assert_eq(t.read(), "scratch")
        assert(io.basename(t.path()).startswith("qtest"))
        t.close()
        io.remove(t.path())
        let d = io.temp_dir()
        assert(io.is_dir(d))
        assert_eq(io.list_dir(d), [])
        io.rmdir(d)
    end)

    it("has the standard streams", fun ()
        assert_eq(io.stdout.write(""), 0)
        assert_eq(io.stderr.closed(), false)
        assert_eq(io.stdin.mode(), "r")
    end)
end)

describe("open files: bad input", fun ()
    it("raises IOErr for missing files and closed or one-way handles", fun ()
        fresh()
        assert_raises(IOErr, fun () io.open(p("missing.txt")) end)
        assert_raises(IOErr, fun () io.open(p("no/dir/x.txt"), "w") end)
        let f = io.open(p("x.txt"), "w")
        assert_raises(IOErr, fun () f.read() end)
        f.close()
        assert_raises(IOErr, fun () f.write("late") end)
        let g = io.open(p("x.txt"))
        assert_raises(IOErr, fun () g.write("no") end)
        g.close()
    end)

    it("raises ValueErr for a bad mode, a negative size or text that is not UTF-8", fun ()
        fresh()
        io.write(p("bin"), b"\xff\xfe")
        assert_raises(ValueErr, fun () io.open(p("bin"), "rw") end)
        with io.open(p("bin")) as f
            assert_raises(ValueErr, fun () f.read(-1) end)
            assert_raises(ValueErr, fun () f.read() end)
            assert_raises(ValueErr, fun () f.seek(0, 7) end)
        end
    end)

    it("raises TypeErr for arguments of the wrong kind", fun ()
        fresh()
        assert_raises(TypeErr, fun () io.open(42) end)
        with io.open(p("t.txt"), "w") as f
            assert_raises(TypeErr, fun () f.write(42) end)
        end
        assert_raises(TypeErr, fun () io.with_file(p("t.txt"), "r", 5) end)
    end)
end)

describe("whole files as lines and bytes", fun ()
    it("reads lines without their endings", fun ()
        fresh()
        io.write(p("r.txt"), "x\r\ny\n\nz\n")
        assert_eq(io.read_lines(p("r.txt")), ["x", "y", "", "z"])
        io.write(p("e.txt"), "")
        assert_eq(io.read_lines(p("e.txt")), [])
    end)

    it("writes lines and bytes", fun ()
        fresh()
        io.write_lines(p("w.txt"), ["a", "b"])
        assert_eq(io.read(p("w.txt")), "a\nb\n")
        io.write_bytes(p("b.bin"), b"\x00\xff")
        assert_eq(io.read_bytes(p("b.bin")).len(), 2)
        assert_eq(io.read_bytes(p("b.bin"))[1], 255)
    end)

    it("rejects what it cannot read or write", fun ()
        fresh()
        assert_raises(IOErr, fun () io.read_lines(p("missing")) end)
        assert_raises(IOErr, fun () io.read_bytes(p("missing")) end)
        assert_raises(TypeErr, fun () io.write_lines(p("x"), "not an array") end)
        assert_raises(TypeErr, fun () io.write_lines(p("x"), [1, 2]) end)
        assert_raises(TypeErr, fun () io.write_bytes(p("x"), "text") end)
        io.write(p("bad"), b"\xc3")
        assert_raises(ValueErr, fun () io.read_lines(p("bad")) end)
    end)
end)

describe("directories", fun ()
    it("creates, lists, walks and removes", fun ()
        fresh()
        io.mkdir(p("d"))
        io.mkdir_all(p("d/e/f"))
        io.mkdir_all(p("d/e/f"))
        io.write(p("d/1.txt"), "1")
        io.write(p("d/e/f/2.txt"), "2")
        assert_eq(io.list_dir(p("d")), ["1.txt", "e"])
        assert_eq(io.walk(p("d")), [p("d/1.txt"), p("d/e/f/2.txt")])
        io.rmdir_all(p("d/e"))
        assert_eq(io.list_dir(p("d")), ["1.txt"])
    end)

    it("raises IOErr when the file system says no", fun ()
        fresh()
        io.mkdir(p("d"))
        io.write(p("d/x"), "x")
        assert_raises(IOErr, fun () io.mkdir(p("d")) end)
        assert_raises(IOErr, fun () io.mkdir(p("no/parent")) end)
        assert_raises(IOErr, fun () io.mkdir_all(p("d/x/y")) end)
        assert_raises(IOErr, fun () io.rmdir(p("d")) end)
        assert_raises(IOErr, fun () io.rmdir_all(p("d/x")) end)
        assert_raises(IOErr, fun () io.list_dir(p("missing")) end)
        assert_raises(IOErr, fun () io.walk(p("d/x")) end)
        assert_raises(IOErr, fun () io.modified_time(p("missing")) end)
    end)

    it("copies and moves files", fun ()
        fresh()
        io.write(p("src.txt"), "payload")
        io.copy(p("src.txt"), p("copy.txt"))
        assert_eq(io.read(p("copy.txt")), "payload")
        io.move(p("copy.txt"), p("moved.txt"))
        assert_eq(io.exists(p("copy.txt")), false)
        assert_eq(io.read(p("moved.txt")), "payload")
        assert_raises(IOErr, fun () io.copy(p("missing"), p("x")) end)
        assert_raises(IOErr, fun () io.copy(root, p("x")) end)
        assert_raises(IOErr, fun () io.move(p("missing"), p("x")) end)
    end)

    it("reports timestamps in seconds", fun ()
        fresh()
        io.write(p("t.txt"), "t")
        assert(io.modified_time(p("t.txt")) > 1600000000)
        assert(io.accessed_time(p("t.txt")) > 1600000000)
    end)

    it("matches brace alternatives in globs", fun ()
        fresh()
        io.mkdir_all(p("g/sub"))
        io.write(p("g/a.q"), "")
        io.write(p("g/b.md"), "")
        io.write(p("g/c.txt"), "")
        io.write(p("g/sub/d.q"), "")
        assert_eq(io.glob(p("g/**/*.{q,md}")), [p("g/a.q"), p("g/b.md"), p("g/sub/d.q")])
        assert(io.glob_match("x.md", "*.{q,md}"))
        assert_eq(io.glob_match("x.txt", "*.{q,md}"), false)
        assert(io.glob_match("{a}", "{a}"))
        io.remove(root)
    end)
end)

describe("path strings", fun ()
    it("splits paths", fun ()
        assert_eq(io.basename("/path/to/file.txt"), "file.txt")
        assert_eq(io.basename("/path/to/"), "to")
        assert_eq(io.basename("/"), "")
        assert_eq(io.dirname("/path/to/file.txt"), "/path/to")
        assert_eq(io.dirname("file.txt"), "")
        assert_eq(io.dirname("/file.txt"), "/")
        assert_eq(io.extension("archive.tar.gz"), ".gz")
        assert_eq(io.extension(".bashrc"), "")
        assert_eq(io.extension("dir.d/file"), "")
    end)

    it("joins and resolves paths", fun ()
        assert_eq(io.join("data", "outputs", "results.csv"), "data/outputs/results.csv")
        assert_eq(io.join("data/", "x"), "data/x")
        assert_eq(io.join("data", "/abs"), "/abs")
        assert_eq(io.absolute("/a/./b/../c"), "/a/c")
        assert_eq(io.absolute("/.."), "/")
        assert(io.absolute("rel").startswith("/"))
        assert(io.absolute("rel").endswith("/rel"))
        assert_raises(TypeErr, fun () io.join("a", 1) end)
    end)
end)
