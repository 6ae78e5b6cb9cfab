/* `virnucpro classify`: the VirNucPro MLP on raw float32 feature rows, softmax probabilities as TSV. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "vnp/opt.h"
#include "vnp/model.h"
#include "vnp/report.h"
#include "vnp/weights.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define BLOCK_ROWS 4096

typedef struct {
    const char *out_path;
} classify_args;

static const vnp_opt classify_opts[] = {
    {.name = "output", .short_opt = 'o', .type = VNP_OPT_PATH, .arg = "OUT.tsv",
     .off = offsetof(classify_args, out_path), .help = "output file (written atomically); required"},
};

static const vnp_opt_cmd classify_cmd = {
    .name = "classify",
    .synopsis = "virnucpro classify CLASSIFIER FEATURES.f32 -o OUT.tsv",
    .about =
"CLASSIFIER is a VirNucPro MLP (300_model.pth / 500_model.pth, or any file with hidden_layer.*,\n"
"bn1.* and output_layer.* tensors). FEATURES.f32 holds raw little-endian float32 rows of the\n"
"classifier's input width (3328 = DNABERT-S 768 | ESM-2 3B 2560 for the released models), e.g. from\n"
"`virnucpro embed` outputs placed side by side.\n\n"
"OUT.tsv: a header `score1<TAB>score2` (one column per class), then one row of softmax probabilities\n"
"per feature row (score1 = P(others), score2 = P(virus)), each printed with 9 significant digits.",
    .epilog = "exit status: 0 success, 1 failure while running, 2 bad usage or bad input (e.g. a file size that\n"
              "is not a whole number of rows)\n",
    .opts = classify_opts,
    .n_opts = VNP_OPT_COUNT(classify_opts),
};

int vnp_cmd_classify(int argc, char **argv)
{
    classify_args a = {0};
    int first, prc = vnp_opt_parse(&classify_cmd, argc, argv, &a, &first);
    if (prc) return prc == 1 ? 0 : 2;
    const char *out_path = a.out_path;
    if (argc - first != 2) return vnp_opt_usage_error("classify", "expected CLASSIFIER and FEATURES.f32");
    if (!out_path) return vnp_opt_usage_error("classify", "missing -o OUT.tsv");
    const char *model_path = argv[first], *feat_path = argv[first + 1];

    int rc = VNP_OK;
    vnp_weights *w = NULL;
    vnp_mlp *m = NULL;
    FILE *in = NULL;
    vnp_outfile *of = NULL;
    float *x = NULL, *p = NULL;
    if (!(w = vnp_weights_open(model_path))) {
        rc = VNP_ERR_FORMAT;
        goto done;
    }
    if (!(m = vnp_mlp_load(w))) {
        rc = VNP_ERR_FORMAT;
        goto done;
    }
    size_t width = (size_t)vnp_mlp_in_dim(m), classes = (size_t)vnp_mlp_classes(m);
    struct stat st;
    if (!(in = fopen(feat_path, "rb")) || fstat(fileno(in), &st) != 0 || !S_ISREG(st.st_mode)) {
        vnp_error("%s: cannot open as a regular file", feat_path);
        rc = VNP_ERR_NOTFOUND;
        goto done;
    }
    size_t row_bytes = width * sizeof(float);
    if ((size_t)st.st_size % row_bytes) {
        vnp_error("%s: %lld bytes is not a whole number of rows of %zu float32 (%zu bytes) for this classifier "
                  "(%lld rows and %lld bytes left over)",
                  feat_path, (long long)st.st_size, width, row_bytes, (long long)((size_t)st.st_size / row_bytes),
                  (long long)((size_t)st.st_size % row_bytes));
        rc = VNP_ERR_FORMAT;
        goto done;
    }
    size_t rows = (size_t)st.st_size / row_bytes;
    if (!(x = vnp_malloc_array((size_t)BLOCK_ROWS * width, sizeof(float))) ||
        !(p = vnp_malloc_array((size_t)BLOCK_ROWS * classes, sizeof(float)))) {
        rc = VNP_ERR_NOMEM;
        goto done;
    }
    if (!(of = vnp_outfile_open(out_path))) {
        rc = VNP_ERR_IO;
        goto done;
    }
    FILE *out = vnp_outfile_fp(of);
    for (size_t k = 0; k < classes; k++) fprintf(out, "%sscore%zu", k ? "\t" : "", k + 1);
    fputc('\n', out);
    for (size_t r0 = 0; r0 < rows; r0 += BLOCK_ROWS) {
        size_t n = rows - r0 < BLOCK_ROWS ? rows - r0 : BLOCK_ROWS;
        if (fread(x, row_bytes, n, in) != n) {
            vnp_error("%s: read failed at row %zu", feat_path, r0);
            rc = VNP_ERR_IO;
            goto done;
        }
        if ((rc = vnp_mlp_forward(m, x, n, p))) goto done;
        /* the shortest text that reads back as the same float32, as predict (and numpy) print scores */
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; k < classes; k++) {
                char num[VNP_F32_STR_MAX];
                vnp_format_f32(p[i * classes + k], num);
                if (fprintf(out, "%s%c", num, k + 1 < classes ? '\t' : '\n') < 0) {
                    rc = VNP_ERR_IO;
                    goto done;
                }
            }
    }
    rc = vnp_outfile_commit(of);
    of = NULL;
done:
    vnp_outfile_abort(of);
    if (in) fclose(in);
    free(x);
    free(p);
    vnp_mlp_free(m);
    vnp_weights_close(w);
    return vnp_status_exit_code(rc);
}
