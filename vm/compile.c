/* compile.c — turns the syntax tree into bytecode, one proto per function.
 *
 * Scoping follows the language: module top-level `let`s are module globals;
 * everything else lives in frame slots resolved here, with closures
 * capturing enclosing slots through upvalues (by reference, as Quest's
 * closures are).  Blocks of if/match arms and every loop iteration are
 * fresh scopes; catch and with bodies are not.
 *
 * The value of a function is the value of its last executed statement: a
 * statement in tail position is compiled as a return of its value, and an
 * if/match/try in tail position passes that down to its branches.
 */
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "opcodes.h"
#include "vm_internal.h"

#define MAX_LOCALS 4096
#define MAX_UPVALS 1024
#define MAX_DEPTH 512

typedef struct local {
    qstr *name;
    int depth;
    uint16_t slot;
    bool is_const;
    bool captured;
    bool checked;       /* may be read while unbound (hoisted functions) */
    bool dead;          /* deleted, or a catch/with name whose body ended */
    const char *type;   /* typed let annotation */
} local;

typedef struct upval_desc {
    uint16_t index;
    bool is_local;
    qstr *name;
    bool is_const;
    const char *type;
} upval_desc;

/* Code regions that need work when control leaves them early. */
typedef enum { CTX_HANDLER, CTX_ENSURE, CTX_WITH } ctx_kind;

typedef struct exit_ctx {
    ctx_kind kind;
    qnode *ensure;         /* CTX_ENSURE */
    uint16_t mgr_slot;     /* CTX_WITH: managers in mgr_slot .. +nmgr */
    int nmgr;
    bool is_async;         /* CTX_WITH: `async with` */
    int loop_level;        /* loops open when the region began */
    struct exit_ctx *outer;
} exit_ctx;

typedef struct loop_ctx {
    int *breaks;
    int nbreaks, capbreaks;
    int continue_target;   /* -1 until known: continues are patched */
    int *continues;
    int ncontinues, capcontinues;
    uint16_t close_slot;   /* first slot of the iteration scope */
    bool captures;         /* a closure captures a variable of that scope */
    int level;
    struct loop_ctx *outer;
} loop_ctx;

typedef struct fstate {
    struct fstate *enclosing;
    qproto *proto;
    qbuf code;
    int32_t *lines;
    uint8_t *depths;
    size_t cap_lines;
    qarray *consts;
    qdict *const_strs;     /* dedupe of string constants */
    local *locals;
    int nlocals, caplocals;
    upval_desc *upvals;
    int nupvals, capupvals;
    int depth;             /* 0: function body / module top level */
    uint16_t scope_slots[MAX_DEPTH]; /* next_slot when each open scope began */
    uint16_t next_slot, max_slots;
    loop_ctx *loop;
    int loop_level;
    exit_ctx *exits;
    bool is_module;
    bool is_async;
    int catch_exc_slot;    /* slot of the exception being handled, or -1 */
    int stack_now, stack_max; /* operand stack depth, for the frame's reservation */
    const char *fname;
} fstate;

typedef struct compiler {
    qvm *vm;
    const char *file;
    qstr *file_str;
    fstate *fs;
    compile_mode mode;
    int line;              /* line of the node being compiled */
    bool failed;
    char error[512];
    int err_line, err_col;
} compiler;

static void stmt(compiler *c, qnode *n, bool tail);
static void expr(compiler *c, qnode *n);
static void block(compiler *c, qnode *n, bool tail);
static qproto *function(compiler *c, qast_fun *f, bool is_method);

/* ---- errors ------------------------------------------------------------------ */

static void error_at(compiler *c, qnode *n, const char *msg)
{
    if (c->failed)
        return;
    c->failed = true;
    c->err_line = n ? n->line : c->line;
    c->err_col = n ? n->col : 0;
    snprintf(c->error, sizeof c->error, "%s", msg);
}

/* ---- emitting ------------------------------------------------------------------ */

static int here(compiler *c)
{
    return (int)c->fs->code.len;
}

static void emit_byte(compiler *c, uint8_t b)
{
    fstate *fs = c->fs;
    if (fs->code.len + 1 > fs->cap_lines) {
        fs->cap_lines = fs->cap_lines ? fs->cap_lines * 2 : 256;
        fs->lines = realloc(fs->lines, fs->cap_lines * sizeof(int32_t));
        fs->depths = realloc(fs->depths, fs->cap_lines);
        if (!fs->lines || !fs->depths)
            abort();
    }
    fs->lines[fs->code.len] = c->line;
    fs->depths[fs->code.len] = (uint8_t)(fs->depth < 255 ? fs->depth : 255);
    buf_putc(&fs->code, (char)b);
}

static void emit_u16(compiler *c, unsigned v)
{
    emit_byte(c, (uint8_t)(v & 0xff));
    emit_byte(c, (uint8_t)((v >> 8) & 0xff));
}

static void emit_i32(compiler *c, int32_t v)
{
    uint32_t u = (uint32_t)v;
    for (int i = 0; i < 4; i++)
        emit_byte(c, (uint8_t)(u >> (8 * i)));
}

static const int8_t op_effect[] = {
#define OP_EFFECT(name, n, effect) effect,
    OPCODES(OP_EFFECT)
#undef OP_EFFECT
};

/* Track the operand stack depth so a frame can reserve all it needs. */
static void adjust(compiler *c, int delta)
{
    fstate *fs = c->fs;
    fs->stack_now += delta;
    if (fs->stack_now > fs->stack_max)
        fs->stack_max = fs->stack_now;
}

static void emit_op(compiler *c, qopcode op)
{
    emit_byte(c, (uint8_t)op);
    adjust(c, op_effect[op]);
}

static void emit_op_u16(compiler *c, qopcode op, unsigned v)
{
    emit_op(c, op);
    emit_u16(c, v);
}

static void emit_op_u16_u16(compiler *c, qopcode op, unsigned a, unsigned b)
{
    emit_op(c, op);
    emit_u16(c, a);
    emit_u16(c, b);
}

/* Emit a jump with a placeholder offset; returns the offset's position. */
static int emit_jump(compiler *c, qopcode op)
{
    emit_op(c, op);
    int at = here(c);
    emit_i32(c, 0);
    return at;
}

static void patch_to(compiler *c, int at, int target)
{
    int32_t off = (int32_t)(target - (at + 4));
    uint32_t u = (uint32_t)off;
    for (int i = 0; i < 4; i++)
        c->fs->code.data[at + i] = (char)(u >> (8 * i));
}

static void patch(compiler *c, int at)
{
    patch_to(c, at, here(c));
}

static void emit_loop(compiler *c, int target)
{
    emit_op(c, OP_LOOP);
    int at = here(c);
    emit_i32(c, 0);
    patch_to(c, at, target);
}

static unsigned add_const(compiler *c, qval v)
{
    fstate *fs = c->fs;
    if (fs->consts->len >= 65535) {
        error_at(c, NULL, "too many constants in one function");
        return 0;
    }
    arr_push(c->vm, fs->consts, v);
    return fs->consts->len - 1;
}

/* String constants are interned and shared within a function. */
static unsigned str_const(compiler *c, const char *s, size_t len)
{
    qstr *k = str_intern(c->vm, s, len);
    qval idx;
    if (dict_get(c->fs->const_strs, k, &idx))
        return (unsigned)idx.as.i;
    unsigned i = add_const(c, qv_obj(k));
    dict_set(c->vm, c->fs->const_strs, k, qv_int(i));
    return i;
}

static unsigned name_const(compiler *c, const char *s)
{
    return str_const(c, s, strlen(s));
}

static void emit_const(compiler *c, qval v)
{
    emit_op_u16(c, OP_CONST, add_const(c, v));
}

static void emit_raise(compiler *c, qerr_kind kind, const char *msg)
{
    emit_op_u16_u16(c, OP_RAISE_ERR, kind, name_const(c, msg));
}

/* ---- scopes and variables ------------------------------------------------------------ */

static uint16_t alloc_slot(compiler *c)
{
    fstate *fs = c->fs;
    uint16_t s = fs->next_slot++;
    if (fs->next_slot > fs->max_slots)
        fs->max_slots = fs->next_slot;
    if (fs->next_slot >= MAX_LOCALS)
        error_at(c, NULL, "too many local variables in one function");
    return s;
}

static local *add_local(compiler *c, const char *name)
{
    fstate *fs = c->fs;
    if (fs->nlocals == fs->caplocals) {
        fs->caplocals = fs->caplocals ? fs->caplocals * 2 : 16;
        fs->locals = realloc(fs->locals, (size_t)fs->caplocals * sizeof(local));
        if (!fs->locals)
            abort();
    }
    local *l = &fs->locals[fs->nlocals++];
    memset(l, 0, sizeof *l);
    l->name = str_intern_cstr(c->vm, name);
    l->depth = fs->depth;
    l->slot = alloc_slot(c);
    return l;
}

