# Bookmarks: a small CRUD web app on SQLite.  HTML pages rendered from
# templates, plain HTML forms (no JavaScript), and a JSON view of the same
# data.  Every worker opens its own pool on the same database file; SQLite
# lets them all read at once and queues the writes.
#
#   quest serve examples/bookmarks/app.q      then open http://127.0.0.1:3000/
#   BOOKMARKS_DB=/tmp/b.db quest serve ...    (default: bookmarks.db here)
#   curl http://127.0.0.1:3000/api/bookmarks
#
# Routes:
#   GET  /                     the list, newest first (?tag=x filters)
#   GET  /new                  the form for a new bookmark
#   POST /bookmarks            create it (form fields: title, url, tags)
#   GET  /bookmarks/{id}/edit  the form for an existing one
#   POST /bookmarks/{id}       update it
#   POST /bookmarks/{id}/delete
#   GET  /api/bookmarks        all of them as JSON

use "std/db/sqlite"
use "std/db/sqlite" {IntegrityErr}
use "std/encoding/url"
use "std/html/templates"
use "std/io"
use "std/os"
use "std/web"

let here = io.dirname(__file__)
let pages = templates.from_dir(io.join(here, "templates") .. "/*.html")
let db = sqlite.open(os.getenv("BOOKMARKS_DB") or io.join(here, "bookmarks.db"), pool: 4)

# Workers start at the same time; the schema statement is idempotent and
# SQLite serialises it behind the write lock.
await db.execute("""CREATE TABLE IF NOT EXISTS bookmarks (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    url TEXT NOT NULL UNIQUE,
    tags TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL DEFAULT (datetime('now')))""")

fun html(status, name, context)
    {status: status, headers: {"Content-Type": "text/html; charset=utf-8"},
     body: pages.render(name, context)}
end

fun see_other(location)
    {status: web.HTTP_SEE_OTHER, headers: {"Location": location}}
end

# The submitted form: {fields: {title, url, tags}, problems: [what is wrong]}.
fun read_form(req)
    let form = url.parse_query(req["body"] or "")
    let fields = {
        "title": (form.get("title") or "").trim(),
        "url": (form.get("url") or "").trim(),
        "tags": (form.get("tags") or "").split(",").map(fun (t) t.trim().lower() end)
                    .filter(fun (t) t != "" end).join(",")
    }
    let problems = []
    if fields["title"] == ""
        problems.push("The title is empty.")
    end
    if not (fields["url"].startswith("http://") or fields["url"].startswith("https://"))
        problems.push("The address must start with http:// or https://.")
    end
    if fields["title"].len() > 200 or fields["url"].len() > 2000
        problems.push("The title or the address is too long.")
    end
    {fields: fields, problems: problems}
end

# Shape a row for the templates: tags as a list.
fun present(row)
    row["tag_list"] = row["tags"].split(",").filter(fun (t) t != "" end)
    row
end

async fun find(id)
    await db.fetch_one("SELECT id, title, url, tags, created_at FROM bookmarks WHERE id = ?", [id])
end

fun not_found(id)
    html(404, "missing.html", {"id": id})
end

web.get("/", async fun (req)
    let tag = req["query"].get("tag")
    let rows = nil
    if tag != nil and tag != ""
        rows = await db.fetch_all("SELECT id, title, url, tags, created_at FROM bookmarks " ..
            "WHERE ',' || tags || ',' LIKE ? ORDER BY id DESC", ["%," .. tag .. ",%"])
    else
        rows = await db.fetch_all("SELECT id, title, url, tags, created_at FROM bookmarks ORDER BY id DESC")
    end
    html(200, "list.html", {"bookmarks": rows.map(present), "tag": tag})
end)

web.get("/new", fun (req)
    html(200, "form.html", {"action": "/bookmarks", "fields": {"title": "", "url": "", "tags": ""}, "problems": []})
end)

web.post("/bookmarks", async fun (req)
    let form = read_form(req)
    let fields = form["fields"]
    let problems = form["problems"]
    if problems.len() == 0
        try
            let id = await db.fetch_val("INSERT INTO bookmarks (title, url, tags) VALUES (?, ?, ?) RETURNING id",
                                        [fields["title"], fields["url"], fields["tags"]])
            return see_other("/#b" .. id.str())
        catch e: IntegrityErr
            problems.push("That address is bookmarked already.")
        end
    end
    html(422, "form.html", {"action": "/bookmarks", "fields": fields, "problems": problems})
end)

web.get("/bookmarks/{id<int>}/edit", async fun (req)
    let id = req["params"]["id"]
    let row = await find(id)
    if row == nil
        return not_found(id)
    end
    html(200, "form.html", {"action": "/bookmarks/" .. id.str(), "fields": row, "problems": []})
end)

web.post("/bookmarks/{id<int>}", async fun (req)
    let id = req["params"]["id"]
    let form = read_form(req)
    let fields = form["fields"]
    let problems = form["problems"]
    if problems.len() == 0
        try
            let changed = await db.execute("UPDATE bookmarks SET title = ?, url = ?, tags = ? WHERE id = ?",
                                           [fields["title"], fields["url"], fields["tags"], id])
            if changed == 0
                return not_found(id)
            end
            return see_other("/#b" .. id.str())
        catch e: IntegrityErr
            problems.push("Another bookmark has that address.")
        end
    end
    html(422, "form.html", {"action": "/bookmarks/" .. id.str(), "fields": fields, "problems": problems})
end)

web.post("/bookmarks/{id<int>}/delete", async fun (req)
    let id = req["params"]["id"]
    if await db.execute("DELETE FROM bookmarks WHERE id = ?", [id]) == 0
        return not_found(id)
    end
    see_other("/")
end)

web.get("/api/bookmarks", async fun (req)
    let rows = await db.fetch_all("SELECT id, title, url, tags, created_at FROM bookmarks ORDER BY id")
    {json: {"bookmarks": rows.map(present), "count": rows.len()}}
end)

web.run()
