"""
std/web/middleware/static_cache — Cache-Control for asset paths served by
routes (files served by web.static are answered by the server before any
middleware runs).

    use "std/web/middleware/static_cache"
    web.middleware(static_cache.cache_one_day())
"""

let DEFAULT_EXTENSIONS = [".css", ".js", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".ico",
                          ".woff", ".woff2", ".ttf", ".otf", ".eot"]

pub fun static_cache(max_age = 3600, extensions = nil)
    """
    Middleware {after} setting Cache-Control: public, max-age=<max_age> on
    responses to paths ending with one of extensions (common asset types by
    default).
    """
    let suffixes = extensions or DEFAULT_EXTENSIONS
    let value = "public, max-age=" .. max_age.str()
    {
        "after": fun (req, resp)
            let path = req.get("path") or ""
            for suffix in suffixes
                if path.endswith(suffix)
                    if resp.get("headers") == nil
                        resp["headers"] = {}
                    end
                    resp["headers"]["Cache-Control"] = value
                    return resp
                end
            end
            resp
        end
    }
end

pub fun cache_one_day()
    "static_cache for 86400 seconds."
    static_cache(max_age: 86400)
end

pub fun cache_one_week()
    "static_cache for 604800 seconds."
    static_cache(max_age: 604800)
end

pub fun no_cache()
    "static_cache with max-age=0."
    static_cache(max_age: 0)
end
