/* `virnucpro classify`: placeholder until its module lands. */
#include "cli.h"

#include <stdio.h>

int vnp_cmd_classify(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "virnucpro classify: not available in this build yet\n");
    return 1;
}
