#!/usr/bin/env bash
# dist_bench.sh - BM25 on the Xapian remote backend against the local index, on SciFact: three
# `xapian-tcpsrv --writable` shards on loopback (started and killed here), the shared training
# claims evaluated through the shards and through the local postings in the same run (nDCG@10,
# latency p50/p99 of ranking the top 100 documents), then with one shard killed, then with a
# second one hanging (SIGSTOP): how long a search takes to answer around it. Numbers only; nothing
# here asserts a timing. `make bench` runs it (tests/bench/run.sh); alone: tests/bench/dist_bench.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED=${VC_SHARED:-../shared}
DATA=$SHARED/data/scifact
if [ ! -f "$DATA/corpus.jsonl" ]; then
  echo "dist bench: $DATA not found; skipping"
  exit 0
fi
command -v xapian-tcpsrv >/dev/null || { echo "dist bench: xapian-tcpsrv missing (make deps)"; exit 1; }
Q=$DATA/queries_train.jsonl
R=$DATA/qrels_train.tsv
TIMEOUT_MS=${DIST_TIMEOUT_MS:-1000}
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -CONT -- "-$p" 2>/dev/null || true; kill -KILL -- "-$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }

# one shard per folder, each in its own process group (its connection children go with it)
spec="xapian:"
sep=""
for i in 1 2 3; do
  mkdir "$tmp/shard$i"
  port=$(free_port)
  setsid xapian-tcpsrv --quiet --interface 127.0.0.1 --port "$port" --writable "$tmp/shard$i" >/dev/null 2>&1 &
  pids+=($!)
  disown "$!" # no job notices when it is killed
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
  spec+="${sep}127.0.0.1:$port"
  sep=","
done

echo "== Xapian remote backend: SciFact in 3 shards ($spec), remote timeout $TIMEOUT_MS ms"
t0=$(now)
./vericite index -q --db "$tmp/local" --embedder none "$DATA/corpus.jsonl"
t1=$(now)
./vericite index -q --db "$tmp/sf" --embedder none --backend "$spec" --backend-timeout "$TIMEOUT_MS" "$DATA/corpus.jsonl"
t2=$(now)
./vericite eval --db "$tmp/sf" --queries "$Q" --qrels "$R" --json --backend local > "$tmp/local.json"
./vericite eval --db "$tmp/sf" --queries "$Q" --qrels "$R" --json > "$tmp/remote.json"
# the top 10 passages for every claim, one process each way (JSON written, the claims read)
k0=$(now); ./vericite search --db "$tmp/sf" --backend local --queries "$Q" -k 10 --json > /dev/null; k1=$(now)
./vericite search --db "$tmp/sf" --queries "$Q" -k 10 --json > /dev/null; k2=$(now)
claim="Vitamin D deficiency increases the risk of multiple sclerosis"

kill -KILL -- "-${pids[1]}"
./vericite eval --db "$tmp/sf" --queries "$Q" --qrels "$R" --json > "$tmp/dead.json" 2>/dev/null
s0=$(now); ./vericite search --db "$tmp/sf" "$claim" >/dev/null 2>&1; s1=$(now)

kill -STOP -- "-${pids[2]}"
s2=$(now); ./vericite search --db "$tmp/sf" --json "$claim" > "$tmp/hung.json" 2>/dev/null; s3=$(now)
kill -CONT -- "-${pids[2]}"

/usr/bin/python3 - "$tmp" "$t0" "$t1" "$t2" "$s0" "$s1" "$s2" "$s3" "$k0" "$k1" "$k2" "$Q" <<'PY'
import json, sys
tmp = sys.argv[1]
t0, t1, t2, s0, s1, s2, s3, k0, k1, k2 = map(float, sys.argv[2:12])
ev = {k: json.load(open(f"{tmp}/{k}.json")) for k in ("local", "remote", "dead")}
print(f"index (no vectors): local {t1 - t0:.2f} s, with the 3 shards (terms sent after the commit) {t2 - t1:.2f} s")
print(f"{'BM25 over':<34} {'nDCG@10':>8} {'R@100':>7} {'p50 ms':>8} {'p99 ms':>8}")
rows = [("local postings (--backend local)", ev["local"]), ("3 Xapian shards", ev["remote"]),
        ("2 shards live, shard 2 killed", ev["dead"])]
for name, e in rows:
    print(f"{name:<34} {e['ndcg@10']:8.4f} {e['recall@100']:7.4f} {e['latency_p50_ms']:8.3f} {e['latency_p99_ms']:8.3f}")
nq = sum(1 for _ in open(sys.argv[12]))
print(f"top 10 passages per claim (search --queries, all {nq} claims, one process): local "
      f"{(k1 - k0) / nq * 1e3:.2f} ms, 3 shards {(k2 - k1) / nq * 1e3:.2f} ms per claim on average")
print(f"nDCG@10 3 shards - local: {ev['remote']['ndcg@10'] - ev['local']['ndcg@10']:+.4f} (the test's bar: 0.02)")
print(f"degraded queries with shard 2 killed: {ev['dead'].get('degraded_queries', 0)} of {ev['dead']['queries']}")
hung = json.load(open(f"{tmp}/hung.json"))
print(f"one search (a new process), shard 2 killed: {(s1 - s0) * 1e3:.0f} ms; "
      f"shard 2 killed and shard 3 hanging: {(s3 - s2) * 1e3:.0f} ms, "
      f"{len(hung['hits'])} hits from {hung['backend']['live']} shard(s)")
print("(latency: ranking the top 100 documents for one claim, in process: the backend is asked for "
      "the best 8k+32 = 832 passages)")
PY
