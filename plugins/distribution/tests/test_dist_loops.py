"""Commission loops: a buyer who sits in the chain of his own order, and cycles in the tree.

The team is ``top`` → ``mid`` → ``seller`` (each recruited by the one before), three tiers
at 10 %, 3 % and 1 %. Every order here is bought through the seller's link.
"""
from datetime import timedelta

import pytest
from dist_helpers import bind_to, complete, make_distributor, member, paid_order
from sqlalchemy import select, update

from siyu.plugin import (
    confirm_manual_payment, Member, place_order, settings, utcnow, ValidationError, write_transaction,
)
from siyu.plugin.testing import fresh, make_product
from siyu_distribution import accrual, config, distributors, ledger, payouts
from siyu_distribution.models import Distributor, LedgerEntry, OrderAttribution

PRICE = 100_000  # ¥1,000.00: 10 000 / 3 000 / 1 000 at the three tiers


def configure(db, **values):
    values = {"depth": 3, "tier1_bps": 1000, "tier2_bps": 300, "tier3_bps": 100, "min_payout": 100, **values}
    with write_transaction(db):
        for key, value in values.items():
            settings.put(db, "distribution", key, value)


@pytest.fixture
def team(kernel, db):
    configure(db)
    top = make_distributor(kernel, db, name="top")
    mid = make_distributor(kernel, db, recruiter=top, name="mid")
    seller = make_distributor(kernel, db, recruiter=mid, name="seller")
    return {"top": top, "mid": mid, "seller": seller}


def earned(db, order):
    """{distributor id: [(tier, amount), ...]} of the order's accruals."""
    found: dict[int, list[tuple[int, int]]] = {}
    for d, tier, amount in fresh(db).execute(
            select(LedgerEntry.distributor_id, LedgerEntry.tier, LedgerEntry.amount)
            .where(LedgerEntry.order_id == order.id, LedgerEntry.kind == "accrual").order_by(LedgerEntry.tier)):
        found.setdefault(d, []).append((tier, amount))
    return found


def buy_through_seller(kernel, db, team, buyer_role):
    buyer = db.get(Member, team[buyer_role].member_id)
    bind_to(db, buyer, team["seller"])
    return paid_order(kernel, db, buyer, {make_product(db, price=PRICE).id: 1})


@pytest.mark.parametrize("position, buyer_role, expected", [
    (1, "seller", {}),  # through his own link: nobody earns on it (unchanged)
    (2, "mid", {"seller": [(1, 10000)], "top": [(3, 1000)]}),
    (3, "top", {"seller": [(1, 10000)], "mid": [(2, 3000)]}),
])
def test_self_purchase_off_pays_the_buyer_at_no_tier(kernel, db, team, position, buyer_role, expected):
    order = buy_through_seller(kernel, db, team, buyer_role)
    attribution = fresh(db).get(OrderAttribution, order.id)
    if position == 1:  # his own link is not even a referral when self-purchase is off
        assert attribution is None
    else:
        chain = [attribution.distributor_id, attribution.tier2_id, attribution.tier3_id]
        assert chain[position - 1] == team[buyer_role].id  # the buyer does sit at that tier
    assert earned(db, order) == {team[role].id: entries for role, entries in expected.items()}
    # ... and after the return window there is nothing for him to withdraw
    complete(kernel, db, order)
    accrual.release_due(db, config.load(db), utcnow() + timedelta(days=8))
    buyer = team[buyer_role]
    assert ledger.balances(fresh(db), buyer.id).payable == 0
    with pytest.raises(ValidationError):
        payouts.request_payout(db, buyer.id, 100, "CNY")


def test_self_purchase_on_pays_the_buyer_once_at_his_own_tier(kernel, db, team):
    configure(db, self_purchase=True)
    order = buy_through_seller(kernel, db, team, "mid")
    assert earned(db, order) == {team["seller"].id: [(1, 10000)], team["mid"].id: [(2, 3000)],
                                 team["top"].id: [(3, 1000)]}


def test_a_frozen_upline_naming_someone_twice_pays_them_once(kernel, db, team):
    """However a chain came to name a distributor twice, he earns at the nearest tier only."""
    buyer = member(kernel, db)
    bind_to(db, buyer, team["seller"])
    order = place_order(kernel, db, member=buyer, items={make_product(db, price=PRICE).id: 1},
                        payment_method="manual", checkout_token="tok-twice")
    with write_transaction(db):
        db.execute(update(OrderAttribution).where(OrderAttribution.order_id == order.id)
                   .values(tier3_id=team["seller"].id))
        from siyu.plugin import Payment
        db.add(Payment(order_id=order.id, provider="manual", reference="man-twice", amount=order.total,
                       currency=order.currency))
    confirm_manual_payment(kernel, db, order)
    assert earned(db, order) == {team["seller"].id: [(1, 10000)], team["mid"].id: [(2, 3000)]}


def make_cycle(db, a, b):
    """``a`` and ``b`` recruit each other (written around ``set_recruiter``, which refuses it)."""
    with write_transaction(db):
        db.execute(update(Distributor).where(Distributor.id == a.id).values(recruiter_id=b.id))
        db.execute(update(Distributor).where(Distributor.id == b.id).values(recruiter_id=a.id))


def test_a_cycle_in_the_tree_ends_the_upline_walk_and_pays_nobody_twice(kernel, db, team):
    make_cycle(db, team["seller"], team["mid"])  # seller ⇄ mid
    buyer = member(kernel, db)
    bind_to(db, buyer, team["seller"])
    order = paid_order(kernel, db, buyer, {make_product(db, price=PRICE).id: 1})
    attribution = fresh(db).get(OrderAttribution, order.id)
    assert (attribution.distributor_id, attribution.tier2_id, attribution.tier3_id) == \
        (team["seller"].id, team["mid"].id, None)
    assert earned(db, order) == {team["seller"].id: [(1, 10000)], team["mid"].id: [(2, 3000)]}
    # the buyer in the cycle, self-purchase off: only the seller earns
    loop = buy_through_seller(kernel, db, team, "mid")
    assert earned(db, loop) == {team["seller"].id: [(1, 10000)]}
    assert distributors.upline_ids(db, team["seller"].id, 100) == [team["mid"].id]


def test_an_invite_from_ones_own_team_is_ignored_on_reapplying(kernel, db, team):
    """A rejected applicant the owner gave a team re-applies with his recruit's invite: no cycle."""
    applicant = member(kernel, db, "again")
    row = distributors.apply(db, applicant, motivation="tea")
    distributors.reject(db, row.id, "not yet")
    recruit = team["top"]
    distributors.set_recruiter(db, recruit.id, row.id)  # the owner moves top under the applicant
    code = fresh(db).scalar(select(distributors.Link.code).where(distributors.Link.distributor_id == recruit.id))
    again = distributors.apply(db, applicant, motivation="tea", invite_code=code)
    assert again.recruiter_id is None
    assert distributors.upline_ids(fresh(db), team["seller"].id, 100) == [team["mid"].id, recruit.id, row.id]
