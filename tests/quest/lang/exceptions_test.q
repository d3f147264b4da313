# try / catch / ensure / raise: typed catches, re-raising, exception
# objects, errors raised by the runtime, and raising user structs.

use "std/test" {module, describe, it, assert, assert_eq, assert_neq, assert_raises, assert_nil, assert_type}
use "std/sys"
use "std/error" {Error}

module("Lang: exceptions")

fun catch_type(body)
    try
        body()
    catch e
        return e.type()
    end
    nil
end

describe("raise", fun ()
    it("turns a string into a RuntimeErr", fun ()
        let caught = nil
        try
            raise "out of coffee"
        catch e
            caught = e
        end
        assert_eq(caught.type(), RuntimeErr)
        assert_eq(caught.message(), "out of coffee")
    end)

    it("raises a typed exception made with .new", fun ()
        assert_raises(ValueErr, fun () raise ValueErr.new("bad value") end)
        assert_raises(KeyErr, fun () raise KeyErr.new("k") end)
        assert_raises(IOErr, fun () raise IOErr.new("disk") end)
    end)

    it("can make an exception without raising it", fun ()
        let e = IndexErr.new("far away")
        assert_eq(e.type(), IndexErr)
        assert_eq(e.message(), "far away")
        assert_eq(e.str(), "IndexErr: far away")
    end)

    it("wants one string message for .new", fun ()
        assert_raises(ArgErr, fun () ValueErr.new("a", "b") end)
        assert_raises(TypeErr, fun () ValueErr.new(5) end)
    end)

    it("re-raises the exception being handled when bare", fun ()
        let outer = nil
        try
            try
                raise ArgErr.new("inner")
            catch e
                raise
            end
        catch e2
            outer = e2
        end
        assert_eq(outer.type(), ArgErr)
        assert_eq(outer.message(), "inner")
    end)

    it("complains when bare with nothing to re-raise", fun ()
        assert_raises(RuntimeErr, fun () raise end)
    end)
end)

describe("catch clauses", fun ()
    it("match the exact type, first match winning", fun ()
        fun which(kind)
            try
                if kind == 1
                    raise TypeErr.new("t")
                elif kind == 2
                    raise ValueErr.new("v")
                else
                    raise "plain"
                end
            catch e: TypeErr
                "type"
            catch e: ValueErr
                "value"
            catch e
                "other: " .. e.type()
            end
        end
        assert_eq(which(1), "type")
        assert_eq(which(2), "value")
        assert_eq(which(3), "other: RuntimeErr")
    end)

    it("let Err catch every exception type", fun ()
        for t in [IndexErr, TypeErr, ValueErr, ArgErr, AttrErr, NameErr, RuntimeErr, IOErr, ImportErr, KeyErr, SyntaxErr]
            let got = nil
            try
                raise t.new("x")
            catch e: Err
                got = e.type()
            end
            assert_eq(got, t)
        end
    end)

    it("have no hierarchy besides Err: a non-matching type passes the error on", fun ()
        let reached = "none"
        try
            try
                raise KeyErr.new("k")
            catch e: IndexErr
                reached = "inner"
            end
        catch e: KeyErr
            reached = "outer"
        end
        assert_eq(reached, "outer")
    end)

    it("bind the variable only for the catch body", fun ()
        try
            raise "x"
        catch problem
            assert_eq(problem.message(), "x")
        end
        assert_raises(NameErr, fun () problem end)
    end)

    it("refuse an unknown type or one that does not implement Error", fun ()
        assert_raises(NameErr, fun ()
            sys.eval("try\n raise \"x\"\ncatch e: NoSuchErrType\n 2\nend")
        end)
        assert_raises(TypeErr, fun ()
            sys.eval("type Plain\n pub a: Int\nend\ntry\n raise \"x\"\ncatch e: Plain\n 2\nend")
        end)
    end)

    # Regression (was a VM bug): the catch types are only checked when something is raised;
    # the reference checks them before the try body runs, so a bad catch
    # clause fails even when the body succeeds.
    it("check the caught types before running the body", fun ()
        assert_raises(NameErr, fun ()
            sys.eval("try\n 1\ncatch e: NoSuchErrType\n 2\nend")
        end)
        assert_raises(TypeErr, fun ()
            sys.eval("type Plain\n pub a: Int\nend\ntry\n 1\ncatch e: Plain\n 2\nend")
        end)
    end)

    it("may have an empty try body", fun ()
        let r = "unchanged"
        try
        catch e
            r = "caught"
        end
        assert_eq(r, "unchanged")
    end)
end)

describe("ensure", fun ()
    it("runs after success and after a caught error", fun ()
        let log = []
        try
            log.push("body")
        catch e
            log.push("catch")
        ensure
            log.push("ensure")
        end
        try
            raise "x"
        catch e
            log.push("catch")
        ensure
            log.push("ensure")
        end
        assert_eq(log, ["body", "ensure", "catch", "ensure"])
    end)

    it("runs when the error escapes, which then goes on", fun ()
        let cleaned = false
        assert_raises(ValueErr, fun ()
            try
                raise ValueErr.new("leaving")
            ensure
                cleaned = true
            end
        end)
        assert(cleaned)
    end)

    it("runs when return leaves the try body", fun ()
        let cleaned = []
        fun leave()
            try
                return "returned"
            ensure
                cleaned.push(1)
            end
            "not reached"
        end
        assert_eq(leave(), "returned")
        assert_eq(cleaned, [1])
    end)

    it("runs when break leaves the try body", fun ()
        let count = 0
        for i in 1 to 10
            try
                if i == 3
                    break
                end
            ensure
                count += 1
            end
        end
        assert_eq(count, 3)
    end)

    it("runs when the catch body raises again", fun ()
        let cleaned = false
        assert_raises(TypeErr, fun ()
            try
                raise "first"
            catch e
                raise TypeErr.new("second")
            ensure
                cleaned = true
            end
        end)
        assert(cleaned)
    end)

    it("lets an error raised in it replace the original", fun ()
        assert_raises(KeyErr, fun ()
            try
                raise ValueErr.new("original")
            ensure
                raise KeyErr.new("from ensure")
            end
        end)
    end)
end)

