#!/usr/bin/env bash
# Set up, train a short run of the poster's network on the embedded MNIST digits (with filter
# reduction), render the poster's figures.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
RUN=${RUN:-runs/demo}
OUT=${OUT:-out/demo}
# with filter reduction, as the poster's Fig. 5: conv1's filters correlated at r >= 0.97 merge
.venv/bin/tensorviz train "$RUN" --dataset mnist-5k --epochs "${EPOCHS:-3}" --overwrite \
    --reduce --reduce-threshold 0.97
.venv/bin/tensorviz info "$RUN"
.venv/bin/tensorviz render "$RUN" --out "$OUT"
echo "demo: run in $RUN ($(du -sh "$RUN" | cut -f1)), figures in $OUT:"
ls -1 "$OUT"/*.png
