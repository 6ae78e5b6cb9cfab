/* `virnucpro models inspect|check|convert`: list the tensors of a model file, check it against the model it
 * holds, convert it to safetensors (`models download` is cmd_download.c's). Each subcommand's --help comes from
 * its table; `models --help` lists them. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "vnp/opt.h"
#include "vnp/model.h"
#include "vnp/weights.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What a model PATH (or IN) may be: in the help of each subcommand that reads one. */
#define MODEL_PATHS(W)                                                                                                \
    W " is a model folder (config.json beside model.safetensors, *.safetensors.index.json, pytorch_model.bin or\n"  \
      "a single .pt/.pth) or a single file: safetensors, or a PyTorch zip checkpoint (state dict, fair-esm .pt,\n"   \
      "whole pickled nn.Module such as VirNucPro's 300_model.pth)."

static const vnp_opt_cmd inspect_cmd = {
    .name = "models inspect",
    .synopsis = "virnucpro models inspect PATH",
    .about =
"Prints one line per tensor: name<TAB>dtype<TAB>shape (normalised name, dtype as stored, comma-separated dims,\n"
"'-' for a scalar), sorted by name, then a '#' summary line.\n"
"\n" MODEL_PATHS("PATH"),
    .epilog = VNP_CLI_EXIT_STATUS,
};

static const vnp_opt_cmd check_cmd = {
    .name = "models check",
    .synopsis = "virnucpro models check PATH",
    .about =
"Names the model (ESM-2 and its size, DNABERT-S, VirNucPro MLP), checks config.json against the tensors (the\n"
"same verdict as validate and predict) and lists every needed tensor that is missing or has the wrong shape.\n"
"\n" MODEL_PATHS("PATH"),
    .epilog = "exit status: 0 the model is usable, 1 failure while running, 2 bad usage or a model not usable\n",
};

static void print_shape(FILE *out, const int64_t *shape, int ndim)
{
    if (ndim == 0) {
        fputc('-', out);
        return;
    }
    for (int d = 0; d < ndim; d++) fprintf(out, "%s%lld", d ? "," : "", (long long)shape[d]);
}

/* Parameters, counting a tensor that shares another's data, dtype and size once (tied weights). */
static long long count_params(const vnp_weights *w, size_t *shared)
{
    long long total = 0;
    size_t n = vnp_weights_count(w);
    *shared = 0;
    for (size_t i = 0; i < n; i++) {
        const vnp_tensor *t = vnp_weights_at(w, i);
        int dup = 0;
        for (size_t j = 0; j < i && !dup && t->numel > 0; j++) {
            const vnp_tensor *u = vnp_weights_at(w, j);
            dup = u->data == t->data && u->numel == t->numel && u->dtype == t->dtype;
        }
        if (dup)
            (*shared)++;
        else
            total += t->numel;
    }
    return total;
}

static void print_model_summary(FILE *out, const vnp_model_info *m)
{
    fprintf(out, " model=%s", vnp_model_desc_name(m->desc));
    if (m->role == VNP_ROLE_CLASSIFIER)
        fprintf(out, " in_features=%d hidden=%d classes=%d", m->in_features, m->dim, m->classes);
    else
        fprintf(out, " layers=%d dim=%d heads=%d ffn=%d vocab=%d", m->layers, m->dim, m->heads, m->ffn, m->vocab);
    if (m->name) fprintf(out, " name=%s", m->name);
}

static vnp_weights *open_or_report(const char *path, int *exit_code)
{
    vnp_weights *w = vnp_weights_open(path);
    if (!w) *exit_code = 2;
    return w;
}

static int cmd_inspect(const char *path)
{
    int code = 0;
    vnp_weights *w = open_or_report(path, &code);
    if (!w) return code;
    size_t n = vnp_weights_count(w);
    for (size_t i = 0; i < n; i++) {
        const vnp_tensor *t = vnp_weights_at(w, i);
        printf("%s\t%s\t", t->name, vnp_dtype_name(t->dtype));
        print_shape(stdout, t->shape, t->ndim);
        putchar('\n');
    }
    size_t shared;
    long long params = count_params(w, &shared);
    vnp_model_info m;
    int rc = vnp_weights_model_info(w, &m);
    printf("# tensors=%zu params=%lld shared=%zu format=%s", n, params, shared, vnp_weights_format(w));
    if (rc == VNP_OK)
        print_model_summary(stdout, &m);
    else
        printf(" model=unknown");
    putchar('\n');
    vnp_weights_close(w);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "virnucpro models: error: writing the output failed\n");
        return 1;
    }
    return 0;
}

static void report_problem(void *ctx, const vnp_tensor_spec *want, const vnp_tensor *got)
{
    (void)ctx;
    if (!got) {
        printf("missing\t%s\t", want->name);
        print_shape(stdout, want->shape, want->ndim);
        putchar('\n');
        return;
    }
    printf("%s\t%s\t", vnp_dtype_is_float(got->dtype) ? "wrong-shape" : "wrong-dtype", want->name);
    print_shape(stdout, want->shape, want->ndim);
    printf("\tfound %s ", vnp_dtype_name(got->dtype));
    print_shape(stdout, got->shape, got->ndim);
    putchar('\n');
}

