/* toml.h — a TOML 1.0 parser that needs no VM.
 *
 * toml_parse() turns a document into a tree of toml_value nodes, or fails
 * with the first error and its position.  The tree is plain C, so the
 * configuration code (quest.toml, .settings.toml) can read it before any VM
 * exists; std/toml converts it to Quest values (modules/toml.c).
 *
 * Dates and times keep their text, normalised the way the reference shows
 * them: "1979-05-27T07:32:00Z", a "T" between date and time, an upper-case
 * "Z", fractional seconds without trailing zeros.
 */
#ifndef QUEST_TOML_H
#define QUEST_TOML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    TOML_STRING,
    TOML_INT,
    TOML_FLOAT,
    TOML_BOOL,
    TOML_DATETIME, /* text in u.str */
    TOML_ARRAY,
    TOML_TABLE,
} toml_kind;

typedef struct toml_value toml_value;

typedef struct toml_entry {
    char *key;          /* NUL-terminated; may hold NULs before key_len */
    size_t key_len;
    toml_value *val;
} toml_entry;

struct toml_value {
    toml_kind kind;
    uint8_t flags;      /* the parser's record of how a table or array was made */
    uint16_t depth;     /* containers above this one */
    union {
        struct { char *data; size_t len; } str;  /* NUL-terminated */
        int64_t i;
        double f;
        bool b;
        struct { toml_value **items; size_t len, cap; } arr;
        struct { toml_entry *items; size_t len, cap; } tab;  /* in document order */
    } u;
};

typedef struct toml_error {
    int line, column;   /* 1-based; column counts characters */
    char msg[128];
} toml_error;

/* Parse len bytes of src (which need not be NUL-terminated).  Returns the
 * root table, or NULL with *err filled (also when memory runs out). */
toml_value *toml_parse(const char *src, size_t len, toml_error *err);
void toml_free(toml_value *v);

/* The value under key in a table; NULL when absent or t is not a table. */
const toml_value *toml_get(const toml_value *t, const char *key);

#endif
