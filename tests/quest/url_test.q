# std/encoding/url: percent-encoding in its four flavours, decoding, and
# query strings.

use "std/test" {module, describe, it, assert_eq, assert_raises}
use "std/encoding/url"

module("std/encoding/url")

describe("encoding", fun ()
    it("keeps only unreserved characters by default", fun ()
        assert_eq(url.encode("a-b_c.d~e"), "a-b_c.d~e")
        assert_eq(url.encode("Hello World!/?&="), "Hello%20World%21%2F%3F%26%3D")
        assert_eq(url.encode("café"), "caf%C3%A9")
        assert_eq(url.encode(""), "")
    end)

    it("each flavour keeps its own extra characters", fun ()
        assert_eq(url.encode_component("it's (ok)*!"), "it's%20(ok)*!")
        assert_eq(url.encode_path("/a b/c"), "/a%20b/c")
        assert_eq(url.encode_query("a=1&b=x y"), "a=1&b=x%20y")
    end)
end)

describe("decoding", fun ()
    it("decode turns + into a space, decode_component does not", fun ()
        assert_eq(url.decode("a+b%20c"), "a b c")
        assert_eq(url.decode_component("a+b%20c"), "a+b c")
        assert_eq(url.decode("caf%c3%a9"), "café")
    end)

    it("raises ValueErr on bad escapes and bad UTF-8", fun ()
        assert_raises(ValueErr, fun () url.decode("100%") end)
        assert_raises(ValueErr, fun () url.decode("%2") end)
        assert_raises(ValueErr, fun () url.decode("%zz") end)
        assert_raises(ValueErr, fun () url.decode("%ff") end)
        assert_raises(TypeErr, fun () url.decode(1) end)
    end)
end)

describe("query strings", fun ()
    it("build_query encodes keys and values in the dict's order", fun ()
        assert_eq(url.build_query({"q": "a b", "n": 10, "ok": true}), "q=a%20b&n=10&ok=true")
        assert_eq(url.build_query({}), "")
        assert_raises(TypeErr, fun () url.build_query([1]) end)
    end)

    it("parse_query decodes pairs, skipping empty ones", fun ()
        let q = url.parse_query("?a=1&b=x+y&&flag&a=2&e=")
        assert_eq(q["a"], "2")
        assert_eq(q["b"], "x y")
        assert_eq(q["flag"], "")
        assert_eq(q["e"], "")
        assert_eq(q.len(), 4)
        assert_eq(url.parse_query("").len(), 0)
        assert_raises(ValueErr, fun () url.parse_query("a=%G1") end)
    end)

    it("round-trips", fun ()
        let d = {"name": "John Doe", "city": "Zürich", "sym": "&=+%"}
        let back = url.parse_query(url.build_query(d))
        assert_eq(back["name"], "John Doe")
        assert_eq(back["city"], "Zürich")
        assert_eq(back["sym"], "&=+%")
    end)
end)
