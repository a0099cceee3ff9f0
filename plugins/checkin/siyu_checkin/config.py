"""The plugin's settings (owner-editable through the generated back-office form)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy.orm import Session

from siyu.plugin import lazy_gettext as _l, settings

NAME = "checkin"
DEFAULT_BONUS = "3=10, 7=30, 30=100"
DEFAULT_KEYWORDS = "签到, checkin, check in, 打卡"
MAX_DAY = 366
CODE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def parse_schedule(text: str, values: str = "points") -> dict[int, int | str]:
    """``"3=10, 7=30"`` → ``{3: 10, 7: 30}`` (points) or ``"7=WEEK7"`` → ``{7: "WEEK7"}``."""
    schedule: dict[int, int | str] = {}
    for part in re.split(r"[,，;\n]+", text or ""):
        part = part.strip()
        if not part:
            continue
        day, sep, value = (p.strip() for p in part.partition("="))
        if not sep or not day.isdigit() or not 1 <= int(day) <= MAX_DAY:
            raise ValueError(part)
        if values == "points":
            if not value.isdigit() or int(value) > 100000:
                raise ValueError(part)
            schedule[int(day)] = int(value)
        else:
            if not CODE.match(value):
                raise ValueError(part)
            schedule[int(day)] = value
    return schedule


def _schedule_validator(values: str):
    def check(text: str) -> None:
        try:
            parse_schedule(text, values)
        except ValueError as exc:
            raise ValidationError(str(_l("Write day=value pairs separated by commas; "
                                         "this part is not one: %(part)s", part=str(exc)))) from None
    return check


def parse_keywords(text: str) -> set[str]:
    return {k.strip().lower() for k in re.split(r"[,，;\n]+", text or "") if k.strip()}


class CheckinSettings(Schema):
    daily_points = fields.Integer(load_default=5, validate=validate.Range(0, 10000), metadata={
        "label": _l("Points per check-in"), "help": _l("Given every day a member checks in (0: none).")})
    bonus_points = fields.String(load_default=DEFAULT_BONUS, validate=_schedule_validator("points"), metadata={
        "label": _l("Streak bonus points"),
        "help": _l("Extra points on a day of the streak, as day=points: 3=10, 7=30, 30=100.")})
    bonus_coupons = fields.String(load_default="", validate=_schedule_validator("coupons"), metadata={
        "label": _l("Streak bonus coupons"),
        "help": _l("A coupon template code on a day of the streak, as day=code: 7=WEEK7 "
                   "(needs the coupons plugin).")})
    cycle_days = fields.Integer(load_default=0, validate=validate.Range(0, MAX_DAY), metadata={
        "label": _l("Reward cycle (days)"),
        "help": _l("After this many days the bonus schedule starts again (0: never).")})
    keywords = fields.String(load_default=DEFAULT_KEYWORDS, validate=validate.Length(max=200), metadata={
        "label": _l("Chat keywords"), "help": _l("A chat message that is exactly one of these checks the member in.")})
    makeup_per_month = fields.Integer(load_default=2, validate=validate.Range(0, 31), metadata={
        "label": _l("Make-up check-ins per month"), "help": _l("Missed days of the current month a member may "
                                                              "make up (0: no make-up).")})
    makeup_cost_points = fields.Integer(load_default=20, validate=validate.Range(0, 100000), metadata={
        "label": _l("Make-up cost (points)"), "help": _l("Needs a points plugin when above 0.")})
    reminders = fields.Boolean(load_default=True, metadata={
        "label": _l("Streak reminders"),
        "help": _l("Remind members shortly before their contact window closes, only while it is open.")})
    reminder_minutes = fields.Integer(load_default=60, validate=validate.Range(5, 24 * 60), metadata={
        "label": _l("Remind this many minutes before the window closes")})


@dataclass(frozen=True)
class Config:
    daily_points: int = 5
    bonus_points: dict = field(default_factory=dict)
    bonus_coupons: dict = field(default_factory=dict)
    cycle_days: int = 0
    keywords: frozenset = frozenset()
    makeup_per_month: int = 2
    makeup_cost_points: int = 20
    reminders: bool = True
    reminder_minutes: int = 60


def load(session: Session) -> Config:
    """Stored values over the defaults; a bad stored value falls back to its default."""
    schema = CheckinSettings()
    stored = {k: v for k, v in settings.get_all(session, NAME).items() if k in schema.fields}
    try:
        values = schema.load(stored)
    except ValidationError as exc:
        bad = exc.normalized_messages()
        values = schema.load({k: v for k, v in stored.items() if k not in bad})
    return Config(
        daily_points=values["daily_points"], bonus_points=parse_schedule(values["bonus_points"]),
        bonus_coupons=parse_schedule(values["bonus_coupons"], "coupons"), cycle_days=values["cycle_days"],
        keywords=frozenset(parse_keywords(values["keywords"])), makeup_per_month=values["makeup_per_month"],
        makeup_cost_points=values["makeup_cost_points"], reminders=values["reminders"],
        reminder_minutes=values["reminder_minutes"])
