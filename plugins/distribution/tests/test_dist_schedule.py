"""The worker releases commission past the return window daily, with no cron."""
from datetime import timedelta

from dist_helpers import bind_to, complete, make_distributor, member, paid_order

from siyu.plugin import ship_order, utcnow
from siyu.plugin.testing import fresh, make_product
from siyu_distribution import ledger, plugin


def scheduled():
    found = {}
    plugin.register_jobs(lambda name, func, **options: found.setdefault(name, (func, options)))
    return found


def test_the_release_runs_daily_on_the_workers_schedule(kernel, db):
    release, options = scheduled()["distribution.release"]
    assert options["daily_at"] == "03:30" and options["label"]
    seller = make_distributor(kernel, db, name="seller")
    buyer = member(kernel, db)
    bind_to(db, buyer, seller)
    order = paid_order(kernel, db, buyer, {make_product(db, price=50000).id: 1})
    ship_order(kernel, db, order, carrier_code="sf", tracking_number="SF10000001")
    complete(kernel, db, order, at=utcnow() - timedelta(days=8))  # the 7-day window has passed
    assert release(kernel) == 1  # what the worker runs, in a session of its own
    assert ledger.balances(fresh(db), seller.id).payable == 5000
    assert release(kernel) == 0
