# std/html/templates: the Tera-compatible engine — every tag, the filters
# real apps use, auto-escaping, inheritance three levels deep, includes,
# macros, and malformed templates reported with their line and column.
# Fixture templates live in tests/quest/fixtures/templates (paths are
# relative to the repository root, where the tests run).

use "std/test" {module, describe, it, assert, assert_eq, assert_raises}
use "std/html/templates"

module("std/html/templates")

let fixtures = "tests/quest/fixtures/templates"

# Render a one-off template (never auto-escaped).
fun r(src, ctx = {})
    templates.create().render_str(src, ctx)
end

# Render src registered under `name` (escaped when name ends in .html).
fun rn(name, src, ctx = {})
    let t = templates.create()
    t.add_template(name, src)
    t.render(name, ctx)
end

# The message of what f raises, or nil.
fun error_of(f)
    try
        f()
    catch e
        return e.message()
    end
    nil
end

describe("engines", fun ()
    it("creates an HtmlTemplate", fun ()
        let t = templates.create()
        assert_eq(t.cls(), "HtmlTemplate")
        assert_eq(t.get_template_names(), [])
    end)

    it("loads a glob, naming templates relative to its directory", fun ()
        let t = templates.from_dir(fixtures .. "/**/*.html")
        let names = t.get_template_names()
        assert(names.contains("base.html"), "base.html")
        assert(names.contains("pages/post.html"), "nested names keep their directory")
        assert(names.contains("partials/tag.html"), "partials")
        assert_eq(names.len(), 6)
    end)

    it("loads only what the glob matches", fun ()
        let t = templates.from_dir(fixtures .. "/*.html")
        assert_eq(t.get_template_names().contains("pages/post.html"), false)
        assert_eq(templates.from_dir(fixtures .. "/{base,layout}.html").get_template_names().len(), 2)
        assert_eq(templates.from_dir("no/such/dir/*.html").get_template_names(), [])
    end)

    it("adds templates from strings and files, replacing by name", fun ()
        let t = templates.create()
        t.add_template("a", "one")
        t.add_template("a", "two")
        t.add_template_file("tag", fixtures .. "/partials/tag.html")
        assert_eq(t.get_template_names(), ["a", "tag"])
        assert_eq(t.render("a", {}), "two")
        assert_raises(RuntimeErr, fun () t.add_template_file("x", "/no/such/file.html") end)
    end)

    it("requires a Dict context and a known template", fun ()
        let t = templates.create()
        t.add_template("a", "x")
        assert_raises(RuntimeErr, fun () t.render("a", [1]) end)
        assert_raises(RuntimeErr, fun () t.render_str("x", nil) end)
        assert_eq(error_of(fun () t.render("zz", {}) end), "Template error: Template 'zz' not found")
    end)
end)

