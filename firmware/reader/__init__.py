"""The NFC reader: one thread polling the PN532 through nfcpy, posting taps and health.

``NfcReader`` runs on the gate; ``present_card`` and ``parse_serial`` hold an
emulated card on a ``udp:HOST:PORT`` reader for the bench and the tests.
"""

from firmware.reader.card import parse_serial, present_card
from firmware.reader.nfc import NfcReader

__all__ = ["NfcReader", "parse_serial", "present_card"]
