# std/encoding/b64: standard (padded) and URL-safe (unpadded) Base64, and
# the ValueErr every malformed input raises.

use "std/test" {module, describe, it, assert_eq, assert_raises}
use "std/encoding/b64"

module("std/encoding/b64")

describe("encode", fun ()
    it("pads to a multiple of four", fun ()
        assert_eq(b64.encode(""), "")
        assert_eq(b64.encode("f"), "Zg==")
        assert_eq(b64.encode("fo"), "Zm8=")
        assert_eq(b64.encode("foo"), "Zm9v")
        assert_eq(b64.encode("Hello, World!"), "SGVsbG8sIFdvcmxkIQ==")
    end)

    it("encodes UTF-8 text and Bytes", fun ()
        assert_eq(b64.encode("café"), "Y2Fmw6k=")
        assert_eq(b64.encode(b"\xff\xfe\x00"), "//4A")
    end)

    it("encode_url uses - and _ and no padding", fun ()
        assert_eq(b64.encode_url(b"\xff\xfe\x00"), "__4A")
        assert_eq(b64.encode_url(b"\xfb\xff"), "-_8")
        assert_eq(b64.encode_url("test"), "dGVzdA")
    end)

    it("refuses other types", fun ()
        assert_raises(TypeErr, fun () b64.encode(42) end)
        assert_raises(TypeErr, fun () b64.decode(nil) end)
    end)
end)

describe("decode", fun ()
    it("reverses encode", fun ()
        assert_eq(b64.decode("SGVsbG8sIFdvcmxkIQ=="), "Hello, World!")
        assert_eq(b64.decode(""), "")
        assert_eq(b64.decode("Y2Fmw6k="), "café")
        assert_eq(b64.decode_url("dGVzdA"), "test")
        let long = "The quick brown fox jumps over the lazy dog, twice: " .. "x".repeat(100)
        assert_eq(b64.decode(b64.encode(long)), long)
        assert_eq(b64.decode_url(b64.encode_url(long)), long)
    end)

    it("raises ValueErr on malformed input", fun ()
        let bad = ["Zg=", "Zg", "Z===", "Zm9v!", "Zm 9v", "Zm9v\n", "=Zm9", "Zh==", "Zm9=v===", "-_8="]
        for text in bad
            assert_raises(ValueErr, fun () b64.decode(text) end, "input: " .. text)
        end
        assert_raises(ValueErr, fun () b64.decode_url("dGVzdA==") end)
        assert_raises(ValueErr, fun () b64.decode_url("dGVzd") end)
        assert_raises(ValueErr, fun () b64.decode_url("a+b/") end)
    end)

    it("raises ValueErr when the data is not UTF-8 text", fun ()
        assert_raises(ValueErr, fun () b64.decode("//4A") end)
    end)
end)