describe("variables and expressions", fun ()
    it("prints values as Tera does", fun ()
        assert_eq(r("{{ s }}|{{ i }}|{{ f }}|{{ w }}|{{ b }}|{{ n }}", {"s": "x", "i": 42, "f": 2.5, "w": 100.0, "b": true, "n": nil}), "x|42|2.5|100|true|")
        assert_eq(r("{{ a }}|{{ d }}", {"a": [1, "x", [2]], "d": {"k": 1}}), "[1, x, [2]]|[object]")
        assert_eq(r("{{ dec }}|{{ big }}", {"dec": Decimal.new("1.25"), "big": 12345678901234567890n}), "1.25|12345678901234567890")
    end)

    it("reads attributes, indexes and brackets", fun ()
        let ctx = {"user": {"profile": {"name": "Ann"}}, "items": [{"v": 1}, {"v": 2}], "key": "name"}
        assert_eq(r("{{ user.profile.name }}|{{ items.1.v }}|{{ items[0].v }}|{{ user.profile[key] }}|{{ user['profile'].name }}", ctx), "Ann|2|1|Ann|Ann")
    end)

    it("does arithmetic with Int and Float as Tera", fun ()
        assert_eq(r("{{ 1 + 2 }}|{{ 7 - 10 }}|{{ 3 * 4 }}|{{ 10 / 4 }}|{{ 10 / 2 }}|{{ 7 % 3 }}|{{ 1.5 + 1 }}"), "3|-3|12|2.5|5|1|2.5")
        assert_eq(r("{{ 2 + 3 * 4 }}|{{ (2 + 3) * 4 }}|{{ -x }}", {"x": 2}), "14|20|-2")
        assert_raises(RuntimeErr, fun () r("{{ 9223372036854775807 + 1 }}") end)
        assert_raises(RuntimeErr, fun () r("{{ 1 % 0 }}") end)
        assert_raises(RuntimeErr, fun () r("{{ 'a' * 2 }}") end)
    end)

    it("applies a filter to the whole arithmetic on its left", fun ()
        assert_eq(r("{{ price * 3 | round(precision=2) }}", {"price": 1.111}), "3.33")
        assert_eq(r("{{ items | length + 1 }}", {"items": [1, 2]}), "3")
    end)

    it("compares, tests membership and combines conditions", fun ()
        assert_eq(r("{{ 1 == 1.0 }}|{{ 'a' != 'b' }}|{{ 2 >= 3 }}|{{ [1, 2] == [1, 2] }}|{{ 1 == '1' }}"), "true|true|false|true|false")
        assert_eq(r("{{ 'ell' in 'hello' }}|{{ 2 in [1, 2] }}|{{ 'k' in d }}|{{ 3 not in [3] }}", {"d": {"k": 1}}), "true|true|true|false")
        assert_eq(r("{{ true and not false }}|{{ false or 1 > 0 }}"), "true|true")
        assert_raises(RuntimeErr, fun () r("{{ 'a' < 'b' }}") end)
    end)

    it("concatenates strings and numbers with ~", fun ()
        assert_eq(r("{{ 'n=' ~ n ~ '/' ~ 1.5 }}", {"n": 3}), "n=3/1.5")
        assert_raises(RuntimeErr, fun () r("{{ 'a' ~ l }}", {"l": [1]}) end)
    end)

    it("errors on an undefined name in {{ }}, naming template, line and column", fun ()
        let msg = error_of(fun () rn("page.html", "line one\n  {{ user.name }}") end)
        assert_eq(msg, "Template error: Failed to render 'page.html' (line 2, column 6): Variable `user.name` not found in context while rendering 'page.html'")
        assert_raises(RuntimeErr, fun () r("{{ d.missing }}", {"d": {}}) end)
    end)

    it("treats an undefined name as false in a condition and true under not", fun ()
        assert_eq(r("{% if nope %}y{% else %}n{% endif %}|{% if not nope %}y{% endif %}|{% if nope.deep and x %}y{% endif %}"), "n|y|")
        assert_eq(r("{% if d.x %}y{% else %}n{% endif %}", {"d": {}}), "n")
    end)

    it("tests values with is", fun ()
        assert_eq(r("{{ x is defined }}|{{ y is defined }}|{{ y is not defined }}|{{ x is number }}|{{ s is string }}", {"x": 1, "s": "t"}), "true|false|true|true|true")
        assert_eq(r("{{ n is odd }}|{{ n is even }}|{{ n is divisibleby(3) }}|{{ d is object }}|{{ l is iterable }}", {"n": 3, "d": {}, "l": []}), "true|false|true|true|true")
        assert_eq(r("{{ s is starting_with('ab') }}|{{ s is ending_with('z') }}|{{ s is containing('bc') }}|{{ s is matching('^a.c') }}", {"s": "abc"}), "true|false|true|true")
    end)

    it("calls the built-in functions", fun ()
        assert_eq(r("{{ range(end=3) }}|{{ range(start=1, end=8, step_by=3) }}"), "[0, 1, 2]|[1, 4, 7]")
        assert_eq(r("{{ get_env(name='QUEST_NO_SUCH_VAR', default='dflt') }}"), "dflt")
        assert_eq(r("{{ now(timestamp=true) > 1600000000 }}"), "true")
        let msg = error_of(fun () r("{{ throw(message='stop here') }}") end)
        assert(msg.contains("stop here"), msg)
    end)
end)

