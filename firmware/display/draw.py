"""Drawing a laid-out screen with pygame: boxes, fitted text, drawn icons.

A screen is a list of items, each in its own box. Text is fitted into its
box: wrapped at spaces and made smaller down to a floor; what still does
not fit is an overflow, which the screenshot tests refuse for every screen
in every language. Icons are drawn, not taken from a font, so a tick or a
cross never depends on which glyphs a font has.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pygame

log = logging.getLogger("portique.display")

# DejaVu Sans (Debian fonts-dejavu-core, on Raspberry Pi OS by default) has every
# French and German letter; pygame's own bold font is the fallback.
FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"),)
FONT_FILES = {False: "DejaVuSans.ttf", True: "DejaVuSans-Bold.ttf"}

Colour = tuple[int, int, int]
BACKGROUND: Colour = (246, 243, 236)
INK: Colour = (29, 36, 48)
MUTED: Colour = (88, 96, 110)
WHITE: Colour = (255, 255, 255)
BLUE: Colour = (31, 78, 140)
GREEN: Colour = (25, 110, 52)
GREEN_LIGHT: Colour = (222, 242, 226)
RED: Colour = (170, 36, 30)
RED_LIGHT: Colour = (250, 226, 222)
AMBER: Colour = (138, 90, 0)
AMBER_LIGHT: Colour = (255, 236, 186)
LINE: Colour = (200, 196, 186)
DISABLED: Colour = (214, 211, 204)

PADDING = 10  # inside a button, around its label
MIN_TEXT = 15  # no text is made smaller than this to fit


@dataclass(frozen=True)
class Text:
    rect: pygame.Rect
    text: str
    size: int
    bold: bool = False
    colour: Colour = INK
    align: str = "center"  # "left", "center" or "right"
    data: bool = False  # a value (a number, a name), not words from the catalogue


@dataclass(frozen=True)
class Box:
    rect: pygame.Rect
    colour: Colour
    border: Colour | None = None
    width: int = 2


@dataclass(frozen=True)
class Icon:
    rect: pygame.Rect
    kind: str  # check, cross, warning, card, info, lock, person, minus, plus, erase, dot, ring
    colour: Colour
    inner: Colour = WHITE  # the marks drawn inside a filled shape (the tick in the circle)


@dataclass(frozen=True)
class Bars:
    """A small bar chart: one bar per value, labelled below."""

    rect: pygame.Rect
    values: tuple[int, ...]
    labels: tuple[str, ...]


@dataclass(frozen=True)
class Button:
    rect: pygame.Rect
    label: str
    action: object  # what a touch on it asks for (a ui.Action)
    style: str = "normal"  # normal, primary, danger, selected, quiet
    enabled: bool = True
    size: int = 26
    icon: str = ""  # drawn left of the label
    data: bool = False


_STYLES: dict[str, tuple[Colour, Colour, Colour]] = {  # fill, border, text
    "normal": (WHITE, BLUE, BLUE),
    "primary": (BLUE, BLUE, WHITE),
    "go": (GREEN, GREEN, WHITE),
    "danger": (RED, RED, WHITE),
    "selected": (BLUE, INK, WHITE),
    "quiet": (BACKGROUND, LINE, INK),
}


class Fonts:
    """Fonts by size and weight, loaded once."""

    def __init__(self) -> None:
        if not pygame.font.get_init():
            pygame.font.init()
        self.files: dict[bool, str | None] = {}
        for bold, name in FONT_FILES.items():
            found = next((d / name for d in FONT_DIRS if (d / name).exists()), None)
            self.files[bold] = str(found) if found else None
        if None in self.files.values():
            log.warning("DejaVu Sans not found (fonts-dejavu-core); using pygame's own font")
        self._get = lru_cache(maxsize=256)(self._load)

    def _load(self, size: int, bold: bool) -> pygame.font.Font:
        return pygame.font.Font(self.files[bold], size)

    def font(self, size: int, bold: bool = False) -> pygame.font.Font:
        return self._get(size, bold)


@dataclass(frozen=True)
class Fitted:
    lines: tuple[str, ...]
    size: int
    overflow: bool


def fit(fonts: Fonts, text: str, width: int, height: int, size: int, bold: bool) -> Fitted:
    """``text`` wrapped into ``width`` × ``height``, as large as it fits, down to MIN_TEXT."""
    lines: tuple[str, ...] = ()
    for candidate in range(size, MIN_TEXT - 1, -1):
        font = fonts.font(candidate, bold)
        lines = _wrap(font, text, width)
        fits = all(font.size(line)[0] <= width for line in lines)
        if fits and len(lines) * font.get_linesize() <= height:
            return Fitted(lines, candidate, overflow=False)
    return Fitted(lines, MIN_TEXT, overflow=True)


def _wrap(font: pygame.font.Font, text: str, width: int) -> tuple[str, ...]:
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            trial = f"{line} {word}" if line else word
            if line and font.size(trial)[0] > width:
                lines.append(line)
                line = word
            else:
                line = trial
        lines.append(line)
    return tuple(lines)


def button_text(button: Button) -> Text:
    """The label of ``button`` as a text item in the button's inner box."""
    inner = button.rect.inflate(-2 * PADDING, -2 * PADDING)
    if button.icon:
        side = min(inner.height, 40)
        inner = pygame.Rect(inner.x + side + 8, inner.y, inner.width - side - 8, inner.height)
    fill, _border, ink = _colours(button)
    return Text(inner, button.label, button.size, bold=True, colour=ink, data=button.data)


