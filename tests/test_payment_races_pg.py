"""Paying and cancelling one order at the same moment, on PostgreSQL: never charged and cancelled.

``POST /orders/<n>/pay`` and ``POST /orders/<n>/cancel`` are sent together (two signed-in
browsers, released by a barrier), 20 rounds. The card provider is a double that, unlike Stripe,
does not serialise a confirm and a cancel of one intent (it looks, waits, then acts), so only
the shop's own serialisation keeps money and order together: either the payment goes through
and the cancel is refused (the webhook then pays the order), or the cancel stops the intent
first and the payment is refused. Then the same race against localstripe, end to end (its
webhooks delivered to the shop over HTTP), and a success for a cancelled order delivered ten
times at once: refunded once.
"""
import threading
import time

import pytest
from conftest import TOKEN, csrf, fresh, login, make_product
from sqlalchemy import func, select

from siyu.core.errors import InvalidTransition
from siyu.core.members import sign_up
from siyu.core.models import Order, Payment, PaymentAlarm, Refund
from siyu.core.orders import cancel_order, place_order
from siyu.core.payments.stripe_provider import StripeProvider
from siyu.core.payments.stripe_provider import process_event
from siyu.storefront.testing import LiveServer, give_address
from siyu.storefront.testing_checks import run_together

pytestmark = pytest.mark.postgres
ROUNDS = 20


class UnserialisedCards(StripeProvider):
    """A card gateway that checks an intent's state, waits, then changes it: a confirm and
    a cancel of the same intent can both "win" unless the shop never runs them together.
    (Stripe's gateway for the rest of the contract: its pay page, notifications, states.)"""

    def __init__(self, wait: float = 0.05):
        self.wait = wait
        self.intents: dict[str, str] = {}
        self.refunds: list[str] = []
        self.lock = threading.Lock()

    def available(self, config) -> bool:
        return True

    def start(self, kernel, session, order, environment=None) -> Payment:
        reference = f"pi_double_{order.number}"
        self.intents[reference] = "requires_payment_method"
        payment = Payment(order_id=order.id, provider=self.name, reference=reference, amount=order.total,
                          currency=order.currency, client_secret=f"{reference}_secret", status="pending")
        session.add(payment)
        return payment

    def confirm(self, kernel, payment, data) -> dict:
        if self.intents[payment.reference] == "canceled":
            raise InvalidTransition("This order was cancelled; it can no longer be paid.")
        time.sleep(self.wait)
        self.intents[payment.reference] = "succeeded"
        return {"status": "succeeded", "client_secret": payment.client_secret, "error": None}

    def cancel(self, kernel, payment) -> str:
        state = self.intents[payment.reference]
        if state in ("succeeded", "processing"):
            return state
        time.sleep(self.wait)
        self.intents[payment.reference] = "canceled"
        return "canceled"

    def intent_status(self, kernel, reference: str) -> str:
        return self.intents[reference]

    def refund(self, kernel, payment, refund, retry=False) -> str:
        with self.lock:  # like Stripe: one refund per idempotency key
            if refund.idempotency_key not in self.refunds:
                self.refunds.append(refund.idempotency_key)
        return f"re_{refund.idempotency_key}"


def succeeded_event(payment: Payment, amount: int, event_id: str) -> dict:
    return {"id": event_id, "type": "payment_intent.succeeded",
            "data": {"object": {"id": payment.reference, "amount": amount, "amount_received": amount}}}


