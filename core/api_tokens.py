"""Staff API tokens: shown once, stored as a SHA-256, scoped to a role.

A token never grants more than its staff member may do now: the effective role is the
lower of the token's role and the member's current role, and a deactivated staff member's
tokens stop working at once.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from siyu.core.db import utcnow, write_transaction
from siyu.core.errors import NotFound, ValidationError
from siyu.core.i18n import lazy_gettext as _l
from siyu.core.models import ApiToken, StaffUser
from siyu.core.staff import RANK, may
from siyu.core.validation import name_problem

TOKEN_PREFIX = "siyu_"
#: ``last_used_at`` is written at most this often, so reads stay reads.
TOUCH_EVERY = timedelta(minutes=5)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def create_token(session: Session, staff: StaffUser, name: str, role: str) -> tuple[ApiToken, str]:
    """A new token for ``staff``; returns the row and the secret (shown once, never stored)."""
    name = (name or "").strip()
    errors = {}
    if not 0 < len(name) <= 100:
        errors["name"] = _l("Enter a name of at most 100 characters.")
    elif name_problem(name):
        errors["name"] = name_problem(name)
    if role not in RANK:
        errors["role"] = _l("Choose owner or agent.")
    elif not may(staff, role):
        errors["role"] = _l("A token cannot have more rights than you.")
    if errors:
        raise ValidationError(_l("Please correct the highlighted fields."), fields=errors)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with write_transaction(session):
        token = ApiToken(staff_id=staff.id, name=name, prefix=raw[:12], token_hash=hash_token(raw), role=role)
        session.add(token)
    return token, raw


def revoke_token(session: Session, staff: StaffUser, token_id: int) -> None:
    """Revoke one of ``staff``'s own tokens (an owner may revoke anyone's)."""
    with write_transaction(session):
        query = update(ApiToken).where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
        if not may(staff, "owner"):
            query = query.where(ApiToken.staff_id == staff.id)
        if session.execute(query.values(revoked_at=utcnow())).rowcount != 1:
            raise NotFound(_l("Token not found."))


def authenticate_token(session: Session, raw: str) -> tuple[StaffUser, str] | None:
    """(staff, effective role) for a valid, unrevoked token of an active staff member."""
    if not raw or not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    row = session.execute(select(ApiToken, StaffUser).join(StaffUser, StaffUser.id == ApiToken.staff_id)
                          .where(ApiToken.token_hash == hash_token(raw), ApiToken.revoked_at.is_(None))).first()
    if row is None or not row[1].active:
        return None
    token, staff = row
    role = min(token.role, staff.role, key=lambda r: RANK.get(r, 0))
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > TOUCH_EVERY:
        with write_transaction(session):
            session.execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now))
    return staff, role
