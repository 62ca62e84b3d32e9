#!/usr/bin/env bash
# run.sh - runs every libFuzzer target in build-fuzz/ (built by `make fuzz-build`) for a fixed time
# each, from seeds this script writes (nothing copied in), with inputs up to FUZZ_MAX_LEN bytes,
# then prints one table: target, executions, exec/s, findings (crash-, leak-, timeout-, oom-
# files). Exits 1 when anything was found.
#   usage: tests/fuzz/run.sh [fuzz_target ...]        (default: every build-fuzz/fuzz_*)
#   FUZZ_TIME     seconds per target (default 60)
#   FUZZ_MAX_LEN  largest input in bytes (default 1048576)
#   FUZZ_OUT      work folder: seeds, grown corpora, logs, findings (default build-fuzz/run);
#                 corpora are kept between runs, so a second run goes on where the first stopped
set -u
cd "$(dirname "$0")/../.."
TIME=${FUZZ_TIME:-60}
MAX_LEN=${FUZZ_MAX_LEN:-1048576}
OUT=${FUZZ_OUT:-build-fuzz/run}
mkdir -p "$OUT/seeds" "$OUT/corpus" "$OUT/logs" "$OUT/findings" "$OUT/tmp"
OUT=$(cd "$OUT" && pwd)

if [ $# -gt 0 ]; then targets=("$@"); else
    targets=()
    for b in build-fuzz/fuzz_*; do [ -x "$b" ] && targets+=("$(basename "$b")"); done
fi
[ ${#targets[@]} -gt 0 ] || { echo "run.sh: no fuzz targets in build-fuzz/ (make fuzz-build)" >&2; exit 2; }

# ------------------------------------------------------------------ seeds (generated here)
py() { python3 - "$@"; }

seed_common() { # $1: folder
    printf 'The Aletsch Glacier lost 1.3 km.<ref>{{cite web |url=https://example.org/glaciers |title=G}}</ref>\n' >"$1/wiki"
    printf '{"_id": "a", "title": "T", "text": "Some text.", "url": "https://example.org/a"}\n' >"$1/jsonl"
    printf '<html><head><title>T</title></head><body><p>Hello &amp; <b>bold</b></p></body></html>' >"$1/html"
}

seed_html() { # attribute-heavy pages and markup that hides tags
    py "$1" <<'EOF'
import sys, os
d = sys.argv[1]
def w(name, s):
    open(os.path.join(d, name), 'wb').write(s if isinstance(s, bytes) else s.encode())
w('attrs100k', '<p ' + ' '.join('attr%d' % i for i in range(100000)) + '>text</p>')  # about 1 MB
for n in (64, 65, 300, 3000):  # small ones too, so that mutations are not all of 1 MB inputs
    w('attrs%d' % n, '<p ' + ' '.join('a%d="%d"' % (i, i) for i in range(n)) + ' hidden>text</p><i>after</i>')
w('attrs_dup', '<div ' + ' '.join('x="1"' for _ in range(6000)) + '>dup</div>')
w('attrs_noblank', '<b ' + ''.join('a%d="v"' % i for i in range(5000)) + '>nb</b>')
w('attrs_longname', '<i ' + 'a' * 50000 + '>ln</i>')
w('attrs_many_elems', ''.join('<span ' + ' '.join('k%d=v' % j for j in range(70)) + '>w</span>' for _ in range(100)))
w('hidden_quotes', '<!-- <a x=" --><p title=\'a>b\'>One</p><script>if (a<b) x("</p>");</script>'
  '<b ' + ' '.join('b%d="v"' % i for i in range(2000)) + '>Two</b> " <p>Three</p>')
w('utf7', '<meta charset="utf-7"><p>+ADw-b+AD4-x+ADw-/b+AD4-</p>')
w('latin2', b'<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-2"><p>\xb1\xe6</p>')
w('nested', '<div>' * 3000 + 'deep' + '</div>' * 3000)
EOF
}

seed_corpus_read() { # byte 0: bit 0 MWXML, bit 1 skip_bad, bit 2 max_record 64
    printf '\x01<mediawiki><page><title>B</title><text><![CDATA[\xc0\xa3 x]]></text></page></mediawiki>' >"$1/cdata"
    printf '\x03<mediawiki><page><title>A</title><ns>0</ns><revision><text>t &amp; [[x|y]]</text></revision></page></mediawiki>' >"$1/xml"
    printf '\x00{"_id": "1", "text": "a\xff b"}\n{"_id": "2", "text": "ok"}\n' >"$1/jsonl"
    printf '\x05<mediawiki><page><title>Big</title><ns>0</ns><revision><text>%0100d</text></revision></page></mediawiki>' 0 >"$1/over"
}

seed_audit() { # byte 0: 0 auto, 1 wikitext, 2 Markdown, 3 claims JSONL
    printf '\x01The Aletsch Glacier lost about 1.3 kilometres of length between 1980 and 2020.<ref>{{cite web |url=https://example.org/glaciers |title=Glaciers}}</ref> Bees dance.<ref>{{cite web |url=https://example.org/sqlite |title=Wrong}}</ref><ref name="x"/>\n\n== S ==\nNo refs.\n' >"$1/wiki"
    printf '\x02# Bees\n\nNeonicotinoid pesticides impair the navigation of honey bees.[^1]\n\n[^1]: [Bees](https://example.org/bees)\n' >"$1/md"
    printf '\x03{"claim": "In SQLite, write-ahead logging lets readers and writers run concurrently.", "url": "https://example.org/sqlite"}\n{"claim": "x", "url": "javascript:alert(1)"}\n' >"$1/claims"
    printf '\x00Plain text with no citation at all.\n' >"$1/none"
    printf '\x01Text \xc0\xa3 bad bytes.<ref>https://example.org/bees \xff</ref>\n' >"$1/badutf8"
}

for t in "${targets[@]}"; do
    s="$OUT/seeds/$t"
    rm -rf "$s" && mkdir -p "$s" "$OUT/corpus/$t"
    seed_common "$s"
    case "$t" in
    fuzz_html_text) seed_html "$s" ;;
    fuzz_corpus_read) seed_corpus_read "$s" ;;
    fuzz_audit) seed_audit "$s" ;;
    esac
