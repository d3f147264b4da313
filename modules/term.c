/* term.c — std/term: ANSI terminal styling and cursor control.
 *
 * Styling functions return the text wrapped in SGR escapes
 * ("\x1b[31m" ... "\x1b[0m"); whether to use them is the caller's choice
 * (std/test asks for --no-color).  Cursor and screen functions print their
 * escape through the program's stdout, so redirection applies.  The
 * progress indicators (progress_bar, spinner) return text to print.
 */
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "modules/modules.h"

typedef struct term_code {
    const char *name;
    const char *code;
} term_code;

static const term_code term_fg[] = {
    {"red", "31"}, {"green", "32"}, {"yellow", "33"}, {"blue", "34"},
    {"magenta", "35"}, {"cyan", "36"}, {"white", "37"}, {"grey", "90"},
    {NULL, NULL},
};

static const term_code term_bg[] = {
    {"red", "41"}, {"green", "42"}, {"yellow", "43"}, {"blue", "44"},
    {"magenta", "45"}, {"cyan", "46"}, {"white", "47"}, {"grey", "100"},
    {NULL, NULL},
};

static const term_code term_attrs[] = {
    {"bold", "1"}, {"dim", "2"}, {"dimmed", "2"}, {"underline", "4"},
    {"blink", "5"}, {"reverse", "7"}, {"hidden", "8"},
    {NULL, NULL},
};

static const char *term_lookup(const term_code *table, const char *name)
{
    for (; table->name; table++)
        if (strcmp(table->name, name) == 0)
            return table->code;
    return NULL;
}

/* Append the codes of an Array of attribute names ("bold", ...); unknown
 * names are ignored, as in the reference. */
static bool term_add_attrs(qvm *vm, const char *fname, qval attrs, qbuf *codes)
{
    qarray *a;
    if (!arg_array(vm, fname, attrs, &a))
        return false;
    for (uint32_t i = 0; i < a->len; i++) {
        const char *code = IS_STR(a->items[i]) ? term_lookup(term_attrs, AS_STR(a->items[i])->data)
                                               : NULL;
        if (code)
            buf_printf(codes, "%s%s", codes->len ? ";" : "", code);
    }
    return true;
}

/* text wrapped in the SGR codes (no codes: the text as it is). */
static qval term_wrap(qvm *vm, qval text, qbuf *codes)
{
    qstr *s = vm_to_str(vm, text);
    if (!s) {
        buf_free(codes);
        return qv_exc();
    }
    if (!codes->len) {
        buf_free(codes);
        return qv_obj(s);
    }
    qbuf out;
    buf_init(&out);
    buf_printf(&out, "\x1b[%.*sm", (int)codes->len, codes->data);
    buf_append(&out, s->data, s->len);
    buf_puts(&out, "\x1b[0m");
    buf_free(codes);
    return qv_obj(buf_to_str(vm, &out));
}

/* COLOR(text, attrs = []) with the colour's code first. */
static qval term_colored(qvm *vm, const char *fname, const char *code, int argc, qval *argv)
{
    qbuf codes;
    buf_init(&codes);
    buf_puts(&codes, code);
    if (argc > 1 && !term_add_attrs(vm, fname, argv[1], &codes)) {
        buf_free(&codes);
        return qv_exc();
    }
    return term_wrap(vm, argv[0], &codes);
}

