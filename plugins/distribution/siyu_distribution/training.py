"""The training center: lessons in Markdown written by the owner, completion per distributor.

Markdown is rendered with raw HTML disabled (it is escaped) and markdown-it's link
validation (no ``javascript:`` or ``data:`` links), so a lesson can never inject script.
"""
from __future__ import annotations

from markdown_it import MarkdownIt
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from siyu.plugin import lazy_gettext as _l, name_problem, NotFound, ValidationError, write_transaction

from siyu_distribution.models import Lesson, LessonCompletion

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")
MAX_BODY = 50_000


def render(text: str) -> Markup:
    return Markup(_md.render(text or ""))  # html=False: any tag in the source comes out escaped


def lessons(session: Session, published_only: bool = True) -> list[Lesson]:
    query = select(Lesson).order_by(Lesson.position, Lesson.id)
    if published_only:
        query = query.where(Lesson.published.is_(True))
    return list(session.scalars(query))


def lesson(session: Session, lesson_id: int, published_only: bool = True) -> Lesson:
    row = session.get(Lesson, lesson_id)
    if row is None or (published_only and not row.published):
        raise NotFound(_l("Lesson not found."))
    return row


def save_lesson(session: Session, lesson_id: int | None, *, title: str, body: str, position: int = 0,
                required: bool = True, published: bool = True) -> Lesson:
    title, body = (title or "").strip(), body or ""
    errors = {}
    if not 0 < len(title) <= 200:
        errors["title"] = _l("Enter a title of at most 200 characters.")
    elif name_problem(title):
        errors["title"] = name_problem(title)
    if len(body) > MAX_BODY:
        errors["body"] = _l("The lesson is too long.")
    if not isinstance(position, int) or not -10000 <= position <= 10000:
        errors["position"] = _l("Enter a number.")
    if errors:
        raise ValidationError(_l("Please correct the highlighted fields."), fields=errors)
    with write_transaction(session):
        row = Lesson() if lesson_id is None else session.get(Lesson, lesson_id)
        if row is None:
            raise NotFound(_l("Lesson not found."))
        row.title, row.body, row.position = title, body, position
        row.required, row.published = bool(required), bool(published)
        session.add(row)
    return row


def delete_lesson(session: Session, lesson_id: int) -> None:
    with write_transaction(session):
        row = session.get(Lesson, lesson_id)
        if row is None:
            raise NotFound(_l("Lesson not found."))
        session.delete(row)


def complete(session: Session, distributor_id: int, lesson_id: int) -> None:
    lesson(session, lesson_id)
    try:
        with write_transaction(session):
            exists = session.scalar(select(LessonCompletion.id).where(
                LessonCompletion.distributor_id == distributor_id, LessonCompletion.lesson_id == lesson_id))
            if not exists:
                session.add(LessonCompletion(distributor_id=distributor_id, lesson_id=lesson_id))
    except IntegrityError:
        pass  # completed twice at once: once is what counts


def completed_ids(session: Session, distributor_id: int) -> set[int]:
    return set(session.scalars(select(LessonCompletion.lesson_id)
                               .where(LessonCompletion.distributor_id == distributor_id)))


def progress(session: Session, distributor_id: int) -> tuple[int, int]:
    """(required lessons completed, required lessons published)."""
    required = select(Lesson.id).where(Lesson.published.is_(True), Lesson.required.is_(True))
    total = session.scalar(select(func.count()).select_from(required.subquery())) or 0
    done = session.scalar(select(func.count(LessonCompletion.id)).where(
        LessonCompletion.distributor_id == distributor_id, LessonCompletion.lesson_id.in_(required))) or 0
    return done, total
