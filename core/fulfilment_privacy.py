"""Fulfilment's personal data in a member's data-rights requests: the address book, the
delivery copied onto their orders and their after-sales notes.

Export lists them; anonymising deletes the address book and blanks the recipient, phone,
street and notes on orders and requests, keeping the region (for the shop's figures), the
amounts and every row the books depend on.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from siyu.core.models import AfterSale, Member, MemberAddress, Order, OrderDelivery


def export_section(session: Session, member: Member) -> dict[str, Any]:
    fields = ("recipient", "phone", "province_name", "city_name", "district_name", "street")
    addresses = session.scalars(select(MemberAddress).where(MemberAddress.member_id == member.id)
                                .order_by(MemberAddress.id))
    deliveries = session.execute(select(Order.number, OrderDelivery).join(OrderDelivery, OrderDelivery.order_id == Order.id)
                                 .where(Order.member_id == member.id).order_by(Order.id))
    requests = session.scalars(select(AfterSale).where(AfterSale.member_id == member.id).order_by(AfterSale.id))
    return {"fulfilment": {
        "addresses": [{**{f: getattr(a, f) for f in fields}, "is_default": a.is_default} for a in addresses],
        "deliveries": [{"order": number, "method": d.method, **{f: getattr(d, f) for f in fields}}
                       for number, d in deliveries],
        "after_sales": [{"order_line_id": r.order_line_id, "kind": r.kind, "state": r.state, "reason": r.reason,
                         "note": r.note, "amount": r.amount, "return_tracking_number": r.return_tracking_number}
                        for r in requests],
    }}


def erase(session: Session, member: Member) -> None:
    """Inside the anonymising transaction."""
    session.execute(delete(MemberAddress).where(MemberAddress.member_id == member.id)
                    .execution_options(synchronize_session=False))
    orders = select(Order.id).where(Order.member_id == member.id).scalar_subquery()
    session.execute(update(OrderDelivery).where(OrderDelivery.order_id.in_(orders))
                    .values(recipient="", phone="", street="").execution_options(synchronize_session=False))
    session.execute(update(AfterSale).where(AfterSale.member_id == member.id).values(note="")
                    .execution_options(synchronize_session=False))
