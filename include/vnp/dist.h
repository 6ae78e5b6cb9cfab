/* dist: running one command as several processes through MPI (Open MPI, MPICH), when the program was built with
 * MPI and started by an MPI launcher (mpirun, srun). Without either, this is a world of one process and every
 * collective is a no-op, so callers need no #ifdefs.
 *
 * Calls are serialized (MPI_THREAD_SERIALIZED under one lock): any thread may call, one at a time. */
#ifndef VNP_DIST_H
#define VNP_DIST_H

#include <stddef.h>

#include "vnp/util.h"

/* Initialises MPI when an MPI launcher started this process (its environment says so); call once, first thing in
 * main. Returns 0, or VNP_ERR_UNSUPPORTED after a message when a launcher started several processes of a build
 * without MPI (each would otherwise run the whole job). */
int vnp_dist_init(int *argc, char ***argv) VNP_MUST_CHECK;
/* Finalizes MPI if it was initialised. */
void vnp_dist_finalize(void);
/* 1 when this build has MPI. */
int vnp_dist_built(void);
int vnp_dist_rank(void); /* 0 outside MPI */
int vnp_dist_size(void); /* 1 outside MPI */
/* This process's place among the processes of its host, as the launcher says (0 of 1 when it does not). */
void vnp_dist_local(int *local_rank, int *local_size);

/* Collective: returns VNP_OK when every rank passed VNP_OK, else the lowest (most negative) status passed. */
int vnp_dist_agree(int rc) VNP_MUST_CHECK;
/* Collective: root's len bytes into everyone's buf. */
int vnp_dist_bcast(void *buf, size_t len, int root) VNP_MUST_CHECK;
/* Sends len bytes to rank dest with a tag (any size: sent in pieces, received whole by vnp_dist_recv). */
int vnp_dist_send(int dest, int tag, const void *buf, size_t len) VNP_MUST_CHECK;
/* 1 and *src when a message with the tag from any rank is waiting, 0 when none (does not wait), <0 on error. */
int vnp_dist_poll(int tag, int *src) VNP_MUST_CHECK;
/* Receives the message vnp_dist_send sent from src with the tag into out (replacing its contents; NUL-terminated
 * beyond out->len). */
int vnp_dist_recv(int src, int tag, vnp_buf *out) VNP_MUST_CHECK;

#endif
