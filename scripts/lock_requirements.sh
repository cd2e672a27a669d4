#!/usr/bin/env bash
# Regenerates requirements.lock: every package the preview and deploy jobs install (the program,
# the policy pack, the probe), pinned with the sha256 of every file PyPI serves for it, so
# `pip install --require-hashes -r requirements.lock` refuses anything else. Run it after editing
# requirements.txt, policies/requirements.txt or probe/requirements.txt; tests/test_lock.py fails
# until the lock matches them. The resolver is uv, pinned in requirements-dev.txt.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
"$root/bin/venv"
# --universal: one lock for every platform and Python the inputs allow, not just this machine's;
# --no-header keeps the file free of the command line and a timestamp, so it is reproducible.
exec .venv/bin/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
  --no-header --output-file requirements.lock \
  requirements.txt policies/requirements.txt probe/requirements.txt
