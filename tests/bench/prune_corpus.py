#!/usr/bin/env python3
"""prune_corpus.py - the corpus of the pruned-BM25 benchmark (tests/bench/prune_bench.sh).

usage: prune_corpus.py N SCIFACT_DIR OUT_DIR

Writes OUT_DIR/corpus.jsonl: the SciFact abstracts, then generated one-passage documents up to N
in all. Each generated document starts from a random SciFact abstract: 60 of its words are drawn
from that abstract's words (so topical words co-occur as in real text) and 35 from the SciFact
unigram distribution (Zipfian), plus a 4-word title of the abstract's words. Seeded: the same N
gives the same corpus. Queries and judgements are SciFact's training claims (the generated
documents are judged irrelevant), so `vericite eval` checks the ranking too."""
import json
import random
import re
import sys

n, src, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
rng = random.Random(13)
word = re.compile(r"[a-z0-9]+")
docs, counts = [], {}
with open(f"{src}/corpus.jsonl", encoding="utf-8") as f, open(f"{out}/corpus.jsonl", "w", encoding="utf-8") as o:
    for line in f:
        d = json.loads(line)
        o.write(line if line.endswith("\n") else line + "\n")
        ws = word.findall((d.get("title", "") + " " + d.get("text", "")).lower())
        if len(ws) >= 8:
            docs.append(ws)
        for w in ws:
            counts[w] = counts.get(w, 0) + 1
    vocab = list(counts)
    cum, total = [], 0
    for w in vocab:
        total += counts[w]
        cum.append(total)
    pool, at = [], 0
    for i in range(n - len(docs) if n > len(docs) else 0):
        if at + 40 > len(pool):
            pool, at = rng.choices(vocab, cum_weights=cum, k=400000), 0
        base = docs[rng.randrange(len(docs))]
        body = rng.choices(base, k=60) + pool[at:at + 35]
        at += 35
        rng.shuffle(body)
        o.write(json.dumps({"_id": f"g{i}", "title": " ".join(rng.choices(base, k=4)),
                            "text": " ".join(body)}) + "\n")