def test_pay_and_cancel_at_once_never_charge_a_cancelled_order(pg_app):
    kernel = pg_app.extensions["siyu"]
    cards = kernel.payment_providers["stripe"] = UnserialisedCards()
    session = kernel.db.Session()
    member = sign_up(kernel, session, email="buyer@example.com", password="correct-horse")
    give_address(session, member)
    product = make_product(session, "RACE", price=1990, stock=ROUNDS)
    payer, canceller = pg_app.test_client(), pg_app.test_client()
    login(payer)
    login(canceller)
    outcomes = []
    for n in range(ROUNDS):
        order = place_order(kernel, session, member=member, items={product.id: 1}, payment_method="stripe",
                            checkout_token=f"race-{n}")
        page = payer.get(f"/orders/{order.number}/pay").get_data(as_text=True)  # starts the intent
        pay_token = TOKEN.search(page)
        pay_token = pay_token.group(1) or pay_token.group(2)
        cancel_token = csrf(canceller, f"/orders/{order.number}/pay")

        def act(i, number=order.number, pay_token=pay_token, cancel_token=cancel_token):
            if i == 0:
                return "pay", payer.post(f"/orders/{number}/pay", json={"payment_method": "pm_card_visa"},
                                         headers={"X-CSRFToken": pay_token, "Accept": "application/json"}).status_code
            return "cancel", canceller.post(f"/orders/{number}/cancel",
                                            data={"csrf_token": cancel_token}).status_code

        results, errors = run_together(2, act)
        assert errors == []
        answers = dict(results)
        payment = fresh(session).scalar(select(Payment).where(Payment.order_id == order.id))
        if cards.intents[payment.reference] == "succeeded":  # Stripe sends the webhook
            assert process_event(kernel, session, succeeded_event(payment, order.total, f"evt_{n}")) == "processed"
        outcomes.append((fresh(session).get(Order, order.id).status, cards.intents[payment.reference], answers))
    charged = [n for n, (status, intent, _a) in enumerate(outcomes) if status == "cancelled" and intent != "canceled"]
    assert charged == [], f"rounds {charged} ended cancelled with the card charged: {outcomes}"
    for status, intent, answers in outcomes:  # one of them won, the other was refused
        assert (status, intent, answers) in (("cancelled", "canceled", {"pay": 409, "cancel": 302}),
                                             ("paid", "succeeded", {"pay": 200, "cancel": 409})), outcomes
    assert session.scalar(select(func.count(PaymentAlarm.id))) == 0, "no money taken for a cancelled order"
    assert session.scalar(select(func.count(Refund.id))) == 0 and cards.refunds == []
    session.close()


def test_a_success_for_a_cancelled_order_delivered_ten_times_at_once_is_refunded_once(pg_app):
    kernel = pg_app.extensions["siyu"]
    cards = kernel.payment_providers["stripe"] = UnserialisedCards(wait=0)
    session = kernel.db.Session()
    member = sign_up(kernel, session, email="late@example.com", password="correct-horse")
    give_address(session, member)
    order = place_order(kernel, session, member=member, items={make_product(session, "LATE", price=4200).id: 1},
                        payment_method="stripe", checkout_token="late-1")
    from siyu.core.db import write_transaction

    with write_transaction(session):
        payment = cards.start(kernel, session, order)
    cancel_order(kernel, session, order, "customer")
    cards.intents[payment.reference] = "succeeded"  # taken at the provider anyway
    events = [succeeded_event(payment, order.total, f"evt_late_{i % 2}") for i in range(10)]

    def deliver(i):
        s = kernel.db.Session()
        try:
            return process_event(kernel, s, events[i])
        finally:
            s.close()

    results, errors = run_together(10, deliver)
    assert errors == [] and results.count("processed") == 2 and results.count("duplicate") == 8
    fresh(session)
    refunds = session.scalars(select(Refund)).all()
    assert [(r.idempotency_key, r.amount, r.status) for r in refunds] == [
        (f"auto-refund-{payment.id}", 4200, "succeeded")]
    assert cards.refunds == [f"auto-refund-{payment.id}"]
    alarm = session.scalar(select(PaymentAlarm))
    assert (alarm.kind, alarm.occurrences, alarm.refund_id) == ("paid_after_cancel", 2, refunds[0].id)
    assert (session.get(Order, order.id).status, session.get(Order, order.id).refunded_amount) == ("cancelled", 0)
    session.close()


