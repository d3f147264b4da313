# with: _enter / _exit on any value, `as` bindings, several managers,
# exit order, suppression of errors, and name restoration.

use "std/test" {module, describe, it, assert, assert_eq, assert_raises, assert_nil}
use "std/io"

module("Lang: with")

type Tracker
    pub name: Str
    pub log: Array
    pub swallow: Bool = false
    pub fail_on_exit: Bool = false

    fun _enter()
        self.log.push("enter " .. self.name)
        "resource " .. self.name
    end

    fun _exit()
        self.log.push("exit " .. self.name)
        if self.fail_on_exit
            raise IOErr.new("exit failed: " .. self.name)
        end
        self.swallow
    end
end

type NoEnter
    pub x: Int = 0
    fun _exit() nil end
end

describe("with", fun ()
    it("calls _enter before the body and _exit after it", fun ()
        let log = []
        with Tracker.new(name: "a", log: log)
            log.push("body")
        end
        assert_eq(log, ["enter a", "body", "exit a"])
    end)

    it("binds what _enter returns to the as name", fun ()
        let log = []
        let got = nil
        with Tracker.new(name: "db", log: log) as res
            got = res
        end
        assert_eq(got, "resource db")
    end)

    it("exits several managers in reverse order", fun ()
        let log = []
        with Tracker.new(name: "1", log: log) as one, Tracker.new(name: "2", log: log) as two
            log.push(one .. "+" .. two)
        end
        assert_eq(log, ["enter 1", "enter 2", "resource 1+resource 2", "exit 2", "exit 1"])
    end)

    it("calls _exit when the body raises, then lets the error go on", fun ()
        let log = []
        assert_raises(ValueErr, fun ()
            with Tracker.new(name: "x", log: log)
                raise ValueErr.new("inside")
            end
        end)
        assert_eq(log, ["enter x", "exit x"])
    end)

    it("swallows the body's error when _exit returns a truthy value", fun ()
        let log = []
        let after = false
        with Tracker.new(name: "s", log: log, swallow: true)
            raise "ignored"
        end
        after = true
        assert(after)
        assert_eq(log, ["enter s", "exit s"])
    end)

    it("lets an error from _exit win over the body's error", fun ()
        let log = []
        assert_raises(IOErr, fun ()
            with Tracker.new(name: "f", log: log, fail_on_exit: true)
                raise ValueErr.new("body")
            end
        end)
    end)

    it("calls _exit when return leaves the body", fun ()
        let log = []
        fun early()
            with Tracker.new(name: "r", log: log)
                return "early"
            end
            "late"
        end
        assert_eq(early(), "early")
        assert_eq(log, ["enter r", "exit r"])
    end)

    it("calls _exit when break leaves the body", fun ()
        let log = []
        for i in 1 to 3
            with Tracker.new(name: i.str(), log: log)
                if i == 2
                    break
                end
            end
        end
        assert_eq(log, ["enter 1", "exit 1", "enter 2", "exit 2"])
    end)

    it("restores a name that as shadowed", fun ()
        let log = []
        let handle = "mine"
        with Tracker.new(name: "h", log: log) as handle
            assert_eq(handle, "resource h")
        end
        assert_eq(handle, "mine")
    end)

    it("removes an as name that did not exist before", fun ()
        let log = []
        with Tracker.new(name: "t", log: log) as temp_handle
            nil
        end
        assert_raises(NameErr, fun () temp_handle end)
    end)

    it("raises AttrErr for a value without _enter", fun ()
        assert_raises(AttrErr, fun ()
            with NoEnter.new()
                nil
            end
        end)
        assert_raises(AttrErr, fun ()
            with 42
                nil
            end
        end)
    end)

    it("works with built-in context managers", fun ()
        let buf = io.StringIO.new()
        with buf as b
            b.write("hello")
        end
        assert_eq(buf.get_value(), "hello")
    end)

    it("may nest", fun ()
        let log = []
        with Tracker.new(name: "outer", log: log)
            with Tracker.new(name: "inner", log: log)
                log.push("core")
            end
        end
        assert_eq(log, ["enter outer", "enter inner", "core", "exit inner", "exit outer"])
    end)
end)
