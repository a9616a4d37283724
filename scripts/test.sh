#!/usr/bin/env bash
# Set up, then run every test: the trainer side in the venv (numpy 2.x) and the ParaView side
# in ParaView's own Python (ctest, which runs tests/common and tests/paraview under pvpython).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
status=0
.venv/bin/python -m pytest -q tests/common tests/trainer tests/e2e || status=1
cmake -S . -B build/ctest ${TENSORVIZ_PARAVIEW_BIN:+-DTENSORVIZ_PARAVIEW_BIN="$TENSORVIZ_PARAVIEW_BIN"} >/dev/null
ctest --test-dir build/ctest --output-on-failure || status=1
exit $status