#define TERM_COLOR(name, code)                                              \
    static qval term_##name(qvm *vm, qval self, int argc, qval *argv)       \
    {                                                                       \
        (void)self;                                                         \
        return term_colored(vm, "term." #name, code, argc, argv);           \
    }

TERM_COLOR(red, "31")
TERM_COLOR(green, "32")
TERM_COLOR(yellow, "33")
TERM_COLOR(blue, "34")
TERM_COLOR(magenta, "35")
TERM_COLOR(cyan, "36")
TERM_COLOR(white, "37")
TERM_COLOR(grey, "90")
TERM_COLOR(bold, "1")
TERM_COLOR(dimmed, "2")
TERM_COLOR(underline, "4")
TERM_COLOR(blink, "5")
TERM_COLOR(reverse, "7")
TERM_COLOR(hidden, "8")

/* A colour name's code in table; NULL after raising ValueErr. */
static const char *term_color_code(qvm *vm, const char *fname, const term_code *table, qval name)
{
    qstr *s;
    if (!arg_str(vm, fname, name, &s))
        return NULL;
    const char *code = term_lookup(table, s->data);
    if (!code)
        vm_raise(vm, E_VALUE, "Unknown color: %s", s->data);
    return code;
}

/* color(text, name, attrs = []) */
static qval term_color(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self;
    const char *code = term_color_code(vm, "term.color", term_fg, argv[1]);
    if (!code)
        return qv_exc();
    qval args[2] = {argv[0], argc > 2 ? argv[2] : qv_nil()};
    return term_colored(vm, "term.color", code, argc > 2 ? 2 : 1, args);
}

/* on_color(text, name): a background colour. */
static qval term_on_color(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    const char *code = term_color_code(vm, "term.on_color", term_bg, argv[1]);
    return code ? term_colored(vm, "term.on_color", code, 1, argv) : qv_exc();
}

/* styled(text, fg = nil, bg = nil, attrs = []): any mix; nil or "" skips
 * a colour. */
static qval term_styled(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self;
    qbuf codes;
    buf_init(&codes);
    for (int i = 1; i <= 2 && i < argc; i++) {
        if (IS_NIL(argv[i]) || (IS_STR(argv[i]) && AS_STR(argv[i])->len == 0))
            continue;
        const char *code = term_color_code(vm, "term.styled", i == 1 ? term_fg : term_bg, argv[i]);
        if (!code) {
            buf_free(&codes);
            return qv_exc();
        }
        buf_printf(&codes, "%s%s", codes.len ? ";" : "", code);
    }
    if (argc > 3 && !IS_NIL(argv[3]) && !term_add_attrs(vm, "term.styled", argv[3], &codes)) {
        buf_free(&codes);
        return qv_exc();
    }
    return term_wrap(vm, argv[0], &codes);
}

static qval term_reset(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc, (void)argv;
    return qv_obj(str_cstr(vm, "\x1b[0m"));
}

/* strip_colors(text): without its "ESC [ ... letter" sequences. */
static qval term_strip_colors(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    qstr *s;
    if (!arg_str(vm, "term.strip_colors", argv[0], &s))
        return qv_exc();
    qbuf out;
    buf_init(&out);
    for (uint32_t i = 0; i < s->len; i++) {
        if (s->data[i] == '\x1b' && i + 1 < s->len && s->data[i + 1] == '[') {
            i += 2;
            while (i < s->len && !((s->data[i] | 0x20) >= 'a' && (s->data[i] | 0x20) <= 'z'))
                i++;
            continue;
        }
        buf_putc(&out, s->data[i]);
    }
    return qv_obj(buf_to_str(vm, &out));
}

/* ---- cursor and screen ------------------------------------------------------------ */

static qval term_emit(qvm *vm, const char *seq)
{
    vm_write_stream(vm, 1, seq, strlen(seq));
    return qv_nil();
}

/* move_up(n = 1) and friends: ESC [ n <letter>. */
static qval term_move(qvm *vm, const char *fname, char letter, int argc, qval *argv)
{
    int64_t n = 1;
    if (argc > 0 && !arg_int(vm, fname, argv[0], &n))
        return qv_exc();
    char seq[32];
    snprintf(seq, sizeof seq, "\x1b[%lld%c", (long long)n, letter);
    return term_emit(vm, seq);
}

#define TERM_MOVE(name, letter)                                            \
    static qval term_##name(qvm *vm, qval self, int argc, qval *argv)      \
    {                                                                      \
        (void)self;                                                        \
        return term_move(vm, "term." #name, letter, argc, argv);           \
    }

TERM_MOVE(move_up, 'A')
TERM_MOVE(move_down, 'B')
TERM_MOVE(move_right, 'C')
TERM_MOVE(move_left, 'D')

static qval term_move_to(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    int64_t row, col;
    if (!arg_int(vm, "term.move_to", argv[0], &row) || !arg_int(vm, "term.move_to", argv[1], &col))
        return qv_exc();
    char seq[64];
    snprintf(seq, sizeof seq, "\x1b[%lld;%lldH", (long long)row, (long long)col);
    return term_emit(vm, seq);
}

#define TERM_EMIT(name, seq)                                               \
    static qval term_##name(qvm *vm, qval self, int argc, qval *argv)      \
    {                                                                      \
        (void)self, (void)argc, (void)argv;                                \
        return term_emit(vm, seq);                                         \
    }

TERM_EMIT(save_cursor, "\x1b[s")
TERM_EMIT(restore_cursor, "\x1b[u")
TERM_EMIT(clear, "\x1b[2J\x1b[H")
TERM_EMIT(clear_line, "\x1b[2K")
TERM_EMIT(clear_to_end, "\x1b[J")
TERM_EMIT(clear_to_start, "\x1b[1J")

/* The terminal's size; 80x24 when stdout is not a terminal. */
static void term_dimensions(int64_t *cols, int64_t *rows)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) {
        *cols = ws.ws_col;
        *rows = ws.ws_row;
    } else {
        *cols = 80;
        *rows = 24;
    }
}

static qval term_width(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)self, (void)argc, (void)argv;
    int64_t cols, rows;
    term_dimensions(&cols, &rows);
    return qv_int(cols);
}

