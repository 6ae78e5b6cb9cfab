/* Six-frame translation and frame selection of VirNucPro's identify_seq, table-driven and allocation-free per
 * codon. */
#include "vnp/seq.h"

#include <stdlib.h>
#include <string.h>

struct vnp_translator {
    char *buf; /* proteins and nucleotide slices of the kept frames of the current chunk */
    size_t cap;
};

/* Standard genetic code indexed by 16*b0 + 4*b1 + b2 with A=0 C=1 G=2 T=3. */
static const char AA[65] = "KNKNTTTTRSRSIIMIQHQHPPPPRRRRLLLLEDEDAAAAGGGGVVVV*Y*YSSSS*CWCLFLF";

/* Per byte: 0..3 for ACGT in either case (the original upper-cases first), 64 for anything else. Shifted into a
 * codon index, a 64 lands at bit 6, 8 or 10, so any index >= 64 marks a codon that the original drops. */
static uint16_t BASE[256];
/* Per byte: str.upper() on ASCII, and the reverse-complement map applied after it. */
static char UPPER[256], RCUPPER[256];
/* Amino acid of the reverse complement of the codon with index i. */
static char RCAA[64];
static int tables_ready;

static void init_tables(void)
{
    for (int c = 0; c < 256; c++) {
        BASE[c] = 64;
        UPPER[c] = (char)(c >= 'a' && c <= 'z' ? c - 32 : c);
        RCUPPER[c] = UPPER[c];
    }
    const char *acgt = "ACGT";
    for (int b = 0; b < 4; b++) {
        BASE[(unsigned char)acgt[b]] = (uint16_t)b;
        BASE[(unsigned char)acgt[b] + 32] = (uint16_t)b;
        RCUPPER[(unsigned char)acgt[b]] = acgt[3 - b];
        RCUPPER[(unsigned char)acgt[b] + 32] = acgt[3 - b];
    }
    for (int i = 0; i < 64; i++) {
        int b0 = i >> 4, b1 = (i >> 2) & 3, b2 = i & 3;
        RCAA[i] = AA[(3 - b2) * 16 + (3 - b1) * 4 + (3 - b0)];
    }
    __atomic_store_n(&tables_ready, 1, __ATOMIC_RELEASE);
}

static void ensure_tables(void)
{
    /* Initialisation is idempotent and writes the same values, so a race between threads is harmless. */
    if (!__atomic_load_n(&tables_ready, __ATOMIC_ACQUIRE)) init_tables();
}

static inline unsigned codon_index(const unsigned char *p)
{
    return ((unsigned)BASE[p[0]] << 4) | ((unsigned)BASE[p[1]] << 2) | BASE[p[2]];
}

char vnp_codon_translate(const char codon[3])
{
    ensure_tables();
    unsigned i = codon_index((const unsigned char *)codon);
    /* Only upper-case codons are in the original's table; lower case reaches it only after str.upper(). */
    for (int j = 0; j < 3; j++)
        if (codon[j] >= 'a' && codon[j] <= 'z') return 0;
    return i < 64 ? AA[i] : 0;
}

size_t vnp_seq_count_non_acgt(const char *s, size_t n)
{
    ensure_tables();
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) bad += BASE[(unsigned char)s[i]] >> 6;
    return bad;
}

void vnp_seq_revcomp(char *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[n - 1 - i];
        switch (c) {
        case 'A': c = 'T'; break;
        case 'C': c = 'G'; break;
        case 'G': c = 'C'; break;
        case 'T': c = 'A'; break;
        case 'a': c = 't'; break;
        case 'c': c = 'g'; break;
        case 'g': c = 'c'; break;
        case 't': c = 'a'; break;
        default: break;
        }
        out[i] = c;
    }
}

const char *vnp_frame_label(int frame)
{
    static const char *labels[VNP_NFRAMES] = {"F1", "F2", "F3", "R1", "R2", "R3"};
    return frame >= 1 && frame <= VNP_NFRAMES ? labels[frame - 1] : "";
}

vnp_translator *vnp_translator_create(void)
{
    ensure_tables();
    vnp_translator *t = calloc(1, sizeof *t);
    if (!t) vnp_error("out of memory");
    return t;
}

void vnp_translator_free(vnp_translator *t)
{
    if (!t) return;
    free(t->buf);
    free(t);
}

/* Translates frame f (0..2) of the forward strand into out; returns the protein length, or -1 at the first stop
 * codon (the frame is then discarded, so the rest need not be translated). */
static long translate_forward(const unsigned char *s, size_t n, size_t f, char *out)
{
    long len = 0;
    for (size_t i = f; i + 2 < n; i += 3) {
        unsigned ci = codon_index(s + i);
        if (ci >= 64) continue;
        char aa = AA[ci];
        if (aa == '*') return -1;
        out[len++] = aa;
    }
    return len;
}

/* Frame f of the reverse complement r: r's codon at j is the reverse complement of s[n-3-j .. n-1-j]. */
static long translate_reverse(const unsigned char *s, size_t n, size_t f, char *out)
{
    long len = 0;
    for (size_t j = f; j + 2 < n; j += 3) {
        unsigned ci = codon_index(s + (n - 3 - j));
        if (ci >= 64) continue;
        char aa = RCAA[ci];
        if (aa == '*') return -1;
        out[len++] = aa;
    }
    return len;
}

int vnp_translate_chunk(vnp_translator *t, const char *chunk, size_t len, uint64_t record, uint64_t chunk_index,
                        vnp_work_item items[VNP_NFRAMES], int *n_kept)
{
    *n_kept = 0;
    /* Worst case: six proteins of len/3 residues and six slices of at most len bases. */
    size_t need = 0;
    if (vnp_mul_overflow(len, 9, &need) || need > SIZE_MAX - 64) return VNP_ERR_NOMEM;
    need += 64;
    if (need > t->cap) {
        char *nb = realloc(t->buf, need);
        if (!nb) {
            vnp_error("out of memory translating a chunk of %zu bases", len);
            return VNP_ERR_NOMEM;
        }
        t->buf = nb;
        t->cap = need;
    }
    const unsigned char *s = (const unsigned char *)chunk;
    char *w = t->buf;
    int k = 0;
    for (int frame = 1; frame <= VNP_NFRAMES; frame++) {
        size_t f = (size_t)((frame - 1) % 3);
        long plen = frame <= 3 ? translate_forward(s, len, f, w) : translate_reverse(s, len, f, w);
        if (plen <= 0) continue; /* a stop codon, or nothing translatable */
        vnp_work_item *it = &items[k++];
        it->record = record;
        it->chunk = chunk_index;
        it->frame = frame;
        it->prot = w;
        it->prot_len = (size_t)plen;
        w += plen;
        /* The original slices seq[num-1 : num+seq_len] with seq_len = 3*len(protein): one base past the last
         * translated codon, clamped at the end of the chunk like a Python slice. */
        size_t end = f + 1 + 3 * (size_t)plen;
        if (end > len) end = len;
        it->nuc = w;
        it->nuc_len = end - f;
        if (frame <= 3) {
            for (size_t i = f; i < end; i++) *w++ = UPPER[s[i]];
        } else {
            for (size_t j = f; j < end; j++) *w++ = RCUPPER[s[len - 1 - j]];
        }
    }
    *n_kept = k;
    return VNP_OK;
}
