# std/settings and .settings.toml: the file is read at startup (its
# [os.environ] strings become environment variables) and by std/settings
# on first import, both from the working directory.  So each case runs a
# fresh quest (this very executable) in a scratch directory.

use "std/test" {module, describe, it, assert, assert_eq}
use "std/io"
use "std/process"
use "std/sys"

module("std/settings")

let dir = "/tmp/quest_settings_test_" .. sys.pid().str()

# Run script in dir beside a .settings.toml holding settings_text.
fun run_with(settings_text, script)
    io.mkdir_all(dir)
    io.write(dir .. "/.settings.toml", settings_text)
    io.write(dir .. "/main.q", script)
    try
        return process.run(["/proc/self/exe", "main.q"], {"cwd": dir})
    ensure
        io.remove(dir)
    end
end

let sample = """
[app]
name = "Demo"
port = 8080
debug = true

[database.pool]
max = 20

[features]
formats = ["json", "csv"]

[os.environ]
QUEST_SETTINGS_TEST_URL = "postgres://db/test"
QUEST_SETTINGS_TEST_NUMBER = 5
"""

describe("lookups", fun ()
    it("gets values by dotted path", fun ()
        let r = run_with(sample, """use "std/settings"
puts(settings.get("app.name"), " ", settings.get("app.port"), " ", settings.get("database.pool.max"))
puts(settings.get("features.formats"), " ", settings.get("app.missing"), " ", settings.get("app.name.deeper"))
""")
        assert_eq(r.stdout(), "Demo 8080 20\n[json, csv] nil nil\n", r.stderr())
    end)

    it("answers contains, section and all", fun ()
        let r = run_with(sample, """use "std/settings"
puts(settings.contains("app"), settings.contains("database.pool.max"), settings.contains("nope"))
puts(settings.section("database").keys(), " ", settings.section("nope"))
puts(settings.all().keys())
""")
        assert_eq(r.stdout(), "truetruefalse\n[pool] nil\n[app, database, features]\n", r.stderr())
    end)

    it("hands out copies", fun ()
        let r = run_with(sample, """use "std/settings"
settings.get("features.formats").push("xml")
let everything = settings.all()
everything["app"]["name"] = "changed"
puts(settings.get("features.formats").len(), " ", settings.get("app.name"))
""")
        assert_eq(r.stdout(), "2 Demo\n", r.stderr())
    end)

    it("is empty without a .settings.toml", fun ()
        use "std/settings"
        if not io.exists(".settings.toml")
            assert_eq(settings.all().len(), 0)
            assert_eq(settings.get("anything"), nil)
            assert_eq(settings.contains("anything"), false)
        end
    end)
end)

describe("[os.environ]", fun ()
    it("exports string values before the program starts and hides the table", fun ()
        let r = run_with(sample, """use "std/os"
puts(os.getenv("QUEST_SETTINGS_TEST_URL"), " ", os.getenv("QUEST_SETTINGS_TEST_NUMBER"))
use "std/settings"
puts(settings.contains("os"), settings.contains("os.environ"))
""")
        assert_eq(r.stdout(), "postgres://db/test nil\nfalsefalse\n", r.stderr())
    end)
end)

describe("bad input", fun ()
    it("stops quest with the line of a malformed file", fun ()
        let r = run_with("[app]\nname = \n", "puts(\"ran\")\n")
        assert_eq(r.code(), 1)
        assert_eq(r.stdout(), "")
        assert(r.stderr().contains("Error loading .settings.toml"), r.stderr())
        assert(r.stderr().contains("line 2"), r.stderr())
    end)
end)
