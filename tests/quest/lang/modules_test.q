# Modules: every form of use (plain, alias, selective, both, relative,
# inside functions), pub and privacy, module state, doc strings and the
# errors imports raise.  Helper modules live in _helpers/ (the leading
# underscore keeps the runner from treating them as tests).

use "std/test" {module, describe, it, assert, assert_eq, assert_neq, assert_raises, assert_nil, assert_type}
use "std/sys"

use "._helpers/geometry"
use "._helpers/geometry" as geo
use "._helpers/geometry" {square, Vec2 as V, UNIT}
use "._helpers/plain" as pl {answer}
use "std/math"

module("Lang: modules")

describe("use forms", fun ()
    it("binds the file's stem when there is no alias", fun ()
        assert_eq(geometry.square(3), 9)
        assert_eq(geometry.version, "1.0")
    end)

    it("binds an alias given with as", fun ()
        assert_eq(geo.square(4), 16)
    end)

    it("binds only the chosen names with braces, renaming with as", fun ()
        assert_eq(square(5), 25)
        assert_eq(V.new(x: 3, y: 4).len2(), 25)
        assert_eq(UNIT, 1)
    end)

    it("can bind an alias and chosen names together", fun ()
        assert_eq(pl.answer(), 42)
        assert_eq(answer(), 42)
    end)

    it("uses the last path segment as the name of a std module", fun ()
        assert_eq(math.floor(2.7), 2)
    end)

    it("works inside a function, binding locally", fun ()
        fun local_import()
            use "._helpers/plain" as inner_plain
            inner_plain.answer()
        end
        assert_eq(local_import(), 42)
        assert_raises(NameErr, fun () inner_plain end)
    end)

    it("resolves a leading dot against the importing file, not the working directory", fun ()
        use "._helpers/nested_user"
        assert_eq(nested_user.answer_plus(1), 43)
    end)

    it("accepts ./ as the relative prefix too", fun ()
        use "./_helpers/plain" as p2
        assert_eq(p2.answer(), 42)
    end)
end)

describe("module values", fun ()
    # A module imported under several names is one object; which of the
    # names it prints with is not pinned here.
    it("print as <module name>", fun ()
        assert_eq(math.str(), "<module math>")
        assert_eq("" .. math, "<module math>")
        assert(geo.str().startswith("<module "))
    end)

    it("give the file's leading doc string", fun ()
        assert(geo._doc().contains("Geometry helpers used by modules_test.q."))
    end)

    it("give exported types, usable through the module", fun ()
        let v = geo.Vec2.new(x: 1, y: 2)
        assert_eq(v.len2(), 5)
        assert(v.is(V))
    end)

    it("give exported traits", fun ()
        assert_eq(geo.HasArea.str(), "trait HasArea")
    end)
end)

describe("pub and privacy", fun ()
    it("hides names not marked pub", fun ()
        assert_raises(AttrErr, fun () geo.hidden_factor end)
        assert_raises(AttrErr, fun () geo.private_helper() end)
        assert_raises(AttrErr, fun () geo.HIDDEN_CONST end)
        assert_raises(AttrErr, fun () geo.HiddenType end)
    end)

    it("lets the module's own functions use its private names", fun ()
        assert_eq(geo.scaled(2), 20)
        assert_eq(geo.uses_private(), "private+5")
    end)

    it("refuses selective import of a private name with ImportErr", fun ()
        assert_raises(ImportErr, fun ()
            use "._helpers/geometry" {hidden_factor}
        end)
    end)

    it("refuses selective import of a name the module lacks", fun ()
        assert_raises(ImportErr, fun ()
            use "._helpers/geometry" {no_such_name}
        end)
    end)

    it("exports constants with pub const", fun ()
        assert_eq(geo.UNIT, 1)
    end)
end)

describe("module state", fun ()
    it("is created once and shared by every alias", fun ()
        let before = geo.calls()
        geometry.square(1)
        square(2)
        assert_eq(geo.calls(), before + 2)
    end)

    it("runs a module's top level only once", fun ()
        use "._helpers/counter_state" as c1
        use "._helpers/counter_state" as c2
        c1.hit()
        assert_eq(c2.hit(), 2)
        assert_eq(c1.loaded_times, 1)
    end)

    it("is the same module object for every importer", fun ()
        use "._helpers/geometry" as again
        assert_eq(again._id(), geo._id())
    end)
end)

describe("import errors", fun ()
    it("raise ImportErr for a module that does not exist", fun ()
        assert_raises(ImportErr, fun () sys.eval("use \"no/such/thing\"") end)
        assert_raises(ImportErr, fun ()
            use "._helpers/missing_file"
        end)
    end)

    it("raise ImportErr for a cycle", fun ()
        assert_raises(ImportErr, fun ()
            use "._helpers/cycle_a"
        end)
    end)

    it("pass on an error raised while the module runs", fun ()
        assert_raises(ValueErr, fun ()
            use "._helpers/broken"
        end)
    end)

    it("refuse to bind a name already declared in the same scope", fun ()
        assert_raises(NameErr, fun ()
            let answer = 1
            use "._helpers/plain" {answer}
        end)
    end)

    it("require a string path", fun ()
        assert_raises(SyntaxErr, fun () sys.eval("use std/math") end)
    end)
end)
