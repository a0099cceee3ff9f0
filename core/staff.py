"""Staff accounts (owners and agents): creation, password policy, authentication."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from siyu.core import signin
from siyu.core.db import write_transaction
from siyu.core.errors import ValidationError
from siyu.core.i18n import lazy_gettext as _l
from siyu.core.members import EMAIL_RE, normalise_email
from siyu.core.models import StaffUser
from siyu.core.validation import name_problem

ROLES = ("owner", "agent")
MIN_STAFF_PASSWORD = 12
#: What each role may do; owners may do everything agents may.
RANK = {"agent": 1, "owner": 2}


def password_problems(password: str, email: str = "") -> list:
    problems = []
    if len(password or "") < MIN_STAFF_PASSWORD:
        problems.append(_l("Use at least %(n)d characters.", n=MIN_STAFF_PASSWORD))
    if password and len(set(password)) < 5:
        problems.append(_l("Use more different characters."))
    if email and password and email.split("@")[0].lower() in password.lower():
        problems.append(_l("Do not use your email name in the password."))
    return problems


def create_staff(session: Session, *, email: str, password: str, role: str, name: str = "") -> StaffUser:
    email = normalise_email(email)
    errors = {}
    if not EMAIL_RE.match(email):
        errors["email"] = _l("Enter a valid email address.")
    if role not in ROLES:
        errors["role"] = _l("Choose owner or agent.")
    problems = password_problems(password, email)
    if problems:
        errors["password"] = " ".join(str(p) for p in problems)
    if len(name or "") > 100:
        errors["name"] = _l("Use at most 100 characters.")
    elif name_problem(name or ""):
        errors["name"] = name_problem(name)
    if errors:
        raise ValidationError(_l("Please correct the highlighted fields."), fields=errors)
    with write_transaction(session):
        if session.scalar(select(StaffUser.id).where(StaffUser.email == email)):
            raise ValidationError(_l("This email already has an account."),
                                  fields={"email": _l("This email already has an account.")})
        staff = StaffUser(email=email, name=name, role=role, password_hash=generate_password_hash(password))
        session.add(staff)
    return staff


def authenticate_staff(kernel, session: Session, email: str, password: str, *,
                       now: datetime | None = None) -> StaffUser | None:
    """The active staff member with this email and password, else None.

    Raises ``siyu.core.signin.AccountLocked`` while the address is locked after repeated
    wrong passwords (even the right one is refused then), or when this try locks it.
    """
    return signin.authenticate(kernel.config, session, "staff", StaffUser, normalise_email(email), password, now)


def end_sessions(session: Session, staff_id: int) -> None:
    """Sign the staff member out everywhere: every back-office cookie stops working."""
    signin.end_sessions(session, StaffUser, staff_id)


def change_password(kernel, session: Session, staff: StaffUser, current: str, new: str) -> StaffUser:
    """Set a new password after checking the current one (through the sign-in lock); every
    other back-office session of this staff member ends. Returns the updated row, to sign
    the current browser in again."""
    if authenticate_staff(kernel, session, staff.email, current) is None:
        raise ValidationError(_l("The current password is not correct."),
                              fields={"current_password": _l("The current password is not correct.")})
    problems = password_problems(new, staff.email)
    if problems:
        raise ValidationError(_l("Please correct the highlighted fields."),
                              fields={"new_password": " ".join(str(p) for p in problems)})
    return signin.set_password(session, StaffUser, staff.id, new)


def may(staff: StaffUser | None, role: str) -> bool:
    return staff is not None and staff.active and RANK.get(staff.role, 0) >= RANK[role]


def set_active(session: Session, actor: StaffUser, staff_id: int, active: bool) -> StaffUser:
    """Deactivate (sign out everywhere, tokens stop working) or reactivate a staff member.

    Nobody deactivates themselves, so a shop always keeps the owner who is acting.
    """
    from siyu.core.errors import NotFound

    with write_transaction(session):
        staff = session.scalar(select(StaffUser).where(StaffUser.id == staff_id).with_for_update()
                               .execution_options(populate_existing=True))
        if staff is None:
            raise NotFound(_l("Staff member not found."))
        if staff.id == actor.id and not active:
            raise ValidationError(_l("You cannot deactivate your own account."))
        if staff.active and not active:
            staff.session_version = staff.session_version + 1  # a later reactivation revives no cookie
        staff.active = bool(active)
    return staff