describe("exception objects", fun ()
    it("describe themselves", fun ()
        let e = nil
        try
            raise AttrErr.new("no such thing")
        catch caught
            e = caught
        end
        assert_eq(e.type(), AttrErr)
        assert_neq(e.type(), "AttrErr", "type() is a Type, not a string")
        assert_eq(e.type().str(), "AttrErr")
        assert_eq(e.message(), "no such thing")
        assert_eq(e.str(), "AttrErr: no such thing")
        assert_eq("" .. e, "AttrErr: no such thing")
        assert_eq(e.cls(), "Exception")
    end)

    it("record where they were raised", fun ()
        let e = nil
        let raised_on = 0
        fun thrower()
            raised_on = __line__ raise ValueErr.new("here")
        end
        try
            thrower()
        catch caught
            e = caught
        end
        assert_eq(e.line(), raised_on)
        assert(e.file().endswith("exceptions_test.q"))
        let frames = e.stack()
        assert_type(frames, "Array")
        assert(frames.len() >= 2)
        assert(frames[0].contains("thrower"), frames[0])
    end)

    it("compare by type", fun ()
        assert_eq(ValueErr, ValueErr)
        assert_neq(ValueErr, TypeErr)
        assert_eq(Err.new("x").type(), Err)
    end)
end)

describe("errors raised by the runtime", fun ()
    it("use RuntimeErr for division by zero and Int overflow", fun ()
        assert_eq(catch_type(fun () 1 / 0 end), RuntimeErr)
        assert_eq(catch_type(fun () 5 % 0 end), RuntimeErr)
        assert_eq(catch_type(fun () 1.5 / 0 end), RuntimeErr)
        assert_eq(catch_type(fun () 9223372036854775807 + 1 end), RuntimeErr)
        assert_eq(catch_type(fun () 3037000500 * 3037000500 end), RuntimeErr)
    end)

    it("use NameErr for unknown names", fun ()
        assert_eq(catch_type(fun () unknown_name_xyz end), NameErr)
    end)

    it("use AttrErr for unknown methods and method calls on nil", fun ()
        assert_eq(catch_type(fun () 5.no_such_method() end), AttrErr)
        assert_eq(catch_type(fun () nil.upper() end), AttrErr)
    end)

    it("use ArgErr for wrong argument counts", fun ()
        fun two(a, b) a + b end
        assert_eq(catch_type(fun () two(1) end), ArgErr)
        assert_eq(catch_type(fun () two(1, 2, 3) end), ArgErr)
        assert_eq(catch_type(fun () "x".upper(1) end), ArgErr)
    end)

    it("use TypeErr for operands that do not fit", fun ()
        assert_eq(catch_type(fun () 1 + "a" end), TypeErr)
        assert_eq(catch_type(fun () [1] - 1 end), TypeErr)
    end)

    it("use ImportErr for a missing module", fun ()
        assert_eq(catch_type(fun () sys.eval("use \"no/such/module_here\"") end), ImportErr)
    end)

    it("are caught like any other", fun ()
        let msg = nil
        try
            [1, 2].get(10)
        catch e
            msg = e.message()
        end
        assert(msg != nil)
    end)
end)

type QuotaErr
    pub used: Int
    pub limit: Int

    fun over() self.used - self.limit end

    impl Error
        fun message() "used " .. self.used .. " of " .. self.limit end
        fun str() "QuotaErr: " .. self.message() end
    end
end

type NotAnError
    pub a: Int
end

describe("raising structs", fun ()
    it("catches them by their type, with the struct bound", fun ()
        let caught = nil
        try
            raise QuotaErr.new(used: 12, limit: 10)
        catch e: QuotaErr
            caught = e
        end
        assert_eq(caught.over(), 2)
        assert_eq(caught.used, 12)
        assert_eq(caught.message(), "used 12 of 10")
    end)

    it("lets Err and untyped catches take them too", fun ()
        let n = 0
        try
            raise QuotaErr.new(used: 1, limit: 0)
        catch e: Err
            n += 1
        end
        try
            raise QuotaErr.new(used: 1, limit: 0)
        catch e
            n += 1
        end
        assert_eq(n, 2)
    end)

    it("passes them by a non-matching built-in catch", fun ()
        assert_raises(QuotaErr, fun ()
            try
                raise QuotaErr.new(used: 1, limit: 0)
            catch e: ValueErr
                nil
            end
        end)
    end)

    it("refuses to raise a struct without the Error trait", fun ()
        assert_raises(TypeErr, fun () raise NotAnError.new(a: 1) end)
    end)

    it("turns other raised values into RuntimeErr", fun ()
        assert_raises(RuntimeErr, fun () raise 42 end)
    end)
end)

describe("try as a value", fun ()
    it("gives the value of the body or of the catch", fun ()
        fun parse_or_zero(s)
            try
                s.to_int()
            catch e
                0
            end
        end
        assert_eq(parse_or_zero("17"), 17)
        assert_eq(parse_or_zero("x"), 0)
    end)
end)
