"""The checkout benchmark, in process (no HTTP server): ``POST /checkout`` placing an order of 3
products and starting a card payment, then the signed ``payment_intent.succeeded`` webhook
marking it paid with every plugin's hooks, against the bare app inserting an order with 3 lines.

The Stripe API call that creates the PaymentIntent is answered in process (Stripe's time, the
same for any shop). Measured in the same run, interleaved in blocks (the median block of each):

- ``worker``: the shop with a worker (``OUTBOX_INLINE`` off): what the shopper's checkout and the
  webhook take; the follow-up work recorded in the outbox is run by the worker, timed apart
  (``worker_run``, per order);
- ``inline``: the shop without a worker (the default): the webhook's request also runs the
  follow-up work right after the payment commits;
- ``baseline``: the bare insert.

Statements are counted on one more order: those inside the payment's transaction (the one that
moves the order to paid; BEGIN not counted), the whole checkout's, and what the outbox runs after
the commit.
"""
from __future__ import annotations

import re
import shutil
import statistics
import time
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

from inprocess import STRIPE, FakeIntents, _blocks, _signed, baseline, storefront
from shop_setup import SHOPPER

PAID = re.compile(r"UPDATE orders SET status=\S+ paid_at=")


def _copy(source: Path, target: Path) -> None:
    for stale in (target, Path(f"{target}-wal"), Path(f"{target}-shm")):  # a previous run's
        stale.unlink(missing_ok=True)
    shutil.copy(source, target)


class Shop:
    """One storefront app on the checkout database, its signed-in client and fake Stripe."""

    def __init__(self, instance: Path, cart: dict, numbers, intents: FakeIntents, inline: bool):
        self.app = storefront(instance, database="checkout.db", extra={**STRIPE, "OUTBOX_INLINE": inline})
        self.kernel = self.app.extensions["siyu"]
        self.client = self.app.test_client()
        html = self.client.get("/account/login").get_data(as_text=True)
        self.token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
        response = self.client.post("/account/login", data={"email": SHOPPER[0], "password": SHOPPER[1],
                                                             "csrf_token": self.token})
        assert response.status_code == 302, response.status_code
        self.cart, self.numbers, self.intents = cart, numbers, intents
        self.worker_ms: list[float] = []
        self.webhook_ms: list[float] = []  # the payment's request alone

    def order(self) -> float:
        """One checkout and its payment webhook; returns the seconds the two requests took."""
        from sqlalchemy import select

        from siyu.core.models import Payment

        with self.client.session_transaction() as sess:
            sess["cart"] = dict(self.cart)
        n = next(self.numbers)
        began = time.perf_counter()
        placed = self.client.post("/checkout", data={"payment_method": "stripe", "checkout_token": f"bench-{n}",
                                                     "csrf_token": self.token})
        spent = time.perf_counter() - began
        assert placed.status_code == 302 and "/pay" in placed.headers["Location"], placed.status_code
        with self.kernel.db.Session() as session:  # what Stripe would put in the event: not timed
            payment = session.scalar(select(Payment).where(Payment.reference == f"pi_bench_{self.intents.count}"))
            intent = {"id": payment.reference, "object": "payment_intent", "amount": payment.amount,
                      "amount_received": payment.amount, "currency": "cny", "status": "succeeded"}
        payload, header = _signed({"id": f"evt_bench_{n}", "type": "payment_intent.succeeded",
                                   "data": {"object": intent}})
        began = time.perf_counter()
        paid = self.client.post("/webhooks/stripe", data=payload, headers={"Stripe-Signature": header},
                                content_type="application/json")
        self.webhook_ms.append((time.perf_counter() - began) * 1000)
        spent += time.perf_counter() - began
        assert paid.status_code == 200, paid.get_data(as_text=True)[:300]
        return spent

    def block(self, size: int) -> float:
        """Milliseconds per order over ``size`` orders; with a worker, then its run (timed apart)."""
        from siyu.core import outbox_runner

        spent = sum(self.order() for _ in range(size)) / size * 1000
        if not self.kernel.config["OUTBOX_INLINE"]:
            began = time.perf_counter()
            ran = outbox_runner.drain(self.kernel, limit=100 * size)
            self.worker_ms.append((time.perf_counter() - began) / size * 1000)
            assert set(ran) <= {"done"}, ran
        return spent

    def dispose(self) -> None:
        self.kernel.db.dispose()


