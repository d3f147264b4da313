/* parser_test.c — the lexer and parser (vm/lexer.c, vm/parser.c, vm/ast.c).
 *
 * Trees are checked through a compact s-expression dump, errors through
 * their message, position and `incomplete` flag.
 *
 * With arguments, parses each named file instead and reports the ones that
 * fail (used to run the parser over the reference test suite):
 *     parser_test FILE...
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vm/ast.h"
#include "tap.h"

/* ---- dump ----------------------------------------------------------------------------- */

typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

static void put(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (b->len + (size_t)n + 1 > b->cap) {
        b->cap = (b->len + (size_t)n + 1) * 2;
        b->p = realloc(b->p, b->cap);
    }
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static void put_quoted(sbuf *b, const char *s, size_t n)
{
    put(b, "\"");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\\')
            put(b, "\\\\");
        else if (c == '\n')
            put(b, "\\n");
        else if (c == '\t')
            put(b, "\\t");
        else if (c == '"')
            put(b, "\\\"");
        else if (c < 0x20 || c == 0x7F)
            put(b, "\\x%02X", c);
        else
            put(b, "%c", c);
    }
    put(b, "\"");
}

static void dump(sbuf *b, const qnode *n);

static void dump_list(sbuf *b, const qnode_list *l)
{
    for (int i = 0; i < l->len; i++) {
        put(b, " ");
        dump(b, l->items[i]);
    }
}

static const char *op_text(int op)
{
    static const char *const t[] = {
        [QOP_NONE] = "=", [QOP_ADD] = "+", [QOP_SUB] = "-", [QOP_MUL] = "*", [QOP_DIV] = "/",
        [QOP_MOD] = "%", [QOP_CONCAT] = "..", [QOP_EQ] = "==", [QOP_NE] = "!=",
        [QOP_LT] = "<", [QOP_LE] = "<=", [QOP_GT] = ">", [QOP_GE] = ">=",
        [QOP_BOR] = "|", [QOP_BXOR] = "^", [QOP_BAND] = "&", [QOP_SHL] = "<<", [QOP_SHR] = ">>",
    };
    return t[op];
}

static void dump_fun(sbuf *b, const qast_fun *f)
{
    put(b, "(%sfun%s", f->is_async ? "async " : "", f->is_static ? " self." : "");
    for (int i = 0; i < f->ndecorators; i++) {
        put(b, " @%s", f->decorators[i].name);
        if (f->decorators[i].has_args) {
            put(b, "(");
            dump_list(b, &f->decorators[i].args);
            put(b, ")");
        }
    }
    if (f->name)
        put(b, " %s", f->name);
    put(b, " (");
    for (int i = 0; i < f->nparams; i++) {
        put(b, "%s%s", i ? " " : "", f->params[i].name);
        if (f->params[i].type)
            put(b, ":%s", f->params[i].type);
        if (f->params[i].def) {
            put(b, "=");
            dump(b, f->params[i].def);
        }
    }
    if (f->varargs)
        put(b, " *%s%s%s", f->varargs, f->varargs_type ? ":" : "", f->varargs_type ? f->varargs_type : "");
    if (f->kwargs)
        put(b, " **%s%s%s", f->kwargs, f->kwargs_type ? ":" : "", f->kwargs_type ? f->kwargs_type : "");
    put(b, ")");
    if (f->ret_type)
        put(b, " -> %s", f->ret_type);
    if (f->doc)
        put(b, " doc=%s", f->doc);
    dump_list(b, &f->body->list);
    put(b, ")");
}

static void dump_type(sbuf *b, const qast_type *t)
{
    put(b, "(type %s", t->name);
    if (t->doc)
        put(b, " doc=%s", t->doc);
    for (int i = 0; i < t->nfields; i++) {
        const qast_field *f = &t->fields[i];
        put(b, " [%s%s%s%s%s", f->pub ? "pub " : "", f->name, f->type ? ":" : "",
            f->type ? f->type : "", f->optional ? "?" : "");
        if (f->def) {
            put(b, "=");
            dump(b, f->def);
        }
        put(b, "]");
    }
    for (int i = 0; i < t->nmethods; i++) {
        put(b, " ");
        dump_fun(b, t->methods[i]);
    }
    for (int i = 0; i < t->nimpls; i++) {
        put(b, " (impl %s", t->impls[i].trait);
        for (int j = 0; j < t->impls[i].nmethods; j++) {
            put(b, " ");
            dump_fun(b, t->impls[i].methods[j]);
        }
        put(b, ")");
    }
    put(b, ")");
}

static void dump_trait(sbuf *b, const qast_trait *t)
{
    put(b, "(trait %s", t->name);
    if (t->doc)
        put(b, " doc=%s", t->doc);
    for (int i = 0; i < t->nmethods; i++) {
        put(b, " (%s", t->methods[i].name);
        for (int j = 0; j < t->methods[i].nparams; j++)
            put(b, " %s", t->methods[i].params[j].name);
        if (t->methods[i].ret_type)
            put(b, " -> %s", t->methods[i].ret_type);
        put(b, ")");
    }
    put(b, ")");
}

