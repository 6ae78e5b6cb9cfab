/* The test hooks of the test build `virnucpro_faults` (the program's main, src/pipeline/ship.c compiled with
 * -DVNP_TEST_HOOKS, and this file; built beside `virnucpro`, never installed). The product has none of this: a crash
 * switch has no business in a binary users run.
 *
 * VIRNUCPRO_TEST_RANK_DIES=R:K: MPI rank R dies (SIGKILL) once it has sent K blocks to rank 0, as a crashed node
 * would (tests/cli/test_scaleout.sh). Read here, not through vnp/env.h, since it exists only in this build. */
#define _POSIX_C_SOURCE 200809L
#include "pipeline/pipeline_internal.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "vnp/dist.h"

void vnp_test_hook_block_sent(void)
{
    static int sent;
    const char *v = getenv("VIRNUCPRO_TEST_RANK_DIES");
    int r = -1, k = -1;
    if (v && sscanf(v, "%d:%d", &r, &k) == 2 && r == vnp_dist_rank() && ++sent >= k) raise(SIGKILL);
}
