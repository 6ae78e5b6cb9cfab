/* Internal: PyTorch zip checkpoints (torch.save since 1.6) over a memory image: zip + pickle + storages. */
#ifndef VNP_WEIGHTS_TORCH_H
#define VNP_WEIGHTS_TORCH_H

#include "table.h"

/* Adds the tensors of a torch.save image data[0..size) to w (zero copy: data must outlive w) and the metadata
 * from a fair-esm cfg. Errors name `what` and the byte offset. Does not call vnp_wt_finish. */
int vnp_torch_parse_mem(vnp_weights *w, const uint8_t *data, size_t size, const char *what) VNP_MUST_CHECK;

#endif
