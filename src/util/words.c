/* util: a word in a '|'-separated list ("auto|fp16|fp32|fp8"), the form of an option's choices. */
#include "vnp/util.h"

#include <string.h>

int vnp_word_in_list(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; p && *p;) {
        size_t len = strcspn(p, "|");
        if (len == n && strncmp(p, word, n) == 0) return 1;
        p += len + (p[len] == '|');
    }
    return 0;
}
