# Traits: declaring required methods, implementing them with impl blocks
# inside a type, the checks made when the type is declared, and does().

use "std/test" {module, describe, it, assert, assert_eq, assert_raises}
use "std/sys"

module("Lang: traits")

trait Shape
    "Anything with an area."
    fun area()
    fun scaled(factor)
end

trait Labelled
    fun label()
end

trait Unused
    fun nothing()
end

type Rect
    pub w: Num
    pub h: Num

    fun perimeter() 2 * (self.w + self.h) end

    impl Shape
        fun area() self.w * self.h end
        fun scaled(factor) Rect.new(w: self.w * factor, h: self.h * factor) end
    end

    impl Labelled
        fun label() "rect " .. self.w .. "x" .. self.h end
        fun helper_not_in_trait() "extra" end
    end
end

type Circle
    pub r: Num
    impl Shape
        fun area() 3 * self.r * self.r end
        fun scaled(factor) Circle.new(r: self.r * factor) end
    end
end

describe("implementing a trait", fun ()
    it("makes the trait's methods ordinary instance methods", fun ()
        let r = Rect.new(w: 2, h: 3)
        assert_eq(r.area(), 6)
        assert_eq(r.scaled(2).area(), 24)
        assert_eq(r.label(), "rect 2x3")
        assert_eq(r.perimeter(), 10)
    end)

    it("allows extra methods inside an impl block", fun ()
        assert_eq(Rect.new(w: 1, h: 1).helper_not_in_trait(), "extra")
    end)

    it("lets different types answer the same calls", fun ()
        let shapes = [Rect.new(w: 1, h: 2), Circle.new(r: 1)]
        let areas = shapes.map(fun (s) s.area() end)
        assert_eq(areas, [2, 3])
    end)
end)

describe("does()", fun ()
    it("tells which traits a value's type implements", fun ()
        let r = Rect.new(w: 1, h: 1)
        assert(r.does(Shape))
        assert(r.does(Labelled))
        assert(not r.does(Unused))
        assert(not Circle.new(r: 1).does(Labelled))
    end)

    it("is false for built-in values", fun ()
        assert(not 5.does(Shape))
        assert(not "s".does(Labelled))
    end)
end)

describe("trait values", fun ()
    it("print as trait Name", fun ()
        assert_eq(Shape.str(), "trait Shape")
        assert_eq("" .. Labelled, "trait Labelled")
    end)

    it("carry their doc string", fun ()
        assert_eq(Shape._doc(), "Anything with an area.")
    end)
end)

describe("checks at declaration", fun ()
    it("refuse a type missing one of the trait's methods", fun ()
        assert_raises(TypeErr, fun ()
            sys.eval("trait Need\n fun a()\n fun b()\nend\ntype Half\n impl Need\n fun a() 1 end\n end\nend")
        end)
    end)

    it("refuse a method with the wrong number of parameters", fun ()
        assert_raises(TypeErr, fun ()
            sys.eval("trait Need\n fun a(x, y)\nend\ntype Off\n impl Need\n fun a(x) x end\n end\nend")
        end)
    end)

    # Regression (was a VM bug): we raise NameErr; the reference raises AttrErr ("Trait X not found").
    it("refuse an unknown trait", fun ()
        assert_raises(AttrErr, fun ()
            sys.eval("type Lost\n impl NoSuchTrait\n fun a() 1 end\n end\nend")
        end)
    end)

    it("accept a trait with no methods (an impl block still needs one)", fun ()
        let ok = sys.eval("trait Marker\nend\ntype Tagged\n impl Marker\n fun x() 1 end\n end\nend\nTagged.new().does(Marker)")
        assert_eq(ok, true)
        assert_raises(SyntaxErr, fun ()
            sys.eval("trait Marker\nend\ntype Tagged\n impl Marker\n end\nend")
        end)
    end)
end)
