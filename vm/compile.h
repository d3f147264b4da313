/* compile.h — AST to bytecode. */
#ifndef QUEST_COMPILE_H
#define QUEST_COMPILE_H

#include "ast.h"
#include "vm.h"

typedef enum {
    COMPILE_MODULE,   /* a file or module: top-level lets become module globals */
    COMPILE_REPL,     /* like a module, but re-declaring a global replaces it */
} compile_mode;

/* Compile a parsed program into the main function of a module.  Returns the
 * proto, or NULL with a SyntaxErr raised in the VM. */
qproto *compile_program(qvm *vm, qnode *program, const char *file, compile_mode mode);

/* Parse and compile source text.  Syntax errors are raised as SyntaxErr with
 * "file:line:col: message" and the source line with a caret. */
qproto *compile_source(qvm *vm, const char *file, const char *src, size_t len,
                       compile_mode mode);

/* Does src end inside an unfinished construct (the REPL reads more)? */
bool compile_is_incomplete(const char *src, size_t len);

/* Flags of the DEF_GLOBAL instruction. */
enum { DEF_CONST = 1, DEF_PUB = 2, DEF_REPLACE = 4 };
/* Flags of RANGE_INIT and MATCH_RANGE. */
enum { RANGE_STEP = 1, RANGE_UNTIL = 2 };

#endif
