/* cmd_model.c - `vericite model import|list|info|run`: neural models (Hugging Face BERT-family
 * folders converted to .vcnn files, index/nn/) and word vectors (.vcvec, index/embed/). */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "buf.h"
#include "cli.h"
#include "file.h"
#include "index/embed/emb.h"
#include "index/nn/nn.h"
#include "vec.h"

#define MODEL_MAX_LINE (1u << 20) /* longest input line of `model run` */

static const char model_help[] =
    "usage: vericite model import SRC [DST] [--name NAME]\n"
    "       vericite model list\n"
    "       vericite model info NAME|PATH [--verify] [--json]\n"
    "       vericite model run NAME|PATH [--pairs] [--ids] [--json] [--threads N] [--batch N]\n"
    "                          [--max-len N] [--prefix TEXT] [--stats]\n"
    "\n"
    "import  SRC a Hugging Face model folder (config.json, model.safetensors in F32/F16/BF16,\n"
    "        vocab.txt or tokenizer.json; sentence-transformers' modules.json, 1_Pooling,\n"
    "        2_Normalize): a BERT encoder (BertModel) or sequence classifier\n"
    "        (BertForSequenceClassification: cross-encoders, NLI) is checked and converted once\n"
    "        into one memory-mapped .vcnn file. DST defaults to the model folder\n"
    "        ($VERICITE_MODEL_DIR/models, else ~/.cache/vericite/models) as NAME.vcnn, NAME being\n"
    "        --name or the folder's name. A model it cannot run exactly is refused and nothing is\n"
    "        written.\n"
    "        SRC a word-vectors file (word2vec binary, GloVe/fastText text, wink JSON): converted\n"
    "        to a .vcvec file for the static embedder; DST defaults to\n"
    "        ~/.cache/vericite/glove-100d.vcvec ($VERICITE_MODEL_DIR overrides the folder).\n"
    "        Both are written atomically.\n"
    "list    the imported models: name, kind, sizes, pooling, labels, file size, hash.\n"
    "info    one model's header (NAME in the model folder, or a file); --verify re-reads the file\n"
    "        and checks its content hash.\n"
    "run     read one text per line from stdin (with --pairs: A<TAB>B; with --ids: a JSON array\n"
    "        of token ids, or {\"ids\": [...], \"types\": [...]}) and print one JSON object per\n"
    "        line (the only output format; --json is accepted): {\"tokens\": [...], "
    "\"embedding\":\n"
    "        [...]} for an encoder (pooled and normalised as the model says), {\"tokens\": [...],\n"
    "        \"logits\": [...], \"labels\": [...]} for a classifier (labels: the names of the "
    "logits,\n"
    "        in order). --prefix is put before every text (e5's \"query: \", bge's instruction).\n"
    "        --threads (default 1) bounds the threads; --batch (default 32) texts per forward\n"
    "        pass; --max-len (default the model's) truncates; --stats prints throughput, "
    "per-batch\n"
    "        latency and peak memory to stderr.\n"
    "\n"
    "examples:\n"
    "  git lfs clone https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2  (elsewhere)\n"
    "  vericite model import all-MiniLM-L6-v2\n"
    "  echo 'Aspirin reduces the risk of stroke.' | vericite model run all-MiniLM-L6-v2\n"
    "  vericite model import glove.6B.300d.txt ~/vectors/glove-300d.vcvec\n";

/* ---------------------------------------------------------------- import */

static int import_vectors(const char *src, const char *dst_arg)
{
    struct err err = {0};
    struct buf def = {0};
    const char *dst = dst_arg;
    int rc = ERR_OK;
    if (!dst) {
        if ((rc = emb_vecfile_default_path(&def, &err))) return cli_fail(&err);
        dst = def.data;
    }
    double t = cli_now();
    if (!(rc = file_mkparents(dst, &err))) rc = emb_vecfile_import(src, dst, &err);
    if (!rc) {
        struct emb_vecfile *v = NULL;
        if ((rc = emb_vecfile_open(&v, dst, &err)) == ERR_OK) {
            fprintf(stderr,
                    "imported %lld words x %d dimensions from %s into %s in %.1f s (hash %s)\n",
                    (long long)emb_vecfile_count(v), emb_vecfile_dim(v), src, dst, cli_now() - t,
                    emb_vecfile_hash(v));
            emb_vecfile_close(v);
        }
    }
    buf_cleanup(&def);
    return rc ? cli_fail(&err) : CLI_OK;
}

