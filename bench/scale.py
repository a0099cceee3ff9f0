"""Queries at scale on PostgreSQL, on the shop ``bench/generate.py`` builds.

    .venv/bin/python bench/scale.py --scale 1         # generate 1M members ... 10M scans, then measure
    .venv/bin/python bench/scale.py --scale 0.01      # a small run (under a minute)
    .venv/bin/python bench/scale.py --url postgresql://...   # measure an already generated database

Measured, each against its target: a 3-condition segment count (p95 < 300 ms), the 90-day
channel funnel (< 1 s), the distributor center page for a signed-in distributor (p95 <
100 ms, through the Flask app, a root with the largest team and a leaf), the SQL statements
one commission accrual issues per tier depth (constant: O(tiers), never the team's size),
and the dashboard's repurchase rate (< 1 s; the core's and the CRM widget's).
"""
from __future__ import annotations

import argparse
import math
import re
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from sqlalchemy import event, text

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

SEGMENT = {"tags_any": [5, 17], "activity": ["active"], "m_bands": [2, 3, 4, 5]}
SCALE_START, SCALE_END = "<!-- bench:scale:start -->", "<!-- bench:scale:end -->"
TARGETS = {"segment": 300, "funnel": 1000, "center": 100, "repurchase": 1000}


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def timed(fn, runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - began) * 1000)
    return samples


