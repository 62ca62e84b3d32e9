/* emb.h - embedders: texts to vectors. Word vectors (.vcvec files, memory-mapped) with SIF
 * weighting, an OpenAI-compatible HTTP embeddings client, and imported transformer encoders run
 * in process (index/nn/). Below index/ (which stores their vectors and records their
 * signatures); never touches SQLite. */
#ifndef VC_EMB_H
#define VC_EMB_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

/* Word vectors live in a compact binary file (".vcvec", format in index/idx_vecfile.c) that is
 * memory-mapped read-only; words are stored folded (emb_word_fold) in the source's order, which
 * for GloVe/word2vec/fastText files is frequency order, so a row number is a frequency rank. */

#define EMB_MAX_DIM 4096          /* largest vector size accepted */
#define EMB_MAX_WORD 256          /* longest word kept, in bytes (longer ones are skipped) */
#define EMB_MAX_WORDS 50000000ull /* most words in one vectors file */
#define EMB_VEC_DEFAULT_NAME "glove-100d.vcvec" /* in $VERICITE_MODEL_DIR or ~/.cache/vericite */

struct emb_vecfile;

/* Convert the word vectors in `src` to a vectors file at `dst`. The format is detected:
 * word2vec binary ("count dim" line, then word, space, dim little-endian float32), text with a
 * "count dim" header line (fastText .vec, word2vec text), GloVe text (no header; dim from the first
 * line), or wink JSON ({"dimensions":D,...,"vectors":{"word":[v1..vD, extra...],...}}; the extra
 * numbers after D are wink's bookkeeping and are dropped) or a plain JSON object {"word":[...]}.
 * Words are folded with emb_word_fold(); on a collision the first occurrence wins; words that are
 * empty, over EMB_MAX_WORD bytes or not valid UTF-8 are skipped. Vectors are stored as given.
 * The input is streamed (memory grows with the number of words, not the vectors). `dst` is written
 * atomically (a temporary file beside it, then rename); on failure it is left untouched.
 * Errors: ERR_NOTFOUND/ERR_IO (src or dst), ERR_PARSE (malformed input, message names the file
 * and line or byte offset), ERR_LIMIT (dim or word count over the caps), ERR_NOMEM. */
int emb_vecfile_import(const char *src, const char *dst, struct err *err);

/* Map the vectors file `path` read-only. The header and every section size are checked against
 * the file size; the content hash is not recomputed (see emb_vecfile_verify).
 * Errors: ERR_NOTFOUND, ERR_IO, ERR_CORRUPT (truncated or not a vectors file; names the file).
 * On success *out is a new handle the caller owns and closes with emb_vecfile_close(). */
int emb_vecfile_open(struct emb_vecfile **out, const char *path, struct err *err);
/* Unmap and free. NULL is allowed. Pointers from lookups die with the handle. */
void emb_vecfile_close(struct emb_vecfile *v);

/* The vector (dim floats, inside the mapping) of `word` (len bytes, already folded as stored, e.g.
 * by emb_word_fold), or NULL when the word is not in the file. */
const float *emb_vecfile_lookup(const struct emb_vecfile *v, const char *word, size_t len);
/* Row of `word` (0 = most frequent in a frequency-sorted source), or -1 when absent. */
int64_t emb_vecfile_find(const struct emb_vecfile *v, const char *word, size_t len);
/* The vector of row `row` (0 <= row < count; NULL when out of range). */
const float *emb_vecfile_row(const struct emb_vecfile *v, int64_t row);
/* The word of row `row` (not NUL-terminated; *len gets its length), NULL when out of range. */
const char *emb_vecfile_word(const struct emb_vecfile *v, int64_t row, size_t *len);
int emb_vecfile_dim(const struct emb_vecfile *v);
int64_t emb_vecfile_count(const struct emb_vecfile *v);
/* The content hash stored in the header as 16 lowercase hex digits (owned by the handle). */
const char *emb_vecfile_hash(const struct emb_vecfile *v);
/* Recompute the content hash over the whole file (reads every page). Errors: ERR_CORRUPT. */
int emb_vecfile_verify(const struct emb_vecfile *v, struct err *err);

