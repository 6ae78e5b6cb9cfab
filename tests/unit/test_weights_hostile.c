/* Hostile model files, generated here byte by byte: every one must give an error status with a message naming
 * the file and a byte offset, never a crash, a hang or an allocation sized by a number from the file. Also a
 * well-formed zip64 archive, built the way torch.save writes files over 4 GiB, must load. */
#define _DEFAULT_SOURCE
#include "vnp/weights.h"
#include "vnp_test.h"
#include "weights/pickle.h"
#include "weights/safetensors.h"
#include "weights/torch.h"
#include "weights/zip.h"

#include <stdint.h>
#include <unistd.h>

/* ---- stderr capture: the messages are part of the contract ---- */
static char msg[16384];
static int saved_fd = -1;
static FILE *cap_tmp;

static void cap_begin(void)
{
    fflush(stderr);
    cap_tmp = tmpfile();
    saved_fd = dup(2);
    if (cap_tmp) dup2(fileno(cap_tmp), 2);
}

static void cap_end(void)
{
    fflush(stderr);
    if (saved_fd >= 0) {
        dup2(saved_fd, 2);
        close(saved_fd);
    }
    msg[0] = '\0';
    if (cap_tmp) {
        rewind(cap_tmp);
        size_t n = fread(msg, 1, sizeof msg - 1, cap_tmp);
        msg[n] = '\0';
        fclose(cap_tmp);
    }
}

/* ---- byte builders ---- */
static void put(vnp_buf *b, const void *p, size_t n)
{
    if (vnp_buf_append(b, p, n) != VNP_OK) abort();
}
static void puts_(vnp_buf *b, const char *s) { put(b, s, strlen(s)); }
static void put_le(vnp_buf *b, uint64_t v, int n)
{
    for (int i = 0; i < n; i++) {
        unsigned char c = (unsigned char)(v >> (8 * i));
        put(b, &c, 1);
    }
}
static void set_le(vnp_buf *b, size_t at, uint64_t v, int n)
{
    for (int i = 0; i < n; i++) b->data[at + (size_t)i] = (char)(unsigned char)(v >> (8 * i));
}

/* safetensors: header JSON then data_len zero bytes */
static void st_make(vnp_buf *b, const char *json, size_t data_len)
{
    b->len = 0;
    put_le(b, strlen(json), 8);
    puts_(b, json);
    for (size_t i = 0; i < data_len; i++) put(b, "", 1);
}

/* pickle pieces */
static void pk_str(vnp_buf *b, const char *s)
{
    puts_(b, "X");
    put_le(b, strlen(s), 4);
    puts_(b, s);
}
static void pk_int(vnp_buf *b, int32_t v)
{
    puts_(b, "J");
    put_le(b, (uint32_t)v, 4);
}
static void pk_global(vnp_buf *b, const char *mod, const char *name)
{
    puts_(b, "c");
    puts_(b, mod);
    puts_(b, "\n");
    puts_(b, name);
    puts_(b, "\n");
}

/* {'w': _rebuild_tensor_v2(('storage', torch.<cls>, key, 'cpu', numel), offset, (size0,) or 9 dims, (1,...))} */
static void pk_state_dict(vnp_buf *b, const char *cls, const char *key, int numel, int offset, int size0, int ndim)
{
    b->len = 0;
    put(b, "\x80\x02}(", 4);
    pk_str(b, "w");
    pk_global(b, "torch._utils", "_rebuild_tensor_v2");
    puts_(b, "((");
    pk_str(b, "storage");
    pk_global(b, "torch", cls);
    pk_str(b, key);
    pk_str(b, "cpu");
    pk_int(b, numel);
    puts_(b, "tQ");
    pk_int(b, offset);
    puts_(b, "(");
    for (int d = 0; d < ndim; d++) pk_int(b, d == 0 ? size0 : 1);
    puts_(b, "t(");
    for (int d = 0; d < ndim; d++) pk_int(b, 1);
    puts_(b, "t\x89");
    pk_global(b, "collections", "OrderedDict");
    puts_(b, ")RtRu.");
}

typedef struct {
    const char *name;
    const void *data;
    size_t len;
    int method;
} zent;