/* A hidden local: a slot with a name no program can spell. */
static uint16_t hidden_local(compiler *c, const char *what)
{
    return add_local(c, what)->slot;
}

static void begin_scope(compiler *c)
{
    fstate *fs = c->fs;
    if (fs->depth + 1 >= MAX_DEPTH) {
        error_at(c, NULL, "blocks nested too deeply");
        return;
    }
    fs->scope_slots[++fs->depth] = fs->next_slot;
}

/* Locals of the closing scope go away and their slots are reused. */
static void end_scope(compiler *c)
{
    fstate *fs = c->fs;
    if (fs->depth <= 0)
        return;
    while (fs->nlocals > 0 && fs->locals[fs->nlocals - 1].depth >= fs->depth)
        fs->nlocals--;
    fs->next_slot = fs->scope_slots[fs->depth--];
}

static local *find_local_in(fstate *fs, qstr *name)
{
    for (int i = fs->nlocals - 1; i >= 0; i--)
        if (fs->locals[i].name == name && !fs->locals[i].dead)
            return &fs->locals[i];
    return NULL;
}

static int add_upval(compiler *c, fstate *fs, uint16_t index, bool is_local, qstr *name,
                     bool is_const, const char *type)
{
    for (int i = 0; i < fs->nupvals; i++)
        if (fs->upvals[i].index == index && fs->upvals[i].is_local == is_local)
            return i;
    if (fs->nupvals == MAX_UPVALS) {
        error_at(c, NULL, "too many captured variables in one function");
        return 0;
    }
    if (fs->nupvals == fs->capupvals) {
        fs->capupvals = fs->capupvals ? fs->capupvals * 2 : 8;
        fs->upvals = realloc(fs->upvals, (size_t)fs->capupvals * sizeof(upval_desc));
        if (!fs->upvals)
            abort();
    }
    fs->upvals[fs->nupvals] = (upval_desc){index, is_local, name, is_const, type};
    return fs->nupvals++;
}

/* Upvalue index of `name` in fs, or -1 when no enclosing function has it. */
static int find_upval(compiler *c, fstate *fs, qstr *name)
{
    if (!fs->enclosing)
        return -1;
    local *l = find_local_in(fs->enclosing, name);
    if (l) {
        l->captured = true;
        for (loop_ctx *lp = fs->enclosing->loop; lp; lp = lp->outer)
            if (l->slot >= lp->close_slot)
                lp->captures = true;
        return add_upval(c, fs, l->slot, true, name, l->is_const, l->type);
    }
    int up = find_upval(c, fs->enclosing, name);
    if (up < 0)
        return -1;
    upval_desc *u = &fs->enclosing->upvals[up];
    return add_upval(c, fs, (uint16_t)up, false, name, u->is_const, u->type);
}

typedef enum { VAR_LOCAL, VAR_UPVAL, VAR_GLOBAL } var_kind;

typedef struct var_ref {
    var_kind kind;
    int index;
    bool is_const, checked;
    const char *type;
} var_ref;

static var_ref resolve(compiler *c, const char *name)
{
    qstr *k = str_intern_cstr(c->vm, name);
    local *l = find_local_in(c->fs, k);
    if (l)
        return (var_ref){VAR_LOCAL, l->slot, l->is_const, l->checked, l->type};
    int up = find_upval(c, c->fs, k);
    if (up >= 0) {
        upval_desc *u = &c->fs->upvals[up];
        return (var_ref){VAR_UPVAL, up, u->is_const, true, u->type};
    }
    return (var_ref){VAR_GLOBAL, (int)name_const(c, name), false, false, NULL};
}

static void load_var(compiler *c, const char *name)
{
    var_ref r = resolve(c, name);
    switch (r.kind) {
    case VAR_LOCAL:
        if (r.checked)
            emit_op_u16_u16(c, OP_GET_LOCAL_CHK, (unsigned)r.index, name_const(c, name));
        else
            emit_op_u16(c, OP_GET_LOCAL, (unsigned)r.index);
        break;
    case VAR_UPVAL: emit_op_u16_u16(c, OP_GET_UPVAL, (unsigned)r.index, name_const(c, name)); break;
    case VAR_GLOBAL: emit_op_u16(c, OP_GET_GLOBAL, (unsigned)r.index); break;
    }
}

/* Store the value on top of the stack into an existing variable. */
static void store_var(compiler *c, qnode *at, const char *name, bool compound)
{
    var_ref r = resolve(c, name);
    if (r.is_const) {
        char msg[300];
        snprintf(msg, sizeof msg, compound ? "Cannot modify constant '%s'" : "Cannot reassign constant '%s'", name);
        emit_raise(c, E_TYPE, msg);
        return;
    }
    (void)at;
    if (r.type)
        emit_op_u16_u16(c, OP_CHECK_TYPE, name_const(c, r.type), name_const(c, name));
    switch (r.kind) {
    case VAR_LOCAL: emit_op_u16(c, OP_SET_LOCAL, (unsigned)r.index); break;
    case VAR_UPVAL: emit_op_u16(c, OP_SET_UPVAL, (unsigned)r.index); break;
    case VAR_GLOBAL: emit_op_u16(c, OP_SET_GLOBAL, (unsigned)r.index); break;
    }
}

static bool at_module_level(compiler *c)
{
    return c->fs->is_module && c->fs->depth == 0;
}

/* Bind the value on top of the stack to a new variable in the current scope. */
static void define_var(compiler *c, qnode *at, const char *name, unsigned flags, const char *type)
{
    if (at_module_level(c)) {
        if (c->mode == COMPILE_REPL)
            flags |= DEF_REPLACE;
        emit_op_u16_u16(c, OP_DEF_GLOBAL, name_const(c, name), flags);
        return;
    }
    qstr *k = str_intern_cstr(c->vm, name);
    fstate *fs = c->fs;
    for (int i = fs->nlocals - 1; i >= 0 && fs->locals[i].depth == fs->depth; i--) {
        if (fs->locals[i].name == k && !fs->locals[i].dead) {
            local *l = &fs->locals[i];
            if (l->checked && !l->is_const) { /* the hoisted slot of this very function */
                l->is_const = flags & DEF_CONST;
                l->type = type;
                emit_op_u16(c, OP_SET_LOCAL, l->slot);
                return;
            }
            char msg[300];
            snprintf(msg, sizeof msg, "Variable '%s' already declared in this scope", name);
            emit_op(c, OP_POP);
            emit_raise(c, E_NAME, msg);
            (void)at;
            return;
        }
    }
    local *l = add_local(c, name);
    l->is_const = flags & DEF_CONST;
    l->type = type;
    emit_op_u16(c, OP_SET_LOCAL, l->slot);
}

/* ---- leaving regions early (return, break, continue) ---------------------------------- */

/* mgr._exit() for each manager, innermost first, OR-ing their results
 * (truthy: suppress the exception); `async with` awaits each call. */
static void emit_exit_calls(compiler *c, uint16_t first, int n, bool is_async)
{
    emit_op(c, OP_FALSE);
    for (int i = n - 1; i >= 0; i--) {
        emit_op_u16(c, OP_GET_LOCAL, (unsigned)(first + i));
        emit_op_u16_u16(c, OP_INVOKE, name_const(c, "_exit"), 0);
        if (is_async)
            emit_op(c, OP_AWAIT);
        emit_op(c, OP_OR_BOOL);
    }
}

static void emit_with_exits(compiler *c, exit_ctx *x)
{
    emit_exit_calls(c, x->mgr_slot, x->nmgr, x->is_async);
    emit_op(c, OP_POP);
}

/* Unwind the regions entered since loop level `level` (-1: all of them). */
static void emit_exits(compiler *c, int level)
{
    fstate *fs = c->fs;
    exit_ctx *saved = fs->exits;
    for (exit_ctx *x = saved; x && x->loop_level > level; x = x->outer) {
        fs->exits = x->outer; /* code below runs outside the region */
        switch (x->kind) {
        case CTX_HANDLER: emit_op(c, OP_END_TRY); break;
        case CTX_ENSURE:
            emit_op(c, OP_END_TRY);
            block(c, x->ensure, false);
            break;
        case CTX_WITH:
            emit_op(c, OP_END_TRY);
            emit_with_exits(c, x);
            break;
        }
    }
    fs->exits = saved;
}

static void emit_return(compiler *c)
{
    emit_exits(c, -1);
    emit_op(c, OP_RETURN);
}

