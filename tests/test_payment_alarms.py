"""Money taken for a cancelled order is refunded automatically, once, and staff see it.

A success that lands on a cancelled order raises a payment alarm (logged at ERROR on
``siyu.payments`` with the order number, kept in ``payment_alarms``, shown in the back office)
and refunds the payment once (key ``auto-refund-<payment id>``), however often the webhook is
delivered. A refund made at Stripe for such an order is recorded. A webhook that cannot read
the intent raises an alarm that closes by itself. Cancelling first and provider outages:
``test_payment_outages.py``.
"""
import importlib.util
import io
import logging
import re
from pathlib import Path

import pytest
import stripe
from backoffice_helpers import admin_csrf, make_staff, staff_login
from conftest import fresh, make_product
from sqlalchemy import func, select
from test_webhook_order import charge_event
from webhook_helpers import intent_event, post, sign

from siyu.core import hookimpl
from siyu.core.db import write_transaction
from siyu.core.members import sign_up
from siyu.core.models import Order, Payment, PaymentAlarm, Refund, WebhookEvent
from siyu.core.orders import cancel_order, place_order
from siyu.core.payments.stripe_provider import StripeProvider
from siyu.storefront.testing import give_address

EN = {"Accept-Language": "en"}
_spec = importlib.util.spec_from_file_location(
    "siyu_bench_invariants_alarms", Path(__file__).resolve().parents[1] / "bench" / "invariants.py")
invariants = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(invariants)


class Refunds:
    """Stripe's refund endpoint as a double: counts calls, fails while ``down``."""

    def __init__(self):
        self.calls, self.down = [], False

    def __call__(self, provider, kernel, payment, refund, retry=False):
        self.calls.append((refund.idempotency_key, refund.amount, retry))
        if self.down:
            raise stripe.APIConnectionError("Network error: connection refused")
        return f"re_{len(self.calls)}"


@pytest.fixture
def refunds(monkeypatch):
    double = Refunds()
    monkeypatch.setattr(StripeProvider, "refund", lambda self, k, p, r, retry=False: double(self, k, p, r, retry))
    return double


@pytest.fixture
def shopper(kernel, db):
    buyer = sign_up(kernel, db, email="buyer@example.com", password="correct-horse", name="Buyer")
    give_address(db, buyer)
    return buyer


def card_order(kernel, db, member, tag="pac", price=2500, quantity=2):
    """A placed card order with a pending PaymentIntent ``pi_<tag>`` (as checkout leaves it)."""
    product = make_product(db, f"P-{tag}", price=price, stock=5)
    kernel.payment_providers["stripe"].available = lambda config: True
    order = place_order(kernel, db, member=member, items={product.id: quantity}, payment_method="stripe",
                        checkout_token=f"tok-{tag}")
    with write_transaction(db):
        db.add(Payment(order_id=order.id, provider="stripe", reference=f"pi_{tag}", amount=order.total,
                       currency=order.currency, client_secret=f"pi_{tag}_secret"))
    return order


def paid_after_cancel(kernel, db, client, member, tag="pac"):
    """An order cancelled by the shop, then paid at Stripe anyway: the success webhook arrives."""
    order = card_order(kernel, db, member, tag)
    cancel_order(kernel, db, order, "customer")  # no Stripe key: the intent cannot be asked
    event = intent_event("payment_intent.succeeded", f"pi_{tag}", order.total, event_id=f"evt_{tag}")
    return order, event


