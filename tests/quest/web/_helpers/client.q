# Drives std/web the way the server does: builds request Dicts with every
# key the server fills in, hands them to web._handle and waits for the
# response.  Standard error is captured while a request runs, so the error
# log of a failing handler can be checked (and stays out of the test output).

use "std/async"
use "std/io"
use "std/sys"
use "std/web"

let last_log = ""

# The query string as the server decodes it: pairs split at the first "=",
# both sides percent-decoded, a repeated key keeping its last value.
fun parse_query(text)
    let query = {}
    for pair in text.split("&")
        if pair != ""
            let eq = pair.index_of("=")
            if eq < 0
                query[pair._url_decode()] = ""
            else
                query[pair.slice(0, eq)._url_decode()] = pair.slice(eq + 1, pair.len())._url_decode()
            end
        end
    end
    query
end

pub fun request(method, path, headers = nil, body = "")
    let query_string = ""
    let q = path.index_of("?")
    if q >= 0
        query_string = path.slice(q + 1, path.len())
        path = path.slice(0, q)
    end
    {
        "method": method,
        "path": path,
        "query_string": query_string,
        "query": parse_query(query_string),
        "headers": headers or {},
        "body": body,
        "cookies": {},
        "client_ip": "127.0.0.1",
        "remote_addr": "127.0.0.1",
        "version": "HTTP/1.1",
        "scheme": "http",
        "host": "localhost",
        "user_agent": "",
        "referer": "",
        "content_type": "",
        "content_length": body.len()
    }
end

# The response to req, after waiting for web._handle's Task.
pub fun handle(req)
    let buf = io.StringIO.new()
    let resp = nil
    with sys.redirect_stream(sys.stderr, buf)
        resp = async.block_on(web._handle(req))
    end
    last_log = buf.get_value()
    resp
end

pub fun send(method, path, headers = nil, body = "")
    handle(request(method, path, headers, body))
end

# What the last request wrote to stderr.
pub fun log()
    last_log
end

# The value of header name in resp, in any letter case, or nil.
pub fun header(resp, name)
    let headers = resp.get("headers") or {}
    for key in headers.keys()
        if key.lower() == name.lower()
            return headers[key]
        end
    end
    nil
end

# The response to req with fallback as the app's handle_request.
pub fun handle_with(req, fallback)
    async.block_on(web._handle(req, fallback))
end
