# A small web site: pages with path parameters, a guestbook form, a static
# stylesheet, request timing middleware, custom error pages, and async
# handlers that wait without holding up the worker.
#
#   quest serve examples/web/app.q       then open http://127.0.0.1:3000/
#
# Module-level state (the guestbook) belongs to one worker: with several
# workers each keeps its own list.  A real app would use std/db.

use "std/async"
use "std/encoding/url"
use "std/io"
use "std/time"
use "std/web"

let here = io.dirname(__file__)
let guestbook = [{"name": "Quest", "message": "Welcome! Sign below."}]

fun escape(text)
    text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;").replace("'", "&#39;")
end

fun page(title, content)
    let html = "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>" .. escape(title) ..
        "</title><link rel=\"stylesheet\" href=\"/static/style.css\"></head><body>" ..
        "<nav><a href=\"/\">Home</a> <a href=\"/hello/world\">Hello</a> " ..
        "<a href=\"/slow\">Slow</a> <a href=\"/dashboard\">Dashboard</a></nav>" ..
        "<main>" .. content .. "</main></body></html>\n"
    {status: 200, headers: {"Content-Type": "text/html; charset=utf-8"}, body: html}
end

# ---- middleware -----------------------------------------------------------------------------

# Time every request and report it in a header.
web.middleware(fun (req)
    req["started_ms"] = time.ticks_ms()
    req
end)

web.after(fun (req, resp)
    let started = req.get("started_ms")
    if started != nil
        resp["headers"]["X-Response-Time"] = (time.ticks_ms() - started).str() .. "ms"
    end
    resp
end)

web.set_default_headers({"X-Content-Type-Options": "nosniff"})
web.static("/static", io.join(here, "public"))
web.redirect("/home", "/", web.HTTP_MOVED_PERMANENTLY)

# ---- pages ----------------------------------------------------------------------------------

web.get("/", fun (req)
    let items = []
    for entry in guestbook
        items.push("<li><b>" .. escape(entry["name"]) .. "</b>: " .. escape(entry["message"]) .. "</li>")
    end
    page("Guestbook",
        "<h1>Guestbook</h1><ul>" .. items.join("") .. "</ul>" ..
        "<form method=\"post\" action=\"/sign\">" ..
        "<input name=\"name\" placeholder=\"Name\"> <input name=\"message\" placeholder=\"Message\"> " ..
        "<button>Sign</button></form>")
end)

web.post("/sign", fun (req)
    let form = url.parse_query(req["body"])
    let name = (form.get("name") or "").trim()
    let message = (form.get("message") or "").trim()
    if name == "" or message == ""
        return {status: web.HTTP_BAD_REQUEST, body: "Name and message are both required."}
    end
    guestbook.push({"name": name, "message": message})
    # After a POST, send the browser back to the list (303: fetch it with GET).
    {status: web.HTTP_SEE_OTHER, headers: {"Location": "/"}}
end)

web.get("/hello/{name}", fun (req)
    let name = req["params"]["name"]
    page("Hello", "<h1>Hello, " .. escape(name) .. "!</h1><p>Try <a href=\"/square/12\">/square/12</a>.</p>")
end)

# {n<int>} only matches numbers: /square/abc is a 404.
web.get("/square/{n<int>}", fun (req)
    let n = req["params"]["n"]
    n.str() .. " squared is " .. (n * n).str()
end)

# ---- async handlers -------------------------------------------------------------------------

# Waiting here (for a timer, a database, another service) suspends only this
# request; the worker serves others meanwhile.
web.get("/slow", async fun (req)
    await async.sleep(0.5)
    page("Slow", "<h1>Done</h1><p>This page took half a second to make.</p>")
end)

async fun fetch_widget(name, seconds)
    await async.sleep(seconds)
    name .. " (" .. seconds.str() .. "s)"
end

# Two waits at once: the page takes as long as the slower one, not the sum.
web.get("/dashboard", async fun (req)
    let widgets = await async.join_all([fetch_widget("weather", 0.3), fetch_widget("news", 0.2)])
    page("Dashboard", "<h1>Dashboard</h1><p>" .. widgets.join(", ") .. "</p>")
end)

web.get("/broken", fun (req)
    raise RuntimeErr.new("this page is broken on purpose")
end)

# ---- errors ---------------------------------------------------------------------------------

web.on_error(404, fun (req)
    let resp = page("Not found", "<h1>Not found</h1><p>Nothing lives at " .. escape(req["path"]) .. ".</p>")
    resp["status"] = 404
    resp
end)

web.on_error(500, fun (req, message)
    # message is for the log; visitors get a generic page.
    let resp = page("Error", "<h1>Something went wrong</h1><p>We are looking into it.</p>")
    resp["status"] = 500
    resp
end)

# `quest serve` is already serving the app, so web.run() does nothing there;
# run as a plain script, it starts the server when the build has one.
try
    web.run()
catch e: RuntimeErr
    puts(e.message())
end