def test_paid_after_cancel_is_refunded_once_and_raises_an_alarm(
        client, kernel, db, shopper, refunds, register_plugin, caplog):
    hooks = []

    class Ledger:
        @hookimpl
        def on_order_paid(self, order):
            hooks.append(("paid", order.id))

        @hookimpl
        def on_order_refunded(self, order, refund):
            hooks.append(("refunded", order.id))

    register_plugin(Ledger(), name="ledger")
    order, event = paid_after_cancel(kernel, db, client, shopper)
    caplog.set_level(logging.INFO, logger="siyu.payments")
    for _ in range(3):  # delivered, then replayed twice
        assert post(client, event, sign(event)).status_code == 200
    other = intent_event("payment_intent.succeeded", "pi_pac", order.total, event_id="evt_pac_2")
    assert post(client, other, sign(other)).get_json()["result"] == "processed"
    echo = charge_event("pi_pac", order.total, order.total)  # Stripe echoes our refund
    assert post(client, echo, sign(echo)).status_code == 200

    fresh(db)
    final = db.get(Order, order.id)
    assert (final.status, final.refunded_amount) == ("cancelled", 0), "the order never moves backwards"
    payment = db.scalar(select(Payment).where(Payment.order_id == order.id))
    assert payment.status == "succeeded"
    rows = db.scalars(select(Refund).where(Refund.order_id == order.id)).all()
    assert [(r.idempotency_key, r.amount, r.status, r.provider_reference) for r in rows] == [
        (f"auto-refund-{payment.id}", 5000, "succeeded", "re_1")]
    assert [key for key, _amount, _retry in refunds.calls] == [f"auto-refund-{payment.id}"], "one refund"
    assert hooks == [], "nothing was sold: no paid or refunded hook (commission, coupons, points)"
    alarm = db.scalar(select(PaymentAlarm))
    assert (alarm.kind, alarm.order_id, alarm.refund_id, alarm.resolved_at) == (
        "paid_after_cancel", order.id, rows[0].id, None)
    assert db.scalar(select(func.count(PaymentAlarm.id))) == 1

    errors = [r for r in caplog.records if r.name == "siyu.payments" and r.levelno >= logging.ERROR]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    assert order.number in errors[0].getMessage() and "paid after cancel" in errors[0].getMessage()
    assert errors[0].order_number == order.number and errors[0].payment_alarm == "paid_after_cancel"
    assert any(order.number in r.getMessage() and "succeeded" in r.getMessage() for r in caplog.records
               if r.name == "siyu.payments"), "the refund's outcome is logged too"
    assert invariants.check(kernel.db.engine) == [], "the books hold: the order unrefunded, its payment refunded"


def test_the_books_catch_money_taken_for_a_cancelled_order_without_an_alarm(kernel, db, shopper):
    """What the shop did before: the payment flagged in a text field, nobody told, no refund."""
    order = card_order(kernel, db, shopper, "old")
    cancel_order(kernel, db, order, "customer")
    with write_transaction(db):
        payment = db.scalar(select(Payment).where(Payment.order_id == order.id))
        payment.status, payment.last_error = "succeeded", "paid after the order was cancelled: refund this payment"
    broken = invariants.check(kernel.db.engine)
    assert len(broken) == 1 and broken[0].startswith("money taken for an unpaid order raised a payment alarm")


def test_alarms_reach_the_servers_error_log_with_time_level_and_order_number(client, kernel, db, shopper,
                                                                             refunds, monkeypatch):
    """Through the shop's configured log handler (``siyu.storefront.logs``), as under gunicorn."""
    from siyu.storefront.logs import FORMAT, SummarisingHandler

    stream = io.StringIO()
    handler = SummarisingHandler(stream)
    handler.setFormatter(logging.Formatter(FORMAT))
    logger = logging.getLogger("siyu.payments")
    logger.addHandler(handler)
    try:
        order, event = paid_after_cancel(kernel, db, client, shopper)
        for _ in range(2):
            assert post(client, event, sign(event)).status_code == 200
        blind = card_order(kernel, db, shopper, "unread")
        monkeypatch.setattr(StripeProvider, "intent_status", lambda self, k, reference: (_ for _ in ()).throw(
            stripe.APIConnectionError("Network error: read timed out")))
        failed = intent_event("payment_intent.payment_failed", "pi_unread", blind.total)
        assert post(client, failed, sign(failed)).status_code == 503
    finally:
        logger.removeHandler(handler)
        handler.close()
    lines = stream.getvalue().splitlines()
    stamp = r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \[\d+\] ERROR siyu\.payments "
    paid = [line for line in lines if re.match(stamp + "paid after cancel: order " + order.number, line)]
    unread = [line for line in lines if re.match(stamp + "could not read payment intent pi_unread of order "
                                                 + blind.number, line)]
    assert len(paid) == 1 and len(unread) == 1, lines


