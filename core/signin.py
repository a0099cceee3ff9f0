"""Sign-in lockout: per-account backoff after repeated wrong passwords, kept in the database.

Each email address has a failure counter per realm (``member`` for the shop, ``staff`` for the
back office), whether an account has that address or not, so a lock tells nobody which
addresses exist. After ``SIGNIN_LOCK_AFTER`` failures (5) the address is locked for
``SIGNIN_LOCK_SECONDS`` (60), doubling with each further failure up to
``SIGNIN_LOCK_MAX_SECONDS`` (an hour). While locked, even the right password is refused and
the try is not counted. The lock lapses by itself; a successful sign-in or an owner's unlock
clears the counter; failures older than a day no longer count.

The counter is one row per address, incremented by a single ``INSERT ... ON CONFLICT DO
UPDATE`` (an upsert), so simultaneous tries on any worker or host each count once. This adds
to the per-address rate limits of the sign-in views: an attacker with many addresses still
gets only a few guesses per account.
"""
from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta
from typing import Any, Mapping

from sqlalchemy import case, delete, null, or_, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from siyu.core.db import utcnow, write_transaction
from siyu.core.errors import SiyuError
from siyu.core.i18n import lazy_gettext as _l
from siyu.core.models import SignInFailure

REALMS = ("member", "staff")
#: Failures older than this no longer count towards a lock.
WINDOW = timedelta(days=1)
POLICY_DEFAULTS = {"SIGNIN_LOCK_AFTER": 5, "SIGNIN_LOCK_SECONDS": 60, "SIGNIN_LOCK_MAX_SECONDS": 3600}


class AccountLocked(SiyuError):
    """Too many wrong passwords for this address: refused until ``until``, whatever the password."""

    code = "locked"
    status = 429

    def __init__(self, realm: str, until: datetime, now: datetime | None = None):
        seconds = max(int(math.ceil((until - (now or utcnow())).total_seconds())), 1)
        minutes = max(int(math.ceil(seconds / 60)), 1)
        if realm == "staff":
            message = _l("Too many failed sign-in attempts. Try again in %(n)d min, "
                         "or ask an owner to unlock your account.", n=minutes)
        else:
            message = _l("Too many failed sign-in attempts. Try again in %(n)d min, "
                         "or ask the shop to unlock your account.", n=minutes)
        super().__init__(message, until=until)
        self.until = until
        self.retry_after = seconds


def email_key(email: str) -> str:
    """The stored form of a (normalised) address."""
    return hashlib.sha256((email or "").strip().lower().encode("utf-8", "surrogatepass")).hexdigest()


def policy(config: Mapping[str, Any]) -> tuple[int, int, int]:
    """(failures before a lock, first lock in seconds, longest lock in seconds) from the shop's
    configuration (``SIGNIN_LOCK_*``; the defaults for keys it lacks)."""
    values = [int(config.get(key, default)) for key, default in POLICY_DEFAULTS.items()]
    return max(values[0], 1), max(values[1], 1), max(values[2], values[1], 1)


def lock_seconds(failures: int, after: int, first: int, longest: int) -> int:
    """How long the ``failures``-th failure locks the address (0: not locked)."""
    if failures < after:
        return 0
    return min(first * 2 ** min(failures - after, 32), longest)


def state(session: Session, realm: str, email: str) -> SignInFailure | None:
    """The address's failure row, if it has one (read only)."""
    return session.scalar(select(SignInFailure).where(SignInFailure.realm == realm,
                                                      SignInFailure.email_hash == email_key(email))
                          .execution_options(populate_existing=True))


def locked_until(row: SignInFailure | None, now: datetime | None = None) -> datetime | None:
    """When the row's lock lapses, or None when it is not locked now."""
    if row is None or row.locked_until is None:
        return None
    return row.locked_until if row.locked_until > (now or utcnow()) else None


def check(session: Session, realm: str, email: str, now: datetime | None = None) -> SignInFailure | None:
    """Raise ``AccountLocked`` while the address is locked; return its failure row (or None)."""
    now = now or utcnow()
    row = state(session, realm, email)
    until = locked_until(row, now)
    if until is not None:
        raise AccountLocked(realm, until, now)
    return row


