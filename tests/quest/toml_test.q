# std/toml: toml.parse turns TOML 1.0 text into Dicts, Arrays and scalars;
# malformed text raises ValueErr naming the line and column.

use "std/test" {module, describe, it, assert, assert_eq, assert_raises}
use "std/toml"

module("std/toml")

# The message of the error that parsing text raises ("" if none).
fun parse_error(text)
    try
        toml.parse(text)
    catch e: ValueErr
        return e.message()
    end
    ""
end

describe("scalars", fun ()
    it("reads strings, integers, floats and booleans", fun ()
        let d = toml.parse("s = \"hi\"\ni = -42\nf = 3.5\nt = true\nn = false\n")
        assert_eq(d["s"], "hi")
        assert_eq(d["i"], -42)
        assert_eq(d["i"].cls(), "Int")
        assert_eq(d["f"], 3.5)
        assert_eq(d["f"].cls(), "Float")
        assert_eq(d["t"], true)
        assert_eq(d["n"], false)
    end)

    it("reads every integer notation", fun ()
        let d = toml.parse("a = 1_000\nb = 0xff\nc = 0o17\nd = 0b101\ne = +7\n")
        assert_eq(d["a"], 1000)
        assert_eq(d["b"], 255)
        assert_eq(d["c"], 15)
        assert_eq(d["d"], 5)
        assert_eq(d["e"], 7)
    end)

    it("reaches both ends of the 64-bit range and no further", fun ()
        assert_eq(toml.parse("x = 9223372036854775807")["x"], 9223372036854775807)
        assert_eq(toml.parse("x = -9223372036854775808")["x"].str(), "-9223372036854775808")
        assert(parse_error("x = 9223372036854775808").contains("out of range"))
    end)

    it("reads exponents, infinities and NaN", fun ()
        let d = toml.parse("a = 1e3\nb = 2.5E-1\nc = inf\nd = -inf\ne = nan\n")
        assert_eq(d["a"], 1000.0)
        assert_eq(d["b"], 0.25)
        assert(d["c"].is_infinite() and d["c"] > 0)
        assert(d["d"].is_infinite() and d["d"] < 0)
        assert(d["e"].is_nan())
    end)

    it("keeps dates and times as text in TOML's notation", fun ()
        let d = toml.parse("a = 1979-05-27T07:32:00Z\nb = 1979-05-27 07:32:00.500-07:00\nc = 1979-05-27\nd = 07:32:00\ne = 1979-05-27t07:32:00.120z\n")
        assert_eq(d["a"], "1979-05-27T07:32:00Z")
        assert_eq(d["b"], "1979-05-27T07:32:00.5-07:00")
        assert_eq(d["c"], "1979-05-27")
        assert_eq(d["d"], "07:32:00")
        assert_eq(d["e"], "1979-05-27T07:32:00.12Z")
    end)
end)

describe("strings", fun ()
    it("decodes escapes in basic strings", fun ()
        let d = toml.parse("s = \"tab\\there \\\"q\\\" \\u00e9 \\U0001F600\"")
        assert_eq(d["s"], "tab\there \"q\" é 😀")
    end)

    it("leaves literal strings alone", fun ()
        assert_eq(toml.parse("s = 'C:\\path\\n'")["s"], "C:\\path\\n")
    end)

    it("reads multi-line strings, trimming the first newline", fun ()
        let text = "s = \"\"\"\nline one\nline two\"\"\"\nr = '''\nraw \\n'''\n"
        let d = toml.parse(text)
        assert_eq(d["s"], "line one\nline two")
        assert_eq(d["r"], "raw \\n")
    end)

    it("joins lines ending in a backslash", fun ()
        let d = toml.parse("s = \"\"\"one \\\n     two\"\"\"")
        assert_eq(d["s"], "one two")
    end)
end)

