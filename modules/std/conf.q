"""
std/conf — per-module configuration from quest.toml and its overlays.

A module declares a configuration type with a `from_dict` class method,
registers it under its dotted name and asks for its configuration:

    use "std/conf"

    pub type Configuration
        pub workers: Int = 4
        fun self.from_dict(d)
            Configuration.new(workers: d.get("workers", 4))
        end
        fun validate()
            if self.workers < 1
                raise ValueErr.new("workers must be at least 1")
            end
        end
    end

    conf.register_schema("myapp.worker", Configuration)
    pub let config = conf.get_config("myapp.worker")

The table [myapp.worker] is read from quest.toml (found in the working
directory or the nearest directory above it), then from quest.<QUEST_ENV>.toml
and quest.local.toml beside it, each overriding the one before, tables
merged key by key.  Problems with the files or the schema raise
ConfigurationErr; a QUEST_ENV that is not a plain name raises ValueErr.
"""

use "std/io"
use "std/os"
use "std/toml"

let schemas = {}
let configs = {}

# The parsed file at path, {} when there is none.
fun read_toml(path)
    if not io.exists(path)
        return {}
    end
    try
        return toml.parse(io.read(path))
    catch e
        raise ConfigurationErr.new("Failed to load TOML file '" .. path .. "': " .. e.message())
    end
end

# The path of the nearest file of that name, looking in the working
# directory and then in each directory above it; nil when there is none.
fun find_upwards(filename)
    let dir = os.getcwd()
    while true
        let candidate = io.join(dir, filename)
        if io.is_file(candidate)
            return candidate
        end
        let parent = io.dirname(dir)
        if parent == dir or parent == ""
            return nil
        end
        dir = parent
    end
end

# QUEST_ENV names a file beside quest.toml, so it must be a plain name.
fun quest_env()
    let env = os.getenv("QUEST_ENV")
    if env == nil or env == ""
        return nil
    end
    for c in env
        if not (c.isascii() and (c.isalnum() or c == "_" or c == "-"))
            raise ValueErr.new("Invalid QUEST_ENV value '" .. env .. "': use only letters, digits, '-' and '_'")
        end
    end
    env
end

# A copy of Dicts and Arrays all the way down.
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

fun merge_into(target, source)
    for key in source.keys()
        let value = source[key]
        let current = target.get(key)
        if current != nil and current.is(Dict) and value.is(Dict)
            merge_into(current, value)
        else
            target[key] = copy(value)
        end
    end
end

pub fun merge(*configs)
    """
    A new Dict with the entries of all the given Dicts; later ones win, and
    where both sides hold a Dict the two are merged the same way.  The
    arguments are not changed.
    """
    let out = {}
    for config in configs
        merge_into(out, config)
    end
    out
end

# The table for a dotted module name: [std.web] is {"std": {"web": ...}};
# a top-level key spelled "std.web" (quoted in TOML) is accepted too.
fun module_section(config, module_name)
    let current = config
    for part in module_name.split(".")
        if not (current.is(Dict) and current.contains(part))
            current = nil
            break
        end
        current = current[part]
    end
    if current == nil or not current.is(Dict)
        current = config.get(module_name)
    end
    if current == nil or not current.is(Dict)
        return {}
    end
    copy(current)
end

pub fun load_module_config(module_name: Str)
    """
    The merged table of a module from quest.toml, quest.<QUEST_ENV>.toml and
    quest.local.toml, without any schema; {} when no file has it.
    """
    let env = quest_env()
    let base_path = find_upwards("quest.toml")
    let dir = "."
    let base = {}
    if base_path != nil
        dir = io.dirname(base_path)
        base = read_toml(base_path)
    end
    let env_config = {}
    if env != nil
        env_config = read_toml(io.join(dir, "quest." .. env .. ".toml"))
    end
    let local_config = read_toml(io.join(dir, "quest.local.toml"))
    module_section(merge(base, env_config, local_config), module_name)
end

pub fun register_schema(module_name: Str, config_type)
    "Declare the type whose from_dict builds the module's configuration."
    schemas[module_name] = config_type
    configs = configs.remove(module_name)
end

pub fun get_schema(module_name: Str)
    "The type registered for the module; ConfigurationErr when there is none."
    let schema = schemas.get(module_name)
    if schema == nil
        raise ConfigurationErr.new("No schema registered for module: " .. module_name)
    end
    schema
end

pub fun list_modules()
    "The names of the modules with a registered schema."
    schemas.keys()
end

# schema.from_dict(d), with its failures as ConfigurationErr.
fun build(module_name, schema, d)
    let from_dict = nil
    try
        from_dict = schema.from_dict
    catch e: AttrErr
        raise ConfigurationErr.new("Configuration type for '" .. module_name ..
            "' must have class method from_dict (fun self.from_dict)")
    end
    try
        return from_dict(d)
    catch e
        raise ConfigurationErr.new("Error creating configuration for '" .. module_name .. "': " .. e.str())
    end
end

# config.validate(), when the configuration type has one.
fun run_validate(config)
    let validate = nil
    try
        validate = config.validate
    catch e: AttrErr
        return nil
    end
    validate()
end

pub fun get_config(module_name: Str)
    """
    The module's configuration: from_dict of its registered type applied to
    load_module_config(module_name), then validate() when the type has it.
    The result is cached until clear_cache().
    """
    if configs.contains(module_name)
        return configs[module_name]
    end
    let schema = get_schema(module_name)
    let config = build(module_name, schema, load_module_config(module_name))
    run_validate(config)
    configs[module_name] = config
    config
end

pub fun validate_config(module_name: Str, config_dict)
    """
    Check a Dict against the module's schema (from_dict, then validate())
    without caching anything; failures raise ConfigurationErr.
    """
    let config = build(module_name, get_schema(module_name), config_dict)
    try
        run_validate(config)
    catch e
        raise ConfigurationErr.new("Configuration validation failed for '" .. module_name .. "': " .. e.str())
    end
    nil
end

pub fun clear_cache()
    "Forget the configurations built so far; the next get_config reads the files again."
    configs = {}
end
