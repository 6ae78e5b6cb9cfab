/* Internal: the safetensors reader and writer entry points (memory in, table out), used by open.c and the fuzzers. */
#ifndef VNP_WEIGHTS_SAFETENSORS_H
#define VNP_WEIGHTS_SAFETENSORS_H

#include "table.h"

/* Longest header accepted (the reference implementation's limit). */
#define VNP_SAFETENSORS_MAX_HEADER (100u * 1024 * 1024)

/* Parses a whole safetensors image data[0..size) and adds its tensors (pointing into data, zero copy) and its
 * "__metadata__" pairs to w; data must outlive w. Every length and offset is checked; errors name `what` and the
 * byte offset. Does not call vnp_wt_finish. */
int vnp_safetensors_parse_mem(vnp_weights *w, const uint8_t *data, size_t size, const char *what) VNP_MUST_CHECK;

/* vnp_safetensors_write with a callback after each tensor's bytes are written (i indexes tensors[]). */
typedef void (*vnp_st_written_fn)(void *ctx, size_t i);
int vnp_safetensors_write_cb(const char *path, const vnp_tensor *tensors, size_t n, vnp_dtype float_dtype,
                             const vnp_meta_pair *meta, size_t nmeta, vnp_st_written_fn done,
                             void *ctx) VNP_MUST_CHECK;

#endif
