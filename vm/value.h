/* value.h — the representation of Quest values and heap objects.
 *
 * A qval is a 16-byte tagged union: nil, bools, 64-bit ints and doubles live
 * unboxed; everything else is a pointer to a GC-managed object whose header
 * says its kind.  Every object belongs to exactly one qvm (one per worker
 * thread) and is never touched by another thread.
 */
#ifndef QUEST_VALUE_H
#define QUEST_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct qvm qvm;
typedef struct qobj qobj;

typedef enum {
    QV_NIL = 0,
    QV_BOOL,
    QV_INT,
    QV_FLOAT,
    QV_OBJ,
    /* Never visible to Quest code: */
    QV_EXC,   /* "an exception is pending in vm->exc": the error return of natives */
    QV_UNDEF, /* an unbound slot (parameter not passed yet, deleted variable) */
    QV_SUSPEND, /* the running task suspended at an await (interpreter only) */
} qtag;

typedef struct qval {
    uint8_t tag;
    union {
        bool b;
        int64_t i;
        double f;
        qobj *o;
    } as;
} qval;

/* Object kinds. */
typedef enum {
    QO_STR,
    QO_BYTES,
    QO_ARRAY,
    QO_DICT,
    QO_SET,
    QO_BIGINT,
    QO_DECIMAL,
    QO_UUID,
    QO_PROTO,    /* compiled function body (not a value) */
    QO_CLOSURE,  /* Quest function */
    QO_UPVAL,    /* captured variable (not a value) */
    QO_NATIVE,   /* built-in function, optionally bound to a receiver */
    QO_TYPE,     /* user type, built-in type, exception type */
    QO_TRAIT,
    QO_INSTANCE, /* instance of a user type */
    QO_MODULE,
    QO_EXC,      /* exception value */
    QO_CDATA,    /* native object owned by a module (StringIO, regex, ...) */
    QO_TASK,     /* async task (vm/task.c) */
    QO_CHANNEL,  /* async channel (vm/channel.c) */
    QO__COUNT
} qobj_kind;

struct qobj {
    qobj *next;    /* all objects of a VM, for sweeping */
    uint8_t kind;  /* qobj_kind */
    uint8_t marked;
    uint8_t sclass;    /* its size class (vm/slab.c); 0: allocated with malloc */
    uint16_t slab_off; /* where in its slab it sits, in size-class grains */
};

/* ---- constructors and tests for qval ------------------------------------ */

static inline qval qv_nil(void) { qval v; v.tag = QV_NIL; v.as.i = 0; return v; }
static inline qval qv_bool(bool b) { qval v; v.tag = QV_BOOL; v.as.i = 0; v.as.b = b; return v; }
static inline qval qv_int(int64_t i) { qval v; v.tag = QV_INT; v.as.i = i; return v; }
static inline qval qv_float(double f) { qval v; v.tag = QV_FLOAT; v.as.f = f; return v; }
static inline qval qv_obj(void *o) { qval v; v.tag = QV_OBJ; v.as.o = (qobj *)o; return v; }
static inline qval qv_exc(void) { qval v; v.tag = QV_EXC; v.as.i = 0; return v; }
static inline qval qv_undef(void) { qval v; v.tag = QV_UNDEF; v.as.i = 0; return v; }

#define IS_NIL(v) ((v).tag == QV_NIL)
#define IS_BOOL(v) ((v).tag == QV_BOOL)
#define IS_INT(v) ((v).tag == QV_INT)
#define IS_FLOAT(v) ((v).tag == QV_FLOAT)
#define IS_NUM(v) ((v).tag == QV_INT || (v).tag == QV_FLOAT)
#define IS_OBJ(v) ((v).tag == QV_OBJ)
#define IS_EXC(v) ((v).tag == QV_EXC)
#define IS_UNDEF(v) ((v).tag == QV_UNDEF)
#define IS_KIND(v, k) ((v).tag == QV_OBJ && (v).as.o->kind == (k))
#define IS_STR(v) IS_KIND(v, QO_STR)
#define IS_BYTES(v) IS_KIND(v, QO_BYTES)
#define IS_ARRAY(v) IS_KIND(v, QO_ARRAY)
#define IS_DICT(v) IS_KIND(v, QO_DICT)
#define IS_SET(v) IS_KIND(v, QO_SET)
#define IS_BIGINT(v) IS_KIND(v, QO_BIGINT)
#define IS_DECIMAL(v) IS_KIND(v, QO_DECIMAL)
#define IS_TYPE(v) IS_KIND(v, QO_TYPE)
#define IS_INSTANCE(v) IS_KIND(v, QO_INSTANCE)
#define IS_EXCV(v) IS_KIND(v, QO_EXC)

