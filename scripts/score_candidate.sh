#!/usr/bin/env bash
# Score one weight file on the candidate subsets of docs/training-history.md (TNO, the first 8 MEFB and the
# first 10 MFIFB pairs), DeFusion only, for scripts/compare_weights.py.
# Usage: scripts/score_candidate.sh WEIGHTS OUT_DIR   (WEIGHTS "shipped" = the package's weights)
# Then:  python scripts/compare_weights.py OUT_OF_SHIPPED OUT_OF_CANDIDATE
# VIFB=1 also scores VIFB's 21 pairs (compare_weights.py then prints VIFB's target metrics and ranks).
# METHOD=defusion-x2 (any built-in DeFusion variant) scores that variant instead of `defusion`;
# then: python scripts/compare_weights.py OUT_OF_SHIPPED OUT_DIR defusion-x2
set -euo pipefail
cd "$(dirname "$0")/.."
WEIGHTS=$1
OUT=$2
DATA=${DATA:-../shared/data/bench}
if [ "$WEIGHTS" = shipped ]; then WEIGHTS_ARGS=""; else WEIGHTS_ARGS="--weights $WEIGHTS"; fi
JOBS=${JOBS:-$(nproc)}  # before OMP_NUM_THREADS=1, which nproc would report
export OMP_NUM_THREADS=1
run() {  # TASK A B NAME [LIMIT]
  # Status 1: some pairs or results were left out (said in the notes above); the others are scored.
  defusion bench --task "$1" --a "$2" --b "$3" --out "$OUT/$4" --methods "${METHOD:-defusion}" $WEIGHTS_ARGS \
    --runtime onnxruntime --jobs "$JOBS" ${5:+--limit $5} --no-progress --overwrite > /dev/null \
    || { rc=$?; [ "$rc" -eq 1 ] || exit "$rc"; echo "$4: some pairs or results left out (notes above)" >&2; }
}
# One after another, each over one worker per core (defusion bench --jobs).
run ivf "$DATA/ivf/tno/vi" "$DATA/ivf/tno/ir" tno
run mef "$DATA/mef/mefb/A" "$DATA/mef/mefb/B" mefb 8
run mff "$DATA/mff/mfifb/A" "$DATA/mff/mfifb/B" mfifb 10
if [ -n "${VIFB:-}" ]; then run ivf "$DATA/ivf/vifb/vi" "$DATA/ivf/vifb/ir" vifb; fi
echo "scored $1 in $OUT"
