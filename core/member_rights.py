"""A member's data rights: a copy of their data (JSON-ready) and anonymisation on request.

Anonymising keeps every id, order, amount and ledger row, so books and reports stay
consistent; it removes what identifies the person (email, name, password, visitor id) and
deactivates the account. Plugins add their sections to the export and erase their own
personal data through ``member_data_export`` and ``on_member_anonymised``.
"""
from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from siyu.core.db import utcnow, write_transaction
from siyu.core.errors import NotFound
from siyu.core.hooks import call_in_transaction
from siyu.core.i18n import lazy_gettext as _l
from siyu.core.models import Member, Order, Touch


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def export_member(kernel, session: Session, member_id: int) -> dict[str, Any]:
    """Everything the shop holds about a member, as plain JSON-ready values."""
    member = session.get(Member, member_id)
    if member is None:
        raise NotFound(_l("Member not found."))
    data: dict[str, Any] = {
        "member": {"id": member.id, "email": member.email, "name": member.name, "locale": member.locale,
                   "created_at": _iso(member.created_at), "active": member.active},
        "touches": [{"source": t.source, "value": t.value, "created_at": _iso(t.created_at)}
                    for t in session.scalars(select(Touch).where(Touch.member_id == member_id).order_by(Touch.id))],
        "orders": [_order(o) for o in session.scalars(select(Order).where(Order.member_id == member_id)
                                                      .order_by(Order.id))],
        "exported_at": _iso(utcnow()),
    }
    for section in kernel.pm.hook.member_data_export(session=session, member=member):
        for key, value in (section or {}).items():
            data.setdefault(key, value)
    return data


def _order(order: Order) -> dict[str, Any]:
    return {
        "number": order.number, "status": order.status, "currency": order.currency,
        "subtotal": order.subtotal, "total": order.total, "refunded_amount": order.refunded_amount,
        "placed_at": _iso(order.placed_at), "paid_at": _iso(order.paid_at),
        "lines": [{"sku": line.sku, "title": line.title_zh, "quantity": line.quantity, "total": line.total}
                  for line in order.lines],
        "adjustments": [{"code": a.code, "label": a.label, "amount": a.amount} for a in order.adjustments],
    }


def anonymise_member(kernel, session: Session, member_id: int) -> Member:
    """Remove what identifies the member; ids, orders and amounts stay. Idempotent."""
    with write_transaction(session):
        member = session.scalar(select(Member).where(Member.id == member_id).with_for_update())
        if member is None:
            raise NotFound(_l("Member not found."))
        member.email = f"anonymised-{member.id}@invalid.example"
        member.name = ""
        member.password_hash = generate_password_hash(secrets.token_urlsafe(32))
        member.locale = None
        member.visitor_id = None
        member.active = False
        member.session_version = member.session_version + 1  # signed out everywhere
        session.execute(update(Touch).where(Touch.member_id == member_id).values(visitor_id="anonymised")
                        .execution_options(synchronize_session=False))
        session.execute(update(Order).where(Order.member_id == member_id).values(visitor_id=None)
                        .execution_options(synchronize_session=False))
        session.flush()
        call_in_transaction(kernel.pm, "on_member_anonymised", kernel=kernel, session=session, member=member)
    return member
