#!/usr/bin/env bash
# Data-parallel throughput on the medium preset (6 layers, 384 wide, block 256, global batch 8):
# `mpirun -np 2` with one thread per rank against one process with two threads, alternating
# rounds, then the two-rank run with buckets of 1..64 MB (each size once per round). Prints one JSON line per run and a
# summary (medians) from summarize.py. Usage: bench/mpi/run.sh [ROUNDS] [STEPS]
set -euo pipefail
ROUNDS=${1:-3}
STEPS=${2:-20}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$ROOT/.build/release/autoglm
WORK=$(mktemp -d /tmp/autoglm-mpi-bench.XXXXXX)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1   # this benchmark's children only
cat > "$WORK/medium.yaml" <<YAML
model: { n_layer: 6, n_head: 6, n_embd: 384, block_size: 256 }
train: { steps: $STEPS, batch_size: 8, eval_interval: 0, eval_batches: 1, log_interval: 1, warmup_steps: 2 }
attention: { name: flash }
optimizer: { name: adamw, lr: 1.0e-3, betas: [0.9, 0.99], weight_decay: 0.1 }
evaluators: []
YAML
run() {  # label, command...
    local label=$1; shift
    "$@" --config "$WORK/medium.yaml" --set run.dir="$WORK/$label" --overwrite --quiet >/dev/null 2>"$WORK/$label.err" \
        || { cat "$WORK/$label.err" >&2; exit 1; }
    python3 "$ROOT/bench/mpi/summarize.py" run "$label" "$WORK/$label/log.jsonl"
}
{
for round in $(seq 1 "$ROUNDS"); do
    run "solo-2threads-r$round" "$BIN" train --set train.threads=2
    run "mpi2-1thread-25MB-r$round" mpirun -np 2 --bind-to none "$BIN" train --set train.threads=1
done
for round in $(seq 1 "$ROUNDS"); do
    for mb in 1 4 16 64; do
        run "mpi2-1thread-${mb}MB-r$round" mpirun -np 2 --bind-to none "$BIN" train --set train.threads=1 --set distributed.bucket_mb=$mb
    done
done
} | tee "$WORK/runs.jsonl"
python3 "$ROOT/bench/mpi/summarize.py" summary "$WORK/runs.jsonl"
