"""Every screen in every language at every supported panel size: drawn with sample data,
no text overflows its box, no button overlaps another, every touch target is at least
9 mm on the configured panel, and every word comes from the catalogues."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pygame
import pytest

from firmware.config import DisplaySettings
from firmware.display import samples
from firmware.display.draw import Button, Fonts, Icon, Painter, Text, button_text
from firmware.display.frame import Frame, min_touch_px, smallest_target_mm
from firmware.display.i18n import LANGUAGES, Words
from firmware.display.screens import Context, layout
from firmware.display.screenshot import SAMPLES, render
from firmware.display.texts import ACCESS_REFUSALS, REFUSALS
from firmware.display.ui import Screen
from firmware.gate.views import AccessCodeRefused

SIZE = (800, 480)
# The official 7" panel (also the smallest the config allows), a common 7" HDMI panel,
# a 10" one; each at the default panel width of the config, the hardest case for 9 mm.
SIZES = [(800, 480), (1024, 600), (1280, 800)]
PANEL_MM = DisplaySettings().panel_width_mm


def texts_of(items: list[object]) -> list[Text]:
    """Every text drawn: the texts and the labels of the buttons."""
    found = [item for item in items if isinstance(item, Text)]
    found += [button_text(item) for item in items if isinstance(item, Button) and item.label]
    return found


@pytest.mark.parametrize("size", SIZES, ids=lambda size: "x".join(map(str, size)))
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", SAMPLES)
def test_every_screen_fits_in_every_language_at_every_size(
    name: str, language: str, size: tuple[int, int]
) -> None:
    surface, items, overflows = render(name, language, size)
    assert overflows == [], f"{name} in {language}: text does not fit its box"
    bounds = surface.get_rect()
    for item in items:
        assert bounds.contains(item.rect), f"{name}: {item} leaves the screen"
    smallest = min_touch_px(size[0], PANEL_MM)
    shown = [item for item in items if isinstance(item, Button)]
    for button in shown:
        assert min(button.rect.size) >= smallest, f"{name}: {button} under 9 mm"
    for index, button in enumerate(shown):
        for other in shown[index + 1 :]:
            assert not button.rect.colliderect(other.rect), f"{name}: {button} on {other}"
    for text in (item for item in items if isinstance(item, Text)):
        for button in shown:
            assert not text.rect.colliderect(button.rect), f"{name}: {text} under {button}"


def test_a_larger_panel_gets_larger_text_and_buttons() -> None:
    _surface, small, _overflows = render("idle", "en", (800, 480))
    _surface, large, _overflows = render("idle", "en", (1280, 800))
    assert Frame.of(1280, 800).factor == 1.6

    def largest_text(items: list[object]) -> int:
        return max(item.size for item in items if isinstance(item, Text))

    def plus(items: list[object]) -> int:
        return next(b.rect.height for b in items if isinstance(b, Button)
                    and b.action.name == "plus")  # fmt: skip

    assert largest_text(large) == round(largest_text(small) * 1.6)
    assert plus(large) == round(plus(small) * 1.6)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("reason", REFUSALS)
def test_every_refusal_fits_and_shows_an_icon_and_words(reason: str, language: str) -> None:
    ui = samples.sample_ui("idle", language)
    ui.on_view(samples.refused(reason))
    ui.state.language = language
    items = layout(ui.state, Context(*SIZE, samples.ZONE))
    surface = pygame.Surface(SIZE)
    painter = Painter(Fonts())
    painter.paint(surface, items)
    assert painter.overflows == []
    assert ui.state.screen is Screen.REFUSED
    assert any(isinstance(item, Icon) and item.kind == "cross" for item in items)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("reason", [*ACCESS_REFUSALS, "locked"])
def test_every_access_code_refusal_fits_with_the_longest_wait(reason: str, language: str) -> None:
    ui = samples.sample_ui("access_code_refused", language)
    ui.on_view(AccessCodeRefused(reason, 3599))
    painter = Painter(Fonts())
    painter.paint(pygame.Surface(SIZE), layout(ui.state, Context(*SIZE, samples.ZONE)))
    assert painter.overflows == []
    assert ui.state.screen is Screen.ACCESS_CODE


@pytest.mark.parametrize("name", ["admitted", "go_ahead", "refused", "out_of_order"])
def test_results_are_told_by_an_icon_and_a_title_not_by_colour_alone(name: str) -> None:
    _surface, items, _overflows = render(name, "en", SIZE)
    icons = [item.kind for item in items if isinstance(item, Icon)]
    assert {"check", "cross", "warning"} & set(icons)
    assert any(isinstance(item, Text) and item.size >= 40 and item.bold for item in items)


def test_every_word_on_every_screen_comes_from_the_catalogues(monkeypatch) -> None:
    """Spy on the catalogue lookups while every screen is laid out: each text drawn
    that is not a value (a number, a name) must be made of what the catalogue gave."""
    given: set[str] = set()
    asked: set[str] = set()
    plain, plural = Words._, Words.ngettext

    def spy(self: Words, message: str, **values: object) -> str:
        asked.add(message)
        text = plain(self, message, **values)
        given.add(text)
        return text

    def spy_plural(self: Words, singular: str, plural_: str, count: int, **values: object) -> str:
        asked.add(singular)
        text = plural(self, singular, plural_, count, **values)
        given.add(text)
        return text

    monkeypatch.setattr(Words, "_", spy)
    monkeypatch.setattr(Words, "ngettext", spy_plural)
    for language in LANGUAGES:
        catalogue = Words(language)._catalogue._catalog  # type: ignore[attr-defined]
        ids = {key if isinstance(key, str) else key[0] for key in catalogue}
        for name in SAMPLES:
            given.clear()
            ui = samples.sample_ui(name, language)
            items = layout(ui.state, Context(*SIZE, samples.ZONE))
            for text in texts_of(items):
                if text.data or not text.text:
                    continue
                parts = text.text.split("\n")
                assert all(part in given for part in parts), f"{name}/{language}: {text.text!r}"
        assert asked <= ids, f"not in the {language} catalogue: {asked - ids}"


def test_screenshot_command_writes_a_png(tmp_path: Path) -> None:
    out = tmp_path / "children-de.png"
    done = subprocess.run(
        [sys.executable, "-m", "firmware", "screenshot", "--screen", "children", "--lang", "de",
         "--out", str(out)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert pygame.image.load(str(out)).get_size() == SIZE


def test_screenshot_command_names_the_screens_it_knows(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "firmware", "screenshot", "--screen", "nope", "--out",
         str(tmp_path / "x.png")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 2
    assert "no screen 'nope'" in done.stderr and "children" in done.stderr


def test_touch_targets_on_the_configured_panel_are_measured_in_millimetres() -> None:
    assert smallest_target_mm(800, 480, 155.0) >= 9.0  # the official 7" panel
    assert smallest_target_mm(1280, 800, 217.0) >= 9.0  # a 10" panel
    assert smallest_target_mm(1920, 1080, 155.0) < 9.0  # 1080p squeezed into 7": warned