static int import_hf(const char *src, const char *dst_arg, const char *name_arg)
{
    struct err err = {0};
    struct buf dst = {0}, base = {0};
    int rc = ERR_OK;
    if (!name_arg) { /* the folder's name */
        size_t n = strlen(src);
        while (n > 1 && src[n - 1] == '/')
            n--;
        size_t b = n;
        while (b > 0 && src[b - 1] != '/')
            b--;
        if (buf_append(&base, src + b, n - b)) return cli_fail(&(struct err){ERR_NOMEM, "name"});
        name_arg = base.data;
    }
    if (!nn_name_ok(name_arg)) {
        buf_cleanup(&base);
        return cli_usage("model", "'%s' is not a model name (letters, digits, . _ -; give --name)",
                         name_arg);
    }
    if (dst_arg) {
        rc = buf_puts(&dst, dst_arg) ? err_set(&err, ERR_NOMEM, "path") : ERR_OK;
    } else if (!(rc = nn_model_dir(&dst, &err))) {
        rc = buf_printf(&dst, "/%s%s", name_arg, NN_FILE_EXT) ? err_set(&err, ERR_NOMEM, "path")
                                                              : ERR_OK;
    }
    double t = cli_now();
    struct nn_import_opts io = {.name = name_arg};
    if (!rc) rc = nn_import_hf(src, dst.data, &io, &err);
    struct nn_model *m = NULL;
    if (!rc && !(rc = nn_model_open(&m, dst.data, &err))) {
        const struct nn_info *in = nn_model_info(m);
        fprintf(stderr,
                "imported %s: %s %s, %d layers, hidden %d, %d heads, vocabulary %d, %s%s, from %s "
                "weights, into %s (%.1f MiB) in %.1f s (hash %s)\n",
                in->name, nn_arch_name(in->arch), nn_head_name(in->head), in->layers, in->hidden,
                in->heads, in->ntokens,
                in->head == NN_HEAD_ENCODER ? nn_pool_name(in->pool) : "labels",
                in->head == NN_HEAD_ENCODER ? (in->normalize ? " pooling, normalised" : " pooling")
                                            : "",
                nn_dtype_name(in->source_dtype), dst.data, in->file_size / 1048576.0, cli_now() - t,
                in->hash);
        nn_model_close(m);
    }
    buf_cleanup(&dst);
    buf_cleanup(&base);
    return rc ? cli_fail(&err) : CLI_OK;
}

