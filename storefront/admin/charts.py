"""Small SVG charts drawn on the server: no JavaScript, no CDN."""
from __future__ import annotations

from markupsafe import Markup, escape


def bar_chart(points: list[tuple[str, int]], height: int = 120, width: int = 600) -> Markup:
    """A bar per point; labels every few bars so thirty days stay readable on a phone."""
    if not points:
        return Markup("")
    top = max(max(value for _, value in points), 1)
    bar = width / len(points)
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height + 18}" role="img" '
             f'preserveAspectRatio="none" xmlns="http://www.w3.org/2000/svg">']
    step = max(1, len(points) // 6)
    for i, (label, value) in enumerate(points):
        h = round(max(value, 0) / top * height)  # a net loss draws no bar, not a negative one
        x = round(i * bar + bar * 0.15, 1)
        parts.append(f'<rect x="{x}" y="{height - h}" width="{round(bar * 0.7, 1)}" height="{h}">'
                     f'<title>{escape(label)}: {value}</title></rect>')
        if i % step == 0:
            parts.append(f'<text x="{x}" y="{height + 14}" font-size="11">{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