describe("tags", fun ()
    it("if / elif / else", fun ()
        let src = "{% if n > 10 %}big{% elif n > 0 %}small{% else %}none{% endif %}"
        assert_eq(r(src, {"n": 11}), "big")
        assert_eq(r(src, {"n": 1}), "small")
        assert_eq(r(src, {"n": 0}), "none")
        assert_eq(r("{% if '' or [] or 0 or nil_v %}t{% else %}f{% endif %}", {"nil_v": nil}), "f")
    end)

    it("for with loop.index, index0, first, last and length", fun ()
        let src = "{% for x in xs %}{{ loop.index }}{{ loop.index0 }}{% if loop.first %}F{% endif %}{% if loop.last %}L{% endif %}/{{ loop.length }} {% endfor %}"
        assert_eq(r(src, {"xs": ["a", "b", "c"]}), "10F/3 21/3 32L/3 ")
    end)

    it("for over dicts (sorted keys), strings and literals, with else", fun ()
        assert_eq(r("{% for k, v in d %}{{ k }}={{ v }};{% endfor %}", {"d": {"b": 2, "a": 1}}), "a=1;b=2;")
        assert_eq(r("{% for c in 'héj' %}[{{ c }}]{% endfor %}"), "[h][é][j]")
        assert_eq(r("{% for i in [1, 2,] %}{{ i }}{% endfor %}"), "12")
        assert_eq(r("{% for i in xs %}{{ i }}{% else %}empty{% endfor %}", {"xs": []}), "empty")
        assert_raises(RuntimeErr, fun () r("{% for x in d %}{% endfor %}", {"d": {"a": 1}}) end)
        assert_raises(RuntimeErr, fun () r("{% for x in n %}{% endfor %}", {"n": 5}) end)
    end)

    it("break and continue", fun ()
        assert_eq(r("{% for i in range(end=10) %}{% if i == 1 %}{% continue %}{% endif %}{% if i == 4 %}{% break %}{% endif %}{{ i }}{% endfor %}"), "023")
    end)

    it("nested loops see their own loop variable", fun ()
        assert_eq(r("{% for a in [1, 2] %}{% for b in [1, 2] %}{{ loop.index }}{% endfor %}{{ loop.index }};{% endfor %}"), "121;122;")
    end)

    it("set is scoped to the loop iteration, set_global is not", fun ()
        let src = "{% set x = 'top' %}{% for i in [1, 2] %}{% set x = i %}{% set_global last = i %}{{ x }}{% endfor %}|{{ x }}|{{ last }}"
        assert_eq(r(src), "12|top|2")
        assert_eq(r("{% set total = 1 + 2 %}{% set list = [total, 'x'] %}{{ list }}"), "[3, x]")
    end)

    it("raw, comments and whitespace control", fun ()
        assert_eq(r("{% raw %}{{ not_rendered }}{% endraw %}"), "{{ not_rendered }}")
        assert_eq(r("a{# a comment #}b"), "ab")
        assert_eq(r("a  {%- if true -%}  b  {%- endif -%}  c"), "abc")
        assert_eq(r("<{{- ' x ' -}}>|{#- c -#} y"), "< x >|y")
        assert_eq(r("a\n{% if true %}\nb\n{% endif %}\n"), "a\n\nb\n\n")
    end)

    it("filter sections", fun ()
        assert_eq(r("{% filter upper %}hi {{ n }}{% endfilter %}", {"n": "there"}), "HI THERE")
        assert_eq(r("{% filter replace(from='a', to='o') %}banana{% endfilter %}"), "bonono")
    end)

    it("macros with defaults, imports and self::", fun ()
        let t = templates.from_dir(fixtures .. "/*.html")
        assert_eq(t.render("form.html", {}), "<form><input type=\"text\" name=\"user\" value=\"\"><input type=\"password\" name=\"pw\" value=\"\"></form>\n")
        assert_eq(r("{% macro f(n) %}{% if n > 1 %}{{ n }}*{{ self::f(n=n - 1) }}{% else %}1{% endif %}{% endmacro %}{{ self::f(n=4) }}"), "4*3*2*1")
        assert_raises(RuntimeErr, fun () r("{% macro f(n) %}{{ n }}{% endmacro %}{{ self::f() }}") end)
    end)
end)

