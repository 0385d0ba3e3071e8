#!/bin/sh
# Install portique on Raspberry Pi OS bookworm (as root, from a checkout):
#
#   sudo provisioning/install.sh [--office-pub FILE]
#
# Debian packages, the service user, a virtual environment in /opt/portique,
# a udev rule for the reader's serial port, the UART for the PN532, and the
# systemd units. Running it again changes nothing that is already right:
# every step checks first. Then set the gate up with `portique provision`
# (docs/operations.md).
#
# For tests and packaging, DESTDIR=/some/dir installs the files under that
# folder and only prints the system changes (packages, user, services) it
# would make.
set -eu

SRC=$(cd "$(dirname "$0")/.." && pwd)
DESTDIR=${DESTDIR:-}
PREFIX=/opt/portique
OFFICE_PUB=
CHANGED=0

while [ $# -gt 0 ]; do
    case "$1" in
        --office-pub) OFFICE_PUB=$2; shift 2 ;;
        *) echo "install.sh: unknown option $1" >&2; exit 2 ;;
    esac
done

say() { printf 'portique install: %s\n' "$*"; }
system() {  # run a command that changes the system, or say it under DESTDIR
    if [ -n "$DESTDIR" ]; then say "would run: $*"; else "$@"; CHANGED=1; fi
}

# Put a file in place only when its content differs (so a second run is a no-op).
place() {  # place MODE SOURCE TARGET
    target="$DESTDIR$3"
    mkdir -p "$(dirname "$target")"
    if [ -f "$target" ] && cmp -s "$2" "$target"; then
        return 0
    fi
    install -m "$1" "$2" "$target"
    say "installed $3"
    CHANGED=1
}

# -- Debian packages ----------------------------------------------------------------
# python3-lgpio: the GPIO library of Raspberry Pi OS bookworm (gpiozero's lgpio pins);
# fake-hwclock and systemd-timesyncd: see "Time" in docs/operations.md.
PACKAGES="python3-venv python3-lgpio libusb-1.0-0 fonts-dejavu-core fake-hwclock systemd-timesyncd"
missing=""
for pkg in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
    system apt-get update -q
    system env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
fi

# -- the service user -----------------------------------------------------------------
for group in gpio dialout video render input; do
    getent group "$group" >/dev/null || system groupadd --system "$group"
done
if ! getent passwd portique >/dev/null; then
    system useradd --system --home-dir /var/lib/portique --no-create-home \
        --shell /usr/sbin/nologin --groups gpio,dialout,video,render,input portique
fi

# -- the program --------------------------------------------------------------------
if [ -z "$DESTDIR" ] && [ -z "${SKIP_VENV:-}" ]; then
    if [ ! -x "$PREFIX/bin/python" ]; then
        # --system-site-packages: lgpio comes from Debian, built for this kernel.
        python3 -m venv --system-site-packages "$PREFIX"
        CHANGED=1
    fi
    installed=$("$PREFIX/bin/python" -c 'import importlib.metadata as m; print(m.version("portique"))' 2>/dev/null || true)
    wanted=$(sed -n 's/^version = "\(.*\)"/\1/p' "$SRC/pyproject.toml")
    if [ "$installed" != "$wanted" ]; then
        "$PREFIX/bin/pip" install --quiet "$SRC"
        say "installed portique $wanted in $PREFIX"
        CHANGED=1
    fi
fi
for doc in "$SRC"/docs/*.md; do
    place 0644 "$doc" "$PREFIX/docs/$(basename "$doc")"
done
place 0644 "$SRC/provisioning/portique.example.toml" "$PREFIX/provisioning/portique.example.toml"
if [ -n "$OFFICE_PUB" ]; then
    place 0644 "$OFFICE_PUB" /etc/portique/office.pub
fi

# -- the reader's serial port -----------------------------------------------------------
place 0644 "$SRC/provisioning/60-portique-reader.rules" /etc/udev/rules.d/60-portique-reader.rules
if [ -z "$DESTDIR" ] && command -v udevadm >/dev/null; then
    udevadm control --reload-rules 2>/dev/null || true
fi
# The PN532 on the header needs the UART, and the UART must not carry a login console.
if command -v raspi-config >/dev/null; then
    if [ "$(raspi-config nonint get_serial_hw 2>/dev/null)" != 0 ]; then
        system raspi-config nonint do_serial_hw 0
    fi
    if [ "$(raspi-config nonint get_serial_cons 2>/dev/null)" != 1 ]; then
        system raspi-config nonint do_serial_cons 1
    fi
else
    say "no raspi-config (not Raspberry Pi OS): enable the UART by hand if the PN532 is on it"
fi

# -- services ---------------------------------------------------------------------------
units_before=$CHANGED
CHANGED=0
for unit in "$SRC"/systemd/*.service; do
    place 0644 "$unit" "/etc/systemd/system/$(basename "$unit")"
done
if [ "$CHANGED" = 1 ]; then
    system systemctl daemon-reload
fi
[ "$units_before" = 0 ] || CHANGED=1
# portique.service waits for /etc/portique/portique.toml (ConditionPathExists):
# enabled now, it starts at the first boot after `portique provision`.
for service in portique.service fake-hwclock.service systemd-timesyncd.service; do
    if [ -n "$DESTDIR" ] || ! systemctl is-enabled --quiet "$service" 2>/dev/null; then
        system systemctl enable "$service"
    fi
done

if [ "$CHANGED" = 0 ]; then
    say "nothing to change: everything was already in place"
else
    say "done. Next: portique provision --museum M --gate G (docs/operations.md)"
fi
