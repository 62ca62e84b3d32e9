#!/bin/bash
# scale_bench.sh - `make bench-scale` (not in CI): vericite at 1M, 3M, 10M passages against
# Xapian on the same generated corpus, in the same run.
#
# usage: tests/bench/scale_bench.sh [SIZE...]     SIZE: 1M, 3M, 10M, 300k, ... (default 1M)
#
# Per size: a generated Zipfian corpus with SciFact mixed in (tests/bench/scale_gen.py), then
#   build     `vericite index --embedder none`: seconds, peak RSS, peak disk of the index folder
#             and peak WAL (sampled every 0.5 s) against the final size, bytes per passage
#   bm25      `vericite eval --mode bm25`: p50/p99 ms and nDCG@10 on the SciFact training claims,
#             p50/p99 on 200 generated queries
#   replace   500 changed documents re-indexed (tombstones), and with BASE the same on a copy
#             of the index before (today's path, rewriting postings)
#   audit     a 604-citation article (claims JSON Lines, --offline): seconds, and with BASE
#   hybrid    up to HYBRID_MAX passages: static vectors added to the index (--reembed; kind from
#             HYBRID_FAISS, default auto), eval --mode hybrid and dense
#   serve     on that index (SERVE_SHARE=0 skips): serve --threads 1 and 4 under dense searches from
#             4 clients, RSS, anonymous memory and the mappings of vectors.faiss
#             (tests/bench/serve_share.py): one copy of the vectors per process
#   xapian    tests/bench/scale_xapian.py (python3-xapian) under XAPIAN_LIMIT seconds
#   mwxml     the generated MediaWiki dump (DUMP_MAX pages) indexed end to end
# Everything lands in WORK (default /tmp/vc-scale, removed per size unless KEEP=1); the figures
# are printed and appended to WORK/results.txt.
#
# environment: VC=the vericite binary measured (default ./vericite); BASE=another vericite
# binary to compare replace and audit against (e.g. one built from main before tombstones);
# XAPIAN_LIMIT (default 1800 s; 0 skips); HYBRID_MAX (default
# 1000000; 0 skips); DUMP_MAX (default 100000 pages; 0 skips); ONE_TX=1 also builds in one
# transaction (--commit-every 0: the peak disk of today's default).
set -uo pipefail
cd "$(dirname "$0")/../.."
VC=${VC:-$PWD/vericite}
SF=${SF:-../shared/data/scifact}
WORK=${WORK:-/tmp/vc-scale}
XAPIAN_LIMIT=${XAPIAN_LIMIT:-1800}
HYBRID_MAX=${HYBRID_MAX:-1000000}
export DUMP_MAX=${DUMP_MAX:-100000}
BASE=${BASE:-}
[ -x "$VC" ] || { echo "scale_bench: build vericite first (make)" >&2; exit 2; }
[ -f "$SF/corpus.jsonl" ] || { echo "scale_bench: $SF/corpus.jsonl missing (shared dev data)" >&2; exit 2; }
mkdir -p "$WORK"
RES=$WORK/results.txt

say() { echo "$*" | tee -a "$RES"; }

# measure NAME DIR CMD...: run CMD, sampling DIR's size and DIR/index.db-wal every 0.5 s; sets
# M_S (seconds), M_RSS (peak KiB), M_DISK (peak bytes), M_WAL (peak WAL bytes), M_RC.
measure() {
    local dir=$1; shift
    local tf=$WORK/.time samp=$WORK/.samp
    : >"$samp"
    /usr/bin/time -f "%e %M" -o "$tf" "$@" &
    local pid=$! max=0 wal=0 s w
    while kill -0 $pid 2>/dev/null; do
        s=$(du -sb "$dir" 2>/dev/null | cut -f1); s=${s:-0}
        w=$(stat -c %s "$dir/index.db-wal" 2>/dev/null || echo 0)
        [ "$s" -gt "$max" ] && max=$s
        [ "$w" -gt "$wal" ] && wal=$w
        sleep 0.5
    done
    wait $pid; M_RC=$?
    read -r M_S M_RSS <"$tf" || true
    M_DISK=$max M_WAL=$wal
}

mb() { awk -v b="$1" 'BEGIN { printf "%.0f MB", b / 1e6 }'; }
jget() { python3 -c "import json,sys; d=json.load(sys.stdin); print(d.get('$1', ''))"; }

