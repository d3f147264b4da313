# Float: arithmetic, division errors, rounding to Int, special values and
# comparison methods.

use "std/test" {module, describe, it, assert, assert_eq, assert_raises}

module("Float")

let INF = 1e308 * 10.0
let NAN = INF - INF

describe("arithmetic", fun ()
    it("stays Float", fun ()
        assert_eq((1.5 + 2.5).cls(), "Float")
        assert_eq(1.5 * 4, 6.0)
        assert_eq(7.0 / 2.0, 3.5)
        assert_eq(2.5 - 4, -1.5)
    end)

    it("keeps the dividend's sign in %", fun ()
        assert_eq(7.5 % 2, 1.5)
        assert_eq(-7.5 % 2, -1.5)
    end)

    it("raises RuntimeErr on division and modulo by zero", fun ()
        assert_raises(RuntimeErr, fun () 1.0 / 0.0 end)
        assert_raises(RuntimeErr, fun () 1.0 / 0 end)
        assert_raises(RuntimeErr, fun () 1.0 % 0.0 end)
        assert_raises(RuntimeErr, fun () 1.5.div(0) end)
    end)

    it("overflows to infinity instead of raising", fun ()
        assert(INF.is_infinite())
        assert(INF > 1e308)
    end)

    it("compares equal within epsilon", fun ()
        assert(0.1 + 0.2 == 0.3)
        assert((0.1 + 0.2).eq(0.3))
        assert(2.0.eq(2))
    end)
end)

describe("rounding", fun ()
    it("floors, ceils and rounds to Int", fun ()
        let x = 3.7
        assert_eq(x.floor(), 3)
        assert_eq(x.floor().cls(), "Int")
        assert_eq(x.ceil(), 4)
        assert_eq(x.round(), 4)
        assert_eq((-3.7).floor(), -4)
        assert_eq((-3.2).ceil(), -3)
    end)

    it("rounds halves away from zero", fun ()
        assert_eq(2.5.round(), 3)
        assert_eq((-2.5).round(), -3)
    end)

    it("truncates to Float with trunc and to Int with to_int", fun ()
        assert_eq((-3.7).trunc(), -3.0)
        assert_eq((-3.7).trunc().cls(), "Float")
        assert_eq((-3.7).to_int(), -3)
        assert_eq(3.99.to_int().cls(), "Int")
    end)

    it("refuses NaN, infinity and values beyond Int", fun ()
        assert_raises(ValueErr, fun () NAN.to_int() end)
        assert_raises(ValueErr, fun () INF.floor() end)
        assert_raises(ValueErr, fun () 1e19.round() end)
    end)
end)

describe("methods", fun ()
    it("has the arithmetic methods", fun ()
        assert_eq(1.5.plus(1), 2.5)
        assert_eq(1.5.add(1.5), 3.0)
        assert_eq(1.5.minus(2), -0.5)
        assert_eq(1.5.sub(0.5), 1.0)
        assert_eq(1.5.times(2), 3.0)
        assert_eq(1.5.mul(3), 4.5)
        assert_eq(1.5.div(0.5), 3.0)
        assert_eq(5.5.mod(2), 1.5)
    end)

    it("raises to Float powers", fun ()
        assert_eq(2.0.pow(3), 8.0)
        assert_eq(4.0.pow(0.5), 2.0)
        assert_eq(2.0.pow(-1), 0.5)
    end)

    it("computes abs, neg and sign as Floats", fun ()
        assert_eq((-2.5).abs(), 2.5)
        assert_eq(2.5.neg(), -2.5)
        assert_eq((-2.5).sign(), -1.0)
        assert_eq(0.0.sign(), 0.0)
        assert_eq(2.5.sign().cls(), "Float")
    end)

    it("picks min and max as Floats", fun ()
        assert_eq(2.5.min(1), 1.0)
        assert_eq(2.5.min(1).cls(), "Float")
        assert_eq(2.5.max(3), 3.0)
        assert_eq(NAN.max(1.0), 1.0)
    end)

    it("compares with gt, lt, gte, lte", fun ()
        assert(2.5.gt(2))
        assert(2.5.lt(3))
        assert(2.5.gte(2.5))
        assert(2.5.lte(Decimal.new("2.5")))
        assert_eq(NAN.gt(1.0), false)
        assert_eq(NAN.lte(1.0), false)
        assert_raises(TypeErr, fun () 2.5.lt("3") end)
    end)

    it("tells NaN and infinities apart", fun ()
        assert(NAN.is_nan())
        assert_eq(NAN.is_finite(), false)
        assert(INF.is_infinite())
        assert_eq(1.5.is_nan(), false)
        assert(1.5.is_finite())
    end)

    it("converts to strings like str()", fun ()
        assert_eq(3.25.to_string(), "3.25")
        assert_eq(3.0.to_string(), "3")
        assert_eq((-0.5).to_string(), "-0.5")
    end)
end)
