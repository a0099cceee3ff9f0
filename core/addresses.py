"""A member's address book: validated entries, one default, at most ``MAX_ADDRESSES``.

Phones are stored in E.164. Mainland numbers may be typed as 11 digits; any other country
needs its ``+`` prefix. Province, city and district must be a real chain of the bundled
administrative divisions (``siyu.core.regions``); names are taken from the data, never
from the form.
"""
from __future__ import annotations

import unicodedata
from typing import Any, Mapping

import phonenumbers
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from siyu.core import regions
from siyu.core.db import write_transaction
from siyu.core.errors import NotFound, ValidationError
from siyu.core.i18n import lazy_gettext as _l
from siyu.core.models import Member, MemberAddress

MAX_ADDRESSES = 20
RECIPIENT_MAX, STREET_MAX = 50, 200
FIELDS = ("recipient", "phone", "province_code", "city_code", "district_code", "street")


def clean_text(value: Any) -> str:
    """Trimmed text with control characters (and other invisible format marks) removed."""
    text = unicodedata.normalize("NFC", str(value or ""))
    return "".join(ch for ch in text if unicodedata.category(ch)[0] != "C").strip()


def normalise_phone(raw: Any) -> str:
    """E.164 for a valid mobile number, else ``ValueError`` with the reason."""
    text = str(raw or "").strip()
    if not text:
        raise ValueError("required")
    if len(text) > 32:
        raise ValueError("too long")
    digits = "".join(ch for ch in text if ch.isdigit())
    if not text.startswith("+") and not (len(digits) == 11 and digits.startswith("1")):
        raise ValueError("format")  # bare digits: only a mainland mobile's 11
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException as exc:
        raise ValueError("format") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError("invalid")
    kind = phonenumbers.number_type(number)
    if kind not in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE):
        raise ValueError("not mobile")  # couriers text the recipient
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display_phone(e164: str) -> str:
    """``+8613812345678`` → ``138 1234 5678``; other countries in international format."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    if number.country_code == 86:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


PHONE_ERRORS = {
    "required": _l("Enter a mobile number."),
    "too long": _l("This number is too long."),
    "format": _l("Enter an 11-digit mainland mobile number, or an international number starting with +."),
    "invalid": _l("This is not a valid phone number."),
    "not mobile": _l("Enter a mobile number: the courier sends it a message."),
}


def validate(values: Mapping[str, Any]) -> dict[str, str]:
    """Clean address fields (names from the division data); ``ValidationError`` per field."""
    errors: dict[str, Any] = {}
    clean = {key: clean_text(values.get(key)) for key in FIELDS}
    if not clean["recipient"]:
        errors["recipient"] = _l("Enter the recipient's name.")
    elif len(clean["recipient"]) > RECIPIENT_MAX:
        errors["recipient"] = _l("At most %(n)d characters.", n=RECIPIENT_MAX)
    try:
        clean["phone"] = normalise_phone(values.get("phone"))
    except ValueError as exc:
        errors["phone"] = PHONE_ERRORS[str(exc)]
    if len(clean["street"]) < 2:
        errors["street"] = _l("Enter the street, building and room.")
    elif len(clean["street"]) > STREET_MAX:
        errors["street"] = _l("At most %(n)d characters.", n=STREET_MAX)
    province = regions.province(clean["province_code"])
    city = regions.child(province, clean["city_code"])
    district = regions.child(city, clean["district_code"])
    if province is None:
        errors["province_code"] = (_l("Choose a province.") if not clean["province_code"]
                                   else _l("Unknown province."))
    elif city is None:
        errors["city_code"] = _l("Choose a city in %(province)s.", province=province.name)
    elif district is None and (city.children or clean["district_code"]):
        errors["district_code"] = _l("Choose a district in %(city)s.", city=city.name)
    if errors:
        raise ValidationError(_l("Please correct the highlighted fields."), fields=errors)
    clean.update(province_name=province.name, city_name=city.name,
                 district_code=district.code if district else "", district_name=district.name if district else "")
    return clean


def list_addresses(session: Session, member: Member) -> list[MemberAddress]:
    """The default first, then the most recently changed."""
    return list(session.scalars(select(MemberAddress).where(MemberAddress.member_id == member.id)
                                .order_by(MemberAddress.is_default.desc(), MemberAddress.updated_at.desc(),
                                          MemberAddress.id.desc())))


def get_address(session: Session, member: Member, address_id: Any) -> MemberAddress:
    """The member's own address; another member's is simply not found."""
    try:
        ident = int(address_id)
    except (TypeError, ValueError):
        ident = 0
    address = session.scalar(select(MemberAddress).where(
        MemberAddress.id == ident, MemberAddress.member_id == member.id))
    if address is None:
        raise NotFound(_l("Address not found."))
    return address


def default_address(session: Session, member: Member) -> MemberAddress | None:
    return session.scalar(select(MemberAddress).where(
        MemberAddress.member_id == member.id, MemberAddress.is_default.is_(True)))


def _lock_member(session: Session, member: Member) -> None:
    # Serialises one member's address-book writes (count, default); FOR NO KEY UPDATE so
    # rows referencing the member (orders, messages) are not blocked.
    session.execute(select(Member.id).where(Member.id == member.id).with_for_update(key_share=True))


def _make_default(session: Session, member: Member, address_id: int) -> None:
    # Two statements: the partial unique index never sees two defaults at once.
    session.execute(update(MemberAddress).where(
        MemberAddress.member_id == member.id, MemberAddress.is_default.is_(True), MemberAddress.id != address_id)
        .values(is_default=False).execution_options(synchronize_session=False))
    session.execute(update(MemberAddress).where(MemberAddress.id == address_id)
                    .values(is_default=True).execution_options(synchronize_session=False))


def add_address(session: Session, member: Member, values: Mapping[str, Any],
                make_default: bool = False) -> MemberAddress:
    clean = validate(values)
    with write_transaction(session):
        _lock_member(session, member)
        count = session.scalar(select(func.count(MemberAddress.id)).where(MemberAddress.member_id == member.id))
        if count >= MAX_ADDRESSES:
            raise ValidationError(_l("An address book holds at most %(n)d addresses.", n=MAX_ADDRESSES),
                                  fields={"address": _l("too many addresses")})
        address = MemberAddress(member_id=member.id, is_default=False, **clean)
        session.add(address)
        session.flush()
        if make_default or count == 0:
            _make_default(session, member, address.id)
    session.refresh(address)
    return address


def update_address(session: Session, member: Member, address_id: Any, values: Mapping[str, Any],
                   make_default: bool = False) -> MemberAddress:
    clean = validate(values)
    with write_transaction(session):
        _lock_member(session, member)
        address = get_address(session, member, address_id)
        for key, value in clean.items():
            setattr(address, key, value)
        session.flush()
        if make_default:
            _make_default(session, member, address.id)
    session.refresh(address)
    return address


def set_default(session: Session, member: Member, address_id: Any) -> MemberAddress:
    with write_transaction(session):
        _lock_member(session, member)
        address = get_address(session, member, address_id)
        _make_default(session, member, address.id)
    session.refresh(address)
    return address


def delete_address(session: Session, member: Member, address_id: Any) -> None:
    """Delete an entry; when it was the default, the most recently changed one takes over."""
    with write_transaction(session):
        _lock_member(session, member)
        address = get_address(session, member, address_id)
        was_default = address.is_default
        session.delete(address)
        session.flush()
        if was_default:
            successor = session.scalar(select(MemberAddress.id).where(MemberAddress.member_id == member.id)
                                       .order_by(MemberAddress.updated_at.desc(), MemberAddress.id.desc()).limit(1))
            if successor is not None:
                _make_default(session, member, successor)