static void dump_opt(sbuf *b, const char *word, const qnode *n)
{
    if (n) {
        put(b, word[0] ? " %s " : " ", word);
        dump(b, n);
    }
}

static void dump_stmt(sbuf *b, const qnode *n)
{
    switch (n->kind) {
    case N_EXPR_STMT: dump(b, n->a); break;
    case N_LET:
        put(b, "(%s%s", n->flags & DECL_PUB ? "pub " : "", n->flags & LET_UNDECLARED ? "decl" : "let");
        dump_list(b, &n->list);
        put(b, ")");
        break;
    case N_BINDING:
        put(b, "%s%s%s", n->name, n->str ? ":" : "", n->str ? n->str : "");
        if (n->a) {
            put(b, "=");
            dump(b, n->a);
        }
        break;
    case N_CONST:
        put(b, "(%sconst %s ", n->flags & DECL_PUB ? "pub " : "", n->name);
        dump(b, n->a);
        put(b, ")");
        break;
    case N_ASSIGN:
        put(b, "(%s%s ", n->op == QOP_NONE ? "" : op_text(n->op), "=");
        dump(b, n->a);
        put(b, " ");
        dump(b, n->b);
        put(b, ")");
        break;
    case N_DEL: put(b, "(del %s)", n->name); break;
    case N_IF:
        put(b, "(if");
        for (int i = 0; i < n->list.len; i++) {
            put(b, " ");
            dump(b, n->list.items[i]);
            put(b, " ");
            dump(b, n->list2.items[i]);
        }
        dump_opt(b, "else", n->b);
        put(b, ")");
        break;
    case N_WHILE:
        put(b, "(while ");
        dump(b, n->a);
        put(b, " ");
        dump(b, n->b);
        put(b, ")");
        break;
    case N_FOR:
        put(b, "(for %s%s%s in ", n->name, n->name2 ? "," : "", n->name2 ? n->name2 : "");
        dump(b, n->a);
        if (n->flags & FOR_RANGE) {
            put(b, n->flags & FOR_UNTIL ? " until " : " to ");
            dump(b, n->c);
            dump_opt(b, "step", n->d);
        }
        put(b, " ");
        dump(b, n->b);
        put(b, ")");
        break;
    case N_MATCH:
        put(b, "(match ");
        dump(b, n->a);
        dump_list(b, &n->list);
        dump_opt(b, "else", n->b);
        put(b, ")");
        break;
    case N_ARM:
        put(b, "(in");
        if (n->flags & ARM_RANGE) {
            put(b, " ");
            dump(b, n->a);
            put(b, n->flags & ARM_UNTIL ? " until " : " to ");
            dump(b, n->c);
            dump_opt(b, "step", n->d);
        } else {
            dump_list(b, &n->list);
        }
        put(b, " ");
        dump(b, n->b);
        put(b, ")");
        break;
    case N_TRY:
        put(b, "(try ");
        dump(b, n->a);
        dump_list(b, &n->list);
        dump_opt(b, "ensure", n->b);
        put(b, ")");
        break;
    case N_CATCH:
        put(b, "(catch %s%s%s ", n->name, n->str ? ":" : "", n->str ? n->str : "");
        dump(b, n->a);
        put(b, ")");
        break;
    case N_RAISE: put(b, "(raise"); dump_opt(b, "", n->a); put(b, ")"); break;
    case N_RETURN: put(b, "(return"); dump_opt(b, "", n->a); put(b, ")"); break;
    case N_WITH:
        put(b, "(%swith", n->flags & WITH_ASYNC ? "async " : "");
        dump_list(b, &n->list);
        put(b, " ");
        dump(b, n->b);
        put(b, ")");
        break;
    case N_WITH_ITEM:
        dump(b, n->a);
        if (n->name)
            put(b, " as %s", n->name);
        break;
    case N_BREAK: put(b, "(break)"); break;
    case N_CONTINUE: put(b, "(continue)"); break;
    case N_FUN_DECL:
        if (n->flags & DECL_PUB)
            put(b, "pub ");
        dump_fun(b, n->u.fun);
        break;
    case N_TYPE_DECL:
        if (n->flags & DECL_PUB)
            put(b, "pub ");
        dump_type(b, n->u.tdecl);
        break;
    case N_TRAIT_DECL:
        if (n->flags & DECL_PUB)
            put(b, "pub ");
        dump_trait(b, n->u.trait);
        break;
    case N_USE:
        put(b, "(use \"%s\"", n->str);
        if (n->name)
            put(b, " as %s", n->name);
        if (n->list.len) {
            put(b, " {");
            for (int i = 0; i < n->list.len; i++)
                put(b, "%s%s%s%s", i ? " " : "", n->list.items[i]->name,
                    n->list.items[i]->name2 ? ":" : "",
                    n->list.items[i]->name2 ? n->list.items[i]->name2 : "");
            put(b, "}");
        }
        put(b, ")");
        break;
    case N_DOC: put(b, "(doc)"); break;
    case N_BLOCK:
        put(b, "(block");
        dump_list(b, &n->list);
        put(b, ")");
        break;
    default: put(b, "<?%d>", n->kind); break;
    }
}

