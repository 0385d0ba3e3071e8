"""Laying out for any panel: screens are drawn on a base frame, then scaled to the panel.

Every screen is written for a base frame at least 800×480 (the official 7"
panel) with the panel's own proportions: 1024×600 becomes an 800×480 frame
drawn 1.25 times larger, 1280×800 an 800×500 frame drawn 1.6 times larger.
So text and touch targets grow with the panel instead of staying 800×480
sizes on a larger screen, and a screen that fits (no overlap, no overflow)
at 800×480 fits at every size. Other screens (the counter's, the pass
Culture keypad) lay out with the same helpers: ``Frame.of``, then
``frame.scale(items)``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from pygame import Rect

BASE_WIDTH, BASE_HEIGHT = 800, 480  # the smallest panel the layout is made for
MIN_TOUCH_MM = 9.0  # a fingertip: the smallest touch target, on the panel itself
MIN_TARGET = 48  # the smallest touch target of every screen, in layout units


@dataclass(frozen=True)
class Frame:
    """The base frame a screen lays out on, and how much it is scaled on the panel."""

    width: int  # base frame, in layout units
    height: int
    factor: float  # panel pixels per layout unit

    @classmethod
    def of(cls, panel_width: int, panel_height: int) -> Frame:
        """The frame for a panel of ``panel_width`` × ``panel_height`` pixels."""
        factor = min(panel_width / BASE_WIDTH, panel_height / BASE_HEIGHT)
        return cls(int(panel_width / factor), int(panel_height / factor), factor)

    def rect(self, rect: Rect) -> Rect:
        """``rect`` (layout units) on the panel (pixels); edges are scaled, so boxes that
        touch or stay apart in the layout do so on the panel too."""
        k = self.factor
        left, top = round(rect.left * k), round(rect.top * k)
        return Rect(left, top, round(rect.right * k) - left, round(rect.bottom * k) - top)

    def scale(self, items: list[object]) -> list[object]:
        """Every item of a screen laid out on this frame, in panel pixels."""
        if self.factor == 1:
            return items
        return [self._item(item) for item in items]

    def _item(self, item: object) -> object:
        if not dataclasses.is_dataclass(item) or isinstance(item, type):
            return item
        changes: dict[str, object] = {}
        for name in ("rect",):
            if isinstance(value := getattr(item, name, None), Rect):
                changes[name] = self.rect(value)
        for name in ("size", "width"):
            if isinstance(value := getattr(item, name, None), int) and value:
                changes[name] = max(1, round(value * self.factor))
        return dataclasses.replace(item, **changes)  # type: ignore[type-var]


def min_touch_px(panel_width: int, panel_width_mm: float) -> float:
    """The smallest touch target in pixels on a panel ``panel_width_mm`` wide."""
    return MIN_TOUCH_MM * panel_width / panel_width_mm


def smallest_target_mm(panel_width: int, panel_height: int, panel_width_mm: float) -> float:
    """How wide, in millimetres on the panel, the smallest touch target is drawn."""
    factor = Frame.of(panel_width, panel_height).factor
    return MIN_TARGET * factor * panel_width_mm / panel_width
