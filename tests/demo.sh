#!/usr/bin/env bash
# demo.sh - `make demo`: the main job on the embedded default, with no manual step. Indexes SQLite's
# own documentation (Debian's sqlite3-doc: public-domain HTML) as a folder carrying its public URLs,
# then asks it the questions a user would, showing the best documents with their evidence passages.
set -euo pipefail
cd "$(dirname "$0")/.."
DOCS=${VERICITE_DEMO_DOCS:-/usr/share/doc/sqlite3}
IDX=${VERICITE_DEMO_INDEX:-demo-index}
if ! ls "$DOCS"/*.html >/dev/null 2>&1; then
  echo "demo: $DOCS has no HTML pages; install Debian's sqlite3-doc first (make deps)" >&2
  exit 1
fi
[ -x ./vericite ] || make
echo "== indexing SQLite's documentation ($DOCS) into $IDX/"
./vericite index --db "$IDX" --url-prefix https://www.sqlite.org/ "$DOCS"
./vericite stats --db "$IDX"
echo
for q in "Readers do not block writers and a writer does not block readers in WAL mode" \
         "The maximum number of bytes in a string or BLOB is one billion by default" \
         "Foreign key constraints are disabled by default and must be enabled with a PRAGMA" \
         "FTS5 ranks documents with the bm25 auxiliary function"; do
  ./vericite search --db "$IDX" --by-doc -k 3 "$q"
done
echo "The index is in $IDX/; try: ./vericite search --db $IDX \"your claim\""