#define AS_OBJ(v) ((v).as.o)
#define AS_STR(v) ((qstr *)(v).as.o)
#define AS_BYTES(v) ((qbytes *)(v).as.o)
#define AS_ARRAY(v) ((qarray *)(v).as.o)
#define AS_DICT(v) ((qdict *)(v).as.o)
#define AS_SET(v) ((qset *)(v).as.o)
#define AS_BIGINT(v) ((qbigint *)(v).as.o)
#define AS_DECIMAL(v) ((qdecimal *)(v).as.o)
#define AS_UUID(v) ((quuid *)(v).as.o)
#define AS_CLOSURE(v) ((qclosure *)(v).as.o)
#define AS_NATIVE(v) ((qnative *)(v).as.o)
#define AS_TYPE(v) ((qtype *)(v).as.o)
#define AS_TRAIT(v) ((qtrait *)(v).as.o)
#define AS_INSTANCE(v) ((qinstance *)(v).as.o)
#define AS_MODULE(v) ((qmodule *)(v).as.o)
#define AS_EXCV(v) ((qexc *)(v).as.o)
#define AS_CDATA(v) ((qcdata *)(v).as.o)

/* ---- strings and bytes --------------------------------------------------- */

/* Immutable UTF-8 text.  len counts bytes; nchars counts code points (computed
 * once, at creation).  When nchars == len the string is ASCII and character
 * indexing is byte indexing.  data[len] is always '\0'. */
typedef struct qstr {
    qobj hdr;
    uint32_t len;
    uint32_t nchars;
    uint32_t hash;
    bool interned;
    char data[];
} qstr;

typedef struct qbytes {
    qobj hdr;
    uint32_t len;
    uint8_t data[];
} qbytes;

/* ---- containers ----------------------------------------------------------- */

typedef struct qarray {
    qobj hdr;
    uint32_t len, cap;
    qval *items;
} qarray;

/* Insertion-ordered hash map from Str to value (Quest dict keys are always
 * strings).  Entries are kept densely in order; idx is an open-addressing
 * table of entry positions (-1 empty, -2 deleted).  Deleted entries leave a
 * NULL key hole in `entries` until the next resize compacts them. */
typedef struct qdict_entry {
    qstr *key;
    qval val;
} qdict_entry;

typedef struct qdict {
    qobj hdr;
    uint32_t count;   /* live entries */
    uint32_t used;    /* entries[] slots used, including holes */
    uint32_t cap;     /* entries[] capacity */
    uint32_t mask;    /* idx size - 1 (idx size is a power of two) */
    qdict_entry *entries; /* one block: cap entries, then the idx table (vm/dict.c) */
    uint16_t store_off;   /* the block's slab offset when it is small */
} qdict;

/* Set of Int/Float/Str/Bool values (insertion ordered, hashed by value). */
typedef struct qset {
    qobj hdr;
    uint32_t count, used, cap, mask;
    qval *items;     /* QV_UNDEF marks a hole */
    int32_t *idx;
} qset;

/* ---- numbers beyond int64/double ----------------------------------------- */

typedef struct qbigint {
    qobj hdr;
    void *mp; /* mpz_t owned by the object (see vm/bigint.c) */
} qbigint;

/* Decimal: coefficient * 10^-scale, 28 significant digits (a signed 128-bit
 * coefficient holds 38), scale preserved through arithmetic as Quest's
 * reference (rust_decimal) does. */
typedef struct qdecimal {
    qobj hdr;
    __int128 coef;
    uint32_t scale;
} qdecimal;

typedef struct quuid {
    qobj hdr;
    uint8_t bytes[16];
} quuid;

/* ---- functions -------------------------------------------------------------- */

typedef struct qmodule qmodule;
typedef struct qtype qtype;

typedef struct qparam {
    qstr *name;
    qstr *type;        /* annotation (title-cased) or NULL */
    bool has_default;  /* default computed by the function's prologue */
} qparam;

/* A compiled function body.  Created by the compiler, immutable afterwards. */
typedef struct qproto {
    qobj hdr;
    qstr *name;        /* "<module>", "<lambda>" or the declared name */
    qstr *doc;         /* docstring or NULL */
    qstr *file;        /* source file path */
    qstr *ret_type;    /* `-> T` annotation or NULL */
    int line;          /* line of the definition */
    uint16_t nparams;  /* named parameters (required + optional), not self */
    int16_t varargs;   /* slot of *args or -1 */
    int16_t kwargs;    /* slot of **kwargs or -1 */
    bool is_method;    /* slot 0 is `self` */
    bool is_async;
    bool is_lambda;
    qparam *params;    /* nparams entries */
    uint16_t nslots;   /* locals needed, including params */
    uint32_t maxstack; /* operand stack depth above the locals */
    bool params_typed; /* some parameter has a type annotation */
    uint16_t nupvals;
    uint8_t *upval_is_local; /* per upvalue: captures enclosing local (1) or enclosing upvalue (0) */
    uint16_t *upval_index;
    uint8_t *code;
    uint32_t code_len;
    qval *consts;
    uint32_t nconsts;
    int32_t *lines;    /* line of each code byte */
    uint8_t *depths;   /* block nesting of each code byte (sys.get_scope_depth) */
    void *ic;          /* inline caches, owned by the interpreter */
    uint32_t nic;
} qproto;

