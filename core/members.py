"""Members: sign-up, authentication, and binding a visitor's touches to the member."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Iterable, Mapping

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from siyu.core import signin
from siyu.core.db import write_transaction
from siyu.core.i18n import lazy_gettext as _l
from siyu.core.errors import ValidationError
from siyu.core.hooks import call_in_transaction
from siyu.core.models import Member, Touch
from siyu.core.validation import name_problem

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 8


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def validate_signup(email: str, password: str, name: str = "") -> dict[str, str]:
    errors = {}
    if not EMAIL_RE.match(email) or len(email) > 254:
        errors["email"] = _l("Enter a valid email address.")
    if len(password or "") < MIN_PASSWORD:
        errors["password"] = _l("Use at least %(n)d characters.", n=MIN_PASSWORD)
    elif len(password) > 200:
        errors["password"] = _l("Use at most 200 characters.")
    if len(name or "") > 100:
        errors["name"] = _l("Use at most 100 characters.")
    elif name_problem(name or ""):
        errors["name"] = name_problem(name)
    return errors


def sign_up(kernel, session: Session, *, email: str, password: str, name: str = "",
            locale: str | None = None, visitor_id: str | None = None,
            attribution: Mapping[str, Any] | None = None) -> Member:
    """Create a member (validated, password hashed); runs ``on_member_created`` with the
    visitor and ``attribution`` (what the storefront read from the request, by plugin)."""
    email = normalise_email(email)
    errors = validate_signup(email, password, name)
    if errors:
        raise ValidationError(_l("Please correct the highlighted fields."), fields=errors)
    try:
        with write_transaction(session):
            if session.scalar(select(Member.id).where(Member.email == email)):
                raise ValidationError(_l("This email already has an account."),
                                      fields={"email": _l("This email already has an account.")})
            member = Member(email=email, name=(name or "").strip(), locale=locale,
                            password_hash=generate_password_hash(password), visitor_id=visitor_id)
            session.add(member)
            session.flush()
            if visitor_id:
                bind_touches(session, visitor_id, member.id)
            call_in_transaction(kernel.pm, "on_member_created", kernel=kernel, session=session, member=member,
                                visitor_id=visitor_id, attribution=dict(attribution or {}))
    except IntegrityError as exc:
        raise ValidationError(_l("This email already has an account."),
                              fields={"email": _l("This email already has an account.")}) from exc
    return member


def authenticate(kernel, session: Session, email: str, password: str, *,
                 now: datetime | None = None) -> Member | None:
    """The active member with this email and password, else None.

    Raises ``siyu.core.signin.AccountLocked`` while the address is locked after repeated
    wrong passwords (then even the right one is refused), or when this try locks it.
    Unknown addresses are counted and locked the same way.
    """
    return signin.authenticate(kernel.config, session, "member", Member, normalise_email(email), password, now)


def end_sessions(session: Session, member_id: int) -> None:
    """Sign the member out everywhere: every session and remember cookie stops working."""
    signin.end_sessions(session, Member, member_id)


def change_password(kernel, session: Session, member: Member, current: str, new: str) -> Member:
    """Set a new password after checking the current one (through the sign-in lock, so it
    cannot be used to guess); every other session of the member ends. Returns the member
    with its new session version, to sign the current browser in again."""
    if authenticate(kernel, session, member.email, current) is None:
        raise ValidationError(_l("The current password is not correct."),
                              fields={"current_password": _l("The current password is not correct.")})
    errors = validate_signup(member.email, new)
    if "password" in errors:
        raise ValidationError(_l("Please correct the highlighted fields."),
                              fields={"new_password": errors["password"]})
    return signin.set_password(session, Member, member.id, new)


def record_touches(session: Session, visitor_id: str, touches: Iterable[tuple[str, str]],
                   member_id: int | None = None) -> int:
    """Record inbound attribution in its own small transaction; returns how many."""
    rows = [Touch(visitor_id=visitor_id, member_id=member_id, source=str(s)[:32], value=str(v)[:128])
            for s, v in touches]
    if rows:
        with write_transaction(session):
            session.add_all(rows)
    return len(rows)


def bind_touches(session: Session, visitor_id: str, member_id: int) -> None:
    """Attach a visitor's unbound touches to the member (inside the caller's transaction)."""
    session.execute(update(Touch).where(Touch.visitor_id == visitor_id, Touch.member_id.is_(None))
                    .values(member_id=member_id).execution_options(synchronize_session=False))


def touches_for(session: Session, member_id: int, source: str) -> list[Touch]:
    return list(session.scalars(select(Touch).where(Touch.member_id == member_id, Touch.source == source)
                                .order_by(Touch.created_at, Touch.id)))


def count_members(session: Session) -> int:
    return session.scalar(select(func.count(Member.id))) or 0
