"""The commission ledger: append-only entries, balances as sums.

Nothing updates or deletes an entry. The ORM refuses it here (flush events for objects,
``do_orm_execute`` for bulk statements) on every database; on PostgreSQL a trigger from
the migration refuses it in the database as well, whatever the client.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, event, func, select
from sqlalchemy.orm import Session

from siyu.plugin import utcnow

from siyu_distribution.models import Bucket, LedgerEntry


class AppendOnlyError(RuntimeError):
    """A ledger entry was about to be changed or removed."""


def _refuse(*_args, **_kwargs):
    raise AppendOnlyError("distribution_ledger is append-only: write a new entry instead")


event.listen(LedgerEntry, "before_update", _refuse)
event.listen(LedgerEntry, "before_delete", _refuse)


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_changes(state):
    if (state.is_update or state.is_delete) and state.bind_mapper is not None \
            and state.bind_mapper.class_ is LedgerEntry:
        _refuse()


def entry(session: Session, *, key: str, distributor_id: int, kind: str, bucket: str, amount: int,
          currency: str, tier: int = 0, order_id: int | None = None, refund_id: int | None = None,
          payout_id: int | None = None, base: int = 0, note: str = "",
          at: datetime | None = None) -> LedgerEntry:
    row = LedgerEntry(key=key, distributor_id=distributor_id, kind=kind, bucket=bucket, amount=amount,
                      currency=currency, tier=tier, order_id=order_id, refund_id=refund_id,
                      payout_id=payout_id, base=base, note=note[:200], created_at=at or utcnow())
    session.add(row)
    return row


def move(session: Session, key: str, source: str, target: str, amount: int, **fields) -> None:
    """Move ``amount`` between two buckets: two entries of one kind."""
    entry(session, key=f"{key}:{source}", bucket=source, amount=-amount, **fields)
    entry(session, key=f"{key}:{target}", bucket=target, amount=amount, **fields)


@dataclass
class Balances:
    pending: int = 0
    payable: int = 0
    held: int = 0
    paid: int = 0

    @property
    def earned(self) -> int:
        return self.pending + self.payable + self.held + self.paid


def balances(session: Session, distributor_id: int) -> Balances:
    rows = session.execute(select(LedgerEntry.bucket, func.coalesce(func.sum(LedgerEntry.amount), 0))
                           .where(LedgerEntry.distributor_id == distributor_id)
                           .group_by(LedgerEntry.bucket))
    found = {bucket: int(total) for bucket, total in rows}
    return Balances(**{b.value: found.get(b.value, 0) for b in Bucket})


def payable(session: Session, distributor_id: int) -> int:
    return int(session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
        LedgerEntry.distributor_id == distributor_id, LedgerEntry.bucket == Bucket.PAYABLE.value)) or 0)


def earned_column():
    """Commission earned per row: accruals less reversals (for leaderboards)."""
    return func.coalesce(func.sum(case(
        (LedgerEntry.kind.in_(("accrual", "reversal")), LedgerEntry.amount), else_=0)), 0)
