#!/bin/sh
# Set up a development or simulation machine (Debian bookworm / Raspberry Pi OS):
# the Debian packages the daemon and its tests need, then a virtual environment
# with portique and the exact versions of uv.lock installed in it. Safe to run
# again: it only adds or corrects what differs from the lock.
set -eu

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
TOOLS=${TOOLS:-.tools}
# The extras a development machine installs: the gate's, the hub's, PostgreSQL's, the
# console's and the tests'.
EXTRAS=${EXTRAS:-"gate hub postgres console test"}
# libusb: nfcpy loads it for USB readers; mosquitto: the broker the sync tests run;
# fonts-dejavu-core: the screen's font, with every French and German letter;
# postgresql: the server the hub's tests run against; xvfb: an X server the display
# tests kill; gcc, python3-dev, linux-libc-dev: evdev (the scanner) is published as source
# only; zbar-tools: zbarimg reads back the QR form of access codes, as a barcode scanner
# would; chromium and chromium-driver: the browser the console's tests drive (Selenium).
DEBS=${DEBS:-"systemd libusb-1.0-0 mosquitto fonts-dejavu-core postgresql xvfb gcc python3-dev linux-libc-dev zbar-tools chromium chromium-driver"}

missing=""
for pkg in $DEBS; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing="$missing $pkg"
done
if ! "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null; then
    missing="$missing python3-venv"
fi

if [ -n "$missing" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        SUDO=sudo
    else
        SUDO=
    fi
    echo "installing Debian packages:$missing"
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
fi

# uv installs from uv.lock; uv itself comes pinned by version and hash.
TOOLS=$TOOLS PYTHON=$PYTHON sh "$(dirname "$0")/uv-bootstrap.sh"

extras=""
for extra in $EXTRAS; do
    extras="$extras --extra $extra"
done
# --locked: refuse to install when pyproject.toml and uv.lock disagree (`make lock`).
# The Python is the machine's; uv never downloads one.
UV_PROJECT_ENVIRONMENT=$VENV UV_PYTHON_DOWNLOADS=never \
    "$TOOLS/bin/uv" sync --locked --quiet --python "$PYTHON" $extras
echo "ready: $VENV"