static void dump(sbuf *b, const qnode *n)
{
    switch (n->kind) {
    case N_NIL: put(b, "nil"); break;
    case N_TRUE: put(b, "true"); break;
    case N_FALSE: put(b, "false"); break;
    case N_INT: put(b, "%lld", (long long)n->ival); break;
    case N_FLOAT: put(b, "%gf", n->fval); break;
    case N_BIGINT: put(b, "%sn", n->str); break;
    case N_STR: put_quoted(b, n->str, n->slen); break;
    case N_BYTES: put(b, "b"); put_quoted(b, n->str, n->slen); break;
    case N_FSTR: put(b, "(f"); dump_list(b, &n->list); put(b, ")"); break;
    case N_FSTR_VAR: put(b, "{%s%s%s}", n->name, n->str ? ":" : "", n->str ? n->str : ""); break;
    case N_TYPE_NAME: put(b, "T:%s", n->name); break;
    case N_MAGIC: put(b, "M:%s", n->name); break;
    case N_IDENT: put(b, "%s", n->name); break;
    case N_ARRAY: put(b, "["); dump_list(b, &n->list); put(b, " ]"); break;
    case N_DICT:
        put(b, "{");
        for (int i = 0; i < n->list.len; i++) {
            put(b, " ");
            dump(b, n->list.items[i]);
            put(b, ":");
            dump(b, n->list2.items[i]);
        }
        put(b, " }");
        break;
    case N_UNARY: put(b, "(%c ", n->op); dump(b, n->a); put(b, ")"); break;
    case N_NOT: put(b, "(not "); dump(b, n->a); put(b, ")"); break;
    case N_AWAIT: put(b, "(await "); dump(b, n->a); put(b, ")"); break;
    case N_BINARY: case N_AND: case N_OR: case N_ELVIS:
        put(b, "(%s ", n->kind == N_AND ? "and" : n->kind == N_OR ? "or" :
                       n->kind == N_ELVIS ? "?:" : op_text(n->op));
        dump(b, n->a);
        put(b, " ");
        dump(b, n->b);
        put(b, ")");
        break;
    case N_CALL: put(b, "(call "); dump(b, n->a); dump_list(b, &n->list); put(b, ")"); break;
    case N_METHOD:
        put(b, "(.%s ", n->name);
        dump(b, n->a);
        dump_list(b, &n->list);
        put(b, ")");
        break;
    case N_MEMBER: put(b, "(member "); dump(b, n->a); put(b, " %s)", n->name); break;
    case N_INDEX: put(b, "(index "); dump(b, n->a); dump_list(b, &n->list); put(b, ")"); break;
    case N_FUN: dump_fun(b, n->u.fun); break;
    case N_ARG:
        if (n->argkind == ARG_NAMED)
            put(b, "%s:", n->name);
        else if (n->argkind == ARG_SPREAD)
            put(b, "*");
        else if (n->argkind == ARG_KWSPREAD)
            put(b, "**");
        dump(b, n->a);
        break;
    default: dump_stmt(b, n); break;
    }
}

/* The program's statements, space-separated. */
static char *dump_program(const char *src, size_t len, qsyntax_error *err)
{
    ast_arena *a = ast_arena_new();
    qnode *root = parse_program(a, src, len, err);
    sbuf b = {0};
    put(&b, "%s", "");
    if (root) {
        for (int i = 0; i < root->list.len; i++) {
            if (i)
                put(&b, " ");
            dump(&b, root->list.items[i]);
        }
    } else {
        free(b.p);
        b.p = NULL;
    }
    ast_arena_free(a);
    return b.p;
}

/* ---- checks --------------------------------------------------------------------------- */

/* A test name showing src on one line. */
static void test_name(char *name, size_t n, const char *prefix, const char *src, size_t len)
{
    size_t k = (size_t)snprintf(name, n, "%s", prefix);
    for (size_t i = 0; i < len && k + 5 < n; i++) {
        unsigned char c = (unsigned char)src[i];
        k += (size_t)snprintf(name + k, n - k, c == '\n' ? "\\n" : c < 0x20 || c >= 0x7F ? "\\x%02X" : "%c", c);
    }
}

static void parses(const char *src, const char *want)
{
    qsyntax_error err;
    char *got = dump_program(src, strlen(src), &err);
    char name[300];
    test_name(name, sizeof name, "parse: ", src, strlen(src));
    if (!is_str(got, want, name) && !got)
        tap_diag("  error %d:%d: %s", err.line, err.col, err.message);
    free(got);
}

static void fails_n(const char *src, size_t len, const char *msg, int line, int col, bool incomplete)
{
    qsyntax_error err;
    char *got = dump_program(src, len, &err);
    char name[300];
    test_name(name, sizeof name, "error: ", src, len);
    bool pass = !got && strstr(err.message, msg) && err.line == line && err.col == col &&
                err.incomplete == incomplete;
    if (!ok(pass, name)) {
        if (got)
            tap_diag("  parsed as %s", got);
        else
            tap_diag("  got %d:%d%s: %s", err.line, err.col, err.incomplete ? " (incomplete)" : "",
                     err.message);
        tap_diag("  want %d:%d%s: ...%s...", line, col, incomplete ? " (incomplete)" : "", msg);
    }
    free(got);
}

