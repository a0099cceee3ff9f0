"""Distributors: apply, approve, reject, suspend, reinstate; links; the recruiter tree.

Commission is paid only on real sales: applying costs nothing and recruiting earns nothing.
Every state change is a conditional UPDATE on the current status, so two owners clicking
at once change a distributor once.
"""
from __future__ import annotations

import re
import secrets

from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from siyu.plugin import (
    InvalidTransition, lazy_gettext as _l, Member, NotFound, utcnow, ValidationError, write_transaction,
)

from siyu_distribution import config, training
from siyu_distribution.models import Distributor, Link, Status

#: No look-alike characters; 10 characters of 31 ≈ 2^49 codes, so guessing one is hopeless.
CODE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
CODE_LENGTH = 10
CODE_RE = re.compile(rf"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")
MAX_LINKS = 20
MAX_TEAM_WALK = 10_000  # a tree deeper than this is corrupt; stop instead of looping
TREE_LOCK = 0x44_49_53_54  # "DIST": one advisory lock key for moves in the recruiter tree


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def valid_code(code: str | None) -> bool:
    return bool(code) and CODE_RE.match(code) is not None


def for_member(session: Session, member_id: int) -> Distributor | None:
    return session.scalar(select(Distributor).where(Distributor.member_id == member_id))


def approved_link(session: Session, code: str | None) -> Link | None:
    """The link of an approved distributor for ``code``; anything else is ``None``."""
    if not valid_code(code):
        return None
    return session.scalar(select(Link).join(Distributor, Distributor.id == Link.distributor_id)
                          .where(Link.code == code, Distributor.status == Status.APPROVED.value))


def apply(session: Session, member: Member, *, motivation: str = "", display_name: str = "",
          invite_code: str | None = None) -> Distributor:
    """A member applies (free of charge). A rejected applicant may apply again."""
    motivation, display_name = (motivation or "").strip(), (display_name or "").strip()
    errors = {}
    if len(motivation) > 1000:
        errors["motivation"] = _l("Use at most 1000 characters.")
    if len(display_name) > 100:
        errors["display_name"] = _l("Use at most 100 characters.")
    if errors:
        raise ValidationError(_l("Please correct the highlighted fields."), fields=errors)
    recruiter = approved_link(session, invite_code)
    try:
        with write_transaction(session):
            if recruiter is not None:
                _lock_tree(session)  # a rejected applicant may already have a team (moved by the owner)
            existing = session.scalar(select(Distributor).where(Distributor.member_id == member.id)
                                      .with_for_update())
            if existing is not None and existing.status != Status.REJECTED.value:
                raise InvalidTransition(_l("You have already applied."))
            row = existing or Distributor(member_id=member.id)
            if recruiter is not None and recruiter.distributor_id != row.id and \
                    (row.id is None or row.id not in upline_ids(session, recruiter.distributor_id, MAX_TEAM_WALK)):
                row.recruiter_id = recruiter.distributor_id  # an invite from one's own team is ignored
            row.status, row.reason, row.decided_at = Status.APPLIED.value, "", None
            row.motivation, row.display_name = motivation, display_name or member.name or ""
            row.applied_at = utcnow()
            session.add(row)
    except IntegrityError as exc:  # the same member applied twice at once
        raise InvalidTransition(_l("You have already applied.")) from exc
    return row


