#!/usr/bin/env bash
# run.sh - `make bench`: indexes the shared SciFact corpus, evaluates BM25 on the shared training
# claims, and times the peers (Xapian BM25, SQLite FTS5 bm25()) on the same corpus and claims in
# the same run, printing the ratios. Numbers only; nothing here asserts a timing.
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED=${VC_SHARED:-../shared}
DATA=$SHARED/data/scifact
if [ ! -f "$DATA/corpus.jsonl" ]; then
  echo "bench: $DATA not found (the shared data sets live beside the repository); skipping"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
Q=$DATA/queries_train.jsonl
R=$DATA/qrels_train.tsv

echo "== SciFact: $(wc -l < "$DATA/corpus.jsonl") abstracts, $(tail -n +2 "$R" | cut -f1 | sort -u | wc -l) judged training claims"
start=$(date +%s.%N)
./vericite index -q --db "$tmp/sf" "$DATA/corpus.jsonl"
end=$(date +%s.%N)
./vericite stats --db "$tmp/sf" --json > "$tmp/stats.json"
for mode in bm25 fts5; do
  ./vericite eval --db "$tmp/sf" --queries "$Q" --qrels "$R" --mode "$mode" --json > "$tmp/eval-$mode.json"
done
# retrieval modes side by side on SciFact and on the WiCE page pool (each claim's cited page among
# all dev pages)
MODES=("auto" "bm25" "dense" "hybrid --alpha 0.2" "hybrid --alpha 0.5" "hybrid --fusion rrf" "bm25 --prf" "bm25 --proximity 0.25")
WICE=$SHARED/data/wice/dev.jsonl
if [ -f "$WICE" ]; then
  /usr/bin/python3 tests/bench/wice_pool.py "$WICE" "$tmp/wice" 2>/dev/null
  ./vericite index -q --db "$tmp/wx" "$tmp/wice/corpus.jsonl"
  ln -s "$tmp/wx" "$tmp/wice/ix"
fi
: > "$tmp/modes.jsonl"
for m in "${MODES[@]}"; do
  # shellcheck disable=SC2086
  s=$(./vericite eval --db "$tmp/sf" --queries "$Q" --qrels "$R" --mode $m --json)
  w='{}'
  # shellcheck disable=SC2086
  [ -f "$WICE" ] && w=$(./vericite eval --db "$tmp/wx" --queries "$tmp/wice/queries.jsonl" --qrels "$tmp/wice/qrels.tsv" --mode $m --json)
  printf '{"mode": "%s", "scifact": %s, "wice": %s}\n' "$m" "$s" "$w" >> "$tmp/modes.jsonl"
done
/usr/bin/python3 tests/bench/peers.py "$DATA/corpus.jsonl" "$Q" "$R" > "$tmp/peers.json"

/usr/bin/python3 - "$tmp" "$start" "$end" <<'PY'
import json, sys
tmp, start, end = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
st = json.load(open(f"{tmp}/stats.json"))
idx_s = end - start
ev = {m: json.load(open(f"{tmp}/eval-{m}.json")) for m in ("bm25", "fts5")}
peers = {p["peer"]: p for p in map(json.loads, open(f"{tmp}/peers.json"))}
print(f"vericite index: {st['documents']} documents, {st['passages']} passages in {idx_s:.2f} s "
      f"({st['documents'] / idx_s:.0f} docs/s), index.db {st['db_bytes'] / 2**20:.1f} MiB")
print()
rows = [("vericite bm25 (default)", ev["bm25"]["ndcg@10"], ev["bm25"]["recall@100"],
         ev["bm25"]["latency_p50_ms"], ev["bm25"]["latency_p99_ms"], idx_s),
        ("vericite --mode fts5", ev["fts5"]["ndcg@10"], ev["fts5"]["recall@100"],
         ev["fts5"]["latency_p50_ms"], ev["fts5"]["latency_p99_ms"], None)]
for name, p in peers.items():
    rows.append((f"peer: {name}", p["ndcg@10"], p["recall@100"], p["latency_p50_ms"],
                 p["latency_p99_ms"], p["index_s"]))
print(f"{'system':<28} {'nDCG@10':>8} {'R@100':>7} {'p50 ms':>8} {'p99 ms':>8} {'index s':>8}")
for r in rows:
    ix = f"{r[5]:8.2f}" if r[5] is not None else f"{'-':>8}"
    print(f"{r[0]:<28} {r[1]:8.4f} {r[2]:7.4f} {r[3]:8.3f} {r[4]:8.3f} {ix}")
print()
v = ev["bm25"]
for name, p in peers.items():
    print(f"ratio vs {name}: latency p50 {v['latency_p50_ms'] / p['latency_p50_ms']:.2f}x, "
          f"p99 {v['latency_p99_ms'] / p['latency_p99_ms']:.2f}x (below 1 = vericite faster); "
          f"nDCG@10 {v['ndcg@10'] - p['ndcg@10']:+.4f}")
print("(latency: time to rank the top 100 documents for one claim, in process; "
      "published SciFact BM25 nDCG@10: 0.665 BEIR, 0.679 Anserini)")
