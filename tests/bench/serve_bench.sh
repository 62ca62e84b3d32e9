#!/usr/bin/env bash
# serve_bench.sh - loopback load test of `vericite serve` on the shared SciFact corpus with wrk:
# POST /v1/search cycling through the SciFact training claims, then POST /v1/audit of small
# wikitext articles whose refs point at corpus documents (resolved from the index, never fetched).
# Prints requests/s, p50/p99 latency and errors per endpoint; exits 1 when any request failed.
# Knobs: SERVE_BENCH_CONN (64), SERVE_BENCH_SEARCH_S (30), SERVE_BENCH_AUDIT_S (15),
# SERVE_BENCH_THREADS (server --threads; default 2 x cores), VC_SHARED (../shared).
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED=${VC_SHARED:-../shared}
DATA=$SHARED/data/scifact
CONN=${SERVE_BENCH_CONN:-64}
SEARCH_S=${SERVE_BENCH_SEARCH_S:-30}
AUDIT_S=${SERVE_BENCH_AUDIT_S:-15}
if [ ! -f "$DATA/corpus.jsonl" ]; then
  echo "serve bench: $DATA not found (the shared data sets live beside the repository); skipping"
  exit 0
fi
if ! command -v wrk >/dev/null 2>&1; then
  echo "serve bench: wrk is not installed (Debian package wrk; make bench-deps); skipping"
  exit 0
fi
[ -x ./vericite ] || { echo "serve bench: build ./vericite first (make)"; exit 1; }

tmp=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill -KILL "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# The corpus with a url per document (SciFact has none), the search bodies, the audit articles,
# and the wrk scripts that cycle through them.
/usr/bin/python3 - "$DATA" "$tmp" <<'PY'
import json, sys
data, tmp = sys.argv[1], sys.argv[2]
url = lambda i: f"https://scifact.example/doc/{i}"
titles = {}
with open(f"{data}/corpus.jsonl") as f, open(f"{tmp}/corpus.jsonl", "w") as out:
    for line in f:
        d = json.loads(line)
        d["url"] = url(d["_id"])
        titles[d["_id"]] = d.get("title", "")
        out.write(json.dumps(d) + "\n")
claims = {}
with open(f"{data}/queries_train.jsonl") as f:
    for line in f:
        q = json.loads(line)
        claims[q["_id"]] = q["text"]
rel = {}
with open(f"{data}/qrels_train.tsv") as f:
    next(f)
    for line in f:
        qid, did, score = line.rstrip("\n").split("\t")[:3]
        if int(score) > 0 and did in titles:
            rel.setdefault(qid, did)

def lua_str(s):
    b = s.encode("utf-8")
    return '"' + "".join(chr(c) if 32 <= c < 127 and c not in (34, 92) else f"\\{c:03d}" for c in b) + '"'

def script(path, bodies):
    with open(path, "w") as f:
        f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n')
        f.write("local bodies = {\n" + ",\n".join(lua_str(b) for b in bodies) + "\n}\n")
        f.write("""local i = 0
local nthreads = 0
function setup(thread) nthreads = nthreads + 1; thread:set("start", nthreads * 97) end
function init(args) i = (start or 0) % #bodies end
function request()
  i = i % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[i])
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('RESULT {"requests": %d, "duration_us": %d, "socket_errors": %d, "status_errors": %d, "p50_us": %d, "p99_us": %d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99)))
end
""")

search = [json.dumps({"query": t, "k": 10}) for t in claims.values()]
script(f"{tmp}/search.lua", search)
# articles of 5 claims, each citing its judged abstract (or, for every third, another claim's)
ids = [q for q in claims if q in rel]
arts = []
for a in range(0, len(ids) - 5, 5):
    parts = []
    for j, q in enumerate(ids[a:a + 5]):
        cited = rel[q] if j % 3 else rel[ids[(a + j + 7) % len(ids)]]
        parts.append(f"{claims[q]}<ref>{{{{cite journal |url={url(cited)} |title={titles[cited][:80]}}}}}</ref>")
    arts.append(json.dumps({"text": "\n\n".join(parts) + "\n", "format": "wikitext",
                            "title": f"SciFact claims {a // 5 + 1}"}))
