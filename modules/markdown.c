/* markdown.c — std/markdown: CommonMark to HTML with GitHub's extensions.
 *
 *   use "std/markdown"
 *   markdown.to_html("# Title\n\nSome *text*")
 *
 * Built on cmark-gfm with tables, strikethrough, task lists and footnotes
 * (the extensions the reference enables in pulldown-cmark).  Raw HTML in
 * the source passes through, as in the reference.  Headings of levels 1-4
 * get an anchor link after their text, as the reference adds:
 *   <h2>Getting Started <a href="#getting-started" class="heading-anchor"
 *   aria-label="Link to section: Getting Started">#</a></h2>
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <cmark-gfm-core-extensions.h>
#include <cmark-gfm-extension_api.h>
#include <cmark-gfm.h>

#include "modules/modules.h"

/* cmark-gfm keeps its extension registry process-wide; fill it once. */
static pthread_once_t md_once = PTHREAD_ONCE_INIT;

static void md_register(void)
{
    cmark_gfm_core_extensions_ensure_registered();
}

enum { MD_OPTIONS = CMARK_OPT_UNSAFE | CMARK_OPT_FOOTNOTES };

/* The plain text of a heading (its text nodes, as the reference collects). */
static void md_heading_text(cmark_node *heading, qbuf *out)
{
    cmark_iter *it = cmark_iter_new(heading);
    cmark_event_type ev;
    while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
        cmark_node *n = cmark_iter_get_node(it);
        if (ev == CMARK_EVENT_ENTER && cmark_node_get_type(n) == CMARK_NODE_TEXT)
            buf_puts(out, cmark_node_get_literal(n));
    }
    cmark_iter_free(it);
}

/* "Getting Started!" -> "getting-started": lower-case letters and digits,
 * runs of spaces and dashes become one dash, everything else goes. */
static void md_anchor_id(const char *text, qbuf *out)
{
    bool dash = false;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        unsigned char c = *p;
        if (c >= 0x80 || (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')) {
            if (dash && out->len)
                buf_putc(out, '-');
            dash = false;
            buf_putc(out, (char)(c >= 'A' && c <= 'Z' ? c + 32 : c));
        } else if (c == ' ' || c == '\t' || c == '\n' || c == '-') {
            dash = true;
        }
    }
}

static void md_attr_escape(const char *s, qbuf *out)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': buf_puts(out, "&amp;"); break;
        case '"': buf_puts(out, "&quot;"); break;
        case '<': buf_puts(out, "&lt;"); break;
        case '>': buf_puts(out, "&gt;"); break;
        default: buf_putc(out, *s);
        }
    }
}

static void md_add_anchor(cmark_node *heading)
{
    qbuf text, html;
    buf_init(&text);
    buf_init(&html);
    md_heading_text(heading, &text);
    buf_putc(&text, '\0');
    buf_puts(&html, " <a href=\"#");
    md_anchor_id(text.data, &html);
    buf_puts(&html, "\" class=\"heading-anchor\" aria-label=\"Link to section: ");
    md_attr_escape(text.data, &html);
    buf_puts(&html, "\">#</a>");
    buf_putc(&html, '\0');
    cmark_node *anchor = cmark_node_new(CMARK_NODE_HTML_INLINE);
    cmark_node_set_literal(anchor, html.data);
    cmark_node_append_child(heading, anchor);
    buf_free(&text);
    buf_free(&html);
}

/* Anchors for the headings of levels 1-4 (collected first: the tree is
 * not changed while it is being walked). */
static void md_add_anchors(cmark_node *doc)
{
    cmark_node **headings = NULL;
    size_t n = 0, cap = 0;
    cmark_iter *it = cmark_iter_new(doc);
    cmark_event_type ev;
    while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
        cmark_node *node = cmark_iter_get_node(it);
        if (ev != CMARK_EVENT_ENTER || cmark_node_get_type(node) != CMARK_NODE_HEADING ||
            cmark_node_get_heading_level(node) > 4)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            cmark_node **h = realloc(headings, cap * sizeof *h);
            if (!h)
                abort();
            headings = h;
        }
        headings[n++] = node;
    }
    cmark_iter_free(it);
    for (size_t i = 0; i < n; i++)
        md_add_anchor(headings[i]);
    free(headings);
}

static qval md_to_html(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    if (!IS_STR(argv[0]))
        return vm_raise(vm, E_RUNTIME, "to_html() requires a string argument");
    qstr *src = AS_STR(argv[0]);
    pthread_once(&md_once, md_register);
    cmark_parser *parser = cmark_parser_new(MD_OPTIONS);
    static const char *const exts[] = {"table", "strikethrough", "tasklist"};
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
        cmark_syntax_extension *ext = cmark_find_syntax_extension(exts[i]);
        if (ext)
            cmark_parser_attach_syntax_extension(parser, ext);
    }
    cmark_parser_feed(parser, src->data, src->len);
    cmark_node *doc = cmark_parser_finish(parser);
    md_add_anchors(doc);
    char *html = cmark_render_html(doc, MD_OPTIONS, cmark_parser_get_syntax_extensions(parser));
    qval r = qv_obj(str_cstr(vm, html ? html : ""));
    free(html);
    cmark_node_free(doc);
    cmark_parser_free(parser);
    return r;
}

static const qmethod_def md_functions[] = {
    {"to_html", md_to_html, 1, 1, false},
    {0},
};

bool markdown_module_init(qvm *vm, qmodule *m)
{
    module_export_fns(vm, m, md_functions);
    return true;
}