typedef struct qupval {
    qobj hdr;
    qval *slot;        /* points into the stack while open, at `closed` after */
    size_t stack_index;/* valid while open */
    qval closed;
    struct qupval *next_open;
} qupval;

typedef struct qclosure {
    qobj hdr;
    qproto *proto;
    qmodule *module;   /* globals this function sees */
    qtype *owner;      /* type the method belongs to, or NULL */
    qupval *upvals[];
} qclosure;

/* Built-in function.  Natives return a value, or qv_exc() after raising with
 * vm_raise(); `self` is the receiver for methods (nil for plain functions). */
typedef qval (*qnative_fn)(qvm *vm, qval self, int argc, qval *argv);

typedef struct qnative {
    qobj hdr;
    qnative_fn fn;
    const char *name;  /* static string, e.g. "Str.upper" or "puts" */
    int16_t min_args;  /* -1: no check */
    int16_t max_args;  /* -1: variadic */
    bool kwargs;       /* accepts named arguments (see vm_kwargs()) */
    qval bound;        /* receiver for a bound method reference, or nil */
    qval target;       /* bound Quest method (closure) when fn is NULL, else nil */
} qnative;

/* ---- types, instances, modules, exceptions ----------------------------------- */

typedef enum {
    QT_BUILTIN,   /* Int, Str, ... : methods are natives */
    QT_USER,      /* `type T ... end` */
    QT_EXC,       /* Err and its children (built-in or user `XErr`) */
    QT_CDATA,     /* classes of module objects (StringIO, Regex, ...) */
} qtype_kind;

typedef struct qfield {
    qstr *name;
    qstr *type;      /* annotation or NULL */
    bool pub;
    bool optional;   /* `T?` or has a default */
    bool has_default;
    qval def;        /* default value (deep-copied per instance when Array/Dict) */
} qfield;

struct qtype {
    qobj hdr;
    qtype_kind tkind;
    qstr *name;
    qstr *doc;
    qdict *methods;   /* instance methods: name -> closure/native */
    qdict *statics;   /* static methods: name -> closure/native */
    uint32_t nfields;
    qfield *fields;
    qarray *traits;   /* trait objects implemented */
    qtype *parent;    /* exception types: Err */
};

typedef struct qtrait {
    qobj hdr;
    qstr *name;
    qstr *doc;
    uint32_t nmethods;
    qstr **method_names;
    int *method_arity;
} qtrait;

typedef struct qinstance {
    qobj hdr;
    qtype *type;
    qval fields[];    /* type->nfields */
} qinstance;

struct qmodule {
    qobj hdr;
    qstr *name;       /* alias it was imported as (for printing) */
    qstr *path;       /* resolved path or "std/x" */
    qstr *doc;
    qdict *globals;   /* every top-level binding */
    qdict *pub;       /* names exported (value: true); NULL means all are public */
    bool loading;     /* set while its top level runs: detects import cycles */
    bool is_const_tracked;
    qdict *consts;    /* names declared `const` at top level (value: true) */
    qdict *types;     /* annotations of typed top-level lets (name -> Str) */
};

typedef struct qexc {
    qobj hdr;
    qtype *type;      /* exception type (QT_EXC) or the user type raised */
    qstr *message;
    qarray *stack;    /* Array of Str frames, innermost first */
    int line;         /* 0 when unknown */
    qstr *file;       /* NULL when unknown */
    qval payload;     /* the struct that was raised, or nil */
    qval cause;
} qexc;

/* Class descriptor of a module-defined native object. */
typedef struct qcdata_class {
    const char *name;                       /* cls() */
    void (*finalize)(void *data);           /* free owned C resources */
    void (*mark)(qvm *vm, void *data);      /* mark qvals it holds (vm_mark_value) */
    bool (*truthy)(void *data);             /* NULL: always truthy */
} qcdata_class;

typedef struct qcdata {
    qobj hdr;
    const qcdata_class *cls;
    qtype *type;      /* method table (QT_CDATA) */
    void *data;
} qcdata;

#endif
