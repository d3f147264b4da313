# std/os: environment variables, the working directory, directories and
# files, and IOErr for what the system refuses.

use "std/test" {module, describe, it, assert, assert_eq, assert_nil, assert_type, assert_raises}
use "std/os"
use "std/io"
use "std/sys"

module("std/os")

let base = "/tmp/quest_os_test_" .. sys.pid().str()

describe("environment", fun ()
    it("gets, sets and unsets variables", fun ()
        os.setenv("QUEST_OS_T", "one")
        assert_eq(os.getenv("QUEST_OS_T"), "one")
        assert_eq(os.environ()["QUEST_OS_T"], "one")
        os.unsetenv("QUEST_OS_T")
        assert_nil(os.getenv("QUEST_OS_T"))
        assert(not os.environ().contains("QUEST_OS_T"))
    end)

    it("gives a default for missing variables", fun ()
        assert_eq(os.getenv("QUEST_OS_MISSING_VAR", "fallback"), "fallback")
    end)

    it("turns values into strings, and nil unsets", fun ()
        os.setenv("QUEST_OS_N", 42)
        assert_eq(os.getenv("QUEST_OS_N"), "42")
        os.setenv("QUEST_OS_N", nil)
        assert_nil(os.getenv("QUEST_OS_N"))
    end)

    it("refuses names that cannot be variables", fun ()
        assert_raises(ValueErr, fun () os.setenv("", "x") end)
        assert_raises(ValueErr, fun () os.setenv("A=B", "x") end)
        assert_raises(TypeErr, fun () os.getenv(5) end)
        assert_raises(ArgErr, fun () os.environ("x") end)
    end)
end)

describe("directories", fun ()
    it("creates, lists (sorted), renames and removes", fun ()
        os.mkdir(base)
        io.write(base .. "/b.txt", "b")
        io.write(base .. "/a.txt", "a")
        os.mkdir(base .. "/sub")
        assert_eq(os.listdir(base), ["a.txt", "b.txt", "sub"])
        os.rename(base .. "/a.txt", base .. "/c.txt")
        assert_eq(os.listdir(base), ["b.txt", "c.txt", "sub"])
        os.remove(base .. "/b.txt")
        os.remove(base .. "/c.txt")
        os.rmdir(base .. "/sub")
        assert_eq(os.listdir(base), [])
        os.rmdir(base)
        assert(not io.exists(base))
    end)

    it("makes nested directories at once", fun ()
        os.makedirs(base .. "/x/y/z")
        os.makedirs(base .. "/x/y/z")
        assert(io.is_dir(base .. "/x/y/z"))
        os.rmdir(base .. "/x/y/z")
        os.rmdir(base .. "/x/y")
        os.rmdir(base .. "/x")
        os.rmdir(base)
    end)

    it("changes the working directory", fun ()
        let here = os.getcwd()
        os.chdir("/tmp")
        assert_eq(os.getcwd(), "/tmp")
        os.chdir(here)
        assert_eq(os.getcwd(), here)
    end)

    it("raises IOErr for what the system refuses", fun ()
        assert_raises(IOErr, fun () os.listdir("/no/such/dir") end)
        assert_raises(IOErr, fun () os.chdir("/no/such/dir") end)
        assert_raises(IOErr, fun () os.mkdir("/no/such/parent/dir") end)
        assert_raises(IOErr, fun () os.rmdir("/no/such/dir") end)
        assert_raises(IOErr, fun () os.remove("/no/such/file") end)
        assert_raises(IOErr, fun () os.rename("/no/such/file", "/tmp/x") end)
        assert_raises(IOErr, fun () os.mkdir("/tmp") end)
        try
            os.listdir("/no/such/dir")
        catch e
            assert(e.message().contains("No such file or directory"))
        end
    end)
end)

describe("module values", fun ()
    it("names the platform and the search path", fun ()
        assert_type(os.platform, "Str")
        assert_type(os.search_path, "Array")
        assert_eq(os.sep, "/")
    end)
end)
