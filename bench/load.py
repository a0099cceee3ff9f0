"""Mixed traffic against the real server, then the books' invariants.

    .venv/bin/python bench/load.py              # 120 s (the full run, by hand)
    .venv/bin/python bench/load.py --short      # 20 s (CI, through tests/test_load.py)

It starts a throwaway PostgreSQL on 127.0.0.1 (or uses ``--database-url``), migrates it
with every installed plugin enabled, seeds products (one with little stock, so checkouts
race for it) and shoppers, and serves the shop with gunicorn, 2 sync workers, on
127.0.0.1 only. A fixed number of shopper threads then browse, add to cart, check out with
the manual provider (and sometimes cancel), chat (post and poll) and check in, while the
owner confirms payments and refunds some orders in part through the API; each request
has a timeout, until the time is up. Rate limits are off for the run (every shopper comes
from 127.0.0.1). Afterwards: status codes by action, and ``invariants.check`` on the
database. Exit status 1 on any 5xx, any transport error or any broken invariant.
"""
from __future__ import annotations

import argparse
import collections
import http.cookiejar
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import invariants  # noqa: E402

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
CHECKOUT = re.compile(r'name="checkout_token" type="hidden" value="([^"]+)"')
DATA_CSRF = re.compile(r'data-csrf="([^"]+)"')
PASSWORD = "load-test-password"
ADDRESS = {"recipient": "王小明", "phone": "13812345678", "province_code": "330000", "city_code": "330100",
           "district_code": "330106", "street": "文三路 90 号"}
