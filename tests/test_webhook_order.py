"""Stripe delivers events late, twice and in any order: whatever the order of succeeded,
failed and refunded events (and their replays), an order ends in the same state and never
moves backwards. Hypothesis draws the event sets, orders and replays on SQLite; a
PostgreSQL variant delivers every event ten times at once.
"""
import json
import threading
import time
import uuid

import pytest
from conftest import allow_unpaid_orders, fresh, make_product
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from webhook_helpers import intent_event, post, sign

from siyu.core import hookimpl
from siyu.core.db import write_transaction
from siyu.core.members import sign_up
from siyu.core.models import Order, Payment, Product, Refund, WebhookEvent
from siyu.core.orders import place_order
from siyu.core.payments.stripe_provider import StripeProvider
from siyu.core.payments.stripe_provider import process_event

RANK = {"placed": 0, "paid": 1, "partially_refunded": 2, "refunded": 3}
PARTIAL = 1000


def charge_event(intent_id: str, amount: int, refunded: int) -> bytes:
    """``charge.refunded`` as Stripe sends it: the charge with its cumulative refunded amount."""
    charge = {"id": f"ch_{intent_id}", "object": "charge", "payment_intent": intent_id, "amount": amount,
              "amount_captured": amount, "amount_refunded": refunded, "currency": "cny"}
    event = {"id": f"evt_{uuid.uuid4().hex}", "object": "event", "type": "charge.refunded",
             "created": int(time.time()), "data": {"object": charge}}
    return json.dumps(event).encode()


def events_for(reference: str, total: int) -> dict[str, bytes]:
    return {
        "succeeded": intent_event("payment_intent.succeeded", reference, total),
        "failed": intent_event("payment_intent.payment_failed", reference, total,
                               last_payment_error={"message": "Your card was declined."}),
        "refunded_part": charge_event(reference, total, PARTIAL),
        "refunded_all": charge_event(reference, total, total),
    }


def expected(kinds: set[str], total: int) -> tuple[str, int]:
    """(final status, refunded amount) that the set of events implies, in any order."""
    if "refunded_all" in kinds:
        return "refunded", total
    if "refunded_part" in kinds:
        return "partially_refunded", PARTIAL
    if "succeeded" in kinds:
        return "paid", 0
    return "cancelled", 0


class Ledger:
    """Counts lifecycle hooks per order, as a commission or coupon plugin would act on them."""

    def __init__(self):
        self.paid, self.refunded, self.cancelled = [], [], []

    @hookimpl
    def on_order_paid(self, order):
        self.paid.append(order.id)

    @hookimpl
    def on_order_refunded(self, order, refund):
        self.refunded.append((order.id, refund.amount))

    @hookimpl
    def on_order_cancelled(self, order):
        self.cancelled.append(order.id)


def card_order(kernel, session, member, tag: str) -> tuple[Order, int]:
    product = make_product(session, f"EV-{tag}", price=2500, stock=5)
    kernel.payment_providers["stripe"].available = lambda config: True
    order = place_order(kernel, session, member=member, items={product.id: 2}, payment_method="stripe",
                        checkout_token=f"tok-{tag}")
    with write_transaction(session):
        session.add(Payment(order_id=order.id, provider="stripe", reference=f"pi_{tag}",
                            amount=order.total, currency=order.currency))
    return order, product.id


def stripe_truth(monkeypatch, truth: dict[str, str]):
    """What Stripe answers when asked where an intent stands now."""
    monkeypatch.setattr(StripeProvider, "intent_status",
                        lambda self, kernel, reference: truth.get(reference, "requires_payment_method"))