describe("inheritance and include", fun ()
    it("extends three levels deep with super() at each", fun ()
        let t = templates.from_dir(fixtures .. "/**/*.html")
        let html = t.render("pages/post.html", {"title": "Post", "post": {"title": "Hi & bye", "tags": ["a", "b"]}})
        assert_eq(html, "<!DOCTYPE html>\n<title>Post - Site</title>\n<main><div class=\"layout\"><h1>Hi &amp; bye</h1><p><a href=\"/tag/a\">1.a</a>, \n<a href=\"/tag/b\">2.b</a>\n</p></div></main>\n<footer>base footer + post footer</footer>\n")
    end)

    it("resolves nested blocks and super() through every level (Tera's example)", fun ()
        let t = templates.create()
        t.add_template("grandparent", "{% block hey %}hello{% endblock hey %}")
        t.add_template("parent", "{% extends \"grandparent\" %}{% block hey %}hi and grandma says {{ super() }} {% block ending %}sincerely{% endblock ending %}{% endblock hey %}")
        t.add_template("child", "{% extends \"parent\" %}{% block hey %}dad says {{ super() }}{% endblock hey %}{% block ending %}{{ super() }} with love{% endblock ending %}")
        assert_eq(t.render("child", {}), "dad says hi and grandma says hello sincerely with love")
        assert_eq(t.render("parent", {}), "hi and grandma says hello sincerely")
    end)

    it("renders the parent's default blocks and ignores text outside blocks", fun ()
        let t = templates.create()
        t.add_template("base", "[{% block a %}A{% endblock %}|{% block b %}B{% endblock %}]")
        t.add_template("kid", "{% extends \"base\" %}ignored {% set x = 1 %}{% block b %}b{% endblock %}")
        assert_eq(t.render("kid", {}), "[A|b]")
    end)

    it("reports a missing parent and circular extends", fun ()
        let t = templates.create()
        t.add_template("orphan", "{% extends \"nobody\" %}")
        assert_raises(RuntimeErr, fun () t.render("orphan", {}) end)
        t.add_template("x", "{% extends \"y\" %}")
        t.add_template("y", "{% extends \"x\" %}")
        let msg = error_of(fun () t.render("x", {}) end)
        assert(msg.contains("Circular extend"), msg)
    end)

    it("include sees the caller's context and loop variables, not the other way", fun ()
        let t = templates.create()
        t.add_template("item", "<{{ loop.index }}:{{ post.title }}:{{ site }}>{% set inner = 1 %}")
        t.add_template("list", "{% for post in posts %}{% include \"item\" %}{% endfor %}{{ inner is defined }}")
        assert_eq(t.render("list", {"site": "S", "posts": [{"title": "a"}, {"title": "b"}]}), "<1:a:S><2:b:S>false")
    end)

    it("include with a list of names and ignore missing", fun ()
        let t = templates.create()
        t.add_template("b", "B")
        t.add_template("p", "{% include [\"a\", \"b\"] %}|{% include \"zz\" ignore missing %}|")
        assert_eq(t.render("p", {}), "B||")
        t.add_template("q", "{% include \"zz\" %}")
        let msg = error_of(fun () t.render("q", {}) end)
        assert(msg.contains("Template '[zz]' not found"), msg)
    end)

    it("stops a circular include", fun ()
        let t = templates.create()
        t.add_template("self", "x{% include \"self\" %}")
        assert_raises(RuntimeErr, fun () t.render("self", {}) end)
    end)

    it("render_str can extend registered templates", fun ()
        let t = templates.create()
        t.add_template("base", "<{% block c %}{% endblock %}>")
        assert_eq(t.render_str("{% extends \"base\" %}{% block c %}{{ v }}{% endblock %}", {"v": 1}), "<1>")
    end)
end)

describe("auto-escaping", fun ()
    let nasty = "<a href='x'>&\"/</a>"

    it("escapes & < > \" ' / in .html, .htm and .xml templates", fun ()
        assert_eq(rn("p.html", "{{ s }}", {"s": nasty}), "&lt;a href=&#x27;x&#x27;&gt;&amp;&quot;&#x2F;&lt;&#x2F;a&gt;")
        assert_eq(rn("p.htm", "{{ s }}", {"s": "/"}), "&#x2F;")
        assert_eq(rn("p.xml", "{{ s }}", {"s": "<"}), "&lt;")
        assert_eq(rn("p.html", "{{ 'a<b' }}|{{ 1 < 2 }}|{{ n }}", {"n": 5}), "a&lt;b|true|5")
    end)

    it("does not escape other templates or render_str", fun ()
        assert_eq(rn("p.txt", "{{ s }}", {"s": nasty}), nasty)
        assert_eq(rn("plain", "{{ s }}", {"s": nasty}), nasty)
        assert_eq(r("{{ s }}", {"s": nasty}), nasty)
    end)

    it("leaves a value alone when safe is the last filter", fun ()
        assert_eq(rn("p.html", "{{ s | safe }}|{{ s | upper | safe }}|{{ s | safe | upper }}", {"s": "<b>"}), "<b>|<B>|&lt;B&gt;")
    end)

    it("escapes filter results, and escape twice in an escaped template (as Tera)", fun ()
        assert_eq(rn("p.html", "{{ s | lower }}|{{ s | escape }}", {"s": "<B>"}), "&lt;b&gt;|&amp;lt;B&amp;gt;")
        assert_eq(r("{{ s | escape }}", {"s": "<'&\"/>"}), "&lt;&#x27;&amp;&quot;&#x2F;&gt;")
    end)

    it("escapes included templates as the rendered one decides", fun ()
        let t = templates.create()
        t.add_template("part", "{{ s }}")
        t.add_template("page.html", "{% include \"part\" %}")
        t.add_template("page.txt", "{% include \"part\" %}")
        assert_eq(t.render("page.html", {"s": "<"}), "&lt;")
        assert_eq(t.render("page.txt", {"s": "<"}), "<")
    end)
end)