static int cmd_import(int argc, char **argv)
{
    static const struct option lo[] = {
        {"name", required_argument, 0, 'n'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *name = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        if (c == 'n')
            name = optarg;
        else if (c == 'h') {
            fputs(model_help, stdout);
            return CLI_OK;
        } else
            return cli_bad_option("model", argv, "h", lo);
    }
    if (argc - optind < 1 || argc - optind > 2)
        return cli_usage("model", "usage: vericite model import SRC [DST] [--name NAME]");
    const char *src = argv[optind], *dst = argc - optind == 2 ? argv[optind + 1] : NULL;
    struct stat st;
    if (stat(src, &st) == 0 && S_ISDIR(st.st_mode)) {
        if (nn_is_hf_dir(src)) return import_hf(src, dst, name);
        fprintf(stderr, "vericite: %s: not a model folder (no config.json or modules.json)\n", src);
        return CLI_FAIL;
    }
    if (name) return cli_usage("model", "--name is for model folders; word vectors go to DST");
    return import_vectors(src, dst);
}

/* ---------------------------------------------------------------- list and info */

static json_t *info_json(const struct nn_info *in, const char *path)
{
    json_t *o = json_object(), *labels = json_array();
    for (int i = 0; i < in->num_labels; i++)
        json_array_append_new(labels, json_string(in->labels[i]));
    json_object_set_new(o, "name", json_string(in->name));
    json_object_set_new(o, "path", json_string(path));
    json_object_set_new(o, "architecture", json_string(nn_arch_name(in->arch)));
    json_object_set_new(o, "kind", json_string(nn_head_name(in->head)));
    json_object_set_new(o, "layers", json_integer(in->layers));
    json_object_set_new(o, "hidden", json_integer(in->hidden));
    json_object_set_new(o, "heads", json_integer(in->heads));
    json_object_set_new(o, "intermediate", json_integer(in->intermediate));
    json_object_set_new(o, "vocab", json_integer(in->ntokens));
    json_object_set_new(o, "max_positions", json_integer(in->max_positions));
    json_object_set_new(o, "max_len", json_integer(in->max_len));
    json_object_set_new(o, "activation", json_string(nn_act_name(in->act)));
    json_object_set_new(o, "layer_norm_eps", json_real(in->layer_norm_eps));
    json_object_set_new(o, "pooling",
                        in->head == NN_HEAD_ENCODER ? json_string(nn_pool_name(in->pool))
                                                    : json_null());
    json_object_set_new(o, "normalize", json_boolean(in->normalize));
    json_object_set_new(o, "labels", labels);
    json_object_set_new(o, "lowercase", json_boolean(in->tok.lowercase));
    json_object_set_new(o, "source_dtype", json_string(nn_dtype_name(in->source_dtype)));
    json_object_set_new(o, "bytes", json_integer((json_int_t)in->file_size));
    json_object_set_new(o, "hash", json_string(in->hash));
    return o;
}

static void info_text(const struct nn_info *in, const char *path)
{
    printf("name          %s\npath          %s\nkind          %s %s\n", in->name, path,
           nn_arch_name(in->arch), nn_head_name(in->head));
    printf("sizes         %d layers, hidden %d, %d heads, intermediate %d\n", in->layers,
           in->hidden, in->heads, in->intermediate);
    printf("vocabulary    %d tokens (%s), max length %d of %d positions\n", in->ntokens,
           in->tok.lowercase ? "lower-cased" : "cased", in->max_len, in->max_positions);
    printf("activation    %s, LayerNorm eps %g\n", nn_act_name(in->act), in->layer_norm_eps);
    if (in->head == NN_HEAD_ENCODER)
        printf("pooling       %s%s\n", nn_pool_name(in->pool),
               in->normalize ? ", L2-normalised" : "");
    else {
        printf("labels       ");
        for (int i = 0; i < in->num_labels; i++)
            printf(" %d:%s", i, in->labels[i]);
        printf("\n");
    }
    printf("weights       fp32 (from %s), %.1f MiB\nhash          %s\n",
           nn_dtype_name(in->source_dtype), in->file_size / 1048576.0, in->hash);
}

static int cmd_info(int argc, char **argv)
{
    static const struct option lo[] = {
        {"verify", no_argument, 0, 'v'}, {"json", no_argument, 0, 'j'}, {0, 0, 0, 0}};
    int c, verify = 0, json = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        if (c == 'v')
            verify = 1;
        else if (c == 'j')
            json = 1;
        else
            return cli_bad_option("model", argv, "", lo);
    }
    if (argc - optind != 1)
        return cli_usage("model", "usage: vericite model info NAME|PATH [--verify] [--json]");
    struct err err = {0};
    struct buf path = {0};
    struct nn_model *m = NULL;
    int rc = nn_model_resolve(argv[optind], &path, &err);
    if (!rc) rc = nn_model_open(&m, path.data, &err);
    if (!rc && verify) rc = nn_model_verify(m, &err);
    if (!rc) {
        if (json) {
            json_t *o = info_json(nn_model_info(m), path.data);
            if (verify) json_object_set_new(o, "verified", json_true());
            char *s = json_dumps(o, JSON_COMPACT);
            if (s) puts(s);
            free(s);
            json_decref(o);
        } else {
            info_text(nn_model_info(m), path.data);
            if (verify) printf("verified      content hash matches\n");
        }
    }
    nn_model_close(m);
    buf_cleanup(&path);
    return rc ? cli_fail(&err) : CLI_OK;
}

