# std/time: the monotonic millisecond clock.

use "std/test" {module, describe, it, assert, assert_type, assert_raises}
use "std/time"

module("std/time")

describe("ticks_ms", fun ()
    it("counts whole milliseconds that never go back", fun ()
        let first = time.ticks_ms()
        assert_type(first, "Int")
        assert(first >= 0)
        let i = 0
        while i < 20000
            i = i + 1
        end
        assert(time.ticks_ms() >= first)
    end)

    it("takes no arguments", fun ()
        assert_raises(ArgErr, fun () time.ticks_ms(1) end)
    end)
end)
