#!/bin/sh
# Set up a development or simulation machine (Debian bookworm / Raspberry Pi OS):
# the Debian packages the daemon and its tests need, then a virtual environment
# with portique installed in it. Safe to run again: it only adds what is missing.
set -eu

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
# libusb: nfcpy loads it for USB readers; mosquitto: the broker the sync tests run;
# fonts-dejavu-core: the screen's font, with every French and German letter.
DEBS="systemd libusb-1.0-0 mosquitto fonts-dejavu-core"

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

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -e ".[test]"
echo "ready: $VENV"
