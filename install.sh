#!/usr/bin/env bash
# Install the workbench into .venv with the PyTorch build this machine can use, then its app
# extra (or the extras named: `bash install.sh app,dev`).
#
# How it decides: if `nvidia-smi -L` lists a GPU, torch comes from PyPI, whose Linux wheels
# are CUDA builds; otherwise from PyTorch's CPU index (about 0.2 GB instead of several GB of
# CUDA libraries). TORCH_VERSION (default: the release CI tests) and TORCH_INDEX_URL (another
# wheel index, e.g. https://download.pytorch.org/whl/cu126) override it. `--dry-run` prints
# the decision and the pip commands without running them (tests/test_install.py).
set -euo pipefail
cd "$(dirname "$0")"
dry=""
if [ "${1:-}" = "--dry-run" ]; then
    dry=echo
    shift
fi
extras="${1:-app}"
torch_version="${TORCH_VERSION:-2.13.0}"

if [ -z "$dry" ]; then
    python3 -m venv .venv
    . .venv/bin/activate
fi

if [ -n "${TORCH_INDEX_URL:-}" ]; then
    echo "install.sh: torch ${torch_version} from ${TORCH_INDEX_URL}"
    $dry pip install "torch==${torch_version}" --extra-index-url "${TORCH_INDEX_URL}"
elif command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    echo "install.sh: nvidia-smi lists a GPU: torch ${torch_version}, CUDA build (PyPI)"
    $dry pip install "torch==${torch_version}"
else
    echo "install.sh: no NVIDIA GPU (nvidia-smi): torch ${torch_version}, CPU build"
    # A CPU build's version carries "+cpu", which pip prefers over PyPI's CUDA build of the
    # same release; where the CPU index cannot be reached, a local +cpu wheel (find-links)
    # is taken the same way. --no-deps: only torch is looked up there; its pure-Python
    # dependencies come from PyPI with the workbench's own in the next step.
    $dry pip install --no-deps "torch==${torch_version}" \
        --extra-index-url https://download.pytorch.org/whl/cpu
fi
$dry pip install -e ".[${extras}]"
[ -n "$dry" ] && exit 0
python -c "import torch; print('install.sh: torch', torch.__version__, 'cuda' if torch.cuda.is_available() else 'cpu')"
