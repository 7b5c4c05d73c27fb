#!/bin/sh
# The peer baseline's virtualenv (once): LightGBM, scikit-learn and pyarrow from the machine's
# pip configuration (a local wheelhouse here). Prints the interpreter's path.
set -e
here=$(cd "$(dirname "$0")" && pwd)
venv="${LIGHTGBM_VENV:-$here/.venv}"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import lightgbm, sklearn, pyarrow' 2>/dev/null; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --retries "${PIP_RETRIES:-1}" lightgbm scikit-learn pyarrow numpy >&2
fi
echo "$venv/bin/python"
