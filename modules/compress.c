/* compress.c — std/compress/gzip, zlib, deflate and bzip2: whole-buffer
 * compression on zlib and libbz2.
 *
 * Each module has compress(data, level?) -> Bytes and decompress(data) ->
 * Bytes; data may be a Str (its UTF-8 bytes) or Bytes.  The three zlib
 * formats are the same DEFLATE stream with different framing: gzip (header
 * and CRC-32, what .gz files and HTTP use), zlib (small header, Adler-32)
 * and deflate (raw, no framing).  Levels run 0-9 (bzip2: 1-9), default 6.
 *
 * Corrupt, truncated or foreign input raises ValueErr; so does output that
 * would pass 1 GiB, which guards against decompression bombs.
 */
#include <bzlib.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "modules/modules.h"

#define CZ_MAX_OUTPUT (1u << 30)
#define CZ_CHUNK 65536

typedef enum { CZ_GZIP, CZ_ZLIB, CZ_DEFLATE, CZ_BZIP2 } cz_format;

static const struct {
    const char *name;
    int window_bits; /* zlib's selector of the framing */
    int min_level;
} cz_formats[] = {
    {"gzip", 15 + 16, 0},
    {"zlib", 15, 0},
    {"deflate", -15, 0},
    {"bzip2", 0, 1},
};

/* The bytes of a Str or Bytes argument. */
static bool cz_data(qvm *vm, const char *fname, qval v, const uint8_t **data, size_t *len)
{
    if (IS_STR(v)) {
        *data = (const uint8_t *)AS_STR(v)->data;
        *len = AS_STR(v)->len;
        return true;
    }
    if (IS_BYTES(v)) {
        *data = AS_BYTES(v)->data;
        *len = AS_BYTES(v)->len;
        return true;
    }
    vm_raise(vm, E_TYPE, "%s expects Str or Bytes, got %s", fname, vm_cls_name(v));
    return false;
}

static qval cz_corrupt(qvm *vm, cz_format f, const char *why)
{
    return vm_raise(vm, E_VALUE, "%s.decompress: invalid or corrupt %s data (%s)", cz_formats[f].name,
                    cz_formats[f].name, why);
}

static qval cz_too_big(qvm *vm, cz_format f)
{
    return vm_raise(vm, E_VALUE, "%s.decompress: output exceeds %u bytes", cz_formats[f].name, CZ_MAX_OUTPUT);
}

/* ---- zlib formats ------------------------------------------------------------------------------ */

static qval cz_deflate(qvm *vm, cz_format f, const uint8_t *in, size_t len, int level)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, level, Z_DEFLATED, cz_formats[f].window_bits, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return vm_raise(vm, E_RUNTIME, "%s.compress: cannot start the compressor", cz_formats[f].name);
    uLong cap = deflateBound(&zs, (uLong)len);
    uint8_t *out = malloc(cap);
    if (!out) {
        deflateEnd(&zs);
        return vm_raise(vm, E_RUNTIME, "%s.compress: out of memory", cz_formats[f].name);
    }
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)len;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    int rc = deflate(&zs, Z_FINISH);
    qval r = rc == Z_STREAM_END ? qv_obj(bytes_new(vm, out, zs.total_out))
                                : vm_raise(vm, E_RUNTIME, "%s.compress failed: %s", cz_formats[f].name,
                                           zs.msg ? zs.msg : "unknown error");
    deflateEnd(&zs);
    free(out);
    return r;
}

/* Inflate everything; gzip input may hold several members back to back. */
static qval cz_inflate(qvm *vm, cz_format f, const uint8_t *in, size_t len)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, cz_formats[f].window_bits) != Z_OK)
        return vm_raise(vm, E_RUNTIME, "%s.decompress: cannot start the decompressor", cz_formats[f].name);
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)len;
    qbuf out;
    buf_init(&out);
    uint8_t chunk[CZ_CHUNK];
    const char *error = NULL;
    bool too_big = false;
    for (;;) {
        zs.next_out = chunk;
        zs.avail_out = sizeof chunk;
        int rc = inflate(&zs, Z_NO_FLUSH);
        buf_append(&out, (const char *)chunk, sizeof chunk - zs.avail_out);
        if (out.len > CZ_MAX_OUTPUT) {
            too_big = true;
            break;
        }
        if (rc == Z_STREAM_END) {
            if (zs.avail_in == 0)
                break;
            if (f != CZ_GZIP) {
                error = "unexpected data after the end of the stream";
                break;
            }
            inflateReset(&zs); /* the next gzip member */
            continue;
        }
        if (rc == Z_BUF_ERROR && zs.avail_in == 0) {
            error = "data is truncated";
            break;
        }
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            error = zs.msg ? zs.msg : rc == Z_NEED_DICT ? "needs a preset dictionary" : "corrupt stream";
            break;
        }
    }
    inflateEnd(&zs);
    if (error || too_big) {
        buf_free(&out);
        return too_big ? cz_too_big(vm, f) : cz_corrupt(vm, f, error);
    }
    qval r = qv_obj(bytes_new(vm, out.data, out.len));
    buf_free(&out);
    return r;
}

/* ---- bzip2 ----------------------------------------------------------------------------------------- */

