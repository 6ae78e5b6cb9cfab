/* Internal: a reader of the zip container of PyTorch checkpoints (stored entries, zip64), over a memory image. */
#ifndef VNP_WEIGHTS_ZIP_H
#define VNP_WEIGHTS_ZIP_H

#include <stddef.h>
#include <stdint.h>

#include "vnp/util.h"

typedef struct {
    const char *name;       /* into the image, NOT NUL-terminated */
    size_t name_len;
    uint64_t header_offset; /* of the local header */
    uint64_t data_offset;   /* first data byte: local header + 30 + its name and extra lengths */
    uint64_t size;          /* uncompressed size */
    uint64_t csize;         /* compressed size (== size when stored) */
    uint16_t method, flags;
} vnp_zip_entry;

typedef struct {
    const uint8_t *data;
    size_t size;
    vnp_zip_entry *e; /* n entries sorted by name */
    size_t n;
    const char *prefix; /* the first central-directory entry's top folder, e.g. "pytorch_model" (not NUL-ended) */
    size_t prefix_len;
    uint64_t cd_offset; /* where the central directory starts */
} vnp_zip;

/* Reads the central directory of data[0..size): EOCD (and zip64 EOCD + locator), every central header, zip64
 * extra fields, every local header. Each entry's data range is checked to lie before the central directory.
 * Errors name `what` and the byte offset. *z borrows data. */
int vnp_zip_parse_mem(const uint8_t *data, size_t size, const char *what, vnp_zip *z) VNP_MUST_CHECK;
void vnp_zip_free(vnp_zip *z); /* accepts a zeroed or freed *z */
/* The entry named name[0..len), NULL when absent. */
const vnp_zip_entry *vnp_zip_find(const vnp_zip *z, const char *name, size_t len);
/* The bytes of an entry: VNP_ERR_UNSUPPORTED (with a message) for compressed or encrypted entries. */
int vnp_zip_entry_bytes(const vnp_zip *z, const vnp_zip_entry *e, const char *what,
                        const uint8_t **bytes) VNP_MUST_CHECK;

#endif
