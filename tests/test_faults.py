"""A database error at each commit point of checkout, payment and refund: nothing is left
half-written (the books' invariants hold), the shopper or Stripe gets a retryable answer,
and a retry succeeds exactly once.

The fault is raised by the engine's ``commit`` event, i.e. where the database itself would
refuse the COMMIT (a dropped connection, a failover); the commits are counted first, then
each one fails in turn.
"""
import importlib.util
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import TOKEN, add_to_cart, allow_unpaid_orders, fresh, login, make_product
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError
from webhook_helpers import intent_event, post, sign

from siyu.core import outbox_runner
from siyu.core.db import write_transaction
from siyu.core.models import Order, OutboxEntry, Payment, Product, Refund, WebhookEvent
from siyu.core.orders import place_order
from siyu.core.payments.manual import ManualProvider
from siyu.core.refunds import refund_order

_spec = importlib.util.spec_from_file_location(
    "siyu_bench_invariants", Path(__file__).resolve().parents[1] / "bench" / "invariants.py")
invariants = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(invariants)


class CommitFault:
    """Counts the engine's commits; raises at the ``fail_at``-th (1-based) when armed."""

    def __init__(self):
        self.seen, self.fail_at = 0, None

    def __call__(self, conn):
        self.seen += 1
        if self.seen == self.fail_at:
            raise OperationalError("COMMIT", None, ConnectionError("injected: server closed the connection"))


@contextmanager
def commits(kernel, fail_at=None):
    fault = CommitFault()
    fault.fail_at = fail_at
    event.listen(kernel.db.engine, "commit", fault)
    try:
        yield fault
    finally:
        event.remove(kernel.db.engine, "commit", fault)


def assert_books_hold(kernel, initial_stock):
    assert invariants.check(kernel.db.engine, initial_stock) == []


def checkout_form(client):
    html = client.get("/checkout").get_data(as_text=True)
    token = TOKEN.search(html)
    checkout_token = html.split('name="checkout_token" type="hidden" value="')[1].split('"')[0]
    return {"payment_method": "manual", "checkout_token": checkout_token,
            "csrf_token": token.group(1) or token.group(2)}


def start_checkout(app, product):
    client = app.test_client()
    login(client)
    add_to_cart(client, product.id, 2)
    return client, checkout_form(client)


def test_checkout_fails_cleanly_at_each_commit_and_a_retry_places_one_order(app, kernel, db, member):
    allow_unpaid_orders(db)  # one member places an order per commit point and pays none
    stock = {}
    probe_product = make_product(db, "PROBE", price=1500, stock=10)
    stock[probe_product.id] = 10
    client, form = start_checkout(app, probe_product)
    with commits(kernel) as probe:
        assert client.post("/checkout", data=form).status_code == 302
    points = probe.seen
    assert points >= 2, "placing the order and starting its payment commit apart"
    for k in range(1, points + 1):
        product = make_product(db, f"FAULT-{k}", price=1500, stock=10)
        stock[product.id] = 10
        client, form = start_checkout(app, product)
        with commits(kernel, fail_at=k):
            failed = client.post("/checkout", data=form, headers={"Accept-Language": "en"})
        assert failed.status_code == 503, (k, failed.status_code)
        assert "try again" in failed.get_data(as_text=True) and failed.headers["Retry-After"]
        assert_books_hold(kernel, stock)
        retried = client.post("/checkout", data=form)
        assert retried.status_code == 302, k
        fresh(db)
        order = db.scalar(select(Order).where(Order.checkout_token == form["checkout_token"]))
        assert db.scalar(select(func.count()).select_from(Payment).where(Payment.order_id == order.id)) == 1
        assert db.get(Product, product.id).stock == 8
        assert_books_hold(kernel, stock)
    assert db.scalar(select(func.count()).select_from(Order)) == points + 1


def card_order(kernel, db, member, tag):
    product = make_product(db, f"C-{tag}", price=2500, stock=5)
    kernel.payment_providers["stripe"].available = lambda config: True
    order = place_order(kernel, db, member=member, items={product.id: 2}, payment_method="stripe",
                        checkout_token=f"tok-{tag}")
    with write_transaction(db):
        db.add(Payment(order_id=order.id, provider="stripe", reference=f"pi_{tag}", amount=order.total,
                       currency=order.currency))
    return order


@contextmanager
def own_commits(kernel, monkeypatch):
    """Count the change's own commits, not those of the follow-up work it records (the outbox,
    run after them in the same request): the worker is told to run that instead."""
    monkeypatch.setitem(kernel.config, "OUTBOX_INLINE", False)
    try:
        with commits(kernel) as probe:
            yield probe
    finally:
        monkeypatch.setitem(kernel.config, "OUTBOX_INLINE", True)


