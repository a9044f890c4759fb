#!/usr/bin/env bash
# Creates (once) the Python virtual environment the interop tests use to check AutoGLM's files
# against the real other side (safetensors, TensorBoard's event reader, ...), outside the repo,
# and prints its python. The tests find it through AUTOGLM_TEST_PYTHON and skip with a message
# when a package is not importable. Packages: scripts/interop-requirements.txt (never torch).
#   AUTOGLM_TEST_VENV  where the venv goes (default: $HOME/.cache/autoglm-interop-venv)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${AUTOGLM_TEST_VENV:-$HOME/.cache/autoglm-interop-venv}"
stamp="$venv/.requirements"
if [ ! -x "$venv/bin/python" ] || ! cmp -s "$here/interop-requirements.txt" "$stamp"; then
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$here/interop-requirements.txt" >&2
    cp "$here/interop-requirements.txt" "$stamp"
fi
echo "$venv/bin/python"