static void fails(const char *src, const char *msg, int line, int col, bool incomplete)
{
    fails_n(src, strlen(src), msg, line, col, incomplete);
}

/* ---- tests ---------------------------------------------------------------------------- */

static void test_literals(void)
{
    parses("42 0 1_000_000 007", "42 0 1000000 7");
    parses("0xFF 0XfF 0b1010 0B1 0o755 0O7 0xFF_00 0b1_0_1_0", "255 255 10 1 493 7 65280 10");
    parses("9223372036854775807", "9223372036854775807");
    parses("0x7FFFFFFFFFFFFFFF", "9223372036854775807");
    parses("3.14 1_000.5 1e10 6.022e23 1.5E-3 1e+10 1e1_0 2E2", "3.14f 1000.5f 1e+10f 6.022e+23f 0.0015f 1e+10f 1e+10f 200f");
    parses("123n 0xDEAD_BEEFn 0b1111N 0o777n 0n", "123n 0xdeadbeefn 0b1111n 0o777n 0n");
    parses("1.5.floor() 5.pow(2) 1..2", "(.floor 1.5f) (.pow 5 2) (.. 1 2)");
    parses("\"a\\nb\\tc\\rd\\\\e\\\"f\\'g\\qh\"", "\"a\\nb\\tc\\x0Dd\\\\e\\\"f'g\\\\qh\"");
    parses("'it\\'s' \"x'y\" 'x\"y'", "\"it's\" \"x'y\" \"x\\\"y\"");
    parses("\"\"\"raw\\n\nline\"\"\" '''a\"b'''", "\"raw\\\\n\\nline\" \"a\\\"b\"");
    parses("\"é\\é\"", "\"é\\\\é\"");
    parses("b\"ab\\x41\\n\\0\\\\\\\"\" B'x\\'y'", "b\"abA\\n\\x00\\\\\\\"\" b\"x'y\"");
    parses("true false nil", "true false nil");
    parses("[1, 2, [3]]", "[ 1 2 [ 3 ] ]");
    parses("x = [] y = {} z = {a: 1, \"b c\": 2}", "(= x [ ]) (= y { }) (= z { \"a\":1 \"b c\":2 })");
    parses("[1] [2]", "(index [ 1 ] 2)");
    parses("Int Float Str Bool Array Dict Bytes Uuid Num Obj Decimal",
           "T:Int T:Float T:Str T:Bool T:Array T:Dict T:Bytes T:Uuid T:Num T:Obj Decimal");
    parses("Array.new(3) Str.x Int(5) 42.is(Int) Intx", "(.new Array 3) (member Str x) (call Int 5) (.is 42 T:Int) Intx");
    parses("__file__ __line__ __function__ __other__", "M:__file__ M:__line__ M:__function__ __other__");
    parses("nilable truely end_time total", "nilable truely end_time total");
}

static void test_fstrings(void)
{
    parses("f\"Hello {name}!\"", "(f \"Hello \" {name} \"!\")");
    parses("f'{x:.2}{y:>10}\\n'", "(f {x:.2} {y:>10} \"\\n\")");
    parses("f\"\" f\"plain}\"", "(f) (f \"plain}\")");
    parses("f\"a\\{b\"", "(f \"a\\\\{b\")");
    fails("f\"{}\"", "invalid f-string interpolation", 1, 3, false);
    fails("f\"{ x}\"", "invalid f-string interpolation", 1, 3, false);
    fails("f\"{x.y}\"", "invalid f-string interpolation", 1, 3, false);
    fails("f\"{x:}\"", "invalid f-string interpolation", 1, 3, false);
    fails("f\"{end}\"", "invalid f-string interpolation", 1, 3, false);
    fails("let s = f\"{x\"", "invalid f-string interpolation", 1, 11, false);
    fails("f\"{x:{y}}\"", "invalid f-string interpolation", 1, 1, false);
}

