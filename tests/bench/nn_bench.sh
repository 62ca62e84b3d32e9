#!/usr/bin/env bash
# nn_bench.sh - the in-process transformer runtime (index/nn/) against onnxruntime, same model, same
# inputs, same run: a random-weight model of all-MiniLM-L6-v2's shape (6 layers, hidden 384, 12
# heads, FFN 1536, vocabulary 30,522, 512 positions, sentences truncated at 256 tokens) embeds
# SciFact passages on $NN_BENCH_THREADS threads (default 2): passages/s, single-query latency
# (p50/p99 over SciFact claims), peak RSS; then a cross-encoder of the same shape reranks 100
# candidates per claim: ms per query. Both runtimes get the same token ids (vericite's tokenizer);
# the times are forward passes only. onnxruntime runs an ONNX export of the same PyTorch reference
# graph that tests/test_nn.c checks vericite against (tests/nn/hfmodel.py onnx), batches padded to
# their longest input, graph optimisations on, intra-op threads = the same thread count.
# Needs /usr/bin/python3 with torch (tests/nn/deps.sh) and npm (onnxruntime-node is installed, once,
# into ${VERICITE_NPM_DIR:-~/.cache/vericite/npm}/nn_bench). Numbers only; nothing is asserted.
#   NN_BENCH_PASSAGES (500)  NN_BENCH_QUERIES (200)  NN_BENCH_RERANK (5 claims x 100)
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED=${VC_SHARED:-../shared}
DATA=$SHARED/data/scifact
NP=${NN_BENCH_PASSAGES:-500}
NQ=${NN_BENCH_QUERIES:-200}
NR=${NN_BENCH_RERANK:-5}
TH=${NN_BENCH_THREADS:-2}
if [ ! -f "$DATA/corpus.jsonl" ]; then
  echo "nn bench: $DATA not found; skipping"
  exit 0
fi
if ! /usr/bin/python3 -c 'import torch, onnx' 2>/dev/null; then
  echo "nn bench: /usr/bin/python3 lacks torch or onnx (tests/nn/deps.sh); skipping"
  exit 0
fi
ORT=${VERICITE_NPM_DIR:-$HOME/.cache/vericite/npm}/nn_bench
if [ ! -f "$ORT/node_modules/onnxruntime-node/package.json" ]; then
  command -v npm >/dev/null 2>&1 || { echo "nn bench: npm not found; skipping"; exit 0; }
  mkdir -p "$ORT"
  # --ignore-scripts: the package's install script only fetches GPU providers (not used here)
  npm install --prefix "$ORT" --ignore-scripts --no-audit --no-fund --loglevel=error onnxruntime-node@1.30.0 >/dev/null
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
PY="/usr/bin/python3 tests/nn/hfmodel.py"
SHAPE="--layers 6 --hidden 384 --heads 12 --inter 1536 --max-pos 512 --max-seq 256 --vocab 30522 --vocab-from $DATA/corpus.jsonl"
echo; echo "== neural models: all-MiniLM-L6-v2's shape, random weights; $TH threads; $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
$PY gen "$tmp/enc" $SHAPE --pool mean --normalize
$PY gen "$tmp/ce" $SHAPE --head classifier --labels LABEL_0 --seed 2
./vericite model import "$tmp/enc" "$tmp/enc.vcnn" 2>/dev/null
./vericite model import "$tmp/ce" "$tmp/ce.vcnn" 2>/dev/null
$PY onnx "$tmp/enc" "$tmp/enc.onnx" 2>/dev/null
$PY onnx "$tmp/ce" "$tmp/ce.onnx" 2>/dev/null

