# Templates: render a 100-row page (a loop, an include per row, filters,
# auto-escaping) 3000 times with Jinja2 -- the peer of page.q.
import os

from jinja2 import Environment, FileSystemLoader


def context():
    rows = []
    for i in range(100):
        rows.append({
            "n": i + 1,
            "name": "user number %d" % i,
            "email": "user%d@example.com" % i,
            "price": i * 1.37 + 0.005,
            "tags": ["alpha", "beta & co", "<gamma>"],
            "active": i % 4 != 0,
            "bio": "Writes <b>templates</b> & benchmarks for a living, mostly at night; %d" % i,
        })
    return {"title": "User directory", "rows": rows, "active": 75, "footer": "Rendered by quest"}


here = os.path.dirname(os.path.abspath(__file__))
env = Environment(loader=FileSystemLoader(os.path.join(here, "jinja")), autoescape=True)
tmpl = env.get_template("page.html")
ctx = context()
size = 0
for n in range(3000):
    size = len(tmpl.render(ctx))
print(size)