print()
print("== retrieval modes (static GloVe 100d SIF vectors; WiCE: top-1/top-5 = the cited page ranked first/in the top 5)")
print(f"{'mode':<22} {'resolves to':<22} {'SciFact nDCG@10':>15} {'R@100':>7} {'WiCE top-1':>10} {'top-5':>7} {'p50 ms':>7}")
base = None
for line in open(f"{tmp}/modes.jsonl"):
    r = json.loads(line)
    s, w = r["scifact"], r["wice"]
    res = s["mode"] + (f" {s['fusion']} a={s['alpha']:.1f}" if s["mode"] == "hybrid" else "")
    row = (s["ndcg@10"], s["recall@100"], w.get("recall@1", float("nan")), w.get("recall@5", float("nan")))
    if r["mode"] == "bm25":
        base = row
    print(f"{r['mode']:<22} {res:<22} {row[0]:15.4f} {row[1]:7.4f} {row[2]:10.4f} {row[3]:7.4f} {s['latency_p50_ms']:7.2f}")
if base:
    auto = json.loads(open(f"{tmp}/modes.jsonl").readline())
    a = (auto["scifact"]["ndcg@10"], auto["scifact"]["recall@100"], auto["wice"].get("recall@1", 0), auto["wice"].get("recall@5", 0))
    ok = all(x >= y - 1e-9 for x, y in zip(a, base))
    print(f"default (auto) at least as good as bm25 on all four figures: {'yes' if ok else 'NO'}")
PY

# The verifier on the shared dev data: today's figures (main before issue 10, measured by the same
# evaluator: tests/bench/ver_eval_today.txt) beside this build's, cross-validated (5 folds by
# article: each claim is measured by a model fitted without it).
if [ -f "$WICE" ]; then
  echo
  echo "== verifier: WiCE dev (own page vs best-matching wrong page; supported vs rest), Citation-Integrity dev (SUPPORT vs REFUTE), suggestions for wrong citations"
  echo "-- today (tests/bench/ver_eval_today.txt):"
  grep -v '^#' tests/bench/ver_eval_today.txt
  echo "-- this build (build/ver_eval --cv 5 $SHARED/data POOL), claims scored as the audit scores them (with the article title):"
  ./build/ver_eval --cv 5 "$SHARED/data" "$tmp/wice" 2>/dev/null
  echo "-- this build, thresholds fitted for a lower precision of supported (train-verifier --precision P):"
  for p in 0.7 0.6; do
    ./build/ver_eval --cv 5 --precision "$p" "$SHARED/data" "$tmp/wice" 2>/dev/null | sed -n 2p
  done
  echo "-- this build, the sentence alone (--sentence-only, the definition before 2026-12-03):"
  ./build/ver_eval --cv 5 --sentence-only "$SHARED/data" "$tmp/wice" 2>/dev/null | grep -v '^missing parts\|^scorer:'
  echo "(AUC: own vs best-matching wrong page, all / own pages labelled supported / partially supported;"
  echo " bF1: best-threshold F1 of supported vs rest; sF1, Prec: at the shipped threshold;"
  echo " R@1/R@5: the own page first / in the first five suggestions when the citation points elsewhere)"
fi

# FAISS at one million vectors of the default dimension (100): exact against IVF4096,SQ8, on
# low-rank data (a 16-d signal lifted to 100-d, the closest proxy for text embeddings here).
echo
echo "== FAISS: exact vs IVF over 1,000,000 vectors of 100 dimensions (single-query latency)"
OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=1 ./build/faiss_bench -n 1000000 -d 100 -q 500 -l 16 \
  -p 16,32,64 IVF4096,SQ8:160000

# The --vector-index kinds at 384 dimensions (neural-embedding size; low-rank data): exact Flat,
# IVF-flat and IVF-PQ (96 bytes a vector) built with the training rule, nprobe chosen for
# recall@10 >= 0.95 against exact; bytes per vector and how much of the mapped file is resident.
# VC_BENCH_VEC_N=1000000 for the million-vector run (long: IVF-PQ training dominates).
echo
echo "== FAISS: --vector-index kinds over ${VC_BENCH_VEC_N:-100000} vectors of 384 dimensions (recall target 0.95)"
OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=1 ./build/faiss_bench -n "${VC_BENCH_VEC_N:-100000}" -d 384 -l 32 \
  -q 200 -r 0.95

# The HTTP service under load: wrk on loopback, 64 connections.
echo
./tests/bench/serve_bench.sh
echo
./tests/bench/soak.sh                  # slow connections beside normal clients, RSS over 100k requests
./tests/bench/nn_bench.sh              # the in-process transformer runtime vs onnxruntime
./tests/bench/verifier_bench.sh        # audit --verifier (an NLI model) beside the lexical verifier

# BM25 on three Xapian shards on loopback against the local index (its own shards, killed at the end)
echo
./tests/bench/dist_bench.sh

# Pruned BM25 (block-max MaxScore) against the exhaustive path on a generated corpus, same run
# (make bench-prune PRUNE_SIZE=1000000 for the larger sizes)
echo
./tests/bench/prune_bench.sh 100000
