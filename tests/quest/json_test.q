# std/encoding/json: parsing into Quest values, serialising back (compact
# and pretty, keys sorted), the path helpers, and the errors malformed input
# and unserialisable values raise.

use "std/test" {module, describe, it, assert, assert_eq, assert_raises, assert_type}
use "std/encoding/json"
use "std/math"
use "std/uuid"

module("std/encoding/json")

# The message of the error body() raises (nil if none).
fun error_of(body)
    try
        body()
    catch e
        return e.message()
    end
    nil
end

describe("parse: scalars", fun ()
    it("maps JSON types to Quest types", fun ()
        assert_eq(json.parse("null"), nil)
        assert_eq(json.parse("true"), true)
        assert_eq(json.parse("false"), false)
        assert_eq(json.parse("\"hi\""), "hi")
        assert_type(json.parse("42"), "Int")
        assert_type(json.parse("42.0"), "Float")
        assert_type(json.parse("4e2"), "Float")
    end)

    it("keeps integers exact up to 64 bits", fun ()
        assert_eq(json.parse("9223372036854775807"), 9223372036854775807)
        assert_eq(json.parse("-9223372036854775808").str(), "-9223372036854775808")
        assert_type(json.parse("-17"), "Int")
    end)

    it("reads bigger integers and -0 as Float", fun ()
        assert_type(json.parse("9223372036854775808"), "Float")
        assert_type(json.parse("123456789012345678901234567890"), "Float")
        assert_type(json.parse("-0"), "Float")
        assert_eq(json.stringify(json.parse("-0")), "-0.0")
    end)

    it("reads floats exactly", fun ()
        assert_eq(json.parse("0.1"), 0.1)
        assert_eq(json.parse("1.5e3"), 1500.0)
        assert_eq(json.parse("1E-7"), 0.0000001)
        assert_eq(json.parse("-2.5E+2"), -250.0)
        assert_eq(json.parse("1e-400"), 0.0)
        assert_eq(json.parse("2.2250738585072014e-308") > 0, true)
    end)

    it("allows whitespace around the value", fun ()
        assert_eq(json.parse(" \t\r\n 7 \n"), 7)
    end)
end)

describe("parse: strings", fun ()
    it("decodes the simple escapes", fun ()
        assert_eq(json.parse("\"a\\\"b\\\\c\\/d\\n\\t\""), "a\"b\\c/d\n\t")
        assert_eq(json.parse("\"\\b\\f\\r\"").bytes().to_array(), [8, 12, 13])
    end)

    it("decodes \\u escapes, joining surrogate pairs", fun ()
        assert_eq(json.parse("\"caf\\u00e9\""), "café")
        assert_eq(json.parse("\"\\u00E9\""), "é")
        assert_eq(json.parse("\"\\ud83d\\ude00\""), "😀")
        assert_eq(json.parse("\"\\u0000\"").len(), 1)
    end)

    it("passes UTF-8 through", fun ()
        assert_eq(json.parse("\"日本語 😀\""), "日本語 😀")
    end)

    it("accepts UTF-8 Bytes as input", fun ()
        assert_eq(json.parse(b"[1, \"x\"]"), [1, "x"])
    end)
end)

describe("parse: containers", fun ()
    it("builds Arrays and Dicts", fun ()
        let v = json.parse("{\"a\": [1, 2, {\"b\": null}], \"c\": {}}")
        assert_eq(v["a"][0], 1)
        assert_eq(v["a"][2]["b"], nil)
        assert_eq(v["c"].len(), 0)
        assert_eq(json.parse("[]"), [])
    end)

    it("keeps the document's key order", fun ()
        assert_eq(json.parse("{\"z\": 1, \"a\": 2, \"m\": 3}").keys(), ["z", "a", "m"])
    end)

    it("lets a repeated key keep its last value", fun ()
        assert_eq(json.parse("{\"k\": 1, \"k\": 2}")["k"], 2)
    end)

    it("nests up to 512 levels", fun ()
        let deep = json.parse("[".repeat(512) .. "]".repeat(512))
        assert_eq(deep.len(), 1)
    end)
end)

