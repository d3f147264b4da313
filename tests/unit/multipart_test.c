/* multipart_test.c — multipart/form-data bodies (server/srv_multipart.c):
 * the Content-Type and its boundary, the delimiter lines, part headers,
 * the limits, every way a body is refused, and the Quest value. */
#include <stdio.h>
#include <string.h>

#include "server/srv_multipart.h"
#include "tap.h"

#define CT "multipart/form-data; boundary=XyZ"

static bool span_is(srv_span s, const char *want, size_t n)
{
    return s.p && s.n == n && memcmp(s.p, want, n) == 0;
}
#define SPAN_IS(s, lit) span_is((s), (lit), sizeof(lit) - 1)

/* Parse a body given as a literal (it may hold NUL bytes). */
static srv_multipart_result parse_n(srv_multipart *mp, const char *ctype, const char *body, size_t len,
                                    size_t max_parts, size_t max_header)
{
    memset(mp, 0, sizeof *mp);
    return srv_multipart_parse(mp, ctype, strlen(ctype), body, len, max_parts, max_header);
}
#define PARSE(mp, ctype, lit) parse_n((mp), (ctype), (lit), sizeof(lit) - 1, 1000, 8192)

static bool boundary_is(const char *ctype, const char *want)
{
    srv_span b;
    bool found = srv_multipart_boundary(ctype, strlen(ctype), &b);
    return want ? found && span_is(b, want, strlen(want)) : !found;
}

static void test_content_type(void)
{
    ok(srv_multipart_is_form(CT, strlen(CT)), "multipart/form-data with a boundary");
    ok(srv_multipart_is_form("Multipart/Form-Data;boundary=a", 31), "media type in any case");
    ok(srv_multipart_is_form("multipart/form-data", 19), "no parameters: still a form (refused later)");
    ok(!srv_multipart_is_form("multipart/form-dataX; boundary=a", 32), "a longer media type");
    ok(!srv_multipart_is_form("multipart/mixed; boundary=a", 27), "multipart/mixed");
    ok(!srv_multipart_is_form("multipart/form", 14), "a shorter one");
    ok(!srv_multipart_is_form("", 0), "empty");

    ok(boundary_is(CT, "XyZ"), "token boundary");
    ok(boundary_is("multipart/form-data; BOUNDARY=\"a b:c\"", "a b:c"), "quoted, with a space, name in any case");
    ok(boundary_is("multipart/form-data;charset=utf-8 ;  boundary=k-1", "k-1"), "after another parameter");
    ok(boundary_is("multipart/form-data; x=\"a;boundary=fake\"; boundary=real", "real"),
       "a quoted `;` of another parameter does not start one");
    ok(boundary_is("multipart/form-data; boundary=abc ; x=1", "abc"), "whitespace before the next `;`");
    char b70[128], b71[128];
    snprintf(b70, sizeof b70, "multipart/form-data; boundary=%070d", 7);
    snprintf(b71, sizeof b71, "multipart/form-data; boundary=%071d", 7);
    ok(boundary_is(b70, b70 + 30), "70 characters");
    ok(boundary_is(b71, NULL), "71 characters: refused");
    ok(boundary_is("multipart/form-data; boundary=\"ab \"", NULL), "ending with a space");
    ok(boundary_is("multipart/form-data; boundary=\"\"", NULL), "empty");
    ok(boundary_is("multipart/form-data; boundary=a@b", NULL), "a character outside bchars");
    ok(boundary_is("multipart/form-data; boundary=a; boundary=b", NULL), "two boundaries");
    ok(boundary_is("multipart/form-data; boundary=\"abc", NULL), "an unterminated quote");
    ok(boundary_is("multipart/form-data", NULL), "none");
    ok(boundary_is("multipart/form-data; boundary", NULL), "a parameter without `=`");
}

