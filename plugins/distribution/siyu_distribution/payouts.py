"""Withdrawals: a distributor requests, the owner approves and marks paid, or rejects.

Requesting moves the amount from payable to held under the distributor's row lock, so
concurrent requests can never take more than the payable balance; rejecting moves it
back, paying moves it to paid. A negative payable balance (a refund after a payout) is
simply netted: nothing can be requested until later commission covers it.
"""
from __future__ import annotations

import csv
import io
from typing import Iterable

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from siyu.plugin import (
    call_in_transaction, InvalidTransition, lazy_gettext as _l, MAX_AMOUNT, NotFound, utcnow,
    ValidationError, write_transaction,
)

from siyu_distribution import config, ledger
from siyu_distribution.models import Bucket, Distributor, Kind, LedgerEntry, Payout, PayoutStatus, Status


def request_payout(session: Session, distributor_id: int, amount: int, currency: str) -> Payout:
    settings = config.load(session)
    if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount <= MAX_AMOUNT:
        raise ValidationError(_l("Enter an amount."), fields={"amount": _l("a positive amount")})
    if amount < settings.min_payout:
        raise ValidationError(_l("The minimum withdrawal is %(min)s.", min=settings.min_payout),
                              fields={"amount": _l("below the minimum")})
    with write_transaction(session):
        distributor = session.scalar(select(Distributor).where(Distributor.id == distributor_id)
                                     .with_for_update())
        if distributor is None or distributor.status != Status.APPROVED.value:
            raise InvalidTransition(_l("Only approved distributors can withdraw."))
        available = ledger.payable(session, distributor_id)
        if amount > available:
            raise ValidationError(_l("You can withdraw at most %(max)s.", max=max(available, 0)),
                                  fields={"amount": _l("more than your payable balance")})
        payout = Payout(distributor_id=distributor_id, amount=amount, currency=currency,
                        status=PayoutStatus.REQUESTED.value)
        session.add(payout)
        session.flush()
        ledger.move(session, f"payout:p{payout.id}:request", Bucket.PAYABLE.value, Bucket.HELD.value, amount,
                    distributor_id=distributor_id, kind=Kind.PAYOUT.value, currency=currency,
                    payout_id=payout.id, note="request")
    return payout


def _change(session: Session, payout_id: int, allowed: tuple[str, ...], target: str, **values) -> Payout:
    result = session.execute(update(Payout).where(Payout.id == payout_id, Payout.status.in_(allowed))
                             .values(status=target, **values).execution_options(synchronize_session=False))
    payout = session.get(Payout, payout_id)
    if payout is None:
        raise NotFound(_l("Payout not found."))
    if result.rowcount != 1:
        raise InvalidTransition(_l("This payout cannot be changed that way in its current state."))
    session.refresh(payout)
    return payout


def approve(session: Session, payout_id: int, staff_id: int | None = None) -> Payout:
    with write_transaction(session):
        return _change(session, payout_id, (PayoutStatus.REQUESTED.value,), PayoutStatus.APPROVED.value,
                       decided_at=utcnow(), staff_id=staff_id)


def mark_paid(kernel, session: Session, payout_id: int, reference: str, provider: str = "manual",
              staff_id: int | None = None) -> Payout:
    reference = (reference or "").strip()
    if not reference or len(reference) > 128:
        raise ValidationError(_l("Enter the transfer reference."), fields={"reference": _l("required")})
    with write_transaction(session):
        payout = _change(session, payout_id, (PayoutStatus.APPROVED.value,), PayoutStatus.PAID.value,
                         paid_at=utcnow(), reference=reference, provider=provider[:32],
                         staff_id=staff_id)
        ledger.move(session, f"payout:p{payout.id}:paid", Bucket.HELD.value, Bucket.PAID.value, payout.amount,
                    distributor_id=payout.distributor_id, kind=Kind.PAYOUT.value, currency=payout.currency,
                    payout_id=payout.id, note=reference)
        call_in_transaction(kernel.pm, "distribution_on_payout_paid", kernel=kernel, session=session, payout=payout,
                            distributor=session.get(Distributor, payout.distributor_id))
    return payout


def send_with_provider(kernel, session: Session, payout_id: int, provider, staff_id: int | None = None) -> Payout:
    """Hand an approved payout to a payout provider, then record it as paid with its reference."""
    payout = session.get(Payout, payout_id)
    if payout is None or payout.status != PayoutStatus.APPROVED.value:
        raise InvalidTransition(_l("Only an approved payout can be sent."))
    reference = provider.send(session, payout, session.get(Distributor, payout.distributor_id))
    session.rollback()  # the provider ran outside any transaction of ours
    return mark_paid(kernel, session, payout_id, str(reference), provider=provider.name, staff_id=staff_id)


def reject(session: Session, payout_id: int, reason: str, staff_id: int | None = None) -> Payout:
    reason = (reason or "").strip()
    if not reason or len(reason) > 500:
        raise ValidationError(_l("Give a reason (at most 500 characters)."), fields={"reason": _l("required")})
    with write_transaction(session):
        payout = _change(session, payout_id, (PayoutStatus.REQUESTED.value, PayoutStatus.APPROVED.value),
                         PayoutStatus.REJECTED.value, decided_at=utcnow(), reason=reason, staff_id=staff_id)
        ledger.move(session, f"payout:p{payout.id}:reject", Bucket.HELD.value, Bucket.PAYABLE.value,
                    payout.amount, distributor_id=payout.distributor_id, kind=Kind.PAYOUT.value,
                    currency=payout.currency, payout_id=payout.id, note=reason)
    return payout


# --------------------------------------------------------------------------- statements

STATEMENT_HEADER = ("date", "kind", "bucket", "tier", "order", "amount_minor", "currency", "note")


def _cell(value) -> str:
    text = "" if value is None else str(value)
    # A spreadsheet would run a cell starting with = + - @ as a formula.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _is_number(text) else text


def _is_number(text: str) -> bool:
    return text.lstrip("-").isdigit()


def statement_csv(entries: Iterable[LedgerEntry]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(STATEMENT_HEADER)
    for e in entries:
        writer.writerow([_cell(v) for v in (e.created_at.strftime("%Y-%m-%d %H:%M:%S"), e.kind, e.bucket,
                                            e.tier or "", e.note if e.order_id else "", e.amount,
                                            e.currency, "" if e.order_id else e.note)])
    return out.getvalue()


def statement_entries(session: Session, distributor_id: int, limit: int = 20000) -> list[LedgerEntry]:
    return list(session.scalars(select(LedgerEntry).where(LedgerEntry.distributor_id == distributor_id)
                                .order_by(LedgerEntry.created_at, LedgerEntry.id).limit(limit)))


PAYOUTS_HEADER = ("id", "distributor_id", "amount_minor", "currency", "status", "requested_at", "paid_at",
                  "reference", "reason")


def payouts_csv(rows: Iterable[Payout]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(PAYOUTS_HEADER)
    for p in rows:
        writer.writerow([_cell(v) for v in (p.id, p.distributor_id, p.amount, p.currency, p.status,
                                            p.requested_at.strftime("%Y-%m-%d %H:%M:%S"),
                                            p.paid_at.strftime("%Y-%m-%d %H:%M:%S") if p.paid_at else "",
                                            p.reference, p.reason)])
    return out.getvalue()