bench_size() {
    local label=$1 n
    case $label in
        *M) n=$(( ${label%M} * 1000000 )) ;;
        *k) n=$(( ${label%k} * 1000 )) ;;
        *) n=$label ;;
    esac
    local W=$WORK/$label
    rm -rf "$W"; mkdir -p "$W"
    say "== $label passages ($(date -u +%FT%TZ), $(nproc) cores)"
    local t0=$SECONDS
    python3 tests/bench/scale_gen.py "$n" "$W" "$SF/corpus.jsonl" || return 1
    say "corpus: $(wc -l <"$W/corpus.jsonl") documents, $(mb "$(stat -c %s "$W/corpus.jsonl")") JSONL (generated in $((SECONDS - t0)) s)"

    # build
    measure "$W/ix" "$VC" index -q --embedder none --db "$W/ix" "$W/corpus.jsonl"
    local final; final=$(du -sb "$W/ix" | cut -f1)
    local st; st=$("$VC" stats --db "$W/ix" --json)
    say "build: ${M_S} s (rc $M_RC), peak RSS $((M_RSS / 1024)) MB, final $(mb "$final"), peak disk $(mb "$M_DISK") ($(awk -v a="$M_DISK" -v b="$final" 'BEGIN{printf "%.2f", a/b}')x final), peak WAL $(mb "$M_WAL"), $(echo "$st" | jget passages) passages, $(echo "$st" | jget bytes_per_passage | cut -d. -f1) bytes/passage"
    if [ "${ONE_TX:-0}" = 1 ]; then
        measure "$W/ix1" "$VC" index -q --embedder none --commit-every 0 --db "$W/ix1" "$W/corpus.jsonl"
        say "build, one transaction (--commit-every 0): ${M_S} s, peak disk $(mb "$M_DISK") ($(awk -v a="$M_DISK" -v b="$(du -sb "$W/ix1" | cut -f1)" 'BEGIN{printf "%.2f", a/b}')x final), peak WAL $(mb "$M_WAL")"
        rm -rf "$W/ix1"
    fi

    # BM25 latency and quality
    local e
    e=$("$VC" eval --db "$W/ix" --queries "$SF/queries_train.jsonl" --qrels "$SF/qrels_train.tsv" --mode bm25 --json)
    say "bm25 SciFact claims: nDCG@10 $(echo "$e" | jget ndcg@10 | cut -c1-6), p50 $(echo "$e" | jget latency_p50_ms | cut -c1-6) ms, p99 $(echo "$e" | jget latency_p99_ms | cut -c1-6) ms"
    e=$("$VC" eval --db "$W/ix" --queries "$W/queries.jsonl" --qrels "$W/qrels.tsv" --mode bm25 --json)
    say "bm25 generated queries: p50 $(echo "$e" | jget latency_p50_ms | cut -c1-6) ms, p99 $(echo "$e" | jget latency_p99_ms | cut -c1-6) ms"

    # audit of a 604-citation article: the URL lookups
    /usr/bin/time -f "%e" -o "$W/.t" "$VC" audit --db "$W/ix" --offline --json "$W/claims.jsonl" >/dev/null 2>&1
    say "audit 604 citations (--offline): $(cat "$W/.t") s"
    /usr/bin/time -f "%e" -o "$W/.t" "$VC" audit --db "$W/ix" --offline --suggest none --json "$W/claims.jsonl" >/dev/null 2>&1
    say "  without suggestions (--suggest none): $(cat "$W/.t") s"

    # replace 500 documents: tombstones, against today's path on a copy made before
    if [ -n "$BASE" ]; then cp -a "$W/ix" "$W/ix-base"; fi
    /usr/bin/time -f "%e" -o "$W/.t" "$VC" index -q --embedder none --db "$W/ix" "$W/replace.jsonl"
    local rnew; rnew=$(cat "$W/.t")
    if [ -n "$BASE" ]; then
        /usr/bin/time -f "%e" -o "$W/.t" "$BASE" audit --db "$W/ix-base" --offline --json "$W/claims.jsonl" >/dev/null 2>&1
        say "audit 604 citations, BASE ($BASE): $(cat "$W/.t") s"
        /usr/bin/time -f "%e" -o "$W/.t" "$BASE" audit --db "$W/ix-base" --offline --suggest none --json "$W/claims.jsonl" >/dev/null 2>&1
        say "  BASE without suggestions: $(cat "$W/.t") s"
        /usr/bin/time -f "%e" -o "$W/.t" "$BASE" index -q --embedder none --db "$W/ix-base" "$W/replace.jsonl"
        say "replace 500 documents: ${rnew} s (tombstones); BASE $(cat "$W/.t") s (rewriting postings)"
        local a b
        a=$("$VC" eval --db "$W/ix" --queries "$SF/queries_train.jsonl" --qrels "$SF/qrels_train.tsv" --mode bm25 --json | jget ndcg@10)
        b=$("$VC" eval --db "$W/ix-base" --queries "$SF/queries_train.jsonl" --qrels "$SF/qrels_train.tsv" --mode bm25 --json | jget ndcg@10)
        say "  nDCG@10 after the replace: tombstones $a, BASE-rewritten $b"
        rm -rf "$W/ix-base"
    else
        say "replace 500 documents: ${rnew} s (tombstones; set BASE for today's path)"
    fi
    /usr/bin/time -f "%e" -o "$W/.t" "$VC" index -q --db "$W/ix" --optimize
    say "optimize (merge the tombstones): $(cat "$W/.t") s"

    # hybrid: static vectors added to the BM25 index just measured (--reembed), so the BM25 part
    # is not built twice; HYBRID_FAISS overrides the vector index kind (a FAISS factory string)
    if [ "$HYBRID_MAX" -gt 0 ] && [ "$n" -le "$HYBRID_MAX" ]; then
        local fx=()
        [ -n "${HYBRID_FAISS:-}" ] && fx=(--faiss "$HYBRID_FAISS")
        measure "$W/ix" "$VC" index -q --embedder static --reembed "${fx[@]}" --db "$W/ix"
        say "static vectors added (--reembed${HYBRID_FAISS:+ --faiss $HYBRID_FAISS}): ${M_S} s (rc $M_RC), peak RSS $((M_RSS / 1024)) MB, vectors.faiss $(mb "$(stat -c %s "$W/ix/vectors.faiss" 2>/dev/null || echo 0)"), index now $(mb "$(du -sb "$W/ix" | cut -f1)")"
        e=$("$VC" eval --db "$W/ix" --queries "$SF/queries_train.jsonl" --qrels "$SF/qrels_train.tsv" --mode hybrid --json)
        say "hybrid SciFact claims: nDCG@10 $(echo "$e" | jget ndcg@10 | cut -c1-6), p50 $(echo "$e" | jget latency_p50_ms | cut -c1-6) ms, p99 $(echo "$e" | jget latency_p99_ms | cut -c1-6) ms"
        e=$("$VC" eval --db "$W/ix" --queries "$SF/queries_train.jsonl" --qrels "$SF/qrels_train.tsv" --mode dense --json)
        say "dense SciFact claims: nDCG@10 $(echo "$e" | jget ndcg@10 | cut -c1-6), p50 $(echo "$e" | jget latency_p50_ms | cut -c1-6) ms, p99 $(echo "$e" | jget latency_p99_ms | cut -c1-6) ms"
        e=$("$VC" eval --db "$W/ix" --queries "$W/queries.jsonl" --qrels "$W/qrels.tsv" --mode hybrid --json)
        say "hybrid generated queries: p50 $(echo "$e" | jget latency_p50_ms | cut -c1-6) ms, p99 $(echo "$e" | jget latency_p99_ms | cut -c1-6) ms"
        # serve: one copy of the vectors per process, whatever the worker count
        if [ "${SERVE_SHARE:-1}" = 1 ]; then
            /usr/bin/python3 tests/bench/serve_share.py "$VC" "$W/ix" "$SF/queries_train.jsonl" 1 4 |
                while read -r l; do
                    say "$(echo "$l" | jget summary)"
                done
        fi
    fi

    # MediaWiki dump end to end
    if [ "$DUMP_MAX" -gt 0 ]; then
        measure "$W/ixw" "$VC" index -q --embedder none --db "$W/ixw" "$W/dump.xml"
        say "mwxml dump ($(mb "$(stat -c %s "$W/dump.xml")"), $("$VC" stats --db "$W/ixw" --json | jget passages) passages): ${M_S} s (rc $M_RC), peak disk $(mb "$M_DISK"), final $(mb "$(du -sb "$W/ixw" | cut -f1)")"
        rm -rf "$W/ixw"
    fi

    # Xapian on the same corpus
    if [ "$XAPIAN_LIMIT" -gt 0 ]; then
        if /usr/bin/python3 -c "import xapian" 2>/dev/null; then
            local out
            out=$(timeout "$XAPIAN_LIMIT" /usr/bin/python3 tests/bench/scale_xapian.py "$W/corpus.jsonl" "$W/xap" \
                  "$SF/queries_train.jsonl" "$SF/qrels_train.tsv" "$W/queries.jsonl" "$W/qrels.tsv")
            if [ -n "$out" ]; then
                say "xapian: $(echo "$out" | head -1 | jget index_s) s to index, $(mb "$(du -sb "$W/xap" | cut -f1)")"
                echo "$out" | while read -r l; do
                    say "  xapian $(basename "$(echo "$l" | jget set)"): nDCG@10 $(echo "$l" | jget ndcg@10), p50 $(echo "$l" | jget latency_p50_ms) ms, p99 $(echo "$l" | jget latency_p99_ms) ms"
                done
            else
                say "xapian: did not finish in ${XAPIAN_LIMIT} s"
            fi
        else
            say "xapian: python3-xapian missing (make bench-deps)"
        fi
    fi
    [ "${KEEP:-0}" = 1 ] || rm -rf "$W"
    say "($label done in $((SECONDS - t0)) s)"
}

[ $# -gt 0 ] || set -- 1M
for size in "$@"; do bench_size "$size"; done
