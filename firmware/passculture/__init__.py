"""pass Culture on the gate's side: reading a counter-mark (the hub does the rest)."""