describe("parse: malformed input is a ValueErr", fun ()
    it("for every kind of mistake", fun ()
        let bad = ["", "   ", "[1, 2,]", "{\"a\": 1,}", "[1 2]", "{\"a\" 1}", "{a: 1}", "[01]",
                   "1.", ".5", "-", "1e", "+1", "NaN", "Infinity", "[1e999]", "tru", "nul",
                   "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00\"", "[", "{",
                   "[1]]", "{} x", "// c\n1", "'a'", "\"a" .. chr(1) .. "b\""]
        for text in bad
            assert_raises(ValueErr, fun () json.parse(text) end, "input: " .. text)
        end
    end)

    it("says where, by line and column", fun ()
        assert_eq(error_of(fun () json.parse("[1, 2,]") end),
                  "JSON parse error: trailing comma at line 1 column 7")
        assert_eq(error_of(fun () json.parse("{\"a\": 1,\n \"b\" 2}") end),
                  "JSON parse error: expected `:` at line 2 column 6")
        assert_eq(error_of(fun () json.parse("[1") end),
                  "JSON parse error: EOF while parsing a list at line 1 column 3")
    end)

    it("rejects invalid UTF-8", fun ()
        assert_raises(ValueErr, fun () json.parse(b"\"\xff\"") end)
        assert_raises(ValueErr, fun () json.parse(b"\"\xc3\"") end)
        assert_raises(ValueErr, fun () json.parse(b"\"\xed\xa0\x80\"") end)
        assert_raises(ValueErr, fun () json.parse(b"\xef\xbb\xbf1") end)
    end)

    it("refuses nesting deeper than 512", fun ()
        let msg = error_of(fun () json.parse("[".repeat(513) .. "]".repeat(513)) end)
        assert(msg.contains("recursion limit exceeded"), msg)
    end)

    it("refuses what is not text", fun ()
        assert_raises(TypeErr, fun () json.parse(42) end)
        assert_raises(TypeErr, fun () json.parse(nil) end)
    end)
end)

describe("try_parse and is_valid", fun ()
    it("give nil / false instead of raising", fun ()
        assert_eq(json.try_parse("[1, 2]"), [1, 2])
        assert_eq(json.try_parse("[1, 2"), nil)
        assert_eq(json.is_valid("{\"a\": [true]}"), true)
        assert_eq(json.is_valid("{\"a\": [true]"), false)
        assert_eq(json.is_valid("null"), true)
    end)
end)