describe("filters", fun ()
    it("length, first, last, nth, join, reverse", fun ()
        assert_eq(r("{{ l | length }}|{{ 'héllo' | length }}|{{ d | length }}", {"l": [1, 2, 3], "d": {"a": 1}}), "3|5|1")
        assert_eq(r("{{ l | first }}|{{ l | last }}|{{ l | nth(n=1) }}|{{ e | first }}|", {"l": [1, 2, 3], "e": []}), "1|3|2||")
        assert_eq(r("{{ l | join(sep=', ') }}|{{ l | join }}|{{ l | reverse }}|{{ 'abc' | reverse }}", {"l": [1, "b", 3]}), "1, b, 3|1b3|[3, b, 1]|cba")
        assert_raises(RuntimeErr, fun () r("{{ 5 | length }}") end)
    end)

    it("default replaces undefined and nil, only as the first filter", fun ()
        assert_eq(r("{{ a | default(value='x') }}|{{ b | default(value='y') }}|{{ c | default(value='z') }}|{{ '' | default(value='w') }}", {"b": nil, "c": 0}), "x|y|0|")
        assert_eq(r("{{ a | default(value='q') | upper }}"), "Q")
    end)

    it("truncate counts characters and appends … only when it cut", fun ()
        assert_eq(r("{{ s | truncate(length=5) }}|{{ s | truncate(length=50) }}|{{ '日本語' | truncate(length=2) }}|{{ s | truncate(length=3, end='') }}", {"s": "Hello world"}), "Hello…|Hello world|日本…|Hel")
    end)

    it("striptags, split, replace, title, trim, upper, lower, capitalize", fun ()
        assert_eq(r("{{ '<p>Hi <b>there</b><!-- c --></p>' | striptags }}"), "Hi there")
        assert_eq(r("{{ '2024-01-02 10:00' | split(pat=' ') | first }}|{{ 'a,b' | split(pat=',') }}"), "2024-01-02|[a, b]")
        assert_eq(r("{{ 'foo bar' | replace(from='o', to='0') }}|{{ 'hello wORLD-x' | title }}|{{ '  x \n' | trim }}|"), "f00 bar|Hello World-X|x|")
        assert_eq(r("{{ 'aBc' | upper }}|{{ 'ÀBC' | lower }}|{{ 'hELLO' | capitalize }}"), "ABC|àbc|Hello")
        assert_eq(r("{{ 'xxaxx' | trim_start_matches(pat='x') }}|{{ 'xxaxx' | trim_end_matches(pat='x') }}|{{ 'a b  c' | wordcount }}"), "axx|xxa|3")
    end)

    it("round, abs, int, float, pluralize, filesizeformat", fun ()
        assert_eq(r("{{ 2.5 | round }}|{{ 3.14159 | round(precision=2) }}|{{ 2.1 | round(method='ceil') }}|{{ 2.9 | round(method='floor') }}|{{ 7 | round }}"), "3|3.14|3|2|7")
        assert_eq(r("{{ -3 | abs }}|{{ '42' | int }}|{{ '0x1f' | int(base=16) }}|{{ 'x' | int(default=7) }}|{{ '1.5' | float }}|{{ 3.9 | int }}"), "3|42|31|7|1.5|3")
        assert_eq(r("{{ 1 | pluralize }}|{{ 2 | pluralize }}|{{ 2 | pluralize(singular='y', plural='ies') }}"), "|s|ies")
        assert_eq(r("{{ 100 | filesizeformat }}|{{ 1024 | filesizeformat }}|{{ 246078 | filesizeformat }}|{{ 123456789 | filesizeformat }}|{{ 1536 | filesizeformat(binary=true) }}"), "100 B|1 kB|240.31 kB|117.74 MB|1.5 KiB")
    end)

    it("urlencode, urlencode_strict, escape_xml, addslashes, slugify, linebreaksbr, spaceless, indent", fun ()
        assert_eq(r("{{ '/foo?a=b&c=d é' | urlencode }}|{{ '/a b' | urlencode_strict }}"), "/foo%3Fa%3Db%26c%3Dd%20%C3%A9|%2Fa%20b")
        assert_eq(r("{{ \"<'>\" | escape_xml }}|{{ \"I'm\" | addslashes }}|{{ ' Héllo, World! ' | slugify }}"), "&lt;&apos;&gt;|I\\'m|hello-world")
        assert_eq(r("{{ s | linebreaksbr }}|{{ '<p>\n  <a> </a>\n</p>' | spaceless }}|{{ s | indent(prefix='> ') }}", {"s": "a\nb"}), "a<br>b|<p><a></a></p>|a\n> b")
    end)

    it("sort, unique, slice, map, filter, group_by, concat, get", fun ()
        let people = [{"n": "b", "age": 30}, {"n": "a", "age": 20}, {"n": "c", "age": 30}]
        assert_eq(r("{{ l | sort }}|{{ p | sort(attribute='n') | map(attribute='n') }}", {"l": [3, 1, 2], "p": people}), "[1, 2, 3]|[a, b, c]")
        assert_eq(r("{{ [1, 2, 1] | unique }}|{{ ['A', 'a'] | unique }}|{{ [1, 2, 3, 4] | slice(start=1, end=-1) }}"), "[1, 2]|[A]|[2, 3]")
        assert_eq(r("{{ p | filter(attribute='age', value=30) | length }}|{{ [1] | concat(with=[2, 3]) }}|{{ [1] | concat(with=4) }}", {"p": people}), "2|[1, 2, 3]|[1, 4]")
        assert_eq(r("{% for age, g in p | group_by(attribute='age') %}{{ age }}:{{ g | length }} {% endfor %}", {"p": people}), "20:1 30:2 ")
        assert_eq(r("{{ d | get(key='a b') }}|{{ d | get(key='z', default='none') }}", {"d": {"a b": 1}}), "1|none")
    end)

    it("date formats timestamps and ISO dates", fun ()
        assert_eq(r("{{ 0 | date }}|{{ 86400 | date(format='%d/%m/%Y %H:%M') }}"), "1970-01-01|02/01/1970 00:00")
        assert_eq(r("{{ '2024-03-05' | date(format='%B %d, %Y') }}|{{ '2024-03-05T10:20:30+02:00' | date(format='%H:%M %z') }}"), "March 05, 2024|10:20 +0200")
        assert_raises(RuntimeErr, fun () r("{{ 'yesterday' | date }}") end)
    end)

    it("json_encode and as_str", fun ()
        assert_eq(r("{{ d | json_encode }}", {"d": {"b": [1, 2.0, nil], "a": "q\"\n"}}), "{\"a\":\"q\\\"\\n\",\"b\":[1,2.0,null]}")
        assert_eq(r("{{ [1] | json_encode(pretty=true) }}"), "[\n  1\n]")
        assert_eq(r("{{ 12 | as_str }}|{{ [1, 2.5] | as_str }}"), "12|[1, 2.5]")
    end)

    it("rejects values of the wrong type", fun ()
        let msg = error_of(fun () r("{{ n | upper }}", {"n": 1}) end)
        assert(msg.contains("Filter `upper` was called on an incorrect value: got `1` but expected a String"), msg)
        assert_raises(RuntimeErr, fun () r("{{ 'a' | round }}") end)
        assert_raises(RuntimeErr, fun () r("{{ 'a' | replace(from='a') }}") end)
    end)
end)

