"""Orders count toward points and levels when they are completed, once; toward the bands,
segments and rule tags when they are paid. Refunds (after-sales ones too) take both back."""
import pytest
from crm_helpers import buy, complete_order, ship
from sqlalchemy import delete, select

from siyu.plugin import after_sales, Order, refund_order, settings, write_transaction
from siyu.plugin.testing import fresh, make_member, make_product

from siyu_crm_tags import config, points, recompute
from siyu_crm_tags.models import Level, MemberStats, PointEntry


def stats_of(db, member):
    return fresh(db).get(MemberStats, member.id)


def entries(db, member):
    return [(e.kind, e.delta) for e in db.scalars(select(PointEntry).where(PointEntry.member_id == member.id)
                                                  .order_by(PointEntry.id))]


@pytest.mark.parametrize("basis, threshold", [("spend", 10000), ("points", 100)])
def test_a_paid_order_counts_for_the_bands_and_toward_levels_once_completed(kernel, db, member, product,
                                                                          basis, threshold):
    with write_transaction(db):
        settings.put(db, config.NAME, "level_basis", basis)
        db.add(Level(name="Gold", threshold=threshold, price_percent=95, exclusive_skus=[], benefits=""))
    order = buy(kernel, db, member, product)  # 100.00
    stats = stats_of(db, member)
    assert (stats.orders_count, stats.spend, stats.f_band, stats.last_order_at is not None) == (1, 10000, 1, True)
    assert (stats.completed_spend, stats.points, stats.points_earned, stats.level_id) == (0, 0, 0, None)
    ship(kernel, db, order)
    assert stats_of(db, member).level_id is None  # shipped is not received
    complete_order(kernel, db, order)
    stats = stats_of(db, member)
    assert (stats.orders_count, stats.spend) == (1, 10000)  # not counted a second time
    assert (stats.completed_spend, stats.points, stats.points_earned) == (10000, 100, 100)
    assert stats.level_id == db.scalar(select(Level.id))
    assert entries(db, member) == [("earn", 100)]


def test_a_refund_before_completion_is_taken_off_what_completion_counts(kernel, db, member, product):
    order = buy(kernel, db, member, product, quantity=3)  # 300.00
    refund_order(kernel, db, order, 10000, "before")
    complete_order(kernel, db, order)
    stats = stats_of(db, member)
    assert (stats.spend, stats.completed_spend, stats.points, stats.points_earned) == (20000, 20000, 200, 200)
    assert entries(db, member) == [("earn", 300), ("earn_reversal", -100)]
    refund_order(kernel, db, fresh(db).get(Order, order.id), 20000, "after")
    stats = stats_of(db, member)
    assert (stats.orders_count, stats.spend, stats.completed_spend, stats.points, stats.points_earned) == (0, 0, 0, 0, 0)


def test_an_order_that_earned_when_paid_earns_nothing_more_when_completed(kernel, db, member, product):
    """Points earned at payment before they waited for completion (a shop that upgraded)."""
    order = buy(kernel, db, member, product)
    with write_transaction(db):
        points.credit(db, config.load(db), member.id, 100, "earn", f"order {order.number}", f"order:{order.id}",
                      order.id)
    complete_order(kernel, db, order)
    assert entries(db, member) == [("earn", 100)]
    assert (stats_of(db, member).points, stats_of(db, member).completed_spend) == (100, 10000)


def test_an_after_sales_refund_reverses_points_and_the_level(kernel, db, member):
    with write_transaction(db):
        db.add(Level(name="Gold", threshold=15000, price_percent=100, exclusive_skus=[], benefits=""))
    tea, cup = make_product(db, "TEA-9", price=10000), make_product(db, "CUP-9", price=6000)
    order = _two_lines(kernel, db, member, tea, cup)  # ¥100 tea + ¥60 cup
    complete_order(kernel, db, order)
    assert stats_of(db, member).level_id is not None and stats_of(db, member).points == 160
    order = fresh(db).get(Order, order.id)
    cup_line = next(line for line in order.lines if line.sku == "CUP-9")
    request = after_sales.request_after_sale(kernel, db, order, member, line_id=cup_line.id,
                                             kind="return_refund", reason="damaged")
    after_sales.approve(kernel, db, request)
    after_sales.mark_received(kernel, db, request)
    after_sales.refund(kernel, db, request)
    after_sales.refund(kernel, db, request)  # once
    stats = stats_of(db, member)
    assert entries(db, member) == [("earn", 160), ("earn_reversal", -60)]
    assert (stats.points, stats.points_earned, stats.completed_spend, stats.spend) == (100, 100, 10000, 10000)
    assert stats.level_id is None  # 100.00 completed is below Gold's 150.00


def _two_lines(kernel, db, member, a, b):
    import secrets

    from crm_helpers import pay_order

    from siyu.plugin import place_order

    order = place_order(kernel, db, member=member, items={a.id: 1, b.id: 1}, payment_method="manual",
                        checkout_token=secrets.token_hex(8))
    return pay_order(kernel, db, order)


def test_recompute_finds_what_events_counted_for_every_order_state(kernel, db, product):
    with write_transaction(db):
        db.add(Level(name="Gold", threshold=20000, price_percent=100, exclusive_skus=[], benefits=""))
    people = [make_member(kernel, db, f"f{i}@example.com") for i in range(4)]
    buy(kernel, db, people[0], product)  # paid only
    ship(kernel, db, buy(kernel, db, people[1], product))  # shipped
    for _ in range(2):
        buy(kernel, db, people[2], product, complete=True)  # completed twice: Gold
    partly = buy(kernel, db, people[3], product, quantity=2, complete=True)
    refund_order(kernel, db, partly, 5000, "part")  # completed, partly refunded
    refund_order(kernel, db, buy(kernel, db, people[3], product), 10000, "all")  # fully refunded
    figures = lambda: {s.member_id: (s.orders_count, s.spend, s.completed_spend, s.points, s.points_earned,  # noqa: E731
                                     s.level_id) for s in fresh(db).scalars(select(MemberStats))}
    before = figures()
    assert before[people[1].id][:3] == (1, 10000, 0) and before[people[2].id][2] == 20000
    assert before[people[3].id][:3] == (1, 15000, 15000)
    with write_transaction(db):
        db.execute(delete(MemberStats))
    recompute.run(kernel, db)
    assert figures() == before
