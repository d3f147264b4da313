/* srv_multipart.h — multipart/form-data request bodies (RFC 7578 on the
 * multipart syntax of RFC 2046 §5.1).
 *
 * The parser works on the whole body, which h2o has already buffered
 * (max_body_size bounds it), and only points into it: nothing is copied
 * until srv_multipart_value() makes the Quest values.  It knows nothing of
 * h2o, so the unit tests and the fuzz target drive it directly.
 *
 *   srv_multipart mp = {0};
 *   if (srv_multipart_parse(&mp, ctype, ctype_len, body, len, 1000, 8192) == SRV_MULTIPART_OK)
 *       v = srv_multipart_value(vm, &mp);      // {fields: {...}, files: [...]}
 *   else
 *       puts(mp.error);                        // why, for the 400 / 413 answer
 *   srv_multipart_free(&mp);
 */
#ifndef QUEST_SRV_MULTIPART_H
#define QUEST_SRV_MULTIPART_H

#include <stdbool.h>
#include <stddef.h>

#include "vm/vm.h"

#define SRV_MULTIPART_MAX_BOUNDARY 70 /* RFC 2046 §5.1.1 */

/* Bytes inside the body or the Content-Type; p == NULL: absent. */
typedef struct srv_span {
    const char *p;
    size_t n;
} srv_span;

typedef struct srv_multipart_part {
    srv_span name;      /* Content-Disposition name (always present) */
    srv_span filename;  /* present: the part is a file */
    srv_span type;      /* the part's Content-Type, absent when none or empty */
    srv_span data;
} srv_multipart_part;

typedef struct srv_multipart {
    srv_multipart_part *parts; /* in body order */
    size_t nparts, cap;
    char error[128];           /* why parsing stopped */
} srv_multipart;

typedef enum {
    SRV_MULTIPART_OK,
    SRV_MULTIPART_MALFORMED,   /* answer 400 */
    SRV_MULTIPART_TOO_MANY,    /* more than max_parts parts: answer 413 */
} srv_multipart_result;

/* Is this Content-Type multipart/form-data (any case, parameters allowed)? */
bool srv_multipart_is_form(const char *ctype, size_t len);

/* The boundary parameter of a Content-Type, quoted or not: false unless
 * there is exactly one and it is 1 to 70 RFC 2046 bchars. */
bool srv_multipart_boundary(const char *ctype, size_t len, srv_span *out);

/* Split body into its parts.  max_header bounds each part's header block
 * (its lines and the blank line after them).  On failure mp->error says
 * why; mp must be freed either way. */
srv_multipart_result srv_multipart_parse(srv_multipart *mp, const char *ctype, size_t ctype_len,
                                         const char *body, size_t len, size_t max_parts,
                                         size_t max_header);
void srv_multipart_free(srv_multipart *mp);

/* The reference's request body for a form: {fields: {name: Str},
 * files: [{name, filename, mime_type, size, data: Bytes}, ...]}.  Text that
 * is not UTF-8 has its bad bytes replaced by U+FFFD. */
qval srv_multipart_value(qvm *vm, const srv_multipart *mp);

#endif
