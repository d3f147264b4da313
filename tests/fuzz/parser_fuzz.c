/* parser_fuzz.c — the lexer and parser on arbitrary bytes: any input either
 * parses or yields a syntax error (which is then rendered), never a crash,
 * leak or out-of-bounds read.  Seeds: tests/fuzz/seed.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vm/ast.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ast_arena *arena = ast_arena_new();
    if (!arena)
        return 0;
    qsyntax_error err;
    if (!parse_program(arena, (const char *)data, size, &err)) {
        /* syntax_error_format reads the source as a C string. */
        char *src = malloc(size + 1);
        char out[1024];
        if (src) {
            memcpy(src, data, size);
            src[size] = '\0';
            syntax_error_format(&err, "fuzz.q", src, out, sizeof out);
            free(src);
        }
    }
    ast_arena_free(arena);
    return 0;
}