# -- against localstripe, end to end -------------------------------------------------------

@pytest.fixture
def siyu_config(request):
    if "stripe" not in request.keywords:
        return {}
    return dict(request.getfixturevalue("stripe_config"))


@pytest.mark.stripe
def test_pay_and_cancel_at_once_against_localstripe(pg_app, localstripe):
    """Six orders, each paid and cancelled at the same moment through the shop's HTTP
    routes; Stripe (localstripe) delivers its webhooks to the shop served on 127.0.0.1."""
    from siyu.core.payments.stripe_provider import client as stripe_client
    from siyu.storefront import devstripe

    server = LiveServer(pg_app)
    devstripe.register_webhook(localstripe, f"{server.url}/webhooks/stripe")
    kernel = pg_app.extensions["siyu"]
    session = kernel.db.Session()
    product = make_product(session, "LIVE", price=2990, stock=20)
    orders = []
    for n in range(6):  # one shopper each, signed in twice (two browsers)
        member = sign_up(kernel, session, email=f"buyer{n}@example.com", password="correct-horse")
        give_address(session, member)
        payer, canceller = pg_app.test_client(), pg_app.test_client()
        login(payer, member.email)
        login(canceller, member.email)
        order = place_order(kernel, session, member=member, items={product.id: 1}, payment_method="stripe",
                            checkout_token=f"live-{n}")
        page = payer.get(f"/orders/{order.number}/pay").get_data(as_text=True)
        token = TOKEN.search(page)
        orders.append((order, payer, token.group(1) or token.group(2), canceller,
                       csrf(canceller, f"/orders/{order.number}/pay")))
    try:
        def act(i):
            order, payer, pay_token, canceller, cancel_token = orders[i // 2]
            if i % 2 == 0:
                return order.id, "pay", payer.post(
                    f"/orders/{order.number}/pay", json={"payment_method": "pm_card_visa"},
                    headers={"X-CSRFToken": pay_token, "Accept": "application/json"}).status_code
            return order.id, "cancel", canceller.post(f"/orders/{order.number}/cancel",
                                                      data={"csrf_token": cancel_token}).status_code

        results, errors = run_together(2 * len(orders), act)
        assert errors == []
        answers = {(order_id, what): status for order_id, what, status in results}
        deadline = time.monotonic() + 30
        while True:  # until every paid intent's webhook has arrived
            fresh(session)
            states = {o[0].id: session.get(Order, o[0].id).status for o in orders}
            if "placed" not in states.values() or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        stripe, outcomes = stripe_client(kernel.config), []
        for order, *_clients in orders:
            payment = session.scalar(select(Payment).where(Payment.order_id == order.id))
            intent = stripe.v1.payment_intents.retrieve(payment.reference).status
            outcomes.append((states[order.id], intent, answers[(order.id, "pay")], answers[(order.id, "cancel")]))
        charged = [o for o in outcomes if o[0] == "cancelled" and o[1] != "canceled"]
        assert charged == [], f"cancelled with the card charged: {outcomes}"
        assert set(outcomes) <= {("cancelled", "canceled", 409, 302), ("paid", "succeeded", 200, 409)}, outcomes
        assert session.scalar(select(func.count(PaymentAlarm.id))) == 0
        assert session.scalar(select(func.count(Refund.id))) == 0
    finally:
        server.stop()
        session.close()


def test_the_double_charges_and_cancels_one_intent_when_both_run_together():
    """Without the shop's serialisation the double lets a confirm and a cancel both succeed."""
    cards = UnserialisedCards()
    payment = Payment(reference="pi_both", client_secret="pi_both_secret")
    cards.intents["pi_both"] = "requires_payment_method"
    results, errors = run_together(2, lambda i: cards.confirm(None, payment, {"payment_method": "pm"})["status"] if i == 0
                                   else cards.cancel(None, payment))
    assert errors == [] and sorted(results) == ["canceled", "succeeded"]
