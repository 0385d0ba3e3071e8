"""Sync with the museum hub over MQTT: protocol, the gate's client, the outbox's pump."""
