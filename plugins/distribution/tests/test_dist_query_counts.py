"""Attribution at checkout and accrual per order cost O(tiers) queries, whatever the team size."""
import uuid
from contextlib import contextmanager
from dataclasses import replace

import pytest
from dist_helpers import bind_to, make_distributor, member
from sqlalchemy import delete, event
from sqlalchemy.orm import Session

from siyu.plugin import Order, place_order
from siyu.plugin.testing import make_product
from siyu_distribution import accrual, attribution, config
from siyu_distribution.models import OrderAttribution


@contextmanager
def counting(engine):
    statements = []

    def before(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def build_team(kernel, db, extra):
    top = make_distributor(kernel, db)
    mid = make_distributor(kernel, db, recruiter=top)
    seller = make_distributor(kernel, db, recruiter=mid)
    for _ in range(extra):  # siblings that a tree walk would touch
        make_distributor(kernel, db, recruiter=mid)
    buyer = member(kernel, db)
    bind_to(db, buyer, seller)
    return buyer


def measure(kernel, db, buyer, depth):
    """Statements for attributing and accruing one order at ``depth`` tiers (rolled back)."""
    settings = replace(config.load(db), depth_setting=depth, tier_bps=(1000, 300, 100))
    product = make_product(db, price=10000)
    order = place_order(kernel, db, member=buyer, items={product.id: 1}, payment_method="manual",
                        checkout_token=f"q-{depth}-{uuid.uuid4().hex}")
    db.rollback()
    engine = kernel.db.engine
    session = Session(engine)
    try:
        order = session.get(Order, order.id)
        session.execute(delete(OrderAttribution).where(OrderAttribution.order_id == order.id))
        session.expire_all()
        order = session.get(Order, order.id)
        with counting(engine) as attributing:
            assert attribution.attribute_order(session, order, settings) is not None
            session.flush()
        with counting(engine) as accruing:
            assert len(accrual.accrue(session, order, settings)) == depth
        session.rollback()
    finally:
        session.close()
    return len(attributing), len(accruing)


@pytest.mark.parametrize("team_size", [0, 15])
def test_queries_grow_by_a_constant_per_tier(kernel, db, team_size):
    buyer = build_team(kernel, db, team_size)
    counts = [measure(kernel, db, buyer, depth) for depth in (1, 2, 3)]
    attributing = [a for a, _ in counts]
    accruing = [b for _, b in counts]
    # the seller's row names the first recruiter, so only deeper tiers cost a query each
    assert all(0 <= b - a <= 1 for a, b in zip(attributing, attributing[1:]))
    assert accruing[1] - accruing[0] == accruing[2] - accruing[1] <= 1
    assert accruing[2] <= 10 and attributing[2] <= 12


def test_counts_do_not_depend_on_team_size(app, kernel, db):
    small = [measure(kernel, db, build_team(kernel, db, 0), d) for d in (1, 3)]
    large = [measure(kernel, db, build_team(kernel, db, 20), d) for d in (1, 3)]
    assert small == large


@pytest.mark.parametrize("referrals", [1, 3, attribution._FEW - 1, attribution._FEW, attribution._FEW + 5])
def test_binding_sees_the_first_and_latest_referral_however_many(kernel, db, referrals):
    """A few referrals come in one query; a member who followed many links still binds to the
    first (and records the latest) in at most two."""
    from datetime import timedelta

    from siyu.plugin import utcnow

    first, middle, latest = (make_distributor(kernel, db) for _ in range(3))
    buyer = member(kernel, db)
    start = utcnow() - timedelta(days=2)
    for n in range(referrals):
        who = first if n == 0 else latest if n == referrals - 1 else middle
        bind_to(db, buyer, who, at=start + timedelta(minutes=n))
    settings = config.load(db)
    with counting(kernel.db.engine) as statements:
        found = attribution._candidates(db, buyer.id, settings, utcnow(), None)
    assert found == sorted({(start, first.id), (start + timedelta(minutes=referrals - 1),
                                                  latest.id if referrals > 1 else first.id)})
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == (2 if referrals >= attribution._FEW else 1)