@contextmanager
def statements(engine):
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def measure(url: str, runs: int) -> dict:
    from siyu.core.db import utcnow
    from siyu.core import metrics as core_metrics
    from siyu.storefront import create_app
    from siyu_crm_tags import config as crm_config, metrics as crm_metrics, segments
    from siyu_distribution import accrual, config as dist_config
    from siyu_qr_channels import report
    from siyu_qr_channels.scans import local_day, shop_zone

    from generate import PASSWORD

    results: dict = {}
    with tempfile.TemporaryDirectory(prefix="siyu-scale-") as instance:
        app = create_app({"DATABASE_URL": url, "PLUGINS": "*", "SECRET_KEY": "bench", "SECURE_COOKIES": False,
                          "RATELIMIT_ENABLED": False}, instance_path=instance)
        kernel = app.extensions["siyu"]
        engine = kernel.db.engine
        session = kernel.db.Session()
        results["sizes"] = {t: session.scalar(text(f"SELECT count(*) FROM {t}")) for t in (
            "members", "distribution_distributors", "orders", "order_lines", "distribution_ledger",
            "crm_member_tags", "qr_channels_scans", "checkin_checkins")}

        cfg = crm_config.load(session)
        results["segment_count"] = segments.count(session, SEGMENT, cfg)
        results["segment"] = timed(lambda: segments.count(session, SEGMENT, cfg), runs)

        today = local_day(utcnow(), shop_zone(session))
        start = today - timedelta(days=89)
        results["funnel"] = {model: timed(lambda m=model: report.funnel(session, start, today, m, direct=True),
                                          max(3, runs // 4)) for model in report.MODELS}

        results["repurchase"] = {
            "core": timed(lambda: core_metrics.repurchase_rate(session), max(3, runs // 4)),
            "crm": timed(lambda: crm_metrics.repurchase(session), max(3, runs // 4)),
        }
        results["repurchase_value"] = core_metrics.repurchase_rate(session)

        results["accrual"] = accrual_statements(session, engine, accrual, dist_config)
        session.close()
        results["center"] = center_times(app, session_factory=kernel.db.Session, runs=runs, password=PASSWORD)
        kernel.db.dispose()
    return results


def accrual_statements(session, engine, accrual, dist_config) -> dict:
    """Statements issued by ``accrue`` for an unpaid attributed order at each upline depth.

    Runs in a transaction that is rolled back: the ledger keeps nothing.
    """
    from siyu.core.models import Order

    found = {}
    rows = session.execute(text("""
        SELECT DISTINCT ON (depth) o.id, depth, team FROM (
          SELECT a.order_id AS id, 1 + (a.tier2_id IS NOT NULL)::int + (a.tier3_id IS NOT NULL)::int AS depth,
                 (SELECT count(*) FROM distribution_distributors t WHERE t.recruiter_id = a.distributor_id) AS team
          FROM distribution_orders a JOIN orders o2 ON o2.id = a.order_id WHERE o2.status = 'placed') o
        ORDER BY depth, team DESC""")).all()
    from dataclasses import replace

    stored = dist_config.load(session)
    for order_id, depth, team in rows:
        for tiers in (2, 3):
            settings = replace(stored, depth_setting=tiers, tier_bps=(1000, 300, 100))
            order = session.get(Order, order_id)
            with statements(engine) as seen:
                entries = accrual.accrue(session, order, settings)
            session.rollback()
            found[f"upline {depth}, depth setting {tiers}"] = {
                "statements": len(seen), "entries": len(entries), "team": team,
                "selects": sum(1 for s in seen if s.lstrip().upper().startswith("SELECT"))}
    return found


def center_times(app, session_factory, runs: int, password: str) -> dict:
    """The distributor center page for a root with the largest team and a third-tier leaf."""
    with session_factory() as session:
        root = session.execute(text("""
            SELECT d.member_id, count(t.id) FROM distribution_distributors d
            JOIN distribution_distributors t ON t.recruiter_id = d.id
            WHERE d.status = 'approved' GROUP BY d.member_id ORDER BY count(t.id) DESC LIMIT 1""")).one()
        leaf = session.execute(text("""
            SELECT d.member_id, 0 FROM distribution_distributors d JOIN distribution_distributors u
            ON u.id = d.recruiter_id WHERE d.status = 'approved' AND u.recruiter_id IS NOT NULL
            ORDER BY d.id DESC LIMIT 1""")).one()
    times = {}
    for label, (member_id, team) in (("root", root), ("leaf", leaf)):
        client = app.test_client()
        login(client, f"m{member_id}@bench.example", password)
        client.get("/distribution/")  # first request: templates compiled, caches warm
        samples = []
        for _ in range(runs):
            began = time.perf_counter()
            response = client.get("/distribution/")
            samples.append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200, response.status_code
        times[f"{label} (member {member_id}, {team} recruits)"] = samples
    return times


def login(client, email: str, password: str) -> None:
    html = client.get("/account/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    response = client.post("/account/login", data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]


def report_lines(results: dict) -> list[str]:
    def ms(samples):
        return f"p50 {sorted(samples)[len(samples) // 2]:.0f} ms, p95 {p95(samples):.0f} ms"

    def verdict(samples, target):
        return "meets" if p95(samples) < target else "MISSES"

    lines = ["- data: " + ", ".join(f"{n:,} {t}" for t, n in results["sizes"].items())]
    s = results["segment"]
    lines.append(f"- segment count, 3 conditions (`{SEGMENT}`, {results['segment_count']:,} members): "
                 f"{ms(s)} — {verdict(s, TARGETS['segment'])} < 300 ms")
    for model, f in results["funnel"].items():
        lines.append(f"- 90-day channel funnel, {model} touch: {ms(f)} — {verdict(f, TARGETS['funnel'])} < 1 s")
    for label, c in results["center"].items():
        lines.append(f"- distributor center, {label}: {ms(c)} — {verdict(c, TARGETS['center'])} < 100 ms")
    for label, r in results["repurchase"].items():
        lines.append(f"- repurchase rate ({label}): {ms(r)} — {verdict(r, TARGETS['repurchase'])} < 1 s")
    for label, a in results["accrual"].items():
        lines.append(f"- accrual, {label}: {a['statements']} statements ({a['selects']} SELECT), "
                     f"{a['entries']} ledger entries (first-tier distributor's team: {a['team']})")
    return lines


def publish(args, results: dict, url: str) -> None:
    import psycopg

    import report

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
    loadavg = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    lines = [f"Run on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} — {report.machine()}, "
             f"PostgreSQL {version}; load average after the run {loadavg}; {args.runs} runs each.", ""]
    lines += report_lines(results)
    print("\n".join(lines))
    if args.write:
        report.write("\n".join(lines), start=SCALE_START, end=SCALE_END)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--url", help="a database bench/generate.py already filled")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--write", action="store_true", help="put the figures into bench/RESULTS.md")
    args = parser.parse_args(argv)
    if args.url:
        publish(args, measure(args.url, args.runs), args.url)
        return 0
    from generate import generate
    from siyu.storefront.testing_pg import PostgresCluster

    cluster = PostgresCluster.start()
    try:
        url = cluster.url(cluster.create_database("siyu_bench"))
        generate(url, args.scale)
        publish(args, measure(url, args.runs), url)
    finally:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