static void push_exit(compiler *c, exit_ctx *x, ctx_kind kind)
{
    memset(x, 0, sizeof *x);
    x->kind = kind;
    x->loop_level = c->fs->loop_level;
    x->outer = c->fs->exits;
    c->fs->exits = x;
}

static void pop_exit(compiler *c)
{
    c->fs->exits = c->fs->exits->outer;
}

/* ---- expressions ------------------------------------------------------------------------- */

static void args_simple_or_spec(compiler *c, qnode_list *args, bool *simple, qarray **spec)
{
    *simple = true;
    for (int i = 0; i < args->len; i++)
        if (args->items[i]->argkind != ARG_POS)
            *simple = false;
    if (*simple)
        return;
    *spec = arr_new(c->vm, (uint32_t)args->len);
    for (int i = 0; i < args->len; i++) {
        qnode *a = args->items[i];
        qval d = qv_int(0);
        if (a->argkind == ARG_SPREAD)
            d = qv_int(1);
        else if (a->argkind == ARG_KWSPREAD)
            d = qv_int(2);
        else if (a->argkind == ARG_NAMED)
            d = qv_obj(str_intern_cstr(c->vm, a->name));
        arr_push(c->vm, *spec, d);
    }
}

static void push_args(compiler *c, qnode_list *args)
{
    for (int i = 0; i < args->len; i++)
        expr(c, args->items[i]->a);
    if (args->len > 255)
        error_at(c, NULL, "too many arguments in one call");
}

static void call_expr(compiler *c, qnode *n)
{
    bool simple;
    qarray *spec = NULL;
    expr(c, n->a);
    args_simple_or_spec(c, &n->list, &simple, &spec);
    push_args(c, &n->list);
    c->line = n->line;
    if (simple)
        emit_op_u16(c, OP_CALL, (unsigned)n->list.len);
    else
        emit_op_u16(c, OP_CALL_EX, add_const(c, qv_obj(spec)));
    adjust(c, -n->list.len);
}

static void method_expr(compiler *c, qnode *n)
{
    bool simple;
    qarray *spec = NULL;
    expr(c, n->a);
    args_simple_or_spec(c, &n->list, &simple, &spec);
    push_args(c, &n->list);
    c->line = n->line;
    unsigned name = name_const(c, n->name);
    if (simple)
        emit_op_u16_u16(c, OP_INVOKE, name, (unsigned)n->list.len);
    else
        emit_op_u16_u16(c, OP_INVOKE_EX, name, add_const(c, qv_obj(spec)));
    adjust(c, -n->list.len);
}

static const qopcode binop_codes[] = {
    [QOP_ADD] = OP_ADD, [QOP_SUB] = OP_SUB, [QOP_MUL] = OP_MUL, [QOP_DIV] = OP_DIV,
    [QOP_MOD] = OP_MOD, [QOP_CONCAT] = OP_CONCAT, [QOP_EQ] = OP_EQ, [QOP_NE] = OP_NE,
    [QOP_LT] = OP_LT, [QOP_LE] = OP_LE, [QOP_GT] = OP_GT, [QOP_GE] = OP_GE,
    [QOP_BOR] = OP_BOR, [QOP_BXOR] = OP_BXOR, [QOP_BAND] = OP_BAND,
    [QOP_SHL] = OP_SHL, [QOP_SHR] = OP_SHR,
};

/* Fold Int/Float arithmetic on literals; leaves anything that could raise. */
static bool fold_binary(compiler *c, qnode *n)
{
    qnode *a = n->a, *b = n->b;
    if (a->kind != N_INT || b->kind != N_INT)
        return false;
    int64_t x = a->ival, y = b->ival, r;
    switch (n->op) {
    case QOP_ADD: if (__builtin_add_overflow(x, y, &r)) return false; break;
    case QOP_SUB: if (__builtin_sub_overflow(x, y, &r)) return false; break;
    case QOP_MUL: if (__builtin_mul_overflow(x, y, &r)) return false; break;
    default: return false;
    }
    emit_const(c, qv_int(r));
    return true;
}

static void fstring_expr(compiler *c, qnode *n)
{
    for (int i = 0; i < n->list.len; i++) {
        qnode *p = n->list.items[i];
        if (p->kind == N_STR) {
            emit_op_u16(c, OP_CONST, str_const(c, p->str, p->slen));
        } else {
            load_var(c, p->name);
            if (p->str)
                emit_op_u16(c, OP_FORMAT, name_const(c, p->str));
        }
    }
    if (n->list.len == 0)
        emit_op_u16(c, OP_CONST, str_const(c, "", 0));
    else if (n->list.len > 1 || n->list.items[0]->kind != N_STR) {
        emit_op_u16(c, OP_BUILD_STR, (unsigned)n->list.len);
        adjust(c, 1 - n->list.len);
    }
}

static void lambda_expr(compiler *c, qast_fun *f)
{
    qproto *p = function(c, f, false);
    if (p)
        emit_op_u16(c, OP_CLOSURE, add_const(c, qv_obj(p)));
    else
        emit_op(c, OP_NIL);
}

static void magic_expr(compiler *c, qnode *n)
{
    if (strcmp(n->name, "__line__") == 0)
        emit_const(c, qv_int(n->line));
    else if (strcmp(n->name, "__file__") == 0)
        emit_op_u16(c, OP_CONST, str_const(c, c->file_str->data, c->file_str->len));
    else
        emit_op_u16(c, OP_CONST, name_const(c, c->fs->fname));
}

static void literal_expr(compiler *c, qnode *n)
{
    switch (n->kind) {
    case N_NIL: emit_op(c, OP_NIL); break;
    case N_TRUE: emit_op(c, OP_TRUE); break;
    case N_FALSE: emit_op(c, OP_FALSE); break;
    case N_INT: emit_const(c, qv_int(n->ival)); break;
    case N_FLOAT: emit_const(c, qv_float(n->fval)); break;
    case N_STR: emit_op_u16(c, OP_CONST, str_const(c, n->str, n->slen)); break;
    case N_TYPE_NAME: emit_op_u16(c, OP_CONST, name_const(c, n->name)); break;
    case N_BYTES: emit_const(c, qv_obj(bytes_new(c->vm, n->str, n->slen))); break;
    case N_BIGINT: {
        qval v = bigint_from_cstr(c->vm, n->str);
        if (IS_EXC(v)) {
            vm_take_exc(c->vm);
            error_at(c, n, "invalid BigInt literal");
            v = qv_nil();
        }
        emit_const(c, v);
        break;
    }
    default: break;
    }
}

/* The keys of a Dict literal as a template Dict (values nil) that OP_DICT_LIT
 * copies: the keys' hashing and the index are done once, at compile time.
 * NULL for an empty literal or one that repeats a key (a later value
 * replaces an earlier one, and evaluation order must hold). */
static qdict *dict_shape(compiler *c, qnode *n)
{
    if (!n->list.len)
        return NULL;
    qdict *shape = dict_new_sized(c->vm, (uint32_t)n->list.len);
    for (int i = 0; i < n->list.len; i++) {
        qnode *k = n->list.items[i];
        dict_set(c->vm, shape, str_intern(c->vm, k->str, k->slen), qv_nil());
    }
    return shape->count == (uint32_t)n->list.len ? shape : NULL;
}

static void collection_expr(compiler *c, qnode *n)
{
    if (n->kind == N_ARRAY) {
        for (int i = 0; i < n->list.len; i++)
            expr(c, n->list.items[i]);
        emit_op_u16(c, OP_ARRAY, (unsigned)n->list.len);
        adjust(c, 1 - n->list.len);
        return;
    }
    qdict *shape = dict_shape(c, n);
    if (shape) {
        unsigned k = add_const(c, qv_obj(shape));
        for (int i = 0; i < n->list.len; i++)
            expr(c, n->list2.items[i]);
        emit_op_u16(c, OP_DICT_LIT, k);
        adjust(c, 1 - n->list.len);
        return;
    }
    for (int i = 0; i < n->list.len; i++) {
        qnode *k = n->list.items[i];
        emit_op_u16(c, OP_CONST, str_const(c, k->str, k->slen));
        expr(c, n->list2.items[i]);
    }
    emit_op_u16(c, OP_DICT, (unsigned)n->list.len);
    adjust(c, 1 - 2 * n->list.len);
}

static void short_circuit(compiler *c, qnode *n, qopcode op)
{
    expr(c, n->a);
    int j = emit_jump(c, op);
    expr(c, n->b);
    patch(c, j);
}

