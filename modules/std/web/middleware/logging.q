"""
std/web/middleware/logging — an access log through std/log.

    use "std/web/middleware/logging"
    web.middleware(logging.create_logger("web.access", format: "combined"))

create_logger returns {before, after}: `before` notes the start time,
`after` logs one line per request at INFO (WARNING for 4xx, ERROR for 5xx).
Formats: "clf" (Apache common log format), "combined" (clf with referer and
user agent), "detailed" ("<ip> <METHOD> <path> - <status> (<ms>ms)").  The
client IP is the first X-Forwarded-For entry when there is one.
"""

use "std/log"
use "std/time"

fun client_ip(req)
    let headers = req.get("headers")
    if headers != nil and headers.get("x-forwarded-for") != nil
        return headers["x-forwarded-for"].split(",")[0].trim()
    end
    req.get("client_ip") or "unknown"
end

fun response_length(resp)
    let headers = resp.get("headers")
    if headers != nil and headers.get("Content-Length") != nil
        return headers["Content-Length"].str()
    end
    let body = resp.get("body")
    if body != nil and (body.cls() == "Str" or body.cls() == "Bytes")
        return body.len().str()
    end
    "-"
end

fun format_line(req, resp, ms, format)
    let ip = client_ip(req)
    let method = req.get("method") or "-"
    let target = req.get("path") or "/"
    let query = req.get("query_string") or ""
    if query != ""
        target = target .. "?" .. query
    end
    let status = (resp.get("status") or 0).str()
    if format == "detailed"
        return ip .. " " .. method .. " " .. target .. " - " .. status .. " (" .. ms.str() .. "ms)"
    end
    let stamp = time.now_local().format("[%d/%b/%Y:%H:%M:%S %z]")
    let version = req.get("version") or "HTTP/1.1"
    let line = ip .. " - - " .. stamp .. " \"" .. method .. " " .. target .. " " .. version .. "\" " ..
        status .. " " .. response_length(resp)
    if format == "combined"
        let referer = req.get("referer") or "-"
        let agent = req.get("user_agent") or "-"
        line = line .. " \"" .. referer .. "\" \"" .. agent .. "\""
    end
    line
end

pub fun create_logger(logger_name = "web.access", format = "clf", include_headers = false)
    """
    Access-log middleware {before, after} writing to the std/log logger
    logger_name in format ("clf", "combined" or "detailed"); include_headers
    adds the request headers at DEBUG level.
    """
    if not ["clf", "combined", "detailed"].contains(format)
        raise ValueErr.new("Unknown access log format '" .. format .. "' (use clf, combined or detailed)")
    end
    let logger = log.get_logger(logger_name)
    {
        "before": fun (req)
            req["_log_start_ms"] = time.ticks_ms()
            req
        end,
        "after": fun (req, resp)
            let start = req.get("_log_start_ms") or time.ticks_ms()
            let line = format_line(req, resp, time.ticks_ms() - start, format)
            let status = resp.get("status") or 0
            if status >= 500
                logger.error(line)
            elif status >= 400
                logger.warning(line)
            else
                logger.info(line)
            end
            let headers = req.get("headers")
            if include_headers and headers != nil
                for name in headers.keys()
                    logger.debug("  " .. name .. ": " .. headers[name].str())
                end
            end
            resp
        end
    }
end

pub fun simple_logger()
    "create_logger in the detailed format."
    create_logger("web.access", format: "detailed")
end

pub fun detailed_logger()
    "create_logger in the detailed format, with request headers at DEBUG."
    create_logger("web.access", format: "detailed", include_headers: true)
end

pub fun apache_logger()
    "create_logger in the combined format."
    create_logger("web.access", format: "combined")
end