/* A zip of stored entries, as torch.save lays it out (no compression, sizes in the central directory). With
 * zip64, every size and offset in the central directory is 0xFFFFFFFF and the real value is in the zip64 extra
 * field, followed by a zip64 EOCD and its locator. cd_at[i] receives the offset of entry i's central header. */
static void zip_make(vnp_buf *b, const zent *e, int n, int zip64, size_t *cd_at)
{
    b->len = 0;
    size_t lho[16];
    for (int i = 0; i < n; i++) {
        lho[i] = b->len;
        put_le(b, 0x04034b50, 4);
        put_le(b, 20, 2);
        put_le(b, 0x0808, 2);
        put_le(b, (uint64_t)e[i].method, 2);
        put_le(b, 0, 4 + 4 + 4 + 4); /* time/date, crc, csize, size: 0 as torch writes them */
        put_le(b, strlen(e[i].name), 2);
        put_le(b, 0, 2);
        puts_(b, e[i].name);
        put(b, e[i].data, e[i].len);
    }
    size_t cd = b->len;
    for (int i = 0; i < n; i++) {
        cd_at[i] = b->len;
        put_le(b, 0x02014b50, 4);
        put_le(b, 20, 2);
        put_le(b, 20, 2);
        put_le(b, 0x0808, 2);
        put_le(b, (uint64_t)e[i].method, 2);
        put_le(b, 0, 4 + 4);
        put_le(b, zip64 ? 0xFFFFFFFFu : e[i].len, 4);
        put_le(b, zip64 ? 0xFFFFFFFFu : e[i].len, 4);
        put_le(b, strlen(e[i].name), 2);
        put_le(b, zip64 ? 28 : 0, 2);
        put_le(b, 0, 2 + 2 + 2 + 4);
        put_le(b, zip64 ? 0xFFFFFFFFu : lho[i], 4);
        puts_(b, e[i].name);
        if (zip64) {
            put_le(b, 1, 2);
            put_le(b, 24, 2);
            put_le(b, e[i].len, 8);
            put_le(b, e[i].len, 8);
            put_le(b, lho[i], 8);
        }
    }
    size_t cd_size = b->len - cd;
    size_t z64 = b->len;
    put_le(b, 0x06064b50, 4);
    put_le(b, 44, 8);
    put_le(b, 45, 2);
    put_le(b, 45, 2);
    put_le(b, 0, 4 + 4);
    put_le(b, (uint64_t)n, 8);
    put_le(b, (uint64_t)n, 8);
    put_le(b, cd_size, 8);
    put_le(b, cd, 8);
    put_le(b, 0x07064b50, 4);
    put_le(b, 0, 4);
    put_le(b, z64, 8);
    put_le(b, 1, 4);
    put_le(b, 0x06054b50, 4);
    put_le(b, 0, 2 + 2);
    put_le(b, zip64 ? 0xFFFF : (uint64_t)n, 2);
    put_le(b, zip64 ? 0xFFFF : (uint64_t)n, 2);
    put_le(b, zip64 ? 0xFFFFFFFFu : cd_size, 4);
    put_le(b, zip64 ? 0xFFFFFFFFu : cd, 4);
    put_le(b, 0, 2);
}

static const float four[4] = {1.5f, -2, 3, 4};

/* archive/data.pkl = pkl, archive/data/0 = four floats */
static void torch_make(vnp_buf *b, const vnp_buf *pkl, int zip64, int pkl_method, size_t *cd_at)
{
    zent e[3] = {{"archive/data.pkl", pkl->data, pkl->len, pkl_method},
                 {"archive/data/0", four, sizeof four, 0},
                 {"archive/version", "3\n", 2, 0}};
    zip_make(b, e, 3, zip64, cd_at);
}

typedef int (*parse_fn)(vnp_weights *, const uint8_t *, size_t, const char *);

/* Runs a parser on bytes; returns its status with the message captured in msg. */
static int run(parse_fn fn, const vnp_buf *b)
{
    vnp_weights *w = vnp_wt_new("hostile");
    cap_begin();
    int rc = fn(w, (const uint8_t *)b->data, b->len, "hostile.bin");
    if (rc == VNP_OK) rc = vnp_wt_finish(w, "hostile.bin");
    cap_end();
    vnp_weights_close(w);
    return rc;
}

