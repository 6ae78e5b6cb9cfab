/* The zip container of torch.save files: central directory, zip64, local headers; stored entries only.
 *
 * Layout (APPNOTE 6.3, as written by PyTorch's miniz; spec/esm2.md §4d), all little-endian:
 *   local header   "PK\3\4" ... +26 u16 name_len, +28 u16 extra_len, name, extra, then the data
 *                  (torch pads the extra field with an "FB" block so data starts 64-byte aligned; the local
 *                  crc/sizes are 0 because of the data descriptor, so sizes come from the central directory)
 *   central header "PK\1\2" +8 u16 flags, +10 u16 method, +20 u32 csize, +24 u32 size, +28 u16 name_len,
 *                  +30 u16 extra_len, +32 u16 comment_len, +34 u16 disk, +42 u32 local header offset, name, extra,
 *                  comment; a field of all ones is in the zip64 extra block (id 1: u64 size, csize, offset, then
 *                  u32 disk, only the saturated ones, in that order)
 *   zip64 EOCD     "PK\6\6" +8 u64 record size, +24 u32 disk, +28 u32 cd disk, +32 u64 entries on disk,
 *                  +40 u64 entries, +48 u64 cd size, +56 u64 cd offset
 *   zip64 locator  "PK\6\7" +4 u32 disk, +8 u64 zip64 EOCD offset, +16 u32 disks (20 bytes, just before the EOCD)
 *   EOCD           "PK\5\6" +4 u16 disk, +6 u16 cd disk, +8 u16 entries on disk, +10 u16 entries, +12 u32 cd size,
 *                  +16 u32 cd offset, +20 u16 comment_len, comment (22 bytes + comment, at the end) */
#include "zip.h"

#include <stdlib.h>
#include <string.h>

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_EOCD 0x06054b50u
#define SIG_EOCD64 0x06064b50u
#define SIG_LOCATOR 0x07064b50u
#define MAX_ENTRIES (1u << 22)

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }

typedef struct {
    uint64_t cd_offset, cd_size, entries, cd_limit; /* the central directory must end by cd_limit */
} zip_dir;

/* Finds the EOCD (scanning back over a comment of up to 65535 bytes) and, when present, the zip64 records. */
static int find_directory(const uint8_t *d, size_t size, const char *what, zip_dir *out)
{
    if (size < 22) {
        vnp_error("%s: %zu bytes, too short for a zip file", what, size);
        return VNP_ERR_FORMAT;
    }
    size_t lowest = size - 22 > 65535 ? size - 22 - 65535 : 0, eocd = SIZE_MAX;
    for (size_t p = size - 22 + 1; p-- > lowest;) {
        if (rd32(d + p) == SIG_EOCD && p + 22 + rd16(d + p + 20) == size) {
            eocd = p;
            break;
        }
    }
    if (eocd == SIZE_MAX) {
        vnp_error("%s: no zip end-of-central-directory record in the last %zu bytes (truncated or not a zip file)",
                  what, size - lowest);
        return VNP_ERR_FORMAT;
    }
    const uint8_t *e = d + eocd;
    if (rd16(e + 4) != 0 || rd16(e + 6) != 0 || rd16(e + 8) != rd16(e + 10)) {
        vnp_error("%s: byte %zu: multi-disk zip archives are not supported", what, eocd);
        return VNP_ERR_UNSUPPORTED;
    }
    out->entries = rd16(e + 10);
    out->cd_size = rd32(e + 12);
    out->cd_offset = rd32(e + 16);
    out->cd_limit = eocd;
    if (eocd >= 20 && rd32(d + eocd - 20) == SIG_LOCATOR) {
        size_t loc = eocd - 20;
        uint64_t z64 = rd64(d + loc + 8);
        if (z64 > loc || loc - z64 < 56) {
            vnp_error("%s: byte %zu: the zip64 locator points at byte %llu, outside the archive", what, loc,
                      (unsigned long long)z64);
            return VNP_ERR_FORMAT;
        }
        const uint8_t *r = d + z64;
        if (rd32(r) != SIG_EOCD64) {
            vnp_error("%s: byte %llu: no zip64 end-of-central-directory record where the locator points", what,
                      (unsigned long long)z64);
            return VNP_ERR_FORMAT;
        }
        if (rd32(r + 16) != 0 || rd32(r + 20) != 0 || rd64(r + 24) != rd64(r + 32)) {
            vnp_error("%s: byte %llu: multi-disk zip archives are not supported", what, (unsigned long long)z64);
            return VNP_ERR_UNSUPPORTED;
        }
        out->entries = rd64(r + 32);
        out->cd_size = rd64(r + 40);
        out->cd_offset = rd64(r + 48);
        out->cd_limit = z64;
    }
    if (out->cd_offset > out->cd_limit || out->cd_size > out->cd_limit - out->cd_offset) {
        vnp_error("%s: the central directory (byte %llu, %llu bytes) runs past its end record at byte %llu "
                  "(truncated or corrupt)",
                  what, (unsigned long long)out->cd_offset, (unsigned long long)out->cd_size,
                  (unsigned long long)out->cd_limit);
        return VNP_ERR_FORMAT;
    }
    if (out->entries > out->cd_size / 46 || out->entries > MAX_ENTRIES) {
        vnp_error("%s: byte %llu: %llu entries cannot fit in a central directory of %llu bytes", what,
                  (unsigned long long)out->cd_offset, (unsigned long long)out->entries,
                  (unsigned long long)out->cd_size);
        return VNP_ERR_FORMAT;
    }
    return VNP_OK;
}

