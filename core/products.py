"""Product management for the back office and the API: create, edit, (de)activate.

Every change bumps the catalog revision so cached storefront pages are rebuilt.
"""
from __future__ import annotations

import re
from typing import Any, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from siyu.core.db import write_transaction
from siyu.core.errors import ValidationError
from siyu.core.i18n import lazy_gettext as _l
from siyu.core.models import Product
from siyu.core.money import MAX_AMOUNT, SUPPORTED_CURRENCIES
from siyu.core.settings import bump_catalog_revision
from siyu.core.validation import name_problem

SKU_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MAX_STOCK = 1_000_000
FIELDS = ("sku", "title_zh", "title_en", "description_zh", "description_en", "price", "currency",
          "stock", "active", "position", "requires_shipping")


def _problems(data: Mapping[str, Any]) -> dict:
    errors: dict = {}
    if "sku" in data and not SKU_RE.fullmatch(str(data["sku"] or "")):
        errors["sku"] = _l("Use 1–64 letters, digits, dots, dashes or underscores.")
    for key in ("title_zh", "title_en"):
        if key in data and not (0 < len((data[key] or "").strip()) <= 200):
            errors[key] = _l("Enter a title of at most 200 characters.")
        elif key in data and name_problem(data[key]):
            errors[key] = name_problem(data[key])
    for key in ("description_zh", "description_en"):
        if key in data and len(data[key] or "") > 20000:
            errors[key] = _l("Use at most 20000 characters.")
    if "price" in data and not (isinstance(data["price"], int) and 0 <= data["price"] <= MAX_AMOUNT):
        errors["price"] = _l("Enter a price between 0 and %(max)s.", max=MAX_AMOUNT)
    if "stock" in data and not (isinstance(data["stock"], int) and 0 <= data["stock"] <= MAX_STOCK):
        errors["stock"] = _l("Enter a stock between 0 and %(max)s.", max=MAX_STOCK)
    if "position" in data and not (isinstance(data["position"], int) and -MAX_STOCK <= data["position"] <= MAX_STOCK):
        errors["position"] = _l("Enter a whole number.")
    if "requires_shipping" in data and not isinstance(data["requires_shipping"], bool):
        errors["requires_shipping"] = _l("Choose yes or no.")
    if "currency" in data and data["currency"] not in SUPPORTED_CURRENCIES:
        errors["currency"] = _l("Choose a supported currency.")
    return errors


def save_product(session: Session, data: Mapping[str, Any], product: Product | None = None) -> Product:
    """Create a product (``product`` None: every field required) or update the given fields."""
    data = {k: v for k, v in data.items() if k in FIELDS}
    if product is None:
        missing = [k for k in ("sku", "title_zh", "title_en", "price", "currency") if k not in data]
        if missing:
            raise ValidationError(_l("Please correct the highlighted fields."),
                                  fields={k: _l("required") for k in missing})
    errors = _problems(data)
    if errors:
        raise ValidationError(_l("Please correct the highlighted fields."), fields=errors)
    with write_transaction(session):
        target = session.get(Product, product.id) if product is not None else None
        sku_taken = select(Product.id).where(Product.sku == data.get("sku"))
        if target is not None:
            sku_taken = sku_taken.where(Product.id != target.id)
        if "sku" in data and session.scalar(sku_taken):
            raise ValidationError(_l("This SKU is already used."), fields={"sku": _l("already used")})
        if target is None:
            target = Product(description_zh="", description_en="", stock=0, active=True, position=0)
            session.add(target)
        for key, value in data.items():
            setattr(target, key, value.strip() if key in ("sku", "title_zh", "title_en") else value)
        bump_catalog_revision(session)
    return target


def set_active(session: Session, product: Product, active: bool) -> Product:
    """Deactivate (hide from the shop, keep its order history) or reactivate a product."""
    with write_transaction(session):
        target = session.get(Product, product.id)
        target.active = bool(active)
        bump_catalog_revision(session)
    return target