static int strcmp_ptr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmd_list(void)
{
    struct err err = {0};
    struct buf dir = {0}, path = {0};
    int rc = nn_model_dir(&dir, &err), n = 0;
    if (rc) return cli_fail(&err);
    DIR *d = opendir(dir.data);
    if (!d) {
        printf("no models in %s (vericite model import DIR)\n", dir.data);
        buf_cleanup(&dir);
        return CLI_OK;
    }
    struct dirent *e;
    char **names = NULL;
    size_t nn = 0, cap = 0;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name), el = strlen(NN_FILE_EXT);
        if (l <= el || strcmp(e->d_name + l - el, NN_FILE_EXT) != 0) continue;
        if (vec_grow((void **)&names, &cap, nn + 1, sizeof *names) ||
            !(names[nn] = strdup(e->d_name))) {
            for (size_t i = 0; i < nn; i++) free(names[i]);
            free(names);
            closedir(d);
            return cli_fail(&(struct err){ERR_NOMEM, "list"});
        }
        nn++;
    }
    closedir(d);
    if (nn) qsort(names, nn, sizeof *names, strcmp_ptr); /* names is NULL when nn is 0 */
    printf("%-28s %-10s %-24s %-7s %-22s %9s  %s\n", "name", "kind", "layers/hidden/heads", "vocab",
           "pooling/labels", "MiB", "hash");
    for (size_t i = 0; i < nn; i++) {
        struct nn_model *m = NULL;
        buf_reset(&path);
        buf_printf(&path, "%s/%s", dir.data, names[i]);
        if (nn_model_open(&m, path.data, &err)) {
            printf("%-28s (unreadable: %s)\n", names[i], err.msg);
            err_clear(&err);
        } else {
            const struct nn_info *in = nn_model_info(m);
            char sizes[64], pool[128];
            snprintf(sizes, sizeof sizes, "%s %d/%d/%d", nn_arch_name(in->arch), in->layers,
                     in->hidden, in->heads);
            if (in->head == NN_HEAD_ENCODER)
                snprintf(pool, sizeof pool, "%s%s", nn_pool_name(in->pool),
                         in->normalize ? " +norm" : "");
            else {
                size_t o = 0;
                pool[0] = '\0';
                for (int k = 0; k < in->num_labels && o < sizeof pool; k++)
                    o += (size_t)snprintf(pool + o, sizeof pool - o, "%s%s", k ? "," : "",
                                          in->labels[k]);
            }
            printf("%-28.*s %-10s %-24s %-7d %-22s %9.1f  %s\n",
                   (int)(strlen(names[i]) - strlen(NN_FILE_EXT)), names[i], nn_head_name(in->head),
                   sizes, in->ntokens, pool, in->file_size / 1048576.0, in->hash);
            n++;
            nn_model_close(m);
        }
        free(names[i]);
    }
    free(names);
    if (!n) printf("(no models in %s)\n", dir.data);
    buf_cleanup(&dir);
    buf_cleanup(&path);
    return CLI_OK;
}

/* ---------------------------------------------------------------- run */

struct run {
    struct nn *h;
    const struct nn_info *in;
    int pairs, ids, stats, max_pos, dim;
    const char *prefix;
    size_t batch;
    char **lines;         /* (batch) owned */
    int32_t *tid, *ttype; /* (batch, max_pos) */
    struct nn_seq *seq;   /* (batch) */
    float *out;           /* (batch, dim) */
    struct buf text, line;
    double *lat; /* per batch, seconds */
    size_t nlat, caplat, inputs, tokens;
    double fwd_s;
};

