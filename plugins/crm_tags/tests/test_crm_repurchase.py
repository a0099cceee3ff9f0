"""The dashboard's repurchase figures from member stats: repeat buyers over buyers, active members only."""
from crm_helpers import buy

from siyu.plugin import repurchase_rate
from siyu.plugin import write_transaction
from siyu.plugin.testing import make_member

from siyu_crm_tags import metrics


def test_repurchase_counts_repeat_buyers_among_buyers(kernel, db, product):
    loyal = make_member(kernel, db, "loyal@example.com")
    once = make_member(kernel, db, "once@example.com")
    gone = make_member(kernel, db, "gone@example.com")
    make_member(kernel, db, "browser@example.com")
    for buyer in (loyal, loyal, once, gone, gone):
        buy(kernel, db, buyer, product)
    assert metrics.repurchase(db) == (2, 3) and repurchase_rate(db) == (2, 3)
    with write_transaction(db):
        gone.active = False  # anonymised members leave the CRM's figures
    assert metrics.repurchase(db) == (1, 2)
