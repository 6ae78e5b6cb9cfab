/* env: every environment variable the program honours, read once into one struct.
 *
 * The table in src/util/env.c is the one list: each variable's name, type (bool, string, path) and a one-line
 * description. README's "Environment variables" section and tests/cli/test_env_switches.sh are checked against it.
 * One rule for booleans: 1/true/yes/on and 0/false/no/off in any case; an empty value is the same as unset;
 * anything else is refused with a message naming the variable, the value and the spellings (exit status 2 from
 * main). Strings and paths: an empty value is the same as unset (NULL here).
 *
 * main calls vnp_env_init() first thing; library code and unit tests may call vnp_env_get() without it (the
 * environment is then read on first use). Where it is natural, library code gets a switch passed down as an option
 * (the CUDA backend's vnp_cuda_settings) rather than calling vnp_env_get() at every depth.
 *
 * Not here: the MPI launcher's variables (OMPI_COMM_WORLD_SIZE, PMI_RANK, SLURM_LOCALID, ...), read by
 * src/dist/mpi.c. They are the launcher's protocol with its processes, not switches a user sets: their names and
 * meanings are each launcher's, none is a boolean, and they are read where the launcher is detected. Nor the test
 * hooks of test-only builds (tests/faults/), nor variables read by libraries we link (CUDA, OpenMPI, htslib). */
#ifndef VNP_ENV_H
#define VNP_ENV_H

#include <stddef.h>

#include "vnp/util.h"

typedef struct {
    /* booleans (0 or 1, the default when unset) */
    int disable_fp16;    /* VIRNUCPRO_DISABLE_FP16 (0): FP32 on a GPU, as --precision fp32 */
    int disable_packing; /* VIRNUCPRO_DISABLE_PACKING (0): padded batches, for comparison */
    int cuda_profile;    /* VIRNUCPRO_CUDA_PROFILE (0): per-op GPU times on stderr at exit */
    int cuda_invariant;  /* VIRNUCPRO_CUDA_INVARIANT (1): 0 gives the GPU kernels before issue 14 */
    /* strings and paths: NULL when unset or empty; they point into the environment */
    const char *models;               /* VIRNUCPRO_MODELS */
    const char *torch_home;           /* TORCH_HOME */
    const char *hf_home;              /* HF_HOME */
    const char *hf_hub_cache;         /* HF_HUB_CACHE */
    const char *xdg_cache_home;       /* XDG_CACHE_HOME */
    const char *home;                 /* HOME */
    const char *tmpdir;               /* TMPDIR */
    const char *cuda_visible_devices; /* CUDA_VISIBLE_DEVICES */
} vnp_env;

typedef enum { VNP_ENV_BOOL, VNP_ENV_STRING, VNP_ENV_PATH } vnp_env_type;

/* One row of the table. */
typedef struct {
    const char *name;
    vnp_env_type type;
    size_t offset; /* of its field in vnp_env (int for a boolean, const char * otherwise) */
    int dflt;      /* booleans: the value when unset */
    const char *doc;
} vnp_env_var;

/* The table (every variable the program honours), *n rows. */
const vnp_env_var *vnp_env_table(size_t *n);
/* "bool", "string" or "path". */
const char *vnp_env_type_name(vnp_env_type t);

/* A boolean's value: 1 (1/true/yes/on, any case), 0 (0/false/no/off), -1 when unset (NULL or empty), -2 when
 * it is none of these. */
int vnp_env_parse_bool(const char *v);

/* Reads every variable of the table into *env (defaults for those unset). VNP_OK, or VNP_ERR_USAGE with the
 * message for the first bad value in err (errlen bytes; the bad variable keeps its default). Touches no global
 * state, so tests may call it after setenv. */
int vnp_env_read(vnp_env *env, char *err, size_t errlen) VNP_MUST_CHECK;

/* Reads the environment once for the process (thread-safe; later calls return the first result). VNP_OK, or
 * VNP_ERR_USAGE after logging the message: main turns it into exit status 2. */
int vnp_env_init(void) VNP_MUST_CHECK;

/* The process's switches; never NULL. Reads them on first use when vnp_env_init was not called (a bad value is
 * then logged and reads as the default: only main, through vnp_env_init, refuses to run). */
const vnp_env *vnp_env_get(void);

#endif
