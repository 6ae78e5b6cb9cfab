/* libFuzzer target: arbitrary bytes through the sequence reader (format detection, FASTA/FASTQ parsing, gzip/BGZF,
 * SAM/BAM/CRAM via htslib), and every record through chunking and six-frame translation. The bytes are served as a
 * file from memory (memfd) so that the reader sees exactly what a user's file would give it. */
#define _GNU_SOURCE
#include "vnp/io.h"
#include "vnp/seq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int fd = -1;
static vnp_translator *tr;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (fd < 0) {
        vnp_log_set_level(VNP_LOG_QUIET);
        /* Never let htslib look for CRAM references on the network while fuzzing. */
        setenv("REF_PATH", "/nonexistent", 1);
        setenv("REF_CACHE", "/nonexistent", 1);
        fd = memfd_create("vnp_fuzz_seqreader", 0);
        tr = vnp_translator_create();
        if (fd < 0 || !tr) abort();
    }
    /* htslib's CRAM decoder trusts sizes in corrupt containers (multi-GB allocations); it is htslib's code, not
     * ours, so CRAM bytes are left out. BAM, whose records our reader decodes, stays in. */
    if (size >= 4 && memcmp(data, "CRAM", 4) == 0) return 0;
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size) abort();
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    vnp_seqreader *r = NULL;
    if (vnp_seqreader_open(&r, path, NULL) != 0) return 0;
    vnp_seqrecord rec;
    while (vnp_seqreader_next(r, &rec) == 1) {
        if (rec.id[rec.id_len] != '\0' || rec.seq[rec.seq_len] != '\0') abort();
        size_t nc = vnp_chunk_count(rec.seq_len, 300);
        for (size_t c = 0; c < nc; c++) {
            vnp_chunk ch = vnp_chunk_get(rec.seq_len, 300, c);
            if (ch.length == 0 || ch.offset + ch.length > rec.seq_len) abort();
            vnp_work_item items[VNP_NFRAMES];
            int kept = 0;
            if (vnp_translate_chunk(tr, rec.seq + ch.offset, ch.length, rec.index, c, items, &kept) != 0) abort();
            for (int i = 0; i < kept; i++)
                if (items[i].prot_len == 0 || items[i].nuc_len > ch.length) abort();
        }
    }
    vnp_seqreader_close(r);
    return 0;
}