script(f"{tmp}/audit.lua", arts)
with open(f"{tmp}/one-search.json", "w") as f: f.write(search[0])
with open(f"{tmp}/one-audit.json", "w") as f: f.write(arts[0])
print(f"serve bench: {len(titles)} abstracts, {len(search)} search bodies, {len(arts)} articles of 5 citations",
      file=sys.stderr)
PY

./vericite index -q --embedder none --db "$tmp/sf" "$tmp/corpus.jsonl"
targs=()
[ -n "${SERVE_BENCH_THREADS:-}" ] && targs=(--threads "$SERVE_BENCH_THREADS")
./vericite serve --db "$tmp/sf" --listen 127.0.0.1:0 --offline "${targs[@]}" 2> "$tmp/serve.log" &
pid=$!
port=""
for _ in $(seq 1 500); do
  port=$(sed -n 's/^listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/serve.log" | head -n 1)
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$tmp/serve.log"; exit 1; }
  sleep 0.02
done
[ -n "$port" ] || { echo "serve bench: the server did not start"; cat "$tmp/serve.log"; exit 1; }
B=http://127.0.0.1:$port
head -n 1 "$tmp/serve.log"

# one of each first: 200s with real content
for ep in search audit; do
  code=$(curl -s -o "$tmp/one-$ep.out" -w '%{http_code}' -H 'Content-Type: application/json' \
         --data-binary @"$tmp/one-$ep.json" "$B/v1/$ep")
  [ "$code" = 200 ] || { echo "serve bench: /v1/$ep answered $code: $(cat "$tmp/one-$ep.out")"; exit 1; }
done
/usr/bin/python3 - "$tmp" <<'PY'
import json, sys, collections
tmp = sys.argv[1]
s = json.load(open(f"{tmp}/one-search.out"))
a = json.load(open(f"{tmp}/one-audit.out"))
v = collections.Counter(r["verdict"] for r in a["results"])
src = collections.Counter(r["source"] for r in a["results"])
print(f"sample: search {len(s['hits'])} hits; audit {len(a['results'])} citations "
      f"({', '.join(f'{n} {k}' for k, n in v.items())}; sources {dict(src)})")
PY

wthreads=$(nproc); [ "$wthreads" -gt 4 ] && wthreads=4
run() { # name seconds script
  wrk -t "$wthreads" -c "$CONN" -d "${2}s" --timeout 10s -s "$3" "$B/v1/$1" > "$tmp/wrk-$1.txt" 2>&1 || true
  sed -n 's/^RESULT //p' "$tmp/wrk-$1.txt" > "$tmp/res-$1.json"
  [ -s "$tmp/res-$1.json" ] || { echo "serve bench: wrk failed:"; cat "$tmp/wrk-$1.txt"; exit 1; }
}
run search "$SEARCH_S" "$tmp/search.lua"
run audit "$AUDIT_S" "$tmp/audit.lua"

# a clean stop after the load: SIGTERM, exit 0
kill -TERM "$pid"
st=0
wait "$pid" || st=$?
pid=""
lines=$(grep -c ' POST /v1/' "$tmp/serve.log" || true)

/usr/bin/python3 - "$tmp" "$CONN" "$st" "$lines" "$(nproc)" <<'PY'
import json, sys
tmp, conn, st, lines, cores = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
print(f"\nloopback, {conn} connections, wrk and the server sharing {cores} cores; access log on")
print(f"{'endpoint':<16} {'secs':>5} {'requests':>9} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
bad = 0
for ep in ("search", "audit"):
    r = json.load(open(f"{tmp}/res-{ep}.json"))
    secs = r["duration_us"] / 1e6
    errs = r["socket_errors"] + r["status_errors"]
    bad += errs
    print(f"POST /v1/{ep:<7} {secs:5.0f} {r['requests']:9d} {r['requests'] / secs:9.1f} "
          f"{r['p50_us'] / 1e3:8.2f} {r['p99_us'] / 1e3:8.2f} {errs:7d}")
print(f"server: exit {st} after SIGTERM, {lines} access-log lines")
sys.exit(1 if bad or st else 0)
PY
