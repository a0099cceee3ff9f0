"""Benchmarks with no HTTP server: each app called as WSGI in this process.

``page_costs``: CPU milliseconds per page request, the storefront against the bare page,
interleaved in blocks (the median block of each): on a shared machine the figure least moved
by whatever else runs. ``checkout_costs``: a whole checkout — ``POST /checkout`` placing the
order and starting a card payment, then the signed ``payment_intent.succeeded`` webhook
marking it paid with every plugin's hooks — against the bare app inserting an order with 3
lines. The Stripe API call that creates the PaymentIntent is answered in process (it is
Stripe's time, not the shop's, and the same for any shop); everything else is the real path.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import shutil
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

from shop_setup import HERE, SHOPPER, shop_env

WEBHOOK_SECRET = "whsec_bench"
STRIPE = {"STRIPE_SECRET_KEY": "sk_test_bench", "STRIPE_PUBLISHABLE_KEY": "pk_test_bench",
          "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET}


def storefront(instance: Path, plugins: str = "*", database: str = "siyu.db", extra: dict | None = None):
    saved = dict(os.environ)
    os.environ.update(shop_env(instance, plugins, database))
    try:
        from siyu.storefront import create_app

        return create_app({"RATELIMIT_ENABLED": False, **(extra or {})})
    finally:
        os.environ.clear()
        os.environ.update(saved)


def baseline(baseline_db: Path):
    sys.path.insert(0, str(HERE))
    try:
        import baseline_app
    finally:
        sys.path.remove(str(HERE))
    return baseline_app.create_app(str(baseline_db))


def _blocks(timers: dict, blocks: int, size: int) -> dict[str, float]:
    for block in timers.values():
        block(size)  # warm caches and imports
    samples: dict[str, list[float]] = {name: [] for name in timers}
    for _ in range(blocks):
        for name, block in timers.items():
            samples[name].append(block(size))
    return {name: statistics.median(values) for name, values in samples.items()}


def page_costs(instance: Path, baseline_db: Path, paths: dict[str, dict[str, str]], headers: dict[str, str],
               blocks: int = 15, size: int = 200) -> dict[str, float]:
    """``paths``: {page: {"siyu": path, "baseline": path}} → ms per request for
    ``"<page> siyu"`` (signed in, every plugin), ``"<page> core"`` (signed in, no plugin),
    ``"<page> anon"`` (signed out, every plugin) and ``"<page> baseline"`` (the bare page)."""
    from werkzeug.test import EnvironBuilder

    shop, core, bare = storefront(instance), storefront(instance, plugins=""), baseline(baseline_db)
    signed_out = {k: v for k, v in headers.items() if k.lower() != "cookie"}

    def timer(app, path, signed_in: bool):
        # gunicorn passes the client's address; Flask-Login's strong session protection
        # hashes it with the user agent and drops a session whose hash differs, so without
        # it the shopper would be measured signed out.
        environ = EnvironBuilder(path=path, headers=headers if signed_in else signed_out,
                                 environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_environ()
        body = b"".join(app(dict(environ), lambda status, headers, exc_info=None: None))
        if app is not bare and (b"/account/logout" in body) != signed_in:
            raise RuntimeError(f"in process, the shopper is not signed {'in' if signed_in else 'out'} on {path}")

        def block(n: int) -> float:
            start = time.process_time()
            for _ in range(n):
                body = app(dict(environ), lambda status, headers, exc_info=None: None)
                try:
                    b"".join(body)
                finally:
                    getattr(body, "close", lambda: None)()
            return (time.process_time() - start) / n * 1000
        return block

    timers = {}
    for page, by_app in paths.items():
        timers[f"{page} siyu"] = timer(shop, by_app["siyu"], True)
        timers[f"{page} core"] = timer(core, by_app["siyu"], True)
        timers[f"{page} anon"] = timer(shop, by_app["siyu"], False)
        timers[f"{page} baseline"] = timer(bare, by_app["baseline"], False)
    try:
        return _blocks(timers, blocks, size)
    finally:
        shop.extensions["siyu"].db.dispose()
        core.extensions["siyu"].db.dispose()


def _signed(event: dict) -> tuple[bytes, str]:
    payload = json.dumps(event).encode()
    stamp = int(time.time())
    signature = hmac.new(WEBHOOK_SECRET.encode(), f"{stamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return payload, f"t={stamp},v1={signature}"


class FakeIntents:
    """Stripe's answer to ``payment_intents.create``, without the network."""

    def __init__(self):
        self.count = 0

    def create(self, params, options=None):
        self.count += 1
        return SimpleNamespace(id=f"pi_bench_{self.count}", client_secret=f"pi_bench_{self.count}_secret")