# inputs: passages (title + abstract), claims, (claim, passage) pairs; token ids from vericite
/usr/bin/python3 - "$DATA" "$tmp" "$NP" "$NQ" "$NR" <<'PY'
import json, sys
data, tmp, np_, nq, nr = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
clean = lambda s: " ".join(s.split())
docs = [json.loads(l) for _, l in zip(range(max(np_, 100)), open(f"{data}/corpus.jsonl"))]
passages = [clean(d["title"] + " " + d["text"]) for d in docs]
claims = [clean(json.loads(l)["text"]) for _, l in zip(range(max(nq, nr)), open(f"{data}/queries_train.jsonl"))]
open(f"{tmp}/passages.txt", "w").write("\n".join(passages[:np_]) + "\n")
open(f"{tmp}/claims.txt", "w").write("\n".join(claims[:nq]) + "\n")
open(f"{tmp}/pairs.txt", "w").write("".join(f"{c}\t{p}\n" for c in claims[:nr] for p in passages[:100]))
PY
ids() { /usr/bin/python3 -c 'import json,sys
for l in sys.stdin: print(json.dumps({"ids": json.loads(l)["tokens"], "types": json.loads(l).get("types")}))'; }
# the text path end to end (tokenizer + forward + JSON out), and the ids both runtimes then get
/usr/bin/time -f %e -o "$tmp/text.s" ./vericite model run "$tmp/enc.vcnn" --threads "$TH" < "$tmp/passages.txt" > "$tmp/p.out"
ids < "$tmp/p.out" > "$tmp/p.ids"
./vericite model run "$tmp/enc.vcnn" < "$tmp/claims.txt" | ids > "$tmp/q.ids"
# pairs: vericite prints no types, so rebuild them from the [SEP] after the claim
./vericite model run "$tmp/ce.vcnn" --pairs --max-len 256 < "$tmp/pairs.txt" | /usr/bin/python3 -c 'import json,sys
for l in sys.stdin:
    t = json.loads(l)["tokens"]; k = t.index(t[-1]) + 1
    print(json.dumps({"ids": t, "types": [0] * k + [1] * (len(t) - k)}))' > "$tmp/r.ids"

run_vc() { # name model ids batch
  /usr/bin/time -f %M -o "$tmp/$1.rss" ./vericite model run "$2" --ids --threads "$TH" --batch "$4" --stats \
    < "$3" > "$tmp/$1.out" 2> "$tmp/$1.err"
}
run_ort() {
  /usr/bin/time -f %M -o "$tmp/$1.rss" node tests/bench/nn_ort.js "$ORT" "$2" "$3" "$4" "$TH" "$tmp/$1.out" > "$tmp/$1.json"
}
run_vc vc_p "$tmp/enc.vcnn" "$tmp/p.ids" 32
run_ort ort_p "$tmp/enc.onnx" "$tmp/p.ids" 32
run_vc vc_q "$tmp/enc.vcnn" "$tmp/q.ids" 1
run_ort ort_q "$tmp/enc.onnx" "$tmp/q.ids" 1
run_vc vc_r "$tmp/ce.vcnn" "$tmp/r.ids" 100
run_ort ort_r "$tmp/ce.onnx" "$tmp/r.ids" 100

/usr/bin/python3 - "$tmp" <<'PY'
import json, re, sys
tmp = sys.argv[1]
def vc(name):
    s = open(f"{tmp}/{name}.err").read()
    m = re.search(r"stats: (\d+) inputs, (\d+) tokens, forward ([\d.]+) s: ([\d.]+) inputs/s.*p50 ([\d.]+) ms, p99 ([\d.]+) ms", s)
    n, tok, sec, rate, p50, p99 = m.groups()
    return dict(inputs=int(n), tokens=int(tok), seconds=float(sec), rate=float(rate), p50=float(p50), p99=float(p99))
def ort(name):
    o = json.loads(open(f"{tmp}/{name}.json").read())
    return dict(inputs=o["inputs"], tokens=o["tokens"], seconds=o["seconds"], rate=o["inputs_per_s"], p50=o["p50_ms"], p99=o["p99_ms"])
rss = lambda name: int(open(f"{tmp}/{name}.rss").read().split()[-1]) / 1024
def diff(a, b, key):
    x = [json.loads(l)[key] for l in open(f"{tmp}/{a}.out")]
    y = [json.loads(l)["out"] for l in open(f"{tmp}/{b}.out")]
    return max(abs(p - q) for u, v in zip(x, y) for p, q in zip(u, v))
P, OP, Q, OQ, R, OR = vc("vc_p"), ort("ort_p"), vc("vc_q"), ort("ort_q"), vc("vc_r"), ort("ort_r")
text_s = float(open(f"{tmp}/text.s").read())
print(f"passages: {P['inputs']} SciFact abstracts, {P['tokens']} tokens ({P['tokens'] / P['inputs']:.0f} per passage), batches of 32")
print(f"{'runtime':<22} {'passages/s':>10} {'tokens/s':>9} {'query p50 ms':>12} {'p99 ms':>8} {'peak RSS MiB':>12} {'rerank ms/query':>15}")
for name, p, q, r, k in (("vericite (index/nn)", P, Q, R, "vc"), ("onnxruntime 1.30", OP, OQ, OR, "ort")):
    print(f"{name:<22} {p['rate']:10.1f} {p['tokens'] / p['seconds']:9.0f} {q['p50']:12.2f} {q['p99']:8.2f} "
          f"{rss(k + '_p'):12.0f} {r['p50']:15.0f}")
print(f"ratio vericite / onnxruntime: throughput {P['rate'] / OP['rate']:.2f}x (above 1 = vericite faster), "
      f"query p50 {Q['p50'] / OQ['p50']:.2f}x, rerank {R['p50'] / OR['p50']:.2f}x (below 1 = vericite faster)")
print(f"vericite text in (tokenizer + forward + JSON out): {P['inputs'] / text_s:.1f} passages/s; "
      f"rerank: {R['inputs']} pairs of at most 256 tokens in batches of 100 = one query each")
print(f"agreement with onnxruntime (max abs diff): embeddings {diff('vc_p', 'ort_p', 'embedding'):.2g}, "
      f"rerank logits {diff('vc_r', 'ort_r', 'logits'):.2g}")
PY