/* One --ids line: [ids...] or {"ids": [...], "types": [...]}. */
static int parse_ids(struct run *r, const char *s, int32_t *ids, int32_t *types, int *n,
                     struct err *err)
{
    json_error_t je;
    json_t *v = json_loads(s, 0, &je), *a = v, *t = NULL;
    int rc = ERR_OK;
    if (!v) return err_set(err, ERR_PARSE, "column %d: %s", je.column, je.text);
    if (json_is_object(v)) {
        a = json_object_get(v, "ids");
        t = json_object_get(v, "types");
        if (json_is_null(t)) t = NULL;
    }
    size_t len = json_array_size(a);
    if (!json_is_array(a) || len == 0 || len > (size_t)r->max_pos ||
        (t && json_array_size(t) != len)) {
        rc = err_set(err, ERR_PARSE, "expected 1 to %d token ids (and as many types)", r->max_pos);
        goto done;
    }
    for (size_t i = 0; i < len; i++) {
        json_t *x = json_array_get(a, i), *y = t ? json_array_get(t, i) : NULL;
        if (!json_is_integer(x) || (t && !json_is_integer(y))) {
            rc = err_set(err, ERR_PARSE, "token %zu is not an integer", i);
            goto done;
        }
        json_int_t xi = json_integer_value(x), yi = y ? json_integer_value(y) : 0;
        ids[i] = xi < INT32_MIN || xi > INT32_MAX ? -1 : (int32_t)xi;
        types[i] = yi < INT32_MIN || yi > INT32_MAX ? -1 : (int32_t)yi;
    }
    *n = (int)len;
done:
    json_decref(v);
    return rc;
}

static int prepare(struct run *r, size_t k, long first_line, struct err *err)
{
    for (size_t j = 0; j < k; j++) {
        int32_t *ids = r->tid + j * (size_t)r->max_pos, *types = r->ttype + j * (size_t)r->max_pos;
        int n = 0, rc;
        char *a = r->lines[j], *b = NULL;
        if (r->ids) {
            rc = parse_ids(r, a, ids, types, &n, err);
        } else {
            if (r->pairs) {
                if (!(b = strchr(a, '\t')))
                    return err_set(err, ERR_PARSE,
                                   "stdin line %ld: no TAB between the pair's texts",
                                   first_line + (long)j);
                *b++ = '\0';
            }
            if (r->prefix) {
                buf_reset(&r->text);
                if (buf_puts(&r->text, r->prefix) || buf_puts(&r->text, a))
                    return err_set(err, ERR_NOMEM, "text");
                a = r->text.data;
            }
            rc = nn_tokenize(r->h, a, strlen(a), b, b ? strlen(b) : 0, ids, types, &n, err);
        }
        if (rc) return err_prefix(err, "stdin line %ld", first_line + (long)j);
        r->seq[j] = (struct nn_seq){ids, types, n};
    }
    return ERR_OK;
}

static void put_floats(struct buf *b, const float *v, int n)
{
    buf_putc(b, '[');
    for (int i = 0; i < n; i++) {
        if (i) buf_puts(b, ", ");
        if (v[i] != v[i] || v[i] > 3.4e38f || v[i] < -3.4e38f)
            buf_puts(b, "null");
        else
            buf_printf(b, "%.9g", (double)v[i]);
    }
    buf_putc(b, ']');
}

