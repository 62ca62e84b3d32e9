#!/usr/bin/python3
"""scale_xapian.py - Xapian (BM25, English stemmer) on the corpus of `make bench-scale`, the peer
of vericite in the same run. usage: scale_xapian.py CORPUS DBDIR QUERIES QRELS [QUERIES QRELS]...
Streams CORPUS (JSON Lines; commits every 100,000 documents), then for each query set prints one
JSON line {"peer", "set", "docs", "index_s", "ndcg@10", "latency_p50_ms", "latency_p99_ms"}; the
index's size is DBDIR's. Needs Debian's python3-xapian (make bench-deps)."""
import json
import math
import re
import sys
import time

import xapian


def index(corpus, dbdir):
    t = time.perf_counter()
    db = xapian.WritableDatabase(dbdir, xapian.DB_CREATE_OR_OVERWRITE)
    tg = xapian.TermGenerator()
    tg.set_stemmer(xapian.Stem("english"))
    tg.set_stemming_strategy(xapian.TermGenerator.STEM_SOME)
    n = 0
    with open(corpus) as f:
        for line in f:
            if not line.strip():
                continue
            d = json.loads(line)
            doc = xapian.Document()
            tg.set_document(doc)
            tg.index_text(d.get("title", ""))
            tg.index_text(d.get("text") or " ".join(d.get("abstract") or []))
            doc.set_data(str(d["_id"]))
            db.add_document(doc)
            n += 1
            if n % 100000 == 0:
                db.commit()
    db.commit()
    return db, n, time.perf_counter() - t


def run(db, qfile, rfile):
    rel = {}
    for i, line in enumerate(open(rfile)):
        f = line.split()
        if i == 0 and f[0] == "query-id":
            continue
        rel.setdefault(f[0], {})[f[1]] = int(f[2])
    enq = xapian.Enquire(db)
    enq.set_weighting_scheme(xapian.BM25Weight())
    qp = xapian.QueryParser()
    qp.set_stemmer(xapian.Stem("english"))
    qp.set_stemming_strategy(xapian.QueryParser.STEM_SOME)
    qp.set_default_op(xapian.Query.OP_OR)
    lat, ndcg = [], []
    for line in open(qfile):
        q = json.loads(line)
        judged = rel.get(str(q["_id"]))
        if not judged:
            continue
        words = " ".join(re.findall(r"\w+", q["text"]))
        t = time.perf_counter()
        enq.set_query(qp.parse_query(words, 0))
        ranked = [m.document.get_data().decode() for m in enq.get_mset(0, 100)]
        lat.append(time.perf_counter() - t)
        dcg = sum(judged.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:10]))
        ideal = sorted(judged.values(), reverse=True)[:10]
        ndcg.append(dcg / sum(r / math.log2(i + 2) for i, r in enumerate(ideal)))
    lat.sort()
    n = len(lat)
    return {"ndcg@10": round(sum(ndcg) / n, 4), "latency_p50_ms": round(lat[n // 2] * 1e3, 3),
            "latency_p99_ms": round(lat[int((n - 1) * 0.99)] * 1e3, 3)}


def main():
    db, n, index_s = index(sys.argv[1], sys.argv[2])
    for i in range(3, len(sys.argv) - 1, 2):
        r = {"peer": "xapian", "set": sys.argv[i], "docs": n, "index_s": round(index_s, 1)}
        r.update(run(db, sys.argv[i], sys.argv[i + 1]))
        print(json.dumps(r), flush=True)


if __name__ == "__main__":
    main()
