# Functions: declarations, defaults, named arguments, *args, **kwargs,
# spreading at calls, parameter and return annotations, lambdas, doc
# strings, and chained calls.

use "std/test" {module, describe, it, assert, assert_eq, assert_raises, assert_nil, assert_type}
use "std/sys"

module("Lang: functions")

fun area(w, h = w) w * h end

fun connect(host, port = 80, secure = false)
    host .. ":" .. port .. (if_true(secure, "/tls", ""))
end

fun if_true(c, a, b)
    if c
        return a
    end
    b
end

describe("defaults", fun ()
    it("fill parameters the caller leaves out", fun ()
        assert_eq(connect("h"), "h:80")
        assert_eq(connect("h", 8080), "h:8080")
        assert_eq(connect("h", 8080, true), "h:8080/tls")
    end)

    it("may refer to earlier parameters", fun ()
        assert_eq(area(3), 9)
        assert_eq(area(3, 4), 12)
    end)

    it("are evaluated at every call", fun ()
        fun append_to(x, acc = [])
            acc.push(x)
            acc
        end
        assert_eq(append_to(1), [1])
        assert_eq(append_to(2), [2], "a fresh default each call")
    end)

    # The reference fails on defaults that call functions and on lambdas
    # with **kwargs (its bugs 022 and 024); here both work.
    it("may call functions and see captured variables", fun ()
        let base = 100
        fun next_id() base + 1 end
        fun make(id = next_id()) id end
        assert_eq(make(), 101)
        base = 200
        assert_eq(make(), 201)
    end)

    it("pass errors raised while computing them to the caller", fun ()
        fun bad(x = 1 / 0) x end
        assert_raises(RuntimeErr, fun () bad() end)
        assert_eq(bad(5), 5)
    end)

    # Regression (was a VM bug): the definition is accepted (the call then fails with ArgErr).
    # The reference rejects the definition itself (as a RuntimeErr); any
    # error at definition time is what we want, hence Err.
    it("must not come before required parameters", fun ()
        assert_raises(Err, fun () sys.eval("fun f(a = 1, b) a end\nnil") end)
    end)
end)

describe("argument counts", fun ()
    it("raise ArgErr for too few or too many", fun ()
        fun pair(a, b) [a, b] end
        assert_raises(ArgErr, fun () pair(1) end)
        assert_raises(ArgErr, fun () pair(1, 2, 3) end)
        assert_raises(ArgErr, fun () connect() end)
        assert_raises(ArgErr, fun () connect("h", 1, true, 4) end)
    end)

    it("count for lambdas too", fun ()
        let f = fun (x) x end
        assert_raises(ArgErr, fun () f() end)
    end)
end)

describe("named arguments", fun ()
    it("can be given in any order", fun ()
        assert_eq(connect(port: 1, host: "a"), "a:1")
    end)

    it("can follow positionals and skip defaults", fun ()
        assert_eq(connect("b", secure: true), "b:80/tls")
    end)

    it("raise ArgErr for an unknown name", fun ()
        assert_raises(ArgErr, fun () connect("h", colour: "red") end)
    end)

    it("raise ArgErr when a parameter is given twice", fun ()
        assert_raises(ArgErr, fun () connect("h", host: "again") end)
        assert_raises(ArgErr, fun () sys.eval("fun f(a) a end\nf(a: 1, a: 2)") end)
    end)

    it("raise ArgErr when a required one is missing", fun ()
        assert_raises(ArgErr, fun () connect(port: 9) end)
    end)

    it("cannot be followed by positionals", fun ()
        assert_raises(ArgErr, fun () sys.eval("fun f(a, b) a end\nf(a: 1, 2)") end)
    end)
end)

describe("*args", fun ()
    it("collects extra positionals into an array", fun ()
        fun total(first, *rest)
            let sum = first
            for r in rest
                sum += r
            end
            [sum, rest.len()]
        end
        assert_eq(total(1), [1, 0])
        assert_eq(total(1, 2, 3), [6, 2])
    end)

    it("comes after defaulted parameters", fun ()
        fun tag(name, sep = ",", *parts) name .. ":" .. parts.join(sep) end
        assert_eq(tag("t"), "t:")
        assert_eq(tag("t", "-", "a", "b"), "t:a-b")
    end)

    it("is an empty array when nothing extra is given", fun ()
        fun count(*xs) xs end
        assert_eq(count(), [])
        assert_type(count(), "Array")
    end)
end)

describe("**kwargs", fun ()
    it("collects unknown named arguments into a dict", fun ()
        fun opts(name, **extra) [name, extra] end
        let r = opts("x", colour: "red", size: 3)
        assert_eq(r[0], "x")
        assert_eq(r[1]["colour"], "red")
        assert_eq(r[1]["size"], 3)
        assert_eq(r[1].len(), 2)
    end)

    it("does not take named arguments that match parameters", fun ()
        fun opts(name, **extra) extra.keys() end
        assert_eq(opts(name: "n", other: 1), ["other"])
    end)

    it("works together with *args", fun ()
        fun everything(a, b = 2, *rest, **kw) [a, b, rest, kw.len()] end
        assert_eq(everything(1), [1, 2, [], 0])
        assert_eq(everything(1, 3, 4, 5, k: 6), [1, 3, [4, 5], 1])
    end)
end)

