"""Hooks the crm_tags plugin offers other plugins (added with ``register_hookspecs``).

They exist only while crm_tags is enabled: call them with
``call_service(kernel, "crm_tags_award_points", ...)``, which answers ``NOT_AVAILABLE``
otherwise, and mark implementations ``@hookimpl(optionalhook=True)``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, Sequence

from siyu.plugin import hookspec

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.orm import Session


@hookspec(firstresult=True)
def crm_tags_award_points(session: "Session", member_id: int, points: int, reason: str, ref: str) -> int | None:
    """Give a member ``points`` (a positive int) for something done in another plugin, e.g.
    a daily check-in: ``call_service(kernel, "crm_tags_award_points", session=s, member_id=7,
    points=5, reason="check-in", ref="checkin:2026-05-01")``.

    Once per (member, ``ref``): a repeated call returns the first ledger entry's id. The
    points expire like earned points and count towards points-based levels. Runs in the
    caller's transaction (it locks the member's points row); raising aborts it.
    Answered by crm_tags; returns the ledger entry id.
    """


@hookspec(firstresult=True)
def crm_tags_spend_points(session: "Session", member_id: int, points: int, reason: str, ref: str) -> int | None:
    """Take ``points`` (a positive int) from a member for something bought in another plugin,
    e.g. a make-up check-in: ``call_service(kernel, "crm_tags_spend_points", session=s,
    member_id=7, points=20, reason="check-in make-up", ref="checkin-makeup:7:2026-05-03")``.

    Once per (member, ``ref``): a repeat returns the first ledger entry's id. Raises
    ``siyu.plugin.ValidationError`` when the balance is too low. Runs in the caller's
    transaction (it locks the member's points row); raising aborts it. Answered by
    crm_tags; returns the ledger entry id.
    """


@hookspec
def crm_tags_record_facts(session: "Session", member_id: int, facts: Mapping[str, Any]) -> None:
    """Tell the CRM something about a member as it happens, so rule tags and segments follow:
    ``{"distributor": "12"}`` (the distributor who brought them, ``None`` for none),
    ``{"checkin_streak": 7}``, ``{"channel": "3"}`` (first-touch channel).

    Runs in the caller's transaction; crm_tags updates the member's stats and rule tags.
    """


@hookspec
def crm_tags_member_facts(session: "Session", member_ids: Sequence[int]) -> Mapping[int, Mapping[str, Any]] | None:
    """Answer the facts you know for a batch of members (same keys as ``crm_tags_record_facts``),
    as ``{member_id: {"distributor": "12"}}``; members you know nothing about may be left out.

    Called by the full recompute, a batch of up to a few hundred members at a time, inside
    its transaction. Read only: do not write.
    """
