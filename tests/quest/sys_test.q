# std/sys: program facts, running code at run time, call depth, and the
# redirection of stdout and stderr.

use "std/test" {module, describe, it, assert, assert_eq, assert_nil, assert_raises, assert_type}
use "std/sys"
use "std/io"

module("std/sys")

let scratch = "/tmp/quest_sys_test_" .. sys.pid().str() .. ".txt"

describe("program facts", fun ()
    it("has argv and a matching argc", fun ()
        assert_type(sys.argv, "Array")
        assert_eq(sys.argv.len(), sys.argc)
    end)

    it("names its version, platform and executable", fun ()
        assert(sys.version.contains("."), "a dotted version")
        assert_eq(sys.platform, "linux")
        assert(sys.executable.contains("quest"))
    end)

    it("lists the modules built into the binary", fun ()
        let names = sys.builtin_module_names
        assert(names.contains("sys"))
        assert(names.contains("test"), "Quest-written modules count too")
    end)

    it("has the Int bounds", fun ()
        assert_eq(sys.INT_MAX, 9223372036854775807)
        assert_eq(sys.INT_MIN + sys.INT_MAX, -1)
    end)

    it("gives the process id", fun ()
        assert(sys.pid() > 0)
    end)
end)

describe("eval", fun ()
    it("returns the value of the last statement", fun ()
        assert_eq(sys.eval("let a = 20\na + 1"), 21)
    end)

    it("returns nil for blank code", fun ()
        assert_nil(sys.eval(""))
        assert_nil(sys.eval("  \n\t "))
    end)

    it("raises SyntaxErr for code that does not parse", fun ()
        assert_raises(SyntaxErr, fun () sys.eval("let = 1") end)
    end)

    it("lets runtime errors through", fun ()
        assert_raises(ValueErr, fun () sys.eval("raise ValueErr.new(\"from eval\")") end)
    end)

    it("wants a Str", fun ()
        assert_raises(TypeErr, fun () sys.eval(12) end)
    end)
end)

describe("fail", fun ()
    it("raises RuntimeErr with the message, or Failure", fun ()
        try
            sys.fail("stop here")
        catch e
            assert_eq(e.type(), RuntimeErr)
            assert_eq(e.message(), "stop here")
        end
        try
            sys.fail()
        catch e
            assert_eq(e.message(), "Failure")
        end
    end)
end)

describe("load_module", fun ()
    it("loads a library module", fun ()
        let m = sys.load_module("std/math")
        assert(m.pi > 3.14)
    end)

    it("raises ImportErr for a missing module", fun ()
        assert_raises(ImportErr, fun () sys.load_module("no/such/module_xyz") end)
    end)
end)

describe("call depth", fun ()
    it("grows by one per nested call and shrinks back", fun ()
        let here = sys.get_call_depth()
        fun deeper(n)
            if n == 0
                return sys.get_call_depth()
            end
            deeper(n - 1)
        end
        assert_eq(deeper(5), here + 6)
        assert_eq(sys.get_call_depth(), here)
    end)

    it("publishes its limits", fun ()
        let limits = sys.get_depth_limits()
        assert(limits["function_calls"] > 100)
        assert(limits.contains("eval_recursion"))
        assert(limits.contains("module_loading"))
    end)

    it("counts the module scope and each running function as scopes", fun ()
        let here = sys.get_scope_depth()
        fun inside() sys.get_scope_depth() end
        assert_eq(inside(), here + 1)
    end)
end)

describe("streams", fun ()
    it("are named after what they are", fun ()
        assert_eq(sys.stdout.cls(), "stdout")
        assert_eq(sys.stderr.cls(), "stderr")
        assert_eq(sys.stdin.cls(), "stdin")
    end)

    it("write returns the bytes written", fun ()
        let buf = io.StringIO.new()
        with sys.redirect_stream(sys.stdout, buf)
            assert_eq(sys.stdout.write("hé\n"), 4)
        end
        assert_eq(buf.get_value(), "hé\n")
    end)

    it("stdin cannot be written", fun ()
        assert_raises(AttrErr, fun () sys.stdin.write("x") end)
    end)
end)

describe("redirect_stream", fun ()
    it("captures puts and print until restored", fun ()
        let buf = io.StringIO.new()
        let guard = sys.redirect_stream(sys.stdout, buf)
        puts("one")
        print("two")
        guard.restore()
        assert_eq(buf.get_value(), "one\ntwo")
        assert_eq(guard.is_active(), false)
    end)

    it("restore is safe to repeat, from any reference to the guard", fun ()
        let buf = io.StringIO.new()
        let guard = sys.redirect_stream(sys.stdout, buf)
        let same = guard
        same.restore()
        guard.restore()
        puts("not captured")
        assert_eq(buf.get_value(), "")
    end)

    it("nests: each guard puts back what it replaced", fun ()
        let outer = io.StringIO.new()
        let inner = io.StringIO.new()
        with sys.redirect_stream(sys.stdout, outer)
            puts("a")
            with sys.redirect_stream(sys.stdout, inner)
                puts("b")
            end
            puts("c")
        end
        assert_eq(outer.get_value(), "a\nc\n")
        assert_eq(inner.get_value(), "b\n")
    end)

    it("restores at the end of a with block that raised", fun ()
        let buf = io.StringIO.new()
        try
            with sys.redirect_stream(sys.stdout, buf)
                puts("before")
                raise "inside"
            end
        catch e
            assert_eq(e.message(), "inside")
        end
        puts("after")
        assert_eq(buf.get_value(), "before\n")
    end)

    it("sends stderr where stdout goes now", fun ()
        let buf = io.StringIO.new()
        with sys.redirect_stream(sys.stdout, buf)
            with sys.redirect_stream(sys.stderr, sys.stdout)
                sys.stderr.write("err ")
                puts("out")
            end
        end
        assert_eq(buf.get_value(), "err out\n")
    end)

    it("appends to a file", fun ()
        io.write(scratch, "kept\n")
        with sys.redirect_stream(sys.stdout, scratch)
            puts("added")
        end
        assert_eq(io.read(scratch), "kept\nadded\n")
        io.remove(scratch)
    end)

    it("rejects other sources and targets", fun ()
        assert_raises(TypeErr, fun () sys.redirect_stream(sys.stdin, io.StringIO.new()) end)
        assert_raises(TypeErr, fun () sys.redirect_stream("stdout", io.StringIO.new()) end)
        assert_raises(TypeErr, fun () sys.redirect_stream(sys.stdout, 42) end)
        assert_raises(IOErr, fun () sys.redirect_stream(sys.stdout, "/no/such/dir/file.txt") end)
    end)
end)
