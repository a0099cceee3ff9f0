"""The funnel drawn as server-side SVG (no JavaScript, no CDN), like the dashboard charts."""
from __future__ import annotations

from markupsafe import Markup, escape


def funnel_chart(steps: list[tuple[str, int]], width: int = 600, row: int = 34) -> Markup:
    """One centred bar per step, its width proportional to the first step's value, with the
    step's conversion from the one before it."""
    if not steps:
        return Markup("")
    top = max(value for _, value in steps) or 1
    height = row * len(steps)
    parts = [f'<svg class="chart funnel" viewBox="0 0 {width} {height}" role="img" '
             f'xmlns="http://www.w3.org/2000/svg">']
    previous = None
    for i, (label, value) in enumerate(steps):
        w = max(round(value / top * (width - 220)), 2 if value else 0)
        x = 110 + ((width - 220) - w) / 2
        y = i * row + 4
        rate = ""
        if previous:
            rate = f" ({value * 100 / previous:.1f}%)"
        parts.append(f'<rect x="{x:.1f}" y="{y}" width="{w}" height="{row - 8}" rx="3">'
                     f'<title>{escape(label)}: {value}{rate}</title></rect>')
        parts.append(f'<text x="4" y="{y + row / 2}" font-size="12">{escape(label)}</text>')
        parts.append(f'<text x="{width - 4}" y="{y + row / 2}" font-size="12" text-anchor="end">'
                     f'{value}{escape(rate)}</text>')
        previous = value
    parts.append("</svg>")
    return Markup("".join(parts))
