#!/usr/bin/env bash
# demo.sh - `make demo`: the main job on the embedded default, with no manual step. Indexes SQLite's
# own documentation (Debian's sqlite3-doc: public-domain HTML) as a folder carrying its public URLs,
# then audits an article about SQLite written for this demo (cli/scripts/demo/sqlite.wiki: cite-web
# refs to sqlite.org pages, a few deliberately pointing at the wrong page), fully offline: the
# cited pages are found in the corpus by URL. Flagged citations come with suggested replacements.
set -euo pipefail
cd "$(dirname "$0")/../.."
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
echo "== auditing cli/scripts/demo/sqlite.wiki against the corpus (offline)"
./vericite audit --db "$IDX" --offline --title SQLite --html demo-report.html cli/scripts/demo/sqlite.wiki
echo
echo "The HTML report is demo-report.html. Try also:"
echo "  ./vericite search --db $IDX \"readers do not block writers\""
echo "  ./vericite verify --db $IDX --offline --claim \"FTS5 ranks results with bm25\" --source https://www.sqlite.org/fts5.html"