static void test_literal_errors(void)
{
    fails("let x = 0xGHI", "invalid hexadecimal literal", 1, 9, false);
    fails("let x = 0x", "invalid hexadecimal literal", 1, 9, false);
    fails("let x = 0b1012", "invalid binary literal", 1, 9, false);
    fails("let x = 0b", "invalid binary literal", 1, 9, false);
    fails("let x = 0o789", "invalid octal literal", 1, 9, false);
    fails("0o", "invalid octal literal", 1, 1, false);
    fails("0xFFGG", "invalid hexadecimal literal", 1, 1, false);
    fails("0x_1", "invalid hexadecimal literal", 1, 1, false);
    fails("0xF_", "invalid hexadecimal literal", 1, 1, false);
    fails("1__0", "invalid numeric literal", 1, 1, false);
    fails("1_", "invalid numeric literal", 1, 1, false);
    fails("1_.5", "invalid numeric literal", 1, 1, false);
    fails("1abc", "invalid numeric literal", 1, 1, false);
    fails("1e", "invalid numeric literal", 1, 1, false);
    fails("1.5n", "invalid numeric literal", 1, 1, false);
    fails("9223372036854775808", "integer literal out of range", 1, 1, false);
    fails("0x8000000000000000", "integer literal out of range", 1, 1, false);
    fails("x = \"abc", "unterminated string", 1, 5, false);
    fails("x = \"abc\ny\"", "unterminated string", 1, 5, false);
    fails("x = \"abc\\", "unterminated string", 1, 5, true);
    fails("x = \"\"\"abc\n\n", "unterminated triple-quoted string", 1, 5, true);
    fails("b\"\\q\"", "invalid escape sequence in bytes literal", 1, 3, false);
    fails("b\"\\xZ1\"", "invalid \\x escape", 1, 3, false);
    fails("b\"é\"", "non-ASCII character in bytes literal", 1, 3, false);
    fails("b'\\\"'", "invalid escape sequence", 1, 3, false);
    fails("\"ok\" \"\xff\"", "invalid UTF-8 in string literal", 1, 7, false);
    fails("'\xc0\x80'", "invalid UTF-8", 1, 2, false);
    fails("'\xed\xa0\x80'", "invalid UTF-8", 1, 2, false);
    fails("\"\"\"\n\xf4\x90\x80\x80\"\"\"", "invalid UTF-8", 2, 1, false);
    fails_n("\"a\0b\"", 5, "NUL byte in string literal", 1, 3, false);
    fails_n("x\0", 2, "unexpected byte 0x00", 1, 2, false);
    fails("x = 1; y = 2", "unexpected ';'", 1, 6, false);
    fails("$x", "unexpected character '$'", 1, 1, false);
    fails("x ! y", "unexpected character '!'", 1, 3, false);
    fails("é", "unexpected character 'é'", 1, 1, false);
}

static void test_precedence(void)
{
    parses("1 + 2 * 3 - 4 / 5 % 6", "(- (+ 1 (* 2 3)) (% (/ 4 5) 6))");
    parses("\"a\" .. 1 + 2", "(.. \"a\" (+ 1 2))");
    parses("a == b .. c", "(== a (.. b c))");
    parses("a < b < c", "(< (< a b) c)");
    parses("a & b == c", "(& a (== b c))");
    parses("a | b ^ c & d << 1 >> 2", "(| a (^ b (& c (>> (<< d 1) 2))))");
    parses("not a == b", "(not (== a b))");
    parses("not not a", "(not (not a))");
    parses("not a and b or c", "(or (and (not a) b) c)");
    parses("a and not b | c", "(and a (not (| b c)))");
    parses("a or b ?: c or d", "(?: (or a b) (or c d))");
    parses("a ?: b ?: c", "(?: (?: a b) c)");
    parses("-2.abs() -x.len() - -1", "(- (- (- (.abs 2)) (.len x)) (- 1))");
    parses("--5 +-~x", "(+ (- (- 5)) (- (~ x)))");
    parses("(-2.abs()) (-x.len())", "(call (- (.abs 2)) (- (.len x)))");
    parses("await a.b(c) + 1", "(+ (await (.b a c)) 1)");
    parses("-await f()", "(- (await (call f)))");
    parses("f(1)(2)[3].x.y(4)", "(.y (member (index (call (call f 1) 2) 3) x) 4)");
    parses("f(a, b: 1, *c, **d)", "(call f a b:1 *c **d)");
    parses("x\n(1)", "(call x 1)");
    parses("a\n-1", "(- a 1)");
    parses("a[1, 2]", "(index a 1 2)");
    parses("x.end x.type() x.if", "(member x end) (.type x) (member x if)");
    parses("(fun (x) x end)(5)", "(call (fun (x) x) 5)");
    parses("fun () 1 end (2)", "(fun () 1) 2");
    fails("a | not b", "unexpected token 'not'", 1, 5, false);
    fails("1 + not x", "unexpected token 'not'", 1, 5, false);
    fails("x = y or fun () 1 end", "unexpected token 'fun'", 1, 10, false);
    fails("1 +", "unexpected end of input", 1, 4, true);
    fails("f(1, ", "unexpected end of input", 1, 6, true);
    fails("f(1,)", "unexpected token ')'", 1, 5, false);
    fails("[1, 2,]", "unexpected token ']'", 1, 7, false);
    fails("x.", "expected member name", 1, 3, true);
    fails("a ? b", "unexpected token '?'", 1, 3, false);
}