/* The default vectors path: $VERICITE_MODEL_DIR/glove-100d.vcvec, else
 * $HOME/.cache/vericite/glove-100d.vcvec. Appends to `out`. Errors: ERR_NOTFOUND (neither
 * variable set), ERR_NOMEM. Does not check that the file exists. */
int emb_vecfile_default_path(struct buf *out, struct err *err);

/* Fold a word the way vectors files store it: ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic
 * capitals to lower case, and the typographic apostrophe U+2019 to "'". Writes at most `len` bytes
 * to `out` (which may equal `s`) and returns the new length. Other bytes are copied unchanged. */
size_t emb_word_fold(const char *s, size_t len, char *out);

/* An embedder turns texts into vectors. Implementations (static word vectors, an HTTP service,
 * an in-process model) put `struct emb` first in their own struct and
 * fill in `ops` and `dim`; callers only use the emb_embed* functions below. A handle is not
 * thread-safe (scratch memory lives in it): one per thread. */
struct emb;
struct emb_ops {
    const char *name; /* "static", "http", ... */
    /* Embed `n` NUL-terminated texts into `out` (n, dim). Rows are L2-normalised, or all zero for
     * a text with nothing to embed (empty, or only unknown words). Error code on failure. */
    int (*embed)(struct emb *e, const char *const *texts, size_t n, float *out,
                 struct err *err);
    /* A stable string naming everything that changes the vectors (kind, dim, weights, model hash);
     * recorded in the index and compared on open (ERR_MISMATCH). Owned by the embedder. */
    const char *(*signature)(struct emb *e);
    void (*free)(struct emb *e);
    /* NULL, or how a search query is embedded when it differs from a passage (a query prefix
     * such as e5's "query: "); same contract as embed. */
    int (*embed_query)(struct emb *e, const char *const *texts, size_t n, float *out,
                       struct err *err);
};
struct emb {
    const struct emb_ops *ops;
    int dim;
};

/* Dispatchers over e->ops. All-zero output rows mean "no vector": callers leave such passages out
 * of the dense index (they can only match through BM25) and answer a zero query vector with no
 * dense hits (fall back to BM25) instead of searching with it. */
int emb_embed(struct emb *e, const char *const *texts, size_t n, float *out /* (n, dim) */,
              struct err *err);
/* Embed search queries: ops->embed_query when the embedder has one, else ops->embed. */
int emb_embed_query(struct emb *e, const char *const *texts, size_t n, float *out /* (n, dim) */,
                    struct err *err);
int emb_dim(const struct emb *e);
const char *emb_name(const struct emb *e);
const char *emb_signature(struct emb *e);
/* Free any embedder. NULL is allowed. */
void emb_free(struct emb *e);

/* 1 when all `dim` values of `v` are zero (the "nothing to embed" row), else 0. */
int emb_is_zero(const float *v, int dim);

/* First principal component (uncentred, as in SIF) of the rows of `x` (n, dim) by power iteration,
 * written to `pc` (dim) as a unit vector whose dot product with the mean row is >= 0.
 * Errors: ERR_ARG (n == 0 or all rows zero), ERR_NOMEM. */
int emb_first_pc(const float *x, size_t n, int dim, float *pc, struct err *err);

/* Static word-vector embedder with SIF weighting (Arora et al. 2017):
 *   words: runs of letters/digits (any non-punctuation code point >= U+0080 counts as a letter)
 *          joined by inner ' - . ’ (and , between digits), folded with emb_word_fold; a joined
 *          word missing from the vectors is looked up part by part ("john's" -> john 's,
 *          "don't" -> do n't);
 *   weight a/(a + p(w)), a = 1e-3 by default; p(w) from corpus counts when given
 *          (emb_static_set_freq / _set_counts), else a Zipf estimate from the word's row r
 *          (0-based) among N words: p = 1 / ((r + 1) ln(1.78 N)), valid for frequency-sorted files;
 *   v = (1/k) sum weight(w) vec(w) over the k known words; then v -= (v.u) u with the common
 *          component u when one is set (emb_static_fit_pc / _set_pc); then v /= |v|.
 * Only unknown words (or none) -> zero row (see emb_embed). */
