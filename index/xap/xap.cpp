/* xap.cpp - the Xapian remote backend (see xap.h): shards over xapian-tcpsrv, one combined
 * database for searching, one writable connection per shard for syncing. No Xapian exception
 * leaves this file: every entry point catches them and sets err. */
#include "xap.h"

#include <xapian.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace
{

#define XAP_META_INDEX "vericite.index"
#define XAP_META_SHARD "vericite.shard"
#define XAP_REOPEN_S 1.0            /* a search sees shard commits at most this old */
#define XAP_WRITE_TIMEOUT_MIN 30000 /* ms: a batch commit may take a while on a big shard */

struct shard {
    std::string host, name; /* name: "HOST:PORT" as given */
    unsigned port = 0;
    Xapian::Database db;          /* reading */
    Xapian::WritableDatabase wdb; /* writing */
    bool live = false;
    std::string why; /* why it is not live */
    double retry_at = 0;
};

struct xap {
    struct idx_bk base; /* first: the C side sees only this */
    std::vector<shard> sh;
    bool writable = false;
    int timeout_ms = IDX_BK_DEFAULT_TIMEOUT_MS, retry_ms = 0;
    std::string index_id;
    Xapian::Database all;  /* the live shards combined */
    std::vector<int> live; /* shard of each sub-database of `all`, ascending */
    bool stale = true;     /* `all` must be rebuilt from the live shards */
    double reopened = 0;
    std::vector<struct idx_bk_hit> hits;
};

xap *of(struct idx_bk *b)
{
    return reinterpret_cast<xap *>(b);
}

double now_s()
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

std::string why_of(const Xapian::Error &e)
{
    std::string s = e.get_msg();
    const char *es = e.get_error_string();
    if (es && *es) s += std::string(s.empty() ? "" : ": ") + es;
    return s.empty() ? e.get_type() : s;
}

std::string shard_label(const xap *x, int i)
{
    return "shard " + std::to_string(i + 1) + "/" + std::to_string(x->sh.size()) + " (" +
           x->sh[i].name + ")";
}

std::string shard_number(const xap *x, int i)
{
    return std::to_string(i + 1) + "/" + std::to_string(x->sh.size());
}

/* Split "HOST:PORT" (HOST may be "[v6]"). */
bool parse_addr(const char *a, std::string *host, unsigned *port)
{
    const char *colon = std::strrchr(a, ':');
    if (!colon || colon == a || !colon[1]) return false;
    std::string h(a, (size_t)(colon - a));
    if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
    if (h.empty()) return false;
    unsigned long p = 0;
    for (const char *c = colon + 1; *c; c++) {
        if (*c < '0' || *c > '9') return false;
        p = p * 10 + (unsigned long)(*c - '0');
        if (p > 65535) return false;
    }
    if (p == 0) return false;
    *host = h;
    *port = (unsigned)p;
    return true;
}

void mark_dead(xap *x, int i, const std::string &why)
{
    shard &s = x->sh[i];
    s.live = false;
    s.why = why;
    s.db = Xapian::Database();
    int retry = x->retry_ms > 0 ? x->retry_ms : 2 * x->timeout_ms;
    s.retry_at = now_s() + retry / 1000.0;
    x->stale = true;
}

/* Connect shard i for reading and check its metadata. Returns ERR_MISMATCH (message in *msg)
 * when it holds something else; an unreachable shard is only marked dead. */
int connect_read(xap *x, int i, std::string *msg)
{
    shard &s = x->sh[i];
    try {
        s.db = Xapian::Remote::open(s.host, s.port, (useconds_t)x->timeout_ms,
                                    (useconds_t)x->timeout_ms);
        if (!x->index_id.empty()) {
            std::string id = s.db.get_metadata(XAP_META_INDEX),
                        num = s.db.get_metadata(XAP_META_SHARD);
            std::string bad;
            if (id.empty() && num.empty())
                bad = "holds no vericite passages yet (run vericite index --db DIR --sync-backend)";
            else if (id != x->index_id)
                bad = "holds another vericite index (id " + id + ", this index is " + x->index_id +
                      ")";
            else if (num != shard_number(x, i))
                bad = "is shard " + num + " of this index, given as " + shard_number(x, i) +
                      " (give the addresses in their original order)";
            if (!bad.empty()) {
                *msg = shard_label(x, i) + " " + bad;
                mark_dead(x, i, bad);
                return ERR_MISMATCH;
            }
        }
        s.live = true;
        s.why.clear();
    } catch (const Xapian::Error &e) {
        mark_dead(x, i, why_of(e));
    }
    x->stale = true;
    return ERR_OK;
}

void rebuild(xap *x)
{
    x->all = Xapian::Database();
    x->live.clear();
    for (size_t i = 0; i < x->sh.size(); i++)
        if (x->sh[i].live) {
            x->all.add_database(x->sh[i].db);
            x->live.push_back((int)i);
        }
    x->stale = false;
    x->reopened = now_s();
}

/* The live shard an error's context names ("remote:tcp(HOST:PORT)"), else one that fails a
 * keep-alive, else -1. */
int failed_shard(xap *x, const Xapian::Error &e)
{
    std::string ctx = e.get_context();
    for (int i : x->live)
        if (ctx.find("(" + x->sh[i].name + ")") != std::string::npos) return i;
    for (int i : x->live) {
        try {
            x->sh[i].db.keep_alive();
        } catch (const Xapian::Error &) {
            return i;
        }
    }
    return -1;
}

/* After a search failed with e: find the shard, and leave it out, or (a closed connection: the
 * server's idle timeout, a restarted shard) give it one new connection at once; a shard that
 * timed out is left out without waiting for it again. The other shards' connections may be left
 * in the middle of the query's exchange: they are made again too. false when no shard can be
 * blamed. */
bool drop_failed(xap *x, const Xapian::Error &e, bool timed_out, std::vector<bool> *redialled)
{
    int i = failed_shard(x, e);
    if (i < 0) return false;
    std::string msg;
    if (!timed_out && !(*redialled)[(size_t)i]) {
        (*redialled)[(size_t)i] = true;
        connect_read(x, i, &msg); /* marks it dead when that fails too */
    } else {
        mark_dead(x, i, why_of(e));
    }
    std::vector<int> others = x->live;
    for (int j : others)
        if (j != i) connect_read(x, j, &msg);
    return true;
}

std::string dead_list(const xap *x)
{
    std::string s;
    for (size_t i = 0; i < x->sh.size(); i++)
        if (!x->sh[i].live)
            s += (s.empty() ? "" : "; ") + x->sh[i].name + " (" + x->sh[i].why + ")";
    return s;
}

/* ---------------------------------------------------------------- the operations */

int op_meta_get(struct idx_bk *b, int i, const char *key, char **val, struct err *err)
{
    xap *x = of(b);
    *val = nullptr;
    try {
        std::string v =
            x->writable ? x->sh[i].wdb.get_metadata(key) : x->sh[i].db.get_metadata(key);
        *val = strdup(v.c_str());
        if (!*val) return err_set(err, ERR_NOMEM, "xapian metadata");
        return ERR_OK;
    } catch (const Xapian::Error &e) {
        return err_set(err, ERR_NET, "%s: reading %s: %s", shard_label(x, i).c_str(), key,
                       why_of(e).c_str());
    } catch (const std::bad_alloc &) {
        return err_set(err, ERR_NOMEM, "xapian metadata");
    }
}

int op_meta_set(struct idx_bk *b, int i, const char *key, const char *val, struct err *err)
{
    xap *x = of(b);
    if (!x->writable) return err_set(err, ERR_INTERNAL, "xapian: metadata on a read-only backend");
    try {
        x->sh[i].wdb.set_metadata(key, val);
        return ERR_OK;
    } catch (const Xapian::Error &e) {
        return err_set(err, ERR_NET, "%s: writing %s: %s", shard_label(x, i).c_str(), key,
                       why_of(e).c_str());
    } catch (const std::bad_alloc &) {
        return err_set(err, ERR_NOMEM, "xapian metadata");
    }
}

int op_count(struct idx_bk *b, int i, int64_t *n, struct err *err)
{
    xap *x = of(b);
    *n = -1;
    try {
        if (x->writable)
            *n = x->sh[i].wdb.get_doccount();
        else if (x->sh[i].live)
            *n = x->sh[i].db.get_doccount();
        else
            return err_set(err, ERR_NET, "%s: %s", shard_label(x, i).c_str(), x->sh[i].why.c_str());
        return ERR_OK;
    } catch (const Xapian::Error &e) {
        return err_set(err, ERR_NET, "%s: %s", shard_label(x, i).c_str(), why_of(e).c_str());
    }
}

int op_list(struct idx_bk *b, int i, int (*cb)(void *ctx, int64_t pid), void *ctx, struct err *err)
{
    xap *x = of(b);
    int64_t N = (int64_t)x->sh.size();
    try {
        Xapian::Database &db = x->writable ? x->sh[i].wdb : x->sh[i].db;
        for (Xapian::PostingIterator it = db.postlist_begin(""); it != db.postlist_end(""); ++it) {
            int rc = cb(ctx, ((int64_t)*it - 1) * N + i + 1);
            if (rc) return rc;
        }
        return ERR_OK;
    } catch (const Xapian::Error &e) {
        return err_set(err, ERR_NET, "%s: listing passages: %s", shard_label(x, i).c_str(),
                       why_of(e).c_str());
    } catch (const std::bad_alloc &) {
        return err_set(err, ERR_NOMEM, "xapian list");
    }
}

/* Apply one shard's changes and commit; "" or the reason it failed. */
std::string write_shard(xap *x, int i, const std::vector<const struct idx_bk_doc *> &docs)
{
    int64_t N = (int64_t)x->sh.size();
    try {
        Xapian::WritableDatabase &w = x->sh[i].wdb;
        for (const struct idx_bk_doc *d : docs) {
            Xapian::docid sd = (Xapian::docid)((d->pid - 1) / N + 1);
            if (d->del) {
                try {
                    w.delete_document(sd);
                } catch (const Xapian::DocNotFoundError &) {
                    /* never sent, or removed already: in step */
                }
                continue;
            }
            Xapian::Document doc;
            for (size_t t = 0; t < d->nterms; t++)
                doc.add_term(std::string(d->terms[t].term, d->terms[t].len), d->terms[t].wdf);
            w.replace_document(sd, doc);
        }
        w.commit();
        return "";
    } catch (const Xapian::Error &e) {
        return why_of(e);
    } catch (const std::exception &e) {
        return e.what();
    }
}

int op_write(struct idx_bk *b, const struct idx_bk_doc *docs, size_t n, struct err *err)
{
    xap *x = of(b);
    if (!x->writable) return err_set(err, ERR_INTERNAL, "xapian: write on a read-only backend");
    size_t ns = x->sh.size();
    try {
        std::vector<std::vector<const struct idx_bk_doc *>> per(ns);
        for (size_t j = 0; j < n; j++)
            per[(size_t)((docs[j].pid - 1) % (int64_t)ns)].push_back(&docs[j]);
        std::vector<std::string> why(ns);
        /* one thread per shard: a remote write waits for the shard's answer */
        std::vector<std::thread> th;
        for (size_t i = 1; i < ns; i++) {
            try {
                th.emplace_back([x, i, &per, &why] { why[i] = write_shard(x, (int)i, per[i]); });
            } catch (const std::system_error &) {
                why[i] = write_shard(x, (int)i, per[i]);
            }
        }
        why[0] = write_shard(x, 0, per[0]);
        for (std::thread &t : th)
            t.join();
        for (size_t i = 0; i < ns; i++)
            if (!why[i].empty())
                return err_set(err, ERR_NET, "%s: %s", shard_label(x, (int)i).c_str(),
                               why[i].c_str());
        return ERR_OK;
    } catch (const std::bad_alloc &) {
        return err_set(err, ERR_NOMEM, "xapian write");
    }
}

int op_search(struct idx_bk *b, struct idx_bk_qterm *q, int nq, double k1, double bb, int k,
              const struct idx_bk_hit **hits, int *n, int64_t *N, struct err *err)
{
    xap *x = of(b);
    *hits = nullptr;
    *n = 0;
    *N = 0;
    for (int j = 0; j < nq; j++)
        q[j].df = 0;
    try {
        double t = now_s();
        std::string msg;
        for (size_t i = 0; i < x->sh.size(); i++)
            if (!x->sh[i].live && t >= x->sh[i].retry_at) connect_read(x, (int)i, &msg);
        std::vector<Xapian::Query> sub;
        std::vector<std::string> terms((size_t)nq);
        for (int j = 0; j < nq; j++) {
            terms[(size_t)j].assign(q[j].term, q[j].len);
            if (q[j].weight > 0 && q[j].len > 0)
                sub.emplace_back(Xapian::Query::OP_SCALE_WEIGHT, Xapian::Query(terms[(size_t)j]),
                                 q[j].weight);
        }
        bool reopen = t - x->reopened >= XAP_REOPEN_S;
        std::vector<bool> redialled(x->sh.size());
        for (size_t attempt = 0; attempt <= 2 * x->sh.size() + 1; attempt++) {
            if (x->stale) {
                rebuild(x);
                reopen = false;
            }
            if (x->live.empty())
                return err_set(err, ERR_NET, "no shard answers: %s", dead_list(x).c_str());
            try {
                if (reopen) {
                    x->all.reopen();
                    x->reopened = t;
                    reopen = false;
                }
                *N = (int64_t)x->all.get_doccount();
                if (sub.empty() || k <= 0) return ERR_OK;
                Xapian::Enquire enq(x->all);
                enq.set_weighting_scheme(Xapian::BM25PlusWeight(k1, 0, 0, bb, 0, 0));
                enq.set_query(Xapian::Query(Xapian::Query::OP_OR, sub.begin(), sub.end()));
                Xapian::MSet m = enq.get_mset(0, (Xapian::doccount)k);
                for (int j = 0; j < nq; j++)
                    q[j].df = (int64_t)m.get_termfreq(terms[(size_t)j]);
                int64_t nl = (int64_t)x->live.size(), ns = (int64_t)x->sh.size();
                x->hits.clear();
                for (Xapian::MSetIterator it = m.begin(); it != m.end(); ++it) {
                    int64_t d = (int64_t)*it - 1;
                    int64_t pid = (d / nl) * ns + x->live[(size_t)(d % nl)] + 1;
                    x->hits.push_back({pid, it.get_weight()});
                }
                *hits = x->hits.data();
                *n = (int)x->hits.size();
                return ERR_OK;
            } catch (const Xapian::DatabaseModifiedError &) {
                reopen = true; /* a shard committed past our revision: read the new one */
            } catch (const Xapian::NetworkTimeoutError &e) {
                if (!drop_failed(x, e, true, &redialled))
                    return err_set(err, ERR_NET, "search: %s", why_of(e).c_str());
            } catch (const Xapian::NetworkError &e) {
                if (!drop_failed(x, e, false, &redialled))
                    return err_set(err, ERR_NET, "search: %s", why_of(e).c_str());
            }
        }
        return err_set(err, ERR_NET, "search: shards keep failing: %s", dead_list(x).c_str());
    } catch (const Xapian::Error &e) {
        return err_set(err, ERR_NET, "search: %s: %s", e.get_type(), why_of(e).c_str());
    } catch (const std::bad_alloc &) {
        return err_set(err, ERR_NOMEM, "xapian search");
    }
}

void op_shard(struct idx_bk *b, int i, struct idx_bk_shard *out)
{
    xap *x = of(b);
    out->name = x->sh[(size_t)i].name.c_str();
    out->live = x->sh[(size_t)i].live;
    out->why = x->sh[(size_t)i].why.c_str();
}

void op_close(struct idx_bk *b)
{
    xap *x = of(b);
    if (!x) return;
    for (shard &s : x->sh) {
        try {
            s.wdb.close(); /* nothing pending after a successful write() */
        } catch (const Xapian::Error &) {
        }
        try {
            s.db.close();
        } catch (const Xapian::Error &) {
        }
    }
    delete x;
}

const struct idx_bk_ops xap_ops = {"xapian", op_meta_get, op_meta_set, op_count, op_list,
                                   op_write, op_search,   op_shard,    op_close};

} // namespace

