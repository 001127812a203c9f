#!/usr/bin/env bash
# A time-boxed `defusion train` run on a lent GPU machine, in calls of at most 10 minutes each
# (docs/training.md, "Training on a lent GPU"). Run from the repository root on that machine:
#
#   scripts/gpu/train.sh start BUDGET_S   # probe speed, plan the schedule, start training detached
#   scripts/gpu/train.sh poll SECONDS     # progress every minute for up to SECONDS; logs to $OUT
#   scripts/gpu/train.sh collect          # wait for the run's end; fp16 weights and logs to $OUT
#   scripts/gpu/train.sh once TOTAL_S     # all in one call of TOTAL_S seconds: a short probe, the
#                                         # plan, training in the foreground, fp16 weights to $OUT
#   scripts/gpu/train.sh once TOTAL_S A.yaml B.yaml
#                                         # the same with several configs trained side by side on the
#                                         # one GPU (each planned at its share of the probed speed);
#                                         # each run's weights and logs to $OUT/<config name>/
#
# `once` suits a lease of 15 device-minutes: one call, no idle machine between calls.
# The run lives in /tmp (kept while the machine is held); results come back through $OUT.
# Environment: DATA (training images; default .carry/natural), BASE (default configs/gpu-256.yaml),
# INIT (start weights; default: shipped; empty: random), PROBE_ARGS / PLAN_SET (extra arguments
# for the speed probe and the plan, e.g. for a CPU smoke test), COMPILE_PROBE (start: 0 does not
# probe torch.compile on a GPU; once: 1 probes it, on any device, and the plan keeps the probe's
# compiling time out of the schedule if it picks the compiled variant), COLLECT_WAIT, ONCE_MARGIN
# (seconds `once` keeps for start-up and writing the weights; default 75), RUN, OUT, PYTHON.
set -euo pipefail
RUN=${RUN:-/tmp/defusion-gpu-run}
OUT=${OUT:-/tmp/defusion-gpu-out}
DATA=${DATA:-.carry/natural}
BASE=${BASE:-configs/gpu-256.yaml}
INIT=${INIT-shipped}
PY=${PYTHON:-python3}
DATA_COPY="$RUN.data"   # the images, copied outside the tree (which later calls re-send)
COLLECT_WAIT=${COLLECT_WAIT:-540}   # collect stops a run still going after this many seconds
ONCE_MARGIN=${ONCE_MARGIN:-75}      # once: seconds kept for the run's start-up and the weights
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
mkdir -p "$OUT"

