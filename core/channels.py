"""Channels and their proactive-message policy: may the shop message this member now?

The built-in ``web`` channel (the storefront's chat) has no limit. A messaging platform
such as a WeChat official account only lets the shop write within a window after the
member's last interaction, and only so many messages per interaction; its adapter declares
that as a :class:`ProactivePolicy` and ``can_send`` answers with the reason and the time
the window closes. All times are aware UTC; the window is half-open: at exactly
``last interaction + window`` it is closed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from siyu.core.db import utcnow
from siyu.core.i18n import lazy_gettext as _l
from siyu.core.models import Conversation, Member
from siyu.core.registries import Registry, contributions

WEB = "web"

REASONS = {
    "no_interaction": _l("The member has not interacted on this channel yet."),
    "window_closed": _l("The contact window closed: the member's last interaction is too long ago."),
    "quota_exhausted": _l("The message quota for this contact window is used up."),
    "unknown_channel": _l("This channel is not available."),
    "member_inactive": _l("The member's account is closed."),
    "member_missing": _l("The member no longer exists."),
    "delivery_failed": _l("The channel could not deliver the message."),
}


@dataclass(frozen=True)
class ProactivePolicy:
    """The shop may send ``quota`` messages (``None``: any number) within ``window`` of
    the member's last interaction of one of ``kinds`` (``None``: any kind)."""

    window: timedelta
    quota: int | None = None
    kinds: frozenset[str] | None = None

    def opened_by(self, kind: str) -> bool:
        return self.kinds is None or kind in self.kinds


#: WeChat official accounts: customer-service messages within 48 h, 5 per interaction.
WECHAT_STYLE = ProactivePolicy(window=timedelta(hours=48), quota=5)


class DeliveryError(Exception):
    """An adapter could not deliver a message; ``reason`` is kept on the message."""

    def __init__(self, reason: str = "delivery_failed"):
        super().__init__(reason)
        self.reason = reason[:32]


@dataclass
class Channel:
    """A channel the shop talks to members over.

    ``external`` adapters get ``deliver(kernel, conversation, message)`` called after the
    message is committed (raise :class:`DeliveryError` to mark it failed); the web channel
    delivers by storing. ``shows_cards`` is False for channels that only carry text: cards
    go out as their plain summary.

    ``notice_policy`` governs service notices (a card type with ``service_notice``: order
    shipped, refund sent), which are not customer-service messages: on WeChat they go out
    as template messages, outside the 48-hour window and its quota, so they neither need
    the window nor use it up. ``None``: no limit.
    """

    name: str
    label: Any
    policy: ProactivePolicy | None = None
    notice_policy: ProactivePolicy | None = None
    external: bool = False
    shows_cards: bool = True
    options: dict = field(default_factory=dict)

    def deliver(self, kernel, conversation, message) -> None:  # pragma: no cover - adapters override
        return None


class SendCheck(NamedTuple):
    allowed: bool
    reason: str | None
    #: When the window closes (``None``: never, or already closed with no interaction).
    until: datetime | None
    #: Messages left in this window (``None``: no limit).
    remaining: int | None

    @property
    def reason_text(self):
        return REASONS.get(self.reason, self.reason) if self.reason else ""


def channels(kernel) -> Registry:
    """Channels contributed through ``register_channels``, kept in the kernel's registries
    (``plugin_of(name)`` names the plugin that registered one)."""
    return kernel.registry("channels", _collect)


def _collect(kernel) -> Registry:
    found = Registry()
    for made in contributions(kernel.pm, "register_channels"):
        channel = made.arg(0, "channel")
        found.add(channel.name, channel, made.plugin)
    return found


def get_channel(kernel, name: str) -> Channel | None:
    return channels(kernel).get(name)


def aware_now(now: datetime | None) -> datetime:
    now = now or utcnow()
    if now.tzinfo is None:
        raise ValueError("naive datetime given; use an aware datetime")
    return now


