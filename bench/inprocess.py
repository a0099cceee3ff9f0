"""Benchmarks with no HTTP server: each app called as WSGI in this process.

``page_costs``: CPU milliseconds per page request, the storefront against the bare page,
interleaved in blocks (the median block of each): on a shared machine the figure least moved
by whatever else runs. The checkout's benchmark is ``checkout.py``; the pieces both use are here.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

from shop_setup import HERE, shop_env

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
