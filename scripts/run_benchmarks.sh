#!/usr/bin/env bash
# Regenerate docs/benchmarks.md: `defusion bench` on every benchmark in ../shared/data/bench
# with the shipped weights, the classical baselines and the published methods' results.
# Usage: scripts/run_benchmarks.sh [OUT_DIR]   (default: out/bench). Needs ../shared.
# LIMIT=N evaluates only the first N pairs of MEFB and MFIFB (the large sets);
# MEFB_LIMIT / MFIFB_LIMIT set one of them (default: LIMIT). The benchmarks run one after another,
# each over JOBS worker processes (default: one per core; `defusion bench --jobs`).
# RESUME=1 keeps the scores already in OUT and computes only what is missing (DeFusion's are
# recomputed when the weights changed): new weights then cost only DeFusion's rows.
# METHODS=a,b,... replaces the built-in methods of every benchmark (e.g. only the baselines,
# to score everything that does not depend on the weights ahead of time).
# SKIP=a,b,... leaves those built-in methods out (e.g. SKIP=defusion-rgb with RESUME=1 to rescore
# new weights without the slow RGB variant); unlike METHODS, the other methods stay requested, so
# the comparison grids still show every method and docs/benchmarks.md is written.
# BENCHES="mefb mfifb" runs only those benchmarks (docs/benchmarks.md is still written from every
# benchmark folder in OUT).
# VIFB_JPEG_QUALITY=Q (default 75) scores VIFB's built-in methods after a JPEG round trip of that
# quality, the encoding of VIFB's published results (all 525 carry quality-75 tables), so every row
# is scored alike; VIFB_JPEG_QUALITY= (empty) scores them lossless. MFIFB_JPEG_QUALITY does the same
# for MFIFB (default match: each pair's built-in results stored as most of its published results are,
# JPEG of quality 75 where its sources are JPEG, lossless where they are PNG; empty: lossless).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data/bench}
OUT=${1:-out/bench}
MEFB_LIMIT=${MEFB_LIMIT:-${LIMIT:-}}
MFIFB_LIMIT=${MFIFB_LIMIT:-${LIMIT:-}}
RESUME_ARGS=${RESUME:+--resume}
RESUME_ARGS=${RESUME_ARGS:---overwrite}  # without RESUME=1 each benchmark is scored afresh (bench refuses an --out holding results otherwise)
VIFB_JPEG_QUALITY=${VIFB_JPEG_QUALITY-75}
MFIFB_JPEG_QUALITY=${MFIFB_JPEG_QUALITY-match}
BASELINES=$(python -c 'from defusion.baselines import available_baselines as a; print(",".join(a()))')
# defusion: the task's defaults (`defusion fuse --task`: inference scale 2; unique gain 1.5 for
# infrared-visible pairs, unique gain 1 with detail gain 1.5 for exposure pairs; for focus pairs the
# sources' own pixels picked by the network's decomposition, --pixels sources at scale 1);
# defusion-paper: the paper's inference with the shipped weights (Pr of RGB sources at scale 1, no
# gains); defusion-g1 (infrared-visible): the paper's Pr at the default scale 2; defusion-network
# (focus pairs): the reconstruction at the focus task's gains and scale 2 (--task mff --pixels
# network). Other variants (defusion-x1, -rgb, -g1.25, ... in DEFUSION_VARIANTS) are added to a
# finished run with METHODS=... RESUME=1 (without RESUME they replace it); each costs a network pass.
IVF_METHODS=${METHODS:-defusion,defusion-g1,defusion-paper,$BASELINES}
PAIR_METHODS=${METHODS:-defusion,defusion-paper,$BASELINES}
MFF_METHODS=${METHODS:-defusion,defusion-network,defusion-paper,$BASELINES}
without() {  # LIST: LIST minus the methods named in $SKIP
  local keep=() m
  IFS=, read -ra all <<< "$1"
  for m in "${all[@]}"; do [[ ",${SKIP:-}," == *",$m,"* ]] || keep+=("$m"); done
  (IFS=,; echo "${keep[*]}")
}
IVF_METHODS=$(without "$IVF_METHODS")
PAIR_METHODS=$(without "$PAIR_METHODS")
MFF_METHODS=$(without "$MFF_METHODS")
mkdir -p "$OUT"
JOBS=${JOBS:-$(nproc)}  # before OMP_NUM_THREADS=1, which nproc would report
export OMP_NUM_THREADS=1
# DeFusion through ONNX Runtime: the same scores as PyTorch eager to rounding, ~2x faster.
RUNTIME=${RUNTIME:-onnxruntime}

