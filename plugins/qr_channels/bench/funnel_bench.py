"""Channel funnel at scale on PostgreSQL: 10M scans, 1M members, a 90-day funnel for all channels.

    .venv/bin/python plugins/qr_channels/bench/funnel_bench.py            # full size, updates RESULTS.md
    .venv/bin/python plugins/qr_channels/bench/funnel_bench.py --scale 0.1 --no-write

Starts a throwaway PostgreSQL cluster on 127.0.0.1 (or uses ``SIYU_BENCH_POSTGRES_URL``),
migrates a shop with the plugin, fills it with ``generate_series`` (scans spread over a year,
the daily rollup derived from them, members with first/last channels, orders of which most
are paid and numbered per member), runs ANALYZE, then times ``report.funnel`` for the last
90 days under both attribution models (best and worst of five runs each).
"""
from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
CHANNELS = 200

FILL = """
INSERT INTO qr_channels_channels (name, kind, target, target_value, notes, active, scene, scene_id, created_at)
SELECT 'Channel ' || i, (ARRAY['store','event','poster','partner','staff'])[1 + i % 5], 'home', '', '', true,
       i::text, i, now() FROM generate_series(1, {channels}) i;

INSERT INTO qr_channels_scans (channel_id, visitor_id, member_id, device, created_at)
SELECT 1 + (hashint4(i) & 2147483647) % {channels}, 'v' || (hashint4(i * 7) & 2147483647) % {visitors}, NULL,
       CASE WHEN i % 20 = 0 THEN 'bot' WHEN i % 5 = 0 THEN 'desktop' ELSE 'mobile' END,
       now() - ((hashint4(i * 13) & 2147483647) % (365 * 86400)) * interval '1 second'
FROM generate_series(1, {scans}) i;

INSERT INTO qr_channels_daily_stats (channel_id, day, scans, bot_scans, uniques)
SELECT channel_id, (created_at AT TIME ZONE 'UTC' AT TIME ZONE 'Asia/Shanghai')::date AS day,
       count(*) FILTER (WHERE device <> 'bot'), count(*) FILTER (WHERE device = 'bot'),
       count(DISTINCT visitor_id) FILTER (WHERE device <> 'bot')
FROM qr_channels_scans GROUP BY 1, 2;

INSERT INTO members (email, name, password_hash, locale, visitor_id, created_at, active)
SELECT 'm' || i || '@bench.example', '', 'x', 'zh_CN', NULL,
       now() - ((hashint4(i * 17) & 2147483647) % (365 * 86400)) * interval '1 second', true
FROM generate_series(1, {members}) i;

INSERT INTO qr_channels_member_attribution (member_id, first_channel_id, last_channel_id, signed_up_at)
SELECT id, CASE WHEN id % 3 = 0 THEN NULL ELSE 1 + id % {channels} END,
       CASE WHEN id % 3 = 0 THEN NULL ELSE 1 + (id * 7) % {channels} END, created_at FROM members;

INSERT INTO orders (number, member_id, status, currency, subtotal, adjustment_total, total, refunded_amount,
                    payment_method, checkout_token, locale, placed_at, paid_at)
SELECT 'B' || i, 1 + (hashint4(i * 19) & 2147483647) % {members},
       CASE WHEN i % 10 = 0 THEN 'cancelled' ELSE 'paid' END, 'CNY', 5000, 0, 5000, 0, 'manual', 'tok' || i,
       'zh_CN', t, CASE WHEN i % 10 = 0 THEN NULL ELSE t + interval '5 minutes' END
FROM (SELECT i, now() - ((hashint4(i * 23) & 2147483647) % (365 * 86400)) * interval '1 second' AS t
      FROM generate_series(1, {orders}) i) g;

INSERT INTO qr_channels_order_attribution (order_id, member_id, first_channel_id, last_channel_id, placed_at,
                                           paid_at, paid_seq, revenue)
SELECT o.id, o.member_id, a.first_channel_id, a.last_channel_id, o.placed_at, o.paid_at,
       CASE WHEN o.paid_at IS NULL THEN NULL
            ELSE row_number() OVER (PARTITION BY o.member_id, o.paid_at IS NULL ORDER BY o.paid_at) END,
       CASE WHEN o.paid_at IS NULL THEN 0 ELSE o.total END
FROM orders o JOIN qr_channels_member_attribution a ON a.member_id = o.member_id;

ANALYZE;
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 10M scans, 1M members")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    sizes = {"channels": CHANNELS, "scans": int(10_000_000 * args.scale), "visitors": int(2_000_000 * args.scale),
             "members": int(1_000_000 * args.scale), "orders": int(1_500_000 * args.scale)}

    import os

    from siyu.plugin import migrate
    from siyu.plugin import utcnow
    from siyu.plugin.testing import create_app
    from siyu.plugin.testing import PostgresCluster
    from siyu_qr_channels import report
    from siyu_qr_channels.scans import local_day, shop_zone

    url = os.environ.get("SIYU_BENCH_POSTGRES_URL")
    cluster = PostgresCluster.external(url) if url else PostgresCluster.start()
    try:
        database = cluster.url(cluster.create_database("qr_bench"))
        with tempfile.TemporaryDirectory() as instance:
            app = create_app({"DATABASE_URL": database, "PLUGINS": ["qr_channels"], "SECRET_KEY": "bench"},
                             instance_path=instance)
            kernel = app.extensions["siyu"]
            migrate.upgrade(kernel)
            started = time.perf_counter()
            with kernel.db.engine.begin() as conn:
                for statement in FILL.format(**sizes).split(";\n"):
                    if statement.strip():
                        conn.execute(text(statement))
            fill_seconds = time.perf_counter() - started
            session = kernel.db.Session()
            counts = {t: session.scalar(text(f"SELECT count(*) FROM {t}")) for t in
                      ("qr_channels_scans", "members", "orders", "qr_channels_daily_stats")}
            today = local_day(utcnow(), shop_zone(session))
            start = today - timedelta(days=89)
            timings = {}
            for model in report.MODELS:
                runs = []
                for _ in range(5):
                    session.rollback()
                    began = time.perf_counter()
                    rows = report.funnel(session, start, today, model, direct=True)
                    runs.append(time.perf_counter() - began)
                timings[model] = runs
                assert len(rows) == CHANNELS + 1 and sum(r.scans for r in rows) > 0
            session.close()
            kernel.db.dispose()
    finally:
        cluster.stop()
    lines = [f"- data: {counts['qr_channels_scans']:,} scans, {counts['members']:,} members, "
             f"{counts['orders']:,} orders, {CHANNELS} channels, {counts['qr_channels_daily_stats']:,} rollup rows "
             f"(filled in {fill_seconds:.0f} s)"]
    for model, runs in timings.items():
        lines.append(f"- 90-day funnel, all channels, {model} touch: best {min(runs) * 1000:.0f} ms, "
                     f"median {statistics.median(runs) * 1000:.0f} ms, worst {max(runs) * 1000:.0f} ms")
    print("\n".join(lines))
    if not args.no_write and args.scale == 1.0:
        body = RESULTS.read_text(encoding="utf-8")
        block = "<!-- bench:results:start -->\n" + "\n".join(lines) + "\n<!-- bench:results:end -->"
        RESULTS.write_text(re.sub(r"<!-- bench:results:start -->.*<!-- bench:results:end -->", block, body,
                                  flags=re.S), encoding="utf-8")


if __name__ == "__main__":
    main()