def _colours(button: Button) -> tuple[Colour, Colour, Colour]:
    if not button.enabled:
        return DISABLED, LINE, MUTED
    return _STYLES[button.style]


class Painter:
    """Draws items onto a surface (a window, or an image for a screenshot)."""

    def __init__(self, fonts: Fonts) -> None:
        self.fonts = fonts
        self.overflows: list[str] = []

    def paint(self, surface: pygame.Surface, items: list[object]) -> None:
        surface.fill(BACKGROUND)
        self.overflows = []
        for item in items:
            if isinstance(item, Box):
                pygame.draw.rect(surface, item.colour, item.rect, border_radius=12)
                if item.border:
                    pygame.draw.rect(surface, item.border, item.rect, item.width, border_radius=12)
            elif isinstance(item, Button):
                self._button(surface, item)
            elif isinstance(item, Text):
                self._text(surface, item)
            elif isinstance(item, Icon):
                draw_icon(surface, item)
            elif isinstance(item, Bars):
                self._bars(surface, item)

    def _button(self, surface: pygame.Surface, button: Button) -> None:
        fill, border, ink = _colours(button)
        pygame.draw.rect(surface, fill, button.rect, border_radius=12)
        pygame.draw.rect(surface, border, button.rect, 3, border_radius=12)
        if button.icon and not button.label:
            side = min(button.rect.width, button.rect.height) * 3 // 5
            box = pygame.Rect(0, 0, side, side)
            box.center = button.rect.center
            draw_icon(surface, Icon(box, button.icon, ink, fill))
            return
        label = button_text(button)
        if button.icon:
            inner = button.rect.inflate(-2 * PADDING, -2 * PADDING)
            side = min(inner.height, 40)
            box = pygame.Rect(inner.x, inner.centery - side // 2, side, side)
            draw_icon(surface, Icon(box, button.icon, ink, fill))
        self._text(surface, label)

    def _text(self, surface: pygame.Surface, item: Text) -> None:
        fitted = fit(self.fonts, item.text, item.rect.width, item.rect.height, item.size, item.bold)
        if fitted.overflow:
            self.overflows.append(item.text)
            log.warning("text does not fit its box %s: %r", tuple(item.rect), item.text)
        font = self.fonts.font(fitted.size, item.bold)
        step = font.get_linesize()
        top = item.rect.centery - step * len(fitted.lines) // 2
        for index, line in enumerate(fitted.lines):
            image = font.render(line, True, item.colour)
            rect = image.get_rect(top=top + index * step)
            if item.align == "left":
                rect.left = item.rect.left
            elif item.align == "right":
                rect.right = item.rect.right
            else:
                rect.centerx = item.rect.centerx
            surface.blit(image, rect)

    def _bars(self, surface: pygame.Surface, bars: Bars) -> None:
        count = max(1, len(bars.values))
        label_h = 24
        area = pygame.Rect(bars.rect.x, bars.rect.y, bars.rect.width, bars.rect.height - label_h)
        pygame.draw.line(surface, LINE, area.bottomleft, area.bottomright, 2)
        top = max(bars.values, default=0) or 1
        slot = area.width / count
        font = self.fonts.font(15)
        for index, value in enumerate(bars.values):
            x = int(area.x + index * slot + slot * 0.15)
            height = int((area.height - 20) * value / top)
            bar = pygame.Rect(x, area.bottom - height, max(2, int(slot * 0.7)), height)
            pygame.draw.rect(surface, BLUE, bar)
            if value:
                image = font.render(str(value), True, INK)
                surface.blit(image, image.get_rect(midbottom=(bar.centerx, bar.top - 2)))
            label = font.render(bars.labels[index], True, MUTED)
            surface.blit(label, label.get_rect(midtop=(bar.centerx, area.bottom + 4)))


def draw_icon(surface: pygame.Surface, icon: Icon) -> None:
    """Draw ``icon.kind`` filling ``icon.rect`` (a square works best)."""
    r, c = icon.rect, icon.colour
    w = max(3, r.width // 10)
    cx, cy = r.center
    half = min(r.width, r.height) // 2
    if icon.kind in ("check", "cross", "info"):
        pygame.draw.circle(surface, c, (cx, cy), half)
        white = icon.inner
        if icon.kind == "check":
            points = [
                (cx - half * 0.5, cy),
                (cx - half * 0.12, cy + half * 0.4),
                (cx + half * 0.55, cy - half * 0.4),
            ]
            pygame.draw.lines(surface, white, False, points, w + 2)
        elif icon.kind == "cross":
            d = half * 0.42
            pygame.draw.line(surface, white, (cx - d, cy - d), (cx + d, cy + d), w + 2)
            pygame.draw.line(surface, white, (cx - d, cy + d), (cx + d, cy - d), w + 2)
        else:
            pygame.draw.circle(surface, white, (cx, cy - half * 0.45), max(2, w // 1.2))
            pygame.draw.line(surface, white, (cx, cy - half * 0.15), (cx, cy + half * 0.55), w)
    elif icon.kind == "warning":
        top, left, right = (cx, r.top), (r.left, r.bottom), (r.right, r.bottom)
        pygame.draw.polygon(surface, c, [top, right, left])
        pygame.draw.line(
            surface, icon.inner, (cx, r.top + r.height * 0.35), (cx, r.top + r.height * 0.68), w
        )
        pygame.draw.circle(surface, icon.inner, (cx, r.top + r.height * 0.82), max(2, w // 1.2))
    elif icon.kind == "card":
        card = pygame.Rect(0, 0, int(r.width * 0.62), int(r.height * 0.42))
        card.midleft = (r.left, cy + r.height * 0.12)
        pygame.draw.rect(surface, c, card, border_radius=max(3, r.width // 20))
        centre = (card.right - r.width * 0.02, cy - r.height * 0.12)
        for step in range(1, 4):  # the waves of a contactless card, as filled ring pieces
            outer = r.width * (0.12 + 0.14 * step)
            angles = [-math.pi / 4 + k * math.pi / 16 for k in range(9)]
            ring = [_polar(centre, outer, a) for a in angles]
            ring += [_polar(centre, outer - r.width * 0.06, a) for a in reversed(angles)]
            pygame.draw.polygon(surface, c, ring)
    elif icon.kind == "lock":
        body = pygame.Rect(0, 0, int(r.width * 0.7), int(r.height * 0.5))
        body.midbottom = r.midbottom
        pygame.draw.rect(surface, c, body, border_radius=4)
        shackle = pygame.Rect(0, 0, int(r.width * 0.46), int(r.height * 0.7))
        shackle.midtop = (cx, r.top)
        pygame.draw.ellipse(surface, c, shackle, w)
    elif icon.kind == "person":
        side = min(r.width, r.height)
        pygame.draw.circle(surface, c, (cx, r.top + side * 0.27), side * 0.24)
        # Shoulders: the top half of an ellipse, cut at the bottom of the box.
        shoulders = pygame.Rect(0, 0, int(side * 0.9), int(side * 0.9))
        shoulders.midtop = (cx, int(r.top + side * 0.56))
        clip = surface.get_clip()
        surface.set_clip(clip.clip(pygame.Rect(r.left, r.top, r.width, int(side))))
        pygame.draw.ellipse(surface, c, shoulders)
        surface.set_clip(clip)
    elif icon.kind in ("dot", "ring"):  # a PIN digit typed, or still to type
        pygame.draw.circle(surface, c, (cx, cy), half, 0 if icon.kind == "dot" else 3)
    elif icon.kind in ("minus", "plus"):
        d = half * 0.55
        pygame.draw.line(surface, c, (cx - d, cy), (cx + d, cy), w + 2)
        if icon.kind == "plus":
            pygame.draw.line(surface, c, (cx, cy - d), (cx, cy + d), w + 2)
    elif icon.kind == "erase":
        d = half * 0.5
        tip = (cx - half * 0.9, cy)
        body = [
            tip,
            (cx - d * 0.4, cy - d),
            (cx + half * 0.9, cy - d),
            (cx + half * 0.9, cy + d),
            (cx - d * 0.4, cy + d),
        ]
        pygame.draw.polygon(surface, c, body, max(2, w // 2))
        x0 = cx + half * 0.25
        pygame.draw.line(surface, c, (x0 - d * 0.4, cy - d * 0.4), (x0 + d * 0.4, cy + d * 0.4), 2)
        pygame.draw.line(surface, c, (x0 - d * 0.4, cy + d * 0.4), (x0 + d * 0.4, cy - d * 0.4), 2)


def _polar(centre: tuple[float, float], radius: float, angle: float) -> tuple[float, float]:
    return centre[0] + radius * math.cos(angle), centre[1] - radius * math.sin(angle)
