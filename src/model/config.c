/* Encoder configs: from a tensor table through its model description (describe.c), from a released variant by
 * name, and the derived fields (head dim, pooling window, defaults) every config gets from its description. */
#include "model_internal.h"

#include <string.h>

int vnp_encoder_config_finish(vnp_encoder_config *c)
{
    const vnp_model_desc *d = c->desc ? c->desc : vnp_model_desc_of_kind(c->kind);
    if (!d || !d->forward) {
        vnp_error("not an encoder kind: %s", d ? d->name : vnp_model_kind_name(c->kind));
        return VNP_ERR_USAGE;
    }
    c->desc = d;
    if (c->layers < 1 || c->dim < 1 || c->heads < 1 || c->ffn < 1 || c->vocab < 1 || c->dim % c->heads) {
        vnp_error("inconsistent model shape: %d layers, hidden size %d, %d heads, FFN %d, vocabulary %d", c->layers,
                  c->dim, c->heads, c->ffn, c->vocab);
        return VNP_ERR_USAGE;
    }
    c->head_dim = c->dim / c->heads;
    if (c->head_dim > 256 || ((d->features & VNP_F_ROTARY) && c->head_dim % 2)) {
        vnp_error("unsupported head dimension %d (hidden size %d / %d heads)", c->head_dim, c->dim, c->heads);
        return VNP_ERR_UNSUPPORTED;
    }
    c->pool_skip_first = d->pool_skip_first;
    c->pool_skip_last = d->pool_skip_last;
    c->pool_max_rows = d->pool_max_rows;
    if (c->ln_eps <= 0) c->ln_eps = d->ln_eps;
    if (d->mask_id < 0) {
        c->token_dropout = 0;
        c->mask_id = -1;
    }
    return VNP_OK;
}

int vnp_encoder_config_named(const char *name, vnp_encoder_config *cfg)
{
    const vnp_model_desc *d;
    for (size_t i = 0; (d = vnp_model_desc_at(i)); i++)
        for (size_t k = 0; d->forward && k < d->n_variants; k++) {
            const vnp_model_variant *r = &d->variants[k];
            if (!r->short_name || strcmp(name, r->short_name) != 0) continue;
            memset(cfg, 0, sizeof *cfg);
            cfg->kind = d->kind;
            cfg->desc = d;
            cfg->layers = (int)r->sz[VNP_SZ_L];
            cfg->dim = (int)r->sz[VNP_SZ_D];
            cfg->heads = (int)r->sz[VNP_SZ_H];
            cfg->ffn = (int)r->sz[VNP_SZ_F];
            cfg->vocab = (int)r->sz[VNP_SZ_V];
            cfg->token_dropout = d->mask_id >= 0;
            cfg->mask_id = d->mask_id;
            return vnp_encoder_config_finish(cfg);
        }
    return VNP_ERR_NOTFOUND;
}

int vnp_encoder_config_of_info(const vnp_model_info *m, vnp_encoder_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->kind = m->kind;
    cfg->desc = m->desc;
    cfg->layers = m->layers;
    cfg->dim = m->dim;
    cfg->heads = m->heads;
    cfg->ffn = m->ffn;
    cfg->vocab = m->vocab;
    cfg->types = m->types;
    cfg->ln_eps = m->ln_eps;
    cfg->token_dropout = m->token_dropout;
    cfg->mask_id = m->mask_id;
    return vnp_encoder_config_finish(cfg);
}

int vnp_encoder_config_derive(vnp_tensor_lookup find, const void *ctx, const char *config_json, int heads_hint,
                              const char *where, vnp_encoder_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    vnp_model_info m;
    int rc = vnp_model_read(find, ctx, config_json, heads_hint, where, &m);
    if (rc == VNP_ERR_NOTFOUND) {
        vnp_error("%s: the tensor names match no model this program knows", where);
        return VNP_ERR_FORMAT;
    }
    if (rc) return rc;
    if (!m.desc->forward) {
        vnp_error("%s: holds a %s, not an encoder", where, m.title);
        return VNP_ERR_FORMAT;
    }
    if ((rc = vnp_encoder_config_of_info(&m, cfg))) return rc == VNP_ERR_USAGE ? VNP_ERR_FORMAT : rc;
    vnp_wlist l = {0};
    int64_t sz[VNP_SZ_COUNT];
    vnp_encoder_sizes(cfg, sz);
    rc = vnp_wlist_build(m.desc, sz, 0, &l);
    if (!rc) rc = vnp_wlist_check(&l, find, ctx, where);
    vnp_wlist_free(&l);
    return rc;
}
