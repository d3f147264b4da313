# Decorators: types with _call wrapping functions, decorator arguments,
# stacking order, _decorate, and the errors decorators raise.

use "std/test" {module, describe, it, assert, assert_eq, assert_raises, assert_type}
use "std/sys"

module("Lang: decorators")

# Wraps a function and counts how often it is called.
type CallCounter
    func
    pub calls: Int = 0

    fun _call(*args, **kwargs)
        self.calls += 1
        self.func(*args, **kwargs)
    end

    fun _name() self.func._name() end
    fun _doc() self.func._doc() end
end

# Wraps a function and surrounds its (string) result.
type Bracket
    func
    pub open: Str = "["
    pub close: Str = "]"

    fun _call(*args)
        self.open .. self.func(*args) .. self.close
    end
end

type Shout
    func
    fun _call(*args) self.func(*args).upper() end
end

@CallCounter
fun greet(name, punct = "!")
    "Greets someone."
    "hello " .. name .. punct
end

@Bracket(open: "<", close: ">")
fun tagged(x) x end

@Bracket
@Shout
fun shout_then_bracket(s) s end

@Shout
@Bracket
fun bracket_then_shout(s) s end

describe("a decorator", fun ()
    it("replaces the function with an instance of the type", fun ()
        assert_eq(greet("ann"), "hello ann!")
        assert_eq(greet.calls, 1)
        greet("bo", punct: "?")
        assert_eq(greet.calls, 2)
    end)

    it("passes positional and named arguments through", fun ()
        assert_eq(greet("cy", punct: "."), "hello cy.")
        assert_eq(greet(*["di"], **{punct: ";"}), "hello di;")
    end)

    it("can forward the wrapped function's name and doc", fun ()
        assert_eq(greet._name(), "greet")
        assert_eq(greet._doc(), "Greets someone.")
    end)

    it("takes arguments, which fill its other fields", fun ()
        assert_eq(tagged("x"), "<x>")
    end)

    it("uses field defaults when given no arguments", fun ()
        @Bracket
        fun plain(x) x end
        assert_eq(plain("y"), "[y]")
    end)

    it("stacks, the one nearest the function applying first", fun ()
        assert_eq(shout_then_bracket("a"), "[A]")
        assert_eq(bracket_then_shout("a"), "[A]".upper())
        assert_eq(bracket_then_shout("b"), "[B]")
    end)

    it("works on nested function declarations", fun ()
        @CallCounter
        fun local_fn(x) x * 2 end
        assert_eq(local_fn(4), 8)
        assert_eq(local_fn.calls, 1)
    end)

    it("keeps each decorated function's state apart", fun ()
        @CallCounter
        fun one() 1 end
        @CallCounter
        fun two() 2 end
        one()
        one()
        two()
        assert_eq(one.calls, 2)
        assert_eq(two.calls, 1)
    end)
end)

type Registering
    func
    fun _call(*args) self.func(*args) end
    fun _decorate(f)
        registered.push(f._name())
        f
    end
end

let registered = []

describe("_decorate", fun ()
    it("runs at decoration time and its result becomes the binding", fun ()
        @Registering
        fun hooked() "plain result" end
        assert(registered.contains("hooked"))
        assert_eq(hooked(), "plain result")
    end)
end)

describe("decorator errors", fun ()
    it("refuse a type without _call", fun ()
        assert_raises(TypeErr, fun ()
            sys.eval("type NoCall\n func\nend\n@NoCall\nfun f() 1 end")
        end)
    end)

    it("refuse a name that is not a type", fun ()
        assert_raises(NameErr, fun ()
            sys.eval("@nowhere_deco\nfun f() 1 end")
        end)
    end)

    # Regression (was a VM bug): a decorator on a method is silently dropped (the method runs
    # undecorated).  The reference rejects it with TypeErr.
    it("refuse decorating methods", fun ()
        assert_raises(TypeErr, fun ()
            sys.eval("type W\n func\n fun _call(*a) self.func(*a) end\nend\ntype T\n @W\n fun m() 1 end\nend")
        end)
    end)
end)

type Adder
    pub base: Int
    fun _call(x) self.base + x end
end

describe("callable structs", fun ()
    it("call _call when an instance is called", fun ()
        let add5 = Adder.new(base: 5)
        assert_eq(add5(10), 15)
        assert_eq([1, 2].map(add5), [6, 7])
    end)
end)