describe("malformed templates", fun ()
    fun parse_error(src)
        error_of(fun () templates.create().add_template("bad.html", src) end)
    end

    it("raises RuntimeErr at add time, naming template, line and column", fun ()
        assert_raises(RuntimeErr, fun () templates.create().add_template("bad.html", "{% if %}") end)
        assert_eq(parse_error("ok\n{{ x | nope }}"), "Template error: Failed to parse 'bad.html' (line 2, column 8): unknown filter `nope`")
    end)

    it("reports unclosed tags at their opening", fun ()
        assert_eq(parse_error("a\n  {% if x %}b"), "Template error: Failed to parse 'bad.html' (line 2, column 3): unclosed `{% if %}`: expected `{% endif %}`")
        assert_eq(parse_error("{% for x in y %}{% if x %}{% endfor %}"), "Template error: Failed to parse 'bad.html' (line 1, column 27): unexpected `{% endfor %}`")
        assert_eq(parse_error("{% block a %}"), "Template error: Failed to parse 'bad.html' (line 1, column 1): unclosed `{% block %}`: expected `{% endblock %}`")
        assert_eq(parse_error("x {{ y"), "Template error: Failed to parse 'bad.html' (line 1, column 7): expected `}}`, found the end of the template")
        assert_eq(parse_error("{# never closed"), "Template error: Failed to parse 'bad.html' (line 1, column 1): unclosed comment: expected `#}`")
        assert_eq(parse_error("{% raw %}x"), "Template error: Failed to parse 'bad.html' (line 1, column 1): unclosed `{% raw %}`: expected `{% endraw %}`")
    end)

    it("reports unknown tags, tests, functions and arguments", fun ()
        assert_eq(parse_error("{% frobnicate %}"), "Template error: Failed to parse 'bad.html' (line 1, column 4): unknown tag `frobnicate`")
        assert_eq(parse_error("{{ x is blue }}"), "Template error: Failed to parse 'bad.html' (line 1, column 9): unknown test `blue`")
        assert_eq(parse_error("{{ nofn() }}"), "Template error: Failed to parse 'bad.html' (line 1, column 4): unknown function `nofn`")
        assert_eq(parse_error("{{ s | truncate(len=3) }}"), "Template error: Failed to parse 'bad.html' (line 1, column 17): filter `truncate` has no argument `len`")
        assert_eq(parse_error("{{ s | default }}"), "Template error: Failed to parse 'bad.html' (line 1, column 8): the `default` filter requires a `value` argument")
    end)

    it("reports misplaced tags", fun ()
        assert(parse_error("{% break %}").contains("outside of a for loop"), "break")
        assert(parse_error("x{% extends \"a\" %}").contains("must be the first tag"), "extends")
        assert(parse_error("{{ super() }}").contains("inside a block"), "super")
        assert(parse_error("{% block a %}{% endblock b %}").contains("expected `a`"), "endblock name")
        assert(parse_error("{% block a %}{% endblock %}{% block a %}{% endblock %}").contains("defined twice"), "duplicate block")
        assert(parse_error("{{ 'unterminated }}").contains("unterminated string"), "string")
        assert(parse_error("{{ 1 + }}").contains("expected an expression"), "expression")
    end)

    it("refuses runaway nesting instead of exhausting the stack", fun ()
        assert(parse_error("{{ " .. "(".repeat(500) .. "1" .. ")".repeat(500) .. " }}").contains("nested more than"), "parens")
        assert(parse_error("{% if a %}".repeat(300)).contains("nested more than"), "tags")
        let msg = error_of(fun () r("{{ " .. "1 + ".repeat(2000) .. "1 }}") end)
        assert(msg.contains("nested more than"), msg)
    end)

    it("keeps the engine usable after a failed add", fun ()
        let t = templates.create()
        t.add_template("good", "ok")
        assert_raises(RuntimeErr, fun () t.add_template("good", "{% if %}") end)
        assert_eq(t.render("good", {}), "ok")
    end)

    it("reports where a render error happened inside a parent template", fun ()
        let t = templates.create()
        t.add_template("base.html", "<h1>\n{% block t %}{% endblock %}{{ boom }}</h1>")
        t.add_template("kid.html", "{% extends \"base.html\" %}{% block t %}ok{% endblock %}")
        assert_eq(error_of(fun () t.render("kid.html", {}) end), "Template error: Failed to render 'kid.html' (in 'base.html', line 2, column 31): Variable `boom` not found in context while rendering 'base.html'")
    end)
end)
