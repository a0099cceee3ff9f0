"""Product images: checked by content (not by name or declared type), stored under random
names in the shop's media folder, recorded as ``ProductImage`` rows.

The web layer serves ``media/<path>`` from the same folder; the path stored on the row is
``media/products/<random>.<ext>`` so templates can tell uploads from bundled static images.
"""
from __future__ import annotations

import secrets
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from siyu.core.db import write_transaction
from siyu.core.errors import NotFound, ValidationError
from siyu.core.i18n import lazy_gettext as _l
from siyu.core.models import Product, ProductImage
from siyu.core.settings import bump_catalog_revision

MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_IMAGES_PER_PRODUCT = 12
PREFIX = "media/"


def sniff_image(data: bytes) -> str | None:
    """The file extension for PNG, JPEG, WebP or GIF content, else None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    return None


def add_product_image(session: Session, media_root: str | Path, product: Product, data: bytes,
                      alt: str = "") -> ProductImage:
    """Check and store an uploaded image; nothing is kept when any check fails."""
    if not data:
        raise ValidationError(_l("Choose an image to upload."), fields={"image": _l("required")})
    if len(data) > MAX_IMAGE_BYTES:
        raise ValidationError(_l("Images may be at most 5 MB."), fields={"image": _l("too large")})
    ext = sniff_image(data)
    if ext is None:
        raise ValidationError(_l("Upload a PNG, JPEG, WebP or GIF image."), fields={"image": _l("not an image")})
    relative = f"products/{secrets.token_urlsafe(16)}.{ext}"
    target = Path(media_root) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    try:
        with write_transaction(session):
            count = session.scalar(select(func.count(ProductImage.id)).where(ProductImage.product_id == product.id))
            if count >= MAX_IMAGES_PER_PRODUCT:
                raise ValidationError(_l("A product has at most %(n)d images.", n=MAX_IMAGES_PER_PRODUCT),
                                      fields={"image": _l("too many images")})
            image = ProductImage(product_id=product.id, path=PREFIX + relative, alt=alt[:200], position=count)
            session.add(image)
            bump_catalog_revision(session)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return image


def remove_product_image(session: Session, media_root: str | Path, product: Product, image_id: int) -> None:
    with write_transaction(session):
        image = session.scalar(select(ProductImage).where(
            ProductImage.id == image_id, ProductImage.product_id == product.id))
        if image is None:
            raise NotFound(_l("Image not found."))
        path = image.path
        session.delete(image)
        bump_catalog_revision(session)
    if path.startswith(PREFIX):
        (Path(media_root) / path[len(PREFIX):]).unlink(missing_ok=True)
