# std/uuid: every version's layout (version and variant bits, fixed
# vectors for the name-based ones), ordering of the time-based ones,
# parsing, and the Uuid methods.

use "std/test" {module, describe, it, assert, assert_eq, assert_neq, assert_raises, assert_type}
use "std/uuid"
use "std/encoding/hex"

module("std/uuid")

describe("versions", fun ()
    it("v4 is random with version and variant bits", fun ()
        let id = uuid.v4()
        assert_type(id, "Uuid")
        assert_eq(id.version(), 4)
        assert_eq(id.variant(), "RFC4122")
        assert_neq(id.to_string(), uuid.v4().to_string())
    end)

    it("v3 and v5 match the RFC's name-based results", fun ()
        assert_eq(uuid.v3(uuid.NAMESPACE_DNS, "example.com").str(), "9073926b-929f-31c2-abc9-fad77ae3e8eb")
        assert_eq(uuid.v5(uuid.NAMESPACE_DNS, "example.com").str(), "cfbff0d1-9375-5685-968c-48ce8b15ae17")
        assert_eq(uuid.v5(uuid.NAMESPACE_DNS, b"example.com").str(), "cfbff0d1-9375-5685-968c-48ce8b15ae17")
        assert_raises(TypeErr, fun () uuid.v5("ns", "x") end)
        assert_raises(TypeErr, fun () uuid.v3(uuid.NAMESPACE_URL, 5) end)
    end)

    it("namespaces are the RFC's", fun ()
        assert_eq(uuid.NAMESPACE_DNS.str(), "6ba7b810-9dad-11d1-80b4-00c04fd430c8")
        assert_eq(uuid.NAMESPACE_URL.str(), "6ba7b811-9dad-11d1-80b4-00c04fd430c8")
        assert_eq(uuid.NAMESPACE_OID.str(), "6ba7b812-9dad-11d1-80b4-00c04fd430c8")
        assert_eq(uuid.NAMESPACE_X500.str(), "6ba7b814-9dad-11d1-80b4-00c04fd430c8")
    end)

    it("v1 and v6 carry the node id given", fun ()
        let v1 = uuid.v1(b"\x01\x02\x03\x04\x05\x06")
        let v6 = uuid.v6(b"\x01\x02\x03\x04\x05\x06")
        assert_eq(v1.version(), 1)
        assert_eq(v6.version(), 6)
        assert(v1.to_simple().ends_with("010203040506"))
        assert(v6.to_simple().ends_with("010203040506"))
        assert_eq(uuid.v1().variant(), "RFC4122")
        assert_raises(ValueErr, fun () uuid.v1(b"\x01") end)
        assert_raises(TypeErr, fun () uuid.v6("node") end)
    end)

    it("v6 and v7 sort in creation order and never repeat", fun ()
        let prev6 = uuid.v6().str()
        let prev7 = uuid.v7().str()
        for i in 0 until 2000
            let n6 = uuid.v6().str()
            let n7 = uuid.v7().str()
            assert(prev6 < n6, "v6 " .. prev6 .. " < " .. n6)
            assert(prev7 < n7, "v7 " .. prev7 .. " < " .. n7)
            prev6 = n6
            prev7 = n7
        end
    end)

    it("v8 keeps the caller's bytes but for version and variant", fun ()
        let id = uuid.v8(hex.decode("ffffffffffffffffffffffffffffffff"))
        assert_eq(id.str(), "ffffffff-ffff-8fff-bfff-ffffffffffff")
        assert_raises(ValueErr, fun () uuid.v8(b"\x01\x02") end)
        assert_raises(TypeErr, fun () uuid.v8("0123456789abcdef") end)
    end)

    it("nil_uuid is all zeros", fun ()
        let id = uuid.nil_uuid()
        assert_eq(id.is_nil(), true)
        assert_eq(id.version(), 0)
        assert_eq(id.str(), "00000000-0000-0000-0000-000000000000")
        assert_eq(uuid.v4().is_nil(), false)
    end)
end)

describe("parse", fun ()
    it("reads hyphenated, simple, braced and URN forms in any case", fun ()
        let want = "550e8400-e29b-41d4-a716-446655440000"
        assert_eq(uuid.parse(want).str(), want)
        assert_eq(uuid.parse("550E8400E29B41D4A716446655440000").str(), want)
        assert_eq(uuid.parse("{550e8400-e29b-41d4-a716-446655440000}").str(), want)
        assert_eq(uuid.parse("urn:uuid:550e8400-e29b-41d4-a716-446655440000").str(), want)
    end)

    it("raises ValueErr on anything else", fun ()
        let bad = ["", "550e8400", "550e8400-e29b-41d4-a716-44665544000g",
                   "550e8400e29b-41d4-a716-4466554400000", "550e8400-e29b-41d4-a716-4466554400000",
                   "{550e8400-e29b-41d4-a716-446655440000", "550e8400 e29b 41d4 a716 446655440000"]
        for text in bad
            assert_raises(ValueErr, fun () uuid.parse(text) end, "input: " .. text)
        end
        assert_raises(TypeErr, fun () uuid.parse(1) end)
    end)
end)

describe("Uuid methods", fun ()
    it("formats", fun ()
        let id = uuid.parse("550e8400-e29b-41d4-a716-446655440000")
        assert_eq(id.to_string(), "550e8400-e29b-41d4-a716-446655440000")
        assert_eq(id.to_hyphenated(), "550e8400-e29b-41d4-a716-446655440000")
        assert_eq(id.to_simple(), "550e8400e29b41d4a716446655440000")
        assert_eq(id.to_urn(), "urn:uuid:550e8400-e29b-41d4-a716-446655440000")
        assert_eq(id._rep(), "Uuid(\"550e8400-e29b-41d4-a716-446655440000\")")
        assert_eq(id.version(), 4)
    end)

    it("to_bytes and from_bytes round-trip", fun ()
        let id = uuid.v4()
        let b = id.to_bytes()
        assert_eq(b.len(), 16)
        assert_eq(uuid.from_bytes(b).str(), id.str())
        assert_raises(ValueErr, fun () uuid.from_bytes(b"\x01\x02") end)
        assert_raises(TypeErr, fun () uuid.from_bytes("x") end)
    end)

    it("eq and neq compare values", fun ()
        let a = uuid.parse("550e8400-e29b-41d4-a716-446655440000")
        let b = uuid.parse("550E8400E29B41D4A716446655440000")
        assert_eq(a.eq(b), true)
        assert_eq(a.neq(b), false)
        assert_eq(a.eq(uuid.v4()), false)
        assert_eq(a.eq("550e8400-e29b-41d4-a716-446655440000"), false)
        assert_eq(a.neq(nil), true)
    end)

    it("variant names the variant field", fun ()
        assert_eq(uuid.parse("00000000-0000-0000-0000-000000000000").variant(), "NCS")
        assert_eq(uuid.parse("00000000-0000-0000-8000-000000000000").variant(), "RFC4122")
        assert_eq(uuid.parse("00000000-0000-0000-c000-000000000000").variant(), "Microsoft")
        assert_eq(uuid.parse("00000000-0000-0000-e000-000000000000").variant(), "Future")
    end)
end)
