"""The kiosk screen: visitor prompts and staff functions, drawn with pygame.

``ui.py`` holds what the screen shows and reacts to touches (no pygame),
``screens.py`` lays each screen out as boxes, ``draw.py`` draws them,
``kiosk.py`` owns the SDL window in its own thread, ``i18n.py`` the words.
The screen never touches the journal, the store or the GPIO: it posts
events to the gate's loop and reads the views the loop publishes.
"""

import os

# pygame prints a banner on import; the daemon's log is for the gate.
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
