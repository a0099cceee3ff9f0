"""A printable QR poster per referral link: an SVG drawn from segno's module matrix."""
from __future__ import annotations

import segno
from markupsafe import escape

WIDTH, HEIGHT, QR_SIZE = 600, 860, 440


def qr_path(data: str) -> tuple[str, int]:
    """One SVG path for the dark modules, and the symbol's size in modules (quiet zone included)."""
    qr = segno.make(data, error="m")
    border = 2
    matrix = list(qr.matrix)
    size = len(matrix) + 2 * border
    parts = []
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                parts.append(f"M{x + border},{y + border}h1v1h-1z")
    return "".join(parts), size


def poster_svg(url: str, code: str, shop_name: str, seller: str, headline: str, hint: str) -> str:
    path, size = qr_path(url)
    scale = QR_SIZE / size
    x = (WIDTH - QR_SIZE) / 2
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
        f'height="{HEIGHT}" font-family="PingFang SC, Noto Sans CJK SC, Microsoft YaHei, sans-serif">'
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>'
        f'<rect width="{WIDTH}" height="150" fill="#c8102e"/>'
        f'<text x="{WIDTH / 2}" y="80" font-size="40" font-weight="700" fill="#fff" text-anchor="middle">'
        f'{escape(shop_name)}</text>'
        f'<text x="{WIDTH / 2}" y="125" font-size="24" fill="#fff" text-anchor="middle">{escape(headline)}</text>'
        f'<g transform="translate({x},190) scale({scale:.4f})"><rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path d="{path}" fill="#1f2328"/></g>'
        f'<text x="{WIDTH / 2}" y="690" font-size="26" fill="#1f2328" text-anchor="middle">{escape(seller)}</text>'
        f'<text x="{WIDTH / 2}" y="735" font-size="20" fill="#656d76" text-anchor="middle">{escape(hint)}</text>'
        f'<text x="{WIDTH / 2}" y="800" font-size="18" fill="#656d76" text-anchor="middle">{escape(url)}</text>'
        f'<text x="{WIDTH / 2}" y="830" font-size="16" fill="#656d76" text-anchor="middle">{escape(code)}</text>'
        '</svg>'
    )