static void test_statements(void)
{
    parses("assert_eq(a, 1)  assert_eq(b, 2)", "(call assert_eq a 1) (call assert_eq b 2)");
    parses("let a = 1, b: Int = 2", "(let a=1 b:Int=2)");
    parses("const X = 5 pub const Y = 6 pub let z = 1", "(const X 5) (pub const Y 6) (pub let z=1)");
    parses("x: Int = 5 y: Str", "(decl x:Int=5) (decl y:Str)");
    parses("f(x: 1) {a: 1}", "(call f x:1) { \"a\":1 }");
    parses("try x catch e: Err {a: 1}.len() end", "(try (block x) (catch e:Err (block (.len { \"a\":1 }))))");
    parses("x = 1 x += 2 x -= 3 x *= 4 x /= 5 x %= 6",
           "(= x 1) (+= x 2) (-= x 3) (*= x 4) (/= x 5) (%= x 6)");
    parses("a[0] = 1 g[i][j] += 2 o.f = 3 o.items[0].x = 4",
           "(= (index a 0) 1) (+= (index (index g i) j) 2) (= (member o f) 3) (= (member (index (member o items) 0) x) 4)");
    parses("del x", "(del x)");
    parses("if a b elif c d elif e f else g end", "(if a (block b) c (block d) e (block f) else (block g))");
    parses("if x puts(\"a\") else puts(\"b\") end", "(if x (block (call puts \"a\")) else (block (call puts \"b\")))");
    parses("while i < 3 i += 1 end", "(while (< i 3) (block (+= i 1)))");
    parses("for x in xs f(x) end", "(for x in xs (block (call f x)))");
    parses("for k, v in d end", "(for k,v in d (block))");
    parses("for i in 0 to 10 step 2 end for i in n until 0 end",
           "(for i in 0 to 10 step 2 (block)) (for i in n until 0 (block))");
    parses("match x in 1, 2 a in 3 to 5 step 2 b in 6 until 9 c else d end",
           "(match x (in 1 2 (block a)) (in 3 to 5 step 2 (block b)) (in 6 until 9 (block c)) else (block d))");
    parses("try a catch e: IndexErr b catch e c ensure d end",
           "(try (block a) (catch e:IndexErr (block b)) (catch e (block c)) ensure (block d))");
    parses("try ensure x end try catch e end", "(try (block) ensure (block x)) (try (block) (catch e (block)))");
    parses("raise raise \"x\" raise E.new(\"m\")", "(raise) (raise \"x\") (raise (.new E \"m\"))");
    parses("try x catch e raise end", "(try (block x) (catch e (block (raise))))");
    parses("with a as b, c d() end", "(with a as b c (block (call d)))");
    parses("async with g as t x end", "(async with g as t (block x))");
    parses("break continue", "(break) (continue)");
    parses("return", "(return)");
    parses("return 1 + 2", "(return (+ 1 2))");
    parses("return\n1 + 2", "(return) (+ 1 2)");
    parses("if x return end", "(if x (block (return)))");
    parses("return fun (x) x end", "(return (fun (x) x))");
    parses("use \"std/test\"", "(use \"std/test\")");
    parses("use \"std/test\" as t", "(use \"std/test\" as t)");
    parses("use \"std/test\" {it, describe as d,}", "(use \"std/test\" {it describe:d})");
    parses("use \"std/math\" as m {pi}", "(use \"std/math\" as m {pi})");
    parses("use \"x\" {a: 1}.len()", "(use \"x\") (.len { \"a\":1 })");
    parses("% fun f(a, b = 1) \"doc\" % const C \"d\" % type T \"\"\"d\"\"\" % trait R 'd'",
           "(doc) (doc) (doc) (doc)");
    parses("x\n%fun sin(x)\n\"\"\"doc\"\"\"", "x (doc)");
    parses("x % y", "(% x y)");
    parses("impl T with A, B { fun f() end fun g(x) x end }", "(doc)");
    parses("fun f x end", "(fun f () x)");
}

static void test_functions(void)
{
    parses("fun f(a, b = 1, c: Int, d: Str = \"x\", *rest: Int, **kw: Str) -> Bool a end",
           "(fun f (a b=1 c:Int d:Str=\"x\" *rest:Int **kw:Str) -> Bool a)");
    parses("fun f(*a) end fun g(**k) end fun h(*a, **k) end",
           "(fun f ( *a)) (fun g ( **k)) (fun h ( *a **k))");
    parses("fun f() \"The doc\" 1 end", "(fun f () doc=The doc \"The doc\" 1)");
    parses("fun f() \"\"\"Doc\"\"\" end", "(fun f () doc=Doc \"Doc\")");
    parses("fun f() x \"not doc\" end", "(fun f () x \"not doc\")");
    parses("@D fun f() end", "(fun @D f ())");
    parses("@D(1, k: 2) @m.E @F() fun f() end", "(fun @D( 1 k:2) @m.E @F() f ())");
    parses("pub fun f() end pub @D fun g() end", "pub (fun f ()) pub (fun @D g ())");
    parses("async fun f() await g() end", "(async fun f () (await (call g)))");
    parses("let h = async fun (x) await x end", "(let h=(async fun (x) (await x)))");
    parses("async fun (x) x end", "(async fun (x) x)");
    parses("fun self.make() end", "(fun self. make ())");
    parses("fun (x) x * 2 end", "(fun (x) (* x 2))");
    parses("f(fun (x) x end, 1)", "(call f (fun (x) x) 1)");
    parses("fun f(self) end", "(fun f (self))");
    parses("pub async fun f() end @D async fun g() end", "pub (async fun f ()) (async fun @D g ())");
    parses("async fun self.load() end", "(async fun self. load ())");
    parses("not await x == 1", "(not (== (await x) 1))");
    parses("await xs[0] await await t", "(await (index xs 0)) (await (await t))");
    parses("let t = async.spawn(fun () fetch(1) end)", "(let t=(.spawn async (fun () (call fetch 1))))");
    parses("x.async x.await", "(member x async) (member x await)");
    parses("use \"std/async\" async.sleep(1) let r = await async.timeout(t, 2)",
           "(use \"std/async\") (.sleep async 1) (let r=(await (.timeout async t 2)))");
    parses("async x", "async x");
    parses("type T async = 1 async fun f() end end", "(type T [async=1] (async fun f ()))");
    fails("let await = 1", "expected variable name but found 'await'", 1, 5, false);
    fails("fun f(*a, b) end", "only **kwargs may follow *a", 1, 11, false);
    fails("fun f(**k, b) end", "no parameter may follow **k", 1, 12, false);
    fails("fun f(*a, *b) end", "only one *args", 1, 11, false);
    fails("fun f(end) end", "expected parameter name but found 'end'", 1, 7, false);
    fails("fun f() 1", "expected 'end' to close 'fun' opened at line 1", 1, 10, true);
}

