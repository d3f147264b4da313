# std/regex: matching, searching, groups, replacement and splitting on
# PCRE2, and what bad patterns do.

use "std/test" {module, describe, it, assert, assert_eq, assert_nil, assert_raises}
use "std/regex"

module("std/regex")

describe("matching and finding", fun ()
    it("matches anywhere unless anchored", fun ()
        assert(regex.match("\\d+", "abc123"))
        assert(not regex.match("^\\d+$", "abc123"))
        assert(not regex.match("hello", "Hello"))
        assert(regex.match("(?i)hello", "Hello"))
    end)

    it("anchors $ at the very end, as the reference does", fun ()
        assert(not regex.match("^\\d+$", "123\n"))
        assert(regex.match("(?m)^\\d+$", "abc\n123\nxyz"))
    end)

    it("finds the first match or nil", fun ()
        assert_eq(regex.find("\\d+", "abc123def456"), "123")
        assert_nil(regex.find("\\d+", "abcdef"))
    end)

    it("finds every match", fun ()
        assert_eq(regex.find_all("\\d+", "a1b22c333"), ["1", "22", "333"])
        assert_eq(regex.find_all("x", "abc"), [])
        # empty matches advance by one character, never splitting one
        assert_eq(regex.find_all("a*", "baaac"), ["", "aaa", "", ""])
    end)

    it("treats text as Unicode", fun ()
        assert_eq(regex.find_all("\\w+", "héllo wörld 世界"), ["héllo", "wörld", "世界"])
        assert_eq(regex.find_all(".", "añ世"), ["a", "ñ", "世"])
    end)
end)

describe("groups", fun ()
    it("captures numbered groups, nil for those that did not take part", fun ()
        assert_eq(regex.captures("(\\w+)@(\\w+\\.\\w+)", "user@example.com"), ["user@example.com", "user", "example.com"])
        assert_eq(regex.captures("(a)|(b)", "b"), ["b", nil, "b"])
        assert_nil(regex.captures("\\d+", "abc"))
    end)

    it("captures groups of every match", fun ()
        let all = regex.captures_all("(\\d+)-(\\d+)", "10-20 and 30-40")
        assert_eq(all, [["10-20", "10", "20"], ["30-40", "30", "40"]])
        assert_eq(regex.captures_all("\\d", "x"), [])
    end)

    it("captures named groups into a dict", fun ()
        let d = regex.captures_named("(?<year>\\d{4})-(?<month>\\d{2})(?<day>-\\d{2})?", "on 2024-10 ok")
        assert_eq(d["year"], "2024")
        assert_eq(d["month"], "10")
        assert_nil(d["day"])
        assert_nil(regex.captures_named("(?<n>\\d)", "none"))
    end)
end)

describe("replacing", fun ()
    it("replaces the first match or all of them", fun ()
        assert_eq(regex.replace("\\d+", "a1b22", "#"), "a#b22")
        assert_eq(regex.replace_all("\\d+", "a1b22", "#"), "a#b#")
        assert_eq(regex.replace_all("\\d+", "abc", "#"), "abc")
    end)

    it("expands group references", fun ()
        assert_eq(regex.replace("(\\w+)@(\\w+)", "user@example", "$2@$1"), "example@user")
        assert_eq(regex.replace_all("([a-z])([A-Z])", "getUserById", "$1_$2"), "get_User_By_Id")
        assert_eq(regex.replace_all("(?<first>\\w+) (?<last>\\w+)", "ada lovelace", "${last}, $first"), "lovelace, ada")
        assert_eq(regex.replace("(\\d+)", "cost 5", "$$$1"), "cost $5")
        assert_eq(regex.replace("(x)?y", "y", "[$1]"), "[]")
    end)
end)

describe("splitting and escaping", fun ()
    it("splits around matches, keeping empty pieces", fun ()
        assert_eq(regex.split(",\\s*", "a, b,c"), ["a", "b", "c"])
        assert_eq(regex.split(",", ",a,,b,"), ["", "a", "", "b", ""])
        assert_eq(regex.split("\\d+", "abc"), ["abc"])
    end)

    it("escapes text to match it literally", fun ()
        let p = regex.escape("1+1=2? (yes) [a.b]")
        assert(regex.match("^" .. p .. "$", "1+1=2? (yes) [a.b]"))
        assert(not regex.match(p, "11=2"))
    end)
end)

describe("bad patterns and input", fun ()
    it("tells valid patterns from invalid ones", fun ()
        assert(regex.is_valid("\\d{3}-\\d{4}"))
        assert(not regex.is_valid("["))
        assert(not regex.is_valid("("))
        assert(not regex.is_valid("*"))
    end)

    it("raises ValueErr for an invalid pattern, saying where", fun ()
        assert_raises(ValueErr, fun () regex.match("(", "x") end)
        assert_raises(ValueErr, fun () regex.find_all("a{2,1}", "x") end)
        assert_raises(ValueErr, fun () regex.replace("[z-a]", "x", "y") end)
        let message = ""
        try
            regex.split("(?<n>a)(?<n>b)", "ab")
        catch e: ValueErr
            message = e.message()
        end
        assert(message.contains("offset"))
    end)

    it("raises TypeErr for arguments that are not strings", fun ()
        assert_raises(TypeErr, fun () regex.match(5, "x") end)
        assert_raises(TypeErr, fun () regex.find("x", nil) end)
        assert_raises(TypeErr, fun () regex.replace("x", "x", 1) end)
    end)

    it("stops runaway backtracking with RuntimeErr", fun ()
        assert_raises(RuntimeErr, fun ()
            regex.match("(a+)+$", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!")
        end)
    end)

    it("reuses compiled patterns across many calls", fun ()
        let n = 0
        let i = 0
        while i < 200
            if regex.match("^p" .. (i % 40).str() .. "$", "p" .. (i % 40).str())
                n = n + 1
            end
            i = i + 1
        end
        assert_eq(n, 200)
    end)
end)
