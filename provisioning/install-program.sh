#!/bin/sh
# Install portique into the virtual environment PREFIX with the exact versions
# of uv.lock and the extras named (a gate: "gate"; a hub: "hub", or "hub postgres"):
#
#   sh provisioning/install-program.sh /opt/portique "gate"
#
# Reinstalls whenever the code or the lock changed (a fingerprint of both is
# kept in PREFIX/.portique-source), not only when the version number moves;
# prints "unchanged" and does nothing otherwise. install.sh calls it.
set -eu

SRC=$(cd "$(dirname "$0")/.." && pwd)
PREFIX=${1:?usage: install-program.sh PREFIX "EXTRAS"}
EXTRAS=${2:?usage: install-program.sh PREFIX "EXTRAS"}
PYTHON=${PYTHON:-python3}
TOOLS=${TOOLS:-$PREFIX/tools}  # install.sh: beside the program; tests: the checkout's
STAMP=$PREFIX/.portique-source

# The fingerprint: every file that makes the program, and the lock.
fingerprint=$(cd "$SRC" && find firmware hub -type f ! -path '*/__pycache__/*' ! -name '*.pyc' \
    | LC_ALL=C sort | xargs sha256sum | cat - pyproject.toml uv.lock | sha256sum | cut -d' ' -f1)
fingerprint="$fingerprint $EXTRAS"
if [ -x "$PREFIX/bin/python" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$fingerprint" ]; then
    echo "portique install: program unchanged in $PREFIX"
    exit 0
fi

if [ ! -x "$PREFIX/bin/python" ]; then
    # A gate sees Debian's python3-lgpio (built for this kernel) through the
    # system's site packages; nothing else is taken from there.
    case " $EXTRAS " in
        *" gate "*) "$PYTHON" -m venv --system-site-packages "$PREFIX" ;;
        *) "$PYTHON" -m venv "$PREFIX" ;;
    esac
fi
TOOLS=$TOOLS PYTHON=$PYTHON sh "$SRC/provisioning/uv-bootstrap.sh"

extras=""
for extra in $EXTRAS; do
    extras="$extras --extra $extra"
done
# --locked: refuse when pyproject.toml and uv.lock disagree; --no-editable: the
# program is copied, so the checkout can go; --inexact: keep uv's own tools/;
# --reinstall/--refresh-package: uv would keep a same-version build otherwise.
(cd "$SRC" && UV_PROJECT_ENVIRONMENT=$PREFIX UV_PYTHON_DOWNLOADS=never \
    "$TOOLS/bin/uv" sync --locked --no-editable --inexact --quiet \
    --reinstall-package portique --refresh-package portique \
    --python "$PREFIX/bin/python" $extras)
# uv leaves the build's scratch folder in the checkout.
rm -rf "$SRC/build/lib" "$SRC/build/bdist."* 2>/dev/null || true
echo "$fingerprint" > "$STAMP"
echo "portique install: installed portique ($EXTRAS) from uv.lock in $PREFIX"