static void test_types(void)
{
    parses("type P \"A point\" pub x: Num pub y: Num = 0 label: Str? tag = \"t\" n\n"
           "fun norm() self.x end fun self.origin() P.new(x: 0) end\n"
           "impl Drawable fun draw() \"P\" end end\n"
           "static async fun load() end async fun save() end @D fun m() end end",
           "(type P doc=A point [pub x:Num] [pub y:Num=0] [label:Str?] [tag=\"t\"] [n] "
           "(fun norm () (member self x)) (fun self. origin () (.new P x:0)) "
           "(async fun self. load ()) (async fun save ()) (fun @D m ()) "
           "(impl Drawable (fun draw () doc=P \"P\")))");
    parses("type T f: mod.Kind g: Array{Int} end", "(type T [f:mod.Kind] [g:Array{Int}])");
    parses("pub type E end", "pub (type E)");
    parses("type S static end", "(type S [static])");
    parses("type S static fun f() end end", "(type S (fun self. f ()))");
    parses("trait Drawable \"doc\" fun draw() fun area(a, b: Int, *r, **k) -> Num end",
           "(trait Drawable doc=doc (draw) (area a b r k -> Num))");
    parses("pub trait T end", "pub (trait T)");
    fails("type T fun m() end 1 end", "expected 'end' to close 'type' opened at line 1, found '1'", 1, 20, false);
    fails("type T impl A end end", "expected 'fun' but found 'end'", 1, 15, false);
    fails("trait T fun a() 1 end", "expected 'end' to close 'trait'", 1, 17, false);
}

static void test_statement_errors(void)
{
    fails("if x\n  y\n", "expected 'end' to close 'if' opened at line 1", 3, 1, true);
    fails("if x y )", "expected 'end' to close 'if' opened at line 1, found ')'", 1, 8, false);
    fails("while x", "expected 'end' to close 'while'", 1, 8, true);
    fails("end", "unexpected token 'end'", 1, 1, false);
    fails(")", "unexpected token ')'", 1, 1, false);
    fails("try x end", "expected 'catch' or 'ensure' but found 'end'", 1, 7, false);
    fails("match x end", "expected 'in' (a match arm) but found 'end'", 1, 9, false);
    fails("match x in 1 in 2 y end", "expected a statement after the match pattern but found 'in'", 1, 14, false);
    fails("let x", "expected '=' but found end of input", 1, 6, true);
    fails("let end = 1", "expected variable name but found 'end'", 1, 5, false);
    fails("let to = 1", "expected variable name but found 'to'", 1, 5, false);
    fails("f() = 1", "cannot assign", 1, 5, false);
    fails("1 = 2", "cannot assign", 1, 3, false);
    fails("a.b() .c = 1", "cannot assign", 1, 10, false);
    fails("pub x = 1", "expected let, const, fun, type or trait after 'pub'", 1, 5, false);
    fails("use x", "expected module path string", 1, 5, false);
    fails("% x", "expected fun, const, type or trait after '%'", 1, 3, false);
    fails("for x of y end", "expected 'in' but found 'of'", 1, 7, false);
    fails("{1: 2}", "unexpected token '1'", 1, 2, false);
    fails("{\"a\" 2}", "expected ':' but found '2'", 1, 6, false);
    fails("x = 1\ny = (2\n", "expected ')' but found end of input", 3, 1, true);
    fails("\"\"\"\nabc\"\"\" )", "unexpected token ')'", 2, 8, false);
    fails("  # comment\n\tx ~", "unexpected end of input", 2, 5, true);
}

static char *repeat(const char *s, int n)
{
    size_t len = strlen(s);
    char *r = malloc(len * (size_t)n + 1);
    for (int i = 0; i < n; i++)
        memcpy(r + len * (size_t)i, s, len);
    r[len * (size_t)n] = '\0';
    return r;
}

/* Nested `(`*n 1 (+ 1)`)`*n, as QEP-049's test builds through sys.eval. */
static char *nested_parens(int n)
{
    char *open = repeat("(", n), *close = repeat(" + 1)", n);
    char *s = malloc(strlen(open) + strlen(close) + 2);
    sprintf(s, "%s1%s", open, close);
    free(open);
    free(close);
    return s;
}