extern "C" int xap_open(struct idx_bk **out, const char *const *addrs, int n,
                        const struct xap_opts *o, struct err *err)
{
    *out = nullptr;
    if (n < 1 || n > IDX_BK_MAX_SHARDS)
        return err_set(err, ERR_ARG, "xapian: %d shards (1..%d)", n, IDX_BK_MAX_SHARDS);
    xap *x = nullptr;
    try {
        x = new xap();
        x->base.ops = &xap_ops;
        x->base.nshards = n;
        x->writable = o && o->writable;
        if (o && o->timeout_ms > 0) x->timeout_ms = o->timeout_ms;
        if (o && o->retry_ms > 0) x->retry_ms = o->retry_ms;
        if (o && o->index_id) x->index_id = o->index_id;
        x->sh.resize((size_t)n);
        for (int i = 0; i < n; i++) {
            shard &s = x->sh[(size_t)i];
            if (!parse_addr(addrs[i], &s.host, &s.port)) {
                op_close(&x->base);
                return err_set(err, ERR_ARG, "xapian: shard address '%s' is not HOST:PORT",
                               addrs[i]);
            }
            s.name = addrs[i];
        }
        for (int i = 0; i < n; i++) {
            shard &s = x->sh[(size_t)i];
            if (x->writable) {
                int wt = x->timeout_ms * 10 > XAP_WRITE_TIMEOUT_MIN ? x->timeout_ms * 10
                                                                    : XAP_WRITE_TIMEOUT_MIN;
                try {
                    s.wdb = Xapian::Remote::open_writable(s.host, s.port, (useconds_t)wt,
                                                          (useconds_t)x->timeout_ms);
                    s.live = true;
                } catch (const Xapian::Error &e) {
                    std::string msg = shard_label(x, i) + ": " + why_of(e);
                    op_close(&x->base);
                    return err_set(err, ERR_NET,
                                   "%s (is `xapian-tcpsrv --writable` running there?)",
                                   msg.c_str());
                }
            } else {
                std::string msg;
                if (connect_read(x, i, &msg) == ERR_MISMATCH) {
                    op_close(&x->base);
                    return err_set(err, ERR_MISMATCH, "%s", msg.c_str());
                }
            }
        }
        *out = &x->base;
        return ERR_OK;
    } catch (const std::bad_alloc &) {
        if (x) op_close(&x->base);
        return err_set(err, ERR_NOMEM, "xapian");
    }
}