static void expr(compiler *c, qnode *n)
{
    c->line = n->line;
    switch ((qnode_kind)n->kind) {
    case N_NIL: case N_TRUE: case N_FALSE: case N_INT: case N_FLOAT: case N_STR:
    case N_TYPE_NAME: case N_BYTES: case N_BIGINT:
        literal_expr(c, n);
        break;
    case N_FSTR: fstring_expr(c, n); break;
    case N_MAGIC: magic_expr(c, n); break;
    case N_IDENT: load_var(c, n->name); break;
    case N_ARRAY: case N_DICT: collection_expr(c, n); break;
    case N_UNARY:
        expr(c, n->a);
        emit_op(c, n->op == '-' ? OP_NEG : n->op == '~' ? OP_BNOT : OP_POS);
        break;
    case N_NOT:
        expr(c, n->a);
        emit_op(c, OP_NOT);
        break;
    case N_AWAIT:
        if (!c->fs->is_async && !c->fs->is_module)
            error_at(c, n, "'await' is only allowed inside an async function");
        expr(c, n->a);
        emit_op(c, OP_AWAIT);
        break;
    case N_BINARY:
        if (fold_binary(c, n))
            break;
        expr(c, n->a);
        expr(c, n->b);
        c->line = n->line;
        emit_op(c, binop_codes[n->op]);
        break;
    case N_AND: short_circuit(c, n, OP_AND); break;
    case N_OR: short_circuit(c, n, OP_OR); break;
    case N_ELVIS: short_circuit(c, n, OP_ELVIS); break;
    case N_CALL: call_expr(c, n); break;
    case N_METHOD: method_expr(c, n); break;
    case N_MEMBER:
        expr(c, n->a);
        emit_op_u16(c, OP_GET_FIELD, name_const(c, n->name));
        break;
    case N_INDEX:
        expr(c, n->a);
        if (n->list.len != 1) {
            emit_op(c, OP_POP);
            emit_raise(c, E_INDEX, "Multi-dimensional indexing is not supported");
            emit_op(c, OP_NIL);
            break;
        }
        expr(c, n->list.items[0]);
        c->line = n->line;
        emit_op(c, OP_INDEX);
        break;
    case N_FUN: lambda_expr(c, n->u.fun); break;
    default: error_at(c, n, "expression expected"); break;
    }
}

/* ---- assignment ---------------------------------------------------------------------------- */

static qopcode compound_op(int op)
{
    return op == QOP_ADD ? OP_ADD : binop_codes[op];
}

static void assign_stmt(compiler *c, qnode *n)
{
    qnode *t = n->a;
    bool compound = n->op != QOP_NONE;
    /* `+=` concatenates strings and arrays; the other compound ops are arithmetic. */
    qopcode op = compound ? compound_op(n->op) : OP_ADD;
    switch (t->kind) {
    case N_IDENT:
        if (compound)
            load_var(c, t->name);
        expr(c, n->b);
        if (compound)
            emit_op(c, n->op == QOP_ADD ? OP_IADD : op);
        c->line = n->line;
        store_var(c, n, t->name, compound);
        break;
    case N_INDEX:
        expr(c, t->a);
        expr(c, t->list.items[0]);
        if (compound) {
            emit_op(c, OP_DUP2);
            emit_op(c, OP_INDEX);
        }
        expr(c, n->b);
        if (compound)
            emit_op(c, n->op == QOP_ADD ? OP_IADD : op);
        c->line = n->line;
        emit_op(c, OP_SET_INDEX);
        break;
    case N_MEMBER:
        expr(c, t->a);
        if (compound) {
            emit_op(c, OP_DUP);
            emit_op_u16(c, OP_GET_FIELD, name_const(c, t->name));
        }
        expr(c, n->b);
        if (compound)
            emit_op(c, n->op == QOP_ADD ? OP_IADD : op);
        c->line = n->line;
        emit_op_u16(c, OP_SET_FIELD, name_const(c, t->name));
        break;
    default:
        error_at(c, n, "invalid assignment target");
    }
}

/* ---- declarations ----------------------------------------------------------------------- */

/* `let f = fun ... end` in a function: f is visible inside its own body,
 * so the lambda can recurse (top-level names are globals and already are). */
static void predeclare_lambda(compiler *c, qnode *b)
{
    if (at_module_level(c) || !b->a || b->a->kind != N_FUN)
        return;
    qstr *k = str_intern_cstr(c->vm, b->name);
    local *l = find_local_in(c->fs, k);
    if (l && l->depth == c->fs->depth)
        return; /* redeclaration: define_var reports it */
    l = add_local(c, b->name);
    l->checked = true;
    emit_op_u16(c, OP_DEL_LOCAL, l->slot);
}

static void let_stmt(compiler *c, qnode *n)
{
    if (n->flags & LET_UNDECLARED) {
        emit_raise(c, E_RUNTIME, "A typed declaration needs 'let': write `let name: Type = value`");
        return;
    }
    for (int i = 0; i < n->list.len; i++) {
        qnode *b = n->list.items[i];
        c->line = b->line;
        predeclare_lambda(c, b);
        if (b->a)
            expr(c, b->a);
        else
            emit_op(c, OP_NIL);
        define_var(c, b, b->name, (n->flags & DECL_PUB ? DEF_PUB : 0), b->str);
        if (b->str && at_module_level(c))
            emit_op_u16_u16(c, OP_GLOBAL_TYPE, name_const(c, b->name), name_const(c, b->str));
    }
}

static void del_stmt(compiler *c, qnode *n)
{
    char msg[300];
    if (at_module_level(c)) {
        emit_op_u16(c, OP_DEL_GLOBAL, name_const(c, n->name));
        return;
    }
    qstr *k = str_intern_cstr(c->vm, n->name);
    fstate *fs = c->fs;
    for (int i = fs->nlocals - 1; i >= 0 && fs->locals[i].depth == fs->depth; i--) {
        local *l = &fs->locals[i];
        if (l->name == k && !l->dead) {
            l->dead = true;
            emit_op_u16(c, OP_DEL_LOCAL, l->slot);
            return;
        }
    }
    /* Only the current scope's names can be deleted; an unknown name is a
     * NameErr (raised by the lookup), a visible outer one a RuntimeErr. */
    load_var(c, n->name);
    emit_op(c, OP_POP);
    snprintf(msg, sizeof msg, "Cannot delete '%s' from an outer scope", n->name);
    emit_raise(c, E_RUNTIME, msg);
}

/* Decorators apply bottom-up: the one nearest the function wraps it first. */
static void decorate(compiler *c, qast_fun *f)
{
    for (int i = f->ndecorators - 1; i >= 0; i--) {
        qast_decorator *d = &f->decorators[i];
        c->line = d->line;
        char *dot = strchr(d->name, '.');
        if (dot) {
            char head[256];
            size_t hl = (size_t)(dot - d->name) < sizeof head - 1 ? (size_t)(dot - d->name) : sizeof head - 1;
            memcpy(head, d->name, hl);
            head[hl] = 0;
            load_var(c, head);
            for (char *p = dot; p; ) {
                char *next = strchr(p + 1, '.');
                size_t len = next ? (size_t)(next - p - 1) : strlen(p + 1);
                emit_op_u16(c, OP_GET_FIELD, str_const(c, p + 1, len));
                p = next;
            }
        } else {
            load_var(c, d->name);
        }
        bool simple;
        qarray *spec = NULL;
        args_simple_or_spec(c, &d->args, &simple, &spec);
        if (simple) {
            spec = arr_new(c->vm, (uint32_t)d->args.len);
            for (int j = 0; j < d->args.len; j++)
                arr_push(c->vm, spec, qv_int(0));
        }
        push_args(c, &d->args);
        emit_op_u16(c, OP_DECORATE, add_const(c, qv_obj(spec)));
        adjust(c, -(d->args.len + 1));
    }
}

static void fun_decl(compiler *c, qnode *n)
{
    qast_fun *f = n->u.fun;
    lambda_expr(c, f);
    decorate(c, f);
    c->line = n->line;
    define_var(c, n, f->name, n->flags & DECL_PUB ? DEF_PUB : 0, NULL);
}

static const char *decl_name(qnode *s)
{
    switch (s->kind) {
    case N_FUN_DECL: return s->u.fun->name;
    case N_TYPE_DECL: return s->u.tdecl->name;
    case N_TRAIT_DECL: return s->u.trait->name;
    default: return NULL;
    }
}

/* ---- names used by closures before their declaration ---------------------- */

static bool mentions(qnode *n, const char *name, bool in_fun);

static bool fun_mentions(qast_fun *f, const char *name)
{
    for (int i = 0; i < f->nparams; i++)
        if (f->params[i].def && mentions(f->params[i].def, name, true))
            return true;
    return mentions(f->body, name, true);
}

static bool list_mentions(qnode_list *l, const char *name, bool in_fun)
{
    for (int i = 0; i < l->len; i++)
        if (mentions(l->items[i], name, in_fun))
            return true;
    return false;
}

