"""The funnel equals a straightforward recomputation from the raw generated data."""
import random
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from siyu.plugin import Member, Order, Touch, write_transaction
from siyu_qr_channels import attribution, report
from siyu_qr_channels.channels import create_channel
from siyu_qr_channels.scans import record_scan

TZ = ZoneInfo("Asia/Shanghai")  # the shop's default
START = datetime(2026, 1, 1, tzinfo=timezone.utc)
SPAN = timedelta(days=50)
WINDOW = timedelta(days=30)


def moment(rng, after=START, span=SPAN):
    return after + timedelta(seconds=rng.randrange(int(span.total_seconds())), microseconds=rng.randrange(10**6))


def generate(kernel, db, seed):
    """Scans, members with channel touches, and orders paid in time order, through the plugin."""
    rng = random.Random(seed)
    channels = [create_channel(db, {"name": f"C{i}", "kind": "store"}) for i in range(4)]
    scans = []
    for _ in range(250):
        channel = rng.choice(channels)
        row = (channel.id, f"vis-{rng.randrange(25):04d}-padding",
               rng.choices(["mobile", "tablet", "desktop", "bot"], [6, 1, 2, 1])[0], moment(rng))
        record_scan(db, channel, visitor_id=row[1], device=row[2], at=row[3])
        scans.append(row)
    touches, members = defaultdict(list), []
    with write_transaction(db):
        for i in range(40):
            member = Member(email=f"m{i}@example.com", password_hash="x", created_at=moment(rng))
            db.add(member)
            db.flush()
            members.append(member)
            for _ in range(rng.choice([0, 0, 1, 2, 3])):
                at = moment(rng)
                channel = rng.choice(channels)
                db.add(Touch(visitor_id=f"v{i}-0000000000000", member_id=member.id, source="channel",
                             value=str(channel.id), created_at=at))
                touches[member.id].append((at, channel.id))
    for member in members:
        with write_transaction(db):
            attribution.on_member_created(kernel, db, member, None)
    orders = []
    with write_transaction(db):
        for i in range(90):
            member = rng.choice(members)
            placed = moment(rng, member.created_at, START + SPAN - member.created_at + timedelta(days=5))
            order = Order(number=f"N{i}", member_id=member.id, status="placed", currency="CNY",
                          subtotal=100, total=rng.randrange(100, 10000), refunded_amount=0,
                          payment_method="manual", checkout_token=f"t{i}", placed_at=placed)
            db.add(order)
            db.flush()
            attribution.on_order_placed(kernel, db, order)
            fate = rng.choices(["placed", "paid", "refund", "cancelled"], [1, 6, 1, 1])[0]
            paid = placed + timedelta(minutes=rng.randrange(1, 3000)) if fate in ("paid", "refund") else None
            orders.append((order, fate, paid))
    for order, fate, paid in sorted((o for o in orders if o[2]), key=lambda o: o[2]):
        with write_transaction(db):
            order.status, order.paid_at = "paid", paid
            db.flush()
            attribution.on_order_paid(db, order)
        if fate == "refund":
            with write_transaction(db):
                order.refunded_amount = order.total // 3
                order.status = "partially_refunded"
                db.flush()
                attribution.on_order_refunded(db, order)
    return channels, scans, touches, members, orders


def pick(touch_list, at):
    seen = sorted(t for t in touch_list if t[0] <= at)
    first = seen[0][1] if seen else None
    recent = [c for t, c in seen if t >= at - WINDOW]
    return first, (recent[-1] if recent else None)


def expected(channels, scans, touches, members, orders, start, end, model):
    day = lambda at: at.astimezone(TZ).date()  # noqa: E731
    index = 0 if model == "first" else 1
    out = {c.id: defaultdict(int) for c in channels}
    out[None] = defaultdict(int)
    uniques = defaultdict(set)
    for cid, visitor, device, at in scans:
        if device != "bot" and start <= day(at) <= end:
            out[cid]["scans"] += 1
            uniques[cid].add((visitor, day(at)))
    for cid, seen in uniques.items():
        out[cid]["uniques"] = len(seen)
    for m in members:
        if start <= day(m.created_at) <= end:
            out[pick(touches[m.id], m.created_at)[index]]["new_members"] += 1
    paid = sorted((o for o in orders if o[2]), key=lambda o: o[2])
    seq, per_member = defaultdict(int), defaultdict(lambda: defaultdict(int))
    for order, fate, at in paid:
        seq[order.member_id] += 1
        if not start <= day(at) <= end:
            continue
        cid = pick(touches[order.member_id], order.placed_at)[index]
        out[cid]["first_orders" if seq[order.member_id] == 1 else "repeat_orders"] += 1
        out[cid]["revenue"] += order.total - (order.total // 3 if fate == "refund" else 0)
        per_member[cid][order.member_id] += 1
    for cid, counts in per_member.items():
        out[cid]["buyers"] = len(counts)
        out[cid]["repeat_buyers"] = sum(1 for n in counts.values() if n >= 2)
    return out


@pytest.mark.parametrize("seed", [1, 2])
def test_funnel_matches_a_recomputation(kernel, db, seed):
    data = generate(kernel, db, seed)
    first_day = START.astimezone(TZ).date()
    ranges = [(first_day - timedelta(days=1), first_day + timedelta(days=60)),
              (first_day + timedelta(days=10), first_day + timedelta(days=24)),
              (first_day + timedelta(days=20), first_day + timedelta(days=20))]
    checked = 0
    for start, end in ranges:
        for model in report.MODELS:
            want = expected(*data, start, end, model)
            rows = report.funnel(db, start, end, model, direct=True)
            assert len(rows) == len(data[0]) + 1
            for row in rows:
                for name in report.FIGURES:
                    assert getattr(row, name) == want[row.channel_id][name], (start, end, model, row.name, name)
                    checked += getattr(row, name)
            total = report.totals(rows, model)
            assert total.new_members == sum(r.new_members for r in rows if r.channel_id)
    assert checked > 500  # the data exercised every figure


def test_empty_range_is_all_zeros(db):
    create_channel(db, {"name": "Quiet"})
    rows = report.funnel(db, date(2020, 1, 1), date(2020, 1, 31))
    assert [(r.scans, r.new_members, r.revenue, r.repurchase_rate) for r in rows] == [(0, 0, 0, None)]


def test_unknown_model_is_refused(db):
    with pytest.raises(ValueError):
        report.funnel(db, date(2020, 1, 1), date(2020, 1, 2), "linear")
