#!/usr/bin/env bash
# A time-boxed `defusion train` run on a lent GPU machine, in calls of at most 10 minutes each
# (docs/training.md, "Training on a lent GPU"). Run from the repository root on that machine:
#
#   scripts/gpu/train.sh start BUDGET_S   # probe speed, plan the schedule, start training detached
#   scripts/gpu/train.sh poll SECONDS     # progress every minute for up to SECONDS; logs to $OUT
#   scripts/gpu/train.sh collect          # wait for the run's end; fp16 weights and logs to $OUT
#
# The run lives in /tmp (kept while the machine is held); results come back through $OUT.
# Environment: DATA (training images; default .carry/natural), BASE (default configs/gpu-256.yaml),
# INIT (start weights; default: shipped; empty: random), PROBE_ARGS / PLAN_SET (extra arguments
# for the speed probe and the plan, e.g. for a CPU smoke test), COMPILE_PROBE (0: do not probe
# torch.compile on a GPU), COLLECT_WAIT, RUN, OUT, PYTHON.
set -euo pipefail
RUN=${RUN:-/tmp/defusion-gpu-run}
OUT=${OUT:-/tmp/defusion-gpu-out}
DATA=${DATA:-.carry/natural}
BASE=${BASE:-configs/gpu-256.yaml}
INIT=${INIT-shipped}
PY=${PYTHON:-python3}
DATA_COPY="$RUN.data"   # the images, copied outside the tree (which later calls re-send)
COLLECT_WAIT=${COLLECT_WAIT:-540}   # collect stops a run still going after this many seconds
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
mkdir -p "$OUT"

progress() {  # the last logged step: step, epoch, lr, loss, samples/s, elapsed
    [ -f "$RUN/metrics.csv" ] && tail -n 1 "$RUN/metrics.csv" | awk -F, '{printf "step %s epoch %s lr %s loss %.4f %.0f samples/s %ss\n", $1, $2, $3, $4, $9, $10}' || echo "no steps logged yet"
}
running() { [ -f "$RUN.pid" ] && kill -0 "$(cat "$RUN.pid")" 2>/dev/null; }
save_logs() { for f in metrics.csv config.json; do [ -f "$RUN/$f" ] && cp "$RUN/$f" "$OUT/"; done; cp "$RUN.log" "$OUT/train.log" 2>/dev/null || true; }

case "${1:-}" in
start)
    budget=${2:?budget in seconds}
    command -v nvidia-smi >/dev/null && nvidia-smi -L || echo "no nvidia-smi: CPU"
    "$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
    running && { echo "a run is already going: $(progress)"; exit 1; }
    rm -rf "$RUN" "$DATA_COPY" && cp -r "$DATA" "$DATA_COPY"
    # shellcheck disable=SC2086
    "$PY" benchmarks/train_speed.py --batch 8 32 64 --variants bf16 bf16-cl --steps 15 --warmup 5 \
        --data "$DATA_COPY" --workers 14 ${PROBE_ARGS:-} | tee "$OUT/train_speed.md"
    if [ "${COMPILE_PROBE:-1}" = 1 ] && "$PY" -c "import sys, torch; sys.exit(not torch.cuda.is_available())"; then
        # torch.compile at the planned batch size only: compiling costs a minute or two per shape
        batch=$("$PY" -c "import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))['batch_size'])" "$BASE")
        timeout 300 "$PY" benchmarks/train_speed.py --batch "$batch" --variants bf16-compile --steps 15 \
            --warmup 10 | tee -a "$OUT/train_speed.md" || echo "the compile probe failed: planning without it"
    fi
    # shellcheck disable=SC2086
    "$PY" scripts/gpu/plan.py --probe "$OUT/train_speed.md" --budget "$budget" --base "$BASE" \
        --out "$OUT/plan.yaml" --set ${PLAN_SET:-} | tee -a "$OUT/train_speed.md"
    setsid nohup "$PY" -m defusion.train --data "$DATA_COPY" --out "$RUN" --config "$OUT/plan.yaml" \
        ${INIT:+--init "$INIT"} --no-progress > "$RUN.log" 2>&1 < /dev/null &
    echo $! > "$RUN.pid"
    cp "$OUT/plan.yaml" "$RUN.plan.yaml"
    sleep 5
    running || { cat "$RUN.log"; echo "training did not start"; exit 1; }
    echo "training started (pid $(cat "$RUN.pid")): $(progress)"
    ;;
poll)
    seconds=${2:?seconds}
    end=$((SECONDS + seconds))
    while running && [ $SECONDS -lt "$end" ]; do sleep $((end - SECONDS < 60 ? end - SECONDS : 60)); echo "$(date +%T) $(progress)"; done
    running || echo "the run has ended"
    save_logs
    ;;
collect)
    end=$((SECONDS + COLLECT_WAIT))
    while running && [ $SECONDS -lt "$end" ]; do sleep 5; done
    if running; then   # over time: SIGTERM checkpoints; then write the weights from that checkpoint
        echo "stopping the run (still going after ${COLLECT_WAIT}s)"
        kill -TERM -- "-$(cat "$RUN.pid")" || true
        while running; do sleep 2; done
        step=$("$PY" -c "import sys; from safetensors import safe_open; print(safe_open(sys.argv[1], 'pt').metadata()['step'])" "$RUN/checkpoints/last.safetensors")
        "$PY" -m defusion.train --data "$DATA_COPY" --out "$RUN" --resume --max-steps "$step" --no-progress >> "$RUN.log" 2>&1
    fi
    save_logs
    cp "$RUN.plan.yaml" "$OUT/plan.yaml" 2>/dev/null || true
    [ -f "$RUN/weights.safetensors" ] || { tail -n 20 "$RUN.log"; echo "no weights: see train.log"; exit 1; }
    "$PY" - "$RUN/weights.safetensors" "$OUT/defusion-gpu.safetensors" <<'PYEOF'
import sys
from defusion.model.weights import load_weights, read_metadata, save_weights
src, dst = sys.argv[1:]
save_weights(load_weights(src), dst, metadata=read_metadata(src), half=True)
print("fp16 weights:", dst, read_metadata(dst))
PYEOF
    progress
    ;;
*)
    sed -n '2,12p' "$0"; exit 2 ;;
esac