/* Does n refer to `name` from inside a function nested in it? */
static bool mentions(qnode *n, const char *name, bool in_fun)
{
    if (!n)
        return false;
    if (in_fun && (n->kind == N_IDENT || n->kind == N_FSTR_VAR) && strcmp(n->name, name) == 0)
        return true;
    if (n->kind == N_FUN || n->kind == N_FUN_DECL)
        return fun_mentions(n->u.fun, name);
    if (n->kind == N_TYPE_DECL) {
        qast_type *t = n->u.tdecl;
        for (int i = 0; i < t->nmethods; i++)
            if (fun_mentions(t->methods[i], name))
                return true;
        for (int i = 0; i < t->nimpls; i++)
            for (int j = 0; j < t->impls[i].nmethods; j++)
                if (fun_mentions(t->impls[i].methods[j], name))
                    return true;
        return false;
    }
    return mentions(n->a, name, in_fun) || mentions(n->b, name, in_fun) ||
           mentions(n->c, name, in_fun) || mentions(n->d, name, in_fun) ||
           list_mentions(&n->list, name, in_fun) || list_mentions(&n->list2, name, in_fun);
}

/* A closure may use a local of its enclosing function that is declared
 * after the closure (names are looked up when the closure runs).  Such
 * `let`s get their slot at the start of the block, unbound until the let. */
static void hoist_late_lets(compiler *c, qnode *blk)
{
    for (int i = 1; i < blk->list.len; i++) {
        qnode *st = blk->list.items[i];
        if (st->kind != N_LET && st->kind != N_CONST)
            continue;
        for (int k = 0; k < (st->kind == N_LET ? st->list.len : 1); k++) {
            const char *name = st->kind == N_LET ? st->list.items[k]->name : st->name;
            if (resolve(c, name).kind != VAR_GLOBAL)
                continue;
            bool used = false;
            for (int j = 0; j < i && !used; j++)
                used = mentions(blk->list.items[j], name, false);
            if (!used)
                continue;
            local *l = add_local(c, name);
            l->checked = true;
            emit_op_u16(c, OP_DEL_LOCAL, l->slot);
        }
    }
}

/* Functions, types and traits declared in a block are visible to the whole
 * block, so they can refer to each other (and themselves) in any order. */
static void hoist_declarations(compiler *c, qnode *blk)
{
    if (at_module_level(c))
        return;
    hoist_late_lets(c, blk);
    for (int i = 0; i < blk->list.len; i++) {
        const char *name = decl_name(blk->list.items[i]);
        if (!name)
            continue;
        qstr *k = str_intern_cstr(c->vm, name);
        local *l = find_local_in(c->fs, k);
        if (l && l->depth == c->fs->depth)
            continue;
        l = add_local(c, name);
        l->checked = true;
        emit_op_u16(c, OP_DEL_LOCAL, l->slot);
    }
}

static qtype *type_template(compiler *c, qast_type *t)
{
    qvm *vm = c->vm;
    qtype *tt = vm_alloc_obj(vm, sizeof(qtype), QO_TYPE);
    tt->tkind = QT_USER;
    tt->name = str_intern_cstr(vm, t->name);
    tt->doc = t->doc ? str_cstr(vm, t->doc) : NULL;
    tt->methods = dict_new(vm);
    tt->statics = dict_new(vm);
    tt->traits = arr_new(vm, 0);
    tt->nfields = (uint32_t)t->nfields;
    tt->fields = vm_realloc(vm, NULL, 0, (size_t)t->nfields * sizeof(qfield));
    for (int i = 0; i < t->nfields; i++) {
        qast_field *f = &t->fields[i];
        tt->fields[i] = (qfield){
            .name = str_intern_cstr(vm, f->name),
            .type = f->type ? str_intern_cstr(vm, f->type) : NULL,
            .pub = f->pub,
            .optional = f->optional || f->def,
            .has_default = f->def != NULL,
            .def = qv_nil(),
        };
    }
    for (int i = 0; i < t->nimpls; i++)
        arr_push(vm, tt->traits, qv_obj(str_intern_cstr(vm, t->impls[i].trait)));
    return tt;
}

static void method_closure(compiler *c, qtype *tt, qast_fun *m, int *count)
{
    if (m->ndecorators) {
        char msg[300];
        snprintf(msg, sizeof msg, "Decorators are not supported on methods (%s.%s)", tt->name->data, m->name);
        emit_raise(c, E_TYPE, msg);
    }
    qproto *p = function(c, m, !m->is_static);
    emit_op_u16(c, OP_CLOSURE, add_const(c, qv_obj(p ? (qobj *)p : NULL)));
    qdict *table = m->is_static ? tt->statics : tt->methods;
    dict_set(c->vm, table, str_intern_cstr(c->vm, m->name), qv_int((*count)++));
}

static bool builtin_type_name(const char *t)
{
    static const char *const names[] = {
        "Int", "Float", "Num", "Str", "Bool", "Array", "Dict", "Nil", "Decimal", "BigInt",
        "Uuid", "Bytes", "Set", "Obj", "Any", "Fun", "Func", "Function", "Task", "Channel", NULL,
    };
    for (int i = 0; names[i]; i++)
        if (strcmp(names[i], t) == 0)
            return true;
    return strchr(t, '.') != NULL; /* module.Type: checked when values arrive */
}

/* A field's type must exist when its type is declared. */
static void check_field_types(compiler *c, qast_type *t)
{
    for (int i = 0; i < t->nfields; i++) {
        const char *ft = t->fields[i].type;
        if (!ft || builtin_type_name(ft) || strcmp(ft, t->name) == 0)
            continue;
        c->line = t->fields[i].line;
        load_var(c, ft);
        emit_op(c, OP_POP);
    }
}

static void type_decl(compiler *c, qnode *n)
{
    qast_type *t = n->u.tdecl;
    check_field_types(c, t);
    qtype *tt = type_template(c, t);
    unsigned k = add_const(c, qv_obj(tt));
    for (int i = 0; i < t->nfields; i++)
        if (t->fields[i].def)
            expr(c, t->fields[i].def);
    int count = 0, ndefaults = 0;
    for (int i = 0; i < t->nfields; i++)
        ndefaults += t->fields[i].def != NULL;
    for (int i = 0; i < t->nmethods; i++)
        method_closure(c, tt, t->methods[i], &count);
    for (int i = 0; i < t->nimpls; i++)
        for (int j = 0; j < t->impls[i].nmethods; j++)
            method_closure(c, tt, t->impls[i].methods[j], &count);
    for (int i = 0; i < t->nimpls; i++) {
        c->line = t->impls[i].line;
        var_ref r = resolve(c, t->impls[i].trait);
        if (r.kind == VAR_GLOBAL)
            emit_op_u16(c, OP_GET_TRAIT, (unsigned)r.index);
        else
            load_var(c, t->impls[i].trait);
    }
    c->line = n->line;
    emit_op_u16_u16(c, OP_TYPE_DEF, k, (unsigned)count);
    adjust(c, 1 - ndefaults - count - t->nimpls);
    define_var(c, n, t->name, n->flags & DECL_PUB ? DEF_PUB : 0, NULL);
}

/* "Trait definition: T\nRequired methods:\n  fun m(a, b)" */
static qstr *trait_default_doc(qvm *vm, qast_trait *t)
{
    qbuf b;
    buf_init(&b);
    buf_printf(&b, "Trait definition: %s", t->name);
    if (t->nmethods)
        buf_puts(&b, "\nRequired methods:");
    for (int i = 0; i < t->nmethods; i++) {
        qast_trait_method *m = &t->methods[i];
        buf_printf(&b, "\n  fun %s(", m->name);
        for (int j = 0; j < m->nparams; j++)
            buf_printf(&b, "%s%s", j ? ", " : "", m->params ? m->params[j].name : "?");
        buf_putc(&b, ')');
        if (m->ret_type)
            buf_printf(&b, " -> %s", m->ret_type);
    }
    return buf_to_str(vm, &b);
}

static void trait_decl(compiler *c, qnode *n)
{
    qvm *vm = c->vm;
    qast_trait *t = n->u.trait;
    qtrait *tr = vm_alloc_obj(vm, sizeof(qtrait), QO_TRAIT);
    tr->name = str_intern_cstr(vm, t->name);
    tr->doc = t->doc ? str_cstr(vm, t->doc) : trait_default_doc(vm, t);
    tr->nmethods = (uint32_t)t->nmethods;
    tr->method_names = vm_realloc(vm, NULL, 0, (size_t)t->nmethods * sizeof(qstr *));
    tr->method_arity = vm_realloc(vm, NULL, 0, (size_t)t->nmethods * sizeof(int));
    for (int i = 0; i < t->nmethods; i++) {
        tr->method_names[i] = str_intern_cstr(vm, t->methods[i].name);
        tr->method_arity[i] = t->methods[i].nparams;
    }
    emit_op_u16(c, OP_TRAIT_DEF, add_const(c, qv_obj(tr)));
    define_var(c, n, t->name, n->flags & DECL_PUB ? DEF_PUB : 0, NULL);
}

