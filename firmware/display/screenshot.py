"""``portique screenshot``: any screen with sample data, as a PNG, without a window."""

from __future__ import annotations

from pathlib import Path

import pygame

from firmware.config import DisplaySettings
from firmware.display import desk_samples, desk_screens  # noqa: F401 - the counter's pages
from firmware.display.draw import Fonts, Painter
from firmware.display.samples import SAMPLES, ZONE, sample_ui
from firmware.display.screens import Context, layout

__all__ = ["SAMPLES", "render", "save"]


def render(name: str, language: str, size: tuple[int, int] = (800, 480)) -> tuple[
    pygame.Surface, list[object], list[str]]:  # fmt: skip
    """The sample screen ``name`` drawn on a new surface: (surface, items, overflowing texts)."""
    settings = DisplaySettings(width=size[0], height=size[1])
    ui = sample_ui(name, language, settings)
    items = layout(ui.state, Context(size[0], size[1], ZONE))
    surface = pygame.Surface(size)
    painter = Painter(Fonts())
    painter.paint(surface, items)
    return surface, items, painter.overflows


def save(name: str, language: str, out: Path, size: tuple[int, int] = (800, 480)) -> list[str]:
    """Write the sample screen ``name`` to ``out`` (PNG); return the texts that overflowed."""
    surface, _items, overflows = render(name, language, size)
    out.parent.mkdir(parents=True, exist_ok=True)
    pygame.image.save(surface, str(out))
    return overflows