static qval cz_bz_compress(qvm *vm, const uint8_t *in, size_t len, int level)
{
    /* bzip2's documented worst case: 1% larger plus 600 bytes. */
    size_t cap = len + len / 100 + 601;
    char *out = malloc(cap);
    if (!out)
        return vm_raise(vm, E_RUNTIME, "bzip2.compress: out of memory");
    unsigned int n = (unsigned int)cap;
    int rc = BZ2_bzBuffToBuffCompress(out, &n, (char *)in, (unsigned int)len, level, 0, 0);
    qval r = rc == BZ_OK ? qv_obj(bytes_new(vm, out, n))
                         : vm_raise(vm, E_RUNTIME, "bzip2.compress failed (error %d)", rc);
    free(out);
    return r;
}

static const char *cz_bz_reason(int rc)
{
    switch (rc) {
    case BZ_DATA_ERROR_MAGIC: return "not bzip2 data";
    case BZ_DATA_ERROR: return "corrupt stream";
    case BZ_MEM_ERROR: return "out of memory";
    default: return "unexpected error";
    }
}

/* Decompress every stream in the input (bzip2 files may concatenate them). */
static qval cz_bz_decompress(qvm *vm, const uint8_t *in, size_t len)
{
    qbuf out;
    buf_init(&out);
    char chunk[CZ_CHUNK];
    const char *error = NULL;
    bool too_big = false;
    size_t pos = 0;
    do {
        bz_stream bz;
        memset(&bz, 0, sizeof bz);
        if (BZ2_bzDecompressInit(&bz, 0, 0) != BZ_OK) {
            error = "cannot start the decompressor";
            break;
        }
        bz.next_in = (char *)in + pos;
        bz.avail_in = (unsigned int)(len - pos);
        int rc;
        do {
            bz.next_out = chunk;
            bz.avail_out = sizeof chunk;
            rc = BZ2_bzDecompress(&bz);
            buf_append(&out, chunk, sizeof chunk - bz.avail_out);
            too_big = out.len > CZ_MAX_OUTPUT;
        } while (rc == BZ_OK && !too_big && (bz.avail_in > 0 || bz.avail_out == 0));
        if (rc == BZ_OK && !too_big)
            error = "data is truncated";
        else if (rc != BZ_STREAM_END && !too_big)
            error = cz_bz_reason(rc);
        pos = len - bz.avail_in;
        BZ2_bzDecompressEnd(&bz);
    } while (!error && !too_big && pos < len);
    if (!error && !too_big && len == 0)
        error = "no data";
    if (error || too_big) {
        buf_free(&out);
        return too_big ? cz_too_big(vm, CZ_BZIP2) : cz_corrupt(vm, CZ_BZIP2, error);
    }
    qval r = qv_obj(bytes_new(vm, out.data, out.len));
    buf_free(&out);
    return r;
}

/* ---- module functions (bound to their format, an Int) ------------------------------------------ */

static qval cz_compress(qvm *vm, qval self, int argc, qval *argv)
{
    cz_format f = (cz_format)self.as.i;
    char fname[32];
    snprintf(fname, sizeof fname, "%s.compress", cz_formats[f].name);
    const uint8_t *data;
    size_t len;
    double level = 6;
    if (!cz_data(vm, fname, argv[0], &data, &len) || (argc > 1 && !arg_num(vm, fname, argv[1], &level)))
        return qv_exc();
    if (!(level >= cz_formats[f].min_level && level < 10))
        return vm_raise(vm, E_VALUE, "Compression level must be between %d and 9, got %g",
                        cz_formats[f].min_level, level);
    if (len > UINT_MAX / 2)
        return vm_raise(vm, E_VALUE, "%s: input too large", fname);
    return f == CZ_BZIP2 ? cz_bz_compress(vm, data, len, (int)level) : cz_deflate(vm, f, data, len, (int)level);
}

static qval cz_decompress(qvm *vm, qval self, int argc, qval *argv)
{
    (void)argc;
    cz_format f = (cz_format)self.as.i;
    char fname[32];
    snprintf(fname, sizeof fname, "%s.decompress", cz_formats[f].name);
    const uint8_t *data;
    size_t len;
    if (!cz_data(vm, fname, argv[0], &data, &len))
        return qv_exc();
    return f == CZ_BZIP2 ? cz_bz_decompress(vm, data, len) : cz_inflate(vm, f, data, len);
}

static bool cz_module_init(qvm *vm, qmodule *m, cz_format f)
{
    qnative *c = native_new(vm, "compress", cz_compress, 1, 2);
    qnative *d = native_new(vm, "decompress", cz_decompress, 1, 1);
    c->bound = d->bound = qv_int(f);
    module_export(vm, m, "compress", qv_obj(c));
    module_export(vm, m, "decompress", qv_obj(d));
    return true;
}

bool gzip_module_init(qvm *vm, qmodule *m)
{
    return cz_module_init(vm, m, CZ_GZIP);
}

bool zlib_module_init(qvm *vm, qmodule *m)
{
    return cz_module_init(vm, m, CZ_ZLIB);
}

bool deflate_module_init(qvm *vm, qmodule *m)
{
    return cz_module_init(vm, m, CZ_DEFLATE);
}

bool bzip2_module_init(qvm *vm, qmodule *m)
{
    return cz_module_init(vm, m, CZ_BZIP2);
}