/* `use "std/x/y"` binds y; `use "dir/file.q"` binds file; `use ".rel"` binds rel. */
static const char *default_alias(compiler *c, const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    while (*base == '.')
        base++;
    size_t len = strlen(base);
    if (len > 2 && strcmp(base + len - 2, ".q") == 0)
        len -= 2;
    return str_intern(c->vm, base, len)->data;
}

static void use_stmt(compiler *c, qnode *n)
{
    const char *alias = n->name ? n->name : default_alias(c, n->str);
    emit_op_u16_u16(c, OP_USE, str_const(c, n->str, strlen(n->str)), name_const(c, alias));
    for (int i = 0; i < n->list.len; i++) {
        qnode *imp = n->list.items[i];
        emit_op(c, OP_DUP);
        emit_op_u16(c, OP_IMPORT_NAME, name_const(c, imp->name));
        define_var(c, imp, imp->name2 ? imp->name2 : imp->name, 0, NULL);
    }
    if (n->list.len && !n->name)
        emit_op(c, OP_POP);
    else
        define_var(c, n, alias, 0, NULL);
}

/* ---- control flow --------------------------------------------------------------------------- */

static void if_stmt(compiler *c, qnode *n, bool tail)
{
    int ends[256], nends = 0;
    for (int i = 0; i < n->list.len; i++) {
        expr(c, n->list.items[i]);
        int skip = emit_jump(c, OP_JUMP_IF_FALSE);
        begin_scope(c);
        block(c, n->list2.items[i], tail);
        end_scope(c);
        if (nends < 256)
            ends[nends++] = emit_jump(c, OP_JUMP);
        patch(c, skip);
    }
    if (n->b) {
        begin_scope(c);
        block(c, n->b, tail);
        end_scope(c);
    }
    for (int i = 0; i < nends; i++)
        patch(c, ends[i]);
}

static void loop_begin(compiler *c, loop_ctx *l, uint16_t close_slot)
{
    memset(l, 0, sizeof *l);
    l->continue_target = -1;
    l->close_slot = close_slot;
    l->outer = c->fs->loop;
    l->level = ++c->fs->loop_level;
    c->fs->loop = l;
}

static void push_patch(int **arr, int *n, int *cap, int at)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        *arr = realloc(*arr, (size_t)*cap * sizeof(int));
        if (!*arr)
            abort();
    }
    (*arr)[(*n)++] = at;
}

/* Continue target reached: close this iteration's captured variables
 * (the body is compiled by now, so whether there are any is known). */
static void loop_continue_here(compiler *c)
{
    loop_ctx *l = c->fs->loop;
    for (int i = 0; i < l->ncontinues; i++)
        patch(c, l->continues[i]);
    if (l->captures)
        emit_op_u16(c, OP_CLOSE_UPVALS, l->close_slot);
}

static void loop_end(compiler *c)
{
    loop_ctx *l = c->fs->loop;
    for (int i = 0; i < l->nbreaks; i++)
        patch(c, l->breaks[i]);
    free(l->breaks);
    free(l->continues);
    c->fs->loop = l->outer;
    c->fs->loop_level--;
}

static void break_stmt(compiler *c, qnode *n, bool is_break)
{
    loop_ctx *l = c->fs->loop;
    if (!l) {
        error_at(c, n, is_break ? "'break' outside of a loop" : "'continue' outside of a loop");
        return;
    }
    emit_exits(c, l->level - 1);
    if (is_break) {
        emit_op_u16(c, OP_CLOSE_UPVALS, l->close_slot);
        push_patch(&l->breaks, &l->nbreaks, &l->capbreaks, emit_jump(c, OP_JUMP));
    } else {
        push_patch(&l->continues, &l->ncontinues, &l->capcontinues, emit_jump(c, OP_JUMP));
    }
}

static void while_stmt(compiler *c, qnode *n)
{
    loop_ctx l;
    int top = here(c), exit = -1;
    if (n->a->kind != N_TRUE) { /* `while true` has nothing to test */
        expr(c, n->a);
        exit = emit_jump(c, OP_JUMP_IF_FALSE);
    }
    loop_begin(c, &l, c->fs->next_slot);
    begin_scope(c);
    block(c, n->b, false);
    end_scope(c);
    loop_continue_here(c);
    emit_loop(c, top);
    if (exit >= 0)
        patch(c, exit);
    loop_end(c);
}

static void for_range(compiler *c, qnode *n)
{
    expr(c, n->a);
    expr(c, n->c);
    if (n->d)
        expr(c, n->d);
    uint16_t st = hidden_local(c, "(range)");
    hidden_local(c, "(end)");
    hidden_local(c, "(step)");
    hidden_local(c, "(until)");
    c->line = n->line;
    emit_op_u16_u16(c, OP_RANGE_INIT, st, (n->d ? RANGE_STEP : 0) | (n->flags & FOR_UNTIL ? RANGE_UNTIL : 0));
    adjust(c, n->d ? -3 : -2);
    loop_ctx l;
    int top = here(c);
    emit_op_u16(c, OP_RANGE_NEXT, st);
    int exit = here(c);
    emit_i32(c, 0);
    loop_begin(c, &l, (uint16_t)(st + 4));
    begin_scope(c);
    local *v = add_local(c, n->name);
    (void)v;
    block(c, n->b, false);
    end_scope(c);
    loop_continue_here(c);
    emit_loop(c, top);
    patch(c, exit);
    loop_end(c);
}

static void for_each(compiler *c, qnode *n)
{
    expr(c, n->a);
    uint16_t st = hidden_local(c, "(iter)");
    hidden_local(c, "(pos)");
    hidden_local(c, "(dict)");
    c->line = n->line;
    emit_op_u16(c, OP_ITER_INIT, st);
    loop_ctx l;
    int top = here(c);
    emit_op_u16_u16(c, OP_ITER_NEXT, st, n->name2 ? 2 : 1);
    int exit = here(c);
    emit_i32(c, 0);
    loop_begin(c, &l, (uint16_t)(st + 3));
    begin_scope(c);
    add_local(c, n->name);
    if (n->name2)
        add_local(c, n->name2);
    block(c, n->b, false);
    end_scope(c);
    loop_continue_here(c);
    emit_loop(c, top);
    patch(c, exit);
    loop_end(c);
}

static void for_stmt(compiler *c, qnode *n)
{
    begin_scope(c);
    if (n->flags & FOR_RANGE)
        for_range(c, n);
    else
        for_each(c, n);
    end_scope(c);
}

static void match_arm_test(compiler *c, qnode *arm, uint16_t subj, int *to_next)
{
    if (arm->flags & ARM_RANGE) {
        emit_op_u16(c, OP_GET_LOCAL, subj);
        expr(c, arm->a);
        expr(c, arm->c);
        if (arm->d)
            expr(c, arm->d);
        emit_op_u16(c, OP_MATCH_RANGE, (arm->d ? RANGE_STEP : 0) | (arm->flags & ARM_UNTIL ? RANGE_UNTIL : 0));
        adjust(c, arm->d ? -3 : -2);
        *to_next = emit_jump(c, OP_JUMP_IF_FALSE);
        return;
    }
    int hits[256], nhits = 0;
    for (int i = 0; i < arm->list.len; i++) {
        emit_op_u16(c, OP_GET_LOCAL, subj);
        expr(c, arm->list.items[i]);
        emit_op(c, OP_EQ);
        if (i + 1 < arm->list.len && nhits < 256)
            hits[nhits++] = emit_jump(c, OP_JUMP_IF_TRUE);
    }
    *to_next = emit_jump(c, OP_JUMP_IF_FALSE);
    for (int i = 0; i < nhits; i++)
        patch(c, hits[i]);
}

static void match_stmt(compiler *c, qnode *n, bool tail)
{
    begin_scope(c);
    expr(c, n->a);
    uint16_t subj = hidden_local(c, "(match)");
    emit_op_u16(c, OP_SET_LOCAL, subj);
    int ends[512], nends = 0;
    for (int i = 0; i < n->list.len; i++) {
        qnode *arm = n->list.items[i];
        int to_next;
        c->line = arm->line;
        match_arm_test(c, arm, subj, &to_next);
        begin_scope(c);
        block(c, arm->b, tail);
        end_scope(c);
        if (nends < 512)
            ends[nends++] = emit_jump(c, OP_JUMP);
        patch(c, to_next);
    }
    if (n->b) {
        begin_scope(c);
        block(c, n->b, tail);
        end_scope(c);
    }
    for (int i = 0; i < nends; i++)
        patch(c, ends[i]);
    end_scope(c);
}

