#!/usr/bin/env bash
# ver_eval_today.sh - the verifier's figures of another revision ("today": main before issue 10),
# measured by this tree's tests/bench/ver_eval.c built against that revision's library.
# usage: tests/bench/ver_eval_today.sh REV POOL_DIR [DATA_DIR]
#   POOL_DIR as for ver_eval (tests/bench/wice_pool.py output with the index in POOL_DIR/ix).
# The numbers it printed for main at bbccb65 are in tests/bench/ver_eval_today.txt.
set -euo pipefail
cd "$(dirname "$0")/../.."
rev=$1 pool=$2 data=${3:-../shared/data}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git archive "$rev" | tar -x -C "$tmp"
cp tests/bench/ver_eval.c "$tmp/tests/bench/ver_eval.c"
make -s -C "$tmp" -j2 vericite >/dev/null
objs=$(cd "$tmp" && find build -name '*.o' ! -path 'build/cli/*' ! -path 'build/tests/*' | sort)
# an older tree lacks ver_train_strip_markers (Citation-Integrity marker removal): take this
# tree's definition, so both sides read the same claims
if ! grep -q ver_train_strip_markers "$tmp/verify/ver_score.h"; then
  { echo '#include <stdlib.h>'; echo '#include <string.h>'
    sed -n '/^char \*ver_train_strip_markers(const char \*s)$/,/^}$/p' verify/ver_train.c; } > "$tmp/strip.c"
  (cd "$tmp" && cc -std=c11 -O2 -c -o strip.o strip.c)
  objs="$objs strip.o"
  sed -i '/^#include "verify\/ver_score.h"/a char *ver_train_strip_markers(const char *s);' "$tmp/tests/bench/ver_eval.c"
fi
# an older tree lacks ver_score_claim_in_context (the claim with its article title, as scored):
# take this tree's definition, so both sides score the same text
if ! grep -q ver_score_claim_in_context "$tmp/verify/ver_score.h"; then
  { echo '#include <string.h>'; echo '#include "buf.h"'
    sed -n '/^int ver_score_claim_in_context(/,/^}$/p' verify/ver_score.c; } > "$tmp/ctx.c"
  (cd "$tmp" && cc -std=c11 -O2 -D_GNU_SOURCE -Icommon -c -o ctx.o ctx.c)
  objs="$objs ctx.o"
  sed -i '/^#include "verify\/ver_score.h"/a struct buf; int ver_score_claim_in_context(const char *claim, const char *title, struct buf *out, size_t *context_len);' "$tmp/tests/bench/ver_eval.c"
fi
(cd "$tmp" && cc -std=c11 -O2 -I. -Icommon -D_GNU_SOURCE $(pkg-config --cflags libxml-2.0) \
   -c -o ver_eval.o tests/bench/ver_eval.c && \
   c++ -o ver_eval ver_eval.o $objs $(pkg-config --libs sqlite3 libcurl libpcre2-8 jansson libxml-2.0 libutf8proc libmicrohttpd) \
     -lstemmer -lbz2 -lfaiss -fopenmp -llapack -lopenblas -lstdc++ -lpthread -lm)
"$tmp/ver_eval" "$data" "$pool"
echo "-- the same, --sentence-only (the sentence alone, the definition before 2026-12-03):"
"$tmp/ver_eval" --sentence-only "$data" "$pool"
