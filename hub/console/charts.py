"""Pictures drawn on the server as SVG: no JavaScript, nothing fetched from elsewhere."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import pygal
import segno
from markupsafe import Markup
from pygal.style import Style

from hub.console.queries import DayFigures

_STYLE = Style(background="white", plot_background="white", font_family="DejaVu Sans, sans-serif",
               colors=("#1f5f8b", "#3aa35b", "#e0a100", "#c0392b"))  # fmt: skip


def entries_chart(figures: list[DayFigures], _: Callable[[str], str]) -> Markup:
    """Entries, billable entries, children and refusals per day, every museum shown added up."""
    days: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for f in figures:
        row = days[f.day]
        row[0] += f.entries
        row[1] += f.billable
        row[2] += f.children
        row[3] += sum(f.refusals.values())
    labels = sorted(days)
    # js=[]: pygal's SVG would otherwise load its tooltip script from the internet.
    chart = pygal.Bar(style=_STYLE, js=[], height=300, width=900, legend_at_bottom=True,
                      x_label_rotation=30, disable_xml_declaration=True,
                      show_x_labels=True, print_values=False)  # fmt: skip
    chart.add_xml_filter(_without_scripts)
    chart.x_labels = labels
    for index, name in enumerate((_("Entries"), _("Billable"), _("Children"), _("Refusals"))):
        chart.add(name, [days[day][index] for day in labels])
    return Markup(chart.render(is_unicode=True))


def _without_scripts(root):  # noqa: ANN001, ANN202 - pygal's etree element
    """pygal always adds a script with its settings: the page runs no script at all."""
    for parent in list(root.iter()):
        for child in list(parent):
            if str(child.tag).endswith("script"):
                parent.remove(child)
    return root


def qr_svg(text: str) -> Markup:
    """``text`` as a QR code to print or scan, inline SVG."""
    return Markup(segno.make(text, error="m").svg_inline(scale=5, border=2))