/* One catch clause; the exception is in slot exc.  Returns the jump to the end. */
static int catch_clause(compiler *c, qnode *cl, uint16_t exc, bool tail)
{
    int next = -1;
    c->line = cl->line;
    if (cl->str) {
        emit_op_u16(c, OP_GET_LOCAL, exc);
        load_var(c, cl->str);
        next = emit_jump(c, OP_CATCH_IS);
    }
    /* The variable lives in the enclosing scope for the body's duration. */
    local *var = NULL;
    if (cl->name) {
        emit_op_u16(c, OP_GET_LOCAL, exc);
        emit_op(c, OP_CATCH_VALUE);
        var = add_local(c, cl->name);
        emit_op_u16(c, OP_SET_LOCAL, var->slot);
    }
    int saved = c->fs->catch_exc_slot;
    c->fs->catch_exc_slot = exc;
    int var_index = var ? (int)(var - c->fs->locals) : -1;
    block(c, cl->a, tail);
    c->fs->catch_exc_slot = saved;
    if (var_index >= 0) {
        c->fs->locals[var_index].dead = true;
        emit_op_u16(c, OP_DEL_LOCAL, c->fs->locals[var_index].slot);
    }
    int end = emit_jump(c, OP_JUMP);
    if (next >= 0)
        patch(c, next);
    return end;
}

static void try_stmt(compiler *c, qnode *n, bool tail)
{
    exit_ctx ens, hnd;
    int fin = -1;
    for (int i = 0; i < n->list.len; i++) { /* catch types are checked before the body runs */
        qnode *cl = n->list.items[i];
        if (cl->str) {
            c->line = cl->line;
            load_var(c, cl->str);
            emit_op(c, OP_CATCH_CHECK);
        }
    }
    c->line = n->line;
    if (n->b) {
        fin = emit_jump(c, OP_TRY);
        push_exit(c, &ens, CTX_ENSURE);
        ens.ensure = n->b;
    }
    int ends[64], nends = 0;
    if (n->list.len) {
        int handler = emit_jump(c, OP_TRY);
        push_exit(c, &hnd, CTX_HANDLER);
        begin_scope(c);
        block(c, n->a, tail);
        end_scope(c);
        pop_exit(c);
        emit_op(c, OP_END_TRY);
        ends[nends++] = emit_jump(c, OP_JUMP);
        patch(c, handler);
        adjust(c, 1); /* the unwinder pushes the exception */
        uint16_t exc = hidden_local(c, "(exc)");
        emit_op_u16(c, OP_SET_LOCAL, exc);
        for (int i = 0; i < n->list.len && nends < 64; i++)
            ends[nends++] = catch_clause(c, n->list.items[i], exc, tail);
        emit_op_u16(c, OP_GET_LOCAL, exc);
        emit_op(c, OP_RAISE);
    } else {
        begin_scope(c);
        block(c, n->a, tail);
        end_scope(c);
    }
    for (int i = 0; i < nends; i++)
        patch(c, ends[i]);
    if (n->b) {
        pop_exit(c);
        emit_op(c, OP_END_TRY);
        block(c, n->b, false);
        int end = emit_jump(c, OP_JUMP);
        patch(c, fin);
        adjust(c, 1);
        uint16_t exc = hidden_local(c, "(exc)");
        emit_op_u16(c, OP_SET_LOCAL, exc);
        block(c, n->b, false);
        emit_op_u16(c, OP_GET_LOCAL, exc);
        emit_op(c, OP_RAISE);
        patch(c, end);
    }
}

static void raise_stmt(compiler *c, qnode *n)
{
    if (n->a) {
        expr(c, n->a);
    } else if (c->fs->catch_exc_slot >= 0) {
        emit_op_u16(c, OP_GET_LOCAL, (unsigned)c->fs->catch_exc_slot);
    } else {
        emit_raise(c, E_RUNTIME, "No active exception to re-raise");
        return;
    }
    c->line = n->line;
    emit_op(c, OP_RAISE);
}

static void with_stmt(compiler *c, qnode *n)
{
    int nmgr = n->list.len;
    if ((n->flags & WITH_ASYNC) && !c->fs->is_async && !c->fs->is_module)
        error_at(c, n, "'async with' is only allowed inside an async function");
    /* Inside an async function a plain `with` awaits _enter/_exit too when
     * they return Tasks (awaiting any other value yields it unchanged). */
    bool is_async = (n->flags & WITH_ASYNC) || c->fs->is_async;
    uint16_t first = 0;
    for (int i = 0; i < nmgr; i++) {
        uint16_t s = hidden_local(c, "(with)");
        if (i == 0)
            first = s;
    }
    int alias_index[64];
    for (int i = 0; i < nmgr && i < 64; i++) {
        qnode *it = n->list.items[i];
        c->line = it->line;
        expr(c, it->a);
        emit_op(c, OP_DUP);
        emit_op_u16(c, OP_SET_LOCAL, (unsigned)(first + i));
        emit_op_u16_u16(c, OP_INVOKE, name_const(c, "_enter"), 0);
        if (is_async)
            emit_op(c, OP_AWAIT);
        alias_index[i] = -1;
        if (it->name) {
            local *l = add_local(c, it->name);
            alias_index[i] = (int)(l - c->fs->locals);
            emit_op_u16(c, OP_SET_LOCAL, l->slot);
        } else {
            emit_op(c, OP_POP);
        }
    }
    exit_ctx x;
    int handler = emit_jump(c, OP_TRY);
    push_exit(c, &x, CTX_WITH);
    x.mgr_slot = first;
    x.nmgr = nmgr;
    x.is_async = is_async;
    block(c, n->b, false);
    pop_exit(c);
    emit_op(c, OP_END_TRY);
    emit_with_exits(c, &x);
    int end = emit_jump(c, OP_JUMP);
    patch(c, handler);
    adjust(c, 1);
    uint16_t exc = hidden_local(c, "(exc)");
    emit_op_u16(c, OP_SET_LOCAL, exc);
    emit_exit_calls(c, first, nmgr, is_async);
    int suppressed = emit_jump(c, OP_JUMP_IF_TRUE);
    emit_op_u16(c, OP_GET_LOCAL, exc);
    emit_op(c, OP_RAISE);
    patch(c, suppressed);
    patch(c, end);
    for (int i = 0; i < nmgr && i < 64; i++) {
        if (alias_index[i] >= 0) {
            c->fs->locals[alias_index[i]].dead = true;
            emit_op_u16(c, OP_DEL_LOCAL, c->fs->locals[alias_index[i]].slot);
        }
    }
}

static void return_stmt(compiler *c, qnode *n)
{
    if (n->a)
        expr(c, n->a);
    else
        emit_op(c, OP_NIL);
    if (c->fs->is_module && n->a) { /* a top-level return ends the module; its value is nil */
        emit_op(c, OP_POP);
        emit_op(c, OP_NIL);
    }
    c->line = n->line;
    if (c->fs->proto->ret_type && n->a)
        emit_op_u16(c, OP_CHECK_RET, name_const(c, c->fs->proto->ret_type->data));
    emit_return(c);
}

static void stmt(compiler *c, qnode *n, bool tail)
{
    c->line = n->line;
    switch ((qnode_kind)n->kind) {
    case N_EXPR_STMT:
        expr(c, n->a);
        if (tail) {
            if (c->fs->proto->ret_type)
                emit_op_u16(c, OP_CHECK_RET, name_const(c, c->fs->proto->ret_type->data));
            emit_return(c);
        } else {
            emit_op(c, OP_POP);
        }
        break;
    case N_LET: let_stmt(c, n); break;
    case N_CONST:
        expr(c, n->a);
        define_var(c, n, n->name, DEF_CONST | (n->flags & DECL_PUB ? DEF_PUB : 0), NULL);
        break;
    case N_ASSIGN: assign_stmt(c, n); break;
    case N_DEL: del_stmt(c, n); break;
    case N_IF: if_stmt(c, n, tail); break;
    case N_WHILE: while_stmt(c, n); break;
    case N_FOR: for_stmt(c, n); break;
    case N_MATCH: match_stmt(c, n, tail); break;
    case N_TRY: try_stmt(c, n, tail); break;
    case N_RAISE: raise_stmt(c, n); break;
    case N_WITH: with_stmt(c, n); break;
    case N_RETURN: return_stmt(c, n); break;
    case N_BREAK: break_stmt(c, n, true); break;
    case N_CONTINUE: break_stmt(c, n, false); break;
    case N_FUN_DECL: fun_decl(c, n); break;
    case N_TYPE_DECL: type_decl(c, n); break;
    case N_TRAIT_DECL: trait_decl(c, n); break;
    case N_USE: use_stmt(c, n); break;
    case N_DOC: break;
    case N_BLOCK: block(c, n, tail); break;
    default: error_at(c, n, "statement expected"); break;
    }
}

