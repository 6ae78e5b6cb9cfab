/* `virnucpro preprocess`: placeholder until its module lands. */
#include "cli.h"

#include <stdio.h>

int vnp_cmd_preprocess(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "virnucpro preprocess: not available in this build yet\n");
    return 1;
}
