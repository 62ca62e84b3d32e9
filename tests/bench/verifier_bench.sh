#!/usr/bin/env bash
# verifier_bench.sh - the cost of `audit --verifier` (an NLI cross-encoder in process) beside the
# lexical verifier, same claims, same sources, same run: $VB_CLAIMS (200) Citation-Integrity dev
# claims, each citing one abstract of its corpus (indexed as the corpus, so nothing is fetched),
# audited --offline --suggest none; then the same with suggestions (10 candidates each, also read
# by the model). The model is a random-weight classifier of all-MiniLM-L6-v2's shape (6 layers,
# hidden 384, 12 heads, FFN 1536, vocabulary 30,522): speed only, its verdicts mean nothing.
# Threads: one, and two (--verifier-threads 2). Numbers only.
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED=${VC_SHARED:-../shared}
CI=$SHARED/data/citation-integrity
N=${VB_CLAIMS:-200}
if [ ! -f "$CI/claims_dev.jsonl" ]; then
  echo "verifier bench: $CI not found; skipping"
  exit 0
fi
if ! /usr/bin/python3 -c 'import torch, numpy' 2>/dev/null; then
  echo "verifier bench: /usr/bin/python3 lacks torch (tests/nn/deps.sh); skipping"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 - "$CI" "$tmp" "$N" <<'PY'
import json, re, sys
ci, tmp, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(f"{tmp}/corpus.jsonl", "w") as out:
    for line in open(f"{ci}/corpus.jsonl"):
        d = json.loads(line)
        out.write(json.dumps({"_id": str(d["doc_id"]), "title": d.get("title", ""),
                              "url": f"https://ci.example/{d['doc_id']}",
                              "text": " ".join(d["abstract"])}) + "\n")
with open(f"{tmp}/claims.jsonl", "w") as out:
    k = 0
    for line in open(f"{ci}/claims_dev.jsonl"):
        c = json.loads(line)
        if k >= n or not c.get("cited_doc_ids"):
            continue
        claim = re.sub(r"\s*\[?<\|[a-z_]+\|>[^\]]*\]?", "", c["claim"]).strip()
        out.write(json.dumps({"claim": claim, "url": f"https://ci.example/{c['cited_doc_ids'][0]}"}) + "\n")
        k += 1
PY
./vericite index -q --embedder none --db "$tmp/ix" "$tmp/corpus.jsonl"
/usr/bin/python3 tests/nn/hfmodel.py gen "$tmp/hf" --head classifier --labels entailment,neutral,contradiction \
  --layers 6 --hidden 384 --heads 12 --inter 1536 --max-pos 512 --vocab 30522 --vocab-from "$tmp/corpus.jsonl"
./vericite model import "$tmp/hf" "$tmp/nli.vcnn" 2>/dev/null
nc=$(wc -l < "$tmp/claims.jsonl")
echo "== verifier: $nc Citation-Integrity dev citations (sources in the corpus), lexical vs an NLI model of MiniLM-L6's shape"
run() { # label, options...
  local label=$1; shift
  local s e
  s=$(date +%s.%N)
  ./vericite audit --db "$tmp/ix" --offline --json "$@" "$tmp/claims.jsonl" > "$tmp/out.jsonl" 2>/dev/null
  e=$(date +%s.%N)
  /usr/bin/python3 -c 'import sys; n, s, e, l = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]; print(f"{l:<44} {e - s:7.2f} s  {n / (e - s):8.1f} citations/s  {1000 * (e - s) / n:8.1f} ms/citation")' \
    "$(wc -l < "$tmp/out.jsonl")" "$s" "$e" "$label"
}
run "lexical, --suggest none" --suggest none
run "--verifier (16 windows), --suggest none" --suggest none --verifier "$tmp/nli.vcnn"
run "--verifier (16 windows, 2 threads)" --suggest none --verifier "$tmp/nli.vcnn" --verifier-threads 2
run "--verifier (4 windows), --suggest none" --suggest none --verifier "$tmp/nli.vcnn" --verifier-windows 4
run "lexical, --suggest all" --suggest all
run "--verifier (16 windows), --suggest all" --suggest all --verifier "$tmp/nli.vcnn"
# build/ver_eval --verifier M gives the issue-10 figures (AUC, F1, CI AUC, R@1/R@5) of an NLI model
# a user brings. Here a random model of MiniLM-L6's shape, so only its time is printed: 20 WiCE
# claims (own page, best-matching wrong page, suggestions) and 20 Citation-Integrity claims.
WICE=$SHARED/data/wice/dev.jsonl
if [ -x build/ver_eval ] && [ -f "$WICE" ]; then
  /usr/bin/python3 tests/bench/wice_pool.py "$WICE" "$tmp/wice" 2>/dev/null
  ./vericite index -q --db "$tmp/wice/ix" "$tmp/wice/corpus.jsonl"
  printf '%-44s ' "ver_eval --verifier --limit 20:"
  ./build/ver_eval --limit 20 --verifier "$tmp/nli.vcnn" "$SHARED/data" "$tmp/wice" 2>/dev/null | grep '^scorer:'
fi