def _statements(engine, one) -> int:
    """SQL statements one more order issues (the untimed lookup of its payment included)."""
    from sqlalchemy import event

    seen = []

    def record(*_args):
        seen.append(1)

    event.listen(engine, "before_cursor_execute", record)
    try:
        one()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return len(seen) - 2  # less the untimed lookup of the payment: BEGIN and one SELECT


def checkout_costs(instance: Path, baseline_db: Path, product_ids: list[int], orders: int = 150) -> dict:
    """Wall-clock milliseconds per order (median of blocks), both apps on their own SQLite copy."""
    for source, target in ((instance / "siyu.db", instance / "checkout.db"),
                           (baseline_db, baseline_db.with_name("checkout-baseline.db"))):
        for stale in (target, Path(f"{target}-wal"), Path(f"{target}-shm")):  # a previous run's
            stale.unlink(missing_ok=True)
        shutil.copy(source, target)
    shop = storefront(instance, database="checkout.db", extra=STRIPE)
    kernel = shop.extensions["siyu"]
    from sqlalchemy import select, update

    from siyu.core.db import write_transaction
    from siyu.core.models import Order, Payment, Product

    with kernel.db.Session() as session, write_transaction(session):
        session.execute(update(Product).values(stock=1_000_000))
    client = shop.test_client()
    html = client.get("/account/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    response = client.post("/account/login", data={"email": SHOPPER[0], "password": SHOPPER[1], "csrf_token": token})
    assert response.status_code == 302, response.status_code
    cart = {str(pid): 1 for pid in product_ids[:3]}
    intents = FakeIntents()
    fake_client = SimpleNamespace(v1=SimpleNamespace(payment_intents=intents))
    numbers = iter(range(1, 10**9))

    def siyu_order() -> float:
        with client.session_transaction() as sess:
            sess["cart"] = dict(cart)
        n = next(numbers)
        began = time.perf_counter()
        placed = client.post("/checkout", data={"payment_method": "stripe", "checkout_token": f"bench-{n}",
                                                "csrf_token": token})
        spent = time.perf_counter() - began
        assert placed.status_code == 302 and "/pay" in placed.headers["Location"], placed.status_code
        with kernel.db.Session() as session:  # what Stripe would put in the event: not timed
            payment = session.scalar(select(Payment).where(Payment.reference == f"pi_bench_{intents.count}"))
            intent = {"id": payment.reference, "object": "payment_intent", "amount": payment.amount,
                      "amount_received": payment.amount, "currency": "cny", "status": "succeeded"}
        payload, header = _signed({"id": f"evt_bench_{n}", "type": "payment_intent.succeeded",
                                   "data": {"object": intent}})
        began = time.perf_counter()
        paid = client.post("/webhooks/stripe", data=payload, headers={"Stripe-Signature": header},
                           content_type="application/json")
        spent += time.perf_counter() - began
        assert paid.status_code == 200, paid.get_data(as_text=True)[:300]
        return spent

    bare = baseline(baseline_db.with_name("checkout-baseline.db")).test_client()

    def bare_order() -> float:
        n = next(numbers)
        began = time.perf_counter()
        response = bare.post("/orders", data={"number": f"B{n}", **cart})
        spent = time.perf_counter() - began
        assert response.status_code == 201, response.status_code
        return spent

    def timer(one):
        return lambda size: sum(one() for _ in range(size)) / size * 1000

    with mock.patch("siyu.core.payments.stripe_provider.client", return_value=fake_client):
        costs = _blocks({"siyu": timer(siyu_order), "baseline": timer(bare_order)}, blocks=5, size=orders // 5)
        costs["statements"] = _statements(kernel.db.engine, siyu_order)
        with kernel.db.Session() as session:
            paid = session.scalar(select(Order.id).where(Order.status != "paid").limit(1))
    kernel.db.dispose()
    if paid is not None:
        raise RuntimeError("a benchmark order was not marked paid")
    return costs
