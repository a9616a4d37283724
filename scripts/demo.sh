#!/usr/bin/env bash
# Set up, train a short run of the poster's network on the embedded MNIST digits, render Fig. 2.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
RUN=${RUN:-runs/demo}
OUT=${OUT:-out/demo}
.venv/bin/tensorviz train "$RUN" --dataset mnist-5k --epochs "${EPOCHS:-3}" --overwrite
.venv/bin/tensorviz info "$RUN"
.venv/bin/tensorviz render "$RUN" --out "$OUT"
echo "demo: run in $RUN ($(du -sh "$RUN" | cut -f1)), figures in $OUT:"
ls -1 "$OUT"/*.png