/* Replaces the saturated 32-bit fields of a central header from its zip64 extra block. */
static int read_zip64_extra(const uint8_t *x, size_t xlen, uint64_t pos, const char *what, vnp_zip_entry *e,
                            uint32_t *disk)
{
    int need_size = e->size == 0xFFFFFFFFu, need_csize = e->csize == 0xFFFFFFFFu,
        need_off = e->header_offset == 0xFFFFFFFFu, need_disk = *disk == 0xFFFFu;
    size_t off = 0;
    while (off + 4 <= xlen) {
        uint16_t id = rd16(x + off), len = rd16(x + off + 2);
        if (len > xlen - off - 4) {
            vnp_error("%s: byte %llu: a central-directory extra field runs past its header", what,
                      (unsigned long long)(pos + off));
            return VNP_ERR_FORMAT;
        }
        if (id == 0x0001) {
            const uint8_t *p = x + off + 4, *end = p + len;
            uint64_t *fields[3] = {need_size ? &e->size : NULL, need_csize ? &e->csize : NULL,
                                   need_off ? &e->header_offset : NULL};
            for (int i = 0; i < 3; i++) {
                if (!fields[i]) continue;
                if (end - p < 8) goto short_field;
                *fields[i] = rd64(p);
                p += 8;
            }
            if (need_disk) {
                if (end - p < 4) goto short_field;
                *disk = rd32(p);
            }
            return VNP_OK;
        }
        off += 4 + (size_t)len;
    }
    if (need_size || need_csize || need_off || need_disk) {
        vnp_error("%s: byte %llu: a central header says its sizes are in a zip64 extra field, which is missing", what,
                  (unsigned long long)pos);
        return VNP_ERR_FORMAT;
    }
    return VNP_OK;
short_field:
    vnp_error("%s: byte %llu: the zip64 extra field is too short for the fields it must hold", what,
              (unsigned long long)pos);
    return VNP_ERR_FORMAT;
}

/* One central header at pos (inside [pos, cd_end)); *next is the following header. */
static int read_central(const uint8_t *d, size_t size, uint64_t pos, uint64_t cd_end, const zip_dir *dir,
                        const char *what, vnp_zip_entry *e, uint64_t *next)
{
    if (cd_end - pos < 46 || rd32(d + pos) != SIG_CENTRAL) {
        vnp_error("%s: byte %llu: expected a zip central-directory header (truncated or corrupt directory)", what,
                  (unsigned long long)pos);
        return VNP_ERR_FORMAT;
    }
    const uint8_t *h = d + pos;
    uint64_t nlen = rd16(h + 28), xlen = rd16(h + 30), clen = rd16(h + 32);
    if (nlen + xlen + clen > cd_end - pos - 46) {
        vnp_error("%s: byte %llu: a central-directory header runs past the directory", what, (unsigned long long)pos);
        return VNP_ERR_FORMAT;
    }
    memset(e, 0, sizeof *e);
    e->flags = rd16(h + 8);
    e->method = rd16(h + 10);
    e->csize = rd32(h + 20);
    e->size = rd32(h + 24);
    e->header_offset = rd32(h + 42);
    e->name = (const char *)h + 46;
    e->name_len = (size_t)nlen;
    uint32_t disk = rd16(h + 34);
    int rc = read_zip64_extra(h + 46 + nlen, (size_t)xlen, pos + 46 + nlen, what, e, &disk);
    if (rc) return rc;
    if (disk != 0) {
        vnp_error("%s: byte %llu: entry '%.*s' lives on another disk", what, (unsigned long long)pos, (int)nlen,
                  e->name);
        return VNP_ERR_UNSUPPORTED;
    }
    if (e->method == 0 && e->csize != e->size) {
        vnp_error("%s: byte %llu: stored entry '%.*s' has compressed size %llu != size %llu", what,
                  (unsigned long long)pos, (int)nlen, e->name, (unsigned long long)e->csize,
                  (unsigned long long)e->size);
        return VNP_ERR_FORMAT;
    }
    /* The local header gives the real start of the data (its extra field differs from the central one). */
    uint64_t lho = e->header_offset;
    if (lho > dir->cd_offset || dir->cd_offset - lho < 30 || rd32(d + lho) != SIG_LOCAL) {
        vnp_error("%s: byte %llu: entry '%.*s' points at byte %llu, where there is no local header inside the file "
                  "(%zu bytes)",
                  what, (unsigned long long)pos, (int)nlen, e->name, (unsigned long long)lho, size);
        return VNP_ERR_FORMAT;
    }
    uint64_t data = lho + 30 + rd16(d + lho + 26) + rd16(d + lho + 28);
    if (data > dir->cd_offset || e->csize > dir->cd_offset - data) {
        vnp_error("%s: byte %llu: entry '%.*s' data [%llu, +%llu) runs past the start of the central directory "
                  "(byte %llu)",
                  what, (unsigned long long)lho, (int)nlen, e->name, (unsigned long long)data,
                  (unsigned long long)e->csize, (unsigned long long)dir->cd_offset);
        return VNP_ERR_FORMAT;
    }
    e->data_offset = data;
    *next = pos + 46 + nlen + xlen + clen;
    return VNP_OK;
}

