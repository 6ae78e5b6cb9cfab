/* libFuzzer target: arbitrary bytes as a tokenizer.json (must be refused cleanly or load), then the loaded
 * tokenizer encodes the same bytes as text; the ESM-2 encoder gets them too. */
#include "vnp/tok.h"
#include "vnp/util.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vnp_log_set_level(VNP_LOG_QUIET);
    vnp_tokens t = {0};
    size_t unk;
    if (vnp_esm_encode((const char *)data, size, &t, &unk) == 0 && (t.n < 2 || t.n > size + 2)) abort();
    vnp_bpe *b = vnp_bpe_load_mem((const char *)data, size, "fuzz.json");
    if (b) {
        static const char dna[] = "ACGTNACGTTTGACCA acgt [CLS] \xc3\xa9-*";
        t.n = 0;
        if (vnp_bpe_encode(b, dna, sizeof dna - 1, &t) == 0)
            for (size_t i = 0; i < t.n; i++)
                if (t.ids[i] < 0 || t.ids[i] >= vnp_bpe_vocab_size(b)) abort();
        t.n = 0;
        if (vnp_bpe_encode(b, (const char *)data, size, &t) == 0)
            for (size_t i = 0; i < t.n; i++)
                if (t.ids[i] < 0 || t.ids[i] >= vnp_bpe_vocab_size(b)) abort();
        vnp_bpe_free(b);
    }
    vnp_tokens_free(&t);
    return 0;
}