def record_failure(config: Mapping[str, Any], session: Session, realm: str, email: str,
                   now: datetime | None = None) -> tuple[int, datetime | None]:
    """Count one wrong password for the address; returns (failures, locked until or None).

    One upsert increments the counter (or starts it again after a quiet day), so concurrent
    failures never overwrite each other; the lock is set in the same transaction, while the
    upsert still holds the row.
    """
    now = now or utcnow()
    after, first, longest = policy(config)
    table = SignInFailure.__table__
    stale = table.c.last_failed_at < now - WINDOW
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(table).values(realm=realm, email_hash=email_key(email), failures=1,
                                     last_failed_at=now, locked_until=None)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.realm, table.c.email_hash],
        set_={"failures": case((stale, 1), else_=table.c.failures + 1),
              "locked_until": case((stale, null()), else_=table.c.locked_until),
              "last_failed_at": statement.excluded.last_failed_at},
    ).returning(table.c.failures)
    until = None
    with write_transaction(session):
        failures = session.execute(statement).scalar_one()
        seconds = lock_seconds(failures, after, first, longest)
        if seconds:
            until = now + timedelta(seconds=seconds)
            session.execute(update(table).where(table.c.realm == realm, table.c.email_hash == email_key(email))
                            .values(locked_until=until))
    _prune(session, now)
    return failures, until


def _prune(session: Session, now: datetime) -> None:
    """Forget rows that no longer count (their own transaction, so it never waits while
    holding a counter's row)."""
    with write_transaction(session):
        session.execute(delete(SignInFailure).where(
            SignInFailure.last_failed_at < now - WINDOW,
            or_(SignInFailure.locked_until.is_(None), SignInFailure.locked_until < now))
            .execution_options(synchronize_session=False))


def clear(session: Session, realm: str, email: str) -> bool:
    """Forget the address's failures and lock (a successful sign-in, an owner's unlock)."""
    with write_transaction(session):
        result = session.execute(delete(SignInFailure).where(
            SignInFailure.realm == realm, SignInFailure.email_hash == email_key(email))
            .execution_options(synchronize_session=False))
    return bool(result.rowcount)


def verify(config: Mapping[str, Any], session: Session, realm: str, email: str, password_ok,
           now: datetime | None = None) -> bool:
    """Run one sign-in try through the lock: ``password_ok()`` checks the password (and the
    account) only when the address is not locked. Raises ``AccountLocked`` when it is, or
    when this failure locks it; returns whether the try succeeded."""
    now = now or utcnow()
    row = check(session, realm, email, now)
    if password_ok():
        if row is not None:
            clear(session, realm, email)
        return True
    _failures, until = record_failure(config, session, realm, email, now)
    if until is not None:
        raise AccountLocked(realm, until, now)
    return False


_DUMMY_HASH = generate_password_hash("not-a-real-password")


def authenticate(config: Mapping[str, Any], session: Session, realm: str, model, email: str, password: str,
                 now: datetime | None = None):
    """The active ``model`` row (a member or a staff user) with this email and password, else
    None, through the lock of ``realm``. Unknown and inactive addresses cost the same hash
    check, so timing does not reveal which emails exist."""
    found = []

    def password_ok() -> bool:
        account = session.scalar(select(model).where(model.email == email))
        if account is None or not account.active:
            check_password_hash(_DUMMY_HASH, password or "")
            return False
        if not check_password_hash(account.password_hash, password or ""):
            return False
        found.append(account)
        return True

    return found[0] if verify(config, session, realm, email, password_ok, now) else None


def end_sessions(session: Session, model, account_id: int) -> None:
    """Sign an account out everywhere: its session version moves on, so every copy of its
    cookies (any worker, any host) stops working."""
    with write_transaction(session):
        session.execute(update(model).where(model.id == account_id)
                        .values(session_version=model.session_version + 1)
                        .execution_options(synchronize_session=False))


def set_password(session: Session, model, account_id: int, new: str):
    """Store a new password hash and end every other session; returns the locked, updated row
    (the caller signs the current browser in again with its new session version)."""
    with write_transaction(session):
        row = session.scalar(select(model).where(model.id == account_id).with_for_update()
                             .execution_options(populate_existing=True))
        row.password_hash = generate_password_hash(new)
        row.session_version = row.session_version + 1
    return row