static void block(compiler *c, qnode *n, bool tail)
{
    if (!n)
        return;
    hoist_declarations(c, n);
    for (int i = 0; i < n->list.len && !c->failed; i++)
        stmt(c, n->list.items[i], tail && i == n->list.len - 1);
}

/* ---- functions --------------------------------------------------------------------------------- */

static qstr *intern_or_null(qvm *vm, const char *s)
{
    return s ? str_intern_cstr(vm, s) : NULL;
}

/* Title-case a lower-case annotation (`str` means `Str`). */
static qstr *annotation(qvm *vm, const char *s)
{
    if (!s)
        return NULL;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", s);
    if (buf[0] >= 'a' && buf[0] <= 'z' && !strchr(buf, '.'))
        buf[0] = (char)(buf[0] - 'a' + 'A');
    return str_intern_cstr(vm, buf);
}

static void fstate_open(compiler *c, fstate *fs, qproto *p, const char *fname)
{
    memset(fs, 0, sizeof *fs);
    fs->enclosing = c->fs;
    fs->proto = p;
    buf_init(&fs->code);
    fs->consts = arr_new(c->vm, 8);
    fs->const_strs = dict_new(c->vm);
    fs->catch_exc_slot = -1;
    fs->fname = fname;
    vm_push_root(c->vm, qv_obj(p));
    vm_push_root(c->vm, qv_obj(fs->consts));
    vm_push_root(c->vm, qv_obj(fs->const_strs));
    c->fs = fs;
}

/* Move the finished code and constants into the proto. */
static void fstate_close(compiler *c, fstate *fs)
{
    qvm *vm = c->vm;
    qproto *p = fs->proto;
    p->code_len = (uint32_t)fs->code.len;
    p->code = vm_realloc(vm, NULL, 0, fs->code.len ? fs->code.len : 1);
    memcpy(p->code, fs->code.data, fs->code.len);
    p->lines = vm_realloc(vm, NULL, 0, (fs->code.len ? fs->code.len : 1) * sizeof(int32_t));
    memcpy(p->lines, fs->lines, fs->code.len * sizeof(int32_t));
    p->depths = vm_realloc(vm, NULL, 0, fs->code.len ? fs->code.len : 1);
    memcpy(p->depths, fs->depths, fs->code.len);
    p->nconsts = fs->consts->len;
    p->consts = vm_realloc(vm, NULL, 0, (p->nconsts ? p->nconsts : 1) * sizeof(qval));
    memcpy(p->consts, fs->consts->items, p->nconsts * sizeof(qval));
    p->nupvals = (uint16_t)fs->nupvals;
    p->upval_is_local = vm_realloc(vm, NULL, 0, fs->nupvals ? (size_t)fs->nupvals : 1);
    p->upval_index = vm_realloc(vm, NULL, 0, (fs->nupvals ? (size_t)fs->nupvals : 1) * sizeof(uint16_t));
    for (int i = 0; i < fs->nupvals; i++) {
        p->upval_is_local[i] = fs->upvals[i].is_local;
        p->upval_index[i] = fs->upvals[i].index;
    }
    p->nslots = fs->max_slots;
    p->maxstack = (uint32_t)fs->stack_max;
    buf_free(&fs->code);
    free(fs->lines);
    free(fs->depths);
    free(fs->locals);
    free(fs->upvals);
    vm_pop_roots(vm, 3);
    c->fs = fs->enclosing;
}

static qproto *proto_new(compiler *c, const char *name, int line)
{
    qproto *p = vm_alloc_obj(c->vm, sizeof(qproto), QO_PROTO);
    p->name = str_intern_cstr(c->vm, name);
    p->file = c->file_str;
    p->line = line;
    p->varargs = p->kwargs = -1;
    return p;
}

/* Parameters occupy slots 1..; each default is computed by the prologue
 * when the caller did not bind the slot. */
static void params(compiler *c, qast_fun *f)
{
    qvm *vm = c->vm;
    qproto *p = c->fs->proto;
    p->nparams = (uint16_t)f->nparams;
    p->params = vm_realloc(vm, NULL, 0, (size_t)(f->nparams ? f->nparams : 1) * sizeof(qparam));
    for (int i = 1; i < f->nparams; i++) {
        if (f->params[i - 1].def && !f->params[i].def) {
            char msg[300];
            snprintf(msg, sizeof msg, "required parameter '%s' follows an optional one", f->params[i].name);
            error_at(c, NULL, msg);
            c->err_line = f->params[i].line;
            c->err_col = f->params[i].col;
        }
    }
    for (int i = 0; i < f->nparams; i++) {
        p->params[i] = (qparam){str_intern_cstr(vm, f->params[i].name), annotation(vm, f->params[i].type),
                                f->params[i].def != NULL};
        p->params_typed |= f->params[i].type != NULL;
        add_local(c, f->params[i].name);
    }
    if (f->varargs)
        p->varargs = (int16_t)add_local(c, f->varargs)->slot;
    if (f->kwargs)
        p->kwargs = (int16_t)add_local(c, f->kwargs)->slot;
    for (int i = 0; i < f->nparams; i++) {
        if (!f->params[i].def)
            continue;
        c->line = f->params[i].line;
        emit_op_u16(c, OP_ARG_DEFAULT, (unsigned)(i + 1));
        int skip = here(c);
        emit_i32(c, 0);
        expr(c, f->params[i].def);
        emit_op_u16(c, OP_SET_LOCAL, (unsigned)(i + 1));
        patch(c, skip);
    }
}

static qproto *function(compiler *c, qast_fun *f, bool is_method)
{
    const char *fname = f->name ? f->name : "<anonymous>";
    qproto *p = proto_new(c, fname, f->line);
    p->is_method = is_method;
    p->is_async = f->is_async;
    p->is_lambda = f->name == NULL;
    p->doc = f->doc ? str_cstr(c->vm, f->doc) : NULL;
    p->ret_type = annotation(c->vm, f->ret_type);
    fstate fs;
    fstate_open(c, &fs, p, fname);
    fs.is_async = f->is_async;
    add_local(c, is_method || f->is_static ? "self" : "(callee)");
    params(c, f);
    block(c, f->body, true);
    c->line = f->end_line ? f->end_line : c->line;
    emit_op(c, OP_NIL);
    emit_op(c, OP_RETURN);
    fstate_close(c, &fs);
    (void)intern_or_null;
    return p;
}

qproto *compile_program(qvm *vm, qnode *program, const char *file, compile_mode mode)
{
    compiler c;
    memset(&c, 0, sizeof c);
    c.vm = vm;
    c.file = file;
    c.file_str = str_intern_cstr(vm, file);
    c.mode = mode;
    qproto *p = proto_new(&c, "<module>", 1);
    fstate fs;
    fstate_open(&c, &fs, p, "<module>");
    fs.is_module = true;
    fs.enclosing = NULL;
    add_local(&c, "(module)");
    qnode *first = program->list.len ? program->list.items[0] : NULL;
    if (first && first->kind == N_EXPR_STMT && first->a->kind == N_STR)
        p->doc = str_new(vm, first->a->str, first->a->slen);
    block(&c, program, true);
    emit_op(&c, OP_NIL);
    emit_op(&c, OP_RETURN);
    fstate_close(&c, &fs);
    if (c.failed) {
        vm_raise(vm, E_SYNTAX, "%s:%d:%d: %s", file, c.err_line, c.err_col, c.error);
        return NULL;
    }
    return p;
}

qproto *compile_source(qvm *vm, const char *file, const char *src, size_t len, compile_mode mode)
{
    ast_arena *arena = ast_arena_new();
    qsyntax_error err;
    memset(&err, 0, sizeof err);
    qnode *prog = parse_program(arena, src, len, &err);
    qproto *p = NULL;
    if (!prog) {
        char msg[1024];
        syntax_error_format(&err, file, src, msg, sizeof msg);
        vm_raise(vm, E_SYNTAX, "%s", msg);
        qexc *e = vm_pending_exc(vm);
        e->line = err.line;
        e->file = str_cstr(vm, file);
    } else {
        p = compile_program(vm, prog, file, mode);
    }
    ast_arena_free(arena);
    return p;
}

bool compile_is_incomplete(const char *src, size_t len)
{
    ast_arena *arena = ast_arena_new();
    qsyntax_error err;
    memset(&err, 0, sizeof err);
    bool incomplete = !parse_program(arena, src, len, &err) && err.incomplete;
    ast_arena_free(arena);
    return incomplete;
}