struct emb_static_opts {
    double a; /* SIF constant; 0 means 1e-3 */
};

/* A static embedder over the vectors file `path` (opened and owned by the embedder). `opts` may be
 * NULL; it is copied. Errors: those of emb_vecfile_open, ERR_ARG (a < 0), ERR_NOMEM.
 * On success *out is a new embedder freed with emb_free(). */
int emb_static_new(struct emb **out, const char *path,
                         const struct emb_static_opts *opts, struct err *err);
/* The vectors file of a static embedder (owned by it), NULL for other embedders. */
const struct emb_vecfile *emb_static_vectors(const struct emb *e);

/* Use corpus counts for p(w): counts[i] of words[i] (folded here; words that fold alike add up);
 * p(w) = count / total, where total is the number of corpus tokens (0: the sum of counts).
 * In-vocabulary words with no count get p = 0 (weight 1). n == 0 returns to the Zipf estimate.
 * Errors: ERR_ARG (not a static embedder), ERR_NOMEM. */
int emb_static_set_freq(struct emb *e, const char *const *words,
                              const uint64_t *counts, size_t n, uint64_t total, struct err *err);
/* Tally the words of `text` as the embedder splits them: counts[row] += 1 for every known word and
 * *total += 1 for every word, known or not. `counts` has emb_vecfile_count() entries (zeroed by
 * the caller), e.g. to persist per-row counts for emb_static_set_counts().
 * Errors: ERR_ARG (not a static embedder). */
int emb_static_count(struct emb *e, const char *text, size_t len, uint64_t *counts,
                           uint64_t *total, struct err *err);
/* Use per-row counts (emb_vecfile_count() entries, copied) for p(w) = counts[row] / total;
 * counts == NULL returns to the Zipf estimate. Errors: ERR_ARG (total 0 with counts), ERR_NOMEM. */
int emb_static_set_counts(struct emb *e, const uint64_t *counts, uint64_t total,
                                struct err *err);

/* Compute the common component from a sample of texts (e.g. up to 10,000 passages of the corpus):
 * their weighted averages before removal, then emb_first_pc(). Texts with no known word are
 * left out. Replaces any component set before. Errors: ERR_ARG (no text with a known word). */
int emb_static_fit_pc(struct emb *e, const char *const *texts, size_t n,
                            struct err *err);
/* Set the common component (dim floats, normalised here) to persist/restore it; NULL clears it.
 * Errors: ERR_ARG (not static, zero or non-finite vector). */
int emb_static_set_pc(struct emb *e, const float *pc, struct err *err);
/* Copy the common component to `pc` (dim floats). Returns 1 when one is set, 0 when none (pc
 * untouched) or when `e` is not a static embedder. */
int emb_static_get_pc(const struct emb *e, float *pc);

/* ---- http embedder ---- */