def assert_follow_up_waits_then_runs(kernel, db):
    """The follow-up work's own commit failed after the change committed: it waits, then runs."""
    fresh(db)
    assert db.scalar(select(func.count()).select_from(OutboxEntry).where(OutboxEntry.state == "pending")) >= 1
    assert set(outbox_runner.drain(kernel)) == {"done"}
    fresh(db)
    assert db.scalar(select(func.count()).select_from(OutboxEntry).where(OutboxEntry.state != "done")) == 0


def test_webhook_fails_cleanly_at_each_commit_and_the_redelivery_pays_once(client, kernel, db, member, monkeypatch):
    probe_order = card_order(kernel, db, member, "probe")
    payload = intent_event("payment_intent.succeeded", "pi_probe", probe_order.total)
    with own_commits(kernel, monkeypatch) as probe:
        assert post(client, payload, sign(payload)).status_code == 200
    assert probe.seen >= 1
    for k in range(1, probe.seen + 1):
        order = card_order(kernel, db, member, f"w{k}")
        payload = intent_event("payment_intent.succeeded", f"pi_w{k}", order.total)
        with commits(kernel, fail_at=k):
            response = post(client, payload, sign(payload))
        assert response.status_code == 503 and response.is_json, "Stripe delivers it again"
        fresh(db)
        assert db.get(Order, order.id).status == "placed"
        assert db.scalar(select(func.count()).select_from(WebhookEvent)) == k
        assert post(client, payload, sign(payload)).get_json()["result"] == "processed"
        assert post(client, payload, sign(payload)).get_json()["result"] == "duplicate"
        fresh(db)
        assert db.get(Order, order.id).status == "paid"
        assert_books_hold(kernel, None)
    # The next commit is the follow-up work's, after the payment's: the payment stands.
    order = card_order(kernel, db, member, "after")
    payload = intent_event("payment_intent.succeeded", "pi_after", order.total)
    with commits(kernel, fail_at=probe.seen + 1):
        assert post(client, payload, sign(payload)).get_json()["result"] == "processed"
    assert fresh(db).get(Order, order.id).status == "paid"
    assert_follow_up_waits_then_runs(kernel, db)
    assert_books_hold(kernel, None)


class OnceProvider(ManualProvider):
    """A provider that refunds once per idempotency key, as Stripe does."""

    def __init__(self):
        self.refunds: dict[str, int] = {}

    def refund(self, kernel, payment, refund, retry=False):
        self.refunds.setdefault(refund.idempotency_key, refund.amount)
        return f"re_{refund.idempotency_key}"


def test_refund_fails_cleanly_at_each_commit_and_a_retry_refunds_once(kernel, db, member, monkeypatch):
    from backoffice_helpers import paid_order

    provider = OnceProvider()
    monkeypatch.setitem(kernel.payment_providers, "manual", provider)
    first = paid_order(kernel, db, member, make_product(db, "P0", price=5000), "p0")
    with own_commits(kernel, monkeypatch) as probe:
        refund_order(kernel, db, first, 1000, "probe")
    points = probe.seen
    assert points >= 2, "reserving and completing commit apart"
    for k in range(1, points + 1):
        order = paid_order(kernel, db, member, make_product(db, f"R{k}", price=5000), f"r{k}")
        with commits(kernel, fail_at=k), pytest.raises(OperationalError):
            refund_order(kernel, db, order, 1000, f"key-{k}")
        assert_books_hold(kernel, None)
        pending = fresh(db).scalar(select(Refund).where(Refund.idempotency_key == f"key-{k}"))
        assert pending is None or pending.status == "pending", "reserved or nothing"
        done = refund_order(kernel, db, fresh(db).get(Order, order.id), 1000, f"key-{k}")
        assert done.status == "succeeded"
        fresh(db)
        assert db.get(Order, order.id).refunded_amount == 1000
        assert db.scalar(select(func.count()).select_from(Refund).where(Refund.order_id == order.id)) == 1
        assert provider.refunds[f"key-{k}"] == 1000
    # The next commit is the follow-up work's (the shopper's notice), after the refund's.
    order = paid_order(kernel, db, member, make_product(db, "AFTER", price=5000), "after")
    with commits(kernel, fail_at=points + 1):
        assert refund_order(kernel, db, order, 1000, "key-after").status == "succeeded"
    assert_follow_up_waits_then_runs(kernel, db)
    assert len(provider.refunds) == points + 2
    assert_books_hold(kernel, None)
