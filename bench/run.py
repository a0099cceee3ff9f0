"""Page and checkout benchmarks: the storefront against a bare Flask page, against itself
without plugins, and against a peer (django-oscar), each as a ratio measured in the same run.

    .venv/bin/python bench/run.py --peer         # 3 rounds of 10 s per server and page, updates RESULTS.md
    .venv/bin/python bench/run.py                # the same without the peer
    .venv/bin/python bench/run.py --short        # 1 round of 5 s, printed only (for iterating)
    .venv/bin/python bench/run.py --checkout     # the checkout alone (no servers), updates its section

In a temporary folder it migrates and seeds a shop (the demo's 12 products topped up to 30,
a shopper with CRM tags, a distributor's referral link, a channel QR code), copies the 30
products into the baseline's own SQLite file (``bench/baseline_app.py``), and, with
``--peer``, builds the django-oscar shop with the same products (``bench/peer_oscar.py``).
Servers, each gunicorn with 2 sync workers on 127.0.0.1: the storefront with every
installed plugin, the same database with no plugin, the bare page, the peer. The shopper
arrives through the referral link and the channel code and signs in; wrk then loads each
server's home (catalogue) and product page with those cookies. Afterwards, with the
servers stopped: CPU per page request in process (``bench/inprocess.py``), and a whole
checkout against a bare insert, with the outbox run by a worker and inline (``bench/checkout.py``:
statements inside the payment's transaction, time per order). Every server started here is
stopped at the end.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import checkout as checkout_bench  # noqa: E402
import inprocess  # noqa: E402
import report  # noqa: E402
from servers import Server, rss_kib, run_wrk, run_wrk_together, wrk_args  # noqa: E402
from shop_setup import PRODUCTS, prepare_baseline, prepare_shop, shop_env, shopper_cookies  # noqa: E402

USER_AGENT = "siyu-bench/1.0"
PAGES = ("home", "product")


def start_servers(tmp: Path, instance: Path, baseline_db: Path, rows: list[dict], peer: bool) -> list[Server]:
    first = rows[0]["id"]
    ours = {"home": "/", "product": f"/p/{first}"}
    headers = {"Accept-Language": "zh-CN", "User-Agent": USER_AGENT}
    servers = [
        Server("siyu", [sys.executable, "siyu.storefront:create_app()"], shop_env(instance), tmp / "siyu.log",
               ours, headers),
        Server("core", [sys.executable, "siyu.storefront:create_app()"], shop_env(instance, plugins=""),
               tmp / "core.log", ours, headers),
        Server("baseline", [sys.executable, "--pythonpath", str(HERE), "baseline_app:create_app()"],
               dict(os.environ, BENCH_BASELINE_DB=str(baseline_db)), tmp / "baseline.log", ours, headers),
    ]
    if peer:
        import peer_oscar

        built = peer_oscar.build([{"title": r["title"], "price": r["price"]} for r in rows])
        servers.append(Server("oscar", [str(peer_oscar.python()), *peer_oscar.app_args()], peer_oscar.env_for(),
                              tmp / "oscar.log",
                              {"home": built["catalogue"], "product": built["product"]}, headers))
    return servers


def check_pages(servers: list[Server]) -> dict[str, dict[str, int]]:
    """Each page answers 200 with the 30 products listed; our pages show the signed-in shopper."""
    sizes: dict[str, dict[str, int]] = {}
    for server in servers:
        sizes[server.name] = {}
        for page in PAGES:
            body, headers = server.fetch(page)
            sizes[server.name][page] = len(body)
            if page == "home":
                tiles = body.count(b'class="tile"') or body.count(b'class="product_pod"')
                if tiles != PRODUCTS:
                    raise RuntimeError(f"{server.name} lists {tiles} products, not {PRODUCTS}")
            if server.name in ("siyu", "core") and b"/account/logout" not in body:
                raise RuntimeError(f"{server.name}: the shopper is not signed in on the {page} page")
            if "Set-Cookie" in headers:
                print(f"note: {server.name} {page} sets a cookie: {headers['Set-Cookie'][:80]}", file=sys.stderr)
    return sizes


def measure(servers: list[Server], rounds: int, duration: int) -> dict:
    runs: dict[str, dict[str, list]] = {page: {s.name: [] for s in servers} for page in PAGES}
    for n in range(rounds):
        order = servers[n % len(servers):] + servers[:n % len(servers)]
        for page in PAGES:
            for server in order:
                result = run_wrk(server.url(page), duration, server.headers)
                server.settle()
                runs[page][server.name].append(result)
                print(f"round {n + 1} {page:<8} {server.name:<9} {result['rps']:8.1f} req/s  "
                      f"p99 {result.get('p99_ms', 0):7.2f} ms" + (f"  non-2xx {result['non2xx']}"
                                                                  if result["non2xx"] else ""), flush=True)
    return runs


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per server, page and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--peer", action="store_true", help="also measure django-oscar (bench/peer_oscar.py)")
    parser.add_argument("--short", action="store_true", help="one round of 5 s, printed only")
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    parser.add_argument("--checkout", action="store_true", help="the checkout alone, no servers (its section only)")
    args = parser.parse_args(argv)
    orders = 150
    if args.short:
        args.duration, args.rounds, args.no_write, orders = 5, 1, True, 30
    if args.checkout:
        return checkout_only(orders, not args.no_write)
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install -y wrk)", file=sys.stderr)
        return 2
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda signum, _frame: (_ for _ in ()).throw(SystemExit(128 + signum)))
    loadavg = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    servers: list[Server] = []
    with tempfile.TemporaryDirectory(prefix="siyu-bench-") as tmp_name:
        tmp = Path(tmp_name)
        try:
            instance = tmp / "instance"
            instance.mkdir()
            print("preparing the shops...", flush=True)
            rows = prepare_shop(instance)
            baseline_db = tmp / "baseline.db"
            prepare_baseline(baseline_db, rows)
            servers = start_servers(tmp, instance, baseline_db, rows, args.peer)
            for server in servers:
                server.wait_ready(timeout=120)
            cookies = shopper_cookies(servers[0].root, USER_AGENT)
            for server in servers:
                server.headers = {**server.headers, "Cookie": cookies}
            sizes = check_pages(servers)
            print("warming up...", flush=True)
            for server in servers:
                for page in PAGES:
                    run_wrk(server.url(page), 2, server.headers)
            runs = measure(servers, args.rounds, args.duration)
            pair = [s for s in servers if s.name in ("siyu", "baseline")]
            together = {page: run_wrk_together({s.name: s.url(page) for s in pair}, args.duration,
                                               servers[0].headers) for page in PAGES}
            rss = {s.name: [rss_kib(pid) for pid in s.workers()] for s in servers}
            paths = {s.name: s.pages for s in servers}
            for server in servers:  # free the cores for the in-process measurements
                server.stop()
            print("in-process page costs and checkout...", flush=True)
            costs = inprocess.page_costs(instance, baseline_db, {p: {"siyu": paths["siyu"][p],
                                                                     "baseline": paths["baseline"][p]}
                                                                 for p in PAGES}, servers[0].headers)
            checkout = checkout_bench.checkout_costs(instance, baseline_db, [r["id"] for r in rows], orders)
            ctx = {
                "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "loadavg": loadavg,
                "versions": report.versions() | (__import__("peer_oscar").versions() if args.peer else {}),
                "plugins": plugin_names(), "rounds": args.rounds,
                "wrk": " ".join(wrk_args("URL", args.duration, {})), "runs": runs, "paths": paths,
                "bytes": sizes, "together": together, "rss": rss, "costs": costs, "checkout": checkout,
            }
            body, checkout_body = report.render(ctx), report.render_checkout(ctx)
            print("\n" + body + "\n\n" + checkout_body)
            if not args.no_write:
                report.write(body)
                report.write(checkout_body, report.CHECKOUT_START, report.CHECKOUT_END)
                print(f"\nwritten to {report.RESULTS.relative_to(HERE.parent)}")
            bad = sum(r["non2xx"] for page in runs.values() for rs in page.values() for r in rs)
            if bad:
                print(f"error: {bad} responses were not 2xx", file=sys.stderr)
                return 1
            return 0
        except KeyboardInterrupt:
            return 130
        finally:
            for server in servers:
                server.stop()


def checkout_only(orders: int, write: bool) -> int:
    """Prepare the shop, measure the checkout (with a worker, inline, the bare insert), report."""
    loadavg = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    with tempfile.TemporaryDirectory(prefix="siyu-bench-") as tmp_name:
        tmp = Path(tmp_name)
        instance = tmp / "instance"
        instance.mkdir()
        print("preparing the shop...", flush=True)
        rows = prepare_shop(instance)
        baseline_db = tmp / "baseline.db"
        prepare_baseline(baseline_db, rows)
        print("checkout...", flush=True)
        costs = checkout_bench.checkout_costs(instance, baseline_db, [r["id"] for r in rows], orders)
    ctx = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "loadavg": loadavg,
           "plugins": plugin_names(), "checkout": costs}
    body = report.render_checkout(ctx)
    print("\n" + body)
    print("\nthe payment's transaction:\n  " + "\n  ".join(costs["statements"]["payment_sql"]))
    if write:
        report.write(body, report.CHECKOUT_START, report.CHECKOUT_END)
        print(f"\nwritten to {report.RESULTS.relative_to(HERE.parent)}")
    return 0


def plugin_names() -> list[str]:
    from siyu.core.plugins import installed_entry_points

    return [ep.name for ep in installed_entry_points()]


if __name__ == "__main__":
    sys.exit(main())
