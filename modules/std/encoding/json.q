"""
std/encoding/json — JSON text to Quest values and back.

    use "std/encoding/json"

    let user = json.parse("{\"name\": \"Ada\", \"langs\": [\"en\", \"fr\"]}")
    puts(user["langs"][1])                 # fr
    puts(json.stringify({"ok": true}))     # {"ok":true}

parse, try_parse, is_valid, stringify, stringify_pretty, is_array,
is_object, parse_file and to_file are native (modules/encoding/json.c).
This file adds the helpers that walk parsed data by a dotted path
("user.address.city", with digits indexing arrays: "users.0.name") and
merge objects.
"""

# The child of node named by one path segment, as [found, value].
fun json_step(node, key)
    if node.cls() == "Dict"
        if node.contains(key)
            return [true, node[key]]
        end
    elif node.cls() == "Array" and key.len() > 0 and key.isdigit()
        let i = key.to_int()
        if i < node.len()
            return [true, node[i]]
        end
    end
    [false, nil]
end

# get(data, path, default = nil): the value at path, or default when some
# segment of it is missing.
pub fun get(data, path, default = nil)
    let node = data
    for key in path.split(".")
        let found = json_step(node, key)
        if not found[0]
            return default
        end
        node = found[1]
    end
    node
end

# contains(data, path): whether every segment of path exists.
pub fun contains(data, path)
    let node = data
    for key in path.split(".")
        let found = json_step(node, key)
        if not found[0]
            return false
        end
        node = found[1]
    end
    true
end

# set(data, path, value): store value at path, creating the missing
# objects along the way; returns data.  An array segment must name an
# existing element; a segment under anything but a Dict or an Array is a
# ValueErr.
pub fun set(data, path, value)
    let keys = path.split(".")
    let node = data
    let last = keys.len() - 1
    for i in 0 until keys.len()
        let key = keys[i]
        if node.cls() == "Array"
            if not (key.len() > 0 and key.isdigit() and key.to_int() < node.len())
                raise ValueErr.new("json.set: no element " .. key .. " in an Array of " .. node.len())
            end
            if i == last
                node[key.to_int()] = value
            else
                node = node[key.to_int()]
            end
        elif node.cls() == "Dict"
            if i == last
                node[key] = value
            else
                if not node.contains(key)
                    node[key] = {}
                end
                node = node[key]
            end
        else
            raise ValueErr.new("json.set: cannot set '" .. key .. "' inside a " .. node.cls())
        end
    end
    data
end

# merge(a, b, deep = false): a new Dict with a's members, then b's over
# them.  With deep, members that are Dicts on both sides merge in turn.
pub fun merge(a, b, deep = false)
    let out = a.clone()
    for key in b.keys()
        let mine = out.get(key)
        let theirs = b[key]
        if deep and mine != nil and mine.cls() == "Dict" and theirs.cls() == "Dict"
            out[key] = merge(mine, theirs, true)
        else
            out[key] = theirs
        end
    end
    out
end
