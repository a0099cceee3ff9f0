"""QR codes (SVG and PNG with segno) and the printable poster.

The poster is SVG: text in SVG is rendered with whatever CJK font the viewer or printer
has, so a Chinese shop name prints correctly everywhere, while a PNG poster would need
Pillow plus a bundled CJK font (≈ 10 MB) to draw the same text. Print the SVG (any
browser prints it at full resolution) or use the PNG code in a design tool.
"""
from __future__ import annotations

import io
import re

import segno
from markupsafe import Markup, escape

# Medium error correction: survives a scuffed poster and keeps the short URL's code small.
ERROR = "m"
FONT = "'PingFang SC','Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei',sans-serif"


def make(url: str) -> segno.QRCode:
    return segno.make(url, error=ERROR, micro=False)


def qr_svg(url: str, scale: int = 8, border: int = 4) -> bytes:
    out = io.BytesIO()
    make(url).save(out, kind="svg", scale=scale, border=border, xmldecl=True, svgns=True,
                   title=url)
    return out.getvalue()


def qr_png(url: str, scale: int = 10, border: int = 4) -> bytes:
    out = io.BytesIO()
    make(url).save(out, kind="png", scale=scale, border=border)
    return out.getvalue()


def qr_inline(url: str, scale: int = 4) -> Markup:
    """The code as inline SVG markup for a back-office page (segno escapes nothing user-made)."""
    return Markup(make(url).svg_inline(scale=scale, border=2, omitsize=True))


def _path(code: segno.QRCode) -> str:
    svg = code.svg_inline(scale=1, border=0)
    match = re.search(r'd="([^"]+)"', svg)
    return match.group(1) if match else ""


def poster_svg(shop_name: str, label: str, url: str, caption: str) -> bytes:
    """An A-series proportioned poster (210×297): shop name, the code, channel label, URL."""
    code = make(url)
    modules = code.symbol_size(scale=1, border=0)[0]
    side = 150.0  # mm-ish user units of the code itself, quiet zone drawn around it
    scale = side / modules
    x, y = (210 - side) / 2, 62.0
    text = ('<text x="105" y="{y}" text-anchor="middle" font-family="{font}" font-size="{size}" '
            'fill="{fill}"{weight}>{body}</text>')
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<svg xmlns="http://www.w3.org/2000/svg" width="210mm" height="297mm" viewBox="0 0 210 297">',
        f"<title>{escape(shop_name)} · {escape(label)}</title>",
        '<rect width="210" height="297" fill="#fff"/>',
        text.format(y=36, font=FONT, size=14, fill="#222", weight=' font-weight="bold"', body=escape(shop_name)),
        f'<rect x="{x - 6}" y="{y - 6}" width="{side + 12}" height="{side + 12}" fill="#fff" '
        'stroke="#ddd" stroke-width="0.5" rx="3"/>',
        f'<path transform="translate({x} {y}) scale({scale:.4f})" stroke="#000" d="{_path(code)}"/>',
        text.format(y=y + side + 24, font=FONT, size=11, fill="#222", weight="", body=escape(label)),
        text.format(y=y + side + 38, font=FONT, size=7, fill="#555", weight="", body=escape(caption)),
        text.format(y=y + side + 50, font="monospace", size=5, fill="#777", weight="", body=escape(url)),
        "</svg>",
    ]
    return "\n".join(parts).encode("utf-8")
