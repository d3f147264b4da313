/* opcodes.h — the bytecode instruction set.
 *
 * A stack machine with the locals of a frame in fixed slots below the
 * operand stack.  Operands follow the opcode byte: `u16` (little endian)
 * for slots, constants, names and counts; `i32` for jump offsets, relative
 * to the end of the instruction.  Slot 0 of every frame holds the callee
 * (plain functions) or `self` (methods); parameters start at slot 1.
 * Each entry: name, operand bytes, stack effect (0 for the variable ones,
 * which the compiler accounts for itself).
 */
#ifndef QUEST_OPCODES_H
#define QUEST_OPCODES_H

#define OPCODES(X)                                                              \
    X(CONST, 2, 1)          /* k            push consts[k] */                      \
    X(NIL, 0, 1)                                                                   \
    X(TRUE, 0, 1)                                                                  \
    X(FALSE, 0, 1)                                                                 \
    X(POP, 0, -1)                                                                   \
    X(DUP, 0, 1)                                                                   \
    X(DUP2, 0, 2)                                                                  \
    X(GET_LOCAL, 2, 1)      /* slot */                                             \
    X(GET_LOCAL_CHK, 4, 1)  /* slot, name-k: NameErr when unbound */               \
    X(SET_LOCAL, 2, -1)      /* slot          pop into slot */                      \
    X(DEL_LOCAL, 2, 0)      /* slot          unbind */                             \
    X(GET_UPVAL, 4, 1)      /* index, name-k */                                    \
    X(SET_UPVAL, 2, -1)      /* index */                                            \
    X(GET_GLOBAL, 2, 1)     /* name-k        module globals, then builtins */      \
    X(SET_GLOBAL, 2, -1)     /* name-k        existing binding only */              \
    X(DEF_GLOBAL, 4, -1)     /* name-k, flags (1 const, 2 pub) */                   \
    X(DEL_GLOBAL, 2, 0)     /* name-k */                                           \
    X(GLOBAL_TYPE, 4, 0)  /* name-k, type-k: annotate a module variable */     \
    X(GET_TRAIT, 2, 1)    /* name-k: a global trait (AttrErr when missing) */   \
    X(CHECK_TYPE, 4, 0)     /* type-k, name-k: TypeErr unless top matches */       \
    X(ADD, 0, -1) X(SUB, 0, -1) X(MUL, 0, -1) X(DIV, 0, -1) X(MOD, 0, -1)                           \
    X(CONCAT, 0, -1)                                                                \
    X(IADD, 0, -1)           /* `+=`: also joins Str+Str and Array+Array */         \
    X(EQ, 0, -1) X(NE, 0, -1) X(LT, 0, -1) X(LE, 0, -1) X(GT, 0, -1) X(GE, 0, -1)                       \
    X(BAND, 0, -1) X(BOR, 0, -1) X(BXOR, 0, -1) X(SHL, 0, -1) X(SHR, 0, -1)                         \
    X(NEG, 0, 0) X(POS, 0, 0) X(BNOT, 0, 0) X(NOT, 0, 0)                                    \
    X(OR_BOOL, 0, -1)    /* a b -> Bool(truthy(a) or truthy(b)) */              \
    X(JUMP, 4, 0)                                                                  \
    X(LOOP, 4, 0)           /* backward jump: a GC safe point */                   \
    X(JUMP_IF_FALSE, 4, -1)  /* pops */                                             \
    X(JUMP_IF_TRUE, 4, -1)   /* pops */                                             \
    X(AND, 4, -1)            /* falsy: keep and jump; else pop */                   \
    X(OR, 4, -1)             /* truthy: keep and jump; else pop */                  \
    X(ELVIS, 4, -1)          /* non-nil: keep and jump; else pop */                 \
    X(ARRAY, 2, 0)          /* n */                                                \
    X(DICT, 2, 0)           /* n pairs (key, value) */                             \
    X(DICT_LIT, 2, 0)       /* shape-k: n values, keys from a template Dict */     \
    X(INDEX, 0, -1)          /* obj idx -> v */                                     \
    X(SET_INDEX, 0, -3)      /* obj idx v -> (nothing) */                           \
    X(GET_FIELD, 2, 0)      /* name-k: obj -> obj.name */                          \
    X(SET_FIELD, 2, -2)      /* name-k: obj v -> (nothing) */                       \
    X(CALL, 2, 0)           /* argc: fn args -> result */                          \
    X(CALL_EX, 2, 0)        /* spec-k: fn args -> result (named/spread args) */    \
    X(INVOKE, 4, 0)         /* name-k, argc: recv args -> result */                \
    X(INVOKE_EX, 4, 0)      /* name-k, spec-k */                                   \
    X(CLOSURE, 2, 1)        /* proto-k */                                          \
    X(CLOSE_UPVALS, 2, 0)   /* slot: close upvalues at or above slot */            \
    X(RETURN, 0, -1)                                                                \
    X(ARG_DEFAULT, 6, 0)    /* slot, skip i32: jump over default code when bound */\
    X(ITER_INIT, 2, -1)      /* slot: pop collection, state in slot.. slot+2 */     \
    X(ITER_NEXT, 8, 0)      /* slot, nvars, exit i32: vars at slot+3.. */          \
    X(RANGE_INIT, 4, 0)     /* slot, flags(1 step given, 2 until): pop from to step */ \
    X(RANGE_NEXT, 6, 0)     /* slot, exit i32: var at slot+4 */                    \
    X(TRY, 4, 0)            /* catch i32: push a handler */                        \
    X(END_TRY, 0, 0)        /* pop the handler */                                  \
    X(CATCH_IS, 6, -1)       /* type-name-k, next i32: exc on top; jump unless matches */ \
    X(CATCH_VALUE, 0, 0)    /* exc -> value bound to the catch variable */        \
    X(CATCH_CHECK, 0, -1) /* type: must be an exception type (before the body) */ \
    X(RAISE, 0, -1)          /* pop value and raise it */                           \
    X(RAISE_ERR, 4, 0)      /* kind, message-k: raise a built-in error */          \
    X(BUILD_STR, 2, 0)      /* n: pop n values, push their str() concatenation */  \
    X(FORMAT, 2, 0)         /* spec-k: format top with spec */                     \
    X(MATCH_RANGE, 2, 0)    /* flags: subj lo hi [step] -> Bool */                 \
    X(USE, 2, 1)            /* spec-k: import, push module */                      \
    X(IMPORT_NAME, 2, 0)    /* name-k: module -> module member (ImportErr if private) */ \
    X(TYPE_DEF, 4, 0)       /* desc-k, nmethods: defaults.. methods.. -> type */   \
    X(TRAIT_DEF, 2, 1)      /* desc-k -> trait */                                  \
    X(DECORATE, 2, 0)       /* spec-k: deco-type args fn -> decorated */           \
    X(CHECK_RET, 2, 0)      /* type-k: check return annotation */                  \
    X(AWAIT, 0, 0)

typedef enum {
#define OP_ENUM(name, n, effect) OP_##name,
    OPCODES(OP_ENUM)
#undef OP_ENUM
    OP__COUNT
} qopcode;

#endif
