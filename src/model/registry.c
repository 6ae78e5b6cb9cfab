/* The list of models the program knows. Adding a model: its description in src/model/<name>.c (see
 * docs/architecture.md, "Adding a model"), its name in the extern line and one line in `builtin` below. */
#include "model_internal.h"

#include <stdio.h>

extern const vnp_model_desc vnp_esm2_desc, vnp_dnabert_s_desc, vnp_mlp_desc;

static const vnp_model_desc *const builtin[] = {
    &vnp_esm2_desc,
    &vnp_dnabert_s_desc,
    &vnp_mlp_desc,
};

/* Descriptions added at run time (vnp_model_register): tests' toy models. Registration happens before any
 * model is read (single-threaded start-up), so the list needs no lock. */
#define MAX_EXTRA 8
static const vnp_model_desc *extra[MAX_EXTRA];
static size_t n_extra;

int vnp_model_register(const vnp_model_desc *d)
{
    if (n_extra == MAX_EXTRA) return VNP_ERR_NOMEM;
    extra[n_extra++] = d;
    return VNP_OK;
}

const vnp_model_desc *vnp_model_desc_at(size_t i)
{
    if (i < VNP_COUNT(builtin)) return builtin[i];
    i -= VNP_COUNT(builtin);
    return i < n_extra ? extra[i] : NULL;
}

const vnp_model_desc *vnp_model_desc_of_kind(vnp_model_kind kind)
{
    for (size_t i = 0; i < VNP_COUNT(builtin); i++)
        if (builtin[i]->kind == kind) return builtin[i];
    return NULL;
}

const char *vnp_model_kind_name(vnp_model_kind k)
{
    const vnp_model_desc *d = vnp_model_desc_of_kind(k);
    return d ? d->name : "unknown";
}

const char *vnp_model_desc_name(const vnp_model_desc *d) { return d ? d->name : "unknown"; }

const char *vnp_model_titles(void)
{
    static char buf[256];
    size_t at = 0;
    const vnp_model_desc *d;
    buf[0] = 0;
    for (size_t i = 0; (d = vnp_model_desc_at(i)) && at < sizeof buf; i++)
        at += (size_t)snprintf(buf + at, sizeof buf - at, "%s%s", i ? ", " : "", d->title);
    return buf;
}

const char *vnp_model_role_title(vnp_model_role role)
{
    const vnp_model_desc *d;
    for (size_t i = 0; (d = vnp_model_desc_at(i)); i++)
        if (d->role == role) return d->title;
    return "a model this program knows";
}
