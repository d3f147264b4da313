# std/hash: digests (known-answer vectors from the RFCs and FIPS 180),
# HMAC (RFC 4231) and CRC-32, on Str and Bytes.

use "std/test" {module, describe, it, assert_eq, assert_raises}
use "std/hash"

module("std/hash")

describe("digests", fun ()
    it("md5 (RFC 1321)", fun ()
        assert_eq(hash.md5(""), "d41d8cd98f00b204e9800998ecf8427e")
        assert_eq(hash.md5("abc"), "900150983cd24fb0d6963f7d28e17f72")
        assert_eq(hash.md5("message digest"), "f96b697d7cb7938d525a2f31aaf161d0")
    end)

    it("sha1, sha256, sha512 (FIPS 180)", fun ()
        assert_eq(hash.sha1("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d")
        assert_eq(hash.sha256("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        assert_eq(hash.sha512("abc"), "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f")
    end)

    it("hash the bytes of Bytes and the UTF-8 of Str alike", fun ()
        assert_eq(hash.sha256(b"abc"), hash.sha256("abc"))
        assert_eq(hash.md5("é"), hash.md5(b"\xc3\xa9"))
        assert_eq(hash.sha1(b"\x00\xff"), "aa3e5dcdd77b153f2e59bd0d8794fde33cb4e486")
    end)
end)

describe("hmac", fun ()
    it("hmac_sha256 and hmac_sha512 (RFC 4231 case 2)", fun ()
        assert_eq(hash.hmac_sha256("what do ya want for nothing?", "Jefe"),
                  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        assert_eq(hash.hmac_sha512("what do ya want for nothing?", "Jefe"),
                  "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737")
    end)

    it("accept an empty key", fun ()
        assert_eq(hash.hmac_sha256("", "").len(), 64)
    end)
end)

describe("crc32", fun ()
    it("gives eight hex digits", fun ()
        assert_eq(hash.crc32(""), "00000000")
        assert_eq(hash.crc32("123456789"), "cbf43926")
        assert_eq(hash.crc32("Hello, World!"), "ec4ac3d0")
    end)
end)

describe("errors", fun ()
    it("refuse values that are not text or bytes", fun ()
        assert_raises(TypeErr, fun () hash.md5(1) end)
        assert_raises(TypeErr, fun () hash.sha256(nil) end)
        assert_raises(TypeErr, fun () hash.hmac_sha256("m", 1) end)
        assert_raises(TypeErr, fun () hash.crc32([1]) end)
    end)
end)