describe("stringify", fun ()
    it("writes scalars", fun ()
        assert_eq(json.stringify(nil), "null")
        assert_eq(json.stringify(true), "true")
        assert_eq(json.stringify(-42), "-42")
        assert_eq(json.stringify("hi"), "\"hi\"")
    end)

    it("writes floats in the shortest form that reads back, keeping them Float", fun ()
        assert_eq(json.stringify(1.0), "1.0")
        assert_eq(json.stringify(0.1), "0.1")
        assert_eq(json.stringify(3.14), "3.14")
        assert_eq(json.stringify(1.0 / 3), "0.3333333333333333")
        assert_eq(json.stringify(0.1 + 0.2), "0.30000000000000004")
        assert_eq(json.stringify(0.0000001), "1e-7")
        assert_eq(json.stringify(0.0001), "0.0001")
        assert_eq(json.stringify(1e16), "1e16")
        assert_eq(json.stringify(123456789.5), "123456789.5")
        assert_eq(json.stringify(-1.5e300), "-1.5e300")
        assert_eq(json.stringify(-0.0), "-0.0")
    end)

    it("escapes quotes, backslashes and control characters only", fun ()
        assert_eq(json.stringify("a\"b\\c"), "\"a\\\"b\\\\c\"")
        assert_eq(json.stringify("line\nnext\ttab"), "\"line\\nnext\\ttab\"")
        assert_eq(json.stringify(chr(1) .. chr(31)), "\"\\u0001\\u001f\"")
        assert_eq(json.stringify("café/😀"), "\"café/😀\"")
    end)

    it("escapes a special character at any offset of a long string", fun ()
        # Plain text is scanned several bytes at a time: each special
        # character goes at every offset of a run longer than two words.
        let special = ["\"", "\\", "\n", chr(0), chr(31), chr(127), "é", "😀"]
        let written = ["\\\"", "\\\\", "\\n", "\\u0000", "\\u001f", chr(127), "é", "😀"]
        for i in 0 to special.len() - 1
            for at in 0 to 20
                let s = "a" * at .. special[i] .. "b" * (20 - at)
                assert_eq(json.stringify(s), "\"" .. "a" * at .. written[i] .. "b" * (20 - at) .. "\"")
            end
        end
    end)

    it("writes containers compactly with sorted keys", fun ()
        assert_eq(json.stringify([]), "[]")
        assert_eq(json.stringify({}), "{}")
        assert_eq(json.stringify([1, [2, [3]]]), "[1,[2,[3]]]")
        assert_eq(json.stringify({"b": 1, "a": [true, nil], "c": {"y": 2, "x": 1}}),
                  "{\"a\":[true,null],\"b\":1,\"c\":{\"x\":1,\"y\":2}}")
    end)

    it("sorts the keys of large and nested objects", fun ()
        # More keys open at once than the writer's first scratch space holds.
        let inner = {}
        let expected_inner = []
        for i in 0 to 39
            let k = "k" .. (99 - i).str()
            inner[k] = i
        end
        for i in 60 to 99
            expected_inner.push("\"k" .. i.str() .. "\":" .. (99 - i).str())
        end
        let outer = {"z": 1, "m": inner, "a": {"q": inner, "b": 2}}
        let text = "{" .. expected_inner.join(",") .. "}"
        assert_eq(json.stringify(outer), "{\"a\":{\"b\":2,\"q\":" .. text .. "},\"m\":" .. text .. ",\"z\":1}")
    end)

    it("pretty prints with two spaces, or the indent given", fun ()
        let data = {"name": "Bob", "scores": [95, 87], "empty": [], "none": {}}
        let expected = "{\n  \"empty\": [],\n  \"name\": \"Bob\",\n  \"none\": {},\n  \"scores\": [\n    95,\n    87\n  ]\n}"
        assert_eq(json.stringify_pretty(data), expected)
        assert_eq(json.stringify(data, true), expected)
        assert_eq(json.stringify_pretty([1], 4), "[\n    1\n]")
        assert_eq(json.stringify_pretty(5), "5")
        assert_raises(ValueErr, fun () json.stringify_pretty([1], -1) end)
    end)

    it("writes other values in their text form", fun ()
        assert_eq(json.stringify(b"hi!"), "\"aGkh\"")
        assert_eq(json.stringify(uuid.parse("550e8400-e29b-41d4-a716-446655440000")),
                  "\"550e8400-e29b-41d4-a716-446655440000\"")
        assert_eq(json.stringify(12345678901234567890123n), "\"12345678901234567890123\"")
        assert_eq(json.stringify(Set.new([1, 2])), "[1,2]")
    end)

    it("writes a struct as an object of its fields", fun ()
        type Point
            pub y: Int
            pub x: Int
        end
        assert_eq(json.stringify(Point.new(y: 2, x: 1)), "{\"x\":1,\"y\":2}")
    end)

    it("refuses values with no JSON form", fun ()
        assert_raises(ValueErr, fun () json.stringify(math.sqrt(-1)) end)
        assert_raises(ValueErr, fun () json.stringify([math.exp(1000)]) end)
        assert_raises(TypeErr, fun () json.stringify(fun () nil end) end)
        assert_raises(TypeErr, fun () json.stringify({"m": json}) end)
    end)

    it("refuses cyclic data instead of looping", fun ()
        let a = []
        a.push(a)
        assert_raises(ValueErr, fun () json.stringify(a) end)
    end)

    it("round-trips to the same text", fun ()
        let text = "{\"a\":[1,2.5,-3e-7,true,false,null],\"b\":{\"c\":\"é\\n\\\"\",\"d\":[]},\"e\":1e300}"
        assert_eq(json.stringify(json.parse(text)), text)
        let pretty = json.stringify_pretty(json.parse(text))
        assert_eq(json.stringify(json.parse(pretty)), text)
    end)
end)

