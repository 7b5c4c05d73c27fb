#!/bin/sh
# The pipeline's train step: make sure the virtualenv exists, then train with it.
set -e
here=$(cd "$(dirname "$0")" && pwd)
python=$("$here/setup-venv.sh")
exec "$python" "$here/train_torch.py"
