/* `virnucpro models`: placeholder until its module lands. */
#include "cli.h"

#include <stdio.h>

int vnp_cmd_models(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "virnucpro models: not available in this build yet\n");
    return 1;
}
