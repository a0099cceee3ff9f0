"""The owner's distribution settings: a marshmallow schema (the back office builds the form
from it) and a typed view of the stored values.

The depth ceiling of three tiers is enforced twice: by the schema, and again in code
(``Settings.depth``), so a value written around the form still cannot exceed it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

import marshmallow
from marshmallow import fields, validate, validates_schema
from sqlalchemy.orm import Session

from siyu.plugin import lazy_gettext as _l, settings as core_settings

from siyu_distribution.models import MAX_TIERS

NAME = "distribution"
LEVEL_RATES = re.compile(r"^\s*(\d{1,2})\s*=\s*(\d{1,5}(?:\s*/\s*\d{1,5}){0,2})\s*$")


def parse_level_rates(text: str) -> dict[int, tuple[int, ...]]:
    """``"2=1500/500; 3=2000/600/100"`` → ``{2: (1500, 500), 3: (2000, 600, 100)}``."""
    rates: dict[int, tuple[int, ...]] = {}
    for part in filter(None, (p.strip() for p in (text or "").split(";"))):
        match = LEVEL_RATES.match(part)
        if not match:
            raise ValueError(part)
        values = tuple(int(v) for v in match.group(2).split("/"))
        if sum(values) > 10000:
            raise ValueError(part)
        rates[int(match.group(1))] = values
    return rates


class SettingsSchema(marshmallow.Schema):
    depth = fields.Integer(load_default=2, validate=validate.Range(1, MAX_TIERS), metadata={
        "label": _l("Commission tiers"),
        "help": _l("1 to 3. More than three tiers is treated as pyramid selling in China.")})
    tier1_bps = fields.Integer(load_default=1000, validate=validate.Range(0, 10000), metadata={
        "label": _l("Seller's rate (basis points)"), "help": _l("1000 is 10 percent of the paid amount.")})
    tier2_bps = fields.Integer(load_default=300, validate=validate.Range(0, 10000), metadata={
        "label": _l("Recruiter's rate (basis points)"), "help": _l("Tier 2: the seller's recruiter.")})
    tier3_bps = fields.Integer(load_default=0, validate=validate.Range(0, 10000), metadata={
        "label": _l("Third tier rate (basis points)"), "help": _l("Used only with three tiers.")})
    level_rates = fields.String(load_default="", validate=validate.Length(max=500), metadata={
        "label": _l("Rates per distributor level"),
        "help": _l("For example 2=1500/500; 3=2000/600 (level=tier 1/tier 2/tier 3).")})
    binding = fields.String(load_default="first", validate=validate.OneOf(["first", "last"]), metadata={
        "label": _l("Customer binding"), "help": _l("first: the first distributor keeps the customer; "
                                                    "last: the latest referral wins.")})
    binding_days = fields.Integer(load_default=0, validate=validate.Range(0, 3650), metadata={
        "label": _l("Binding period (days)"), "help": _l("0 binds the customer for good.")})
    cookie_days = fields.Integer(load_default=30, validate=validate.Range(1, 365), metadata={
        "label": _l("Referral window (days)"), "help": _l("How long a referral link click counts.")})
    return_days = fields.Integer(load_default=7, validate=validate.Range(0, 90), metadata={
        "label": _l("Return window (days)"),
        "help": _l("Counted from the order's completion; commission becomes payable after it.")})
    min_payout = fields.Integer(load_default=5000, validate=validate.Range(1, 100_000_000), metadata={
        "label": _l("Minimum withdrawal (minor units)"), "help": _l("5000 = ¥50.00.")})
    self_purchase = fields.Boolean(load_default=False, metadata={
        "label": _l("Commission on own purchases"),
        "help": _l("Off: a distributor earns nothing on his own purchases, through his own link or a recruit's.")})
    require_training = fields.Boolean(load_default=False, metadata={
        "label": _l("Require training before approval"),
        "help": _l("Applicants must complete every required lesson.")})

    @validates_schema
    def _rates(self, data, **_kwargs):
        total = sum(data.get(f"tier{t}_bps", 0) for t in range(1, MAX_TIERS + 1))
        if total > 10000:
            raise marshmallow.ValidationError(str(_l("The tier rates add up to more than everything paid.")), "tier1_bps")
        try:
            parse_level_rates(data.get("level_rates", ""))
        except ValueError as exc:
            raise marshmallow.ValidationError(
                str(_l("Write level rates like 2=1500/500; 3=2000/600 (at most 10000 in all).")),
                "level_rates") from exc


@dataclass(frozen=True)
class Settings:
    depth_setting: int = 2
    tier_bps: tuple[int, ...] = (1000, 300, 0)
    level_rates: dict[int, tuple[int, ...]] = field(default_factory=dict)
    binding: str = "first"
    binding_days: int = 0
    cookie_days: int = 30
    return_days: int = 7
    min_payout: int = 5000
    self_purchase: bool = False
    require_training: bool = False

    @property
    def depth(self) -> int:
        return max(1, min(int(self.depth_setting), MAX_TIERS))

    @property
    def cookie_window(self) -> timedelta:
        return timedelta(days=self.cookie_days)

    @property
    def return_window(self) -> timedelta:
        return timedelta(days=self.return_days)

    def rates_for_level(self, level: int) -> tuple[int, ...]:
        rates = self.level_rates.get(level, self.tier_bps)
        return tuple(rates) + (0,) * (MAX_TIERS - len(rates))


# Read once: a schema instance copies its fields, and every hook of an order loads the settings.
_DEFAULTS = {name: f.load_default for name, f in SettingsSchema().fields.items()}


def stored_values(session: Session) -> dict:
    """The schema's defaults overlaid with what the owner stored."""
    values = dict(_DEFAULTS)
    values.update({k: v for k, v in core_settings.get_all(session, NAME).items() if k in _DEFAULTS})
    return values


def load(session: Session) -> Settings:
    values = stored_values(session)
    try:
        levels = parse_level_rates(values.get("level_rates") or "")
    except ValueError:
        levels = {}
    return Settings(
        depth_setting=int(values["depth"]),
        tier_bps=(int(values["tier1_bps"]), int(values["tier2_bps"]), int(values["tier3_bps"])),
        level_rates=levels, binding=values["binding"] if values["binding"] in ("first", "last") else "first",
        binding_days=int(values["binding_days"]), cookie_days=int(values["cookie_days"]),
        return_days=int(values["return_days"]), min_payout=int(values["min_payout"]),
        self_purchase=bool(values["self_purchase"]), require_training=bool(values["require_training"]),
    )
