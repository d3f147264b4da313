# std/markdown: CommonMark with GitHub's tables, strikethrough, task lists
# and footnotes, raw HTML passed through, and the reference's heading
# anchors on levels 1-4.

use "std/test" {module, describe, it, assert, assert_eq, assert_raises}
use "std/markdown"

module("std/markdown")

fun has(html, part)
    assert(html.contains(part), "expected " .. part._rep() .. " in " .. html._rep())
end

describe("CommonMark", fun ()
    it("renders paragraphs, emphasis, links and code", fun ()
        assert_eq(markdown.to_html("Some *em* and **strong** text."), "<p>Some <em>em</em> and <strong>strong</strong> text.</p>\n")
        assert_eq(markdown.to_html("[site](https://example.com) `x < y`"), "<p><a href=\"https://example.com\">site</a> <code>x &lt; y</code></p>\n")
        assert_eq(markdown.to_html(""), "")
    end)

    it("marks fenced code with its language", fun ()
        assert_eq(markdown.to_html("```rust\nfn main() {}\n```\n"), "<pre><code class=\"language-rust\">fn main() {}\n</code></pre>\n")
    end)

    it("lists and block quotes", fun ()
        assert_eq(markdown.to_html("- a\n- b\n"), "<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n")
        assert_eq(markdown.to_html("1. one\n"), "<ol>\n<li>one</li>\n</ol>\n")
        assert_eq(markdown.to_html("> quoted\n"), "<blockquote>\n<p>quoted</p>\n</blockquote>\n")
    end)

    it("passes raw HTML through, as the reference does", fun ()
        assert_eq(markdown.to_html("<div class=\"box\">raw</div>\n"), "<div class=\"box\">raw</div>\n")
        has(markdown.to_html("a <span>b</span>"), "<span>b</span>")
    end)
end)

describe("GitHub extensions", fun ()
    it("tables", fun ()
        let html = markdown.to_html("| a | b |\n|---|--:|\n| 1 | 2 |\n")
        has(html, "<table>")
        has(html, "<th>a</th>")
        has(html, "<td>1</td>")
        has(html, "align=\"right\"")
    end)

    it("strikethrough", fun ()
        assert_eq(markdown.to_html("~~gone~~ here"), "<p><del>gone</del> here</p>\n")
    end)

    it("task lists", fun ()
        let html = markdown.to_html("- [x] done\n- [ ] todo\n")
        has(html, "<input type=\"checkbox\" checked=\"\" disabled=\"\" /> done")
        has(html, "<input type=\"checkbox\" disabled=\"\" /> todo")
    end)

    it("footnotes", fun ()
        let html = markdown.to_html("Claim[^1].\n\n[^1]: Source.\n")
        has(html, "<sup class=\"footnote-ref\"><a href=\"#fn-1\"")
        has(html, "<section class=\"footnotes\"")
        has(html, "Source.")
    end)

    it("does not turn bare URLs into links (as the reference)", fun ()
        assert_eq(markdown.to_html("see https://example.com"), "<p>see https://example.com</p>\n")
    end)
end)

describe("heading anchors", fun ()
    it("adds a kebab-case anchor to headings of levels 1 to 4", fun ()
        assert_eq(markdown.to_html("## Getting Started!"), "<h2>Getting Started! <a href=\"#getting-started\" class=\"heading-anchor\" aria-label=\"Link to section: Getting Started!\">#</a></h2>\n")
        has(markdown.to_html("#### Four - and  more"), "href=\"#four-and-more\"")
        assert_eq(markdown.to_html("##### Five"), "<h5>Five</h5>\n")
    end)

    it("builds the anchor from the heading's text only", fun ()
        let html = markdown.to_html("# Use `code` & \"quotes\"")
        has(html, "href=\"#use-quotes\"")
        has(html, "aria-label=\"Link to section: Use  &amp; &quot;quotes&quot;\"")
    end)
end)

describe("errors", fun ()
    it("needs a string", fun ()
        assert_raises(RuntimeErr, fun () markdown.to_html(42) end)
        assert_raises(ArgErr, fun () markdown.to_html() end)
    end)
end)
