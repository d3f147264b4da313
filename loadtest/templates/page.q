# Templates: render a 100-row page (a loop, an include per row, filters,
# auto-escaping) 3000 times with std/html/templates.  page.py does the same
# with Python's Jinja2 on the equivalent templates in jinja/.
use "std/html/templates"

fun context()
    let rows = []
    for i in 0 until 100
        rows.push({
            "n": i + 1,
            "name": "user number " .. i,
            "email": "user" .. i .. "@example.com",
            "price": i * 1.37 + 0.005,
            "tags": ["alpha", "beta & co", "<gamma>"],
            "active": i % 4 != 0,
            "bio": "Writes <b>templates</b> & benchmarks for a living, mostly at night; " .. i
        })
    end
    {"title": "User directory", "rows": rows, "active": 75, "footer": "Rendered by quest"}
end

let tmpl = templates.from_dir("loadtest/templates/tera/*.html")
let ctx = context()
let size = 0
for n in 0 until 3000
    size = tmpl.render("page.html", ctx).len()
end
puts(size)
