#!/usr/bin/env bash
# A Python with PyTorch (CPU) for the bench's baseline, in a virtual environment inside the
# gitignored artifacts/ folder. The machine's local pip index carries torch 2.13.0+cpu, so this
# works offline; elsewhere pip takes it from its usual index. Prints the python path on success.
#
#   scripts/provision-torch.sh [venv-dir]       (default: artifacts/torch-venv)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${1:-$root/artifacts/torch-venv}"
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import torch, numpy' 2>/dev/null; then
  echo "$venv/bin/python"
  exit 0
fi
mkdir -p "$(dirname "$venv")"
python3 -m venv "$venv" >&2
"$venv/bin/pip" install --disable-pip-version-check --quiet 'torch==2.13.0+cpu' numpy >&2 \
  || "$venv/bin/pip" install --disable-pip-version-check --quiet torch numpy >&2
"$venv/bin/python" -c 'import torch, numpy; print("torch", torch.__version__, file=__import__("sys").stderr)'
echo "$venv/bin/python"