def transactions(engine, one) -> list[list[str]]:
    """The statements of each transaction ``one()`` runs on ``engine``, in the order they end."""
    from sqlalchemy import event

    open_: dict[int, list[str]] = {}
    done: list[list[str]] = []

    def begin(conn):
        open_[id(conn)] = []

    def end(conn):
        done.append(open_.pop(id(conn), []))

    def statement(conn, _cursor, text, *_args):
        if not text.startswith("BEGIN"):
            open_.setdefault(id(conn), []).append(" ".join(text.split()))

    hooks = [("begin", begin), ("commit", end), ("rollback", end), ("before_cursor_execute", statement)]
    for name, fn in hooks:
        event.listen(engine, name, fn)
    try:
        one()
    finally:
        for name, fn in hooks:
            event.remove(engine, name, fn)
    return done + list(open_.values())


def statements(shop: Shop) -> dict:
    """Statements of one more order: in the payment's transaction, the whole, after the commit."""
    found = transactions(shop.kernel.db.engine, shop.order)
    paying = next(i for i, t in enumerate(found) if any(PAID.search(s) for s in t))
    outbox = [t for t in found[paying + 1:] if any(" outbox" in s for s in t)]
    lookup = 1  # the untimed SELECT of the payment, between the two requests
    return {"payment_tx": len(found[paying]), "total": sum(map(len, found)) - lookup,
            "after_commit": sum(map(len, outbox)), "outbox_tx": len(outbox),
            "payment_sql": found[paying]}


def checkout_costs(instance: Path, baseline_db: Path, product_ids: list[int], orders: int = 150) -> dict:
    """Milliseconds per order (median of blocks) with a worker, inline and for the bare insert;
    the worker's own run per order; statements. Each app on its own SQLite copy."""
    _copy(instance / "siyu.db", instance / "checkout.db")
    bare_db = baseline_db.with_name("checkout-baseline.db")
    _copy(baseline_db, bare_db)
    from sqlalchemy import select, update

    from siyu.core import outbox_runner
    from siyu.core.db import write_transaction
    from siyu.core.models import Order, OutboxEntry, Product

    cart = {str(pid): 1 for pid in product_ids[:3]}
    numbers = iter(range(1, 10**9))
    intents = FakeIntents()  # one numbering of PaymentIntents for both shops (one database)
    worker = Shop(instance, cart, numbers, intents, inline=False)
    inline = Shop(instance, cart, numbers, intents, inline=True)
    with worker.kernel.db.Session() as session, write_transaction(session):
        session.execute(update(Product).values(stock=1_000_000))
    bare = baseline(bare_db).test_client()

    def bare_order() -> float:
        n = next(numbers)
        began = time.perf_counter()
        response = bare.post("/orders", data={"number": f"B{n}", **cart})
        spent = time.perf_counter() - began
        assert response.status_code == 201, response.status_code
        return spent

    fake = SimpleNamespace(v1=SimpleNamespace(payment_intents=intents))
    try:
        with mock.patch("siyu.core.payments.stripe_provider.client", return_value=fake):
            costs = _blocks({"worker": worker.block, "inline": inline.block,
                             "baseline": lambda size: sum(bare_order() for _ in range(size)) / size * 1000},
                            blocks=5, size=max(orders // 5, 1))
            costs["block"] = max(orders // 5, 1)
            costs["statements"] = statements(worker)
            costs["worker_run"] = statistics.median(worker.worker_ms)
            costs["webhook"] = {"worker": statistics.median(worker.webhook_ms),
                                "inline": statistics.median(inline.webhook_ms)}
            outbox_runner.drain(worker.kernel)
            costs["statements_inline"] = statements(inline)
            with worker.kernel.db.Session() as session:
                unpaid = session.scalar(select(Order.id).where(Order.checkout_token.like("bench-%"),
                                                          Order.status != "paid").limit(1))
                left = session.scalar(select(OutboxEntry.id).where(OutboxEntry.state != "done").limit(1))
    finally:
        worker.dispose()
        inline.dispose()
    if unpaid is not None or left is not None:
        raise RuntimeError(f"a benchmark order was not marked paid ({unpaid}), or its follow-up work did not "
                           f"run ({left})")
    return costs
