"""
std/web/router — URL patterns with typed parameters, and routers that send
a request to the handler registered for its method and path.

    use "std/web/router" {Router}

    let api = Router.new()
    api.get("/users/{id<int>}", fun (req)
        {status: 200, json: {id: req["params"]["id"]}}
    end)
    web.route("/api", api)              # GET /api/users/7 -> {"id": 7}

Patterns are split on "/" (empty segments are ignored, so "/a/" is "/a").
A segment is either literal text or a parameter:

    {name}          one segment, as a Str
    {name<int>}     one segment converted to Int  (also {name:int})
    {name<float>}   ... to Float
    {name<uuid>}    ... to Uuid
    {name<str>}     the same as {name}
    {name<path>}    the rest of the path, one segment or more, joined with
                    "/" (also {*name}; a bare * is {*path}); last only

Captured values are percent-decoded.  A value that does not convert (abc
for an int) means the route does not match, so another one may.

When several routes match a path, the more specific one wins whatever the
registration order: comparing the patterns segment by segment, at the first
place where they differ literal text beats a typed parameter, which beats a
Str parameter, which beats a path parameter.  Routes equally specific are
tried in registration order.  A GET route also answers HEAD; a route added
with `any` answers every method.
"""

use "std/uuid"

# How specific a segment is: lower ranks are tried first (see above).
const RANK_STATIC = 0
const RANK_TYPED = 1
const RANK_STR = 2
const RANK_PATH = 3

const PARAM_TYPES = ["str", "int", "float", "uuid", "path"]

# ---- patterns ---------------------------------------------------------------------------

# The parameter segment for the text between the braces of "{...}".
fun parse_param(inner, pattern)
    let name = inner
    let kind = "str"
    if inner.startswith("*")
        name = inner.slice(1, inner.len())
        kind = "path"
    elif inner.contains("<")
        if not inner.endswith(">")
            raise ValueErr.new("Bad parameter '{" .. inner .. "}' in route pattern '" .. pattern .. "'")
        end
        let open = inner.index_of("<")
        name = inner.slice(0, open)
        kind = inner.slice(open + 1, inner.len() - 1)
    elif inner.contains(":")
        let colon = inner.index_of(":")
        name = inner.slice(0, colon)
        kind = inner.slice(colon + 1, inner.len())
    end
    name = name.trim()
    kind = kind.trim().lower()
    if name == ""
        raise ValueErr.new("Parameter without a name in route pattern '" .. pattern .. "'")
    end
    if not PARAM_TYPES.contains(kind)
        raise ValueErr.new("Unknown parameter type '" .. kind .. "' in route pattern '" .. pattern .. "' (use str, int, float, uuid or path)")
    end
    {"type": "param", "name": name, "param_type": kind}
end

pub fun parse_pattern(pattern)
    """
    Parse a route pattern into its segments: an Array of
    {type: "static", value} and {type: "param", name, param_type} Dicts.
    Raises ValueErr for a malformed parameter or a path parameter that is
    not the last segment.
    """
    let segments = []
    for part in pattern.split("/")
        if part == ""
            continue
        end
        if segments.len() > 0 and segments[segments.len() - 1]["param_type"] == "path"
            raise ValueErr.new("A path parameter must be the last segment of route pattern '" .. pattern .. "'")
        end
        if part == "*"
            segments.push({"type": "param", "name": "path", "param_type": "path"})
        elif part.startswith("{") and part.endswith("}")
            segments.push(parse_param(part.slice(1, part.len() - 1), pattern))
        else
            segments.push({"type": "static", "value": part})
        end
    end
    segments
end

# ---- matching ---------------------------------------------------------------------------

# The non-empty segments of a request path, still percent-encoded.
fun path_parts(path)
    let parts = []
    for part in path.split("/")
        if part != ""
            parts.push(part)
        end
    end
    parts
end

# value converted to kind, or nil when it does not convert.
fun convert(value, kind)
    if kind == "str"
        return value
    end
    try
        if kind == "int"
            return value.to_int()
        elif kind == "float"
            return value.to_float()
        elif kind == "uuid"
            return uuid.parse(value)
        end
    catch e: Err
        return nil
    end
    value
end

# The params Dict when the parsed pattern matches the path parts, else nil.
fun match_parts(segments, parts)
    let n = segments.len()
    let greedy = n > 0 and segments[n - 1]["param_type"] == "path"
    if parts.len() < n or (parts.len() > n and not greedy)
        return nil
    end
    let params = {}
    let i = 0
    while i < n
        let seg = segments[i]
        let part = parts[i]
        if seg["type"] == "static"
            if part != seg["value"]
                return nil
            end
        elif seg["param_type"] == "path"
            params[seg["name"]] = parts.slice(i, parts.len()).join("/")._url_decode()
        else
            let value = convert(part._url_decode(), seg["param_type"])
            if value == nil
                return nil
            end
            params[seg["name"]] = value
        end
        i = i + 1
    end
    params
end

pub fun match_path(segments, path)
    """
    Match a request path against parsed pattern segments (see
    parse_pattern): the Dict of captured parameters, or nil when the path
    does not match.
    """
    match_parts(segments, path_parts(path))
end

# ---- ordering ---------------------------------------------------------------------------

fun segment_rank(seg)
    if seg["type"] == "static"
        return RANK_STATIC
    end
    let kind = seg["param_type"]
    if kind == "path"
        return RANK_PATH
    elif kind == "str"
        return RANK_STR
    end
    RANK_TYPED
end

fun ranks_of(segments)
    let ranks = []
    for seg in segments
        ranks.push(segment_rank(seg))
    end
    ranks
end

