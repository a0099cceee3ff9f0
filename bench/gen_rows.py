"""Row producers for ``bench/generate.py``: lines in PostgreSQL's COPY text format.

Deterministic for a seed. Timestamps are naive UTC (what ``UTCDateTime`` stores), formatted
through a per-minute cache because formatting tens of millions of datetimes is the slow part.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

NULL = r"\N"
DAY = 86400
YEAR = 365 * DAY

TAGS = 200
CHANNELS = 200
CHECKIN_DAYS = 60
CODE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
DEVICES = ("mobile",) * 15 + ("desktop",) * 3 + ("tablet", "bot")


@dataclass
class Sizes:
    members: int
    distributors: int
    orders: int
    tag_assignments: int
    scans: int
    clicks: int
    checkin_members: int

    @classmethod
    def at(cls, scale: float) -> "Sizes":
        def n(full: int, least: int) -> int:
            return max(least, int(full * scale))
        return cls(members=n(1_000_000, 100), distributors=n(100_000, 10), orders=n(2_000_000, 200),
                   tag_assignments=n(5_000_000, 500), scans=n(10_000_000, 1000), clicks=n(500_000, 50),
                   checkin_members=n(200_000, 20))


class Clock:
    """``stamp(seconds_ago)`` → ``'YYYY-MM-DD HH:MM:SS'`` relative to a fixed now."""

    def __init__(self, now: datetime):
        self.now = now.astimezone(timezone.utc).replace(tzinfo=None, microsecond=0, second=0)
        self._minutes: dict[int, str] = {}

    def stamp(self, ago: int) -> str:
        minute, second = divmod(ago, 60)
        if second:
            return f"{self._minute(minute + 1)}:{60 - second:02d}"
        return f"{self._minute(minute)}:00"

    def _minute(self, minutes_ago: int) -> str:
        text = self._minutes.get(minutes_ago)
        if text is None:
            text = self._minutes[minutes_ago] = (self.now - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%d %H:%M")
        return text

    def day(self, days_ago: int) -> date:
        return (self.now - timedelta(days=days_ago)).date()


@dataclass
class Shop:
    """What later tables need to know about earlier ones, kept in plain lists."""

    sizes: Sizes
    clock: Clock
    password_hash: str
    products: list[tuple[int, str, str, str, int]]  # id, sku, title_zh, title_en, price
    rng: random.Random = field(default_factory=lambda: random.Random(14))
    recruiter: list[int] = field(default_factory=list)     # by distributor id (0: none)
    binding: list[int] = field(default_factory=list)       # by member id (0: not bound)
    member_ago: list[int] = field(default_factory=list)    # seconds since sign-up, by member id


def members(shop: Shop):
    rng, clock, ago = shop.rng, shop.clock, shop.member_ago
    ago.append(0)
    for i in range(1, shop.sizes.members + 1):
        seconds = rng.randrange(YEAR)
        ago.append(seconds)
        yield (f"{i}\tm{i}@bench.example\t会员{i}\t{shop.password_hash}\tzh_CN\tv{i}\t"
               f"{clock.stamp(seconds)}\tt\n")


def distributors(shop: Shop):
    """Trees three levels deep at most (the tier ceiling): 10 % roots, 30 % second, 60 % third."""
    rng, clock, d = shop.rng, shop.clock, shop.sizes.distributors
    roots, seconds = max(1, d // 10), max(2, d * 4 // 10)
    shop.recruiter = [0] * (d + 1)
    for i in range(1, d + 1):
        if i <= roots:
            up = 0
        elif i <= seconds:
            up = rng.randint(1, roots)
        else:
            up = rng.randint(roots + 1, seconds)
        shop.recruiter[i] = up
        status = "applied" if i % 50 == 7 else "suspended" if i % 100 == 9 else "approved"
        applied = shop.member_ago[i]
        decided = NULL if status == "applied" else clock.stamp(max(0, applied - DAY))
        yield (f"{i}\t{i}\t{up or NULL}\t{status}\t1\t分销员{i}\t\t\t{clock.stamp(applied)}\t{decided}\n")


def links(shop: Shop):
    for i in range(1, shop.sizes.distributors + 1):
        yield f"{i}\t{i}\t{link_code(i)}\t\t/\t{shop.clock.stamp(shop.member_ago[i])}\n"


def link_code(n: int) -> str:
    """A referral code the plugin accepts (10 characters of its alphabet), unique per ``n``."""
    digits = []
    for _ in range(10):
        n, rest = divmod(n, len(CODE_ALPHABET))
        digits.append(CODE_ALPHABET[rest])
    return "".join(reversed(digits))


def clicks(shop: Shop):
    rng, d = shop.rng, shop.sizes.distributors
    for i in range(1, shop.sizes.clicks + 1):
        link = 1 + int(d * rng.random() ** 2)  # a few distributors draw most clicks
        days = rng.randrange(90)
        yield f"{i}\t{link}\t{link}\tc{i}\t{shop.clock.day(days)}\t{shop.clock.stamp(days * DAY)}\n"


def bindings(shop: Shop):
    """About 30 % of members are bound to a distributor (锁客)."""
    rng, d = shop.rng, shop.sizes.distributors
    shop.binding = [0] * (shop.sizes.members + 1)
    for m in range(1, shop.sizes.members + 1):
        if rng.random() >= 0.3:
            continue
        dist = rng.randint(1, d)
        if dist == m:
            continue
        shop.binding[m] = dist
        at = shop.clock.stamp(shop.member_ago[m])
        yield f"{m}\t{dist}\t{at}\t{NULL}\t{dist}\t{at}\t{dist}\t{at}\n"


def member_tags(shop: Shop):
    """One to nine tags per member (five on average), spread over ``TAGS`` tags."""
    rng, clock = shop.rng, shop.clock
    per_member = max(1, shop.sizes.tag_assignments // shop.sizes.members)
    for m in range(1, shop.sizes.members + 1):
        count = rng.randint(1, 2 * per_member - 1)
        stamp = clock.stamp(rng.randrange(YEAR))
        for k in range(count):
            tag = (m * 13 + k * 37) % TAGS + 1   # distinct for k < TAGS
            yield f"{m}\t{tag}\t{'rule' if tag % 4 == 0 else 'manual'}\t{NULL}\t{stamp}\n"


def scans(shop: Shop):
    rng, clock, members_n = shop.rng, shop.clock, shop.sizes.members
    visitors = 2 * members_n
    for i in range(1, shop.sizes.scans + 1):
        channel = 1 + int(CHANNELS * rng.random() ** 1.5)
        visitor = rng.randrange(visitors)
        member = visitor if 0 < visitor <= members_n and visitor % 3 == 0 else NULL
        yield (f"{i}\t{channel}\tv{visitor}\t{member}\t{DEVICES[i % len(DEVICES)]}\t"
               f"{clock.stamp(rng.randrange(YEAR))}\n")


def checkins(shop: Shop):
    """The first members by id check in on about a quarter of the last 60 days."""
    rng, clock, n = shop.rng, shop.clock, 0
    for m in range(1, shop.sizes.checkin_members + 1):
        streak = 0
        for days_ago in range(CHECKIN_DAYS - 1, -1, -1):
            if rng.random() >= 0.25:
                streak = 0
                continue
            streak += 1
            n += 1
            at = clock.stamp(days_ago * DAY + rng.randrange(3600, 12 * 3600))
            yield f"{n}\t{m}\t{clock.day(days_ago)}\t{at}\tAsia/Shanghai\tweb\tdaily\t{streak}\tf\t0\n"


def _order_member(rng: random.Random, members_n: int) -> int:
    """60 % of orders come from a loyal fifth of the members: repurchase exists."""
    if rng.random() < 0.6:
        return 1 + rng.randrange(max(1, members_n // 5))
    return 1 + rng.randrange(members_n)


def orders(shop: Shop, out: dict):
    """Orders with lines, payments, refunds, distribution attribution and the commission ledger.

    ``out`` maps a table name to a ``write(line)`` function. Status mix: 5 % cancelled, 5 %
    refunded, 5 % partially refunded, 2 % placed and unpaid, the rest paid. Commission follows
    the default settings (two tiers, 10 % and 3 %); older than the 7-day return window it is
    released (two entries), and refunds reverse their share.
    """
    rng, clock, products = shop.rng, shop.clock, shop.products
    line_id = ledger_id = refund_id = 0
    for o in range(1, shop.sizes.orders + 1):
        member = _order_member(rng, shop.sizes.members)
        placed = rng.randrange(YEAR)
        kind = o % 20
        status = ("cancelled" if kind == 0 else "refunded" if kind == 1 else "partially_refunded"
                  if kind == 2 else "placed" if o % 50 == 3 else "paid")
        first = rng.randrange(len(products))
        subtotal = 0
        for k in range(1 + o % 3):
            pid, sku, zh, en, price = products[(first + 7 * k) % len(products)]
            quantity = 1 + (o + k) % 2
            line_id += 1
            subtotal += price * quantity
            out["order_lines"](f"{line_id}\t{o}\t{pid}\t{sku}\t{zh}\t{en}\t{price}\t{quantity}\t"
                               f"{price * quantity}\t{price * quantity}\n")
        total = subtotal
        refunded = total if status == "refunded" else total // 2 if status == "partially_refunded" else 0
        placed_at = clock.stamp(placed)
        paid = status not in ("cancelled", "placed")
        paid_at = clock.stamp(max(0, placed - 300)) if paid else NULL
        cancelled_at = clock.stamp(max(0, placed - 1800)) if status == "cancelled" else NULL
        expires_at = clock.stamp(max(0, placed - 1800)) if status in ("cancelled", "placed") else NULL
        out["orders"](f"{o}\tB{o:09d}\t{member}\t{status}\tCNY\t{subtotal}\t0\t{total}\t{refunded}\tmanual\t"
                      f"bench-{o}\tzh_CN\tv{member}\t{placed_at}\t{paid_at}\t{cancelled_at}\t"
                      f"{'expired' if status == 'cancelled' else NULL}\t{expires_at}\n")
        if paid:
            out["payments"](f"{o}\t{o}\tmanual\tbench-{o}\t{total}\tCNY\tsucceeded\t{NULL}\t{NULL}\t"
                            f"{placed_at}\t{paid_at}\n")
        this_refund = 0
        if refunded:
            refund_id += 1
            this_refund = refund_id
            out["refunds"](f"{refund_id}\t{o}\t{o}\t{refunded}\tCNY\tsucceeded\tbench-r{o}\t{NULL}\t\t{NULL}\t"
                           f"{clock.stamp(max(0, placed - DAY))}\t{NULL}\n")
        dist = shop.binding[member]
        if not dist:
            continue
        tier2 = shop.recruiter[dist]
        tier3 = shop.recruiter[tier2] if tier2 else 0
        out["distribution_orders"](f"{o}\t{dist}\t{tier2 or NULL}\t{tier3 or NULL}\tbinding\tf\t{placed_at}\n")
        if not paid:
            continue
        released = placed > 7 * DAY
        for tier, (who, bps) in enumerate(((dist, 1000), (tier2, 300)), start=1):
            if not who:
                continue
            amount = total * bps // 10000
            entries = [(f"accrual:o{o}:d{who}:t{tier}", "accrual", "pending", amount, NULL, paid_at)]
            if released:
                at = clock.stamp(placed - 7 * DAY)
                key = f"release:o{o}:d{who}:t{tier}"
                entries += [(f"{key}:pending", "release", "pending", -amount, NULL, at),
                            (f"{key}:payable", "release", "payable", amount, NULL, at)]
            if this_refund:
                back = amount * refunded // total if total else 0
                entries.append((f"reversal:r{this_refund}:d{who}:t{tier}", "reversal",
                                "payable" if released else "pending", -back, this_refund,
                                clock.stamp(max(0, placed - DAY))))
            for key, kind_, bucket, amount_, refund, at in entries:
                ledger_id += 1
                out["distribution_ledger"](f"{ledger_id}\t{key}\t{who}\t{kind_}\t{bucket}\t{amount_}\tCNY\t{tier}\t"
                                           f"{o}\t{refund}\t{NULL}\t{total}\tB{o:09d}\t{at}\n")
