# std/error: the Error trait lets structs be raised and caught by type;
# BasicError is a ready-made one.

use "std/test" {module, describe, it, assert, assert_eq, assert_raises}
use "std/error" {Error, BasicError, is_error}

module("std/error")

type QuotaExceeded
    pub user: Str
    pub limit: Int

    impl Error
        fun message()
            self.user .. " is over " .. self.limit.str()
        end

        fun str()
            "QuotaExceeded: " .. self.message()
        end
    end
end

type PlainRecord
    pub value: Int
end

describe("raising structs", fun ()
    it("catches by the struct's type and keeps its fields", fun ()
        let seen = nil
        try
            raise QuotaExceeded.new(user: "ana", limit: 10)
        catch e: QuotaExceeded
            seen = e
        end
        assert_eq(seen.user, "ana")
        assert_eq(seen.message(), "ana is over 10")
    end)

    it("is caught by a catch-all as well", fun ()
        let caught = false
        try
            raise QuotaExceeded.new(user: "bo", limit: 1)
        catch e
            caught = true
        end
        assert(caught)
    end)

    it("refuses structs that do not implement Error", fun ()
        assert_raises(TypeErr, fun () raise PlainRecord.new(value: 1) end)
    end)
end)

describe("BasicError", fun ()
    it("carries a message", fun ()
        let e = BasicError.new(message: "disk full")
        assert_eq(e.message(), "disk full")
        assert_eq(e.str(), "BasicError: disk full")
        assert(e.does(Error))
    end)

    it("can be raised and caught", fun ()
        let text = nil
        try
            raise BasicError.new(message: "nope")
        catch e: BasicError
            text = e.message()
        end
        assert_eq(text, "nope")
    end)
end)

describe("is_error", fun ()
    it("accepts exceptions and Error structs only", fun ()
        assert(is_error(ValueErr.new("x")))
        assert(is_error(BasicError.new(message: "x")))
        assert_eq(is_error(PlainRecord.new(value: 1)), false)
        assert_eq(is_error("ValueErr"), false)
        assert_eq(is_error(nil), false)
    end)
end)
