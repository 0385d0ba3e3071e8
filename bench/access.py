"""Entering an access code: by hand, and through its QR code on the office's printout.

An Ed25519 signature is 64 bytes, so a code a gate can check offline cannot be
much shorter than its 119 base32 characters. Typed by hand it takes about a
minute: the figure is the characters over a typing rate for random
alphanumeric strings read off paper (``HAND_RATE``, 2 characters a second, a
brisk rate for transcription of random characters). The QR form is read by
the counter's barcode scanner, which types it as a keyboard would; the part a
machine does here is measured: zbarimg decoding the printed image (rendered as
``portique-hub access-code issue --qr`` writes it), beside its floor, zbarimg
decoding a one-character QR code of the same scale.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import time
from pathlib import Path

import segno
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from firmware import access
from hub.cli import access_qr

HAND_RATE = 2.0  # characters a second, random alphanumerics read off paper
ROUNDS = 20


def _decode_s(image: Path) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(["zbarimg", "--raw", "-q", str(image)], capture_output=True,
                          text=True, check=True)  # fmt: skip
    return time.perf_counter() - start, done.stdout.strip()


def run(workdir: Path) -> dict[str, float]:
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    code = access.issue(Ed25519PrivateKey.generate(), "M1", "G1", "technician", 4e9)
    image, floor_image = workdir / "code.png", workdir / "floor.png"
    qr = access_qr(code)
    qr.save(str(image), scale=8, border=4)
    segno.make_qr("A", error="m").save(str(floor_image), scale=8, border=4)
    reads, floors = [], []
    for _ in range(ROUNDS):
        seconds, text = _decode_s(image)
        assert text == access.normalise(code), "the QR code does not read back as the code"
        reads.append(seconds)
        floors.append(_decode_s(floor_image)[0])
    chars = len(access.normalise(code))
    return {
        "access_code_chars": float(chars),
        "access_code_by_hand_s": chars / HAND_RATE,
        "access_code_qr_version": float(qr.version),
        "access_code_qr_decode_p50_s": statistics.median(reads),
        "access_code_qr_decode_floor_p50_s": statistics.median(floors),
    }