done

# ------------------------------------------------------------------ the runs
printf '%-22s %12s %10s %9s\n' target executions exec/s findings >"$OUT/table"
total=0
for t in "${targets[@]}"; do
    bin="build-fuzz/$t"
    if [ ! -x "$bin" ]; then echo "run.sh: $bin is not built (make fuzz-build)" >&2; exit 2; fi
    log="$OUT/logs/$t.log"
    before=$(ls "$OUT/findings" | grep -c "^$t-" || true)
    echo "== $t (${TIME}s, inputs up to $MAX_LEN bytes)" >&2
    TMPDIR="$OUT/tmp" "$bin" -max_total_time="$TIME" -max_len="$MAX_LEN" -timeout=60 -rss_limit_mb=4096 \
        -print_final_stats=1 -artifact_prefix="$OUT/findings/$t-" "$OUT/corpus/$t" "$OUT/seeds/$t" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    found=$(( $(ls "$OUT/findings" | grep -c "^$t-" || true) - before ))
    [ $rc -ne 0 ] && [ $found -eq 0 ] && found=1 # died without an artifact: see the log
    [ $found -gt 0 ] && echo "   findings: $OUT/findings/$t-* (log: $log)" >&2
    printf '%-22s %12s %10s %9s\n' "$t" "${execs:-?}" "${rate:-?}" "$found" >>"$OUT/table"
    total=$((total + found))
    rm -rf "$OUT/tmp"/* # scratch files and indexes of the target
done
cat "$OUT/table"
[ $total -eq 0 ]