def test_a_failed_automatic_refund_answers_503_and_a_redelivery_retries_it(client, kernel, db, shopper, refunds):
    order, event = paid_after_cancel(kernel, db, client, shopper)
    refunds.down = True
    assert post(client, event, sign(event)).status_code == 503, "Stripe delivers the event again"
    assert invariants.check(kernel.db.engine) == [], "pending: the alarm is open"
    fresh(db)
    pending = db.scalar(select(Refund))
    assert pending.status == "pending" and "connection refused" in pending.last_error
    assert db.scalar(select(func.count(WebhookEvent.id))) == 1
    assert post(client, event, sign(event)).status_code == 503, "still down"
    refunds.down = False
    assert post(client, event, sign(event)).get_json()["result"] == "duplicate"
    assert post(client, event, sign(event)).status_code == 200
    fresh(db)
    assert [(r.status, r.amount) for r in db.scalars(select(Refund))] == [("succeeded", 5000)]
    assert [retry for _key, _amount, retry in refunds.calls] == [True, True, True], "the same key each time"
    assert len({key for key, _amount, _retry in refunds.calls}) == 1
    assert db.get(Order, order.id).status == "cancelled"


def test_a_refund_made_at_stripe_for_a_cancelled_order_is_recorded(client, kernel, db, shopper, refunds):
    """The owner saw the money and refunded it in Stripe's dashboard before the shop did."""
    order = card_order(kernel, db, shopper, "dash")
    cancel_order(kernel, db, order, "customer")
    part = charge_event("pi_dash", order.total, 2000)  # 20.00 refunded at Stripe, no success seen yet
    assert post(client, part, sign(part)).status_code == 200
    fresh(db)
    rows = db.scalars(select(Refund).order_by(Refund.id)).all()
    payment = db.scalar(select(Payment).where(Payment.order_id == order.id))
    assert [(r.amount, r.status, r.reason) for r in rows] == [
        (2000, "succeeded", "refunded at the payment provider"),
        (3000, "succeeded", "paid after the order was cancelled: refunded automatically")]
    assert refunds.calls == [(f"auto-refund-{payment.id}", 3000, True)], "only the rest is refunded"
    full = charge_event("pi_dash", order.total, order.total)  # the echo of both
    assert post(client, full, sign(full)).status_code == 200
    fresh(db)
    assert db.scalar(select(func.sum(Refund.amount))) == order.total
    assert (db.get(Order, order.id).status, db.get(Order, order.id).refunded_amount) == ("cancelled", 0)


def test_a_pending_automatic_refund_covered_at_stripe_is_settled_not_retried(client, kernel, db, shopper, refunds):
    """Stripe was down for the automatic refund; the owner refunded in Stripe's dashboard."""
    order, event = paid_after_cancel(kernel, db, client, shopper)
    refunds.down = True
    assert post(client, event, sign(event)).status_code == 503
    full = charge_event("pi_pac", order.total, order.total)
    assert post(client, full, sign(full)).status_code == 200
    fresh(db)
    assert [(r.amount, r.status, r.provider_reference) for r in db.scalars(select(Refund))] == [
        (5000, "succeeded", "ch_pi_pac")]
    refunds.down = False
    assert post(client, event, sign(event)).status_code == 200, "nothing left to retry"
    assert len(refunds.calls) == 1
    assert invariants.check(kernel.db.engine) == []