/* An embedder that asks an OpenAI-compatible embeddings endpoint (OpenAI, Ollama's /v1, vLLM,
 * llama.cpp server, text-embeddings-inference, LiteLLM...) over HTTP, in index/embed/emb_http.c.
 * Requests are POST {"model": M, "input": [texts...], "encoding_format": "float"}; the answer is
 * {"data": [{"index": i, "embedding": [...]}, ...]} in any order. Rows are L2-normalised here.
 *   - A NULL text gets a zero row and is not sent. An empty text "" is sent as a single space,
 *     because many servers reject empty strings (OpenAI answers 400); its row is whatever the
 *     model makes of " ".
 *   - Texts must be valid UTF-8 (ERR_UTF8 names the first bad one; nothing is sent).
 *   - Batches hold at most `batch` texts and EMB_HTTP_MAX_REQUEST_TEXT bytes of text; a single
 *     longer text is ERR_LIMIT. Up to `parallel` batches are in flight at once (the HTTP
 *     client of common/http/http.h, which does the transfers, retries and timeouts).
 *   - A batch is retried on timeouts, connection errors, HTTP 429 and 5xx, at most `retries`
 *     times, after 0.5 s, 1 s, 2 s, ... each plus a random up to half of it (the generator is
 *     seeded per handle), capped at EMB_HTTP_BACKOFF_MAX_MS; or after Retry-After seconds
 *     when the server sends them (capped at EMB_HTTP_RETRY_AFTER_MAX_S). Other 4xx, 3xx,
 *     malformed answers and dimension mismatches are never retried. While a batch waits for
 *     its retry no new batch starts (a rate-limited server sees the whole client slow down).
 *     One batch that finally fails fails the call (the first such batch in input order is the
 *     one named; the others still run to their end).
 *   - Every transfer has a connect and a total timeout, so a call ends within about
 *     ceil(batches / parallel) * (retries + 1) * (timeout_ms + backoff) even if the server hangs.
 * Needs curl_global_init(CURL_GLOBAL_DEFAULT) to have run (main() does it). The usual proxy
 * variables apply, except for loopback hosts (localhost, 127.0.0.1, ::1), which are reached
 * directly. The API key is read from the environment once, at creation, and never appears in
 * the signature or in error messages. Failures name the endpoint and the classified reason
 * ("timed out: no answer in 60 s total", "refused: connection refused by 127.0.0.1:11434",
 * "HTTP 500: <the server's message>"), with "(after N attempts)" when retried. */

#define EMB_HAVE_HTTP 1 /* idx_vec.c builds "http" embedders when this is defined */
#define EMB_HTTP_DEFAULT_KEY_ENV "VERICITE_EMBED_KEY"
#define EMB_HTTP_DEFAULT_BATCH 64
#define EMB_HTTP_DEFAULT_PARALLEL 4
#define EMB_HTTP_DEFAULT_RETRIES 3
#define EMB_HTTP_DEFAULT_TIMEOUT_MS 60000L
#define EMB_HTTP_DEFAULT_CONNECT_MS 10000L
#define EMB_HTTP_MAX_URL 4096                     /* longest endpoint URL, in bytes */
#define EMB_HTTP_MAX_BATCH 4096                   /* largest `batch` accepted */
#define EMB_HTTP_MAX_PARALLEL 64                  /* largest `parallel` accepted */
#define EMB_HTTP_MAX_RETRIES 20                   /* largest `retries` accepted */
#define EMB_HTTP_MAX_DIM 65536                    /* largest vector size accepted */
#define EMB_HTTP_MAX_REQUEST_TEXT (8u << 20)      /* bytes of text in one request */
#define EMB_HTTP_MAX_RESPONSE ((size_t)256 << 20) /* bytes of one response body */
#define EMB_HTTP_BACKOFF_BASE_MS 500              /* first retry delay */
#define EMB_HTTP_BACKOFF_MAX_MS 30000             /* longest retry delay */
#define EMB_HTTP_RETRY_AFTER_MAX_S 60             /* longest Retry-After honoured */
#define EMB_HTTP_PROBE_TEXT "dim probe"           /* embedded at creation to learn dim */

/* Zero-initialise; every field but url has a usable zero. */
struct emb_http_opts {
    const char *url;         /* full URL of the endpoint, http or https, e.g.
                                http://127.0.0.1:11434/v1/embeddings; no user:password@ in it */
    const char *model;       /* model name; NULL or "" leaves "model" out of the requests */
    const char *api_key_env; /* name of the env var holding the key (NULL: "VERICITE_EMBED_KEY");
                                sent as "Authorization: Bearer <key>" when set and not empty */
    int batch;               /* texts per request (0: 64) */
    int parallel;            /* concurrent requests (0: 4) */
    int retries;             /* retries of a failed request (0: 3; -1: none) */
    long timeout_ms;         /* whole request, per attempt (0: 60000) */
    long connect_timeout_ms; /* connecting, per attempt (0: 10000) */
    int dim;                 /* vector size; 0: learned from a probe request at creation */
};

