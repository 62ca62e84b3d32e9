/* ver_nli.h - the model verifiers beside the lexical one: an NLI cross-encoder run in process
 * (ver_nli.c, over index/nn/) and an LLM judge on an OpenAI-compatible chat endpoint
 * (ver_judge.c, over common/http/). Included by ver.h; the auditor uses them when its options
 * name them (ver_audit_opts.verifier, .judge_url). */
#ifndef VC_VER_NLI_H
#define VC_VER_NLI_H

#include <stddef.h>

#include "err.h"

struct ver_scorer;

/* ================================================================ the NLI verifier (ver_nli.c)
 * The support score of a claim against a source is the entailment probability (softmax over the
 * model's labels) of the source's best window of sentences, the window being the premise and the
 * claim the hypothesis. The windows are the lexical scorer's (1..3 sentences of at most
 * VER_SCORE_WIN_WORDS content words, ver_score_windows); at most max_windows of them, those that
 * line up best with the claim lexically (ver_score_align), go through the model in one
 * nn_classify batch. The contradiction probability reported is that of the window that
 * contradicts the claim most. Verdicts: contradicted when that probability is >= t_contra and
 * above the best window's entailment probability; else supported >= t_supported, weak >= t_weak,
 * else unsupported. The default thresholds are not calibrated for any particular model. */

#define VER_NLI_MAX_WINDOWS 16    /* windows per source given to the model by default */
#define VER_NLI_WINDOWS_CAP 256   /* most windows per source an option may ask for */
#define VER_NLI_SUGGEST_WINDOWS 4 /* windows per suggestion candidate (the audit's choice) */
#define VER_NLI_T_SUPPORTED 0.5   /* default thresholds on the entailment probability ... */
#define VER_NLI_T_WEAK 0.2
#define VER_NLI_T_CONTRA 0.5 /* ... and on the contradiction probability */

/* Zero-initialise; every 0 is the default named. */
struct ver_nli_opts {
    int threads;     /* threads of the model runtime (0: 1) */
    int max_windows; /* windows per source (0: VER_NLI_MAX_WINDOWS; at most VER_NLI_WINDOWS_CAP) */
    double t_supported, t_weak, t_contra; /* 0: the VER_NLI_T_* defaults */
};

struct ver_nli;

/* Open the NLI model `ref` (a model name in the user's model folder or the path of a .vcnn
 * file: nn_model_resolve) and a runtime over it. The model must be a sequence classifier whose
 * id2label names an entailment and a contradiction label (any order, any case; a neutral one and
 * others may be there: the softmax runs over all of them). Errors: ERR_NOTFOUND (no such model),
 * ERR_ARG (not a classifier, or no entailment/contradiction label: the message lists its labels;
 * an option out of range), those of nn_model_open and nn_new. On success *out is a new handle the
 * caller frees with ver_nli_free(); not thread-safe (one per thread). */
int ver_nli_new(struct ver_nli **out, const char *ref, const struct ver_nli_opts *o,
                struct err *err);
/* Free. NULL is allowed. */
void ver_nli_free(struct ver_nli *v);
/* "nli:NAME:HASH" (the model's name and content hash): what the audit store keys include. Owned
 * by the handle. */
const char *ver_nli_signature(const struct ver_nli *v);
/* The thresholds in use (any pointer may be NULL). */
void ver_nli_thresholds(const struct ver_nli *v, double *t_supported, double *t_weak,
                        double *t_contra);

/* The content hash of the model `ref` resolves to (16 hex digits and a NUL) without starting a
 * runtime. Errors: those of nn_model_resolve and nn_model_open. */
int ver_nli_model_hash(const char *ref, char out[17], struct err *err);

/* What ver_nli_score found. Caller-allocated, nothing to free. */
struct ver_nli_result {
    double entail;             /* the best window's entailment probability (0 with no window) */
    double contra;             /* the most contradicting window's contradiction probability */
    size_t win_start, win_end; /* the best (most entailing) window: bytes of the source */
    size_t contra_start, contra_end; /* the most contradicting window */
    int nwindows;                    /* windows given to the model (0: the source has no words) */
    int verdict;                     /* enum ver_verdict under the thresholds */
};

/* Score `len` bytes of `source` for `claim`: `select` (the claim the windows are chosen for:
 * the claim with its context, or NULL: the claim) picks the windows through the lexical scorer
 * `s` (borrowed), the model reads each window with `claim`; `windows` > 0 reads at most that many
 * (fewer than max_windows: suggestion candidates), 0 max_windows. Errors: those of
 * ver_score_windows and nn_classify, ERR_NOMEM. */
int ver_nli_score(struct ver_nli *v, struct ver_scorer *s, const char *select, const char *claim,
                  const char *source, size_t len, int windows, struct ver_nli_result *out,
                  struct err *err);