def test_a_refund_at_stripe_before_the_success_event_needs_no_refund_from_the_shop(
        client, kernel, db, shopper, refunds):
    order = card_order(kernel, db, shopper, "first")
    cancel_order(kernel, db, order, "customer")
    full = charge_event("pi_first", order.total, order.total)
    assert post(client, full, sign(full)).status_code == 200
    late = intent_event("payment_intent.succeeded", "pi_first", order.total)
    assert post(client, late, sign(late)).status_code == 200
    fresh(db)
    assert [(r.amount, r.provider_reference) for r in db.scalars(select(Refund))] == [(5000, "ch_pi_first")]
    assert refunds.calls == []
    alarm = db.scalar(select(PaymentAlarm))
    assert alarm.kind == "paid_after_cancel" and alarm.refund_id is not None


def test_an_unreadable_intent_raises_an_alarm_that_closes_by_itself(client, kernel, db, shopper, monkeypatch,
                                                                     caplog):
    order = card_order(kernel, db, shopper, "blind")
    truth = {"down": True}

    def status(self, kernel_, reference):
        if truth["down"]:
            raise stripe.APIConnectionError("Network error: read timed out")
        return "requires_payment_method"

    monkeypatch.setattr(StripeProvider, "intent_status", status)
    failed = intent_event("payment_intent.payment_failed", "pi_blind", order.total,
                          last_payment_error={"message": "Your card was declined."})
    caplog.set_level(logging.WARNING, logger="siyu.payments")
    for _ in range(2):
        assert post(client, failed, sign(failed)).status_code == 503
    fresh(db)
    alarm = db.scalar(select(PaymentAlarm))
    assert (alarm.kind, alarm.order_id, alarm.occurrences, alarm.resolved_at) == (
        "intent_unreadable", order.id, 2, None)
    logged = [r for r in caplog.records if r.name == "siyu.payments" and r.levelno == logging.ERROR]
    assert logged and all(r.order_number == order.number and order.number in r.getMessage() for r in logged)
    assert "could not read payment intent" in logged[0].getMessage()
    assert db.get(Order, order.id).status == "placed"

    truth["down"] = False
    assert post(client, failed, sign(failed)).status_code == 200
    fresh(db)
    alarm = db.get(PaymentAlarm, alarm.id)
    assert alarm.resolved_at is not None and alarm.resolution == "the provider answered again"
    assert db.get(Order, order.id).status == "cancelled"


