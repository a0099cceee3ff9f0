"""Coupon races proven on PostgreSQL (SQLite serialises writers, so it cannot show them).

Threads are released together by a barrier; each uses its own session and connection.
"""

import pytest
from coupon_helpers import make_template
from sqlalchemy import func, select

from siyu.plugin import Member, Order, place_order, SiyuError, write_transaction
from siyu.plugin.testing import make_member, make_product, run_together
from siyu_coupons.claims import LimitReached, SoldOut, claim, issue
from siyu_coupons.models import Coupon, CouponTemplate

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(pg_app):
    return pg_app.extensions["siyu"]


def _claimer(pg, template_id, member_ids):
    def work(i):
        s = pg.db.Session()
        try:
            with write_transaction(s):
                return claim(s, s.get(CouponTemplate, template_id), member_ids[i % len(member_ids)],
                             source="page").id
        finally:
            s.close()
    return work


def _members(pg, session, n):
    with write_transaction(session):
        session.add_all(Member(email=f"m{i}@example.com", password_hash="x") for i in range(n))
    return list(session.scalars(select(Member.id).order_by(Member.id)))


def test_500_concurrent_claims_of_100_make_exactly_100(pg):
    session = pg.db.Session()
    template = make_template(session, quantity=100, per_member_limit=1)
    member_ids = _members(pg, session, 500)
    results, errors = run_together(500, _claimer(pg, template.id, member_ids))
    assert len(results) == 100 and len(set(results)) == 100
    assert len(errors) == 400 and all(isinstance(e, SoldOut) for e in errors)
    assert {str(e.message) for e in errors} == {"Sorry, this coupon is sold out."}
    session.expire_all()
    assert session.scalar(select(func.count(Coupon.id))) == 100
    assert session.get(CouponTemplate, template.id).issued == 100
    session.close()


def test_50_parallel_claims_by_one_member_with_limit_1_make_one(pg):
    session = pg.db.Session()
    template = make_template(session, quantity=1000, per_member_limit=1)
    member = make_member(pg, session)
    results, errors = run_together(50, _claimer(pg, template.id, [member.id]))
    assert len(results) == 1
    assert len(errors) == 49 and all(isinstance(e, LimitReached) for e in errors)
    session.expire_all()
    assert session.scalar(select(func.count(Coupon.id))) == 1
    # the counter was rolled back with every refused claim
    assert session.get(CouponTemplate, template.id).issued == 1
    session.close()


def test_parallel_claims_with_limit_3_make_three(pg):
    session = pg.db.Session()
    template = make_template(session, per_member_limit=3)
    member = make_member(pg, session)
    results, errors = run_together(30, _claimer(pg, template.id, [member.id]))
    assert len(results) == 3 and all(isinstance(e, LimitReached) for e in errors)
    session.expire_all()
    assert sorted(session.scalars(select(Coupon.seq))) == [1, 2, 3]
    session.close()


def test_parallel_hook_issues_with_one_reference_issue_once(pg):
    session = pg.db.Session()
    template = make_template(session, code="STREAK7", per_member_limit=5)
    member = make_member(pg, session)

    def work(i):
        s = pg.db.Session()
        try:
            with write_transaction(s):
                return issue(s, member.id, "STREAK7", "7-day streak", "checkin:2026-11-23")
        finally:
            s.close()

    results, errors = run_together(20, work)
    assert errors == []
    session.expire_all()
    ids = list(session.scalars(select(Coupon.id).where(Coupon.template_id == template.id)))
    assert len(ids) == 1 and all(r in ([], ids) for r in results)
    session.close()


def test_two_checkouts_with_the_same_coupon_one_wins(pg):
    session = pg.db.Session()
    product = make_product(session, stock=100)
    member = make_member(pg, session)
    template = make_template(session, amount=500)
    with write_transaction(session):
        coupon = claim(session, session.get(CouponTemplate, template.id), member.id, source="page")

    def buy(i):
        s = pg.db.Session()
        try:
            return place_order(pg, s, member=s.get(Member, member.id), items={product.id: 1},
                               payment_method="manual", checkout_token=f"race-{i}",
                               inputs={"coupon_id": str(coupon.id)}).id
        finally:
            s.close()

    results, errors = run_together(20, buy)
    assert len(results) == 1
    assert len(errors) == 19 and all(isinstance(e, SiyuError) and e.status == 422 for e in errors)
    session.expire_all()
    assert session.scalar(select(func.count(Order.id))) == 1
    assert session.get(Coupon, coupon.id).status == "reserved"
    session.close()
