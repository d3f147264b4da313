/* json.h — JSON text to Quest values and back (modules/encoding/json.c).
 *
 * Used by std/encoding/json and by anything else in the program that speaks
 * JSON (the HTTP server's request/response helpers, the fuzz target).
 */
#ifndef QUEST_JSON_H
#define QUEST_JSON_H

#include "vm/vm.h"

/* Arrays and objects nest at most this deep, in either direction. */
#define JSON_MAX_DEPTH 512

/* Parse one JSON document (RFC 8259, strict: no comments, no trailing
 * commas, no NaN) into Dict/Array/Str/Int/Float/Bool/nil.  Numbers without
 * a fraction or exponent that fit 64 bits are Int, all others Float.
 * `text[len]` must be readable and '\0' (Str and Bytes data always are).
 * Malformed input raises ValueErr "JSON parse error: ... at line L column C"
 * and returns qv_exc(). */
qval json_parse(qvm *vm, const char *text, size_t len);

/* Serialise v: compact when indent < 0, else one item per line indented by
 * `indent` spaces per level.  Object keys come out sorted.  NULL after
 * raising TypeErr (a value with no JSON form) or ValueErr (NaN/infinity,
 * nesting deeper than JSON_MAX_DEPTH, which includes cyclic data). */
qstr *json_stringify(qvm *vm, qval v, int indent);
/* The same text appended to out (kept NUL-terminated), for callers that
 * reuse one buffer; false after raising, with out holding a partial text. */
bool json_write(qvm *vm, qval v, int indent, qbuf *out);

#endif