static void test_parts(void)
{
    srv_multipart mp;
    is_int(PARSE(&mp, CT,
                 "--XyZ\r\n"
                 "Content-Disposition: form-data; name=\"title\"\r\n"
                 "\r\n"
                 "Hello\r\n"
                 "--XyZ\r\n"
                 "content-disposition: FORM-DATA; filename=\"a.bin\"; name=\"up\"\r\n"
                 "CONTENT-TYPE:  application/octet-stream \r\n"
                 "X-Other: ignored\r\n"
                 "\r\n"
                 "\x00\r\n--\r\nXyZ\r\r\n"
                 "--XyZ--\r\n"),
           SRV_MULTIPART_OK, "two parts");
    is_int(mp.nparts, 2, "two parts found");
    ok(SPAN_IS(mp.parts[0].name, "title") && SPAN_IS(mp.parts[0].data, "Hello"), "a text field");
    ok(!mp.parts[0].filename.p && !mp.parts[0].type.p, "no filename, no type");
    ok(SPAN_IS(mp.parts[1].name, "up") && SPAN_IS(mp.parts[1].filename, "a.bin"),
       "header and parameter names in any case, any order");
    ok(SPAN_IS(mp.parts[1].type, "application/octet-stream"), "Content-Type trimmed");
    ok(SPAN_IS(mp.parts[1].data, "\x00\r\n--\r\nXyZ\r"), "data keeps NUL, CRLF, -- and CR; loses the CRLF of the delimiter");
    srv_multipart_free(&mp);

    is_int(PARSE(&mp, CT,
                 "preamble\r\n--XyZ \t\r\n"
                 "Content-Disposition: form-data; name=plain ; filename*=UTF-8''%e2%82%ac.txt\r\n"
                 "Content-Type:\r\n"
                 "\r\n"
                 "\r\n--XyZ--epilogue\r\n--XyZ\r\nnot parsed"),
           SRV_MULTIPART_OK, "preamble, padding, epilogue");
    is_int(mp.nparts, 1, "one part");
    ok(SPAN_IS(mp.parts[0].name, "plain"), "token parameter value");
    ok(!mp.parts[0].filename.p, "filename* is ignored");
    ok(!mp.parts[0].type.p, "an empty Content-Type counts as none");
    ok(mp.parts[0].data.p && mp.parts[0].data.n == 0, "empty data");
    srv_multipart_free(&mp);

    is_int(PARSE(&mp, CT, "--XyZ--\r\n"), SRV_MULTIPART_OK, "an empty form");
    is_int(mp.nparts, 0, "no parts");
    srv_multipart_free(&mp);

    is_int(PARSE(&mp, CT, "--XyZ\r\nContent-Disposition: form-data; name=\"\"; filename=\"\"\r\n\r\nx\r\n--XyZ--"),
           SRV_MULTIPART_OK, "empty name and filename");
    ok(SPAN_IS(mp.parts[0].name, "") && SPAN_IS(mp.parts[0].filename, ""), "present but empty: a file");
    srv_multipart_free(&mp);

    is_int(PARSE(&mp, CT, "--XyZ\r\nContent-Disposition: form-data; name=\"a\\\"\r\n\r\nx\r\n--XyZ--"),
           SRV_MULTIPART_OK, "a backslash is not an escape");
    ok(SPAN_IS(mp.parts[0].name, "a\\"), "name as sent");
    srv_multipart_free(&mp);
}

/* A body that must be refused, and the reason it gives. */
static void refused(const char *ctype, const char *body, size_t len, const char *why, const char *name)
{
    srv_multipart mp;
    srv_multipart_result r = parse_n(&mp, ctype, body, len, 1000, 8192);
    if (!ok(r == SRV_MULTIPART_MALFORMED && strstr(mp.error, why), name))
        tap_diag("result %d, error \"%s\"", (int)r, mp.error);
    srv_multipart_free(&mp);
}
#define REFUSED(ctype, lit, why, name) refused((ctype), (lit), sizeof(lit) - 1, (why), (name))

#define CD "Content-Disposition: form-data; name=\"a\"\r\n"

static void test_malformed(void)
{
    REFUSED("multipart/form-data", "--XyZ\r\n" CD "\r\nx\r\n--XyZ--", "boundary parameter", "no boundary");
    REFUSED(CT, "", "no boundary line", "an empty body");
    REFUSED(CT, "--XyZ\r\n" CD "\r\nx", "before its closing boundary", "truncated data");
    REFUSED(CT, "--XyZ\r\n" CD "\r\nx\r\n--XyZ", "CRLF", "truncated after a delimiter");
    REFUSED(CT, "--XyZ\r\n" CD, "ends inside a part's headers", "truncated headers");
    REFUSED(CT, "--XyZ\n" CD "\nx\n--XyZ--", "CRLF", "bare LF line ends");
    REFUSED(CT, "--XyZ\r\n" CD "\r\nx\r\n--XyZab\r\n", "CRLF", "a delimiter followed by other text");
    REFUSED(CT, "--XyZ\r\n\r\nx\r\n--XyZ--", "no Content-Disposition", "no Content-Disposition");
    REFUSED(CT, "--XyZ\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nx\r\n--XyZ--", "not form-data",
            "disposition attachment");
    REFUSED(CT, "--XyZ\r\nContent-Disposition: form-data; filename=\"f\"\r\n\r\nx\r\n--XyZ--", "no name",
            "no name parameter");
    REFUSED(CT, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"; name=\"b\"\r\n\r\nx\r\n--XyZ--", "repeats a parameter",
            "name twice");
    REFUSED(CT, "--XyZ\r\n" CD CD "\r\nx\r\n--XyZ--", "repeats a header", "Content-Disposition twice");
    REFUSED(CT, "--XyZ\r\n" CD "Content-Type: a\r\ncontent-type: b\r\n\r\nx\r\n--XyZ--", "repeats a header",
            "Content-Type twice");
    REFUSED(CT, "--XyZ\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n--XyZ--", "malformed",
            "an unterminated quote");
    REFUSED(CT, "--XyZ\r\nContent-Disposition: form-data; name=\r\n\r\nx\r\n--XyZ--", "malformed", "an empty token value");
    REFUSED(CT, "--XyZ\r\nContent-Disposition: form-data name=\"a\"\r\n\r\nx\r\n--XyZ--", "malformed",
            "a missing `;`");
    REFUSED(CT, "--XyZ\r\nContent-Disposition: form-data;\r\n name=\"a\"\r\n\r\nx\r\n--XyZ--", "folded",
            "a folded header line");
    REFUSED(CT, "--XyZ\r\n" CD "no colon here\r\n\r\nx\r\n--XyZ--", "Name: value", "a line without a colon");
    REFUSED(CT, "--XyZ\r\n" CD "Bad Name: x\r\n\r\nx\r\n--XyZ--", "Name: value", "a space in a header name");
    REFUSED(CT, "--XyZ\r\n" CD ": x\r\n\r\nx\r\n--XyZ--", "Name: value", "an empty header name");
}

