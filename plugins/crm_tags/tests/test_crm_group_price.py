"""The level's member price and another plugin's price for the same line (a group buy's 拼团价):
they do not stack unless that plugin allows it. A gold member (90 %) buying a 39.00 tea that
the group sells at 29.00 pays 29.00, not 29.00 less 10 % of 39.00 (25.10)."""
from __future__ import annotations

import pytest
from sqlalchemy import update

from siyu.plugin import Adjustment, hookimpl, quote, write_transaction
from siyu.plugin.testing import make_product
from siyu_crm_tags.models import Level, MemberStats


class GroupPrice:
    def __init__(self, price, stacking=False, excludes=("member_price", "coupon")):
        self.price, self.stacking, self.excludes = price, stacking, excludes

    @hookimpl
    def cart_adjustments(self, cart, stage):
        if stage != "item":
            return None
        rules = {} if self.stacking else {"exclusive": True, "excludes": self.excludes}
        return [Adjustment("group_price", "Group price", source="group_buy", sku=line.sku, kind="group_price",
                           unit_price=self.price, **rules) for line in cart.lines]


@pytest.fixture
def gold(db, member):
    with write_transaction(db):
        level = Level(name="Gold", threshold=1, price_percent=90, exclusive_skus=[], benefits="")
        db.add(level)
        db.flush()
        db.execute(update(MemberStats).where(MemberStats.member_id == member.id).values(level_id=level.id))
    return member


@pytest.fixture
def tea(db):
    return make_product(db, "TEA", price=3900)


def priced(kernel, db, member, product):
    cart = quote(kernel, db, member, {product.id: 1})
    return cart.total, [(a.source, a.code) for a in cart.adjustments], [(a.code, a.dropped_reason) for a in cart.dropped]


def test_the_member_price_alone(kernel, db, gold, tea):
    assert priced(kernel, db, gold, tea) == (3510, [("crm_tags", "member_price")], [])


def test_a_group_price_replaces_the_member_price(kernel, db, gold, tea, register_plugin):
    register_plugin(GroupPrice(2900))
    assert priced(kernel, db, gold, tea) == (2900, [("group_buy", "group_price")], [("member_price", "excluded")])


def test_an_exclusive_price_that_does_not_exclude_it_competes_and_the_lower_wins(kernel, db, gold, tea,
                                                                                 register_plugin):
    register_plugin(GroupPrice(2900, excludes=()))
    assert priced(kernel, db, gold, tea)[:2] == (2900, [("group_buy", "group_price")])
    register_plugin(GroupPrice(3600, excludes=()), name="dear")
    total, applied, dropped = priced(kernel, db, gold, tea)
    assert total == 2900 and ("member_price", "exclusive") in dropped and ("group_price", "exclusive") in dropped


def test_stacking_when_the_owner_allows_it(kernel, db, gold, tea, register_plugin):
    register_plugin(GroupPrice(2900, stacking=True))
    assert priced(kernel, db, gold, tea)[0] == 3900 - 390 - 1000
