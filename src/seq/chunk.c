/* Chunk geometry of VirNucPro's split_fasta_chunk, in closed form. */
#include "vnp/seq.h"

size_t vnp_chunk_count(size_t n, size_t k)
{
    if (n == 0 || k == 0) return 0;
    return n / k + (n % k != 0);
}

/* The original builds a list of per-chunk "steps" (how far each later chunk moves back to overlap its
 * predecessor): `extra` steps of lower+1 followed by steps of lower. Because `extra` is computed against
 * num_chunks-1 copies of lower, it usually exceeds the list length, every step becomes lower+1 and the last chunk
 * runs off the end of the sequence, shorter than k. The offset of chunk c is c*k minus the sum of the first c
 * steps, computed here without building the list. */
vnp_chunk vnp_chunk_get(size_t n, size_t k, size_t c)
{
    vnp_chunk ch = {0, 0};
    size_t nc = vnp_chunk_count(n, k);
    if (c >= nc) return ch;
    size_t repeat = n % k ? k - n % k : 0; /* num_chunks*k - n, without overflow */
    size_t lower = repeat / nc;            /* int(repeat / num_chunks) for non-negative values */
    size_t extra = repeat - lower * (nc - 1);
    size_t up = c < extra ? c : extra;     /* steps of lower+1 among the first c */
    size_t move = up * (lower + 1) + (c - up) * lower;
    size_t a = c * k;
    size_t start = a > 1 ? a - move : a; /* the original's `if a > 1` guard */
    ch.offset = start;
    ch.length = n - start < k ? n - start : k;
    return ch;
}
