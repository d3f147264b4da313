"""
std/web/middleware/cors — CORS as middleware, for apps that want it per
router or with their own rules (web.cors does the same for the whole app).

    use "std/web/middleware/cors"
    web.middleware(cors.allow_origins(["https://example.com"]))

create_cors returns {before, after}: `before` answers preflight requests
(OPTIONS with Access-Control-Request-Method) with 204 and the allowed
methods and headers; `after` adds Access-Control-Allow-Origin and the rest
to the responses for an allowed Origin.  web.middleware registers both.
"""

fun origin_for(req, origins)
    let headers = req.get("headers")
    if headers == nil
        return nil
    end
    let origin = headers.get("origin")
    if origins.contains("*")
        return "*"
    end
    if origin != nil and origins.contains(origin)
        return origin
    end
    nil
end

fun add_headers(headers, origin, methods, allowed_headers, credentials)
    headers["Access-Control-Allow-Origin"] = origin
    headers["Access-Control-Allow-Methods"] = methods.join(", ")
    headers["Access-Control-Allow-Headers"] = allowed_headers.join(", ")
    if origin != "*"
        headers["Vary"] = "Origin"
    end
    if credentials
        headers["Access-Control-Allow-Credentials"] = "true"
    end
end

pub fun create_cors(origins = ["*"], methods = ["GET", "POST", "PUT", "DELETE"],
                    headers = ["Content-Type", "Authorization"], credentials = false)
    """
    CORS middleware {before, after} for origins ("*" for any), answering
    preflights with methods and headers; credentials adds
    Access-Control-Allow-Credentials.
    """
    {
        "before": fun (req)
            let req_headers = req.get("headers")
            if req["method"] != "OPTIONS" or req_headers == nil or req_headers.get("access-control-request-method") == nil
                return req
            end
            let resp = {"status": 204, "headers": {}, "body": ""}
            let origin = origin_for(req, origins)
            if origin != nil
                add_headers(resp["headers"], origin, methods, headers, credentials)
            end
            resp
        end,
        "after": fun (req, resp)
            let origin = origin_for(req, origins)
            if origin == nil
                return resp
            end
            if resp.get("headers") == nil
                resp["headers"] = {}
            end
            add_headers(resp["headers"], origin, methods, headers, credentials)
            resp
        end
    }
end

pub fun allow_all()
    "CORS middleware allowing every origin."
    create_cors(origins: ["*"])
end

pub fun allow_origins(origins)
    "CORS middleware allowing the given origins."
    create_cors(origins: origins)
end
