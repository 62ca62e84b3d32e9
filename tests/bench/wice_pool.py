#!/usr/bin/python3
"""wice_pool.py - turns WiCE dev into a page-retrieval set: every distinct cited page becomes a
document (its "(meta data) TITLE:" line as title), every claim a query whose one relevant document
is the page it cites. Writes corpus.jsonl, queries.jsonl and qrels.tsv into OUT_DIR.
usage: wice_pool.py WICE_DEV_JSONL OUT_DIR"""
import hashlib, json, os, sys

src, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
pages, queries, qrels = {}, [], []
for line in open(src):
    r = json.loads(line)
    sents = r["evidence"]
    title = ""
    if sents and sents[0].startswith("(meta data) TITLE:"):
        title = sents[0][len("(meta data) TITLE:"):].strip()
        sents = sents[1:]
    text = " ".join(sents)
    pid = hashlib.sha1(text.encode()).hexdigest()[:16]
    pages.setdefault(pid, {"_id": pid, "title": title, "text": text,
                           "url": "https://wice.example/" + pid})
    qid = r["meta"]["id"]
    queries.append({"_id": qid, "text": r["claim"], "title": r["meta"].get("claim_title", "")})
    qrels.append((qid, pid))
with open(os.path.join(out, "corpus.jsonl"), "w") as f:
    for p in pages.values():
        f.write(json.dumps(p) + "\n")
with open(os.path.join(out, "queries.jsonl"), "w") as f:
    for q in queries:
        f.write(json.dumps(q) + "\n")
with open(os.path.join(out, "qrels.tsv"), "w") as f:
    f.write("query-id\tcorpus-id\tscore\n")
    for q, p in qrels:
        f.write(f"{q}\t{p}\t1\n")
print(f"wice pool: {len(pages)} pages, {len(queries)} claims", file=sys.stderr)
