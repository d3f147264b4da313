# Magic variables (__file__, __line__, __function__), doc strings on
# functions, types, traits and modules, and doc declarations.

use "std/test" {module, describe, it, assert, assert_eq, assert_raises, assert_type}
use "._helpers/plain"
use "._helpers/geometry"

module("Lang: magic variables and doc strings")

describe("__file__", fun ()
    it("is the path of the current source file", fun ()
        assert_type(__file__, "Str")
        assert(__file__.endswith("/magic_docs_test.q"), __file__)
    end)

    it("is an absolute path", fun ()
        assert(__file__.startswith("/"), __file__)
    end)
end)

describe("__line__", fun ()
    it("is the line the word is written on", fun ()
        let first = __line__
        let second = __line__
        assert_type(first, "Int")
        assert_eq(second - first, 1)
    end)

    it("follows the token even inside a multi-line expression", fun ()
        let start = __line__
        let pair = [
            __line__,
            __line__
        ]
        assert_eq(pair, [start + 2, start + 3])
    end)
end)

let top_level_function_name = __function__

describe("__function__", fun ()
    it("names the innermost running function", fun ()
        fun outer_name()
            fun inner_name() __function__ end
            [__function__, inner_name()]
        end
        assert_eq(outer_name(), ["outer_name", "inner_name"])
    end)

    it("names methods by their method name", fun ()
        type Probe
            fun where() __function__ end
            fun self.static_where() __function__ end
        end
        assert_eq(Probe.new().where(), "where")
        assert_eq(Probe.static_where(), "static_where")
    end)

    it("is <anonymous> in a lambda", fun ()
        let f = fun () __function__ end
        assert_eq(f(), "<anonymous>")
    end)

    it("is <module> at the top level", fun ()
        assert_eq(top_level_function_name, "<module>")
    end)
end)

fun with_doc(x)
    "Returns x unchanged."
    x
end

fun with_long_doc()
    """
    Spans
    lines.
    """
    nil
end

describe("function doc strings", fun ()
    it("come from a leading string literal", fun ()
        assert_eq(with_doc._doc(), "Returns x unchanged.")
    end)

    it("keep triple-quoted text as written", fun ()
        assert_eq(with_long_doc._doc(), "\n    Spans\n    lines.\n    ")
    end)

    it("do not change what the function returns", fun ()
        assert_eq(with_doc(3), 3)
    end)

    it("only count when the string comes first", fun ()
        fun late_string()
            let a = 1
            "not a doc"
        end
        assert_eq(late_string._doc(), "User-defined function: late_string")
        assert_eq(late_string(), "not a doc")
    end)
end)

trait Greeter
    "Says hello."
    fun hello(name)
end

trait Quiet
    fun hush()
end

describe("type and trait doc strings", fun ()
    it("come from a string right after the name", fun ()
        type Documented
            "A documented type."
            pub a: Int
        end
        assert_eq(Documented._doc(), "A documented type.")
        assert_eq(Greeter._doc(), "Says hello.")
    end)

    it("list the required methods of an undocumented trait", fun ()
        assert(Quiet._doc().contains("hush"), Quiet._doc())
    end)
end)

describe("module doc strings", fun ()
    it("come from the file's leading triple-quoted string", fun ()
        assert_eq(geometry._doc(), "\nGeometry helpers used by modules_test.q.\n")
    end)

    it("default to Module: name", fun ()
        assert_eq(plain._doc(), "Module: plain")
    end)
end)

% fun documented_elsewhere(a) "A doc declaration: parsed and ignored."
% type Nothing "Also ignored."

describe("doc declarations", fun ()
    it("are accepted and bind nothing", fun ()
        assert_raises(NameErr, fun () documented_elsewhere end)
        assert_raises(NameErr, fun () Nothing end)
    end)
end)