def test_the_back_office_shows_alarms_and_an_owner_retries_and_closes_them(app, client, kernel, db, shopper,
                                                                           refunds):
    order, event = paid_after_cancel(kernel, db, client, shopper)
    quiet = card_order(kernel, db, shopper, "quiet")
    refunds.down = True
    assert post(client, event, sign(event)).status_code == 503
    refunds.down = False

    agent = staff_login(app.test_client(), make_staff(db, "agent"))
    listing = agent.get("/admin/orders", headers=EN).get_data(as_text=True)
    assert "Open payment alarms" in listing and "Paid after the order was cancelled" in listing
    assert "not completed yet" in listing and "connection refused" in listing, "the refund's outcome"
    orders_table = listing.rsplit('<table class="data">', 1)[1]
    row = re.search(rf"<tr>\s*<td><a[^>]*><code>{order.number}</code>.*?</tr>", orders_table, re.S).group(0)
    assert "alarm-badge" in row
    quiet_row = re.search(rf"<tr>\s*<td><a[^>]*><code>{quiet.number}</code>.*?</tr>", orders_table, re.S).group(0)
    assert "alarm-badge" not in quiet_row
    only = agent.get("/admin/orders?alarm=open", headers=EN).get_data(as_text=True)
    assert order.number in only and quiet.number not in only
    dashboard = agent.get("/admin/", headers=EN).get_data(as_text=True)
    assert "Open payment alarms" in dashboard and order.number in dashboard
    page = agent.get(f"/admin/orders/{order.id}", headers=EN).get_data(as_text=True)
    assert 'id="alarms"' in page and "Retry the refund" not in page, "agents see, owners act"
    alarm = db.scalar(select(PaymentAlarm))
    token = admin_csrf(agent, f"/admin/orders/{order.id}")
    assert agent.post(f"/admin/orders/{order.id}/alarms/{alarm.id}/close",
                      data={"csrf_token": token}).status_code == 403
    assert fresh(db).get(PaymentAlarm, alarm.id).resolved_at is None

    owner = staff_login(app.test_client(), make_staff(db, "owner"))
    page = owner.get(f"/admin/orders/{order.id}", headers=EN).get_data(as_text=True)
    assert "Retry the refund" in page and "Close the alarm" in page
    token = admin_csrf(owner, f"/admin/orders/{order.id}")
    early = owner.post(f"/admin/orders/{order.id}/alarms/{alarm.id}/close", data={"csrf_token": token},
                       headers=EN, follow_redirects=True)
    assert "has not completed yet" in early.get_data(as_text=True)
    assert fresh(db).get(PaymentAlarm, alarm.id).resolved_at is None, "money not back yet: stays open"
    retried = owner.post(f"/admin/orders/{order.id}/alarms/{alarm.id}/retry-refund", data={"csrf_token": token})
    assert retried.status_code == 302
    page = owner.get(f"/admin/orders/{order.id}", headers=EN).get_data(as_text=True)
    assert "refunded" in page and "Retry the refund" not in page
    assert owner.post(f"/admin/orders/{order.id}/alarms/{alarm.id}/close",
                      data={"csrf_token": token}).status_code == 302
    fresh(db)
    closed = db.get(PaymentAlarm, alarm.id)
    assert closed.resolved_at is not None and closed.resolved_by is not None
    assert "Open payment alarms" not in owner.get("/admin/orders", headers=EN).get_data(as_text=True)
    assert "Closed" in owner.get(f"/admin/orders/{order.id}", headers=EN).get_data(as_text=True)
    assert owner.post(f"/admin/orders/{quiet.id}/alarms/{alarm.id}/close",
                      data={"csrf_token": token}).status_code == 404, "the alarm belongs to its order"
    assert len(refunds.calls) == 2 and db.scalar(select(func.count(Refund.id))) == 1
    assert invariants.check(kernel.db.engine) == []


def test_the_cli_lists_open_alarms_and_retries_pending_refunds(runner, client, kernel, db, shopper, refunds):
    order, event = paid_after_cancel(kernel, db, client, shopper)
    refunds.down = True
    post(client, event, sign(event))
    listed = runner.invoke(args=["siyu", "payment-alarms", "--retry-refunds"])
    assert listed.exit_code != 0 and order.number in listed.output and "refund pending 5000" in listed.output
    refunds.down = False
    done = runner.invoke(args=["siyu", "payment-alarms", "--retry-refunds"])
    assert done.exit_code == 0 and "refund succeeded 5000" in done.output
    assert fresh(db).scalar(select(Refund.status)) == "succeeded"


def test_a_manual_refund_of_a_cancelled_order_points_to_the_automatic_one(client, runner, kernel, db, shopper,
                                                                          refunds):
    from siyu.core.errors import InvalidTransition
    from siyu.core.refunds import refund_order

    order, event = paid_after_cancel(kernel, db, client, shopper)
    post(client, event, sign(event))
    with pytest.raises(InvalidTransition, match="refunded automatically"):
        refund_order(kernel, db, fresh(db).get(Order, order.id), 5000, "by-hand-1")
    cli = runner.invoke(args=["siyu", "refund", order.number, "--amount", "5000"])
    assert cli.exit_code == 1 and "自动退回" in cli.output and "Traceback" not in cli.output  # the shop speaks zh_CN
    assert len(refunds.calls) == 1


# -- cancelling goes through the provider first ------------------------------------------