describe("arrays and tables", fun ()
    it("nests arrays, across lines and with trailing commas", fun ()
        let d = toml.parse("a = [1, [2, 3], \"x\",\n  # comment\n  4,\n]")
        assert_eq(d["a"].len(), 4)
        assert_eq(d["a"][1][1], 3)
        assert_eq(d["a"][2], "x")
    end)

    it("builds tables from headers, dotted keys and inline tables", fun ()
        let d = toml.parse("[server]\nhost = \"h\"\nlimits.body = 10\n[server.tls]\non = true\n[db]\npool = { min = 1, max = 5 }\n")
        assert_eq(d["server"]["host"], "h")
        assert_eq(d["server"]["limits"]["body"], 10)
        assert_eq(d["server"]["tls"]["on"], true)
        assert_eq(d["db"]["pool"]["max"], 5)
    end)

    it("collects arrays of tables", fun ()
        let d = toml.parse("[[fruit]]\nname = \"apple\"\n[fruit.color]\nred = true\n[[fruit]]\nname = \"banana\"\n")
        assert_eq(d["fruit"].len(), 2)
        assert_eq(d["fruit"][0]["color"]["red"], true)
        assert_eq(d["fruit"][1]["name"], "banana")
    end)

    it("keeps keys in document order", fun ()
        assert_eq(toml.parse("z = 1\na = 2\nm = 3")["z"], 1)
        assert_eq(toml.parse("z = 1\na = 2\nm = 3").keys(), ["z", "a", "m"])
    end)

    it("accepts quoted and empty keys", fun ()
        let d = toml.parse("\"a b\" = 1\n'c.d' = 2\n\"\" = 3")
        assert_eq(d["a b"], 1)
        assert_eq(d["c.d"], 2)
        assert_eq(d[""], 3)
    end)

    it("parses an empty document to an empty Dict", fun ()
        assert_eq(toml.parse("").len(), 0)
        assert_eq(toml.parse("# only a comment\n\n").len(), 0)
    end)
end)

describe("bad input", fun ()
    it("raises ValueErr with the line and column", fun ()
        let msg = parse_error("a = 1\nb = \n")
        assert(msg.contains("line 2"), msg)
        assert(msg.contains("column 5"), msg)
        assert(msg.contains("expected a value"), msg)
    end)

    it("rejects broken syntax", fun ()
        assert_raises(ValueErr, fun () toml.parse("[table") end)
        assert_raises(ValueErr, fun () toml.parse("key") end)
        assert_raises(ValueErr, fun () toml.parse("a = \"open") end)
        assert_raises(ValueErr, fun () toml.parse("a = [1, 2") end)
        assert_raises(ValueErr, fun () toml.parse("a = { b = 1, }") end)
        assert_raises(ValueErr, fun () toml.parse("a = 1 b = 2") end)
        assert_raises(ValueErr, fun () toml.parse("a = \"\\q\"") end)
        assert_raises(ValueErr, fun () toml.parse("a = 01") end)
        assert_raises(ValueErr, fun () toml.parse("a = 1__0") end)
        assert_raises(ValueErr, fun () toml.parse("a = 1979-02-30") end)
        assert_raises(ValueErr, fun () toml.parse("a = TRUE") end)
    end)

    it("rejects keys and tables defined twice", fun ()
        assert(parse_error("a = 1\na = 2").contains("duplicate key 'a'"))
        assert_raises(ValueErr, fun () toml.parse("[t]\n[t]") end)
        assert_raises(ValueErr, fun () toml.parse("a = {x = 1}\na.y = 2") end)
        assert_raises(ValueErr, fun () toml.parse("a = []\n[[a]]") end)
        assert_raises(ValueErr, fun () toml.parse("[t]\nx.y = 1\n[t.x]") end)
    end)

    it("rejects control characters and deep nesting", fun ()
        assert_raises(ValueErr, fun () toml.parse("a = \"x" .. chr(1) .. "\"") end)
        assert_raises(ValueErr, fun () toml.parse("a = " .. "[".repeat(300) .. "]".repeat(300)) end)
    end)

    it("wants a Str", fun ()
        assert_raises(TypeErr, fun () toml.parse(42) end)
        assert_raises(TypeErr, fun () toml.parse(nil) end)
    end)
end)
