# std/encoding/hex: bytes to hex text and back, with separators.

use "std/test" {module, describe, it, assert_eq, assert_raises}
use "std/encoding/hex"

module("std/encoding/hex")

describe("encode", fun ()
    it("writes two digits per byte", fun ()
        assert_eq(hex.encode(b"\x00\x01\xab\xff"), "0001abff")
        assert_eq(hex.encode_upper(b"\xde\xad\xbe\xef"), "DEADBEEF")
        assert_eq(hex.encode(b""), "")
        assert_eq(hex.encode("Hi"), "4869")
    end)

    it("puts a separator between bytes", fun ()
        assert_eq(hex.encode_with_sep(b"\x00\x1a\x2b", ":"), "00:1a:2b")
        assert_eq(hex.encode_with_sep(b"\x00\x1a", " - "), "00 - 1a")
        assert_eq(hex.encode_with_sep(b"\x07", ":"), "07")
    end)

    it("refuses other types", fun ()
        assert_raises(TypeErr, fun () hex.encode(12) end)
        assert_raises(TypeErr, fun () hex.encode_with_sep(b"\x01", 1) end)
    end)
end)

describe("decode", fun ()
    it("reads either case and skips separators", fun ()
        assert_eq(hex.decode("DeAdBeEf").to_array(), [222, 173, 190, 239])
        assert_eq(hex.decode("de:ad be-ef\n").to_array(), [222, 173, 190, 239])
        assert_eq(hex.decode("").len(), 0)
    end)

    it("raises ValueErr on bad input", fun ()
        assert_raises(ValueErr, fun () hex.decode("abc") end)
        assert_raises(ValueErr, fun () hex.decode("zz") end)
        assert_raises(ValueErr, fun () hex.decode("0x12") end)
        assert_raises(ValueErr, fun () hex.decode("é1") end)
    end)

    it("is_valid says whether decode would succeed", fun ()
        assert_eq(hex.is_valid("00:ff"), true)
        assert_eq(hex.is_valid(""), true)
        assert_eq(hex.is_valid("0"), false)
        assert_eq(hex.is_valid("0g"), false)
    end)
end)