#: (action, weight): browsing dominates, as in a shop.
MIX = [("home", 25), ("product", 25), ("cart_add", 15), ("checkout", 10), ("chat_post", 8),
       ("chat_poll", 10), ("checkin", 5), ("orders", 2)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(instance: Path, database_url: str, shoppers: int) -> tuple[dict[int, int], list[int], str]:
    """Migrate and seed; returns (product id → stock, product ids, an owner's API token)."""
    from siyu.core import migrate
    from siyu.core.api_tokens import create_token
    from siyu.core.staff import create_staff
    from siyu.core.db import write_transaction
    from siyu.core.addresses import add_address
    from siyu.core.members import sign_up
    from siyu.core.models import Product
    from siyu.storefront import create_app

    (instance / "siyu.cfg").write_text(
        f'DATABASE_URL = "{database_url}"\nPLUGINS = "*"\nSECRET_KEY = "load-test-only"\n'
        'SECURE_COOKIES = False\nRATELIMIT_ENABLED = False\n')
    app = create_app(instance_path=str(instance))
    kernel = app.extensions["siyu"]
    migrate.upgrade(kernel)
    session = kernel.db.Session()
    with write_transaction(session):
        for i in range(8):
            session.add(Product(sku=f"LOAD-{i}", title_zh=f"商品 {i}", title_en=f"Product {i}", price=990 + 100 * i,
                                currency="CNY", stock=40 if i == 0 else 100_000, position=i))
    for i in range(shoppers):
        # Each with a delivery address: the checkout needs one for goods that ship.
        add_address(session, sign_up(kernel, session, email=f"shopper{i}@example.com", password=PASSWORD,
                                     name=f"Shopper {i}"), ADDRESS)
    stock = {p.id: p.stock for p in session.query(Product).all()}
    owner = create_staff(session, email="owner@example.com", password=PASSWORD, role="owner", name="Owner")
    _row, secret = create_token(session, owner, "load test", "owner")
    session.close()
    kernel.db.dispose()
    return stock, sorted(stock), secret


class Shopper:
    """One browser: its own cookies; every request bounded by a timeout."""

    def __init__(self, base: str, email: str, products: list[int], stats, rng: random.Random):
        self.base, self.email, self.products, self.stats, self.rng = base, email, products, stats, rng
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.orders: list[str] = []

    def request(self, action: str, path: str, data=None, headers=None) -> tuple[int, str, str]:
        body = None
        headers = dict(headers or {}, **{"Accept-Language": "zh-CN"})
        if isinstance(data, dict) and "json" in data:
            body = json.dumps(data["json"]).encode()
            headers["Content-Type"] = "application/json"
        elif data is not None:
            body = urllib.parse.urlencode(data).encode()
        req = urllib.request.Request(self.base + path, data=body, headers=headers)
        started = time.monotonic()
        try:
            with self.opener.open(req, timeout=15) as response:
                status, text, url = response.status, response.read().decode(), response.geturl()
        except urllib.error.HTTPError as exc:
            status, text, url = exc.code, exc.read().decode(errors="replace"), path
        except OSError as exc:  # refused, reset, timed out: a failure of the server too
            status, text, url = 0, str(exc), path
        self.stats.record(action, status, time.monotonic() - started)
        return status, text, url

    def token(self, html: str) -> str:
        match = TOKEN.search(html)
        return (match.group(1) or match.group(2)) if match else ""

    def login(self) -> None:
        _, html, _ = self.request("login", "/account/login")
        self.request("login", "/account/login", {"email": self.email, "password": PASSWORD,
                                                  "csrf_token": self.token(html)})

    def act(self, action: str) -> None:
        product = self.rng.choice(self.products)
        if action == "home":
            self.request(action, "/")
        elif action == "product":
            self.request(action, f"/p/{product}")
        elif action == "cart_add":
            _, html, _ = self.request("product", f"/p/{product}")
            self.request(action, "/cart/add", {"product_id": product, "quantity": self.rng.randint(1, 2),
                                               "csrf_token": self.token(html)})
        elif action == "checkout":
            self.checkout()
        elif action == "chat_post":
            _, html, _ = self.request("chat_poll", "/chat")
            match = DATA_CSRF.search(html)
            self.request(action, "/chat/messages", {"json": {"text": f"hello {self.rng.random():.4f}"}},
                         {"X-CSRFToken": match.group(1) if match else "", "Accept": "application/json"})
        elif action == "chat_poll":
            self.request(action, "/chat/messages.json?since=0")
        elif action == "checkin":
            _, html, _ = self.request("checkin", "/checkin")
            self.request(action, "/checkin", {"csrf_token": self.token(html)})
        elif action == "orders":
            self.request(action, "/account/orders")

    def checkout(self) -> None:
        status, html, _ = self.request("checkout", "/checkout")
        match = CHECKOUT.search(html)
        if status != 200 or not match:
            return  # an empty cart redirects to the cart page
        status, _, url = self.request("checkout", "/checkout", {
            "payment_method": "manual", "checkout_token": match.group(1), "csrf_token": self.token(html)})
        number = url.rstrip("/").rsplit("/", 1)[-1] if "/orders/" in url else None
        if status == 200 and number and self.rng.random() < 0.25:
            _, page, _ = self.request("cancel", f"/orders/{number}")
            self.request("cancel", f"/orders/{number}/cancel", {"csrf_token": self.token(page)})


class Owner(Shopper):
    """The shop owner through the API: confirms manual payments, refunds some orders in part."""

    def __init__(self, base: str, token: str, stats, rng: random.Random):
        super().__init__(base, "", [], stats, rng)
        self.auth = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def round(self) -> None:
        status, body, _ = self.request("api_orders", "/api/v1/orders?status=placed&page_size=5", headers=self.auth)
        for order in json.loads(body).get("items", []) if status == 200 else []:
            self.request("api_mark_paid", f"/api/v1/orders/{order['id']}/mark-paid", {"json": {}}, self.auth)
            if self.rng.random() < 0.3:
                key = f"load-refund-{order['id']}"
                amount = max(1, order["total"] // 3)
                self.request("api_refund", f"/api/v1/orders/{order['id']}/refunds",
                             {"json": {"amount": amount, "idempotency_key": key, "reason": "load"}}, self.auth)
        time.sleep(0.5)


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.codes: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        self.latencies: list[float] = []

    def record(self, action: str, status: int, seconds: float) -> None:
        with self.lock:
            self.codes[action][status] += 1
            self.latencies.append(seconds)

    def summary(self) -> dict:
        total = sum(sum(c.values()) for c in self.codes.values())
        lat = sorted(self.latencies) or [0.0]
        return {
            "requests": total,
            "server_errors": sum(n for c in self.codes.values() for s, n in c.items() if s >= 500),
            "transport_errors": sum(c[0] for c in self.codes.values()),
            "by_action": {a: {str(s): n for s, n in sorted(c.items())} for a, c in sorted(self.codes.items())},
            "p50_ms": round(lat[len(lat) // 2] * 1000, 1), "p95_ms": round(lat[int(len(lat) * 0.95)] * 1000, 1),
        }


def drive(base: str, products: list[int], token: str, threads: int, seconds: float, seed: int) -> dict:
    stats = Stats()
    deadline = time.monotonic() + seconds
    actions, weights = zip(*MIX)

    def run(i: int) -> None:
        rng = random.Random(seed + i)
        shopper = Shopper(base, f"shopper{i}@example.com", products, stats, rng)
        shopper.login()
        while time.monotonic() < deadline:
            shopper.act(rng.choices(actions, weights)[0])

    def own() -> None:
        owner = Owner(base, token, stats, random.Random(seed - 1))
        while time.monotonic() < deadline:
            owner.round()

    workers = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(threads)]
    workers.append(threading.Thread(target=own, daemon=True))
    started = time.monotonic()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=seconds + 60)
    result = stats.summary()
    result["seconds"] = round(time.monotonic() - started, 1)
    result["rps"] = round(result["requests"] / max(result["seconds"], 0.1), 1)
    return result


def serve(instance: Path, port: int, log: Path) -> subprocess.Popen:
    env = dict(os.environ, SIYU_INSTANCE_PATH=str(instance))
    cmd = [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "--timeout", "30",
           "--graceful-timeout", "5", "siyu.storefront:create_app()"]
    proc = subprocess.Popen(cmd, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                if response.status == 200:
                    return proc
        except OSError:
            time.sleep(0.3)
    stop(proc)
    raise RuntimeError(f"gunicorn did not start: {log.read_text()[-2000:]}")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)  # its own session: the arbiter and its two workers
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _positions(log: str, marker: str) -> list[int]:
    found, at = [], log.find(marker)
    while at != -1:
        found.append(at)
        at = log.find(marker, at + 1)
    return found


def _tracebacks(log: str) -> list[int]:
    """Where each logged traceback's request starts (the log line before it)."""
    return [max(0, log.rfind("\n", 0, max(0, at - 1)) + 1) for at in _positions(log, "Traceback")]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=120, help="seconds of traffic (default 120)")
    parser.add_argument("--short", action="store_true", help="20 s of traffic, for CI")
    parser.add_argument("--threads", type=int, default=8, help="concurrent shoppers (default 8)")
    parser.add_argument("--database-url", help="an empty PostgreSQL database to use instead of a throwaway one")
    parser.add_argument("--json", help="also write the report to this file")
    args = parser.parse_args(argv)
    seconds = 20 if args.short else args.duration
    cluster = None
    with tempfile.TemporaryDirectory(prefix="siyu-load-") as tmp_name:
        tmp = Path(tmp_name)
        url = args.database_url
        if url is None:
            from siyu.storefront.testing_pg import PostgresCluster

            cluster = PostgresCluster.start()
            url = cluster.url(cluster.create_database("siyu_load"))
        proc = None
        try:
            instance = tmp / "instance"
            instance.mkdir()
            stock, products, token = prepare(instance, url, args.threads)
            port = free_port()
            proc = serve(instance, port, tmp / "gunicorn.log")
            report = drive(f"http://127.0.0.1:{port}", products, token, args.threads, seconds, seed=12)
            stop(proc)
            from sqlalchemy import create_engine

            engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
            report["violations"] = invariants.check(engine, stock)
            report["rows"] = invariants.counts(engine)
            engine.dispose()
            log = (tmp / "gunicorn.log").read_text()
            report["server_tracebacks"] = log.count("Traceback")
            report["server_log_excerpts"] = [log[i:i + 3000] for i in _tracebacks(log)[:3]] + [
                log[i:i + 1500] for i in _positions(log, "database error")][:5]
        finally:
            if proc is not None:
                stop(proc)
            if cluster is not None:
                cluster.stop()
    print(json.dumps(report, indent=2, ensure_ascii=False))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, ensure_ascii=False))
    failed = report["server_errors"] or report["transport_errors"] or report["violations"] \
        or report["server_tracebacks"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
