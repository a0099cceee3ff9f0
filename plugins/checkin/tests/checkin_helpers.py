"""The checkin tests' own helpers (the generic ones, CSRF, sign-in, ``fresh``, come from
``siyu.plugin.testing``)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from siyu.plugin import Channel, hookimpl, settings, ValidationError, WECHAT_STYLE, write_transaction

OWNER_PW = "green-tea-garden-2026"
AGENT_PW = "oolong-hills-2026"
UTC = timezone.utc


def at(text: str) -> datetime:
    """An aware instant from ISO text with an offset."""
    return datetime.fromisoformat(text)


def set_zone(session, name: str) -> None:
    with write_transaction(session):
        settings.put(session, "core", "timezone", name)


def set_checkin(session, **values) -> None:
    with write_transaction(session):
        for key, value in values.items():
            settings.put(session, "checkin", key, value)


def days(n: int) -> timedelta:
    return timedelta(days=n)


class WeChat:
    """A channel with WeChat's 48-hour window, as an adapter plugin would register it."""

    @hookimpl
    def register_channels(self, register):
        register(Channel(name="wx", label="WeChat", policy=WECHAT_STYLE, external=False))


class Rewards:
    """Stands in for crm_tags and coupons: records what it was asked to give or take."""

    def __init__(self, balance: int = 100):
        self.awarded: dict[str, int] = {}
        self.coupons: dict[str, str] = {}
        self.spent: dict[str, int] = {}
        self.balance = balance
        self.fail = False

    @hookimpl
    def crm_tags_award_points(self, member_id, points, ref):
        if self.fail:
            raise RuntimeError("points service down")
        self.awarded.setdefault(ref, points)
        return len(self.awarded)

    @hookimpl
    def coupons_issue(self, member_id, template_code, ref):
        self.coupons.setdefault(ref, template_code)
        return len(self.coupons)

    @hookimpl
    def crm_tags_spend_points(self, member_id, points, ref):
        if ref in self.spent:
            return 1
        if points > self.balance:
            raise ValidationError("Not enough points.")
        self.balance -= points
        self.spent[ref] = points
        return len(self.spent)