def check_window(policy: ProactivePolicy | None, last_inbound_at: datetime | None,
                 window_sends: int, now: datetime) -> SendCheck:
    """The window math on its own: exact to the microsecond, in any time zone."""
    now = aware_now(now)
    if policy is None:
        return SendCheck(True, None, None, None)
    if last_inbound_at is None:
        return SendCheck(False, "no_interaction", None, 0)
    until = last_inbound_at + policy.window
    if now >= until:
        return SendCheck(False, "window_closed", until, 0)
    if policy.quota is not None and window_sends >= policy.quota:
        return SendCheck(False, "quota_exhausted", until, 0)
    remaining = None if policy.quota is None else policy.quota - window_sends
    return SendCheck(True, None, until, remaining)


def can_send(kernel, session: Session, member: Member, channel: str,
             now: datetime | None = None) -> SendCheck:
    """May the shop send ``member`` a message on ``channel`` at ``now``?

    Returns ``(allowed, reason, until, remaining)``; ``reason`` is a key of ``REASONS``.
    """
    now = aware_now(now)
    found = get_channel(kernel, channel)
    if found is None:
        return SendCheck(False, "unknown_channel", None, 0)
    if not member.active:
        return SendCheck(False, "member_inactive", None, 0)
    row = session.execute(select(Conversation.last_inbound_at, Conversation.window_sends).where(
        Conversation.member_id == member.id, Conversation.channel == channel)).first()
    last, sends = (row[0], row[1]) if row else (None, 0)
    return check_window(found.policy, last, sends, now)


def reserve_send(session: Session, conversation: Conversation, policy: ProactivePolicy | None,
                 now: datetime) -> SendCheck:
    """Count one outbound message against the window, atomically (in a transaction).

    One conditional UPDATE: two workers sending the last message of a quota at once
    cannot both succeed.
    """
    if policy is None:
        return SendCheck(True, None, None, None)
    conditions = [Conversation.id == conversation.id,
                  Conversation.last_inbound_at > now - policy.window]
    if policy.quota is not None:
        conditions.append(Conversation.window_sends < policy.quota)
    result = session.execute(update(Conversation).where(*conditions)
                             .values(window_sends=Conversation.window_sends + 1)
                             .execution_options(synchronize_session=False))
    session.refresh(conversation)
    if result.rowcount == 1:
        until = conversation.last_inbound_at + policy.window
        remaining = None if policy.quota is None else policy.quota - conversation.window_sends
        return SendCheck(True, None, until, remaining)
    return check_window(policy, conversation.last_inbound_at, conversation.window_sends, now)


def open_window(session: Session, conversation: Conversation, at: datetime) -> None:
    """A member interaction (re)opens the window and resets its quota; never moves it back."""
    _reopen(session, at, Conversation.id == conversation.id)


def open_member_window(session: Session, member_id: int, channel: str, at: datetime) -> bool:
    """``open_window`` on the member's conversation found by its key, with no read first.

    False when no row changed: there is no conversation yet (create it, then ``open_window``),
    or it already holds a later interaction.
    """
    return _reopen(session, at, Conversation.member_id == member_id, Conversation.channel == channel) == 1


def _reopen(session: Session, at: datetime, *which) -> int:
    return session.execute(update(Conversation).where(
        *which, or_(Conversation.last_inbound_at.is_(None), Conversation.last_inbound_at <= at),
    ).values(last_inbound_at=at, window_sends=0).execution_options(synchronize_session=False)).rowcount


def closing_soon(kernel, session: Session, hours: float, now: datetime | None = None,
                 limit: int = 50, offset: int = 0, where: Any = None) -> list[tuple[Conversation, datetime]]:
    """Conversations whose window closes within ``hours``: message them (or prompt a
    check-in) before they become unreachable. Soonest first; ``where`` narrows them
    (e.g. to an agent's conversations)."""
    now = aware_now(now)
    rows: list[tuple[Conversation, datetime]] = []
    windowed = [c for c in channels(kernel).values() if c.policy is not None]
    for channel in windowed:
        start, end = now - channel.policy.window, now - channel.policy.window + timedelta(hours=hours)
        query = select(Conversation).where(
            Conversation.channel == channel.name,
            Conversation.last_inbound_at > start, Conversation.last_inbound_at <= end,
        ).order_by(Conversation.last_inbound_at, Conversation.id).limit(limit + offset)
        if where is not None:
            query = query.where(where)
        rows.extend((c, c.last_inbound_at + channel.policy.window) for c in session.scalars(query))
    rows.sort(key=lambda pair: (pair[1], pair[0].id))
    return rows[offset:offset + limit]
