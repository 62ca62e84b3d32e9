#!/usr/bin/env bash
# soak.sh - `vericite serve` under slow clients on loopback (issue 12): 1,100 connections that
# trickle one header byte every 5 s (from 40 loopback addresses, reconnecting whenever the
# server closes them) beside 32 normal keep-alive clients cycling through GET /healthz,
# POST /v1/search and POST /v1/audit for 60 s: the normal clients' p99 and errors (goal: no
# errors, p99 under 100 ms). Then the server's RSS before and after 100,000 more mixed requests.
# The load generator is tests/bench/soak.c (build/soak). Knobs: SOAK_SLOW (1100), SOAK_CLIENTS
# (32), SOAK_SECONDS (60), SOAK_REQUESTS (100000), SOAK_THREADS (server --threads; default 2 x
# cores). Numbers only: nothing here asserts a timing.
set -euo pipefail
cd "$(dirname "$0")/../.."
SLOW=${SOAK_SLOW:-1100}
CLIENTS=${SOAK_CLIENTS:-32}
SECONDS_=${SOAK_SECONDS:-60}
REQUESTS=${SOAK_REQUESTS:-100000}
[ -x ./vericite ] && [ -x ./build/soak ] || { echo "soak: build ./vericite and build/soak first (make bench)"; exit 1; }

tmp=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill -KILL "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# A small corpus (300 documents of glacier and river facts, each with a URL), the requests: a
# third /healthz, a third searches, a third audits of two-ref articles whose refs are corpus URLs
# (resolved from the index, never fetched).
/usr/bin/python3 - "$tmp" <<'PY'
import json, random, sys
tmp = sys.argv[1]
rng = random.Random(12)
things = ["glacier", "river", "lake", "valley", "summit", "forest", "delta", "reef", "dune", "fjord"]
places = ["Aletsch", "Rhine", "Rhone", "Danube", "Etna", "Inn", "Aare", "Po", "Elbe", "Oder"]
verbs = ["lost", "gained", "measured", "covered", "drained", "crossed"]
docs = []
with open(f"{tmp}/corpus.jsonl", "w") as f:
    for i in range(300):
        t, p, v = rng.choice(things), rng.choice(places), rng.choice(verbs)
        n, y = rng.randint(2, 900), rng.randint(1900, 2020)
        text = (f"The {p} {t} {v} about {n} kilometres between {y} and {y + 20}. "
                f"Surveys of the {p} {t} in {y} recorded the change. The {t} lies in the Alps.")
        docs.append((f"https://soak.example/doc/{i}", text))
        f.write(json.dumps({"_id": str(i), "title": f"{p} {t} {i}", "url": docs[-1][0], "text": text}) + "\n")
with open(f"{tmp}/requests.txt", "w") as f:
    for i in range(300):
        url, text = docs[i]
        other = docs[(i * 7 + 3) % 300][0]
        claim = text.split(". ")[0] + "."
        f.write("GET /healthz\n")
        f.write("POST /v1/search " + json.dumps({"query": claim, "k": 10}) + "\n")
        art = f"{claim}<ref>{url}</ref>\n\nThe {rng.choice(things)} lies in the Alps.<ref>{other}</ref>\n"
        f.write("POST /v1/audit " + json.dumps({"text": art, "title": "Soak"}) + "\n")
PY
./vericite index -q --embedder none --db "$tmp/ix" "$tmp/corpus.jsonl"

threads=()
[ -n "${SOAK_THREADS:-}" ] && threads=(--threads "$SOAK_THREADS")
./vericite serve --db "$tmp/ix" --listen 127.0.0.1:0 --offline "${threads[@]}" 2> "$tmp/serve.log" &
pid=$!
port=""
for _ in $(seq 1 300); do
  port=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/serve.log" | head -1)
  [ -n "$port" ] && break
  sleep 0.05
done
[ -n "$port" ] || { echo "soak: the server did not start:"; cat "$tmp/serve.log"; exit 1; }
rss() { awk '/^VmRSS/ {print $2}' "/proc/$pid/status"; }

echo "== soak: vericite serve (defaults: --max-connections 4096, --max-per-ip 64, --header-timeout 10s),"
echo "   $SLOW slow connections + $CLIENTS normal clients for $SECONDS_ s on loopback"
./build/soak "$port" "$tmp/requests.txt" -slow "$SLOW" -ips 40 -trickle 5 -clients "$CLIENTS" -seconds "$SECONDS_" |
  sed 's/^/slow + normal: /'
cut_hdr=$(grep -c 'header not complete' "$tmp/serve.log" || true)
echo "server: $cut_hdr slow connections closed by --header-timeout"
sleep 1
before=$(rss)
./build/soak "$port" "$tmp/requests.txt" -clients "$CLIENTS" -requests "$REQUESTS" | sed 's/^/mixed: /'
after=$(rss)
echo "server RSS: $((before / 1024)) MiB before $REQUESTS mixed requests, $((after / 1024)) MiB after ($(( (after - before) / 1024 )) MiB)"
echo "(goal: no errors and p99 under 100 ms beside the slow connections; RSS flat)"
