/* The scorer built from model files: replaced by the CPU engine's wiring (not yet merged). */
#include "vnp/pipeline.h"

#include <string.h>

int vnp_scorer_open(const vnp_scorer_opts *o, vnp_scorer *s)
{
    (void)o;
    memset(s, 0, sizeof *s);
    vnp_error("the inference engine is not part of this build yet");
    return VNP_ERR_UNSUPPORTED;
}

void vnp_scorer_close(vnp_scorer *s) { (void)s; }

char *vnp_scorer_describe(const vnp_scorer *s)
{
    (void)s;
    return NULL;
}
