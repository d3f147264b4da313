# The templates example: build a small blog's front page from Markdown posts
# with std/html/templates and std/markdown, and print the HTML.
#
#   quest examples/templates/render.q > /tmp/blog.html
#
# templates/base.html is the layout, index.html extends it and includes
# partials/post_card.html once per post; posts/*.md are the articles, each
# starting with a "Title: ..." and a "Tags: a, b" line.
use "std/html/templates"
use "std/markdown"
use "std/io"
use "std/sys"

# This script's directory, so the example runs from anywhere.
let parts = sys.script_path.split("/")
let here = parts.slice(0, parts.len() - 1).join("/")
if here == ""
    here = "."
end

# "Title: x\nTags: a, b\n\nbody" -> {title, slug, tags, html, words}
fun load_post(path)
    let lines = io.read(path).split("\n")
    let title = lines[0].replace("Title: ", "")
    let tags = lines[1].replace("Tags: ", "").split(", ")
    let body = lines.slice(2, lines.len()).join("\n")
    let name = path.split("/")[-1]
    {
        "title": title,
        "slug": name.replace(".md", ""),
        "tags": tags,
        "html": markdown.to_html(body),
        "words": body.split(" ").len()
    }
end

let posts = []
for path in io.glob(here .. "/posts/*.md")
    posts.push(load_post(path))
end

let tmpl = templates.from_dir(here .. "/templates/**/*.html")
puts(tmpl.render("index.html", {
    "site": {"name": "Quest Notes", "tagline": "Small programs & <big> ideas"},
    "posts": posts,
    "author": nil
}))
