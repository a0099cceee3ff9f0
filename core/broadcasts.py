"""Broadcasts: one message or card to a list of members, as a resumable background job.

The request only validates and queues; the job (``run_broadcast``) resolves the audience,
then works in batches, each one transaction that stores the messages, moves the window
quotas and adds to the report. A retried job skips the conversations its broadcast already
reached (a unique key), so nobody gets it twice. Members outside their channel's window
get the message stored as ``undelivered`` with the reason and are counted as skipped.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterable

from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from siyu.core import channels as ch
from siyu.core import jobs
from siyu.core.cards import card_types
from siyu.core.conversations import clean_text, deliver_pending
from siyu.core.db import utcnow, write_transaction
from siyu.core.errors import ValidationError
from siyu.core.i18n import lazy_gettext as _l
from siyu.core.models import Broadcast, Conversation, Member, Message, StaffUser
from siyu.core.plugins import call_isolated

log = logging.getLogger("siyu.broadcasts")
BATCH = 500
MAX_LISTED = 100_000


@dataclass
class Audience:
    key: str
    label: Any
    resolve: Callable[[Session], Iterable[int]]


def audiences(kernel, session: Session) -> list[Audience]:
    found: list[Audience] = []
    for result in call_isolated(kernel.pm, "broadcast_audiences", session=session):
        found.extend(result)
    return found


def create_broadcast(kernel, session: Session, staff: StaffUser | None, *, channel: str = ch.WEB,
                     audience: str | None = None, member_ids: list[int] | None = None,
                     text: str | None = None, card_type: str | None = None,
                     card_key: str | None = None) -> Broadcast:
    """Validate and queue a broadcast; the job does the sending."""
    errors: dict[str, Any] = {}
    if ch.get_channel(kernel, channel) is None:
        errors["channel"] = _l("Unknown.")
    if member_ids is not None:
        if not member_ids or len(member_ids) > MAX_LISTED or not all(isinstance(i, int) for i in member_ids):
            errors["member_ids"] = _l("Give between 1 and %(n)d member ids.", n=MAX_LISTED)
        audience = "list"
    elif audience not in {a.key for a in audiences(kernel, session)}:
        errors["audience"] = _l("Choose who receives it.")
    payload: dict = {}
    if card_type:
        card = card_types(kernel).get(card_type)
        choice = next((c for c in (card.choices(session) if card and card.choices else [])
                       if c.key == card_key), None)
        if choice is None:
            errors["card"] = _l("Choose a card to send.")
        else:
            payload, text = choice.payload, card.summary_of(choice.payload)
    else:
        try:
            text = clean_text(text)
        except ValidationError as exc:
            errors.update(exc.fields)
    if errors:
        raise ValidationError(_l("The broadcast could not be queued."), fields=errors)
    with write_transaction(session):
        broadcast = Broadcast(staff_id=staff.id if staff else None, channel=channel, audience=audience,
                              member_ids=member_ids, kind="card" if card_type else "text",
                              body=text[:2000], card_type=card_type or None, payload=payload)
        session.add(broadcast)
    jobs.enqueue(kernel, "broadcast", broadcast.id)
    return broadcast


def run_broadcast(kernel, broadcast_id: int, now: datetime | None = None, batch: int = BATCH) -> None:
    """The job: claim the broadcast, resolve its audience, send in batches, report."""
    session = kernel.db.Session()
    try:
        with write_transaction(session):
            claimed = session.execute(
                update(Broadcast).where(Broadcast.id == broadcast_id,
                                        Broadcast.status.in_(("queued", "running", "failed")))
                .values(status="running", started_at=utcnow(), error=None)
                .execution_options(synchronize_session=False)).rowcount
        if not claimed:
            return  # done already, or unknown
        broadcast = session.get(Broadcast, broadcast_id)
        try:
            ids = _resolve(kernel, session, broadcast)
            with write_transaction(session):
                session.execute(update(Broadcast).where(Broadcast.id == broadcast_id).values(total=len(ids)))
            for start in range(0, len(ids), batch):
                _send_batch(kernel, session, broadcast, ids[start:start + batch], now or utcnow())
        except Exception as exc:
            session.rollback()
            with write_transaction(session):
                session.execute(update(Broadcast).where(Broadcast.id == broadcast_id).values(
                    status="failed", error=f"{type(exc).__name__}: {exc}"[:500]))
            raise  # the queue retries; the job resumes where it stopped
        with write_transaction(session):
            session.execute(update(Broadcast).where(Broadcast.id == broadcast_id).values(
                status="done", finished_at=utcnow()))
    finally:
        session.close()


def _resolve(kernel, session: Session, broadcast: Broadcast) -> list[int]:
    if broadcast.audience == "list":
        raw = broadcast.member_ids or []
    else:
        audience = next((a for a in audiences(kernel, session) if a.key == broadcast.audience), None)
        if audience is None:
            raise LookupError(f"audience {broadcast.audience!r} is no longer offered")
        raw = audience.resolve(session)
    return sorted({int(i) for i in raw})


def _insert_ignore(session: Session):
    dialect = session.get_bind().dialect.name
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(Conversation).on_conflict_do_nothing()


def _send_batch(kernel, session: Session, broadcast: Broadcast, ids: list[int], now: datetime) -> None:
    channel = ch.get_channel(kernel, broadcast.channel)
    policy = channel.policy if channel else None
    counts = {"sent": 0, "skipped": 0, "failed": 0}
    reasons: dict[str, int] = {}
    with write_transaction(session):
        active = dict(session.execute(select(Member.id, Member.active).where(Member.id.in_(ids))).all())
        known = [i for i in ids if i in active]
        if known:
            session.execute(_insert_ignore(session), [
                {"member_id": i, "channel": broadcast.channel, "created_at": now, "window_sends": 0,
                 "unread_by_staff": 0, "unread_by_member": 0} for i in known])
        # Locked: a concurrent reply cannot spend the same quota (PostgreSQL; SQLite writers
        # are serialised by BEGIN IMMEDIATE already).
        conversations = {c.member_id: c for c in session.scalars(
            select(Conversation).where(Conversation.member_id.in_(known),
                                       Conversation.channel == broadcast.channel)
            .order_by(Conversation.id).with_for_update())}
        reached = set(session.scalars(select(Message.conversation_id).where(
            Message.broadcast_id == broadcast.id,
            Message.conversation_id.in_([c.id for c in conversations.values()]))))
        messages, moved = [], []
        # A batch is one transaction: any message of it means an earlier attempt committed it.
        for member_id in ([] if reached else ids):
            conversation = conversations.get(member_id)
            if conversation is None:
                check = ch.SendCheck(False, "member_missing", None, 0)
            elif channel is None:
                check = ch.SendCheck(False, "unknown_channel", None, 0)
            elif not active[member_id]:
                check = ch.SendCheck(False, "member_inactive", None, 0)
            else:
                check = ch.check_window(policy, conversation.last_inbound_at, conversation.window_sends, now)
            outcome = "sent" if check.allowed else (
                "skipped" if check.reason in ("window_closed", "quota_exhausted", "no_interaction") else "failed")
            counts[outcome] += 1
            if check.reason:
                reasons[check.reason] = reasons.get(check.reason, 0) + 1
            if conversation is None:
                continue
            messages.append({
                "conversation_id": conversation.id, "direction": "out", "author": "system",
                "staff_id": broadcast.staff_id, "kind": broadcast.kind, "body": broadcast.body,
                "card_type": broadcast.card_type, "payload": broadcast.payload or {},
                "delivery": ("pending" if channel.external else "delivered") if check.allowed else "undelivered",
                "reason": check.reason, "broadcast_id": broadcast.id, "created_at": now})
            moved.append({"id": conversation.id, "last_message_at": now,
                          "window_sends": conversation.window_sends + (1 if check.allowed and policy else 0),
                          "unread_by_member": conversation.unread_by_member + (1 if check.allowed else 0)})
        if messages:
            session.execute(insert(Message), messages)
            session.execute(update(Conversation), moved)
        if not reached:
            _add_to_report(session, broadcast.id, len(ids), counts, reasons)
    if channel is not None and channel.external:
        _deliver_batch(kernel, session, broadcast, [c.id for c in conversations.values()])


def _deliver_batch(kernel, session: Session, broadcast: Broadcast, conversation_ids: list[int]) -> None:
    pending = list(session.scalars(select(Message).where(
        Message.broadcast_id == broadcast.id, Message.delivery == "pending",
        Message.conversation_id.in_(conversation_ids))))
    deliver_pending(kernel, session, pending)
    failed = [m for m in pending if m.delivery == "failed"]
    if failed:
        reasons: dict[str, int] = {}
        for m in failed:
            reasons[m.reason or "delivery_failed"] = reasons.get(m.reason or "delivery_failed", 0) + 1
        with write_transaction(session):
            _add_to_report(session, broadcast.id, 0, {"sent": -len(failed), "skipped": 0,
                                                      "failed": len(failed)}, reasons)


def _add_to_report(session: Session, broadcast_id: int, processed: int, counts: dict, reasons: dict) -> None:
    row = session.scalars(select(Broadcast).where(Broadcast.id == broadcast_id).with_for_update()
                          .execution_options(populate_existing=True)).one()
    merged = dict(row.reasons or {})
    for key, n in reasons.items():
        merged[key] = merged.get(key, 0) + n
    session.execute(update(Broadcast).where(Broadcast.id == broadcast_id).values(
        processed=Broadcast.processed + processed, sent=Broadcast.sent + counts["sent"],
        skipped=Broadcast.skipped + counts["skipped"], failed=Broadcast.failed + counts["failed"],
        reasons=merged).execution_options(synchronize_session=False))