static int cmp_entry(const void *a, const void *b)
{
    const vnp_zip_entry *x = a, *y = b;
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int c = memcmp(x->name, y->name, n);
    if (c) return c;
    return x->name_len < y->name_len ? -1 : x->name_len > y->name_len;
}

int vnp_zip_parse_mem(const uint8_t *data, size_t size, const char *what, vnp_zip *z)
{
    memset(z, 0, sizeof *z);
    z->data = data;
    z->size = size;
    zip_dir dir;
    int rc = find_directory(data, size, what, &dir);
    if (rc) return rc;
    if (dir.entries == 0) {
        vnp_error("%s: byte %llu: the zip archive is empty", what, (unsigned long long)dir.cd_offset);
        return VNP_ERR_FORMAT;
    }
    z->cd_offset = dir.cd_offset;
    z->e = vnp_malloc_array((size_t)dir.entries, sizeof *z->e);
    if (!z->e) return VNP_ERR_NOMEM;
    uint64_t pos = dir.cd_offset, cd_end = dir.cd_offset + dir.cd_size;
    for (uint64_t i = 0; i < dir.entries; i++) {
        rc = read_central(data, size, pos, cd_end, &dir, what, &z->e[i], &pos);
        if (rc) goto fail;
        z->n++;
    }
    const char *slash = memchr(z->e[0].name, '/', z->e[0].name_len);
    if (!slash || slash == z->e[0].name) {
        vnp_error("%s: byte %llu: the first zip entry '%.*s' is not inside a top-level folder (not a torch.save "
                  "file?)",
                  what, (unsigned long long)dir.cd_offset, (int)z->e[0].name_len, z->e[0].name);
        rc = VNP_ERR_FORMAT;
        goto fail;
    }
    z->prefix = z->e[0].name;
    z->prefix_len = (size_t)(slash - z->e[0].name);
    qsort(z->e, z->n, sizeof *z->e, cmp_entry);
    for (size_t i = 1; i < z->n; i++) {
        if (cmp_entry(&z->e[i - 1], &z->e[i]) == 0) {
            vnp_error("%s: byte %llu: the zip entry '%.*s' appears twice", what,
                      (unsigned long long)z->e[i].header_offset, (int)z->e[i].name_len, z->e[i].name);
            rc = VNP_ERR_FORMAT;
            goto fail;
        }
    }
    return VNP_OK;
fail:
    vnp_zip_free(z);
    return rc;
}

void vnp_zip_free(vnp_zip *z)
{
    if (!z) return;
    free(z->e);
    z->e = NULL;
    z->n = 0;
}

const vnp_zip_entry *vnp_zip_find(const vnp_zip *z, const char *name, size_t len)
{
    vnp_zip_entry key = {.name = name, .name_len = len};
    return z->n ? bsearch(&key, z->e, z->n, sizeof *z->e, cmp_entry) : NULL;
}

int vnp_zip_entry_bytes(const vnp_zip *z, const vnp_zip_entry *e, const char *what, const uint8_t **bytes)
{
    if (e->method != 0) {
        vnp_error("%s: byte %llu: zip entry '%.*s' is compressed (method %u); only stored entries are read, as "
                  "torch.save writes them (re-save the file with torch.save)",
                  what, (unsigned long long)e->header_offset, (int)e->name_len, e->name, e->method);
        return VNP_ERR_UNSUPPORTED;
    }
    if (e->flags & 1) {
        vnp_error("%s: byte %llu: zip entry '%.*s' is encrypted", what, (unsigned long long)e->header_offset,
                  (int)e->name_len, e->name);
        return VNP_ERR_UNSUPPORTED;
    }
    *bytes = z->data + e->data_offset;
    return VNP_OK;
}
