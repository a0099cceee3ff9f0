"""Chat cards: plugin-provided rich messages (a coupon with a "claim" button) and their
actions, which run at most once per (message, action, member).

The member acts from inside the chat; the first action stores its result under a unique
key, and any repeat (a double tap, a retry after a lost answer, a second worker) gets the
stored result back instead of running the handler again.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, NamedTuple

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from siyu.core.conversations import deliver_pending, post_outbound, record_interaction
from siyu.core.db import write_transaction
from siyu.core.errors import NotFound, PluginError, SiyuError, ValidationError
from siyu.core.i18n import lazy_gettext as _l
from siyu.core.isolation import run_isolated
from siyu.core.models import CardActionResult, Conversation, Member, Message, StaffUser
from siyu.core.registries import Registry, contributions

log = logging.getLogger("siyu.plugins")


@dataclass
class CardAction:
    """``handler(session, member, message, payload)`` → a JSON-able dict (or ``None``)."""

    label: Any
    handler: Callable[..., dict | None]


@dataclass
class CardChoice:
    """A ready-to-send card the agent picks in the inbox (e.g. one per active coupon)."""

    key: str
    label: Any
    payload: dict


@dataclass
class CardType:
    name: str
    label: Any
    #: ``render(payload, state) -> Markup``; ``state`` maps performed actions to results.
    render_member: Callable[[dict, dict], Any]
    render_agent: Callable[[dict, dict], Any] | None = None
    #: Plain text for channels without cards and for previews.
    summary: Callable[[dict], str] | None = None
    actions: dict[str, CardAction] = field(default_factory=dict)
    choices: Callable[[Session], list[CardChoice]] | None = None
    #: A service notice about the member's own order (shipped, refunded), posted by the
    #: shop with ``siyu.core.notices.post_notice``: sent under each channel's
    #: ``notice_policy`` (WeChat: a template message), never under the marketing window.
    #: Its payload names ``order_number`` (and ``order_id``); the chat links to the order.
    service_notice: bool = False
    #: The plugin that registered it, set by the kernel's registry (for log lines).
    plugin: str = field(default="", compare=False, repr=False)

    def summary_of(self, payload: dict) -> str:
        if not self.summary:
            return str(self.label)
        return run_isolated(self.plugin or "?", f"card type {self.name} (summary)",
                            lambda: str(self.summary(payload)), default=str(self.label))


class ActionOutcome(NamedTuple):
    result: dict
    #: True when the action had already been performed and its stored result is returned.
    replayed: bool


def card_types(kernel) -> Registry:
    """Card types contributed through ``register_card_types``, kept in the kernel's registries
    (``plugin_of(name)`` names the plugin that registered one)."""
    return kernel.registry("card_types", _collect)


def _collect(kernel) -> Registry:
    found = Registry()
    for made in contributions(kernel.pm, "register_card_types"):
        card = made.arg(0, "card_type")
        if card.name not in found:
            card.plugin = made.plugin
        found.add(card.name, card, made.plugin)
    return found


def send_card(kernel, session: Session, conversation: Conversation, card_type: str, payload: dict,
              staff: StaffUser | None = None, now: datetime | None = None) -> Message:
    """Send a card into a conversation (same window rules as a text)."""
    card = card_types(kernel).get(card_type)
    if card is None:
        raise ValidationError(_l("This card type is not available."), fields={"card_type": _l("Unknown.")})
    with write_transaction(session):
        message = post_outbound(kernel, session, conversation, body=card.summary_of(payload)[:2000],
                                kind="card", card_type=card_type, payload=payload, staff=staff, now=now)
    deliver_pending(kernel, session, [message])
    return message


def send_choice(kernel, session: Session, conversation: Conversation, card_type: str, key: str,
                staff: StaffUser | None = None) -> Message:
    """Send the card the agent picked; its payload comes from the plugin, not the form."""
    card = card_types(kernel).get(card_type)
    choices = card.choices(session) if card is not None and card.choices else []
    choice = next((c for c in choices if c.key == key), None)
    if choice is None:
        raise ValidationError(_l("Choose a card to send."), fields={"card": _l("Unknown.")})
    return send_card(kernel, session, conversation, card_type, choice.payload, staff=staff)


def perform_action(kernel, session: Session, member: Member, message_id: int, action: str) -> ActionOutcome:
    """Run a card action for ``member``, once; a repeat returns the stored result."""
    message = session.get(Message, message_id)
    conversation = session.get(Conversation, message.conversation_id) if message is not None else None
    if message is None or conversation is None or conversation.member_id != member.id \
            or message.kind != "card" or message.direction != "out":
        raise NotFound(_l("We could not find that card."))
    card = card_types(kernel).get(message.card_type or "")
    handler = card.actions.get(action) if card is not None else None
    if handler is None:
        raise NotFound(_l("This card has no such action."))
    if message.delivery != "delivered":
        raise ValidationError(_l("This card was not delivered."))
    try:
        with write_transaction(session):
            row = CardActionResult(message_id=message.id, action=action, member_id=member.id, result={})
            session.add(row)
            session.flush()  # the unique key: a second attempt stops here
            row.result = _run(card, action, handler, session=session, member=member,
                              message=message, payload=dict(message.payload or {}))
            record_interaction(kernel, session, member, "click", conversation.channel)
        return ActionOutcome(row.result, False)
    except IntegrityError:
        stored = session.scalar(select(CardActionResult).where(
            CardActionResult.message_id == message.id, CardActionResult.action == action,
            CardActionResult.member_id == member.id))
        if stored is None:  # the handler's own constraint failed, not ours
            raise
        return ActionOutcome(stored.result, True)


def _run(card: CardType, action: str, handler: CardAction, **kwargs) -> dict:
    try:
        result = handler.handler(**kwargs)
    except (SiyuError, IntegrityError):
        raise
    except Exception as exc:
        log.exception("card %s action %s failed; rolled back", card.name, action)
        raise PluginError(_l("The change could not be completed: %(plugin)s failed (%(error)s).",
                             plugin=card.name, error=type(exc).__name__),
                          plugin=card.name, hook="card_action") from exc
    return {k: str(v) if not isinstance(v, (int, float, bool, type(None))) else v
            for k, v in dict(result or {}).items()}


def action_states(session: Session, message_ids: list[int]) -> dict[int, dict[str, dict]]:
    """Performed actions per card message: ``{message_id: {action: result}}``."""
    states: dict[int, dict[str, dict]] = {}
    if not message_ids:
        return states
    rows = session.scalars(select(CardActionResult).where(CardActionResult.message_id.in_(message_ids)))
    for row in rows:
        states.setdefault(row.message_id, {})[row.action] = row.result
    return states


def render(kernel, message: Message, viewer: str, state: dict) -> Markup:
    """A card's markup for ``member`` or ``agent``; a failing renderer shows the summary."""
    card = card_types(kernel).get(message.card_type or "")
    if card is None:
        return Markup("<p>{}</p>").format(message.body)
    renderer = card.render_agent if viewer == "agent" and card.render_agent else card.render_member
    fallback = Markup("<p>{}</p>").format(message.body)
    body = run_isolated(card.plugin or "?", f"card type {card.name} ({viewer})", renderer,
                        dict(message.payload or {}), state, default=fallback)
    return body if isinstance(body, Markup) else Markup.escape(body)


def card_choices(kernel, session: Session) -> list[tuple[CardType, CardChoice]]:
    """Every card type's ready-to-send cards for the agent's picker (a failing plugin's are left
    out, logged with its name)."""
    return [(card, choice) for card in card_types(kernel).values() if card.choices
            for choice in run_isolated(card.plugin or "?", f"card type {card.name} (choices)", card.choices,
                                       session, default=[])]