describe("type checks", fun ()
    it("is_array and is_object", fun ()
        assert_eq(json.is_array(json.parse("[1]")), true)
        assert_eq(json.is_array({}), false)
        assert_eq(json.is_object(json.parse("{}")), true)
        assert_eq(json.is_object([]), false)
    end)
end)

describe("files", fun ()
    it("to_file and parse_file round-trip", fun ()
        let path = "/tmp/quest_json_test_" .. uuid.v4().to_simple() .. ".json"
        json.to_file({"host": "localhost", "port": 8080}, path, true)
        assert_eq(json.parse_file(path), {"host": "localhost", "port": 8080}.clone())
        assert_eq(json.parse_file(path)["port"], 8080)
    end)

    it("raise IOErr for missing files", fun ()
        assert_raises(IOErr, fun () json.parse_file("/nonexistent/dir/x.json") end)
        assert_raises(IOErr, fun () json.to_file([], "/nonexistent/dir/x.json") end)
    end)
end)

describe("path helpers", fun ()
    it("get follows dotted paths through objects and arrays", fun ()
        let data = json.parse("{\"user\": {\"address\": {\"city\": \"NYC\"}}, \"users\": [{\"name\": \"A\"}]}")
        assert_eq(json.get(data, "user.address.city"), "NYC")
        assert_eq(json.get(data, "users.0.name"), "A")
        assert_eq(json.get(data, "user.age"), nil)
        assert_eq(json.get(data, "user.age", 0), 0)
        assert_eq(json.get(data, "users.5.name", "none"), "none")
    end)

    it("contains tells whether a path exists", fun ()
        let data = {"a": {"b": nil}, "list": [1]}
        assert_eq(json.contains(data, "a.b"), true)
        assert_eq(json.contains(data, "a.c"), false)
        assert_eq(json.contains(data, "list.0"), true)
        assert_eq(json.contains(data, "list.1"), false)
    end)

    it("set creates the objects on the way", fun ()
        let data = {"user": {"name": "Alice"}, "list": [1, 2]}
        json.set(data, "user.age", 30)
        json.set(data, "user.address.city", "NYC")
        json.set(data, "list.1", 5)
        assert_eq(json.stringify(data),
                  "{\"list\":[1,5],\"user\":{\"address\":{\"city\":\"NYC\"},\"age\":30,\"name\":\"Alice\"}}")
        assert_raises(ValueErr, fun () json.set(data, "list.7", 1) end)
        assert_raises(ValueErr, fun () json.set(data, "user.name.first", 1) end)
    end)

    it("merge overlays the second object, deeply when asked", fun ()
        let a = {"host": "localhost", "db": {"name": "x", "port": 1}}
        let b = {"host": "example.com", "db": {"port": 2}}
        assert_eq(json.stringify(json.merge(a, b)),
                  "{\"db\":{\"port\":2},\"host\":\"example.com\"}")
        assert_eq(json.stringify(json.merge(a, b, true)),
                  "{\"db\":{\"name\":\"x\",\"port\":2},\"host\":\"example.com\"}")
        assert_eq(a["host"], "localhost")
    end)
end)