fused_args() {  # --fused NAME=DIR for every method folder under $1
  local dir=$1
  [ -d "$dir" ] || return 0
  for m in "$dir"/*/; do m=${m%/}; printf -- '--fused %s=%s ' "$(basename "$m")" "$m"; done
}

# VIFB's metrics take the visible image first, infrared second; so do the others here.
vifb() { defusion bench --task ivf --a "$DATA/ivf/vifb/vi" --b "$DATA/ivf/vifb/ir" --out "$OUT/vifb" --runtime "$RUNTIME" --jobs "$JOBS" \
  --methods "$IVF_METHODS" $RESUME_ARGS ${VIFB_JPEG_QUALITY:+--jpeg-quality $VIFB_JPEG_QUALITY} --title "VIFB (21 pairs)" $(fused_args "$DATA/ivf/vifb/fused") --no-progress > /dev/null; }
tno() { defusion bench --task ivf --a "$DATA/ivf/tno/vi" --b "$DATA/ivf/tno/ir" --out "$OUT/tno" --runtime "$RUNTIME" --jobs "$JOBS" \
  --methods "$IVF_METHODS" $RESUME_ARGS --title "TNO (25 pairs, CDDFuse's selection)" --no-progress > /dev/null; }
mefb() { defusion bench --task mef --a "$DATA/mef/mefb/A" --b "$DATA/mef/mefb/B" --out "$OUT/mefb" --runtime "$RUNTIME" --jobs "$JOBS" \
  --methods "$PAIR_METHODS" $RESUME_ARGS --title "MEFB${MEFB_LIMIT:+ (first $MEFB_LIMIT of 100 pairs)}" ${MEFB_LIMIT:+--limit $MEFB_LIMIT} --no-progress > /dev/null; }
mfifb() { defusion bench --task mff --a "$DATA/mff/mfifb/A" --b "$DATA/mff/mfifb/B" --out "$OUT/mfifb" --runtime "$RUNTIME" --jobs "$JOBS" \
  --methods "$MFF_METHODS" $RESUME_ARGS --title "MFIFB${MFIFB_LIMIT:+ (first $MFIFB_LIMIT of 105 pairs)}" ${MFIFB_LIMIT:+--limit $MFIFB_LIMIT} ${MFIFB_JPEG_QUALITY:+--jpeg-quality $MFIFB_JPEG_QUALITY} $(fused_args "$DATA/mff/mfifb/fused") \
  --no-progress > /dev/null; }

# One after another, each spread over every core by its pairs (four benchmarks at once, one thread
# each, left a core idle for the last hour, while MEFB alone finished).
# Status 1: some pairs or results were left out (said in the notes above); the others are scored.
for bench in ${BENCHES:-vifb tno mefb mfifb}; do
  "$bench" || { rc=$?; [ "$rc" -eq 1 ] || exit "$rc"; echo "$bench: some pairs or results left out (notes above)" >&2; }
done

if [ -n "${METHODS:-}" ]; then
  echo "scored $METHODS in $OUT; docs/benchmarks.md left as it is (run without METHODS to write it)"
  exit 0
fi
python scripts/benchmarks_doc.py "$OUT" > docs/benchmarks.md
echo "wrote docs/benchmarks.md from $OUT"
