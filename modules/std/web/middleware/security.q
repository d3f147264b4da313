"""
std/web/middleware/security — common security headers on every response.

    use "std/web/middleware/security"
    web.middleware(security.security_headers())

Adds X-Content-Type-Options: nosniff, X-Frame-Options: DENY,
X-XSS-Protection: 1; mode=block and Referrer-Policy:
strict-origin-when-cross-origin, unless the response sets them already.
"""

let HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-XSS-Protection": "1; mode=block",
    "Referrer-Policy": "strict-origin-when-cross-origin"
}

pub fun security_headers()
    "Middleware {after} adding the security headers."
    {
        "after": fun (req, resp)
            if resp.get("headers") == nil
                resp["headers"] = {}
            end
            let headers = resp["headers"]
            for name in HEADERS.keys()
                if not headers.contains(name)
                    headers[name] = HEADERS[name]
                end
            end
            resp
        end
    }
end

pub fun create_security_middleware()
    "The same as security_headers()."
    security_headers()
end
