#!/bin/sh
# Install portique on Raspberry Pi OS bookworm or Debian bookworm (as root, from a checkout):
#
#   sudo provisioning/install.sh [--office-pub FILE]          # a gate or a counter
#   sudo provisioning/install.sh --hub [--postgres]          # a museum's or the network's hub
#
# Debian packages, the service user, a virtual environment in /opt/portique with
# the exact versions of uv.lock, and the systemd units (for a hub, its web console's
# too); for a gate also a udev rule for the reader's serial port and the UART for the
# PN532. Running it again
# changes nothing that is already right: every step checks first, and the
# program is reinstalled exactly when the code or the lock changed. Then set a
# gate up with `portique provision` (docs/operations.md).
#
# For tests and packaging, DESTDIR=/some/dir installs the files under that
# folder and only prints the system changes (packages, user, services) it
# would make.
set -eu

SRC=$(cd "$(dirname "$0")/.." && pwd)
DESTDIR=${DESTDIR:-}
PREFIX=/opt/portique
OFFICE_PUB=
ROLE=gate
POSTGRES=
CHANGED=0

usage() {
    echo "usage: install.sh [--office-pub FILE] | --hub [--postgres]" >&2
    exit 2
}
while [ $# -gt 0 ]; do
    case "$1" in
        --office-pub)
            if [ $# -lt 2 ] || [ -z "$2" ]; then
                echo "install.sh: --office-pub needs the central office's public key file" >&2
                usage
            fi
            [ -f "$2" ] || { echo "install.sh: --office-pub $2: no such file" >&2; exit 2; }
            OFFICE_PUB=$2; shift 2 ;;
        --hub) ROLE=hub; shift ;;
        --postgres) POSTGRES=1; shift ;;
        -h|--help) usage ;;
        *) echo "install.sh: unknown option $1" >&2; usage ;;
    esac
done
if [ -n "$POSTGRES" ] && [ "$ROLE" != hub ]; then
    echo "install.sh: --postgres is for a hub (--hub --postgres)" >&2
    exit 2
fi

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
# A gate: python3-lgpio, the GPIO library of Raspberry Pi OS bookworm (gpiozero's
# lgpio pins); fake-hwclock and systemd-timesyncd: see "Time" in docs/operations.md;
# gcc, python3-dev, linux-libc-dev: evdev (the barcode scanner) is published as source only.
# A hub: the broker its gates talk to.
if [ "$ROLE" = gate ]; then
    PACKAGES="python3-venv libusb-1.0-0 fonts-dejavu-core fake-hwclock systemd-timesyncd"
    PACKAGES="$PACKAGES gcc python3-dev linux-libc-dev"
    if dpkg-query -W -f='${Status}' python3-lgpio 2>/dev/null | grep -q "ok installed" \
        || apt-cache policy python3-lgpio 2>/dev/null | grep -q "Candidate: [0-9]"; then
        PACKAGES="$PACKAGES python3-lgpio"
    else
        say "python3-lgpio is not in this machine's package sources: it comes with Raspberry Pi OS."
        say "  On a Raspberry Pi, install Raspberry Pi OS (bookworm) and run this again; on any other"
        say "  machine the gate can only simulate its pins: [gpio] pin_factory = \"mock\"."
    fi
else
    PACKAGES="python3-venv mosquitto"
fi
missing=""
for pkg in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
    system apt-get update -q
    system env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
fi

# -- the service user -----------------------------------------------------------------
if [ "$ROLE" = gate ]; then
    for group in gpio dialout video render input; do
        getent group "$group" >/dev/null || system groupadd --system "$group"
    done
    if ! getent passwd portique >/dev/null; then
        system useradd --system --home-dir /var/lib/portique --no-create-home \
            --shell /usr/sbin/nologin --groups gpio,dialout,video,render,input portique
    fi
else
    if ! getent passwd portique-hub >/dev/null; then
        system useradd --system --home-dir /var/lib/portique-hub --no-create-home \
            --shell /usr/sbin/nologin portique-hub
    fi
    # The hub's secrets (its broker password, pass Culture keys): readable by the
    # service, by nobody else. The operator writes broker.password there.
    if [ ! -d "$DESTDIR/etc/portique-hub" ]; then
        mkdir -p "$DESTDIR/etc/portique-hub"
        chmod 0750 "$DESTDIR/etc/portique-hub"
        say "created /etc/portique-hub (the hub's broker.password goes there, mode 0640)"
        CHANGED=1
    fi
    if [ -z "$DESTDIR" ] && [ "$(stat -c %G /etc/portique-hub)" != portique-hub ]; then
        system chgrp portique-hub /etc/portique-hub
    fi
fi

# -- the program --------------------------------------------------------------------
# The exact versions of uv.lock, reinstalled whenever the code or the lock changed.
if [ "$ROLE" = gate ]; then
    EXTRAS="gate"
elif [ -n "$POSTGRES" ]; then
    EXTRAS="hub postgres console"
else
    EXTRAS="hub console"
fi
if [ -z "${SKIP_VENV:-}" ]; then
    before=$(cat "$DESTDIR$PREFIX/.portique-source" 2>/dev/null || true)
    sh "$SRC/provisioning/install-program.sh" "$DESTDIR$PREFIX" "$EXTRAS"
    [ "$before" = "$(cat "$DESTDIR$PREFIX/.portique-source")" ] || CHANGED=1
fi
for doc in "$SRC"/docs/*.md; do
    place 0644 "$doc" "$PREFIX/docs/$(basename "$doc")"
done
place 0644 "$SRC/provisioning/portique.example.toml" "$PREFIX/provisioning/portique.example.toml"
if [ -n "$OFFICE_PUB" ]; then
    place 0644 "$OFFICE_PUB" /etc/portique/office.pub
fi

# -- the reader's serial port -----------------------------------------------------------
if [ "$ROLE" = gate ]; then
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
fi

# -- services ---------------------------------------------------------------------------
units_before=$CHANGED
CHANGED=0
if [ "$ROLE" = gate ]; then
    UNITS="portique.service"
else
    UNITS="portique-hub.service portique-console.service"
fi
for unit in $UNITS; do
    place 0644 "$SRC/systemd/$unit" "/etc/systemd/system/$unit"
done
if [ "$CHANGED" = 1 ]; then
    system systemctl daemon-reload
fi
[ "$units_before" = 0 ] || CHANGED=1
# portique.service waits for /etc/portique/portique.toml (ConditionPathExists):
# enabled now, it starts at the first boot after `portique provision`. The hub is
# enabled by its operator once its data folder and broker password are in place.
if [ "$ROLE" = gate ]; then
    for service in portique.service fake-hwclock.service systemd-timesyncd.service; do
        if [ -n "$DESTDIR" ] || ! systemctl is-enabled --quiet "$service" 2>/dev/null; then
            system systemctl enable "$service"
        fi
    done
fi

if [ "$CHANGED" = 0 ]; then
    say "nothing to change: everything was already in place"
elif [ "$ROLE" = gate ]; then
    say "done. Next: portique provision --museum M --gate G (docs/operations.md)"
else
    say "done. Next: portique-hub init, /etc/portique-hub/broker.password, then"
    say "  systemctl enable --now portique-hub (docs/operations.md, \"The hub\");"
    say "  the web console: portique-hub user add, then systemctl enable --now portique-console"
    say "  behind a TLS reverse proxy (docs/console.md)"
fi
