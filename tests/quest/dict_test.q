# Dict methods: lookups, the copy-returning set/remove, iteration order,
# key conversion and errors.

use "std/test" {module, describe, it, assert, assert_eq, assert_raises}

module("Dict methods")

describe("lookups", fun ()
    it("get falls back to the default, then to nil", fun ()
        let d = {host: "localhost", retries: 0}
        assert_eq(d.get("host"), "localhost")
        assert_eq(d.get("retries", 5), 0)
        assert_eq(d.get("port", 8080), 8080)
        assert_eq(d.get("port"), nil)
    end)

    it("contains sees keys whose value is nil", fun ()
        let d = {gone: nil}
        assert(d.contains("gone"))
        assert_eq(d.contains("other"), false)
    end)

    it("len counts entries, including ones added with []", fun ()
        let d = {}
        assert_eq(d.len(), 0)
        d["a"] = 1
        d["a"] = 2
        d["b"] = 3
        assert_eq(d.len(), 2)
    end)

    it("keys given to methods are converted to strings", fun ()
        let d = {}
        d["7"] = "seven"
        assert(d.contains(7))
        assert_eq(d.get(7), "seven")
        assert_eq(d.set(true, 1).get("true"), 1)
        assert_eq(d.remove(7).len(), 0)
    end)
end)

describe("set, remove and clone return new dicts", fun ()
    it("set leaves the receiver untouched", fun ()
        let d = {a: 1}
        let e = d.set("b", 2).set("a", 10)
        assert_eq(d.len(), 1)
        assert_eq(d["a"], 1)
        assert_eq(e["a"], 10)
        assert_eq(e["b"], 2)
    end)

    it("remove leaves the receiver untouched, missing keys are fine", fun ()
        let d = {a: 1, b: 2}
        let e = d.remove("a")
        assert_eq(e.keys(), ["b"])
        assert_eq(d.keys(), ["a", "b"])
        assert_eq(d.remove("zzz").len(), 2)
    end)

    it("clone is a separate dict sharing the values", fun ()
        let inner = [1]
        let d = {list: inner}
        let c = d.clone()
        c["extra"] = true
        assert_eq(d.contains("extra"), false)
        c["list"].push(2)
        assert_eq(inner, [1, 2])
    end)
end)

describe("order and iteration", fun ()
    it("keys and values come out in insertion order", fun ()
        let d = {}
        d["zebra"] = 1
        d["apple"] = 2
        d["mango"] = 3
        d["zebra"] = 4
        assert_eq(d.keys(), ["zebra", "apple", "mango"])
        assert_eq(d.values(), [4, 2, 3])
    end)

    it("a removed then re-added key moves to the end", fun ()
        let d = {x: 1, y: 2}
        d = d.remove("x").set("x", 3)
        assert_eq(d.keys(), ["y", "x"])
    end)

    it("a literal of more than eight entries keeps its order and grows", fun ()
        let d = {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9, j: 10, k: 11, l: 12}
        assert_eq(d.keys(), ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"])
        assert_eq(d["k"], 11)
        let i = 0
        while i < 40
            d["n" .. i.str()] = i
            i = i + 1
        end
        assert_eq(d.len(), 52)
        assert_eq(d["a"], 1)
        assert_eq(d["n39"], 39)
        d = d.remove("a")
        assert_eq(d.keys()[0], "b")
        assert_eq(d.get("a"), nil)
    end)

    it("each evaluation of a literal makes a new Dict", fun ()
        # Literal keys are laid out once, when the code is compiled.
        fun make(v)
            {name: v, tags: []}
        end
        let a = make(1)
        a["name"] = "changed"
        a["extra"] = true
        a.remove("tags")
        let b = make(2)
        assert_eq(b.keys(), ["name", "tags"])
        assert_eq(b["name"], 2)
        assert_eq(b.contains("extra"), false)
        assert_eq(a.keys(), ["name", "tags", "extra"])
        assert_eq(a["name"], "changed")
    end)

    it("a literal evaluates its values in order; a repeated key keeps its first place", fun ()
        let seen = []
        fun note(v)
            seen.push(v)
            v
        end
        let d = {b: note(1), a: note(2), b: note(3)}
        assert_eq(seen, [1, 2, 3])
        assert_eq(d.keys(), ["b", "a"])
        assert_eq(d["b"], 3)
        let q = {"with space": 1, "ünïcode": 2}
        assert_eq(q["ünïcode"], 2)
        assert_eq(q.keys(), ["with space", "ünïcode"])
    end)

    it("each passes key and value", fun ()
        let parts = []
        let d = {a: 1, b: 2}
        let r = d.each(fun (k, v) parts.push(k .. "=" .. v) end)
        assert_eq(parts, ["a=1", "b=2"])
        assert_eq(r, nil)
    end)

    it("each walks a snapshot, so the callback may change the dict", fun ()
        let d = {a: 1, b: 2}
        let calls = 0
        d.each(fun (k, v)
            calls = calls + 1
            d[k .. k] = v
        end)
        assert_eq(calls, 2)
        assert_eq(d.len(), 4)
    end)

    it("an exception in the callback comes out of each", fun ()
        let d = {a: 1}
        assert_raises(ValueErr, fun ()
            d.each(fun (k, v) raise ValueErr.new("stop at " .. k) end)
        end)
    end)

    it("each wants a function taking the key and the value", fun ()
        let d = {a: 1}
        assert_raises(TypeErr, fun () d.each(3) end)
        assert_raises(ArgErr, fun () d.each(fun () nil end) end)
    end)
end)

describe("argument counts", fun ()
    it("get takes one or two arguments", fun ()
        let d = {}
        assert_raises(ArgErr, fun () d.get() end)
        assert_raises(ArgErr, fun () d.get("a", 1, 2) end)
        assert_raises(ArgErr, fun () d.set("a") end)
    end)
end)
