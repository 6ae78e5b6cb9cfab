/* Internal: a minimal pickle VM that builds an inert object graph (nothing is ever executed), and the walk that
 * turns the graph into named tensors. Used by torch.c and the pickle fuzzer. */
#ifndef VNP_WEIGHTS_PICKLE_H
#define VNP_WEIGHTS_PICKLE_H

#include "table.h"

/* Limits: no allocation grows past these, whatever the file claims. */
#define VNP_PK_MAX_OBJECTS (1u << 22)  /* objects created */
#define VNP_PK_MAX_ITEMS (1u << 24)    /* container slots, all containers together */
#define VNP_PK_MAX_STACK (1u << 20)    /* VM stack entries */
#define VNP_PK_MAX_MARKS 1024          /* nested MARKs */
#define VNP_PK_MAX_MEMO (1u << 24)     /* memo index (also below the pickle length) */
#define VNP_PK_MAX_DEPTH 64            /* nesting of dicts/modules/lists when naming tensors */
#define VNP_PK_MAX_NAME 1024           /* length of a dotted tensor name */

typedef enum {
    PK_NONE,
    PK_BOOL,
    PK_INT,
    PK_BIGINT, /* an integer beyond int64: kept as a value of no use */
    PK_FLOAT,
    PK_STR,
    PK_BYTES,
    PK_TUPLE,
    PK_LIST,
    PK_DICT, /* dict and OrderedDict: items hold key, value, key, value, ... */
    PK_GLOBAL,
    PK_OBJECT,  /* any other class instance: cls, args, BUILD state, and SETITEM/APPEND items */
    PK_STORAGE, /* a persistent id ('storage', torch.XStorage, key, location, numel) */
    PK_TENSOR   /* a _rebuild_tensor_v2/_v3 call */
} pk_type;

typedef struct {
    vnp_dtype dtype;
    int64_t offset; /* in elements */
    int ndim;
    int64_t shape[VNP_MAX_DIMS], strides[VNP_MAX_DIMS];
    int32_t storage; /* PK_STORAGE object */
} pk_tensor;

typedef struct {
    uint8_t type;
    size_t pos; /* byte offset in the pickle of the opcode that made it */
    union {
        int64_t i;  /* BOOL, INT */
        double f;   /* FLOAT */
        struct {    /* STR, BYTES: into the pickle */
            const char *p;
            size_t len;
        } s;
        struct { /* TUPLE, LIST, DICT */
            int32_t *items;
            uint32_t n, cap;
        } c;
        struct { /* GLOBAL: module and name, into the pickle */
            const char *mod, *name;
            uint32_t mod_len, name_len;
        } g;
        struct { /* OBJECT */
            int32_t cls, args, state, extra; /* -1 when absent; extra is a DICT or LIST made by SETITEM/APPEND */
        } o;
        struct { /* STORAGE */
            const char *key;
            size_t key_len;
            int64_t numel;
            vnp_dtype dtype;
        } st;
        uint32_t tensor; /* TENSOR: index into vnp_pickle.tensors */
    } u;
} pk_obj;

typedef struct {
    pk_obj *o;
    size_t n, cap;
    pk_tensor *tensors;
    size_t ntensors, cap_tensors;
    size_t items; /* container slots in use, for VNP_PK_MAX_ITEMS */
    int32_t root;
} vnp_pickle;

/* Runs the VM over data[0..size) (must outlive *pk). Errors name `what` and the byte offset of the opcode. */
int vnp_pickle_parse_mem(const uint8_t *data, size_t size, const char *what, vnp_pickle *pk) VNP_MUST_CHECK;
void vnp_pickle_free(vnp_pickle *pk); /* accepts a zeroed or freed *pk */

/* Finds the bytes of storage `key`: *bytes and *nbytes, or VNP_ERR_NOTFOUND / another status after a message. */
typedef int (*vnp_storage_fn)(void *ctx, const char *key, size_t key_len, const uint8_t **bytes, uint64_t *nbytes);

/* Names every tensor of the graph and adds it to w (data inside the storage that `fn` returns, bounds-checked):
 * a top-level dict with "model" (fair-esm, training checkpoints) or "state_dict" is entered there; dicts give
 * "key.", lists "i.", nn.Modules their _parameters, _buffers and _modules (spec/esm2.md §4d). The scalar
 * attributes of cfg['model'] / args become metadata "cfg.model.<attr>" / "args.<attr>". */
int vnp_pickle_collect(const vnp_pickle *pk, vnp_weights *w, vnp_storage_fn fn, void *ctx,
                       const char *what) VNP_MUST_CHECK;

#endif