static qval term_height(qvm *vm, qval self, int argc, qval *argv)
{
    (void)vm, (void)self, (void)argc, (void)argv;
    int64_t cols, rows;
    term_dimensions(&cols, &rows);
    return qv_int(rows);
}

/* size() -> [rows, cols] */
static qval term_size(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc, (void)argv;
    int64_t cols, rows;
    term_dimensions(&cols, &rows);
    qarray *a = arr_new(vm, 2);
    arr_push(vm, a, qv_int(rows));
    arr_push(vm, a, qv_int(cols));
    return qv_obj(a);
}

/* ---- progress indicators ---------------------------------------------------------- */

/* progress_bar(current, total, width = 50, char = "=") -> "[====      ]":
 * width cells inside the brackets, filled in proportion (clamped to
 * 0..width). */
static qval term_progress_bar(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self;
    double current, total;
    int64_t width = 50;
    qstr *fill = NULL;
    if (!arg_num(vm, "term.progress_bar", argv[0], &current) ||
        !arg_num(vm, "term.progress_bar", argv[1], &total) ||
        (argc > 2 && !arg_int(vm, "term.progress_bar", argv[2], &width)) ||
        (argc > 3 && !arg_str(vm, "term.progress_bar", argv[3], &fill)))
        return qv_exc();
    if (total <= 0)
        return vm_raise(vm, E_VALUE, "term.progress_bar: total must be positive");
    if (width < 0 || width > 10000)
        return vm_raise(vm, E_VALUE, "term.progress_bar: width must be between 0 and 10000");
    double ratio = current / total;
    int64_t filled = ratio <= 0 ? 0 : ratio >= 1 ? width : (int64_t)(ratio * (double)width);
    qbuf b;
    buf_init(&b);
    buf_putc(&b, '[');
    for (int64_t i = 0; i < width; i++) {
        if (i < filled)
            buf_append(&b, fill ? fill->data : "=", fill ? fill->len : 1);
        else
            buf_putc(&b, ' ');
    }
    buf_putc(&b, ']');
    return qv_obj(buf_to_str(vm, &b));
}

/* spinner(frame): one of ten Braille frames, frame taken modulo 10. */
static qval term_spinner(qvm *vm, qval self, int argc, qval *argv)
{
    (void)self, (void)argc;
    static const char *const frames[] = {"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"};
    int64_t frame;
    if (!arg_int(vm, "term.spinner", argv[0], &frame))
        return qv_exc();
    int64_t i = frame % 10;
    return qv_obj(str_cstr(vm, frames[i < 0 ? i + 10 : i]));
}

static const qmethod_def term_functions[] = {
    {"red", term_red, 1, 2, false},
    {"green", term_green, 1, 2, false},
    {"yellow", term_yellow, 1, 2, false},
    {"blue", term_blue, 1, 2, false},
    {"magenta", term_magenta, 1, 2, false},
    {"cyan", term_cyan, 1, 2, false},
    {"white", term_white, 1, 2, false},
    {"grey", term_grey, 1, 2, false},
    {"bold", term_bold, 1, 1, false},
    {"dim", term_dimmed, 1, 1, false},
    {"dimmed", term_dimmed, 1, 1, false},
    {"underline", term_underline, 1, 1, false},
    {"blink", term_blink, 1, 1, false},
    {"reverse", term_reverse, 1, 1, false},
    {"hidden", term_hidden, 1, 1, false},
    {"color", term_color, 2, 3, false},
    {"on_color", term_on_color, 2, 2, false},
    {"styled", term_styled, 1, 4, false},
    {"reset", term_reset, 0, 0, false},
    {"strip_colors", term_strip_colors, 1, 1, false},
    {"move_up", term_move_up, 0, 1, false},
    {"move_down", term_move_down, 0, 1, false},
    {"move_left", term_move_left, 0, 1, false},
    {"move_right", term_move_right, 0, 1, false},
    {"move_to", term_move_to, 2, 2, false},
    {"save_cursor", term_save_cursor, 0, 0, false},
    {"restore_cursor", term_restore_cursor, 0, 0, false},
    {"clear", term_clear, 0, 0, false},
    {"clear_line", term_clear_line, 0, 0, false},
    {"clear_to_end", term_clear_to_end, 0, 0, false},
    {"clear_to_start", term_clear_to_start, 0, 0, false},
    {"width", term_width, 0, 0, false},
    {"height", term_height, 0, 0, false},
    {"size", term_size, 0, 0, false},
    {"progress_bar", term_progress_bar, 2, 4, false},
    {"spinner", term_spinner, 1, 1, false},
    {NULL, NULL, 0, 0, false},
};

bool term_module_init(qvm *vm, qmodule *m)
{
    module_export_fns(vm, m, term_functions);
    return true;
}
