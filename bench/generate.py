"""A realistic shop at scale on PostgreSQL, loaded with COPY.

    .venv/bin/python bench/generate.py --scale 0.01            # throwaway cluster, about a minute
    .venv/bin/python bench/generate.py --url postgresql://...  # an existing, empty database
    .venv/bin/python bench/generate.py --scale 0.01 --keep     # leave the cluster up, print its URL

At ``--scale 1``: 1M members, 100k distributors in trees three tiers deep at most, 2M
orders with lines, payments, refunds, attribution and the commission ledger, 5M tag
assignments, 10M channel QR scans, 500k referral clicks, check-ins of 200k members over 60
days. The schema comes from the real migrations with every installed plugin enabled; the
rows go straight into those tables with ``COPY`` (foreign-key triggers off for the load,
``session_replication_role = replica``), and the figures kept on events (member stats, the
daily scan rollup, channel attribution, check-in totals) are derived from them in SQL.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gen_rows  # noqa: E402
from gen_rows import CHANNELS, TAGS, Clock, Shop, Sizes  # noqa: E402

PASSWORD = "bench-password"
BUFFER = 1 << 20

COLUMNS = {
    "members": "id, email, name, password_hash, locale, visitor_id, created_at, active",
    "distribution_distributors": "id, member_id, recruiter_id, status, level, display_name, motivation, "
                                 "reason, applied_at, decided_at",
    "distribution_links": "id, distributor_id, code, label, target, created_at",
    "distribution_clicks": "id, link_id, distributor_id, visitor_id, day, created_at",
    "distribution_bindings": "member_id, distributor_id, bound_at, expires_at, first_distributor_id, first_at, "
                             "last_distributor_id, last_at",
    "crm_member_tags": "member_id, tag_id, source, staff_id, created_at",
    "qr_channels_scans": "id, channel_id, visitor_id, member_id, device, created_at",
    "checkin_checkins": "id, member_id, local_date, at, timezone, channel, kind, streak, bridged, points_cost",
    "orders": "id, number, member_id, status, currency, subtotal, adjustment_total, total, refunded_amount, "
              "payment_method, checkout_token, locale, visitor_id, placed_at, paid_at, cancelled_at, "
              "cancel_reason, expires_at",
    "order_lines": "id, order_id, product_id, sku, title_zh, title_en, unit_price, quantity, subtotal, total",
    "payments": "id, order_id, provider, reference, amount, currency, status, client_secret, last_error, "
                "created_at, updated_at",
    "refunds": "id, order_id, payment_id, amount, currency, status, idempotency_key, provider_reference, reason, "
               "staff_id, created_at, last_error",
    "distribution_orders": "order_id, distributor_id, tier2_id, tier3_id, source, self_purchase, created_at",
    "distribution_ledger": "id, key, distributor_id, kind, bucket, amount, currency, tier, order_id, refund_id, "
                           "payout_id, base, note, created_at",
}
ORDER_TABLES = ("orders", "order_lines", "payments", "refunds", "distribution_orders", "distribution_ledger")


class CopyWriter:
    """One COPY into one table on a connection of its own, fed whole lines, flushed in 1 MiB writes."""

    def __init__(self, dsn: str, table: str):
        import psycopg

        self.table, self.rows, self._parts, self._size = table, 0, [], 0
        self.conn = psycopg.connect(dsn)
        self.conn.execute("SET session_replication_role = replica")
        self._ctx = self.conn.cursor().copy(f"COPY {table} ({COLUMNS[table]}) FROM STDIN")
        self.copy = self._ctx.__enter__()

    def write(self, line: str) -> None:
        self._parts.append(line)
        self._size += len(line)
        self.rows += 1
        if self._size >= BUFFER:
            self.copy.write("".join(self._parts))
            self._parts, self._size = [], 0

    def close(self) -> None:
        if self._parts:
            self.copy.write("".join(self._parts))
        self._ctx.__exit__(None, None, None)
        self.conn.commit()
        self.conn.close()


def copy_rows(dsn: str, table: str, rows) -> int:
    writer = CopyWriter(dsn, table)
    for line in rows:
        writer.write(line)
    writer.close()
    return writer.rows


def sync_dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def migrate_and_seed(url: str, instance: str) -> tuple[str, list]:
    """Migrate with every installed plugin, insert the small tables through the ORM."""
    import psycopg
    from werkzeug.security import generate_password_hash

    from gen_rows_small import SMALL

    from siyu.core import migrate
    from siyu.storefront import create_app

    app = create_app({"DATABASE_URL": url, "PLUGINS": "*", "SECRET_KEY": "bench"}, instance_path=instance)
    kernel = app.extensions["siyu"]
    migrate.upgrade(kernel)
    kernel.db.dispose()
    with psycopg.connect(sync_dsn(url)) as conn:
        for statement in SMALL.format(tags=TAGS, channels=CHANNELS).split(";\n"):
            if statement.strip():
                conn.execute(statement)
        products = [tuple(row) for row in conn.execute(
            "SELECT id, sku, title_zh, title_en, price FROM products ORDER BY id")]
    return generate_password_hash(PASSWORD), products


def generate(url: str, scale: float, log=print) -> dict[str, int]:
    """Fill the empty database at ``url``; returns the row count of every table written."""
    import psycopg

    from gen_rows_small import DERIVED, SEQUENCES

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="siyu-gen-") as instance:
        password_hash, products = migrate_and_seed(url, instance)
    log(f"migrated in {time.perf_counter() - started:.1f} s")
    dsn = sync_dsn(url)
    shop = Shop(sizes=Sizes.at(scale), clock=Clock(datetime.now(timezone.utc)), password_hash=password_hash,
                products=products)
    counts: dict[str, int] = {}
    for table, producer in (("members", gen_rows.members), ("distribution_distributors", gen_rows.distributors),
                            ("distribution_links", gen_rows.links), ("distribution_clicks", gen_rows.clicks),
                            ("distribution_bindings", gen_rows.bindings), ("crm_member_tags", gen_rows.member_tags),
                            ("qr_channels_scans", gen_rows.scans), ("checkin_checkins", gen_rows.checkins)):
        began = time.perf_counter()
        counts[table] = copy_rows(dsn, table, producer(shop))
        log(f"{table:<28} {counts[table]:>11,} rows  {time.perf_counter() - began:6.1f} s")
    began = time.perf_counter()
    writers = {table: CopyWriter(dsn, table) for table in ORDER_TABLES}
    gen_rows.orders(shop, {table: w.write for table, w in writers.items()})
    for table, writer in writers.items():
        writer.close()
        counts[table] = writer.rows
    log(f"{'orders and their rows':<28} {sum(w.rows for w in writers.values()):>11,} rows  "
        f"{time.perf_counter() - began:6.1f} s")
    began = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        for statement in DERIVED.split(";\n") + [SEQUENCES]:
            if statement.strip():
                conn.execute(statement)
        conn.execute("VACUUM ANALYZE")  # as autovacuum leaves a live shop: visibility map set
        for table in ("crm_member_stats", "qr_channels_daily_stats", "qr_channels_member_attribution",
                      "qr_channels_order_attribution", "checkin_members"):
            counts[table] = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    log(f"derived tables, sequences and ANALYZE in {time.perf_counter() - began:.1f} s")
    log(f"total {time.perf_counter() - started:.1f} s")
    return counts


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 1M members, 2M orders, 10M scans")
    parser.add_argument("--url", help="an existing empty database (default: a throwaway cluster)")
    parser.add_argument("--keep", action="store_true", help="leave the throwaway cluster running")
    args = parser.parse_args(argv)
    if args.url:
        generate(args.url, args.scale)
        return 0
    from siyu.storefront.testing_pg import PostgresCluster

    cluster = PostgresCluster.start()
    try:
        url = cluster.url(cluster.create_database("siyu_bench"))
        generate(url, args.scale)
        if args.keep:
            print(f"\ndatabase: {url}\nmembers sign in as m<N>@bench.example / {PASSWORD}; Ctrl-C stops the cluster")
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
