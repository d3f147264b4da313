# std/compress/gzip, zlib, deflate and bzip2: round trips, levels,
# compatibility with the system's tools, and the errors of bad input.

use "std/test" {module, describe, it, assert, assert_eq, assert_lt, assert_raises}
use "std/compress/gzip"
use "std/compress/zlib"
use "std/compress/deflate"
use "std/compress/bzip2"
use "std/process"
use "std/io"

module("std/compress")

let formats = [gzip, zlib, deflate, bzip2]
let text = "Hello 世界! 🌍 " * 200

describe("every format", fun ()
    it("round-trips text and bytes", fun ()
        for f in formats
            assert_eq(f.decompress(f.compress(text)).decode("utf-8"), text)
            assert_eq(f.decompress(f.compress(b"\x00\xff\x10")), b"\x00\xff\x10")
            assert_eq(f.decompress(f.compress("")).len(), 0)
        end
    end)

    it("shrinks repetitive data", fun ()
        for f in formats
            assert_lt(f.compress(text).len(), text.len() / 10)
        end
    end)

    it("accepts levels 1 to 9, higher ones no larger", fun ()
        let data = "the quick brown fox " * 500
        for f in formats
            let fast = f.compress(data, 1)
            let best = f.compress(data, 9)
            assert(best.len() <= fast.len())
            assert_eq(f.decompress(best).decode("utf-8"), data)
        end
    end)

    it("refuses levels out of range", fun ()
        for f in formats
            assert_raises(ValueErr, fun () f.compress("x", 10) end)
            assert_raises(ValueErr, fun () f.compress("x", -1) end)
        end
        assert_raises(ValueErr, fun () bzip2.compress("x", 0) end)
        assert_eq(gzip.decompress(gzip.compress("x", 0)).decode("utf-8"), "x")
    end)

    it("refuses data that is not Str or Bytes", fun ()
        for f in formats
            assert_raises(TypeErr, fun () f.compress(5) end)
            assert_raises(TypeErr, fun () f.decompress(nil) end)
        end
    end)

    it("raises ValueErr for corrupt, truncated or foreign data", fun ()
        for f in formats
            assert_raises(ValueErr, fun () f.decompress(b"definitely not compressed") end)
            let good = f.compress(text)
            assert_raises(ValueErr, fun () f.decompress(good.slice(0, good.len() - 5)) end)
        end
        assert_raises(ValueErr, fun () gzip.decompress(zlib.compress("x")) end)
        assert_raises(ValueErr, fun () zlib.decompress(gzip.compress("x")) end)
        assert_raises(ValueErr, fun () bzip2.decompress(b"") end)
    end)
end)

describe("the formats are the standard ones", fun ()
    it("gzip output is read by gunzip", fun ()
        let path = "/tmp/quest_compress_test.gz"
        io.write(path, gzip.compress("made by quest\n"))
        assert_eq(process.run(["gzip", "-dc", path]).stdout(), "made by quest\n")
        io.remove(path)
    end)

    it("bzip2 output is read by bunzip2", fun ()
        let path = "/tmp/quest_compress_test.bz2"
        io.write(path, bzip2.compress("made by quest\n"))
        assert_eq(process.run(["bzip2", "-dc", path]).stdout(), "made by quest\n")
        io.remove(path)
    end)

    it("reads what gzip and bzip2 write, including several members", fun ()
        let gz = process.run(["sh", "-c", "printf one | gzip; printf two | gzip"]).stdout_bytes()
        assert_eq(gzip.decompress(gz).decode("utf-8"), "onetwo")
        let bz = process.run(["sh", "-c", "printf one | bzip2; printf two | bzip2"]).stdout_bytes()
        assert_eq(bzip2.decompress(bz).decode("utf-8"), "onetwo")
    end)

    it("gives zlib and deflate their framing", fun ()
        assert_eq(zlib.compress("x")[0], 0x78)
        assert_eq(gzip.compress("x")[0], 0x1f)
        assert_eq(gzip.compress("x")[1], 0x8b)
        assert_eq(zlib.compress("abc").len() - deflate.compress("abc").len(), 6)
    end)
end)