static int run_batch(struct run *r, size_t k, long first_line, struct err *err)
{
    int rc = prepare(r, k, first_line, err);
    if (rc) return rc;
    double t = cli_now();
    if ((rc = nn_forward(r->h, r->seq, k, r->out, err)))
        return err_prefix(err, "stdin lines %ld-%ld", first_line, first_line + (long)k - 1);
    t = cli_now() - t;
    r->fwd_s += t;
    if (r->stats) {
        if (vec_grow((void **)&r->lat, &r->caplat, r->nlat + 1, sizeof *r->lat))
            return err_set(err, ERR_NOMEM, "stats");
        r->lat[r->nlat++] = t;
    }
    for (size_t j = 0; j < k; j++) {
        struct buf *b = &r->line;
        buf_reset(b);
        buf_puts(b, "{\"tokens\": [");
        for (int i = 0; i < r->seq[j].len; i++)
            buf_printf(b, i ? ", %d" : "%d", (int)r->seq[j].ids[i]);
        buf_puts(b, r->in->head == NN_HEAD_ENCODER ? "], \"embedding\": " : "], \"logits\": ");
        put_floats(b, r->out + j * (size_t)r->dim, r->dim);
        if (r->in->head == NN_HEAD_CLASSIFIER) {
            buf_puts(b, ", \"labels\": [");
            for (int i = 0; i < r->in->num_labels; i++) {
                json_t *js = json_string(r->in->labels[i]);
                char *q = js ? json_dumps(js, JSON_ENCODE_ANY) : NULL;
                buf_printf(b, "%s%s", i ? ", " : "", q ? q : "null");
                free(q);
                json_decref(js);
            }
            buf_putc(b, ']');
        }
        buf_puts(b, "}\n");
        if (!b->data) return err_set(err, ERR_NOMEM, "output");
        fwrite(b->data, 1, b->len, stdout);
        r->tokens += (size_t)r->seq[j].len;
    }
    r->inputs += k;
    return ERR_OK;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void print_stats(struct run *r)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double p50 = 0, p99 = 0;
    if (r->nlat) {
        if (r->nlat > 1) qsort(r->lat, r->nlat, sizeof *r->lat, cmp_dbl);
        p50 = r->lat[(r->nlat - 1) / 2];
        p99 = r->lat[(size_t)((double)(r->nlat - 1) * 0.99 + 0.5)];
    }
    fprintf(
        stderr,
        "stats: %zu inputs, %zu tokens, forward %.3f s: %.1f inputs/s, %.0f tokens/s; per batch "
        "p50 %.2f ms, p99 %.2f ms; peak RSS %.1f MiB\n",
        r->inputs, r->tokens, r->fwd_s, r->fwd_s > 0 ? r->inputs / r->fwd_s : 0,
        r->fwd_s > 0 ? r->tokens / r->fwd_s : 0, p50 * 1e3, p99 * 1e3, ru.ru_maxrss / 1024.0);
}

static int run_loop(struct run *r, struct err *err)
{
    char *line = NULL;
    size_t cap = 0, k = 0;
    long lineno = 0, first = 1;
    ssize_t got;
    int rc = ERR_OK;
    while ((got = getline(&line, &cap, stdin)) >= 0) {
        lineno++;
        if ((size_t)got > MODEL_MAX_LINE) {
            rc = err_set(err, ERR_LIMIT, "stdin line %ld: over %u bytes", lineno, MODEL_MAX_LINE);
            break;
        }
        while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r'))
            line[--got] = '\0';
        if (k == 0) first = lineno;
        free(r->lines[k]);
        if (!(r->lines[k++] = strdup(line))) {
            rc = err_set(err, ERR_NOMEM, "stdin");
            break;
        }
        if (k == r->batch) {
            if ((rc = run_batch(r, k, first, err))) break;
            k = 0;
        }
    }
    if (!rc && k) rc = run_batch(r, k, first, err);
    free(line);
    fflush(stdout);
    return rc;
}

