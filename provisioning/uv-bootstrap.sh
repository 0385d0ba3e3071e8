#!/bin/sh
# Install uv, the tool that installs portique from uv.lock, into its own small
# virtual environment ($TOOLS, default .tools): the version and hashes of
# provisioning/uv-requirements.txt, nothing newer. Safe to run again.
set -eu

PYTHON=${PYTHON:-python3}
TOOLS=${TOOLS:-.tools}
REQUIREMENTS="$(dirname "$0")/uv-requirements.txt"
wanted=$(sed -n 's/^uv==\([^ ;]*\).*/\1/p' "$REQUIREMENTS")

if [ -x "$TOOLS/bin/uv" ] && [ "$("$TOOLS/bin/uv" --version | cut -d' ' -f2)" = "$wanted" ]; then
    exit 0
fi
[ -x "$TOOLS/bin/python" ] || "$PYTHON" -m venv "$TOOLS"
# --isolated: the machine's pip settings (other indexes, constraints) do not apply here.
"$TOOLS/bin/python" -m pip install --isolated --quiet --disable-pip-version-check \
    --require-hashes -r "$REQUIREMENTS"
