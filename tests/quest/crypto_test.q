# std/crypto: HMAC-SHA256/512 (RFC 4231 test cases).

use "std/test" {module, describe, it, assert_eq, assert_raises}
use "std/crypto"
use "std/encoding/hex"

module("std/crypto")

describe("hmac", fun ()
    it("matches RFC 4231 case 1 (binary key)", fun ()
        let key = hex.decode("0b".repeat(20))
        assert_eq(crypto.hmac_sha256("Hi There", key),
                  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        assert_eq(crypto.hmac_sha512("Hi There", key),
                  "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854")
    end)

    it("matches RFC 4231 case 6 (key longer than the block)", fun ()
        let key = hex.decode("aa".repeat(131))
        assert_eq(crypto.hmac_sha256("Test Using Larger Than Block-Size Key - Hash Key First", key),
                  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    end)

    it("refuses other types", fun ()
        assert_raises(TypeErr, fun () crypto.hmac_sha256(1, "k") end)
        assert_raises(TypeErr, fun () crypto.hmac_sha512("m", nil) end)
    end)
end)
