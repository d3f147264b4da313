# std/conf: module configuration from quest.toml, quest.<env>.toml and
# quest.local.toml.  Each test works in a scratch project directory and
# puts the working directory and QUEST_ENV back afterwards.

use "std/test" {module, describe, it, assert, assert_eq, assert_raises}
use "std/conf"
use "std/io"
use "std/os"
use "std/sys"

module("std/conf")

let project = "/tmp/quest_conf_test_" .. sys.pid().str()
let home = os.getcwd()

# Run body inside a fresh project holding files (name -> text), from its
# subdirectory "src" (so quest.toml has to be searched upwards).
fun in_project(files, env, body)
    io.mkdir_all(project .. "/src")
    for name in files.keys()
        io.write(project .. "/" .. name, files[name])
    end
    os.setenv("QUEST_ENV", env)
    os.chdir(project .. "/src")
    conf.clear_cache()
    try
        body()
    ensure
        os.chdir(home)
        os.setenv("QUEST_ENV", nil)
        io.remove(project)
    end
end

type WorkerConfig
    pub workers: Int = 4
    pub debug: Bool = false

    fun self.from_dict(d)
        WorkerConfig.new(workers: d.get("workers", 4), debug: d.get("debug", false))
    end

    fun validate()
        if self.workers < 1
            raise ValueErr.new("workers must be at least 1")
        end
    end
end

type NoFactory
    pub x: Int?
end

type FailingFactory
    fun self.from_dict(d)
        raise ValueErr.new("cannot build this")
    end
end

describe("loading files", fun ()
    it("finds quest.toml above the working directory", fun ()
        in_project({"quest.toml": "[myapp.worker]\nworkers = 8\n"}, nil, fun ()
            assert_eq(conf.load_module_config("myapp.worker")["workers"], 8)
            assert_eq(conf.load_module_config("other.module").len(), 0)
        end)
    end)

    it("overlays quest.<QUEST_ENV>.toml and then quest.local.toml", fun ()
        let files = {
            "quest.toml": "[app]\na = 1\nb = 1\nc = 1\n[app.nested]\nx = 1\ny = 1\n",
            "quest.prod.toml": "[app]\nb = 2\nc = 2\n[app.nested]\nx = 2\n",
            "quest.local.toml": "[app]\nc = 3\n"
        }
        in_project(files, "prod", fun ()
            let app = conf.load_module_config("app")
            assert_eq([app["a"], app["b"], app["c"]], [1, 2, 3])
            assert_eq([app["nested"]["x"], app["nested"]["y"]], [2, 1])
        end)
        in_project(files, nil, fun ()
            assert_eq(conf.load_module_config("app")["b"], 1)
        end)
    end)

    it("accepts a quoted dotted key as a module section", fun ()
        in_project({"quest.toml": "[\"my.mod\"]\nk = \"v\"\n"}, nil, fun ()
            assert_eq(conf.load_module_config("my.mod")["k"], "v")
        end)
    end)

    it("raises ConfigurationErr for a malformed file", fun ()
        in_project({"quest.toml": "[broken\n"}, nil, fun ()
            assert_raises(ConfigurationErr, fun () conf.load_module_config("x") end)
        end)
        in_project({"quest.toml": "", "quest.dev.toml": "a = = 1"}, "dev", fun ()
            assert_raises(ConfigurationErr, fun () conf.load_module_config("x") end)
        end)
    end)

    it("rejects a QUEST_ENV that is not a plain name", fun ()
        in_project({}, "../../etc/passwd", fun ()
            assert_raises(ValueErr, fun () conf.load_module_config("x") end)
        end)
        in_project({}, "dev/x", fun ()
            assert_raises(ValueErr, fun () conf.load_module_config("x") end)
        end)
        in_project({}, "prod-2024_b", fun ()
            assert_eq(conf.load_module_config("x").len(), 0)
        end)
    end)
end)

describe("schemas", fun ()
    it("builds, validates and caches a configuration", fun ()
        in_project({"quest.toml": "[myapp.worker]\nworkers = 8\ndebug = true\n"}, nil, fun ()
            conf.register_schema("myapp.worker", WorkerConfig)
            assert(conf.list_modules().contains("myapp.worker"))
            assert(conf.get_schema("myapp.worker") == WorkerConfig)
            let config = conf.get_config("myapp.worker")
            assert_eq(config.workers, 8)
            assert_eq(config.debug, true)
            config.workers = 99
            assert_eq(conf.get_config("myapp.worker").workers, 99)
            conf.clear_cache()
            assert_eq(conf.get_config("myapp.worker").workers, 8)
        end)
    end)

    it("lets validate() errors through", fun ()
        in_project({"quest.toml": "[myapp.worker]\nworkers = 0\n"}, nil, fun ()
            conf.register_schema("myapp.worker", WorkerConfig)
            assert_raises(ValueErr, fun () conf.get_config("myapp.worker") end)
        end)
    end)

    it("raises ConfigurationErr for a missing schema or factory", fun ()
        assert_raises(ConfigurationErr, fun () conf.get_config("nobody.registered") end)
        assert_raises(ConfigurationErr, fun () conf.get_schema("nobody.registered") end)
        conf.register_schema("conf_test.none", NoFactory)
        try
            conf.get_config("conf_test.none")
            assert(false, "expected ConfigurationErr")
        catch e: ConfigurationErr
            assert(e.message().contains("from_dict"), e.message())
        end
        conf.register_schema("conf_test.failing", FailingFactory)
        try
            conf.get_config("conf_test.failing")
            assert(false, "expected ConfigurationErr")
        catch e: ConfigurationErr
            assert(e.message().contains("cannot build this"), e.message())
        end
    end)

    it("validates a Dict without caching", fun ()
        conf.register_schema("conf_test.worker", WorkerConfig)
        conf.validate_config("conf_test.worker", {"workers": 2})
        assert_raises(ConfigurationErr, fun () conf.validate_config("conf_test.worker", {"workers": -1}) end)
    end)
end)

describe("merge", fun ()
    it("merges nested Dicts, later ones winning, without changing its arguments", fun ()
        let a = {"s": {"x": 1, "y": 1}, "k": 1}
        let b = {"s": {"y": 2}, "k": [2]}
        let m = conf.merge(a, b)
        assert_eq([m["s"]["x"], m["s"]["y"], m["k"][0]], [1, 2, 2])
        assert_eq(a["s"]["y"], 1)
        m["k"].push(3)
        assert_eq(b["k"].len(), 1)
        assert_eq(conf.merge().len(), 0)
    end)
end)
