#!/usr/bin/env python3
"""scale_gen.py - the generated corpus of `make bench-scale` (tests/bench/scale_bench.sh).

usage: scale_gen.py N OUTDIR [SCIFACT_CORPUS]

Writes into OUTDIR:
  corpus.jsonl     N documents of 40-95 words (one passage each at 100 words per passage) drawn
                   from a Zipfian vocabulary (s = 1.07 over 200,000 made-up words, as natural
                   text), each with a title and a URL; the SciFact corpus (when given) is mixed
                   in at even intervals, so its claims can be judged against a large index
  replace.jsonl    500 of those documents with new text (same ids): the replace benchmark
  claims.jsonl     a 604-citation article as claims JSON Lines whose URLs are corpus documents
                   (every 50th citation cites a URL the corpus lacks)
  dump.xml         the first min(N, DUMP_MAX) documents as a MediaWiki XML dump (wikitext with
                   links, templates and refs), for the dump path end to end
  queries.jsonl    200 generated queries (4-12 words of the same distribution) and
  qrels.tsv        a judgement for each (only their latency means something)
The vocabulary's head is SciFact's own words by frequency (so claims touch generated passages
as English text would), its tail made-up words. Deterministic for a given N (seeded)."""
import collections
import json
import os
import random
import re
import sys
from xml.sax.saxutils import escape

VOCAB = 200_000
ZIPF_S = 1.07
DUMP_MAX = int(os.environ.get("DUMP_MAX", "100000"))
SYL = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "ba", "do", "fe", "gu", "hi", "jo",
       "pa", "qui", "ra", "se", "to", "un", "ve", "wa", "xi", "yo", "an", "el", "is", "or", "ur"]


def vocabulary(rng, sf):
    counts = collections.Counter()
    for line in sf:
        d = json.loads(line)
        body = d.get("text") or " ".join(d.get("abstract") or [])
        counts.update(re.findall(r"[a-z]+", (d.get("title", "") + " " + body).lower()))
    words = [w for w, _ in counts.most_common(VOCAB // 4)]
    seen = set(words)
    while len(words) < VOCAB:
        w = "".join(rng.choice(SYL) for _ in range(rng.choice((1, 2, 2, 3, 3, 3, 4))))
        if w not in seen and len(w) > 2:
            seen.add(w)
            words.append(w)
    return words


def main():
    n, out = int(sys.argv[1]), sys.argv[2]
    scifact = sys.argv[3] if len(sys.argv) > 3 else None
    os.makedirs(out, exist_ok=True)
    rng = random.Random(13)
    sf = []
    if scifact:
        with open(scifact) as f:
            sf = [l for l in f if l.strip()]
    words = vocabulary(rng, sf)
    cum, total = [], 0.0
    for r in range(1, VOCAB + 1):
        total += 1.0 / r ** ZIPF_S
        cum.append(total)

    def text(k):
        return " ".join(rng.choices(words, cum_weights=cum, k=k))

    every = max(1, n // len(sf)) if sf else 0
    urls = []
    dump = open(os.path.join(out, "dump.xml"), "w")
    dump.write('<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/" xml:lang="en">\n')
    with open(os.path.join(out, "corpus.jsonl"), "w") as f:
        j = 0
        for i in range(n):
            if every and i % every == 0 and j < len(sf):
                f.write(sf[j])
                j += 1
            title = text(rng.randint(2, 4)).title()
            body = text(rng.randint(40, 95))
            url = "https://gen.example.org/wiki/Doc_%d" % i
            urls.append(url)
            f.write(json.dumps({"_id": "g%d" % i, "title": title, "text": body, "url": url}) + "\n")
            if i < DUMP_MAX:
                wt = "'''%s''' %s [[%s]] {{cite web |url=%s |title=%s}}<ref>%s</ref> %s" % (
                    title, body[: len(body) // 2], words[i % 500], url, title, url, body[len(body) // 2:])
                dump.write("<page><title>%s</title><ns>0</ns><id>%d</id><revision><id>%d</id>"
                           "<text xml:space=\"preserve\">%s</text></revision></page>\n"
                           % (escape(title + " " + str(i)), i + 1, i + 1, escape(wt)))
        for line in sf[j:]:
            f.write(line)
    dump.write("</mediawiki>\n")
    dump.close()
    with open(os.path.join(out, "replace.jsonl"), "w") as f:
        for i in rng.sample(range(n), min(500, n)):
            f.write(json.dumps({"_id": "g%d" % i, "title": "Revised " + text(3).title(),
                                "text": text(rng.randint(40, 95)), "url": urls[i]}) + "\n")
    with open(os.path.join(out, "claims.jsonl"), "w") as f:
        for c in range(604):
            i = rng.randrange(n)
            url = urls[i] if c % 50 else "https://elsewhere.example.net/page/%d" % c
            f.write(json.dumps({"claim": text(rng.randint(8, 20)).capitalize() + ".", "url": url,
                                "title": ""}) + "\n")
    with open(os.path.join(out, "queries.jsonl"), "w") as f, open(os.path.join(out, "qrels.tsv"), "w") as r:
        r.write("query-id\tcorpus-id\tscore\n")
        for q in range(200):
            f.write(json.dumps({"_id": "q%d" % q, "text": text(rng.randint(4, 12))}) + "\n")
            r.write("q%d\tg%d\t1\n" % (q, rng.randrange(n)))


if __name__ == "__main__":
    main()
