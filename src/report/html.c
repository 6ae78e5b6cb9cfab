/* report.html: one self-contained page (inline CSS, inline SVG drawn here, a few lines of plain JavaScript for
 * sorting and filtering the table; a Content-Security-Policy that forbids every network request). Its size is
 * bounded whatever the run: histograms of 50 bins, at most VNP_REPORT_MAX_ROWS table rows, at most
 * VNP_REPORT_MAX_TRACKS tracks of at most TRACK_BINS points per frame slot. */
#include "report_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { TRACK_BINS = 300 }; /* a longer track is drawn per bin of consecutive chunks */

/* Writes s HTML-escaped. */
static void esc(FILE *fp, const char *s)
{
    for (; *s; s++) switch (*s) {
        case '&': fputs("&amp;", fp); break;
        case '<': fputs("&lt;", fp); break;
        case '>': fputs("&gt;", fp); break;
        case '"': fputs("&quot;", fp); break;
        case '\'': fputs("&#39;", fp); break;
        default: fputc(*s, fp);
        }
}

static const char *jstr(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static double jnum(const json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static void row_s(FILE *fp, const char *k, const char *v)
{
    fprintf(fp, "<tr><th>%s</th><td>", k);
    esc(fp, v && *v ? v : "-");
    fputs("</td></tr>\n", fp);
}

static void row_n(FILE *fp, const char *k, double v, const char *fmt)
{
    fprintf(fp, "<tr><th>%s</th><td class=\"n\">", k);
    if (isnan(v)) fputs("-", fp);
    else fprintf(fp, fmt, v);
    fputs("</td></tr>\n", fp);
}

static const char style[] =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}"
    "header{background:#20324d;color:#fff;padding:14px 28px}header h1{margin:0;font-size:21px}"
    "header p{margin:4px 0 0;opacity:.85}nav{padding:6px 28px;background:#e8ecf2}nav a{margin-right:18px;color:#20324d}"
    "section{background:#fff;margin:16px 28px;padding:10px 20px 16px;border-radius:6px;box-shadow:0 1px 3px #0002}"
    "h2{font-size:17px;margin:6px 0 10px}h3{font-size:14px;margin:12px 0 4px}"
    ".grid{display:flex;flex-wrap:wrap;gap:8px 36px}.grid>div{min-width:250px}"
    "table{border-collapse:collapse;font-size:13px}th,td{padding:2px 8px;text-align:left;vertical-align:top}"
    "table.kv th{font-weight:600;color:#445}td.n{text-align:right;font-variant-numeric:tabular-nums}"
    "code{font-size:12px;word-break:break-all}#seqtable{width:100%}#seqtable thead th{cursor:pointer;"
    "background:#e8ecf2;position:sticky;top:0}#seqtable thead th[data-dir=asc]::after{content:' \\25B2'}"
    "#seqtable thead th[data-dir=desc]::after{content:' \\25BC'}#seqtable tbody tr:nth-child(even){background:#f3f5f8}"
    ".scroll{max-height:520px;overflow:auto;border:1px solid #dde}.virus{color:#b3261e;font-weight:600}"
    "figure{margin:10px 0 18px}figcaption{font-size:13px;margin-bottom:2px}svg{display:block}"
    "svg text{font-size:11px;fill:#334}.note{color:#556;font-size:13px}input{font-size:13px;padding:3px 6px}";

static const char script[] =
    "(function(){var t=document.getElementById('seqtable');if(!t)return;var tb=t.tBodies[0],"
    "hs=t.tHead.rows[0].cells;function key(r,i){var c=r.cells[i],v=c.getAttribute('data-v');"
    "return v===null?c.textContent:v;}\n"
    "Array.prototype.forEach.call(hs,function(h,i){h.addEventListener('click',function(){"
    "var asc=h.getAttribute('data-dir')!=='asc',num=h.hasAttribute('data-num');"
    "Array.prototype.forEach.call(hs,function(o){o.removeAttribute('data-dir');});"
    "h.setAttribute('data-dir',asc?'asc':'desc');var rows=Array.prototype.slice.call(tb.rows);"
    "rows.sort(function(a,b){var x=key(a,i),y=key(b,i),c=num?parseFloat(x)-parseFloat(y):(x<y?-1:x>y?1:0);"
    "if(c!==c)c=0;return asc?c:-c;});rows.forEach(function(r){tb.appendChild(r);});});});\n"
    "var f=document.getElementById('filter'),s=document.getElementById('shown');f.addEventListener('input',"
    "function(){var q=f.value.toLowerCase(),n=0;Array.prototype.forEach.call(tb.rows,function(r){"
    "var on=!q||r.textContent.toLowerCase().indexOf(q)>=0;r.style.display=on?'':'none';if(on)n++;});"
    "s.textContent=n;});document.body.setAttribute('data-ready','1');})();\n"; /* data-ready: the script ran */

/* ---- overview ---- */
/* Tiers in reading order: viral calls first, the confident tier before the ambiguous one. */
static int tier_rank(const vnp_rep_tier *t)
{
    int c = !strcmp(t->call, "virus") ? 0 : !strcmp(t->call, "not_virus") ? 1 : !strcmp(t->call, "no_orf") ? 2 : 3;
    return 2 * c + (strncmp(t->confidence, "confident", 9) != 0);
}

static int cmp_tier(const void *a, const void *b)
{
    int x = tier_rank(a), y = tier_rank(b);
    return x < y ? -1 : x > y;
}

static void overview(FILE *fp, const vnp_rep *r)
{
    const json_t *s = r->summary;
    fputs("<section id=\"overview\"><h2>Run overview</h2><div class=\"grid\"><div><h3>Run</h3><table class=\"kv\">\n",
          fp);
    row_s(fp, "virnucpro", jstr(s, "virnucpro_version"));
    row_s(fp, "device", jstr(s, "device"));
    row_s(fp, "precision", jstr(s, "precision"));
    row_s(fp, "output style", jstr(s, "output_style"));
    row_n(fp, "CPU threads", jnum(s, "threads"), "%.0f");
    json_t *g = json_object_get(s, "gpus");
    if (json_is_array(g)) row_n(fp, "GPUs", (double)json_array_size(g), "%.0f");
    row_n(fp, "MPI ranks", jnum(json_object_get(s, "workers"), "mpi_ranks"), "%.0f");
    row_n(fp, "shards merged", jnum(json_object_get(s, "shards"), "count"), "%.0f");
    row_n(fp, "chunk length (bp)", r->chunk_len, "%.0f");
    row_n(fp, "confident score", r->min_confident, "%g");
    row_n(fp, "peak memory (MiB)", jnum(s, "peak_rss_bytes") / 1048576.0, "%.1f");
    fputs("</table><h3>Inputs</h3><table class=\"kv\">\n", fp);
    json_t *in = r->identity ? json_object_get(r->identity, "inputs") : NULL;
    size_t i;
    json_t *v;
    json_array_foreach(in, i, v) {
        fputs("<tr><td><code>", fp);
        esc(fp, jstr(v, "path"));
        fputs("</code></td><td class=\"n\">", fp);
        double by = jnum(v, "bytes");
        if (!isnan(by)) fprintf(fp, by < 1e6 ? "%.1f kB" : "%.1f MB", by < 1e6 ? by / 1e3 : by / 1e6);
        fputs("</td></tr>\n", fp);
    }
    if (!json_array_size(in)) { /* an older run: its command line names them */
        json_t *cmd = json_object_get(s, "command");
        fputs("<tr><td><code>", fp);
        json_array_foreach(cmd, i, v) {
            esc(fp, json_string_value(v) ? json_string_value(v) : "");
            fputc(' ', fp);
        }
        fputs("</code></td></tr>\n", fp);
    }
    fputs("</table></div><div><h3>Counts</h3><table class=\"kv\">\n", fp);
    const json_t *c = json_object_get(s, "counts");
    row_n(fp, "records", (double)r->records, "%.0f");
    row_n(fp, "records with kept frames", (double)r->scored_records, "%.0f");
    row_n(fp, "chunks", (double)r->chunks, "%.0f");
    row_n(fp, "frames scored", (double)r->frames, "%.0f");
    row_n(fp, "bases", jnum(c, "bases"), "%.0f");
    row_n(fp, "viral regions", (double)r->n_regions, "%.0f");
    row_n(fp, "&nbsp; of them whole sequences", (double)r->n_whole, "%.0f");
    row_n(fp, "sequences with regions", (double)r->seqs_with_regions, "%.0f");
    fputs("</table><h3>Calls by confidence tier</h3><table class=\"kv\" id=\"tiers\">\n"
          "<tr><th>call</th><th>confidence</th><th>sequences</th></tr>\n", fp);
    vnp_rep_tier tiers[VNP_REP_TIERS];
    memcpy(tiers, r->tiers, r->n_tiers * sizeof *tiers);
    qsort(tiers, r->n_tiers, sizeof *tiers, cmp_tier);
    for (size_t t = 0; t < r->n_tiers; t++) {
        fprintf(fp, "<tr><td%s>", !strcmp(tiers[t].call, "virus") ? " class=\"virus\"" : "");
        esc(fp, tiers[t].call);
        fputs("</td><td>", fp);
        esc(fp, tiers[t].confidence);
        fprintf(fp, "</td><td class=\"n\">%llu</td></tr>\n", (unsigned long long)tiers[t].n);
    }
    fputs("</table></div><div><h3>Stage times (s)</h3><table class=\"kv\">\n", fp);
    const json_t *sec = json_object_get(s, "seconds");
    const char *k;
    json_object_foreach((json_t *)sec, k, v) if (json_is_number(v)) {
        fprintf(fp, "<tr><th>");
        esc(fp, k);
        fprintf(fp, "</th><td class=\"n\">%.3f</td></tr>\n", json_number_value(v));
    }
    double total = jnum(sec, "total");
    fputs("</table><h3>Throughput</h3><table class=\"kv\">\n", fp);
    row_n(fp, "records/s", total > 0 ? jnum(c, "records") / total : NAN, "%.1f");
    row_n(fp, "frames/s", total > 0 ? jnum(c, "frames") / total : NAN, "%.1f");
    row_n(fp, "bases/s", total > 0 ? jnum(c, "bases") / total : NAN, "%.0f");
    fputs("</table><p class=\"note\">stage times are summed over the threads, GPUs and shards that ran them</p></div>"
          "</div>\n<h3>Models</h3><table class=\"kv\" id=\"models\">\n<tr><th>model</th><th>path</th><th>SHA-256</th>"
          "</tr>\n", fp);
    json_object_foreach(json_object_get(s, "models"), k, v) {
        fputs("<tr><td>", fp);
        esc(fp, k);
        fputs("</td><td><code>", fp);
        esc(fp, jstr(v, "path"));
        fputs("</code></td><td><code>", fp);
        esc(fp, jstr(v, "sha256"));
        fputs("</code></td></tr>\n", fp);
    }
    fputs("</table></section>\n", fp);
}

/* ---- histograms ---- */
static void vline(FILE *fp, double x, double y0, double y1, const char *color, const char *label, int dashed)
{
    fprintf(fp, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"1.5\"%s/>", x, x,
            y0, y1, color, dashed ? " stroke-dasharray=\"4 3\"" : "");
    if (label) fprintf(fp, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>", x, y0 - 3, label);
}

static void histogram(FILE *fp, const char *title, const uint64_t *h, const vnp_rep *r, const char *what)
{
    const double W = 440, H = 170, L = 56, T = 18;
    uint64_t max = 1, n = 0;
    for (int i = 0; i < VNP_REP_BINS; i++) {
        if (h[i] > max) max = h[i];
        n += h[i];
    }
    fprintf(fp, "<figure class=\"hist\"><figcaption>%s (%llu %s)</figcaption><svg width=\"%.0f\" height=\"%.0f\" "
            "role=\"img\">", title, (unsigned long long)n, what, L + W + 12, T + H + 34);
    fprintf(fp, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"#f7f8fb\" stroke=\"#ccd\"/>", L, T,
            W, H);
    double bw = W / VNP_REP_BINS;
    for (int i = 0; i < VNP_REP_BINS; i++) {
        if (!h[i]) continue;
        double bh = H * (double)h[i] / (double)max;
        fprintf(fp, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>%.2f-%.2f: %llu"
                "</title></rect>", L + i * bw + 0.5, T + H - bh, bw - 1, bh, i >= VNP_REP_BINS / 2 ? "#c0504d" : "#5b7fb5",
                (double)i / VNP_REP_BINS, (double)(i + 1) / VNP_REP_BINS, (unsigned long long)h[i]);
    }
    for (int t = 0; t <= 4; t++)
        fprintf(fp, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.2f</text>", L + W * t / 4, T + H + 14,
                t / 4.0);
    fprintf(fp, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">P(virus)</text>", L + W / 2, T + H + 29);
    fprintf(fp, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%llu</text><text x=\"%.1f\" y=\"%.1f\" "
            "text-anchor=\"end\">0</text>", L - 4, T + 10, (unsigned long long)max, L - 4, T + H);
    vline(fp, L + W * 0.5, T, T + H, "#222", "call 0.5", 0);
    if (!isnan(r->min_confident) && r->min_confident > 0.5 && r->min_confident < 1) {
        vline(fp, L + W * r->min_confident, T, T + H, "#b3261e", "confident", 1);
        vline(fp, L + W * (1 - r->min_confident), T, T + H, "#2a5caa", "confident", 1);
    }
    fputs("</svg></figure>\n", fp);
}

/* ---- the sequences table ---- */
static int cmp_top(const void *a, const void *b)
{
    return vnp_rep_seq_above(b, a) - vnp_rep_seq_above(a, b);
}

static void num_cell(FILE *fp, double v)
{
    if (isnan(v)) fputs("<td class=\"n\" data-v=\"-1\">NA</td>", fp);
    else fprintf(fp, "<td class=\"n\" data-v=\"%.6f\">%.4f</td>", v, v);
}

static int sequences(FILE *fp, const vnp_rep *r)
{
    vnp_rep_seq *rows = vnp_malloc_array(r->n_top ? r->n_top : 1, sizeof *rows);
    if (!rows) return VNP_ERR_NOMEM;
    memcpy(rows, r->top, r->n_top * sizeof *rows);
    qsort(rows, r->n_top, sizeof *rows, cmp_top);
    fprintf(fp, "<section id=\"sequences\"><h2>Sequences</h2><p>The <b>%zu</b> most viral of <b>%llu</b> sequences "
            "(by best chunk score, then mean chunk score); click a column to sort. Every sequence is in "
            "<code>sequence_summary.tsv</code>.</p><p><label>filter <input id=\"filter\" type=\"search\" "
            "placeholder=\"id, call, confidence\"></label> <span class=\"note\"><span id=\"shown\">%zu</span> rows "
            "shown</span></p>\n<div class=\"scroll\"><table id=\"seqtable\"><thead><tr><th data-num>#</th>"
            "<th>sequence_id</th><th data-num>length</th><th data-num>chunks</th><th data-num>scored</th>"
            "<th data-num>viral chunks</th><th data-num>best score</th><th data-num>mean score</th>"
            "<th data-num>regions</th><th>call</th><th>confidence</th></tr></thead><tbody>\n",
            r->n_top, (unsigned long long)r->records, r->n_top);
    for (size_t i = 0; i < r->n_top; i++) {
        const vnp_rep_seq *s = &rows[i];
        fprintf(fp, "<tr><td class=\"n\">%zu</td><td>", i + 1);
        esc(fp, s->id);
        fprintf(fp, "</td><td class=\"n\">%llu</td><td class=\"n\">%zu</td><td class=\"n\">%zu</td><td class=\"n\">"
                "%zu</td>", (unsigned long long)s->length, s->chunks, s->scored, s->viral_chunks);
        num_cell(fp, s->best);
        num_cell(fp, s->mean);
        fprintf(fp, "<td class=\"n\">%zu</td><td%s>", s->n_regions, !strcmp(s->call, "virus") ? " class=\"virus\"" : "");
        esc(fp, s->call);
        fputs("</td><td>", fp);
        esc(fp, s->confidence);
        fputs("</td></tr>\n", fp);
    }
    fputs("</tbody></table></div></section>\n", fp);
    free(rows);
    return VNP_OK;
}

/* ---- score tracks ---- */
typedef struct {
    double L, T, W, H;
    uint64_t len;
} frame_box;

static double px(const frame_box *b, double bp) { return b->L + b->W * bp / (double)b->len; }
static double py(const frame_box *b, double s) { return b->T + b->H * (1.0 - s); }

/* Regions as shaded boxes, those closer than a pixel joined, so that their number is bounded by the width. */
static void shade_regions(FILE *fp, const vnp_rep_track *t, const frame_box *b)
{
    double x0 = -1, x1 = -1;
    for (size_t i = 0; i <= t->s.n_regions; i++) {
        double a = i < t->s.n_regions ? px(b, (double)t->regions[i].start - 1) : 1e30;
        double e = i < t->s.n_regions ? px(b, (double)t->regions[i].end) : 1e30;
        if (x1 >= 0 && a <= x1 + 1) {
            x1 = e;
            continue;
        }
        if (x1 >= 0)
            fprintf(fp, "<rect class=\"region\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#f4c7c3\"/>",
                    x0, b->T, x1 - x0 < 1 ? 1 : x1 - x0, b->H);
        x0 = a;
        x1 = e;
    }
}

/* x of the middle of chunks [c0, c1) of a sequence of b->len bases cut into chunks of k */
static double bin_x(const frame_box *b, int k, size_t c0, size_t c1)
{
    vnp_chunk a = vnp_chunk_get((size_t)b->len, (size_t)k, c0), z = vnp_chunk_get((size_t)b->len, (size_t)k, c1 - 1);
    return px(b, (double)(a.offset + z.offset + z.length) / 2.0);
}

static void track(FILE *fp, const vnp_rep_track *t, int k, size_t rank)
{
    const vnp_rep_seq *s = &t->s;
    frame_box b = {52, 12, 820, 140, s->length ? s->length : 1};
    fprintf(fp, "<figure class=\"track\"><figcaption><b>%zu.</b> <code>", rank);
    esc(fp, s->id);
    fprintf(fp, "</code> &mdash; %llu bp, %zu chunks (%zu scored), %zu region%s, best %.4f, mean %.4f, ",
            (unsigned long long)s->length, s->chunks, s->scored, s->n_regions, s->n_regions == 1 ? "" : "s",
            (double)s->best, s->mean);
    esc(fp, s->call);
    fputs(" / ", fp);
    esc(fp, s->confidence);
    fprintf(fp, "</figcaption><svg width=\"%.0f\" height=\"%.0f\" role=\"img\">", b.L + b.W + 14, b.T + b.H + 30);
    fprintf(fp, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"#fbfbfd\" stroke=\"#ccd\"/>", b.L,
            b.T, b.W, b.H);
    shade_regions(fp, t, &b);
    fprintf(fp, "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#555\" stroke-dasharray=\"5 4\"/>",
            b.L, b.L + b.W, py(&b, 0.5), py(&b, 0.5));
    size_t n = s->chunks, per = (n + TRACK_BINS - 1) / TRACK_BINS;
    /* chunk scores (per bin: their mean), broken at gaps */
    fputs("<path class=\"chunks\" fill=\"none\" stroke=\"#b3261e\" stroke-width=\"1.6\" d=\"", fp);
    int pen = 0;
    for (size_t c0 = 0; c0 < n; c0 += per) {
        size_t c1 = c0 + per < n ? c0 + per : n, m = 0;
        double sum = 0;
        for (size_t c = c0; c < c1; c++)
            if (t->chunks[c].frames > 0) sum += t->chunks[c].score, m++;
        if (!m) {
            pen = 0;
            continue;
        }
        fprintf(fp, "%c%.1f %.1f", pen ? 'L' : 'M', bin_x(&b, k, c0, c1), py(&b, sum / (double)m));
        pen = 1;
    }
    /* frame scores: dots, or per bin the range they cover */
    fprintf(fp, "\"/><path class=\"frames\" fill=\"none\" stroke=\"#5b7fb5\" stroke-opacity=\".6\" stroke-width=\"%s\" "
            "stroke-linecap=\"round\" d=\"", per == 1 ? "5" : "2");
    for (size_t c0 = 0; c0 < n; c0 += per) {
        size_t c1 = c0 + per < n ? c0 + per : n;
        double x = bin_x(&b, k, c0, c1);
        float lo = NAN, hi = NAN;
        for (size_t c = c0; c < c1; c++)
            for (int f = 0; f < VNP_NFRAMES; f++) {
                float v = t->frames[c * VNP_NFRAMES + (size_t)f];
                if (isnan(v)) continue;
                if (per == 1) fprintf(fp, "M%.1f %.1fh0", x, py(&b, v));
                if (isnan(lo) || v < lo) lo = v;
                if (isnan(hi) || v > hi) hi = v;
            }
        if (per > 1 && !isnan(lo)) fprintf(fp, "M%.1f %.1fV%.1f", x, py(&b, hi), py(&b, lo) + 0.5);
    }
    fputs("\"/>", fp);
    for (int i = 0; i <= 2; i++)
        fprintf(fp, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%.1f</text>", b.L - 4, py(&b, i / 2.0) + 4,
                i / 2.0);
    for (int i = 0; i <= 4; i++) {
        double bp = (double)s->length * i / 4;
        fprintf(fp, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"%s\">%.*f kb</text>", px(&b, bp), b.T + b.H + 14,
                i == 0 ? "start" : i == 4 ? "end" : "middle", s->length < 20000 ? 1 : 0, bp / 1000);
    }
    fprintf(fp, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">position%s</text></svg></figure>\n", b.L + b.W,
            b.T + b.H + 28, per > 1 ? " (drawn per bin of chunks: their mean score and the range of their frames)" : "");
}

static int cmp_track(const void *a, const void *b)
{
    const vnp_rep_seq *x = &((const vnp_rep_track *)a)->s, *y = &((const vnp_rep_track *)b)->s;
    return vnp_rep_track_above(y, x) - vnp_rep_track_above(x, y);
}

static void tracks(FILE *fp, const vnp_rep *r)
{
    const vnp_region_opts *o = &r->opts->regions;
    fprintf(fp, "<section id=\"tracks\"><h2>Score tracks</h2><p>Up to %d sequences of at least %d chunks, those with "
            "the most viral region first: position along the sequence across, P(virus) up; <span style=\"color:"
            "#5b7fb5\">&#9679;</span> frame scores, <span style=\"color:#b3261e\">&#9644;</span> chunk score (best "
            "frame), <span style=\"background:#f4c7c3\">&nbsp;&nbsp;&nbsp;</span> viral regions, dashed line 0.5. "
            "%zu shown.</p>\n", r->opts->tracks, o->min_seq_chunks, r->n_tracks);
    qsort((void *)r->tracks, r->n_tracks, sizeof *r->tracks, cmp_track); /* the heap is not needed any more */
    for (size_t i = 0; i < r->n_tracks; i++) track(fp, &r->tracks[i], r->chunk_len, i + 1);
    if (!r->n_tracks) fputs("<p class=\"note\">No sequence is long enough for a track.</p>\n", fp);
    fputs("</section>\n", fp);
}

static void regions_note(FILE *fp, const vnp_rep *r)
{
    const vnp_region_opts *o = &r->opts->regions;
    fprintf(fp, "<section id=\"regions\"><h2>Viral regions</h2><p><b>%llu</b> regions in <b>%llu</b> sequences "
            "(%llu spanning a whole sequence), listed in <code>viral_regions.tsv</code>. Regions are a heuristic "
            "over VirNucPro's chunk calls, not a separate model: the chunk score (its best frame's P(virus)) is "
            "averaged over a window of %d chunks, and a region is a run of at least %d chunks whose smoothed score "
            "is at least %g, in sequences of at least %d chunks; chunks without a kept frame are gaps.</p>"
            "</section>\n", (unsigned long long)r->n_regions, (unsigned long long)r->seqs_with_regions,
            (unsigned long long)r->n_whole, o->window, o->min_chunks, o->min_score, o->min_seq_chunks);
}

int vnp_rep_write_html(FILE *fp, const vnp_rep *r)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<meta http-equiv=\"Content-Security-"
          "Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n"
          "<meta name=\"viewport\" content=\"width=device-width\"><title>VirNucPro report: ", fp);
    esc(fp, r->outdir);
    fprintf(fp, "</title><style>%s</style></head><body>\n<header><h1>VirNucPro run report</h1><p><code>", style);
    esc(fp, r->outdir);
    fprintf(fp, "</code> &middot; %llu sequences &middot; %d bp chunks &middot; virnucpro ", (unsigned long long)r->records,
            r->chunk_len);
    esc(fp, jstr(r->summary, "virnucpro_version"));
    fputs("</p></header>\n<nav><a href=\"#overview\">Overview</a><a href=\"#scores\">Scores</a><a href=\"#sequences\">"
          "Sequences</a><a href=\"#tracks\">Tracks</a><a href=\"#regions\">Regions</a></nav>\n", fp);
    overview(fp, r);
    fputs("<section id=\"scores\"><h2>Score distribution</h2><div class=\"grid\">", fp);
    histogram(fp, "P(virus) of every scored frame", r->hist_frame, r, "frames");
    histogram(fp, "best chunk score of every sequence", r->hist_best, r, "sequences with kept frames");
    fputs("</div><p class=\"note\">A frame or chunk is called viral at P(virus) &ge; 0.5 (VirNucPro's argmax); the "
          "dashed lines mark the confidence tiers of <code>sequence_summary.tsv</code> (its mean chunk score).</p>"
          "</section>\n", fp);
    int rc = sequences(fp, r);
    if (rc) return rc;
    tracks(fp, r);
    regions_note(fp, r);
    fprintf(fp, "<footer class=\"note\" style=\"margin:0 28px 20px\">Written by virnucpro from the files in this "
            "folder; rebuild it with <code>virnucpro report</code>. Self-contained: it loads nothing.</footer>\n"
            "<script>%s</script></body></html>\n", script);
    return ferror(fp) ? VNP_ERR_IO : VNP_OK;
}
