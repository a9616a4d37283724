#!/usr/bin/env bash
# TensorViz's recording cost on a GPU (benchmarks/gpu_check.py: ResNet50 and the poster network,
# plain / TensorBoard / TensorViz, XLA off and on, mixed_float16; step and fit ratios, host reads
# and bytes per step).
#
#   bash benchmarks/gpu_check.sh [gpu_check.py options]   # on a machine with an NVIDIA GPU
#   bash benchmarks/gpu_check.sh --smoke                  # anywhere: 3 steps per arm, on the CPU
#
# The Python: $PYTHON if set, else .venv/bin/python (scripts/setup.sh's, TensorFlow's CPU build)
# when its TensorFlow sees a GPU or for --smoke. Otherwise it makes .venv-gpu with
# tensorflow[and-cuda] (TensorFlow's GPU build with NVIDIA's CUDA and cuDNN wheels: only the
# NVIDIA driver must be on the machine; a few GB, once) and this checkout installed in it.
set -euo pipefail
cd "$(dirname "$0")/.."

TF_VERSION=2.21.0   # the version scripts/setup.sh installs, so that the two compare
sees_gpu() {
  "$1" -c 'import tensorflow as tf, sys; sys.exit(not tf.config.list_physical_devices("GPU"))' \
    >/dev/null 2>&1
}

python=${PYTHON:-.venv/bin/python}
smoke=0
for arg in "$@"; do [ "$arg" = --smoke ] && smoke=1; done
if [ -z "${PYTHON:-}" ] && [ "$smoke" = 0 ] && ! sees_gpu "$python"; then
  command -v nvidia-smi >/dev/null && nvidia-smi -L \
    || echo "gpu_check: no nvidia-smi: is the NVIDIA driver installed?" >&2
  python=.venv-gpu/bin/python
  requirements="tensorflow[and-cuda]==$TF_VERSION tensorboard h5py scipy"
  stamp="$(echo "$requirements" | sha256sum | cut -c1-16)"
  if [ "$(cat .venv-gpu/.tensorviz-gpu 2>/dev/null)" != "$stamp" ]; then
    echo "gpu_check: installing a GPU TensorFlow into .venv-gpu (a few GB the first time)"
    "${BASE_PYTHON:-python3}" -m venv .venv-gpu
    .venv-gpu/bin/python -m pip install -q --upgrade pip
    .venv-gpu/bin/python -m pip install -q $requirements
    .venv-gpu/bin/python -m pip install -q --no-deps -e .
    echo "$stamp" > .venv-gpu/.tensorviz-gpu
  fi
  if ! sees_gpu "$python"; then
    echo "gpu_check: TensorFlow in .venv-gpu sees no GPU (driver, or a GPU this build does" \
         "not support?): $python -c 'import tensorflow as tf; print(tf.config.list_physical_devices())'" >&2
    exit 1
  fi
fi
exec "$python" benchmarks/gpu_check.py "$@"
