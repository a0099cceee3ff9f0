"""The claim page's QR code for posters (segno): SVG and PNG downloads, inline SVG."""
from __future__ import annotations

import io

import segno
from markupsafe import Markup


def make(url: str) -> segno.QRCode:
    # Medium error correction survives a scuffed poster and keeps the code small.
    return segno.make(url, error="m", micro=False)


def qr_svg(url: str) -> bytes:
    out = io.BytesIO()
    make(url).save(out, kind="svg", scale=8, border=4, xmldecl=True, svgns=True, title=url)
    return out.getvalue()


def qr_png(url: str) -> bytes:
    out = io.BytesIO()
    make(url).save(out, kind="png", scale=10, border=4)
    return out.getvalue()


def qr_inline(url: str) -> Markup:
    return Markup(make(url).svg_inline(scale=4, border=2, omitsize=True))
