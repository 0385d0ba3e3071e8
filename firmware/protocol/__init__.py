"""What the gate and the hub agree on, defined once and imported by both.

- ``record``: the journal record's fields in order, its canonical encoding
  and hash, ``GENESIS_HASH``;
- ``serials``: which chip serials exist (ISO 14443-A UID lengths);
- ``messages``: MQTT topic names, the signed envelope (``seal``/``unseal``)
  and the JSON Schemas of every message;
- ``signing``: Ed25519 keys, key ids, canonical JSON and certificates;
- ``access_codes``: the central office's access codes;
- ``listfile``: the signed pass-list file's header;
- ``sales``: the counter's sale records, money and closures as the hub reads them;
- ``passculture``: pass Culture booking codes;
- ``time``: the injected clock both ends read;
- ``version``: the software version and how versions compare (release notices).

The hub imports nothing else from ``firmware`` (a test checks it). Some of
these modules re-export what still lives beside its gate-side user
(``firmware/trust.py``, ``firmware/access.py``, ``firmware/sync/protocol.py``,
``firmware/lists/format.py``, ``firmware/counter/``): the definition stays single
either way.
"""
