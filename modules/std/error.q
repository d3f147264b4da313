"""
std/error — the Error trait that user-defined exceptions implement.

A struct can be raised only if its type implements Error; `catch e: T`
then binds e to the struct itself, so its fields stay reachable:

    use "std/error" {Error}

    type NotFound
        pub path: Str
        impl Error
            fun message() "no such file: " .. self.path end
            fun str() "NotFound: " .. self.message() end
        end
    end

    try
        raise NotFound.new(path: "/etc/nothing")
    catch e: NotFound
        puts(e.path)
    end

BasicError is a ready-made Error carrying just a message.
"""

pub trait Error
    "What an exception value offers: its message, and Type: message."
    fun message()
    fun str()
end

pub type BasicError
    "An Error with only a message: raise BasicError.new(message: \"...\")"
    pub message: Str

    impl Error
        fun message()
            self.message
        end

        fun str()
            "BasicError: " .. self.message
        end
    end
end

# is_error(value): whether value can be raised and caught as an error: a
# built-in exception, or a struct whose type implements Error.
pub fun is_error(value)
    if value == nil
        return false
    end
    value.cls() == "Exception" or value.does(Error)
end
