from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from siyu.core.db import Base, UTCDateTime, utcnow


class Member(Base):
    """A shopper with an account."""

    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    locale: Mapped[str | None] = mapped_column(String(10))
    #: The visitor id the member signed up with: links pre-sign-up touches.
    visitor_id: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Raised by signing out, a password change or anonymisation: every session and
    #: remember cookie made with an older value stops working, on every worker and host.
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    # Flask-Login protocol, kept here so the core needs no web import.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        # The session version rides in the id, so the session and the remember cookie
        # carry it and the user loader compares it in the statement that loads the member.
        return f"m:{self.id}:{self.session_version}"


class StaffUser(Base):
    """An owner or an agent of the shop. Sessions are kept apart from members'."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    #: ``owner`` or ``agent``.
    role: Mapped[str] = mapped_column(String(16), default="agent")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Raised by signing out, a password change or deactivation: staff cookies made with
    #: an older value stop working.
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class SignInFailure(Base):
    """Failed sign-ins for one email address, in the shop (``member``) or the back office
    (``staff``), whether an account has that address or not: an unknown address is locked
    like a known one, so the lock tells nobody which addresses have accounts.

    The address is kept as a SHA-256 digest. A successful sign-in or an owner's unlock
    deletes the row; failures older than a day no longer count.
    """

    __tablename__ = "signin_failures"

    #: ``member`` or ``staff``.
    realm: Mapped[str] = mapped_column(String(8), primary_key=True)
    email_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Touch(Base):
    """One inbound attribution signal (a referral code, a channel scene) for a visitor.

    Plugins decide what a touch means (first/last touch, windows); the core records them
    and binds them to the member once known.
    """

    __tablename__ = "touches"
    __table_args__ = (Index("ix_touches_member_source", "member_id", "source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visitor_id: Mapped[str] = mapped_column(String(64), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiToken(Base):
    """A staff member's REST API token. Only a SHA-256 of the secret is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    #: The first characters of the token, shown in the admin to tell tokens apart.
    prefix: Mapped[str] = mapped_column(String(12))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: ``agent`` or ``owner``; never more than the staff member's own role.
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