def _transition(session: Session, distributor_id: int, allowed: tuple[str, ...], target: str,
                reason: str = "") -> Distributor:
    result = session.execute(
        update(Distributor).where(Distributor.id == distributor_id, Distributor.status.in_(allowed))
        .values(status=target, reason=reason[:500], decided_at=utcnow())
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        if session.get(Distributor, distributor_id) is None:
            raise NotFound(_l("Distributor not found."))
        raise InvalidTransition(_l("This distributor cannot be changed that way in their current state."))
    distributor = session.get(Distributor, distributor_id)
    session.refresh(distributor)
    return distributor


def approve(session: Session, distributor_id: int) -> Distributor:
    settings = config.load(session)
    with write_transaction(session):
        if settings.require_training:
            done, required = training.progress(session, distributor_id)
            if done < required:
                raise ValidationError(_l("The applicant has not completed the required training yet."))
        distributor = _transition(session, distributor_id, (Status.APPLIED.value,), Status.APPROVED.value)
        if not session.scalar(select(Link.id).where(Link.distributor_id == distributor_id).limit(1)):
            session.add(Link(distributor_id=distributor_id, code=new_code(), label=""))
    return distributor


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason or len(reason) > 500:
        raise ValidationError(_l("Give a reason (at most 500 characters)."),
                              fields={"reason": _l("required, at most 500 characters")})
    return reason


def reject(session: Session, distributor_id: int, reason: str) -> Distributor:
    reason = _reason(reason)
    with write_transaction(session):
        return _transition(session, distributor_id, (Status.APPLIED.value,), Status.REJECTED.value, reason)


def suspend(session: Session, distributor_id: int, reason: str) -> Distributor:
    reason = _reason(reason)
    with write_transaction(session):
        return _transition(session, distributor_id, (Status.APPROVED.value,), Status.SUSPENDED.value, reason)


def reinstate(session: Session, distributor_id: int) -> Distributor:
    with write_transaction(session):
        return _transition(session, distributor_id, (Status.SUSPENDED.value,), Status.APPROVED.value)


def set_level(session: Session, distributor_id: int, level: int) -> None:
    if not isinstance(level, int) or not 1 <= level <= 99:
        raise ValidationError(_l("Choose a level from 1 to 99."), fields={"level": _l("1 to 99")})
    with write_transaction(session):
        row = session.get(Distributor, distributor_id)
        if row is None:
            raise NotFound(_l("Distributor not found."))
        row.level = level


def set_recruiter(session: Session, distributor_id: int, recruiter_id: int | None) -> None:
    """Move a distributor in the tree; a move that would make a cycle is refused."""
    with write_transaction(session):
        _lock_tree(session)
        row = session.scalar(select(Distributor).where(Distributor.id == distributor_id).with_for_update())
        if row is None:
            raise NotFound(_l("Distributor not found."))
        if recruiter_id is not None:
            if session.get(Distributor, recruiter_id) is None:
                raise NotFound(_l("Distributor not found."))
            if distributor_id == recruiter_id or \
                    distributor_id in upline_ids(session, recruiter_id, MAX_TEAM_WALK):
                raise ValidationError(_l("A distributor cannot be recruited by their own team."),
                                      fields={"recruiter": _l("would make a cycle")})
        row.recruiter_id = recruiter_id


def _lock_tree(session: Session) -> None:
    """Serialise moves in the recruiter tree (SQLite writers are serialised already).

    Each move checks the new recruiter's upline for a cycle; two moves at once (A under B,
    B under A) would each pass that check against the tree before the other, and make one.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": TREE_LOCK})


def upline_ids(session: Session, distributor_id: int, limit: int) -> list[int]:
    """Recruiters above ``distributor_id``, nearest first: one query per step, ``limit`` steps."""
    found: list[int] = []
    current = distributor_id
    for _ in range(limit):
        parent = session.scalar(select(Distributor.recruiter_id).where(Distributor.id == current))
        if parent is None or parent in found or parent == distributor_id:
            break
        found.append(parent)
        current = parent
    return found


def create_link(session: Session, distributor: Distributor, label: str = "", target: str = "/") -> Link:
    label, target = (label or "").strip()[:100], (target or "/").strip() or "/"
    if not target.startswith("/") or target.startswith("//") or len(target) > 200:
        raise ValidationError(_l("Links can only point into this shop."), fields={"target": _l("a path such as /p/12")})
    if distributor.status != Status.APPROVED.value:
        raise InvalidTransition(_l("Only approved distributors have referral links."))
    with write_transaction(session):
        count = session.scalar(select(func.count(Link.id)).where(Link.distributor_id == distributor.id))
        if count >= MAX_LINKS:
            raise ValidationError(_l("You already have %(n)d links.", n=MAX_LINKS))
        link = Link(distributor_id=distributor.id, code=new_code(), label=label, target=target)
        session.add(link)
    return link


def team(session: Session, distributor_id: int, limit: int = 50, offset: int = 0) -> list[Distributor]:
    return list(session.scalars(select(Distributor).where(Distributor.recruiter_id == distributor_id)
                                .order_by(Distributor.id).limit(limit).offset(offset)))


def team_size(session: Session, distributor_id: int) -> int:
    return session.scalar(select(func.count(Distributor.id)).where(Distributor.recruiter_id == distributor_id)) or 0
