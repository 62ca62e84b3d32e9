#!/usr/bin/python3
"""peers.py - the benchmark's peers on the same corpus and claims as vericite:
Xapian's BM25 (python3-xapian, English stemmer) and SQLite FTS5 bm25() queried directly with the
claim's words OR-ed (porter + unicode61). Prints one JSON line per peer:
{"peer", "index_s", "docs_per_s", "ndcg@10", "recall@100", "latency_p50_ms", "latency_p99_ms"}.
Run by tests/bench/run.sh; needs Debian's python3 (for the xapian module)."""
import json, math, re, sqlite3, sys, tempfile, time

import xapian


def load(corpus, queries, qrels):
    docs = [json.loads(l) for l in open(corpus) if l.strip()]
    qs = [json.loads(l) for l in open(queries) if l.strip()]
    rel = {}
    for i, line in enumerate(open(qrels)):
        f = line.split()
        if i == 0 and f[0] == "query-id":
            continue
        rel.setdefault(f[0], {})[f[1]] = int(f[2])
    qs = [q for q in qs if str(q["_id"]) in rel]
    return docs, qs, rel


def metrics(ranked, judged):
    dcg = sum(judged.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:10]))
    ideal = sorted(judged.values(), reverse=True)[:10]
    idcg = sum(r / math.log2(i + 2) for i, r in enumerate(ideal))
    found = sum(1 for d in ranked[:100] if judged.get(d, 0) > 0)
    return dcg / idcg, found / sum(1 for r in judged.values() if r > 0)


def report(peer, index_s, ndocs, results, lat):
    lat.sort()
    n = len(results)
    print(json.dumps({
        "peer": peer, "index_s": round(index_s, 3), "docs_per_s": round(ndocs / index_s, 1),
        "ndcg@10": round(sum(r[0] for r in results) / n, 4),
        "recall@100": round(sum(r[1] for r in results) / n, 4),
        "latency_p50_ms": round(lat[n // 2] * 1e3, 4),
        "latency_p99_ms": round(lat[int((n - 1) * 0.99)] * 1e3, 4)}), flush=True)


def xapian_peer(docs, qs, rel):
    tmp = tempfile.mkdtemp(prefix="vc-xapian-")
    t = time.perf_counter()
    db = xapian.WritableDatabase(tmp, xapian.DB_CREATE_OR_OVERWRITE)
    tg = xapian.TermGenerator()
    tg.set_stemmer(xapian.Stem("english"))
    tg.set_stemming_strategy(xapian.TermGenerator.STEM_SOME)
    for d in docs:
        doc = xapian.Document()
        tg.set_document(doc)
        tg.index_text(d.get("title", ""))
        tg.index_text(d.get("text", ""))
        doc.set_data(str(d["_id"]))
        db.add_document(doc)
    db.commit()
    index_s = time.perf_counter() - t
    enq = xapian.Enquire(db)
    enq.set_weighting_scheme(xapian.BM25Weight())
    qp = xapian.QueryParser()
    qp.set_stemmer(xapian.Stem("english"))
    qp.set_stemming_strategy(xapian.QueryParser.STEM_SOME)
    qp.set_default_op(xapian.Query.OP_OR)
    results, lat = [], []
    for q in qs:
        words = " ".join(re.findall(r"\w+", q["text"]))
        t = time.perf_counter()
        enq.set_query(qp.parse_query(words, 0))
        ranked = [m.document.get_data().decode() for m in enq.get_mset(0, 100)]
        lat.append(time.perf_counter() - t)
        results.append(metrics(ranked, rel[str(q["_id"])]))
    report("xapian-bm25", index_s, len(docs), results, lat)


def fts5_peer(docs, qs, rel):
    db = sqlite3.connect(tempfile.mktemp(prefix="vc-fts5-", suffix=".db"))
    t = time.perf_counter()
    db.execute("CREATE VIRTUAL TABLE f USING fts5(id UNINDEXED, title, body, tokenize='porter unicode61')")
    db.executemany("INSERT INTO f(id, title, body) VALUES(?,?,?)",
                   [(str(d["_id"]), d.get("title", ""), d.get("text", "")) for d in docs])
    db.commit()
    index_s = time.perf_counter() - t
    results, lat = [], []
    for q in qs:
        words = re.findall(r"\w+", q["text"].lower())
        match = " OR ".join('"%s"' % w for w in words)
        t = time.perf_counter()
        ranked = [r[0] for r in db.execute(
            "SELECT id FROM f WHERE f MATCH ? ORDER BY bm25(f) LIMIT 100", (match,))]
        lat.append(time.perf_counter() - t)
        results.append(metrics(ranked, rel[str(q["_id"])]))
    report("sqlite-fts5-bm25", index_s, len(docs), results, lat)


if __name__ == "__main__":
    docs, qs, rel = load(*sys.argv[1:4])
    xapian_peer(docs, qs, rel)
    fts5_peer(docs, qs, rel)