/* ================================================================ the LLM judge (ver_judge.c)
 * One POST per (claim, source) to an OpenAI-compatible chat completions endpoint: a system
 * message that asks for a strict JSON verdict, and the claim with an excerpt of the source (the
 * whole text when short, else VER_JUDGE_EXCERPT bytes around the verifier's evidence window).
 * The answer's choices[0].message.content must be one JSON object with exactly the members
 * "verdict" (one of supported, partial, unsupported, contradicted) and "evidence" (a string),
 * nothing else around it but white space. Anything else is a classified failure, never a
 * verdict. Transfers go through common/http: the address guard (a judge on a loopback or private
 * address needs allow_private or allow_hosts), timeouts, and retries on timeouts, connection
 * errors, 429 (after Retry-After) and 5xx. */

#define VER_JUDGE_EXCERPT 6000          /* bytes of source text sent at most */
#define VER_JUDGE_MAX_ANSWER (1u << 20) /* bytes of an answer read at most */
#define VER_JUDGE_EVIDENCE_MAX 1000     /* bytes of the judge's evidence kept */
#define VER_JUDGE_DEFAULT_TIMEOUT_MS 60000L
#define VER_JUDGE_DEFAULT_RETRIES 2
#define VER_JUDGE_KEY_ENV "VERICITE_JUDGE_KEY" /* where the CLI reads the API key */

/* The judge's verdicts, as answered. */
enum ver_judge_verdict {
    VER_JUDGE_SUPPORTED = 0,
    VER_JUDGE_PARTIAL,
    VER_JUDGE_UNSUPPORTED,
    VER_JUDGE_CONTRADICTED
};
/* "supported", "partial", "unsupported", "contradicted"; "?" out of range. */
const char *ver_judge_verdict_name(int v);

/* Zero-initialise. Strings are copied. */
struct ver_judge_opts {
    const char *url;     /* the endpoint: a URL ending in /chat/completions is used as is; else
                            "/v1/chat/completions" is appended ("/chat/completions" after /v1) */
    const char *model;   /* the "model" member (NULL or "": none sent) */
    const char *api_key; /* NULL or "": no Authorization header; else "Bearer KEY" (never logged) */
    long timeout_ms;     /* per attempt; 0: VER_JUDGE_DEFAULT_TIMEOUT_MS */
    int retries;         /* 0: VER_JUDGE_DEFAULT_RETRIES; -1: none */
    long backoff_base_ms;           /* 0: the client's default */
    int allow_private;              /* the guard off */
    const char *const *allow_hosts; /* "IP:port" let through with the guard on (tests) */
};

/* What one question to the judge gave. */
struct ver_judge_answer {
    int ok;      /* 1: verdict and evidence are set; 0: a failure, fail and message */
    int verdict; /* enum ver_judge_verdict */
    char evidence[VER_JUDGE_EVIDENCE_MAX + 1];
    char fail[32];     /* the failure's class: an http_fail_name ("timeout", "http",
                          "blocked", ...), "bad-answer" (not a chat completion), or
                          "malformed" (the content is not the strict JSON verdict) */
    char message[400]; /* what exactly, e.g. "HTTP 500 after 3 attempts", "verdict
                          \"maybe\" is not one of ..." */
    int attempts;
};

struct ver_judge;

/* A judge client. Errors: ERR_ARG (no URL, not http(s), credentials in it, a key with control
 * characters), ERR_NOMEM, the HTTP client's. On success *out is owned by the caller (free with
 * ver_judge_free); one thread at a time. */
int ver_judge_new(struct ver_judge **out, const struct ver_judge_opts *o, struct err *err);
void ver_judge_free(struct ver_judge *j);
/* "judge:URL:MODEL" (the endpoint as requested): what the audit store keys include. Owned. */
const char *ver_judge_signature(const struct ver_judge *j);
/* The endpoint requested (the URL after the rule above). Owned. */
const char *ver_judge_endpoint(const struct ver_judge *j);

/* Ask the judge about `claim` and `source` (len bytes; the excerpt is centred on [ev_start,
 * ev_end) when the source is long). Fills *out. Per-question failures go into *out (ok 0), not
 * the return value, which is ERR_NOMEM or the HTTP client's batch error only. */
int ver_judge_ask(struct ver_judge *j, const char *claim, const char *source, size_t len,
                  size_t ev_start, size_t ev_end, struct ver_judge_answer *out, struct err *err);

/* Parse a chat completion answer body (`len` bytes) into *out (ok, verdict, evidence or fail,
 * message). Exposed for tests and the fuzz target. Never fails otherwise. */
void ver_judge_parse(const char *body, size_t len, struct ver_judge_answer *out);

#endif
