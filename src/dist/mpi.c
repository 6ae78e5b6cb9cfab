/* The MPI world of vnp/dist.h: launcher detection, initialisation, and the few collectives and point-to-point
 * messages the pipeline needs, each under one lock (MPI_THREAD_SERIALIZED). Without MPI in the build, a world of
 * one. */
#define _POSIX_C_SOURCE 200809L
#include "vnp/dist.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Launchers announce the job size in the environment: Open MPI, PMIx (Open MPI 5, Slurm), PMI (MPICH, Slurm). */
static int launcher_size(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMI_SIZE", "MPI_LOCALNRANKS"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v) return atoi(v);
    }
    return getenv("PMIX_RANK") ? 2 : 0; /* PMIx without a size variable: a launcher all the same */
}

void vnp_dist_local(int *local_rank, int *local_size)
{
    static const char *const vars[][2] = {{"OMPI_COMM_WORLD_LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_SIZE"},
                                          {"MPI_LOCALRANKID", "MPI_LOCALNRANKS"},
                                          {"SLURM_LOCALID", "SLURM_NTASKS_PER_NODE"}};
    *local_rank = 0;
    *local_size = 1;
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *r = getenv(vars[i][0]), *n = getenv(vars[i][1]);
        if (r && n && atoi(n) > 0 && atoi(r) >= 0 && atoi(r) < atoi(n)) {
            *local_rank = atoi(r);
            *local_size = atoi(n);
            return;
        }
    }
}

#ifdef VNP_HAVE_MPI
#include <mpi.h>
#include <pthread.h>

static int g_on;      /* MPI_Init_thread was called */
static int g_rank, g_size = 1;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;

/* Largest piece of one MPI message (counts are int). */
#define PIECE ((size_t)1 << 30)

static int mpi_status(int e, const char *what)
{
    if (e == MPI_SUCCESS) return VNP_OK;
    char msg[MPI_MAX_ERROR_STRING];
    int n = 0;
    MPI_Error_string(e, msg, &n);
    vnp_error("MPI rank %d: %s failed: %s", g_rank, what, msg);
    return VNP_ERR_IO;
}

int vnp_dist_init(int *argc, char ***argv)
{
    if (launcher_size() < 1) return VNP_OK;
    int provided = 0;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS) {
        vnp_error("MPI_Init_thread failed");
        return VNP_ERR_IO;
    }
    g_on = 1;
    /* errors come back as codes, so that a failing rank can say what failed before it ends the job */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    if (provided < MPI_THREAD_SERIALIZED && g_size > 1) {
        vnp_error("this MPI library gives thread level %d, below MPI_THREAD_SERIALIZED", provided);
        return VNP_ERR_UNSUPPORTED;
    }
    return VNP_OK;
}

void vnp_dist_finalize(void)
{
    if (g_on) MPI_Finalize();
    g_on = 0;
}

int vnp_dist_built(void) { return 1; }
int vnp_dist_rank(void) { return g_rank; }
int vnp_dist_size(void) { return g_size; }

int vnp_dist_agree(int rc)
{
    if (g_size < 2) return rc;
    int in = rc, out = rc;
    pthread_mutex_lock(&g_mu);
    int e = MPI_Allreduce(&in, &out, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    pthread_mutex_unlock(&g_mu);
    return e == MPI_SUCCESS ? out : mpi_status(e, "MPI_Allreduce");
}

int vnp_dist_bcast(void *buf, size_t len, int root)
{
    if (g_size < 2) return VNP_OK;
    int e = MPI_SUCCESS;
    pthread_mutex_lock(&g_mu);
    for (size_t off = 0; off < len && e == MPI_SUCCESS; off += PIECE) {
        size_t n = len - off < PIECE ? len - off : PIECE;
        e = MPI_Bcast((char *)buf + off, (int)n, MPI_BYTE, root, MPI_COMM_WORLD);
    }
    pthread_mutex_unlock(&g_mu);
    return mpi_status(e, "MPI_Bcast");
}

int vnp_dist_send(int dest, int tag, const void *buf, size_t len)
{
    uint64_t n64 = len;
    pthread_mutex_lock(&g_mu);
    int e = MPI_Send(&n64, 8, MPI_BYTE, dest, tag, MPI_COMM_WORLD);
    for (size_t off = 0; off < len && e == MPI_SUCCESS; off += PIECE) {
        size_t n = len - off < PIECE ? len - off : PIECE;
        e = MPI_Send((const char *)buf + off, (int)n, MPI_BYTE, dest, tag, MPI_COMM_WORLD);
    }
    pthread_mutex_unlock(&g_mu);
    return mpi_status(e, "MPI_Send");
}

int vnp_dist_poll(int tag, int *src)
{
    int flag = 0;
    MPI_Status st;
    pthread_mutex_lock(&g_mu);
    int e = MPI_Iprobe(MPI_ANY_SOURCE, tag, MPI_COMM_WORLD, &flag, &st);
    pthread_mutex_unlock(&g_mu);
    if (e != MPI_SUCCESS) return mpi_status(e, "MPI_Iprobe");
    if (flag) *src = st.MPI_SOURCE;
    return flag != 0;
}

int vnp_dist_recv(int src, int tag, vnp_buf *out)
{
    uint64_t n64 = 0;
    out->len = 0;
    pthread_mutex_lock(&g_mu);
    int e = MPI_Recv(&n64, 8, MPI_BYTE, src, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    int rc = e == MPI_SUCCESS ? vnp_buf_reserve(out, (size_t)n64 + 1) : VNP_OK;
    for (size_t off = 0; e == MPI_SUCCESS && rc == VNP_OK && off < n64; off += PIECE) {
        size_t n = n64 - off < PIECE ? n64 - off : PIECE;
        e = MPI_Recv(out->data + off, (int)n, MPI_BYTE, src, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    }
    pthread_mutex_unlock(&g_mu);
    if (rc) return rc;
    if (e != MPI_SUCCESS) return mpi_status(e, "MPI_Recv");
    out->len = (size_t)n64;
    out->data[out->len] = '\0';
    return VNP_OK;
}

#else /* no MPI in this build */

int vnp_dist_init(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (launcher_size() > 1) {
        vnp_error("started by an MPI launcher as one of %d processes, but this build has no MPI (rebuild with "
                  "libopenmpi-dev installed); each process would run the whole job", launcher_size());
        return VNP_ERR_UNSUPPORTED;
    }
    return VNP_OK;
}

void vnp_dist_finalize(void) {}
int vnp_dist_built(void) { return 0; }
int vnp_dist_rank(void) { return 0; }
int vnp_dist_size(void) { return 1; }
int vnp_dist_agree(int rc) { return rc; }

int vnp_dist_bcast(void *buf, size_t len, int root)
{
    (void)buf;
    (void)len;
    (void)root;
    return VNP_OK;
}

int vnp_dist_send(int dest, int tag, const void *buf, size_t len)
{
    (void)dest;
    (void)tag;
    (void)buf;
    (void)len;
    vnp_error("internal: MPI send in a build without MPI");
    return VNP_ERR_INTERNAL;
}

int vnp_dist_poll(int tag, int *src)
{
    (void)tag;
    (void)src;
    return 0;
}

int vnp_dist_recv(int src, int tag, vnp_buf *out)
{
    (void)src;
    (void)tag;
    (void)out;
    vnp_error("internal: MPI receive in a build without MPI");
    return VNP_ERR_INTERNAL;
}

#endif