static void check_deep(const char *what, char *src, bool should_parse)
{
    qsyntax_error err;
    ast_arena *a = ast_arena_new();
    qnode *root = parse_program(a, src, strlen(src), &err);
    if (should_parse)
        ok(root != NULL, what);
    else
        ok(!root && strstr(err.message, "nesting too deep"), what);
    if (!root && should_parse)
        tap_diag("  %s", err.message);
    ast_arena_free(a);
    free(src);
}

static void test_nesting(void)
{
    check_deep("1000 nested parentheses parse", nested_parens(1000), true);
    check_deep("5000 nested parentheses are too deep", nested_parens(5000), false);
    check_deep("deep unary minus is too deep", repeat("-", 100000), false);
    check_deep("deep not is too deep", repeat("not ", 100000), false);
    check_deep("deep brackets are too deep", repeat("[", 100000), false);
    check_deep("deep ifs are too deep", repeat("if x ", 100000), false);
    check_deep("deep lambdas are too deep", repeat("fun () ", 100000), false);
    char *chain = repeat("1 + ", 100000);
    chain[strlen(chain) - 2] = '\0';
    check_deep("a 100000-term sum is too tall a tree", chain, false);
    char *methods = repeat(".x", 100000);
    methods[0] = 'a';
    check_deep("a long method chain is too tall a tree", methods, false);
    chain = repeat("x .. ", 1000);
    strcpy(chain + strlen(chain) - 3, "  ");
    check_deep("a 1000-term concatenation parses", chain, true);
    char *types = repeat("A{", 100000);
    memcpy(types, "x:", 2);
    check_deep("deep types are too deep", types, false);
    char *many = repeat("f(x) ", 200000);
    check_deep("200000 statements parse", many, true);
}

/* Linear time: a 4 MB program parses in well under a second. */
static void test_speed(void)
{
    char *src = repeat("let x_1 = foo.bar(1, \"two\", [3.0, 4]) + y * 2  # comment\n", 70000);
    clock_t t0 = clock();
    ast_arena *a = ast_arena_new();
    qsyntax_error err;
    qnode *root = parse_program(a, src, strlen(src), &err);
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    ok(root && root->list.len == 70000, "big program parses");
    ok(secs < 2.0, "big program parses quickly");
    tap_diag("  %zu bytes in %.3f s", strlen(src), secs);
    ast_arena_free(a);
    free(src);
}

static void test_format(void)
{
    const char *src = "let a = 1\n\tlet b = (2 +\n";
    qsyntax_error err;
    ast_arena *a = ast_arena_new();
    parse_program(a, src, strlen(src), &err);
    char out[512];
    syntax_error_format(&err, "t.q", src, out, sizeof out);
    is_str(out, "t.q:3:1: unexpected end of input\n  \n  ^", "format at end of input");
    err.line = 2;
    err.col = 11;
    syntax_error_format(&err, "t.q", src, out, sizeof out);
    is_str(out, "t.q:2:11: unexpected end of input\n  \tlet b = (2 +\n  \t         ^", "format keeps tabs");
    syntax_error_format(&err, NULL, NULL, out, 12);
    is_str(out, "<input>:2:1", "format truncates");
    char *line = repeat("x", 500);
    err.line = 1;
    err.col = 300;
    syntax_error_format(&err, "f", line, out, sizeof out);
    ok(strlen(out) < 300 && strstr(out, "...") && out[strlen(out) - 1] == '^', "long lines are windowed");
    free(line);
    ast_arena_free(a);
}

/* ---- files ---------------------------------------------------------------------------- */

static int parse_files(int n, char **paths)
{
    int failed = 0;
    for (int i = 0; i < n; i++) {
        FILE *f = fopen(paths[i], "rb");
        if (!f) {
            printf("%s: cannot open\n", paths[i]);
            failed++;
            continue;
        }
        sbuf b = {0};
        size_t got;
        do {
            if (b.cap - b.len < 65536) {
                b.cap = b.cap * 2 + 65536;
                b.p = realloc(b.p, b.cap + 1);
            }
            got = fread(b.p + b.len, 1, b.cap - b.len, f);
            b.len += got;
        } while (got > 0);
        b.p[b.len] = '\0';
        fclose(f);
        ast_arena *a = ast_arena_new();
        qsyntax_error err;
        if (!parse_program(a, b.p, b.len, &err)) {
            char msg[1024];
            syntax_error_format(&err, paths[i], b.p, msg, sizeof msg);
            printf("%s\n", msg);
            failed++;
        }
        ast_arena_free(a);
        free(b.p);
    }
    printf("%d of %d files failed to parse\n", failed, n);
    return failed != 0;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        return parse_files(argc - 1, argv + 1);
    test_literals();
    test_fstrings();
    test_literal_errors();
    test_precedence();
    test_statements();
    test_functions();
    test_types();
    test_statement_errors();
    test_nesting();
    test_speed();
    test_format();
    return done_testing();
}