# Whether a route with ranks a must be tried before one with ranks b: at the
# first differing segment the lower rank goes first.  When one list is a
# prefix of the other no path matches both, so neither goes first.
fun goes_before(a, b)
    let i = 0
    while i < a.len() and i < b.len()
        if a[i] != b[i]
            return a[i] < b[i]
        end
        i = i + 1
    end
    false
end

# Whether a route registered for route_method answers method.
fun method_matches(route_method, method)
    route_method == method or route_method == "*" or (method == "HEAD" and route_method == "GET")
end

# Put route into list (ordered for trying) after every route that goes
# before it or ties with it.
fun insert_route(list, route)
    let i = 0
    while i < list.len()
        if goes_before(route["priority"], list[i]["priority"])
            list.insert(i, route)
            return nil
        end
        i = i + 1
    end
    list.push(route)
end

# Among literal routes for one path: the first for method itself, else a
# GET route for HEAD, else one for any method.
fun pick_method(routes, method)
    let fallback = nil
    for r in routes
        if r["method"] == method
            return r
        end
        if fallback == nil and method == "HEAD" and r["method"] == "GET"
            fallback = r
        end
    end
    if fallback != nil
        return fallback
    end
    for r in routes
        if r["method"] == "*"
            return r
        end
    end
    nil
end

# ---- routers ----------------------------------------------------------------------------

pub type Router
    """
    A set of routes.  `routes` lists them in the order they are tried, each a
    Dict {method, pattern, pattern_segments, handler, priority}.
    """
    pub routes = []
    # The same routes indexed for lookups.  Literal patterns by their joined
    # path ("a/b" -> routes), so most lookups are one Dict access; the others
    # by their first segment when it is literal, else in `_wild`.  A route
    # whose first segment is literal goes before any whose first segment is
    # a parameter, so trying the first group and then `_wild`, each in
    # order, keeps the order of `routes`.
    _exact = {}
    _by_first = {}
    _wild = []

    fun add(method, pattern, handler)
        "Register handler for method (upper-cased; \"*\" for any) and pattern."
        let segments = parse_pattern(pattern)
        let route = {
            "method": method.upper(),
            "pattern": pattern,
            "pattern_segments": segments,
            "handler": handler,
            "priority": ranks_of(segments)
        }
        insert_route(self.routes, route)
        let is_exact = true
        for seg in segments
            if seg["type"] != "static"
                is_exact = false
            end
        end
        if is_exact
            let key = path_parts(pattern).join("/")
            if not self._exact.contains(key)
                self._exact[key] = []
            end
            self._exact[key].push(route)
        elif segments[0]["type"] == "static"
            let first = segments[0]["value"]
            if not self._by_first.contains(first)
                self._by_first[first] = []
            end
            insert_route(self._by_first[first], route)
        else
            insert_route(self._wild, route)
        end
        self
    end

    fun get(pattern, handler)
        self.add("GET", pattern, handler)
    end

    fun post(pattern, handler)
        self.add("POST", pattern, handler)
    end

    fun put(pattern, handler)
        self.add("PUT", pattern, handler)
    end

    fun delete(pattern, handler)
        self.add("DELETE", pattern, handler)
    end

    fun patch(pattern, handler)
        self.add("PATCH", pattern, handler)
    end

    fun head(pattern, handler)
        self.add("HEAD", pattern, handler)
    end

    fun options(pattern, handler)
        self.add("OPTIONS", pattern, handler)
    end

    fun any(pattern, handler)
        "Register handler for every method."
        self.add("*", pattern, handler)
    end

    fun lookup(method, path)
        "The route answering method and path, as {route, params}, or nil."
        let parts = path_parts(path)
        let exact = self._exact.get(parts.join("/"))
        if exact != nil
            let route = pick_method(exact, method)
            if route != nil
                return {"route": route, "params": {}}
            end
        end
        for group in self._candidates(parts)
            for r in group
                if method_matches(r["method"], method)
                    let params = match_parts(r["pattern_segments"], parts)
                    if params != nil
                        return {"route": r, "params": params}
                    end
                end
            end
        end
        nil
    end

    fun allowed_methods(path)
        """
        The methods of the routes whose pattern matches path, whatever the
        request's method ("*" for a route added with `any`).
        """
        let parts = path_parts(path)
        let methods = []
        for r in self._exact.get(parts.join("/")) or []
            if not methods.contains(r["method"])
                methods.push(r["method"])
            end
        end
        for group in self._candidates(parts)
            for r in group
                if not methods.contains(r["method"]) and match_parts(r["pattern_segments"], parts) != nil
                    methods.push(r["method"])
                end
            end
        end
        methods
    end

    # The lists of parameterised routes that may match parts, in order.
    fun _candidates(parts)
        if parts.len() > 0
            let group = self._by_first.get(parts[0])
            if group != nil
                return [group, self._wild]
            end
        end
        [self._wild]
    end

    fun _dispatch(req, not_found_handler)
        """
        Call the handler matching req["method"] and req["path"], with the
        captured parameters in req["params"], and return what it returns (a
        Task for an async handler).  Without a match: not_found_handler(req)
        when one is given, else nil.
        """
        let found = self.lookup(req["method"], req["path"])
        if found != nil
            req["params"] = found["params"]
            return found["route"]["handler"](req)
        end
        if not_found_handler != nil
            return not_found_handler(req)
        end
        nil
    end

    fun dispatch(req)
        """
        Like _dispatch, but hands back req itself when no route matches (the
        middleware convention: a request means "carry on").
        """
        let found = self.lookup(req["method"], req["path"])
        if found == nil
            return req
        end
        req["params"] = found["params"]
        found["route"]["handler"](req)
    end
end

pub fun dispatch_router(router, req)
    "router._dispatch(req, nil), as a function."
    router._dispatch(req, nil)
end
