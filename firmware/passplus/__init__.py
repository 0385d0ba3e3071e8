"""Pass+ (Hauts-de-Seine / Yvelines youth wallet) tickets: the rules, as pure functions."""