/* A new HTTP embedder for the endpoint in `opts` (copied; the strings too).
 * The dimension: when opts->dim is 0, the text EMB_HTTP_PROBE_TEXT is embedded right away and
 * the length of its vector becomes dim. Creation thus checks the URL, key and model before any
 * real work (and emb_dim() and the signature, which callers need before the first
 * embed to size buffers and compare with an index, are known at once). With opts->dim set no
 * request is made here; every answer is then checked against it (ERR_MISMATCH).
 * Signature: "http:" url ":" model ":dim=" dim, e.g.
 * "http:http://127.0.0.1:11434/v1/embeddings:nomic-embed-text:dim=768".
 * Errors: ERR_ARG (no URL, not http/https, malformed, credentials in it, an option out of
 * range, a key with control characters), ERR_NOMEM, and for the probe those of emb_embed()
 * (ERR_NET, ERR_PARSE, ERR_MISMATCH, ERR_LIMIT).
 * On success *out is a new embedder freed with emb_free(); on failure *out is NULL. */
int emb_http_new(struct emb **out, const struct emb_http_opts *opts,
                       struct err *err);
/* The number of HTTP requests this embedder has sent (attempts, the probe and retries
 * included), 0 for other embedders. For logs and tests. */
uint64_t emb_http_requests(const struct emb *e);

/* ---- in-process model embedder ---- */

/* An embedder over an imported transformer encoder (index/nn/, a .vcnn file), in
 * index/embed/emb_model.c: texts are embedded in this process by nn_embed() with the model's
 * pooling, then L2-normalised here. Passages get `passage_prefix` in front, queries
 * `query_prefix` (emb_embed_query). With a prefix left NULL the default comes from the model's
 * name (as imported): a name with "e5" in it gets "query: " / "passage: ", one with "bge" the
 * query instruction EMB_MODEL_BGE_QUERY and no passage prefix, any other none. "" means none.
 * Signature: "model:" content-hash ":dim=" D, then ":passage=" P when there is a passage
 * prefix, e.g. "model:5be9a4c07f3e1d22:dim=384:passage=passage: " (the name and the query
 * prefix are left out: they do not change the stored vectors). */

#define EMB_HAVE_MODEL 1
#define EMB_MODEL_BGE_QUERY "Represent this sentence for searching relevant passages: "
#define EMB_MODEL_MAX_PREFIX 512 /* bytes of a prefix */

/* Zero-initialise; every field but model has a usable zero. */
struct emb_model_opts {
    const char *model;          /* a model name (nn_model_resolve) or a .vcnn path */
    const char *query_prefix;   /* NULL: by the model's name (above); "": none */
    const char *passage_prefix; /* NULL: by the model's name; "": none */
    int threads;                /* threads of one embed call (0: 1; nn_opts.threads) */
};

/* A model embedder (opts copied; the model file opened and owned by the embedder).
 * Errors: those of nn_model_resolve and nn_model_open (ERR_NOTFOUND, ERR_CORRUPT...), ERR_ARG
 * (a classifier, not an encoder; a prefix over EMB_MODEL_MAX_PREFIX bytes or with control
 * characters), ERR_NOMEM, and nn_new's. On success *out is a new embedder freed with
 * emb_free(); on failure *out is NULL. */
int emb_model_new(struct emb **out, const struct emb_model_opts *opts, struct err *err);
/* The default prefixes for a model called `name` (never NULL: "" when none). */
void emb_model_default_prefixes(const char *name, const char **query, const char **passage);
/* A model embedder's model name and its query prefix (owned by the embedder), NULL for other
 * embedders. */
const char *emb_model_name(const struct emb *e);
const char *emb_model_query_prefix(const struct emb *e);
const char *emb_model_passage_prefix(const struct emb *e);

#endif