static int cmd_check(const char *path)
{
    int code = 0;
    vnp_weights *w = open_or_report(path, &code);
    if (!w) return code;
    vnp_model_info m;
    int rc = vnp_weights_model_info(w, &m);
    if (rc) {
        if (rc == VNP_ERR_NOTFOUND)
            fprintf(stderr, "virnucpro models check: error: %s: the tensor names match no known model (%s)\n", path,
                    vnp_model_titles());
        else
            printf("result\tREJECTED: the model's config.json or sizes are not usable (messages on standard error)\n");
        vnp_weights_close(w);
        return 2;
    }
    int named = m.name && strcmp(m.name, m.title) != 0;
    if (m.role == VNP_ROLE_CLASSIFIER)
        printf("model\t%s: input width %d, hidden %d, %d classes\n", m.title, m.in_features, m.dim, m.classes);
    else
        printf("model\t%s%s%s: %d layers, dim %d, %d heads (from %s), ffn %d, vocab %d\n", m.title, named ? " " : "",
               named ? m.name : "", m.layers, m.dim, m.heads, m.heads_source, m.ffn, m.vocab);
    printf("file\t%s (%s, %zu tensors)\n", path, vnp_weights_format(w), vnp_weights_count(w));
    size_t nreq;
    vnp_tensor_spec *req = vnp_model_required(&m, &nreq);
    free(req);
    int problems = vnp_weights_check(w, &m, report_problem, NULL);
    vnp_weights_close(w);
    if (problems < 0) return 1;
    if (problems) {
        printf("result\tINCOMPLETE: %d of %zu needed tensors missing or mis-shaped\n", problems, nreq);
        fflush(stdout);
        fprintf(stderr, "virnucpro models check: error: %s: %d needed tensors missing or mis-shaped\n", path,
                problems);
        return 2;
    }
    printf("result\tOK: all %zu needed tensors present with the right shapes\n", nreq);
    return fflush(stdout) == 0 ? 0 : 1;
}

typedef struct {
    const char *dtype;
} convert_args;

static const vnp_opt convert_opts[] = {
    {.name = "dtype", .type = VNP_OPT_CHOICE, .choices = "f16|bf16|f32|fp16|fp32", .off = offsetof(convert_args, dtype),
     .help = "converts the float tensors (default: keep each tensor's dtype)"},
};

static const vnp_opt_cmd convert_cmd = {
    .name = "models convert",
    .synopsis = "virnucpro models convert IN OUT.safetensors [--dtype f16|bf16|f32]",
    .about = "Writes every tensor of IN, under its normalised name, to one safetensors file.\n\n" MODEL_PATHS("IN"),
    .epilog = VNP_CLI_EXIT_STATUS,
    .opts = convert_opts,
    .n_opts = VNP_OPT_COUNT(convert_opts),
};

static int cmd_convert(int argc, char **argv)
{
    convert_args a = {0};
    int first, prc = vnp_opt_parse(&convert_cmd, argc, argv, &a, &first);
    if (prc) return prc == 1 ? 0 : 2;
    vnp_dtype dt = VNP_DT_COUNT;
    if (a.dtype) dt = a.dtype[0] == 'b' ? VNP_DT_BF16 : strstr(a.dtype, "16") ? VNP_DT_F16 : VNP_DT_F32;
    if (argc - first != 2) return vnp_opt_usage_error("models convert", "expects IN and OUT.safetensors");
    const char *in = argv[first], *out = argv[first + 1];
    int code = 0;
    vnp_weights *w = open_or_report(in, &code);
    if (!w) return code;
    int rc = vnp_weights_save(w, out, dt);
    size_t n = vnp_weights_count(w);
    vnp_weights_close(w);
    if (rc) {
        fprintf(stderr, "virnucpro models convert: error: writing '%s' failed: %s\n", out, vnp_status_str(rc));
        return vnp_status_exit_code(rc);
    }
    fprintf(stderr, "virnucpro models convert: wrote %zu tensors to %s\n", n, out);
    return 0;
}

/* inspect and check: one PATH, no options but --help */
static int cmd_path(const vnp_opt_cmd *cmd, int argc, char **argv)
{
    char none;
    int first, prc = vnp_opt_parse(cmd, argc, argv, &none, &first);
    if (prc) return prc == 1 ? 0 : 2;
    if (argc - first != 1) return vnp_opt_usage_error(cmd->name, "expects exactly one PATH");
    return cmd == &inspect_cmd ? cmd_inspect(argv[first]) : cmd_check(argv[first]);
}

static void usage(FILE *out)
{
    const vnp_cli_sub subs[] = {
        {&inspect_cmd, "list the tensors of a model file: name, dtype, shape"},
        {&check_cmd, "name the model a file holds; list the needed tensors missing or mis-shaped"},
        {&convert_cmd, "write the tensors of a model file, normalised names, to one safetensors file"},
        {&vnp_cli_models_download_cmd, "download the released models into the layout predict reads"},
    };
    vnp_cli_subcommands_help("models", subs, VNP_OPT_COUNT(subs), out);
}

int vnp_cmd_models(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "download") == 0) return vnp_cmd_models_download(argc - 1, argv + 1); /* cmd_download.c */
    if (strcmp(sub, "inspect") == 0) return cmd_path(&inspect_cmd, argc - 1, argv + 1);
    if (strcmp(sub, "check") == 0) return cmd_path(&check_cmd, argc - 1, argv + 1);
    if (strcmp(sub, "convert") == 0) return cmd_convert(argc - 1, argv + 1);
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
        usage(stdout);
        return 0;
    }
    return vnp_opt_usage_error("models", "unknown subcommand '%s' (inspect, check, convert, download)", sub);
}
