"""The hub's pass Culture connector: the only code that talks to pass Culture.

See docs/passculture.md.
"""