static void test_limits(void)
{
    static const char three[] = "--XyZ\r\n" CD "\r\n1\r\n--XyZ\r\n" CD "\r\n2\r\n--XyZ\r\n" CD "\r\n3\r\n--XyZ--";
    srv_multipart mp;
    is_int(parse_n(&mp, CT, three, sizeof three - 1, 3, 8192), SRV_MULTIPART_OK, "as many parts as allowed");
    srv_multipart_free(&mp);
    is_int(parse_n(&mp, CT, three, sizeof three - 1, 2, 8192), SRV_MULTIPART_TOO_MANY, "one part too many");
    is_str(mp.error, "more than 2 parts", "the reason names the limit");
    srv_multipart_free(&mp);

    /* The header block of a part: its lines and the blank line after them. */
    size_t block = sizeof CD - 1 + 2;
    is_int(parse_n(&mp, CT, three, sizeof three - 1, 1000, block), SRV_MULTIPART_OK, "headers exactly at the bound");
    srv_multipart_free(&mp);
    is_int(parse_n(&mp, CT, three, sizeof three - 1, 1000, block - 1), SRV_MULTIPART_MALFORMED, "one byte over");
    ok(strstr(mp.error, "too large") != NULL, "headers too large");
    srv_multipart_free(&mp);
    is_int(parse_n(&mp, CT, three, sizeof three - 1, 1000, 1), SRV_MULTIPART_MALFORMED, "a bound of one byte");
    srv_multipart_free(&mp);
}

static qval get(qdict *d, const char *key)
{
    qval v = qv_nil();
    dict_get_cstr(d, key, &v);
    return v;
}

static bool str_is(qval v, const char *want, size_t n)
{
    return IS_STR(v) && AS_STR(v)->len == n && memcmp(AS_STR(v)->data, want, n) == 0;
}
#define STR_IS(v, lit) str_is((v), (lit), sizeof(lit) - 1)

static void test_value(void)
{
    qvm *vm = vm_new(NULL);
    srv_multipart mp;
    is_int(PARSE(&mp, CT,
                 "--XyZ\r\n" CD "\r\nfirst\r\n"
                 "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"one.txt\"\r\n\r\nabc\r\n"
                 "--XyZ\r\n" CD "\r\nlast\r\n"
                 "--XyZ\r\nContent-Disposition: form-data; name=\"bad\xff\"\r\n\r\nx\xe2\x82y\r\n"
                 "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"two\"\r\n"
                 "Content-Type: image/png\r\n\r\n\x89PNG\x00\r\n"
                 "--XyZ--"),
           SRV_MULTIPART_OK, "a form with fields and files");
    qval v = srv_multipart_value(vm, &mp);
    srv_multipart_free(&mp);
    ok(IS_DICT(v), "a Dict");
    qval fields = get(AS_DICT(v), "fields"), files = get(AS_DICT(v), "files");
    ok(IS_DICT(fields) && AS_DICT(fields)->count == 2, "two distinct text fields");
    ok(STR_IS(get(AS_DICT(fields), "a"), "last"), "a repeated field: the last wins");
    ok(STR_IS(get(AS_DICT(fields), "bad\xEF\xBF\xBD"), "x\xEF\xBF\xBD\xEF\xBF\xBDy"),
       "bytes that are not UTF-8 become U+FFFD, in names and values");
    ok(IS_ARRAY(files) && AS_ARRAY(files)->len == 2, "two files");
    qdict *f1 = AS_DICT(AS_ARRAY(files)->items[0]), *f2 = AS_DICT(AS_ARRAY(files)->items[1]);
    ok(STR_IS(get(f1, "name"), "f") && STR_IS(get(f1, "filename"), "one.txt"), "files in body order");
    ok(STR_IS(get(f1, "mime_type"), "text/plain"), "mime_type defaults to text/plain");
    ok(STR_IS(get(f2, "mime_type"), "image/png") && STR_IS(get(f2, "filename"), "two"), "the part's Content-Type");
    qval data = get(f2, "data");
    ok(IS_BYTES(data) && AS_BYTES(data)->len == 5 && memcmp(AS_BYTES(data)->data, "\x89PNG\x00", 5) == 0,
       "data is Bytes, kept intact");
    ok(IS_INT(get(f2, "size")) && get(f2, "size").as.i == 5, "size");
    vm_free(vm);
}

int main(void)
{
    test_content_type();
    test_parts();
    test_malformed();
    test_limits();
    test_value();
    return done_testing();
}
