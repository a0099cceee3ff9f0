"""The core's hooks about people: members and their attribution, then conversations.

The same conventions as ``siyu.core.hookspecs`` (read its docstring); split from it to keep
each module readable. ``docs/hooks.md`` documents both, in this order.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from siyu.core import hookspec

if TYPE_CHECKING:  # pragma: no cover - imports for annotations only
    from datetime import datetime

    from sqlalchemy.orm import Session

    from siyu.core.kernel import Kernel
    from siyu.core.models import Member, Message


# ------------------------------------------------------------ members and attribution


@hookspec
def on_member_created(kernel: "Kernel", session: "Session", member: "Member", visitor_id: str | None,
                      attribution: Mapping[str, Any]) -> None:
    """A shopper signed up. The visitor's touches are already bound to the member;
    ``attribution`` is what the storefront read from the request about where they came from,
    by plugin (the storefront's ``request_attribution``; empty from the API, jobs and the CLI).

    In the sign-up transaction: record first-touch attribution and a referral binding (they
    decide who is paid commission), give a welcome gift; statistics and rule tags after
    commit (``after_commit``, key ``member:<id>:created``).
    """


@hookspec
def member_data_export(session: "Session", member: "Member") -> Mapping[str, Any] | None:
    """Contribute your part of a member's data export (a data-rights request):
    ``{"<plugin>": {...}}`` with JSON-ready values (ISO dates, ints, strings).

    ``siyu.core.member_rights.export_member`` merges the sections after the core's
    (member, touches, orders). Read only, not in a transaction.
    """


@hookspec
def on_member_anonymised(kernel: "Kernel", session: "Session", member: "Member") -> None:
    """A member asked to be forgotten: the core has replaced their email and name, made the
    account inactive and kept every id, order and amount.

    Erase or neutralise your personal data about them (free text, tags, contact details)
    but keep rows that books depend on (ledgers, commissions), tied to the same id. In the
    anonymising transaction: raising aborts it and nothing is changed.
    """


# ---------------------------------------------------------------------- conversations


@hookspec
def register_channels(register: Callable[[Any], None]) -> None:
    """Contribute channel adapters: ``register(channel)``.

    ``channel`` is a ``siyu.core.channels.Channel``: ``name`` (stable id), ``label``,
    ``policy`` (a ``ProactivePolicy``: how long after the member's last interaction the
    shop may still write, and how many messages per interaction; ``None`` for no limit),
    ``external`` and ``deliver(kernel, conversation, message)`` (called after the message
    is committed; raise ``DeliveryError`` to mark it failed), and ``notice_policy`` for
    service notices (order shipped, refund sent: WeChat's template messages, not bound to
    the 48-hour window; ``None``: no limit). The core's default plugin registers ``web``,
    the storefront chat, with no limit. Called once per kernel. Not in a transaction.
    """


@hookspec
def register_card_types(register: Callable[..., None]) -> None:
    """Contribute chat card types: ``register(card_type)`` with a
    ``siyu.core.cards.CardType``.

    A card type has ``name``, ``label``, ``render_member(payload, state)`` and
    ``render_agent(payload, state)`` returning escaped markup (``state`` maps the actions
    already performed to their results), ``summary(payload)`` (plain text for channels
    without cards), ``actions`` (``{"claim": CardAction(label, handler)}``),
    ``choices(session)`` (ready-to-send cards the agent picks from) and ``service_notice``
    (a notice about the member's own order, posted with ``siyu.core.notices.post_notice``
    under each channel's ``notice_policy``; the core's order cards are ``order_shipped``,
    ``order_completed``, ``after_sale_approved``, ``after_sale_rejected`` and
    ``order_refunded``: a card type registered first under one of these names replaces
    its look). An action's ``handler(session, member, message, payload)`` runs in the
    action's transaction and returns a small JSON-able dict (``{"message": ...}``); it
    runs at most once per (message, action, member): a repeat returns the stored result.
    Raise a ``SiyuError``
    to refuse with a message. Rendering is a display call: a failure is logged and the
    card's summary is shown. Called once per kernel. Not in a transaction.
    """


@hookspec
def on_member_interaction(kernel: "Kernel", session: "Session", member: "Member", kind: str, channel: str,
                          at: "datetime") -> None:
    """A member interacted on ``channel`` at ``at`` (aware UTC): ``kind`` is ``message``,
    ``click`` (a card action), ``checkin``, ``payment`` or a plugin's own.

    The core has already recorded it and reopened the channel's contact window (for a
    payment, after the payment committed: the core's default plugin records it with
    ``after_commit``). Record interactions with ``siyu.core.conversations.record_interaction``.
    In the transaction of the interaction: raising aborts it; what is not part of the
    interaction itself goes after commit (``after_commit``).
    """


@hookspec
def on_message_received(kernel: "Kernel", session: "Session", message: "Message", member: "Member") -> None:
    """A member's message arrived (``message.direction == "in"``), already stored.

    React to it, e.g. a check-in keyword, with
    ``siyu.core.conversations.post_outbound(kernel, session, conversation, ...)``. In the
    transaction that stores the message: raising aborts it and the member sees an error.
    A reply the member waits for (a check-in's answer, its points) belongs here; statistics
    after commit (``after_commit``).
    """


@hookspec
def broadcast_audiences(session: "Session") -> Sequence[Any] | None:
    """Offer lists of members to broadcast to: return ``siyu.core.broadcasts.Audience``
    objects (``key``, ``label``, ``resolve(session) -> iterable of member ids``).

    Keys are stable (``"crm_tags:segment:7"``); the broadcast job calls the hook again and
    resolves the key it was given. The core offers ``all`` (every active member).
    Read only, not in a transaction.
    """

