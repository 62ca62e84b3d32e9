#!/usr/bin/env bash
# prune_bench.sh - pruned BM25 (block-max MaxScore, the default) against the exhaustive
# term-at-a-time path (--exhaustive) on a generated corpus, in the same run: SciFact's abstracts
# plus generated one-passage documents (tests/bench/prune_corpus.py) up to SIZE passages, queried
# with SciFact's 809 training claims as `vericite eval` does (top 100 documents per claim, by
# their best passage). Each path runs twice, alternating; the better p50 of the two is printed
# with its p99, then the speedup. nDCG@10 must match (same hits). Numbers only; no timing is
# asserted. `make bench-prune` runs it; alone: tests/bench/prune_bench.sh [SIZE] (default 100000;
# 1000000 and 3000000 need about 2 GB and 6 GB of disk in $TMPDIR). $VERICITE names the binary
# (default ./vericite), e.g. a copy, so that rebuilding during a long run changes nothing.
set -euo pipefail
cd "$(dirname "$0")/../.."
SIZE=${1:-${PRUNE_SIZE:-100000}}
V=${VERICITE:-./vericite}
SHARED=${VC_SHARED:-../shared}
DATA=$SHARED/data/scifact
if [ ! -f "$DATA/corpus.jsonl" ]; then
  echo "prune bench: $DATA not found (the shared data sets live beside the repository); skipping"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
now() { date +%s.%N; }

echo "== pruned vs exhaustive BM25: $SIZE passages (SciFact + generated), 809 SciFact training claims"
t0=$(now)
/usr/bin/python3 tests/bench/prune_corpus.py "$SIZE" "$DATA" "$tmp"
t1=$(now)
"$V" index -q --embedder none --db "$tmp/ix" "$tmp/corpus.jsonl"
t2=$(now)
rm -f "$tmp/corpus.jsonl"
"$V" stats --db "$tmp/ix" --json > "$tmp/stats.json"
for run in 1 2; do
  for path in exhaustive pruned; do
    flag=""
    [ "$path" = exhaustive ] && flag=--exhaustive
    # shellcheck disable=SC2086
    "$V" eval --db "$tmp/ix" --queries "$DATA/queries_train.jsonl" --qrels "$DATA/qrels_train.tsv" \
      --mode bm25 --json $flag > "$tmp/$path-$run.json"
  done
done
/usr/bin/python3 - "$tmp" "$t0" "$t1" "$t2" <<'PY'
import json, sys
tmp, t0, t1, t2 = sys.argv[1], *map(float, sys.argv[2:])
st = json.load(open(f"{tmp}/stats.json"))
print(f"corpus generated in {t1 - t0:.1f} s; indexed {st['passages']} passages in {t2 - t1:.1f} s, "
      f"index.db {st['db_bytes'] / 2**20:.0f} MiB")
best = {}
for path in ("exhaustive", "pruned"):
    runs = [json.load(open(f"{tmp}/{path}-{i}.json")) for i in (1, 2)]
    best[path] = min(runs, key=lambda r: r["latency_p50_ms"])
    r = best[path]
    p50s = ", ".join("%.3f" % x["latency_p50_ms"] for x in runs)
    print(f"{path:<11} p50 {r['latency_p50_ms']:8.3f} ms  p99 {r['latency_p99_ms']:8.3f} ms  "
          f"mean {r['latency_mean_ms']:8.3f} ms  nDCG@10 {r['ndcg@10']:.4f}  "
          f"(p50 of the runs: {p50s})")
e, p = best["exhaustive"], best["pruned"]
print(f"speedup: p50 {e['latency_p50_ms'] / p['latency_p50_ms']:.2f}x, "
      f"p99 {e['latency_p99_ms'] / p['latency_p99_ms']:.2f}x, mean {e['latency_mean_ms'] / p['latency_mean_ms']:.2f}x"
      f"; same figures: {'yes' if all(e[k] == p[k] for k in ('ndcg@10', 'recall@100', 'mrr@10')) else 'NO'}")
PY
