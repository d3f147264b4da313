"""
std/settings — read-only access to the project's .settings.toml.

The file is read from the working directory when the module is first
imported.  Values are looked up by dotted path through nested tables:

    use "std/settings"
    let port = settings.get("database.port") or 5432
    if settings.contains("cache.redis")
        connect(settings.section("cache.redis"))
    end

The [os.environ] table is not part of the settings: quest exports its
string values as environment variables when it starts, before any code
runs (see docs/stdlib/settings.md).  Every lookup returns a fresh copy, so
changing a returned Dict or Array does not change the settings.
"""

use "std/io"
use "std/toml"

const FILE = ".settings.toml"

fun load()
    if not io.is_file(FILE)
        return {}
    end
    let data = toml.parse(io.read(FILE))
    let os_table = data.get("os")
    if os_table != nil and os_table.is(Dict)
        data = data.remove("os")
    end
    data
end

let data = load()

# A copy of v that shares nothing mutable with the settings.
fun copy(v)
    if v.is(Dict)
        let out = {}
        for key in v.keys()
            out[key] = copy(v[key])
        end
        return out
    elif v.is(Array)
        return v.map(fun (item) copy(item) end)
    end
    v
end

# [found, value] for a dotted path.
fun lookup(path: Str)
    let current = data
    for part in path.split(".")
        if not (current.is(Dict) and current.contains(part))
            return [false, nil]
        end
        current = current[part]
    end
    [true, current]
end

pub fun get(path: Str)
    "The value at a dotted path (\"database.pool.max\"), or nil."
    copy(lookup(path)[1])
end

pub fun contains(path: Str)
    "Whether a value exists at the dotted path."
    lookup(path)[0]
end

pub fun section(name: Str)
    "The table at a dotted path as a Dict (any other value as it is), or nil."
    copy(lookup(name)[1])
end

pub fun all()
    "Every setting, as one Dict."
    copy(data)
end
