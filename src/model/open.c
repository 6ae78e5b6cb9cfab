/* The one way the commands load a model file: open it, read it through its description, require the role the
 * caller needs (the DNA encoder, the protein encoder, the classifier), load it. embed, embed-frames and predict all
 * come here, so a file gets one verdict and each problem one message. */
#include "model_internal.h"
#include "vnp/backend.h"

static const char *role_name(vnp_model_role r)
{
    switch (r) {
    case VNP_ROLE_DNA: return "DNA encoder";
    case VNP_ROLE_PROTEIN: return "protein encoder";
    case VNP_ROLE_CLASSIFIER: return "classifier";
    default: return "model";
    }
}

vnp_weights *vnp_model_open(const char *path, vnp_model_role want, const char *label, vnp_model_info *info)
{
    vnp_weights *w = vnp_weights_open(path);
    if (!w) return NULL;
    int rc = vnp_weights_model_info(w, info);
    if (rc == VNP_OK && (want == VNP_ROLE_NONE ? info->role != VNP_ROLE_CLASSIFIER : info->role == want)) return w;
    if (rc == VNP_ERR_NOTFOUND)
        vnp_error("'%s' given as the %s: its tensor names match no model this program knows", path, label);
    else if (rc == VNP_OK)
        vnp_error("'%s' given as the %s holds a %s (a %s), not a %s", path, label, info->title,
                  role_name(info->role), want == VNP_ROLE_NONE ? "DNA or protein encoder" : role_name(want));
    vnp_weights_close(w);
    return NULL;
}

vnp_encoder *vnp_encoder_open(vnp_backend *be, const char *path, vnp_model_role want, const char *label,
                              vnp_model_info *info, vnp_weights **w_out)
{
    if (w_out) *w_out = NULL;
    vnp_weights *w = vnp_model_open(path, want, label, info);
    if (!w) return NULL;
    vnp_encoder_config cfg;
    vnp_encoder *e = NULL;
    if (vnp_encoder_config_of_info(info, &cfg) == VNP_OK &&
        vnp_weights_check(w, info, vnp_log_tensor_problem, (void *)vnp_weights_path(w)) == 0)
        e = vnp_encoder_load_checked(be, &cfg, vnp_weights_lookup, w, vnp_weights_path(w));
    if (e && w_out)
        *w_out = w;
    else
        vnp_weights_close(w);
    return e;
}

size_t vnp_encoders_auto_budget(vnp_backend *be, vnp_encoder *const *encs, int n)
{
    if (be->ops->host_visible) return 16384;
    enum { PROBE = 4096 };
    double bytes = 0;
    for (int i = 0; i < n; i++) {
        if (vnp_encoder_reserve(encs[i], PROBE, 64)) return 16384;
        bytes += (double)vnp_encoder_activation_bytes(encs[i]);
    }
    double per_tok = bytes / PROBE;
    double fit = 0.5 * (double)be->ops->free_memory(be) / per_tok;
    size_t b = fit > 65536 ? 65536 : fit < 2048 ? 2048 : (size_t)fit / 1024 * 1024;
    vnp_info("%s: %.1f GB free after loading the models: %zu tokens per batch (%.0f KB of activations per token)",
             vnp_backend_device_name(be), (double)be->ops->free_memory(be) / 1e9, b, per_tok / 1e3);
    return b;
}
