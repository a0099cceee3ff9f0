"""Coupon templates: create, edit, delete, with every rule checked before anything is written.

Once a template has issued coupons its offer is frozen (members hold what they were shown);
name, texts, end date, quantity, limit and the active flag stay editable.
"""
from __future__ import annotations

import re
import secrets
from typing import Any, Mapping

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from siyu.plugin import (
    InvalidTransition, lazy_gettext as _l, MAX_AMOUNT, MAX_ID, name_problem, Product, SUPPORTED_CURRENCIES,
    ValidationError, write_transaction,
)
from siyu_coupons.models import KINDS, SCOPES, Coupon, CouponTemplate, TemplateProduct

CODE = re.compile(r"[A-Za-z0-9_-]{3,32}")
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
#: Fields that define the offer: frozen once coupons exist.
OFFER = ("kind", "currency", "amount", "percent_bp", "max_discount", "min_spend", "repeat", "scope",
         "with_member_price")
EDITABLE = ("name", "description", "valid_from", "valid_until", "valid_days", "quantity",
            "per_member_limit", "active") + OFFER
MAX_LIMIT = 100


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))


def scope_product_ids(session: Session, template_id: int) -> list[int]:
    return list(session.scalars(select(TemplateProduct.product_id)
                                .where(TemplateProduct.template_id == template_id)
                                .order_by(TemplateProduct.product_id)))


def _amount(value: Any, errors: dict, field: str, required: bool = False) -> None:
    if value is None:
        if required:
            errors[field] = _l("Required.")
        return
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_AMOUNT:
        errors[field] = _l("Enter an amount above zero.")


def validate(session: Session, data: Mapping[str, Any], template: CouponTemplate | None) -> dict[str, str]:
    """Field errors for ``data`` (a complete set of values); empty when it can be saved."""
    errors: dict[str, Any] = {}
    name = str(data.get("name") or "").strip()
    if not name or len(name) > 100:
        errors["name"] = _l("Give the coupon a name of up to 100 characters.")
    elif name_problem(name):
        errors["name"] = name_problem(name)
    kind = data.get("kind")
    if kind not in KINDS:
        errors["kind"] = _l("Choose a kind.")
    if data.get("currency") not in SUPPORTED_CURRENCIES:
        errors["currency"] = _l("Choose a supported currency.")
    if kind == "fixed":
        _amount(data.get("amount") or None, errors, "amount", required=True)
    if kind == "percent" and not 0 < int(data.get("percent_bp") or 0) <= 10000:
        errors["percent_bp"] = _l("Enter a percentage between 0.01 and 100.")
    if kind == "threshold":
        _amount(data.get("min_spend") or None, errors, "min_spend", required=True)
        _amount(data.get("amount") or None, errors, "amount", required=True)
        if not errors and data["amount"] > data["min_spend"]:
            errors["amount"] = _l("The saving cannot be more than the spend it needs.")
    _amount(data.get("max_discount"), errors, "max_discount")
    min_spend = data.get("min_spend") or 0
    if not isinstance(min_spend, int) or not 0 <= min_spend <= MAX_AMOUNT:
        errors["min_spend"] = _l("Enter an amount of zero or more.")
    start, end = data.get("valid_from"), data.get("valid_until")
    if start and end and end <= start:
        errors["valid_until"] = _l("The end must come after the start.")
    days = data.get("valid_days")
    if days is not None and not 1 <= days <= 3650:
        errors["valid_days"] = _l("Between 1 and 3650 days.")
    quantity = data.get("quantity")
    issued = template.issued if template is not None else 0
    if quantity is not None and (quantity < 1 or quantity < issued):
        errors["quantity"] = _l("At least 1, and no fewer than the %(n)d already issued.", n=issued)
    elif quantity is not None and quantity > MAX_ID:
        errors["quantity"] = _l("At most %(n)d.", n=MAX_ID)
    if not 1 <= int(data.get("per_member_limit") or 0) <= MAX_LIMIT:
        errors["per_member_limit"] = _l("Between 1 and %(n)d per member.", n=MAX_LIMIT)
    if data.get("scope") not in SCOPES:
        errors["scope"] = _l("Choose where the coupon applies.")
    elif data["scope"] == "products":
        ids = set(data.get("product_ids") or ())
        found = set(session.scalars(select(Product.id).where(Product.id.in_(ids)))) if ids else set()
        if not ids or found != ids:
            errors["product_ids"] = _l("Choose at least one existing product.")
    if template is not None and template.issued > 0:
        changed = [f for f in OFFER if getattr(template, f) != data.get(f)]
        if data.get("scope") == "products" and set(data.get("product_ids") or ()) != \
                set(scope_product_ids(session, template.id)):
            changed.append("product_ids")
        for field in changed:
            errors[field] = _l("The offer cannot change once coupons are issued; create a new coupon.")
    return errors


def normalise(data: Mapping[str, Any]) -> dict[str, Any]:
    """Fields a kind does not use are stored as zero, so an unchanged offer compares equal."""
    clean = dict(data)
    kind = clean.get("kind")
    clean["amount"] = (clean.get("amount") or 0) if kind != "percent" else 0
    clean["percent_bp"] = int(clean.get("percent_bp") or 0) if kind == "percent" else 0
    clean["repeat"] = bool(clean.get("repeat")) and kind == "threshold"
    clean["min_spend"] = clean.get("min_spend") or 0
    clean["name"] = str(clean.get("name") or "").strip()
    clean["description"] = str(clean.get("description") or "").strip()[:500]
    return clean


def save_template(session: Session, data: Mapping[str, Any], template: CouponTemplate | None = None) -> CouponTemplate:
    """Create (``template=None``) or update a template; raises ``ValidationError``."""
    data = normalise(data)
    errors = validate(session, data, template)
    code = str(data.get("code") or "").strip()
    if template is None and code and not CODE.fullmatch(code):
        errors["code"] = _l("3 to 32 letters, digits, - or _.")
    if errors:
        raise ValidationError(_l("Please correct the marked fields."), fields=errors)
    try:
        with write_transaction(session):
            if template is None:
                template = CouponTemplate(code=code or new_code(), issued=0)
                session.add(template)
            for field in EDITABLE:
                setattr(template, field, data.get(field))
            session.flush()
            session.execute(delete(TemplateProduct).where(TemplateProduct.template_id == template.id))
            if data["scope"] == "products":
                session.add_all(TemplateProduct(template_id=template.id, product_id=pid)
                                for pid in sorted(set(data["product_ids"])))
    except IntegrityError as exc:
        # A duplicate code, or claims raised ``issued`` above the new quantity meanwhile.
        raise ValidationError(_l("Please correct the marked fields."), fields={
            "code": _l("This code is taken."), "quantity": _l("No fewer than already issued.")}) from exc
    return template


def delete_template(session: Session, template: CouponTemplate) -> None:
    """Delete a template nobody holds; one that issued coupons can only be deactivated."""
    with write_transaction(session):
        held = session.scalar(select(func.count(Coupon.id)).where(Coupon.template_id == template.id))
        if held or template.issued:
            raise InvalidTransition(_l("Coupons of this kind were issued: deactivate it instead."))
        session.delete(template)


def template_by_code(session: Session, code: str) -> CouponTemplate | None:
    if not code or not CODE.fullmatch(code):
        return None
    return session.scalar(select(CouponTemplate).where(CouponTemplate.code == code))
