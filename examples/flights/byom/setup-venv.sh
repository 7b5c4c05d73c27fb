#!/bin/sh
# Creates the example's virtualenv (once) with PyTorch and ONNX, from the machine's pip
# configuration (here: a local wheelhouse, no network). Prints the interpreter's path.
set -e
here=$(cd "$(dirname "$0")" && pwd)
venv="${BYOM_VENV:-$here/.venv}"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import torch, onnx, pyarrow' 2>/dev/null; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --retries "${PIP_RETRIES:-1}" torch onnx numpy pyarrow >&2
fi
echo "$venv/bin/python"