@pytest.fixture
def ledger(register_plugin):
    return register_plugin(Ledger(), name="ledger")


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_any_order_of_events_ends_in_the_same_state(client, kernel, db, member, ledger, monkeypatch, data):
    allow_unpaid_orders(db)  # the examples leave many orders of one member unpaid
    tag = uuid.uuid4().hex[:10]
    order, product_id = card_order(kernel, db, member, tag)
    events = events_for(f"pi_{tag}", order.total)
    kinds = data.draw(st.sets(st.sampled_from(sorted(events)), min_size=1), label="events")
    sequence = data.draw(st.permutations(sorted(kinds)), label="order")
    for replay in data.draw(st.lists(st.sampled_from(sorted(kinds)), max_size=4), label="replays"):
        sequence.insert(data.draw(st.integers(0, len(sequence)), label="at"), replay)
    succeeded = kinds & {"succeeded", "refunded_part", "refunded_all"}
    stripe_truth(monkeypatch, {f"pi_{tag}": "succeeded" if succeeded else "requires_payment_method"})

    seen = []
    for kind in sequence:
        assert post(client, events[kind], sign(events[kind])).status_code == 200
        seen.append(fresh(db).get(Order, order.id).status)
    ranks = [RANK.get(status, -1) for status in seen]
    assert ranks == sorted(ranks) or set(seen) == {"cancelled"}, f"moved backwards: {seen}"

    status, refunded = expected(kinds, order.total)
    final = db.get(Order, order.id)
    assert (final.status, final.refunded_amount) == (status, refunded), sequence
    assert ledger.paid.count(order.id) == (1 if succeeded else 0)
    assert sum(a for o, a in ledger.refunded if o == order.id) == refunded
    assert ledger.cancelled.count(order.id) == (0 if succeeded else 1)
    assert db.get(Product, product_id).stock == (3 if succeeded else 5)
    assert db.scalar(select(func.count()).select_from(WebhookEvent).where(
        WebhookEvent.event_id.in_([json.loads(events[k])["id"] for k in kinds]))) == len(kinds)


def test_a_failure_then_no_success_releases_the_order(client, kernel, db, member, ledger, monkeypatch):
    order, product_id = card_order(kernel, db, member, "lonely")
    stripe_truth(monkeypatch, {})
    failed = events_for("pi_lonely", order.total)["failed"]
    for _ in range(3):
        assert post(client, failed, sign(failed)).status_code == 200
    fresh(db)
    assert db.get(Order, order.id).status == "cancelled" and ledger.cancelled == [order.id]
    assert db.get(Product, product_id).stock == 5


def test_an_unreachable_provider_defers_a_failure_event(client, kernel, db, member, monkeypatch):
    order, _ = card_order(kernel, db, member, "offline")

    def offline(self, kernel, reference):
        raise TimeoutError("read timed out")

    monkeypatch.setattr(StripeProvider, "intent_status", offline)
    failed = events_for("pi_offline", order.total)["failed"]
    assert post(client, failed, sign(failed)).status_code == 503
    fresh(db)
    assert db.get(Order, order.id).status == "placed"
    assert db.scalar(select(func.count()).select_from(WebhookEvent)) == 0, "delivered again later"


def test_our_own_refund_echoed_by_stripe_is_not_counted_twice(client, kernel, db, member, ledger, monkeypatch):
    from siyu.core.refunds import refund_order

    order, _ = card_order(kernel, db, member, "echo")
    events = events_for("pi_echo", order.total)
    assert post(client, events["succeeded"], sign(events["succeeded"])).status_code == 200
    monkeypatch.setattr(StripeProvider, "refund", lambda self, k, p, r, retry=False: "re_echo")
    refund_order(kernel, db, fresh(db).get(Order, order.id), PARTIAL, "shop-refund-1")
    echo = events["refunded_part"]
    assert post(client, echo, sign(echo)).status_code == 200
    fresh(db)
    assert db.get(Order, order.id).refunded_amount == PARTIAL
    assert db.scalar(select(func.count()).select_from(Refund)) == 1


@pytest.mark.postgres
def test_every_event_delivered_ten_times_at_once(pg_app, monkeypatch):
    pg = pg_app.extensions["siyu"]
    ledger = Ledger()
    pg.pm.register(ledger, name="ledger")
    session = pg.db.Session()
    member = sign_up(pg, session, email="pg-order@example.com", password="password-123")
    order, product_id = card_order(pg, session, member, "pg")
    stripe_truth(monkeypatch, {"pi_pg": "succeeded"})
    events = [json.loads(payload) for payload in events_for("pi_pg", order.total).values()]
    deliveries = [event for event in events for _ in range(10)]
    barrier = threading.Barrier(len(deliveries))
    results, errors = [], []

    def deliver(event):
        s = pg.db.Session()
        barrier.wait()
        try:
            results.append(process_event(pg, s, event))
        except Exception as exc:  # collected and asserted on below
            errors.append(exc)
        finally:
            s.close()

    threads = [threading.Thread(target=deliver, args=(event,)) for event in deliveries]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert results.count("processed") == 4 and results.count("duplicate") == 36
    fresh(session)
    final = session.get(Order, order.id)
    assert (final.status, final.refunded_amount) == ("refunded", order.total)
    assert ledger.paid == [order.id] and sum(a for _, a in ledger.refunded) == order.total
    assert ledger.cancelled == [] and session.get(Product, product_id).stock == 3
    session.close()
