"""localstripe on 127.0.0.1 for the demo and the tests: no Stripe account needed.

localstripe binds every interface when started by its own script, so we start its aiohttp
app ourselves on loopback, from a clean state. It is a development dependency (``siyu[dev]``,
``siyu[test]``): a shop installed for real payments does not have it.
"""
from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.request

import click

DEV_SECRET_KEY = "sk_test_siyu_localstripe"
DEV_PUBLISHABLE_KEY = "pk_test_siyu_localstripe"
DEV_WEBHOOK_SECRET = "whsec_siyu_localstripe_dev"
WEBHOOK_EVENTS = ("payment_intent.succeeded", "payment_intent.payment_failed")


class LocalstripeMissing(click.ClickException):
    """A ClickException, so `flask siyu demo` prints the message instead of a traceback."""

    def __init__(self) -> None:
        super().__init__(
            "localstripe (the fake Stripe server of the demo and the tests) is not installed: "
            "pip install 'siyu[dev]', or set SIYU_STRIPE_SECRET_KEY and SIYU_STRIPE_PUBLISHABLE_KEY "
            "to use Stripe itself.")


def require_localstripe() -> None:
    if importlib.util.find_spec("localstripe") is None:
        raise LocalstripeMissing()


def serve(host: str = "127.0.0.1", port: int = 8420) -> None:  # pragma: no cover - subprocess
    require_localstripe()
    from aiohttp import web
    from localstripe.resources import Store
    from localstripe.server import app

    Store.dump_to_disk = lambda self: None  # keep state in memory only, start clean

    web.run_app(app, host=host, port=port, access_log=None, print=None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(port: int | None = None, timeout: float = 20.0) -> tuple[subprocess.Popen, str]:
    """Start localstripe in a child process; returns (process, base URL)."""
    require_localstripe()  # before the child, whose ImportError would be lost in DEVNULL
    port = port or free_port()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-c", f"from siyu.storefront.devstripe import serve; serve(port={port})"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("localstripe exited at start-up")
        try:
            urllib.request.urlopen(f"{base}/js.stripe.com/v3/", timeout=1).read(1)
            return proc, base
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("localstripe did not start in time")


def register_webhook(base: str, url: str, secret: str = DEV_WEBHOOK_SECRET, name: str = "siyu") -> None:
    data = [("url", url), ("secret", secret)] + [("events[]", e) for e in WEBHOOK_EVENTS]
    body = "&".join(f"{k}={urllib.request.quote(v, safe='')}" for k, v in data).encode()
    request = urllib.request.Request(f"{base}/_config/webhooks/{name}", data=body, method="POST")
    urllib.request.urlopen(request, timeout=5).read()


def reset(base: str) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{base}/_config/data", method="DELETE"), timeout=5).read()


def dev_config(base: str) -> dict[str, str]:
    return {
        "STRIPE_SECRET_KEY": DEV_SECRET_KEY,
        "STRIPE_PUBLISHABLE_KEY": DEV_PUBLISHABLE_KEY,
        "STRIPE_WEBHOOK_SECRET": DEV_WEBHOOK_SECRET,
        "STRIPE_API_BASE": base,
        "STRIPE_JS_URL": f"{base}/js.stripe.com/v3/",
    }