#define EXPECT_FAIL(fn, b, needle)                                                                           \
    do {                                                                                                     \
        int rc_ = run(fn, b);                                                                                \
        CHECK_MSG(rc_ < 0, "expected an error containing '%s', got success", needle);                       \
        CHECK_MSG(strstr(msg, "hostile.bin") && strstr(msg, "byte") && strstr(msg, needle),                  \
                  "message lacks file/byte/'%s': %s", needle, msg);                                          \
        CHECK_MSG(vnp_status_exit_code(rc_) == 1 || vnp_status_exit_code(rc_) == 2, "exit code");            \
    } while (0)

static void test_safetensors(void)
{
    vnp_buf b = {0};
    st_make(&b, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", 16);
    CHECK(run(vnp_safetensors_parse_mem, &b) == VNP_OK);
    b.len = 0;
    put(&b, "\x03\0\0\0\0\0\0\0", 8);
    EXPECT_FAIL(vnp_safetensors_parse_mem, &b, "header length"); /* length beyond the file */
    b.len = 0;
    put_le(&b, 1000, 8);
    puts_(&b, "{}");
    EXPECT_FAIL(vnp_safetensors_parse_mem, &b, "past the end");
    put_le(&b, (uint64_t)1 << 63, 0);
    b.len = 0;
    put_le(&b, UINT64_MAX, 8);
    puts_(&b, "{}");
    EXPECT_FAIL(vnp_safetensors_parse_mem, &b, "past the end"); /* 8+N would wrap */
    b.len = 0;
    put(&b, "\x05\0\0\0\0\0\0\0hello", 13);
    EXPECT_FAIL(vnp_safetensors_parse_mem, &b, "not a JSON object");
    st_make(&b, "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}",
            24);
    EXPECT_FAIL(vnp_safetensors_parse_mem, &b, "overlap");
    st_make(&b, "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8);
    EXPECT_FAIL(vnp_safetensors_parse_mem, &b, "past the end of the file");
    st_make(&b, "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,16]}}", 16);
    EXPECT_FAIL(vnp_safetensors_parse_mem, &b, "needs 12");
    st_make(&b, "{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4611686018427387904],"
                "\"data_offsets\":[0,4]}}",
            4);
    EXPECT_FAIL(vnp_safetensors_parse_mem, &b, "overflows");
    st_make(&b, "{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904],\"data_offsets\":[0,0]}}", 4);
    EXPECT_FAIL(vnp_safetensors_parse_mem, &b, "overflows"); /* numel fits int64, bytes do not */
    st_make(&b, "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 4);
    EXPECT_FAIL(vnp_safetensors_parse_mem, &b, "data_offsets");
    st_make(&b, "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,99999999999999999999]}}", 4);
    EXPECT_FAIL(vnp_safetensors_parse_mem, &b, "JSON"); /* beyond int64: jansson refuses */
    st_make(&b, "{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1);
    EXPECT_FAIL(vnp_safetensors_parse_mem, &b, "not supported");
    st_make(&b, "{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4);
    EXPECT_FAIL(vnp_safetensors_parse_mem, &b, "dimensions");
    st_make(&b, "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{}}", 4);
    EXPECT_FAIL(vnp_safetensors_parse_mem, &b, "JSON"); /* duplicate key */
    st_make(&b, "{\"__metadata__\":{\"format\":5}}", 0);
    EXPECT_FAIL(vnp_safetensors_parse_mem, &b, "__metadata__");
    st_make(&b, "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}", 4);
    EXPECT_FAIL(vnp_safetensors_parse_mem, &b, "JSON"); /* truncated JSON */
    /* names that collide after normalisation */
    st_make(&b, "{\"esm.x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                "\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
            8);
    CHECK(run(vnp_safetensors_parse_mem, &b) == VNP_ERR_FORMAT); /* a name clash has no byte offset */
    CHECK(strstr(msg, "hostile.bin") && strstr(msg, "'esm.x' and 'x' both"));
    vnp_buf_free(&b);
}

static void test_zip(void)
{
    vnp_buf pkl = {0}, b = {0};
    size_t cd[3];
    pk_state_dict(&pkl, "FloatStorage", "0", 4, 0, 4, 1);
    /* the well-formed archive, classic and zip64 */
    for (int z64 = 0; z64 < 2; z64++) {
        torch_make(&b, &pkl, z64, 0, cd);
        vnp_weights *w = vnp_wt_new("ok");
        int rc = vnp_torch_parse_mem(w, (const uint8_t *)b.data, b.len, "ok.pt");
        CHECK_MSG(rc == VNP_OK && vnp_wt_finish(w, "ok") == VNP_OK, "zip64=%d", z64);
        const vnp_tensor *t = vnp_weights_find(w, "w");
        float f[4];
        CHECK(t && t->numel == 4 && vnp_tensor_to_f32(t, f) == VNP_OK && f[0] == 1.5f && f[3] == 4);
        vnp_weights_close(w);
    }
    /* truncated inside the central directory: no end record any more */
    torch_make(&b, &pkl, 0, 0, cd);
    b.len = cd[1] + 10;
    EXPECT_FAIL(vnp_torch_parse_mem, &b, "end-of-central-directory");
    /* central directory shorter than its end record says (entries claimed that are not there) */
    torch_make(&b, &pkl, 0, 0, cd);
    size_t eocd = b.len - 22, z64 = eocd - 20 - 56;
    set_le(&b, z64 + 24, 4, 8); /* entries: 4, the directory holds 3 */
    set_le(&b, z64 + 32, 4, 8);
    EXPECT_FAIL(vnp_torch_parse_mem, &b, "central directory");
    torch_make(&b, &pkl, 0, 0, cd);
    set_le(&b, cd[2], 0x12345678u, 4); /* a central header that is not one */
    EXPECT_FAIL(vnp_torch_parse_mem, &b, "expected a zip central-directory header");
    set_le(&b, z64 + 24, 1000000, 8);
    set_le(&b, z64 + 32, 1000000, 8);
    EXPECT_FAIL(vnp_torch_parse_mem, &b, "cannot fit");
    torch_make(&b, &pkl, 0, 0, cd);
    set_le(&b, z64 + 40, 1u << 30, 8); /* cd size past the end record */
    EXPECT_FAIL(vnp_torch_parse_mem, &b, "runs past");
    /* an entry whose local header lies beyond the file */
    torch_make(&b, &pkl, 0, 0, cd);
    set_le(&b, cd[1] + 42, 0x7ffffff0u, 4);
    EXPECT_FAIL(vnp_torch_parse_mem, &b, "no local header");
    /* saturated offset without a zip64 extra field */
    torch_make(&b, &pkl, 0, 0, cd);
    set_le(&b, cd[1] + 42, 0xFFFFFFFFu, 4);
    EXPECT_FAIL(vnp_torch_parse_mem, &b, "zip64 extra");
    /* zip64 extra field pointing past the data */
    torch_make(&b, &pkl, 1, 0, cd);
    set_le(&b, cd[1] + 46 + strlen("archive/data/0") + 4, 1u << 30, 8);
    set_le(&b, cd[1] + 46 + strlen("archive/data/0") + 12, 1u << 30, 8);
    EXPECT_FAIL(vnp_torch_parse_mem, &b, "runs past the start of the central directory");
    /* zip64 locator pointing nowhere */
    torch_make(&b, &pkl, 0, 0, cd);
    set_le(&b, eocd - 20 + 8, (uint64_t)1 << 40, 8);
    EXPECT_FAIL(vnp_torch_parse_mem, &b, "locator");
    /* a compressed data.pkl */
    torch_make(&b, &pkl, 0, 8, cd);
    EXPECT_FAIL(vnp_torch_parse_mem, &b, "compressed");
    /* no data.pkl */
    zent e[2] = {{"archive/version", "3\n", 2, 0}, {"archive/version", "3\n", 2, 0}};
    zip_make(&b, e, 1, 0, cd);
    EXPECT_FAIL(vnp_torch_parse_mem, &b, "data.pkl");
    zip_make(&b, e, 2, 0, cd);
    EXPECT_FAIL(vnp_torch_parse_mem, &b, "twice");
    b.len = 0;
    puts_(&b, "PK\3\4 short");
    EXPECT_FAIL(vnp_torch_parse_mem, &b, "zip");
    vnp_buf_free(&pkl);
    vnp_buf_free(&b);
}

/* Wraps a pickle into an archive with storage 0 (four floats) and parses it. */
static int run_pickle(const vnp_buf *pkl)
{
    vnp_buf b = {0};
    size_t cd[3];
    torch_make(&b, pkl, 0, 0, cd);
    int rc = run(vnp_torch_parse_mem, &b);
    vnp_buf_free(&b);
    return rc;
}

#define EXPECT_PICKLE_FAIL(pkl, needle)                                                                      \
    do {                                                                                                     \
        int rc_ = run_pickle(pkl);                                                                           \
        CHECK_MSG(rc_ < 0, "expected an error containing '%s', got success", needle);                       \
        CHECK_MSG(strstr(msg, "hostile.bin") && strstr(msg, "byte") && strstr(msg, needle),                  \
                  "message lacks file/byte/'%s': %s", needle, msg);                                          \
    } while (0)

static void raw(vnp_buf *b, const char *bytes, size_t n)
{
    b->len = 0;
    put(b, bytes, n);
}

static void test_pickle(void)
{
    vnp_buf p = {0};
    pk_state_dict(&p, "FloatStorage", "0", 4, 0, 4, 1);
    CHECK(run_pickle(&p) == VNP_OK);
    pk_state_dict(&p, "FloatStorage", "9", 4, 0, 4, 1);
    EXPECT_PICKLE_FAIL(&p, "storage '9'");
    pk_state_dict(&p, "FloatStorage", "0", 1000, 0, 4, 1);
    EXPECT_PICKLE_FAIL(&p, "declares 1000 elements");
    pk_state_dict(&p, "FloatStorage", "0", 4, 0, 8, 1);
    EXPECT_PICKLE_FAIL(&p, "reaches past");
    pk_state_dict(&p, "FloatStorage", "0", 4, 3, 2, 1);
    EXPECT_PICKLE_FAIL(&p, "reaches past"); /* storage offset + size */
    pk_state_dict(&p, "FloatStorage", "0", 4, 0, 1, 9);
    EXPECT_PICKLE_FAIL(&p, "at most 8");
    pk_state_dict(&p, "ComplexFloatStorage", "0", 4, 0, 4, 1);
    EXPECT_PICKLE_FAIL(&p, "not supported");
    pk_state_dict(&p, "HalfStorage", "0", 8, 0, 8, 1); /* 16 bytes hold 8 halves: fine */
    CHECK(run_pickle(&p) == VNP_OK);
    pk_state_dict(&p, "FloatStorage", "0", -1, 0, 4, 1);
    EXPECT_PICKLE_FAIL(&p, "non-negative");
    /* an unknown opcode, and where it is */
    pk_state_dict(&p, "FloatStorage", "0", 4, 0, 4, 1);
    p.data[3] = (char)0xff;
    EXPECT_PICKLE_FAIL(&p, "byte 3 (opcode 0xff)");
    raw(&p, "\x80\x02I42\n.", 7); /* protocol-0 INT: not accepted */
    EXPECT_PICKLE_FAIL(&p, "unsupported pickle opcode 0x49");
    raw(&p, "\x80\x02R.", 4);
    EXPECT_PICKLE_FAIL(&p, "underflow");
    raw(&p, "\x80\x02(K\x01R.", 7); /* REDUCE may not pop through a MARK */
    EXPECT_PICKLE_FAIL(&p, "underflow");
    raw(&p, "\x80\x02.", 3);
    EXPECT_PICKLE_FAIL(&p, "underflow");
    raw(&p, "\x80\x02}r\xff\xff\xff\x7f.", 9);
    EXPECT_PICKLE_FAIL(&p, "memo index");
    raw(&p, "\x80\x02j\x05\x00\x00\x00.", 8);
    EXPECT_PICKLE_FAIL(&p, "never stored");
    raw(&p, "\x80\x02X\xe8\x03\x00\x00" "ab.", 10);
    EXPECT_PICKLE_FAIL(&p, "past the end");
    raw(&p, "\x80\x02}", 3);
    EXPECT_PICKLE_FAIL(&p, "without STOP");
    raw(&p, "\x80\x02}K\x01s.", 7);
    EXPECT_PICKLE_FAIL(&p, "underflow");
    raw(&p, "\x80\x02](K\x01K\x02u.", 10);
    EXPECT_PICKLE_FAIL(&p, "not a dict");
    raw(&p, "\x80\x02\x8a\x09\x01\x02\x03\x04\x05\x06\x07\x08\x09.", 14); /* a 9-byte LONG1: kept, unused */
    CHECK(run_pickle(&p) == VNP_OK);
    /* deep MARK nesting */
    p.len = 0;
    puts_(&p, "\x80\x02");
    for (int i = 0; i < 5000; i++) puts_(&p, "(");
    puts_(&p, ".");
    EXPECT_PICKLE_FAIL(&p, "nested too deeply");
    /* lists nested 200 deep: the VM is fine, naming stops at the depth limit */
    p.len = 0;
    puts_(&p, "\x80\x02");
    for (int i = 0; i < 200; i++) puts_(&p, "]");
    for (int i = 0; i < 199; i++) puts_(&p, "a");
    puts_(&p, ".");
    EXPECT_PICKLE_FAIL(&p, "nested deeper");
    /* a list that holds itself */
    raw(&p, "\x80\x02]q\0h\0a.", 9);
    EXPECT_PICKLE_FAIL(&p, "nested deeper");
    /* 60 levels of [x, x]: 2^60 paths through few objects; the visit budget stops it at once */
    p.len = 0;
    put(&p, "\x80\x02]q\0", 5);
    for (int i = 1; i <= 60; i++) {
        unsigned char g[] = {']', '(', 'h', (unsigned char)(i - 1), 'h', (unsigned char)(i - 1), 'e', 'q', (unsigned char)i};
        put(&p, g, sizeof g);
    }
    puts_(&p, ".");
    double t0 = vnp_time_now();
    EXPECT_PICKLE_FAIL(&p, "too large");
    CHECK(vnp_time_now() - t0 < 1.0);
    /* a stack grown without end is stopped by its limit, not by memory */
    p.len = 0;
    puts_(&p, "\x80\x02N");
    for (int i = 0; i < (1 << 20) + 10; i++) put(&p, "q\0h\0", 4);
    puts_(&p, ".");
    EXPECT_PICKLE_FAIL(&p, "stack");
    vnp_buf_free(&p);
}

/* The whole path through a file: bad magic, legacy pickle, a folder without weights. */
static void test_files(void)
{
    char dir[] = "/tmp/vnp_test_hostile_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[512];
    snprintf(path, sizeof path, "%s/bad.safetensors", dir);
    FILE *f = fopen(path, "wb");
    if (f) {
        fputs("this is not a model file at all", f);
        fclose(f);
    }
    cap_begin();
    vnp_weights *w = vnp_weights_open(path);
    cap_end();
    CHECK(w == NULL && strstr(msg, path) && strstr(msg, "byte 0"));
    f = fopen(path, "wb");
    if (f) {
        fwrite("\x80\x02}q\0.", 1, 6, f);
        fclose(f);
    }
    cap_begin();
    w = vnp_weights_open(path);
    cap_end();
    CHECK(w == NULL && strstr(msg, "legacy"));
    unlink(path);
    cap_begin();
    w = vnp_weights_open(dir);
    cap_end();
    CHECK(w == NULL && strstr(msg, "no model weights"));
    f = fopen(path, "wb");
    if (f) fclose(f);
    cap_begin();
    w = vnp_weights_open(path);
    cap_end();
    CHECK(w == NULL && strstr(msg, "empty"));
    unlink(path);
    rmdir(dir);
    cap_begin();
    w = vnp_weights_open("/nonexistent/model.pt");
    cap_end();
    CHECK(w == NULL && strstr(msg, "/nonexistent/model.pt"));
}

int main(void)
{
    test_safetensors();
    test_zip();
    test_pickle();
    test_files();
    VNP_TEST_END();
}
