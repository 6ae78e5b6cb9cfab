/* libFuzzer target: the journal's done-marker reader (what --resume, assembly and merge trust about a committed
 * block); an accepted marker must hold sane fields, a rejected one must say why. */
#include "pipeline/pipeline_internal.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vnp_block_marker m;
    const char *why = NULL;
    int rc = vnp_journal_marker_parse((const char *)data, size, &m, &why);
    if (rc == VNP_OK) {
        if (m.n_parts < 0 || m.n_parts > VNP_JOURNAL_MAX_PARTS || !m.first_id[0] || strlen(m.first_id) > 1000)
            abort();
        for (int i = 0; i < m.n_parts; i++)
            if (!m.parts[i].name[0] || strlen(m.parts[i].name) > 16) abort();
    } else if (rc != VNP_ERR_FORMAT || !why || !*why) {
        abort();
    }
    return 0;
}