describe("spreading at calls", fun ()
    it("spreads an array into positionals with *", fun ()
        fun add3(a, b, c) a + b + c end
        let nums = [1, 2, 3]
        assert_eq(add3(*nums), 6)
        assert_eq(add3(10, *[20, 30]), 60)
    end)

    it("spreads a dict into named arguments with **", fun ()
        let options = {port: 443, secure: true}
        assert_eq(connect("s", **options), "s:443/tls")
    end)

    it("lets an explicit named argument after ** win", fun ()
        let options = {port: 1}
        assert_eq(connect("s", **options, port: 2), "s:2")
    end)

    it("forwards *args and **kwargs to another function", fun ()
        fun forward(*args, **kw) connect(*args, **kw) end
        assert_eq(forward("f", secure: true), "f:80/tls")
    end)

    it("still checks the spread arguments", fun ()
        fun one(a) a end
        assert_raises(ArgErr, fun () one(*[1, 2]) end)
        assert_raises(ArgErr, fun () one(**{b: 1}) end)
    end)
end)

describe("parameter annotations", fun ()
    it("check argument types at the call", fun ()
        fun scaled(x: Int, factor: Float = 1.5) x * factor end
        assert_eq(scaled(2), 3)
        assert_raises(TypeErr, fun () scaled("2") end)
        assert_raises(TypeErr, fun () scaled(2, 3) end)
    end)

    it("let Num accept both number kinds", fun ()
        fun half(x: Num) x / 2 end
        assert_eq(half(4), 2)
        assert_eq(half(5.0), 2.5)
        assert_raises(TypeErr, fun () half(nil) end)
    end)

    it("check the return value against -> Type", fun ()
        fun good() -> Int 1 end
        fun liar() -> Int "one" end
        assert_eq(good(), 1)
        assert_raises(TypeErr, fun () liar() end)
    end)
end)

describe("lambdas", fun ()
    it("are expressions that can be stored and passed", fun ()
        let double = fun (x) x * 2 end
        assert_eq(double(21), 42)
        assert_eq([1, 2, 3].map(fun (x) x + 1 end), [2, 3, 4])
    end)

    it("can live in arrays and dicts and be called from there", fun ()
        let ops = [fun (a) a + 1 end, fun (a) a * 10 end]
        let named = {neg: fun (a) -a end}
        assert_eq(ops[1](4), 40)
        assert_eq(named["neg"](4), -4)
    end)

    it("can be returned and called in a chain", fun ()
        fun adder(a) fun (b) fun (c) a + b + c end end end
        assert_eq(adder(1)(2)(3), 6)
    end)

    it("take defaults and variadics like named functions", fun ()
        let f = fun (a, b = 10, *rest, **kw) [a + b, rest, kw.keys()] end
        assert_eq(f(1), [11, [], []])
        assert_eq(f(1, 2, 3, x: 4), [3, [3], ["x"]])
    end)

    it("take no parameters", fun ()
        let hello = fun () "hi" end
        assert_eq(hello(), "hi")
    end)
end)

fun _id_of(v) v._id() end

fun documented(a)
    "Adds nothing to its argument."
    a
end

fun undocumented() 1 end

describe("function values", fun ()
    it("carry a doc string from their first statement", fun ()
        assert_eq(documented._doc(), "Adds nothing to its argument.")
        assert_eq(documented(7), 7, "the doc string is not the result")
    end)

    it("have a default doc text otherwise", fun ()
        assert_eq(undocumented._doc(), "User-defined function: undocumented")
        assert_eq((fun () 1 end)._doc(), "Anonymous function")
    end)

    it("know their name and print as <fun name>", fun ()
        assert_eq(documented._name(), "documented")
        assert_eq(documented.str(), "<fun documented>")
        assert_eq("" .. undocumented, "<fun undocumented>")
    end)

    it("are truthy and have an identity", fun ()
        assert(documented)
        assert_type(_id_of(documented), "Int")
    end)

    it("refuse to call something that is not callable", fun ()
        let n = 5
        assert_raises(TypeErr, fun () n(1) end)
        assert_raises(TypeErr, fun () "s"() end)
    end)
end)

describe("recursion", fun ()
    it("calls itself by name", fun ()
        fun fact(n) if n <= 1 1 else n * fact(n - 1) end end
        assert_eq(fact(10), 3628800)
    end)

    it("supports mutual recursion between local functions", fun ()
        fun is_even(n) if n == 0 true else is_odd(n - 1) end end
        fun is_odd(n) if n == 0 false else is_even(n - 1) end end
        assert(is_even(10))
        assert(is_odd(7))
    end)
end)
