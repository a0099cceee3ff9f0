"""Tag groups and tags, and agents tagging members by hand (from the member page or a chat)."""
from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from siyu.plugin import (
    check_name, lazy_gettext as _l, Member, NotFound, utcnow, ValidationError, write_transaction,
)

from siyu_crm_tags import rules
from siyu_crm_tags.models import MemberTag, Tag, TagGroup

MAX_NAME = 60


def _name(raw: str, field: str = "name") -> str:
    name = " ".join(str(raw or "").split())
    if not 1 <= len(name) <= MAX_NAME:
        raise ValidationError(_l("Give a name of 1 to %(n)d characters.", n=MAX_NAME),
                              fields={field: _l("1 to %(n)d characters", n=MAX_NAME)})
    return check_name(name, field)


def create_group(session: Session, name: str) -> TagGroup:
    name = _name(name)
    try:
        with write_transaction(session):
            if session.scalar(select(TagGroup.id).where(TagGroup.name == name)):
                raise ValidationError(_l("A group with this name exists."), fields={"name": _l("already exists")})
            position = (session.scalar(select(func.max(TagGroup.position))) or 0) + 1
            group = TagGroup(name=name, position=position)
            session.add(group)
    except IntegrityError as exc:
        raise ValidationError(_l("A group with this name exists."), fields={"name": _l("already exists")}) from exc
    return group


def create_tag(session: Session, name: str, group_id: int | None = None, rule: dict | None = None) -> Tag:
    """A manual tag, or a rule tag when ``rule`` is given (already cleaned by ``rules.clean``)."""
    name = _name(name)
    try:
        with write_transaction(session):
            if group_id is not None and session.get(TagGroup, group_id) is None:
                raise ValidationError(_l("Choose an existing group."), fields={"group_id": _l("unknown group")})
            clash = select(Tag.id).where(Tag.name == name, Tag.group_id.is_(None) if group_id is None
                                         else Tag.group_id == group_id)
            if session.scalar(clash):
                raise ValidationError(_l("A tag with this name exists in the group."),
                                      fields={"name": _l("already exists")})
            tag = Tag(name=name, group_id=group_id, rule=rule)
            session.add(tag)
    except IntegrityError as exc:
        raise ValidationError(_l("A tag with this name exists in the group."),
                              fields={"name": _l("already exists")}) from exc
    return tag


def delete_tag(session: Session, tag_id: int) -> None:
    with write_transaction(session):
        session.execute(delete(MemberTag).where(MemberTag.tag_id == tag_id))
        session.execute(delete(Tag).where(Tag.id == tag_id))


def all_tags(session: Session) -> list[tuple[TagGroup | None, list[Tag]]]:
    """Tags by group in the groups' order; ungrouped tags last."""
    groups = list(session.scalars(select(TagGroup).order_by(TagGroup.position, TagGroup.id)))
    tags = list(session.scalars(select(Tag).order_by(Tag.name)))
    result = [(g, [t for t in tags if t.group_id == g.id]) for g in groups]
    loose = [t for t in tags if t.group_id is None]
    if loose:
        result.append((None, loose))
    return result


def counts(session: Session) -> dict[int, int]:
    return dict(session.execute(select(MemberTag.tag_id, func.count()).group_by(MemberTag.tag_id)).all())


def member_tags(session: Session, member_id: int) -> list[tuple[Tag, MemberTag]]:
    return [tuple(row) for row in session.execute(
        select(Tag, MemberTag).join(MemberTag, MemberTag.tag_id == Tag.id)
        .where(MemberTag.member_id == member_id).order_by(Tag.name))]


def tag_member(session: Session, member_id: int, tag_id: int, staff_id: int | None) -> bool:
    """Put a manual tag on a member; True when it was new. Rule tags are not set by hand."""
    with write_transaction(session):
        if session.get(Member, member_id) is None:
            raise NotFound(_l("Member not found."))
        tag = session.get(Tag, tag_id)
        if tag is None:
            raise ValidationError(_l("Choose a tag."), fields={"tag_id": _l("unknown tag")})
        if tag.is_rule:
            raise ValidationError(_l("This tag follows its rule and cannot be set by hand."),
                                  fields={"tag_id": _l("rule tag")})
        if session.get(MemberTag, (member_id, tag_id)) is not None:
            return False
        session.add(MemberTag(member_id=member_id, tag_id=tag_id, source="manual", staff_id=staff_id,
                              created_at=utcnow()))
    return True


def untag_member(session: Session, member_id: int, tag_id: int) -> bool:
    with write_transaction(session):
        result = session.execute(delete(MemberTag).where(
            MemberTag.member_id == member_id, MemberTag.tag_id == tag_id, MemberTag.source == "manual"))
    return result.rowcount == 1


def parse_rule(form) -> dict | None:
    return rules.clean(form.get("rule_kind", ""), form.get("rule_value"))
