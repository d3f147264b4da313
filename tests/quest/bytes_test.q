# Bytes methods: reading single bytes, slicing, decoding, and b[i], with the
# errors each raises.

use "std/test" {module, describe, it, assert, assert_eq, assert_raises}

module("Bytes methods")

describe("reading", fun ()
    it("len, get and to_array see raw bytes", fun ()
        let b = b"\x00A\xff"
        assert_eq(b.len(), 3)
        assert_eq(b.get(0), 0)
        assert_eq(b.get(2), 255)
        assert_eq(b.to_array(), [0, 65, 255])
        assert_eq(b"".to_array(), [])
    end)

    it("get refuses positions outside the data", fun ()
        assert_raises(IndexErr, fun () b"ab".get(2) end)
        assert_raises(IndexErr, fun () b"ab".get(-1) end)
        assert_raises(IndexErr, fun () b"".get(0) end)
        assert_raises(TypeErr, fun () b"ab".get("0") end)
    end)

    it("b[i] counts negatives from the end", fun ()
        let b = b"xyz"
        assert_eq(b[0], 120)
        assert_eq(b[-1], 122)
        assert_eq(b[2n], 122)
        assert_raises(IndexErr, fun () b[3] end)
        assert_raises(IndexErr, fun () b[-4] end)
        assert_raises(TypeErr, fun () b[1.0] end)
    end)
end)

describe("slicing", fun ()
    it("takes a half-open range", fun ()
        let b = b"abcdef"
        assert_eq(b.slice(1, 3).decode(), "bc")
        assert_eq(b.slice(0, 0).len(), 0)
        assert_eq(b.slice(0, 6).len(), 6)
    end)

    it("an impossible range is an IndexErr", fun ()
        assert_raises(IndexErr, fun () b"abc".slice(2, 1) end)
        assert_raises(IndexErr, fun () b"abc".slice(0, 4) end)
        assert_raises(IndexErr, fun () b"abc".slice(-1, 2) end)
    end)
end)

describe("decoding", fun ()
    it("utf-8 is the default", fun ()
        assert_eq("añ日".bytes().decode(), "añ日")
        assert_eq("añ日".bytes().decode("utf8"), "añ日")
    end)

    it("hex and ascii", fun ()
        assert_eq(b"\x01\xab".decode("hex"), "01ab")
        assert_eq(b"plain".decode("ascii"), "plain")
    end)

    it("bad data or an unknown encoding is a ValueErr", fun ()
        assert_raises(ValueErr, fun () b"\xc3".decode() end)
        assert_raises(ValueErr, fun () b"\xed\xa0\x80".decode() end)
        assert_raises(ValueErr, fun () b"\xc0\xaf".decode() end)
        assert_raises(ValueErr, fun () "é".bytes().decode("ascii") end)
        assert_raises(ValueErr, fun () b"x".decode("latin-1") end)
    end)
end)
