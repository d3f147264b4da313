# std/encoding/csv: records with and without headers, quoting, typing of
# fields, writing, and the errors for malformed text.

use "std/test" {module, describe, it, assert_eq, assert_raises, assert_type}
use "std/encoding/csv"

module("std/encoding/csv")

describe("parse", fun ()
    it("turns records into Dicts keyed by the header", fun ()
        let rows = csv.parse("name,age\nAlice,30\nBob,25\n")
        assert_eq(rows.len(), 2)
        assert_eq(rows[0]["name"], "Alice")
        assert_eq(rows[1]["age"], 25)
        assert_eq(rows[0].keys(), ["name", "age"])
    end)

    it("types fields: Int, Float, Bool, else Str", fun ()
        let rows = csv.parse("a,b,c,d,e,f,g\n42,-1.5,TRUE,false,+7,1e3,007x", {"has_headers": false})
        let row = rows[1]
        assert_type(row[0], "Int")
        assert_eq(row[1], -1.5)
        assert_eq(row[2], true)
        assert_eq(row[3], false)
        assert_eq(row[4], 7)
        assert_type(row[5], "Float")
        assert_eq(row[6], "007x")
        assert_eq(rows[0][0], "a")
    end)

    it("reads quoted fields with delimiters, quotes and line breaks", fun ()
        let rows = csv.parse("id,note\n1,\"a, b\"\n2,\"say \"\"hi\"\"\"\n3,\"two\nlines\"\n")
        assert_eq(rows[0]["note"], "a, b")
        assert_eq(rows[1]["note"], "say \"hi\"")
        assert_eq(rows[2]["note"], "two\nlines")
    end)

    it("handles CRLF, blank lines, empty fields and trimming", fun ()
        let rows = csv.parse("a,b\r\n\r\n 1 , \r\nx,\n")
        assert_eq(rows.len(), 2)
        assert_eq(rows[0]["a"], 1)
        assert_eq(rows[0]["b"], "")
        assert_eq(rows[1]["b"], "")
        let kept = csv.parse(" a ", {"has_headers": false, "trim": false})
        assert_eq(kept[0][0], " a ")
    end)

    it("takes another delimiter", fun ()
        let rows = csv.parse("a\tb\n1\t2", {"delimiter": "\t"})
        assert_eq(rows[0]["b"], 2)
        assert_eq(csv.parse("x|y", {"delimiter": "|", "has_headers": false})[0], ["x", "y"])
    end)

    it("gives no rows for empty text or a lone header", fun ()
        assert_eq(csv.parse("").len(), 0)
        assert_eq(csv.parse("a,b").len(), 0)
    end)

    it("raises ValueErr on malformed text and bad options", fun ()
        assert_raises(ValueErr, fun () csv.parse("a,b\n1,2,3") end)
        assert_raises(ValueErr, fun () csv.parse("a\n\"open") end)
        assert_raises(ValueErr, fun () csv.parse("a", {"delimiter": ";;"}) end)
        assert_raises(TypeErr, fun () csv.parse("a", [1]) end)
        assert_raises(TypeErr, fun () csv.parse(1) end)
    end)
end)

describe("stringify", fun ()
    it("writes Dict rows under the first row's keys", fun ()
        let text = csv.stringify([{"name": "Alice", "age": 30}, {"age": 25, "name": "Bob"}])
        assert_eq(text, "name,age\nAlice,30\nBob,25\n")
    end)

    it("writes Array rows, with optional headers", fun ()
        assert_eq(csv.stringify([[1, "x"], [2, nil]]), "1,x\n2,\n")
        assert_eq(csv.stringify([[1, 2]], {"headers": ["A", "B"]}), "A,B\n1,2\n")
        assert_eq(csv.stringify([{"a": 1, "b": 2}], {"headers": ["b"]}), "b\n2\n")
    end)

    it("quotes only what needs it", fun ()
        assert_eq(csv.stringify([["a,b", "say \"hi\"", "two\nlines", "plain"]]),
                  "\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",plain\n")
        assert_eq(csv.stringify([[""]]), "\"\"\n")
        assert_eq(csv.stringify([["a;b", "c,d"]], {"delimiter": ";"}), "\"a;b\";c,d\n")
    end)

    it("round-trips", fun ()
        let rows = [{"name": "A, B", "n": 1, "ok": true}, {"name": "C \"D\"", "n": 2, "ok": false}]
        let back = csv.parse(csv.stringify(rows))
        assert_eq(back[0]["name"], "A, B")
        assert_eq(back[1]["name"], "C \"D\"")
        assert_eq(back[1]["ok"], false)
    end)

    it("gives empty text for no rows and refuses other shapes", fun ()
        assert_eq(csv.stringify([]), "")
        assert_raises(TypeErr, fun () csv.stringify([1, 2]) end)
        assert_raises(TypeErr, fun () csv.stringify([{"a": 1}, [1]]) end)
        assert_raises(TypeErr, fun () csv.stringify("a,b") end)
    end)
end)