progress() {  # the last logged step: step, epoch, lr, loss, samples/s, elapsed
    [ -f "$RUN/metrics.csv" ] && tail -n 1 "$RUN/metrics.csv" | awk -F, '{printf "step %s epoch %s lr %s loss %.4f %.0f samples/s %ss\n", $1, $2, $3, $4, $9, $10}' || echo "no steps logged yet"
}
running() { [ -f "$RUN.pid" ] && kill -0 "$(cat "$RUN.pid")" 2>/dev/null; }
machine() {
    command -v nvidia-smi >/dev/null && nvidia-smi -L || echo "no nvidia-smi: CPU"
    "$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
}
new_run() {  # the machine, then a fresh run folder and copy of the images (refused while one runs)
    machine
    running && { echo "a run is already going: $(progress)"; exit 1; }
    rm -rf "$RUN" "$DATA_COPY" && cp -r "$DATA" "$DATA_COPY"
}
config_batch() { "$PY" -c "import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))['batch_size'])" "${1:-$BASE}"; }
plan_run() {  # plan_run BUDGET_S [CONFIG PLAN SHARE KEY=VALUE...]: a plan from the probe in $OUT/train_speed.md
    local budget=$1 base=${2:-$BASE} out=${3:-$OUT/plan.yaml} share=${4:-1}
    shift $(($# < 4 ? $# : 4))
    # shellcheck disable=SC2086
    "$PY" scripts/gpu/plan.py --probe "$OUT/train_speed.md" --budget "$budget" --base "$base" --share "$share" \
        --compile-seconds "${COMPILE_S:-0}" --out "$out" --set "$@" ${PLAN_SET:-} | tee -a "$OUT/train_speed.md"
    [ "$out" != "$OUT/plan.yaml" ] || cp "$out" "$RUN.plan.yaml"   # the plan `collect` resumes with
}
write_fp16() {  # the run's weights, fp16 with their metadata, to $OUT
    [ -f "$RUN/weights.safetensors" ] || { tail -n 20 "$RUN.log"; echo "no weights: see train.log"; exit 1; }
    "$PY" - "$RUN/weights.safetensors" "$OUT/defusion-gpu.safetensors" <<'PYEOF'
import sys
from defusion.model.weights import load_weights, save_weights, weights_metadata
src, dst = sys.argv[1:]
save_weights(load_weights(src), dst, metadata=weights_metadata(src), half=True)
print("fp16 weights:", dst, weights_metadata(dst))
PYEOF
}
save_logs() { for f in metrics.csv config.json; do [ -f "$RUN/$f" ] && cp "$RUN/$f" "$OUT/"; done; cp "$RUN.log" "$OUT/train.log" 2>/dev/null || true; }

case "${1:-}" in
start)
    budget=${2:?budget in seconds}
    new_run
    # shellcheck disable=SC2086
    "$PY" benchmarks/train_speed.py --batch 8 32 64 --variants bf16 bf16-cl --steps 15 --warmup 5 \
        --data "$DATA_COPY" --workers 14 ${PROBE_ARGS:-} | tee "$OUT/train_speed.md"
    if [ "${COMPILE_PROBE:-1}" = 1 ] && "$PY" -c "import sys, torch; sys.exit(not torch.cuda.is_available())"; then
        # torch.compile at the planned batch size only: compiling costs a minute or two per shape
        batch=$(config_batch)
        timeout 300 "$PY" benchmarks/train_speed.py --batch "$batch" --variants bf16-compile --steps 15 \
            --warmup 10 | tee -a "$OUT/train_speed.md" || echo "the compile probe failed: planning without it"
    fi
    plan_run "$budget"
    setsid nohup "$PY" -m defusion.train --data "$DATA_COPY" --out "$RUN" --config "$OUT/plan.yaml" \
        ${INIT:+--init "$INIT"} --no-progress > "$RUN.log" 2>&1 < /dev/null &
    echo $! > "$RUN.pid"
    sleep 5
    # a short budget may have finished already: it ran if it exited 0 with its weights written
    running || { wait "$(cat "$RUN.pid")" && [ -f "$RUN/weights.safetensors" ]; } \
        || { cat "$RUN.log"; echo "training did not start"; exit 1; }
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
    write_fp16
    progress
    ;;
once)
    total=${2:?total seconds for this call}
    shift 2
    configs=("$@")
    [ ${#configs[@]} -gt 0 ] || configs=("$BASE")
    n=${#configs[@]}
    BASE=${configs[0]}
    for c in "${configs[@]}"; do
        [ "$(config_batch "$c")" = "$(config_batch)" ] \
            || { echo "the configs run side by side must share one batch size ($c differs from $BASE)"; exit 2; }
    done
    new_run
    # one short probe at the config's batch size (no torch.compile: compiling alone takes minutes)
    # shellcheck disable=SC2086
    "$PY" benchmarks/train_speed.py --batch "$(config_batch)" --variants bf16 bf16-cl --steps 10 --warmup 5 \
        --data "$DATA_COPY" --workers 14 ${PROBE_ARGS:-} | tee "$OUT/train_speed.md"
    if [ "${COMPILE_PROBE:-0}" = 1 ]; then
        # opt-in: compiling takes minutes of the lease, once here and again in the trainer
        started=$SECONDS
        # shellcheck disable=SC2086
        timeout 240 "$PY" benchmarks/train_speed.py --batch "$(config_batch)" --steps 10 --warmup 5 \
            ${PROBE_ARGS:-} --variants bf16-compile | grep '^| `' | tee -a "$OUT/train_speed.md" \
            || echo "the compile probe failed: planning without it"
        COMPILE_S=$((SECONDS - started))
        echo "compile probe: ${COMPILE_S}s" | tee -a "$OUT/train_speed.md"
    fi
    budget=$((total - SECONDS - ONCE_MARGIN))
    [ "$budget" -gt 0 ] || { echo "no time left to train after the probe (${SECONDS}s of ${total}s)"; exit 1; }
    if [ "$n" = 1 ]; then
        plan_run "$budget"
        echo "training for ${budget}s"
        status=0
        # shellcheck disable=SC2086
        "$PY" -m defusion.train --data "$DATA_COPY" --out "$RUN" --config "$OUT/plan.yaml" \
            ${INIT:+--init "$INIT"} --no-progress > "$RUN.log" 2>&1 < /dev/null || status=$?
        save_logs
        [ "$status" = 0 ] || { tail -n 20 "$RUN.log"; echo "training failed (exit $status): see train.log"; exit 1; }
        write_fp16
        progress
        exit 0
    fi
    # several runs share the GPU and the CPU cores: each is planned at 1/n of the probed speed, with
    # 1/n of the data workers; $OUT holds at most 8 files, so each plan goes into train_speed.md
    pids=()
    for c in "${configs[@]}"; do
        name=$(basename "$c" .yaml)
        mkdir -p "$OUT/$name"
        plan_run "$budget" "$c" "$RUN-$name.plan.yaml" "1/$n" "workers=$((14 / n))"
        { echo; echo "plan for $name:"; echo '```yaml'; cat "$RUN-$name.plan.yaml"; echo '```'; } >> "$OUT/train_speed.md"
        rm -rf "$RUN-$name"
        # shellcheck disable=SC2086
        "$PY" -m defusion.train --data "$DATA_COPY" --out "$RUN-$name" --config "$RUN-$name.plan.yaml" \
            ${INIT:+--init "$INIT"} --no-progress > "$RUN-$name.log" 2>&1 < /dev/null &
        pids+=($!)
    done
    echo "training ${configs[*]} side by side for ${budget}s"
    failed=0
    for i in "${!configs[@]}"; do
        name=$(basename "${configs[$i]}" .yaml)
        status=0; wait "${pids[$i]}" || status=$?
        (RUN="$RUN-$name" OUT="$OUT/$name"; save_logs; rm -f "$OUT/config.json"
         if [ "$status" = 0 ]; then write_fp16 && echo "$name: $(progress)"
         else tail -n 20 "$RUN.log"; echo "$name: training failed (exit $status): see $name/train.log"; exit 1; fi) || failed=1
    done
    exit "$failed"
    ;;
*)
    sed -n '2,22p' "$0"; exit 2 ;;
esac