static int cmd_run(int argc, char **argv)
{
    enum { O_PAIRS = 1000, O_IDS, O_JSON, O_THREADS, O_BATCH, O_MAXLEN, O_PREFIX, O_STATS };
    static const struct option lo[] = {{"pairs", no_argument, 0, O_PAIRS},
                                       {"ids", no_argument, 0, O_IDS},
                                       {"json", no_argument, 0, O_JSON},
                                       {"threads", required_argument, 0, O_THREADS},
                                       {"batch", required_argument, 0, O_BATCH},
                                       {"max-len", required_argument, 0, O_MAXLEN},
                                       {"prefix", required_argument, 0, O_PREFIX},
                                       {"stats", no_argument, 0, O_STATS},
                                       {0, 0, 0, 0}};
    struct run r = {0};
    struct nn_opts no = {0};
    int c, batch = NN_DEFAULT_BATCH;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case O_PAIRS:
            r.pairs = 1;
            break;
        case O_IDS:
            r.ids = 1;
            break;
        case O_JSON:
            break;
        case O_STATS:
            r.stats = 1;
            break;
        case O_PREFIX:
            r.prefix = optarg;
            break;
        case O_THREADS:
            if (cli_int("model", "--threads", optarg, 1, NN_MAX_THREADS, &no.threads))
                return CLI_USAGE;
            break;
        case O_BATCH:
            if (cli_int("model", "--batch", optarg, 1, 4096, &batch)) return CLI_USAGE;
            break;
        case O_MAXLEN:
            if (cli_int("model", "--max-len", optarg, 2, NN_MAX_POSITIONS, &no.max_len))
                return CLI_USAGE;
            break;
        default:
            return cli_bad_option("model", argv, "", lo);
        }
    }
    if (argc - optind != 1)
        return cli_usage("model", "usage: vericite model run NAME|PATH [options]");
    if (r.ids && (r.pairs || r.prefix))
        return cli_usage("model", "--ids takes token ids: no --pairs or --prefix");
    struct err err = {0};
    struct buf path = {0};
    struct nn_model *m = NULL;
    no.batch = batch;
    r.batch = (size_t)batch;
    int rc = nn_model_resolve(argv[optind], &path, &err);
    if (!rc) rc = nn_model_open(&m, path.data, &err);
    if (!rc) {
        r.in = nn_model_info(m);
        if (no.max_len > r.in->max_positions) {
            rc = err_set(&err, ERR_ARG, "--max-len %d: the model has %d positions", no.max_len,
                         r.in->max_positions);
            goto done;
        }
        if (r.pairs && r.in->head != NN_HEAD_CLASSIFIER)
            fprintf(stderr,
                    "vericite: note: %s is an encoder; each pair is embedded as one input\n",
                    r.in->name);
        rc = nn_new(&r.h, m, &no, &err);
    }
    if (rc) goto done;
    r.max_pos = r.ids ? r.in->max_positions : nn_max_len(r.h);
    r.dim = nn_model_out_dim(m);
    r.lines = calloc(r.batch, sizeof *r.lines);
    r.tid = malloc(r.batch * (size_t)r.max_pos * sizeof *r.tid);
    r.ttype = malloc(r.batch * (size_t)r.max_pos * sizeof *r.ttype);
    r.seq = calloc(r.batch, sizeof *r.seq);
    r.out = malloc(r.batch * (size_t)r.dim * sizeof *r.out);
    if (!r.lines || !r.tid || !r.ttype || !r.seq || !r.out) {
        rc = err_set(&err, ERR_NOMEM, "model run");
        goto done;
    }
    rc = run_loop(&r, &err);
    if (r.stats) print_stats(&r);
done:
    for (size_t i = 0; r.lines && i < r.batch; i++)
        free(r.lines[i]);
    free(r.lines);
    free(r.tid);
    free(r.ttype);
    free(r.seq);
    free(r.out);
    free(r.lat);
    buf_cleanup(&r.text);
    buf_cleanup(&r.line);
    nn_free(r.h);
    nn_model_close(m);
    buf_cleanup(&path);
    return rc ? cli_fail(&err) : CLI_OK;
}

int cmd_model(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(model_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    if (!strcmp(argv[1], "import")) return cmd_import(argc - 1, argv + 1);
    if (!strcmp(argv[1], "list"))
        return argc == 2 ? cmd_list() : cli_usage("model", "usage: vericite model list");
    if (!strcmp(argv[1], "info")) return cmd_info(argc - 1, argv + 1);
    if (!strcmp(argv[1], "run")) return cmd_run(argc - 1, argv + 1);
    return cli_usage("model", "unknown subcommand '%s' (import, list, info, run)", argv[1]);
}
